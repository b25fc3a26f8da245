package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/infra/stacktest"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/dynamo"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/organization"
	"github.com/modupay/modupay/shared/validation"
	"github.com/modupay/modupay/shared/wiring"
)

func opsWorld(t *testing.T, partner string) (*stacktest.Stack, *dynamo.Store, *dynamodb.Client, organization.Organization) {
	t.Helper()
	ctx := context.Background()
	st := stacktest.New(t)
	awsCfg, err := wiring.AWSConfig(ctx, st.Config.Region, true)
	if err != nil {
		t.Fatal(err)
	}
	db := wiring.NewDynamoDB(awsCfg, st.Config.DynamoDBEndpoint)
	store := dynamo.New(db, st.Config.Table, time.Now)
	org := organization.Organization{ID: "org-" + partner, PartnerID: partner, Type: organization.TypeCompany, Name: "Ops SAS", SIRET: "73282932000074", SIREN: "732829320",
		Address: organization.Address{Line1: "1 rue", PostalCode: "75001", City: "Paris", Country: "FR"}, Status: "active"}
	ev, err := event.New("evt-"+org.ID, "organization.created", time.Now(), partner, org.ID, event.Actor{ID: "c", Type: "partner"}, nil, event.Change{})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateOrganization(ctx, org, ev); err != nil {
		t.Fatal(err)
	}
	return st, store, db, org
}

// Invoices written before the payer index (seeded without it) are found by
// the GDPR routes once the backfill ran; a second run adds nothing, and an
// erased payer gets no entry.
func TestPayerIndexBackfill(t *testing.T) {
	ctx := context.Background()
	st, store, _, org := opsWorld(t, "ptn-backfill")
	var invs []invoice.Invoice
	for i := 0; i < 130; i++ {
		email := fmt.Sprintf("payer%d@example.com", i%3)
		inv := invoice.Invoice{ID: fmt.Sprintf("inv-%04d", i), PartnerID: org.PartnerID, OrgID: org.ID, Status: invoice.StatusIssued, DueDate: "2030-01-01",
			Payer: invoice.Payer{Name: "P", Email: email}, Version: 1}
		if i == 0 {
			inv.Payer = inv.Payer.Erase(time.Now())
		}
		invs = append(invs, inv)
	}
	if err := store.SeedInvoices(ctx, invs); err != nil {
		t.Fatal(err)
	}
	args := []string{"payer-index-backfill", "-table", st.Config.Table, "-endpoint", st.Config.DynamoDBEndpoint, "-region", st.Config.Region, "-partner", org.PartnerID}
	if n, err := backfillPayerIndex(ctx, store, org.PartnerID, ""); err != nil || n != 129 {
		t.Fatalf("backfill added %d, %v; want 129 (the erased payer has no entry)", n, err)
	}
	if err := run(args); err != nil {
		t.Fatal(err)
	}
	if n, _ := backfillPayerIndex(ctx, store, org.PartnerID, org.ID); n != 0 {
		t.Errorf("a second run added %d", n)
	}
	p, err := store.PayerInvoices(ctx, org.PartnerID, org.ID, invoice.EmailHash("PAYER1@example.com"), listing.Query{Page: 1, Size: 100})
	if err != nil || p.Total != 43 {
		t.Errorf("payer1's invoices: %d, %v; want 43", p.Total, err)
	}
}

// kyc-expire sets the KYC file's and documents' TTL to five years after the
// closure.
func TestKYCExpire(t *testing.T) {
	ctx := context.Background()
	st, store, db, org := opsWorld(t, "ptn-kyc")
	svc := &department.Service{Store: store, Mode: validation.Mode{Strict: true}, Now: time.Now, NewID: wiring.NewID}
	sc := department.Scope{PartnerID: org.PartnerID}
	admin := event.Actor{ID: "admin", Type: "organization"}
	d, err := svc.Create(ctx, org.PartnerID, org.ID, admin, department.CreateInput{Name: "Régie", Code: "R1"})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := svc.UploadDocument(ctx, sc, d.ID, admin, department.UploadInput{Type: department.DocIdentity, FileName: "id.pdf", ContentType: "application/pdf",
		ContentBase64: base64.StdEncoding.EncodeToString([]byte("%PDF-1.4\nid\n%%EOF\n"))})
	if err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"kyc-expire", "-table", st.Config.Table, "-endpoint", st.Config.DynamoDBEndpoint, "-region", st.Config.Region,
		"-partner", org.PartnerID, "-department", d.ID, "-closed-at", "2026-12-01"}); err != nil {
		t.Fatal(err)
	}
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(st.Config.Table), Key: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "P#" + org.PartnerID + "#D#" + d.ID}, "SK": &types.AttributeValueMemberS{Value: "KYCDOC#" + doc.ID}}})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint(time.Date(2031, 12, 1, 0, 0, 0, 0, time.UTC).Unix())
	if ttl, ok := out.Item["ttl"].(*types.AttributeValueMemberN); !ok || ttl.Value != want {
		t.Errorf("document ttl = %v, want %s", out.Item["ttl"], want)
	}
	// The department itself is not touched.
	dept, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(st.Config.Table), Key: map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "P#" + org.PartnerID + "#D#" + d.ID}, "SK": &types.AttributeValueMemberS{Value: "DEPT"}}})
	if err != nil || dept.Item["ttl"] != nil {
		t.Errorf("the department got a ttl: %v, %v", dept.Item["ttl"], err)
	}
}
