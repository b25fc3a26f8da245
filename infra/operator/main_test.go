package main

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/modupay/modupay/infra/engines/enginetest"
	"github.com/modupay/modupay/infra/stacktest"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/dynamo"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/organization"
	"github.com/modupay/modupay/shared/validation"
	"github.com/modupay/modupay/shared/wiring"
)

func TestMain(m *testing.M) { enginetest.Main(m) }

// Production's path, on DynamoDB Local: the KYC is decided by a reviewer, a
// new default stays pending, and bank-account-decide verifies it, which
// moves the payout account.
func TestBankAccountDecide(t *testing.T) {
	ctx := context.Background()
	st := stacktest.New(t)
	awsCfg, err := wiring.AWSConfig(ctx, st.Config.Region, true)
	if err != nil {
		t.Fatal(err)
	}
	store := dynamo.New(wiring.NewDynamoDB(awsCfg, st.Config.DynamoDBEndpoint), st.Config.Table, time.Now)
	const partner = "ptn-ops"
	org := organization.Organization{ID: "org-ops", PartnerID: partner, Type: organization.TypeCompany, Name: "Ops SAS", SIRET: "73282932000074", SIREN: "732829320",
		Address: organization.Address{Line1: "1 rue", PostalCode: "75001", City: "Paris", Country: "FR"}, Status: "active"}
	ev, err := event.New("evt-org-ops", "organization.created", time.Now(), partner, org.ID, event.Actor{ID: "c", Type: "partner"}, map[string]string{"organization_id": org.ID}, event.Change{})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateOrganization(ctx, org, ev); err != nil {
		t.Fatal(err)
	}
	svc := &department.Service{Store: store, Mode: validation.Mode{Strict: true}, Now: time.Now, NewID: wiring.NewID}
	sc := department.Scope{PartnerID: partner}
	admin := event.Actor{ID: "admin", Type: "organization"}
	d, err := svc.Create(ctx, partner, org.ID, admin, department.CreateInput{Name: "Régie", Code: "R1"})
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	first, err := svc.CreateAccount(ctx, sc, d.ID, admin, department.CreateAccountInput{IBAN: "FR1420041010050500013M02606", BIC: "PSSTFRPPXXX", AccountName: "Ops SAS", IsDefault: &yes})
	if err != nil {
		t.Fatal(err)
	}
	var refs []department.DocumentRef
	for _, typ := range []string{department.DocRIB, department.DocIdentity, department.DocKbisExtract} {
		doc, err := svc.UploadDocument(ctx, sc, d.ID, admin, department.UploadInput{Type: typ, FileName: typ + ".pdf", ContentType: "application/pdf",
			ContentBase64: base64.StdEncoding.EncodeToString([]byte("%PDF-1.4\n" + typ + "\n%%EOF\n"))})
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, department.DocumentRef{Type: typ, DocumentID: doc.ID})
	}
	rep := &department.Representative{FirstName: "Marie", LastName: "Durand", Role: "legal_representative", DateOfBirth: "1975-06-15"}
	if _, err := svc.SubmitKYC(ctx, sc, d.ID, admin, department.SubmitInput{Representative: rep, Documents: refs}); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"kyc-decide", "-table", st.Config.Table, "-endpoint", st.Config.DynamoDBEndpoint, "-region", st.Config.Region,
		"-partner", partner, "-department", d.ID, "-approve", "-reviewer", "ops"}); err != nil {
		t.Fatal(err)
	}
	second, err := svc.CreateAccount(ctx, sc, d.ID, admin, department.CreateAccountInput{IBAN: "FR7630006000011234567890189", BIC: "AGRIFRPPXXX", AccountName: "Ops SAS", IsDefault: &yes})
	if err != nil {
		t.Fatal(err)
	}
	payout := func() string {
		t.Helper()
		d, err := svc.Get(ctx, sc, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		return d.PayoutAccountID
	}
	if second.Status != department.AccountPendingVerification || payout() != first.ID {
		t.Fatalf("production's new default: %s, payout %s; want pending and %s", second.Status, payout(), first.ID)
	}

	decide := func(extra ...string) error {
		return run(append([]string{"bank-account-decide", "-table", st.Config.Table, "-endpoint", st.Config.DynamoDBEndpoint, "-region", st.Config.Region,
			"-partner", partner, "-department", d.ID}, extra...))
	}
	for name, args := range map[string][]string{
		"no reviewer":        {"-account", second.ID, "-approve"},
		"no decision":        {"-account", second.ID, "-reviewer", "ops"},
		"both decisions":     {"-account", second.ID, "-approve", "-reject", "x:y", "-reviewer", "ops"},
		"no account":         {"-approve", "-reviewer", "ops"},
		"an unknown account": {"-account", "ba-nope", "-approve", "-reviewer", "ops"},
		"a verified account": {"-account", first.ID, "-approve", "-reviewer", "ops"},
	} {
		if err := decide(args...); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if payout() != first.ID {
		t.Fatalf("a refused decision moved the payout account")
	}
	if err := decide("-account", second.ID, "-approve", "-reviewer", "ops"); err != nil {
		t.Fatal(err)
	}
	a, err := svc.GetAccount(ctx, sc, d.ID, second.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != department.AccountVerified || payout() != second.ID {
		t.Errorf("after approval: %s, payout %s; want verified and %s", a.Status, payout(), second.ID)
	}

	third, err := svc.CreateAccount(ctx, sc, d.ID, admin, department.CreateAccountInput{IBAN: "FR7610107001011234567890129", BIC: "BREDFRPPXXX", AccountName: "Autre", IsDefault: &yes})
	if err != nil {
		t.Fatal(err)
	}
	if err := decide("-account", third.ID, "-reject", "holder_mismatch: the holder is not the organisation", "-reviewer", "ops"); err != nil {
		t.Fatal(err)
	}
	if a, _ := svc.GetAccount(ctx, sc, d.ID, third.ID); a.Status != department.AccountRejected || payout() != second.ID {
		t.Errorf("after rejection: %s, payout %s; want rejected and still %s", a.Status, payout(), second.ID)
	}
	if err := svc.DeleteAccount(ctx, sc, d.ID, second.ID, admin); err == nil || !strings.Contains(err.Error(), "payout") {
		t.Errorf("deleting the payout account while the rejected default awaits a replacement: %v", err)
	}
}
