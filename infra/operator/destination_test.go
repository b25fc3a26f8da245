package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/infra/stacktest"
	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/dynamo"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/organization"
	"github.com/modupay/modupay/shared/validation"
	"github.com/modupay/modupay/shared/wiring"
)

const (
	verifiedIBAN = "FR1420041010050500013M02606"
	pendingIBAN  = "FR7630006000011234567890189"
)

// destinationFixture is production's state on DynamoDB Local: a department
// whose KYC a reviewer approved, its verified payout account and a second
// account pending verification, and a department of its own beside it.
type destinationFixture struct {
	st                *stacktest.Stack
	db                *dynamodb.Client
	store             *dynamo.Store
	svc               *department.Service
	partner           string
	dept, otherDept   department.Department
	verified, pending department.BankAccount
}

func newDestinationFixture(t *testing.T) *destinationFixture {
	t.Helper()
	ctx := context.Background()
	st := stacktest.New(t)
	awsCfg, err := wiring.AWSConfig(ctx, st.Config.Region, true)
	if err != nil {
		t.Fatal(err)
	}
	db := wiring.NewDynamoDB(awsCfg, st.Config.DynamoDBEndpoint)
	store := dynamo.New(db, st.Config.Table, time.Now)
	const partner = "ptn-dest"
	org := organization.Organization{ID: "org-dest", PartnerID: partner, Type: organization.TypeCompany, Name: "Dest SAS", SIRET: "73282932000074", SIREN: "732829320",
		Address: organization.Address{Line1: "1 rue", PostalCode: "75001", City: "Paris", Country: "FR"}, Status: "active"}
	ev, err := event.New("evt-org-dest", "organization.created", time.Now(), partner, org.ID, event.Actor{ID: "c", Type: "partner"}, map[string]string{"organization_id": org.ID}, event.Change{})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateOrganization(ctx, org, ev); err != nil {
		t.Fatal(err)
	}
	svc := &department.Service{Store: store, Mode: validation.Mode{Strict: true}, Now: time.Now, NewID: wiring.NewID}
	sc := department.Scope{PartnerID: partner}
	admin := event.Actor{ID: "admin", Type: "organization"}
	f := &destinationFixture{st: st, db: db, store: store, svc: svc, partner: partner}
	if f.dept, err = svc.Create(ctx, partner, org.ID, admin, department.CreateInput{Name: "Régie", Code: "R1"}); err != nil {
		t.Fatal(err)
	}
	if f.otherDept, err = svc.Create(ctx, partner, org.ID, admin, department.CreateInput{Name: "Cantine", Code: "C1"}); err != nil {
		t.Fatal(err)
	}
	yes := true
	first, err := svc.CreateAccount(ctx, sc, f.dept.ID, admin, department.CreateAccountInput{IBAN: verifiedIBAN, BIC: "PSSTFRPPXXX", AccountName: "Dest SAS", IsDefault: &yes})
	if err != nil {
		t.Fatal(err)
	}
	var refs []department.DocumentRef
	for _, typ := range []string{department.DocRIB, department.DocIdentity, department.DocKbisExtract} {
		doc, err := svc.UploadDocument(ctx, sc, f.dept.ID, admin, department.UploadInput{Type: typ, FileName: typ + ".pdf", ContentType: "application/pdf",
			ContentBase64: base64.StdEncoding.EncodeToString([]byte("%PDF-1.4\n" + typ + "\n%%EOF\n"))})
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, department.DocumentRef{Type: typ, DocumentID: doc.ID})
	}
	rep := &department.Representative{FirstName: "Marie", LastName: "Durand", Role: "legal_representative", DateOfBirth: "1975-06-15"}
	if _, err := svc.SubmitKYC(ctx, sc, f.dept.ID, admin, department.SubmitInput{Representative: rep, Documents: refs}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.DecideKYC(ctx, partner, f.dept.ID, true, nil, event.Actor{ID: "ops", Type: "operator"}); err != nil {
		t.Fatal(err)
	}
	no := false
	second, err := svc.CreateAccount(ctx, sc, f.dept.ID, admin, department.CreateAccountInput{IBAN: pendingIBAN, BIC: "AGRIFRPPXXX", AccountName: "Dest SAS", IsDefault: &no})
	if err != nil {
		t.Fatal(err)
	}
	f.verified, f.pending = f.account(t, f.dept.ID, first.ID), f.account(t, f.dept.ID, second.ID)
	if f.verified.Status != department.AccountVerified || f.pending.Status != department.AccountPendingVerification {
		t.Fatalf("fixture: accounts %s and %s, want verified and pending", f.verified.Status, f.pending.Status)
	}
	return f
}

func (f *destinationFixture) account(t *testing.T, deptID, id string) department.BankAccount {
	t.Helper()
	a, err := f.store.GetBankAccount(context.Background(), f.partner, deptID, id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// cmd runs aiia-destination against the fixture's table with its output.
func (f *destinationFixture) cmd(args ...string) (string, error) {
	var out bytes.Buffer
	err := aiiaDestination(append([]string{"-table", f.st.Config.Table, "-endpoint", f.st.Config.DynamoDBEndpoint, "-region", f.st.Config.Region}, args...), &out)
	return out.String(), err
}

var auditEventID = regexp.MustCompile(`audit event (evt-[0-9a-f-]+)\)`)

// eventRecord reads the outbox's record of the event the output names, as
// the router and the audit writer read it.
func (f *destinationFixture) eventRecord(t *testing.T, out string) event.Record {
	t.Helper()
	m := auditEventID.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("output names no audit event: %q", out)
	}
	raw, err := f.store.EventRecord(context.Background(), m[1])
	if err != nil {
		t.Fatalf("the outbox has no event %s: %v", m[1], err)
	}
	var rec event.Record
	if err := json.Unmarshal([]byte(raw), &rec); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(raw, verifiedIBAN) || strings.Contains(raw, pendingIBAN) {
		t.Errorf("the audit record carries an IBAN: %s", raw)
	}
	return rec
}

// The list is the department's accounts with their destinations, IBANs
// masked; recording checks the id, the account (this partner's, this
// department's, verified) and the one already recorded, writes the id and
// its audit event together, and says what it did.
func TestAiiaDestination(t *testing.T) {
	f := newDestinationFixture(t)
	ctx := context.Background()
	base := []string{"-partner", f.partner, "-department", f.dept.ID}
	dest := func(extra ...string) (string, error) { return f.cmd(append(append([]string{}, base...), extra...)...) }

	out, err := dest()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, verifiedIBAN) || strings.Contains(out, pendingIBAN) || strings.Contains(out, "Dest SAS") {
		t.Errorf("the list shows an IBAN in full or the holder:\n%s", out)
	}
	lines := map[string][]string{}
	for _, l := range strings.Split(out, "\n") {
		if fs := strings.Fields(l); len(fs) == 5 {
			lines[fs[0]] = fs
		}
	}
	if got := lines[f.verified.ID]; got == nil || got[1] != "verified" || got[2] != "yes" || !strings.HasSuffix(got[3], "2606") || got[4] != "none" {
		t.Errorf("verified payout account: %v\n%s", got, out)
	}
	if got := lines[f.pending.ID]; got == nil || got[1] != "pending_verification" || got[2] != "no" || got[4] != "none" {
		t.Errorf("pending account: %v\n%s", got, out)
	}
	if err := run(append([]string{"aiia-destination", "-table", f.st.Config.Table, "-endpoint", f.st.Config.DynamoDBEndpoint}, base...)); err != nil {
		t.Errorf("through run: %v", err)
	}

	// Refused before anything is written.
	long := strings.Repeat("d", maxDestinationID+1)
	b := func(extra ...string) []string { return append(append([]string{}, base...), extra...) }
	for name, args := range map[string][]string{
		"no department":           {"-partner", f.partner, "-account", f.verified.ID, "-destination-id", "dst-1", "-reviewer", "ops"},
		"no reviewer":             b("-account", f.verified.ID, "-destination-id", "dst-1"),
		"a blank reviewer":        b("-account", f.verified.ID, "-destination-id", "dst-1", "-reviewer", "  "),
		"no account":              b("-destination-id", "dst-1", "-reviewer", "ops"),
		"no destination":          b("-account", f.verified.ID, "-reviewer", "ops"),
		"an empty destination":    b("-account", f.verified.ID, "-destination-id", "", "-reviewer", "ops"),
		"a space":                 b("-account", f.verified.ID, "-destination-id", "dst 1", "-reviewer", "ops"),
		"a trailing newline":      b("-account", f.verified.ID, "-destination-id", "dst-1\n", "-reviewer", "ops"),
		"a tab":                   b("-account", f.verified.ID, "-destination-id", "dst\t1", "-reviewer", "ops"),
		"a NUL":                   b("-account", f.verified.ID, "-destination-id", "dst\x001", "-reviewer", "ops"),
		"an escape":               b("-account", f.verified.ID, "-destination-id", "dst\x1b[2J", "-reviewer", "ops"),
		"a zero-width space":      b("-account", f.verified.ID, "-destination-id", "dst\u200b1", "-reviewer", "ops"),
		"a no-break space":        b("-account", f.verified.ID, "-destination-id", "dst\u00a01", "-reviewer", "ops"),
		"invalid UTF-8":           b("-account", f.verified.ID, "-destination-id", "dst\xff", "-reviewer", "ops"),
		"101 characters":          b("-account", f.verified.ID, "-destination-id", long, "-reviewer", "ops"),
		"a pending account":       b("-account", f.pending.ID, "-destination-id", "dst-1", "-reviewer", "ops"),
		"an unknown account":      b("-account", "ba-nope", "-destination-id", "dst-1", "-reviewer", "ops"),
		"another department's":    {"-partner", f.partner, "-department", f.otherDept.ID, "-account", f.verified.ID, "-destination-id", "dst-1", "-reviewer", "ops"},
		"another partner's":       {"-partner", "ptn-intruder", "-department", f.dept.ID, "-account", f.verified.ID, "-destination-id", "dst-1", "-reviewer", "ops"},
		"an unknown department":   {"-partner", f.partner, "-department", "dept-nope", "-account", f.verified.ID, "-destination-id", "dst-1", "-reviewer", "ops"},
		"-replace while listing":  b("-replace"),
		"a stray argument":        b("dst-1"),
		"-reviewer while listing": b("-reviewer", "ops"),
	} {
		if out, err := f.cmd(args...); err == nil {
			t.Errorf("%s: accepted: %s", name, out)
		}
	}
	if _, err := dest("-account", f.pending.ID, "-destination-id", "dst-1", "-reviewer", "ops"); err == nil || !strings.Contains(err.Error(), "pending_verification") {
		t.Errorf("a pending account: %v, want the reason", err)
	}
	if _, err := f.cmd("-partner", "ptn-intruder", "-department", f.dept.ID, "-account", f.verified.ID, "-destination-id", "dst-1", "-reviewer", "ops"); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("another partner's account: %v, want not found", err)
	}
	if _, err := f.cmd("-partner", f.partner, "-department", f.otherDept.ID, "-account", f.verified.ID, "-destination-id", "dst-1", "-reviewer", "ops"); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("another department's account: %v, want not found", err)
	}
	for _, a := range []department.BankAccount{f.verified, f.pending} {
		if got := f.account(t, f.dept.ID, a.ID).AiiaDestinationID; got != "" {
			t.Fatalf("a refused command recorded %q on %s", got, a.ID)
		}
	}
	if _, err := f.store.GetBankAccount(ctx, "ptn-intruder", f.dept.ID, f.verified.ID); apperr.CodeOf(err) != apperr.NotFound {
		t.Errorf("another partner's key now holds an item: %v", err)
	}

	// Recorded, with its audit event.
	out, err = dest("-account", f.verified.ID, "-destination-id", "dst-4f2a:9", "-reviewer", "ops@modupay")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.account(t, f.dept.ID, f.verified.ID).AiiaDestinationID; got != "dst-4f2a:9" {
		t.Fatalf("destination %q after recording", got)
	}
	rec := f.eventRecord(t, out)
	if rec.Type != EventDestinationRecorded || rec.PartnerID != f.partner || rec.OrgID != "org-dest" || rec.Actor.ID != "ops@modupay" || rec.Actor.Type != "operator" ||
		rec.Change.ResourceType != "bank_account" || rec.Change.ResourceID != f.verified.ID || string(rec.Change.Before) != `{"aiia_destination_id":null}` ||
		string(rec.Change.After) != `{"aiia_destination_id":"dst-4f2a:9"}` {
		t.Errorf("audit record %+v", rec)
	}
	if out, err := dest(); err != nil || !strings.Contains(out, "dst-4f2a:9") {
		t.Errorf("the list after recording: %v\n%s", err, out)
	}

	// The same id again changes nothing; another one needs -replace.
	if out, err := dest("-account", f.verified.ID, "-destination-id", "dst-4f2a:9", "-reviewer", "ops"); err != nil || !strings.Contains(out, "nothing changed") || auditEventID.MatchString(out) {
		t.Errorf("the same id again: %v, %s", err, out)
	}
	if _, err := dest("-account", f.verified.ID, "-destination-id", "dst-other", "-reviewer", "ops"); err == nil || !strings.Contains(err.Error(), "-replace") {
		t.Errorf("another id without -replace: %v", err)
	}
	if got := f.account(t, f.dept.ID, f.verified.ID).AiiaDestinationID; got != "dst-4f2a:9" {
		t.Fatalf("overwritten without -replace: %q", got)
	}
	out, err = dest("-account", f.verified.ID, "-destination-id", "dst-other", "-reviewer", "ops", "-replace")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.account(t, f.dept.ID, f.verified.ID).AiiaDestinationID; got != "dst-other" {
		t.Fatalf("destination %q after -replace", got)
	}
	if rec := f.eventRecord(t, out); string(rec.Change.Before) != `{"aiia_destination_id":"dst-4f2a:9"}` || string(rec.Change.After) != `{"aiia_destination_id":"dst-other"}` {
		t.Errorf("replacement's audit record: %s → %s", rec.Change.Before, rec.Change.After)
	}
}

// The transaction's condition holds on its own, whatever the command read
// before it: a write from a stale read (the account since rejected, gone,
// or given an id by someone else) fails and writes nothing — neither the
// id, nor an item at a key that has no account, nor the event.
func TestAiiaDestinationConditionHoldsAgainstAStaleRead(t *testing.T) {
	f := newDestinationFixture(t)
	ctx := context.Background()
	table := f.st.Config.Table
	ids := 0
	newID := func(p string) string { ids++; return p + "-stale-" + string(rune('0'+ids)) }
	rec := func(partner, dept, account string) destinationRecord {
		return destinationRecord{partner: partner, dept: dept, account: account, dest: "dst-stale", actor: event.Actor{ID: "ops", Type: "operator"}}
	}
	for name, w := range map[string]struct {
		r    destinationRecord
		prev string
	}{
		"a pending account read as verified":   {rec(f.partner, f.dept.ID, f.pending.ID), ""},
		"no account at this key":               {rec(f.partner, f.dept.ID, "ba-nope"), ""},
		"another partner's key":                {rec("ptn-intruder", f.dept.ID, f.verified.ID), ""},
		"another department's key":             {rec(f.partner, f.otherDept.ID, f.verified.ID), ""},
		"an id read that is not the one there": {rec(f.partner, f.dept.ID, f.verified.ID), "dst-never"},
	} {
		if _, err := w.r.write(ctx, f.db, table, "org-dest", w.prev, time.Now(), newID); err == nil || !strings.Contains(err.Error(), "changed while recording") {
			t.Errorf("%s: %v, want the condition to fail", name, err)
		}
	}
	for _, k := range []struct{ partner, dept, account string }{{f.partner, f.dept.ID, f.pending.ID}, {f.partner, f.dept.ID, f.verified.ID}} {
		if got := f.account(t, k.dept, k.account).AiiaDestinationID; got != "" {
			t.Errorf("%s: %q written by a failed condition", k.account, got)
		}
	}
	for _, k := range []struct{ partner, dept, account string }{{f.partner, f.dept.ID, "ba-nope"}, {"ptn-intruder", f.dept.ID, f.verified.ID}, {f.partner, f.otherDept.ID, f.verified.ID}} {
		if _, err := f.store.GetBankAccount(ctx, k.partner, k.dept, k.account); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("%v: an item now exists (%v)", k, err)
		}
	}
	for i := 1; i <= ids; i++ {
		if _, err := f.store.EventRecord(ctx, "evt-stale-"+string(rune('0'+i))); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("event %d written by a failed transaction: %v", i, err)
		}
	}

	// Someone recorded an id after the command read none: the command's
	// write, conditional on none, does not overwrite it.
	if _, err := rec(f.partner, f.dept.ID, f.verified.ID).write(ctx, f.db, table, "org-dest", "", time.Now(), newID); err != nil {
		t.Fatal(err)
	}
	other := rec(f.partner, f.dept.ID, f.verified.ID)
	other.dest = "dst-late"
	if _, err := other.write(ctx, f.db, table, "org-dest", "", time.Now(), newID); err == nil {
		t.Error("a write from a read of no id overwrote the one recorded meanwhile")
	}
	if got := f.account(t, f.dept.ID, f.verified.ID).AiiaDestinationID; got != "dst-stale" {
		t.Errorf("destination %q, want dst-stale", got)
	}

	// An account older than verification ("active") reads as verified, and
	// takes an id.
	if _, err := f.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table),
		Key:                       map[string]types.AttributeValue{"PK": s("P#" + f.partner + "#D#" + f.dept.ID), "SK": s("BA#" + f.verified.ID)},
		UpdateExpression:          aws.String("SET #status = :active REMOVE aiia_destination_id"),
		ExpressionAttributeNames:  map[string]string{"#status": "status"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":active": s("active")}}); err != nil {
		t.Fatal(err)
	}
	if out, err := f.cmd("-partner", f.partner, "-department", f.dept.ID, "-account", f.verified.ID, "-destination-id", "dst-legacy", "-reviewer", "ops"); err != nil {
		t.Fatalf("a legacy active account: %v %s", err, out)
	}
	if got := f.account(t, f.dept.ID, f.verified.ID).AiiaDestinationID; got != "dst-legacy" {
		t.Errorf("legacy account: destination %q", got)
	}
}
