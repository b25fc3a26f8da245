package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/branding"
	"github.com/modupay/modupay/shared/credential"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/dynamo"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/idempotency"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/webhook"
)

// The conditional writes of every repository on DynamoDB Local: each
// write's success and each of its named conditions failing, with the
// answer the domain expects (code, parameter, message).

var eventSeq atomic.Int64

// ev is a fresh event of the partner "ptn" (each call a new id).
func ev(t *testing.T) event.Event {
	t.Helper()
	id := fmt.Sprintf("evt-%d", eventSeq.Add(1))
	e, err := event.New(id, "test.happened", time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC), "ptn", "org-1", event.Actor{ID: "c", Type: "partner"}, nil, event.Change{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// outcome is what a write should answer: nil, an error that errors.Is
// target, or an apperr with code, param and a message containing msg.
type outcome struct {
	target error
	code   apperr.Code
	param  string
	msg    string
}

var ok = outcome{}

func conflict(msg string) outcome { return outcome{code: apperr.Conflict, msg: msg} }

func check(t *testing.T, what string, err error, want outcome) {
	t.Helper()
	switch {
	case want == ok:
		if err != nil {
			t.Fatalf("%s: err = %v, want success", what, err)
		}
	case want.target != nil:
		if !errors.Is(err, want.target) {
			t.Fatalf("%s: err = %v, want %v", what, err, want.target)
		}
	default:
		ae, isApp := apperr.As(err)
		if !isApp {
			t.Fatalf("%s: err = %v, want a %s", what, err, want.code)
		}
		if got := apperr.CodeOf(err); got != want.code {
			t.Fatalf("%s: code = %s (%v), want %s", what, got, err, want.code)
		}
		if ae.Param != want.param {
			t.Fatalf("%s: param = %q, want %q", what, ae.Param, want.param)
		}
		if !strings.Contains(err.Error(), want.msg) {
			t.Fatalf("%s: message %q, want it to contain %q", what, err.Error(), want.msg)
		}
	}
}

func TestOrganizationConditions(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	org := mustOrg(t, s, "ptn", "org-1", "Alpha")

	check(t, "same id again", s.CreateOrganization(ctx, org, ev(t)), conflict("an organization with this id already exists"))

	next := org
	next.Name, next.Version = "Alpha 2", org.Version+1
	check(t, "update at the version read", s.UpdateOrganization(ctx, next, ev(t)), ok)
	check(t, "update at a stale version", s.UpdateOrganization(ctx, next, ev(t)), conflict("the organization was changed by another request"))
	got, err := s.GetOrganization(ctx, "ptn", "org-1")
	if err != nil || got.Name != "Alpha 2" || got.Version != next.Version {
		t.Fatalf("stored = %+v, %v; want the first update only", got, err)
	}
}

func TestBrandingConditions(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustOrg(t, s, "ptn", "org-1", "Alpha")
	b := branding.Branding{}
	check(t, "partner branding", s.PutBranding(ctx, "ptn", "", b, ev(t)), ok)
	check(t, "own organisation's", s.PutBranding(ctx, "ptn", "org-1", b, ev(t)), ok)
	check(t, "another partner's organisation", s.PutBranding(ctx, "other", "org-1", b, ev(t)), outcome{code: apperr.NotFound, msg: "organization not found"})
	// Both read in one call; one unset is the zero branding.
	check(t, "the partner's named", s.PutBranding(ctx, "ptn", "", branding.Branding{DisplayName: "SaaS"}, ev(t)), ok)
	check(t, "the organisation's named", s.PutBranding(ctx, "ptn", "org-1", branding.Branding{DisplayName: "Eau"}, ev(t)), ok)
	mustOrg(t, s, "ptn", "org-2", "Beta")
	if p, o, err := s.Brandings.Brandings(ctx, "ptn", "org-1"); err != nil || p.DisplayName != "SaaS" || o.DisplayName != "Eau" {
		t.Errorf("org-1: %+v %+v %v", p, o, err)
	}
	if p, o, err := s.Brandings.Brandings(ctx, "ptn", "org-2"); err != nil || p.DisplayName != "SaaS" || o != (branding.Branding{}) {
		t.Errorf("org-2: %+v %+v %v", p, o, err)
	}
}

func TestCredentialConditions(t *testing.T) {
	s, clk := newStore(t)
	ctx := context.Background()
	mustOrg(t, s, "ptn", "org-1", "Alpha")
	partnerClient := func(partner, id string) credential.Client {
		return credential.Client{ID: id, PartnerID: partner, Scope: auth.ScopePartner, SecretHash: auth.HashSecret("s"), Status: credential.StatusActive}
	}
	check(t, "new partner", s.PutPartner(ctx, credential.Partner{ID: "ptn", Name: "P"}, partnerClient("ptn", "ptn-client"), nil), ok)
	check(t, "same partner again (upsert)", s.PutPartner(ctx, credential.Partner{ID: "ptn", Name: "P2"}, partnerClient("ptn", "ptn-client"), nil), ok)
	check(t, "another partner takes the client id", s.PutPartner(ctx, credential.Partner{ID: "thief", Name: "T"}, partnerClient("thief", "ptn-client"), nil),
		conflict("client id ptn-client belongs to another partner or organization"))

	c := credential.Client{ID: "cli-1", PartnerID: "ptn", OrgID: "org-1", Scope: auth.ScopeOrganization, Role: auth.RoleAnalyst,
		SecretHash: auth.HashSecret("s"), Status: credential.StatusActive, CreatedAt: clk.Now()}
	check(t, "organisation client", s.CreateClient(ctx, c, ev(t)), ok)
	check(t, "same client id again", s.CreateClient(ctx, c, ev(t)), conflict("client id already exists"))
	other := c
	other.ID = "cli-2"
	other.OrgID = "org-missing"
	check(t, "client of a missing organisation", s.CreateClient(ctx, other, ev(t)), outcome{code: apperr.NotFound, msg: "organization not found"})

	newEvent := func(credential.Client) (event.Event, error) { return ev(t), nil }
	got, err := s.RevokeClient(ctx, "ptn", "org-1", "cli-1", clk.Now(), newEvent)
	check(t, "revoke", err, ok)
	if got.Status != credential.StatusRevoked {
		t.Fatalf("revoked client status = %q", got.Status)
	}
	// Revoking again is no write: the client as it is.
	got, err = s.RevokeClient(ctx, "ptn", "org-1", "cli-1", clk.Now(), newEvent)
	check(t, "revoke a revoked client", err, ok)
	if got.Status != credential.StatusRevoked {
		t.Fatalf("revoked again: status = %q", got.Status)
	}
	_, err = s.RevokeClient(ctx, "ptn", "org-2", "cli-1", clk.Now(), newEvent)
	check(t, "revoke through another organisation", err, outcome{code: apperr.NotFound, msg: "api client not found"})
}

func TestIdempotencyConditions(t *testing.T) {
	s, clk := newStore(t)
	ctx := context.Background()
	rec := idempotency.Record{Scope: "cli", Key: "k", Fingerprint: "fp", LockedUntil: clk.Now().Add(30 * time.Second), ExpiresAt: clk.Now().Add(24 * time.Hour)}
	if h, err := s.Begin(ctx, &rec); h != nil || err != nil {
		t.Fatalf("first Begin: holder %+v, err %v; want the claim", h, err)
	}
	if h, err := s.Begin(ctx, &rec); err != nil || h == nil || h.Completed {
		t.Fatalf("Begin twice: holder %+v, err %v; want the in-progress holder", h, err)
	}
	foreign := rec
	foreign.Fingerprint = "another"
	foreign.Completed = true
	if err := s.Complete(ctx, foreign); err == nil {
		t.Fatal("Complete of a claim with another fingerprint: want an error")
	}
	done := rec
	done.Completed, done.Status = true, 201
	check(t, "Complete of our claim", s.Complete(ctx, done), ok)
	if err := s.Complete(ctx, done); err == nil {
		t.Fatal("Complete twice: want an error (the claim is no longer in progress)")
	}
	check(t, "Release of a completed record (kept)", s.Release(ctx, "cli", "k"), ok)
	if h, err := s.Begin(ctx, &rec); err != nil || h == nil || !h.Completed || h.Status != 201 {
		t.Fatalf("Begin after Complete and Release: holder %+v, err %v; want the stored response", h, err)
	}
}

// A claim given up after a failure that reserved an id (Unlock) leaves the
// record, unlocked: the same request takes it over at once and inherits
// the id; another body with the key is refused (the holder answered); a
// completion, or a record past its TTL, leaves nothing to inherit.
func TestIdempotencyUnlockKeepsTheReservedID(t *testing.T) {
	s, clk := newStore(t)
	ctx := context.Background()
	rec := idempotency.Record{Scope: "cli", Key: "k", Fingerprint: "fp", LockedUntil: clk.Now().Add(30 * time.Second), ExpiresAt: clk.Now().Add(24 * time.Hour)}
	if h, err := s.Begin(ctx, &rec); h != nil || err != nil || rec.Reserved != "" {
		t.Fatalf("first Begin: holder %+v, err %v, reserved %q", h, err, rec.Reserved)
	}
	rec.Reserved = "inv-1"
	check(t, "Unlock of our claim", s.Unlock(ctx, rec), ok)
	other := rec
	other.Fingerprint, other.Reserved = "another body", ""
	if h, err := s.Begin(ctx, &other); err != nil || h == nil || h.Fingerprint != "fp" || other.Reserved != "" {
		t.Fatalf("Begin with another body: holder %+v, err %v, reserved %q; want the holder, nothing inherited", h, err, other.Reserved)
	}
	retry := rec
	retry.Reserved = ""
	if h, err := s.Begin(ctx, &retry); h != nil || err != nil || retry.Reserved != "inv-1" {
		t.Fatalf("the retry: holder %+v, err %v, reserved %q; want the claim with inv-1", h, err, retry.Reserved)
	}
	if h, _ := s.Begin(ctx, &rec); h == nil {
		t.Fatal("the retry's claim is not exclusive")
	}
	done := retry
	done.Completed, done.Status = true, 201
	check(t, "Complete", s.Complete(ctx, done), ok)
	if h, err := s.Begin(ctx, &retry); err != nil || h == nil || !h.Completed || h.Reserved != "" {
		t.Fatalf("after completion: holder %+v, err %v", h, err)
	}
	// An unlocked record past its TTL is a new key: nothing inherited.
	late := idempotency.Record{Scope: "cli", Key: "k2", Fingerprint: "fp", LockedUntil: clk.Now().Add(30 * time.Second), ExpiresAt: clk.Now().Add(time.Second), Reserved: "inv-2"}
	if h, err := s.Begin(ctx, &late); h != nil || err != nil {
		t.Fatal(h, err)
	}
	check(t, "Unlock", s.Unlock(ctx, late), ok)
	clk.Advance(time.Hour)
	again := idempotency.Record{Scope: "cli", Key: "k2", Fingerprint: "fp", LockedUntil: clk.Now().Add(30 * time.Second), ExpiresAt: clk.Now().Add(24 * time.Hour)}
	if h, err := s.Begin(ctx, &again); h != nil || err != nil || again.Reserved != "" {
		t.Fatalf("a key past its TTL: holder %+v, err %v, reserved %q", h, err, again.Reserved)
	}
}

// deptWorld is an organisation with one department.
func deptWorld(t *testing.T) (*dynamo.Store, department.Department) {
	t.Helper()
	s, clk := newStore(t)
	mustOrg(t, s, "ptn", "org-1", "Alpha")
	d := department.Department{ID: "dept-1", PartnerID: "ptn", OrgID: "org-1", Name: "Eau", Code: "EAU", Status: "active",
		KYCStatus: department.KYCNotSubmitted, CreatedAt: clk.Now(), UpdatedAt: clk.Now(), Version: 1}
	if err := s.CreateDepartment(context.Background(), d, ev(t)); err != nil {
		t.Fatal(err)
	}
	return s, d
}

func TestDepartmentConditions(t *testing.T) {
	s, d := deptWorld(t)
	ctx := context.Background()
	dup := d
	dup.ID = "dept-2"
	check(t, "same code in the organisation", s.CreateDepartment(ctx, dup, ev(t)),
		outcome{code: apperr.Conflict, param: "code", msg: "a department with the code EAU already exists"})
	elsewhere := dup
	elsewhere.OrgID = "org-missing"
	check(t, "department of a missing organisation", s.CreateDepartment(ctx, elsewhere, ev(t)), outcome{code: apperr.NotFound, msg: "organization not found"})
	dup.Code = "GAZ"
	check(t, "another code", s.CreateDepartment(ctx, dup, ev(t)), ok)

	after := d
	after.Code, after.Version = "EAU2", 2
	check(t, "update with a new code", s.UpdateDepartment(ctx, d, after, ev(t)), ok)
	check(t, "update at a stale version", s.UpdateDepartment(ctx, d, after, ev(t)), conflict("the department was changed by another request"))
	taken := after
	taken.Code, taken.Version = "GAZ", 3
	check(t, "update to a code taken", s.UpdateDepartment(ctx, after, taken, ev(t)),
		outcome{code: apperr.Conflict, param: "code", msg: "a department with the code GAZ already exists"})
	// The old code was released with the change.
	again := d
	again.ID = "dept-3"
	check(t, "the released code", s.CreateDepartment(ctx, again, ev(t)), ok)
}

func account(d department.Department, id, iban string) department.BankAccount {
	return department.BankAccount{ID: id, PartnerID: d.PartnerID, DepartmentID: d.ID, OrgID: d.OrgID, IBAN: iban, BIC: "BNPAFRPPXXX",
		AccountName: "Compte", Status: department.AccountVerified, Version: 1}
}

func TestBankAccountConditions(t *testing.T) {
	s, d := deptWorld(t)
	ctx := context.Background()
	a1 := account(d, "ba-1", "FR7630004000031234567890143")
	withDefault := d
	withDefault.DefaultAccountID = "ba-1"
	check(t, "first account, made the default", s.CreateBankAccount(ctx, d, withDefault, a1, []event.Event{ev(t)}), ok)
	withDefault.Version = 2

	a2 := account(d, "ba-2", "FR7630004000031234567890143")
	check(t, "at a stale department version", s.CreateBankAccount(ctx, d, d, a2, []event.Event{ev(t)}), outcome{target: department.ErrChanged})
	check(t, "the same IBAN twice", s.CreateBankAccount(ctx, withDefault, withDefault, a2, []event.Event{ev(t)}),
		outcome{code: apperr.Conflict, param: "iban", msg: "this IBAN is already an account of the department"})
	a2.IBAN = "FR1420041010050500013M02606"
	check(t, "another IBAN", s.CreateBankAccount(ctx, withDefault, withDefault, a2, []event.Event{ev(t)}), ok)
	withDefault.Version = 3

	renamed := a2
	renamed.AccountName, renamed.Version = "Renamed", 2
	check(t, "update at the versions read", s.UpdateBankAccount(ctx, withDefault, withDefault, renamed, []event.Event{ev(t)}), ok)
	withDefault.Version = 4
	check(t, "update at a stale account version", s.UpdateBankAccount(ctx, withDefault, withDefault, renamed, []event.Event{ev(t)}), outcome{target: department.ErrChanged})
	renamed.Version = 3
	stale := withDefault
	stale.Version = 1
	check(t, "update at a stale department version", s.UpdateBankAccount(ctx, stale, stale, renamed, []event.Event{ev(t)}), outcome{target: department.ErrChanged})

	check(t, "delete the default account", s.DeleteBankAccount(ctx, withDefault, a1, ev(t)), conflict("this account became the department's default or payout account"))
	payout := account(d, "ba-3", "FR7610011000201234567890188")
	withPayout := withDefault
	withPayout.PayoutAccountID = "ba-3"
	check(t, "a payout account", s.CreateBankAccount(ctx, withDefault, withPayout, payout, []event.Event{ev(t)}), ok)
	check(t, "delete the payout account", s.DeleteBankAccount(ctx, withPayout, payout, ev(t)), conflict("this account became the department's default or payout account"))
	check(t, "delete a missing account", s.DeleteBankAccount(ctx, withPayout, account(d, "ba-missing", "FR00"), ev(t)), conflict("the account is gone, or active payment links pay into it"))
	check(t, "delete an account neither default nor payout", s.DeleteBankAccount(ctx, withPayout, a2, ev(t)), ok)
	if _, err := s.GetBankAccount(ctx, "ptn", d.ID, a2.ID); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("deleted account: err = %v, want not found", err)
	}
	// Its IBAN claim went with it.
	again := account(d, "ba-4", a2.IBAN)
	withPayout.Version = 5
	check(t, "the deleted account's IBAN again", s.CreateBankAccount(ctx, withPayout, withPayout, again, []event.Event{ev(t)}), ok)
}

func TestKYCConditions(t *testing.T) {
	s, d := deptWorld(t)
	ctx := context.Background()
	k := department.KYC{DepartmentID: d.ID, OrgID: d.OrgID, Status: "pending", Version: 1}
	check(t, "first submission", s.SubmitKYC(ctx, d, department.KYC{}, k, nil, []event.Event{ev(t)}), ok)
	check(t, "a second first submission", s.SubmitKYC(ctx, d, department.KYC{}, k, nil, []event.Event{ev(t)}),
		conflict("another KYC submission for this department was recorded at the same time"))
	next := k
	next.Status, next.Version = "approved", 2
	check(t, "a submission at a stale version", s.SubmitKYC(ctx, d, next, next, nil, []event.Event{ev(t)}),
		conflict("another KYC submission for this department was recorded at the same time"))

	// An approval verifying an account: conditional on the department's version.
	a := account(d, "ba-1", "FR7630004000031234567890143")
	a.Status = "pending_verification"
	if err := s.CreateBankAccount(ctx, d, d, a, []event.Event{ev(t)}); err != nil {
		t.Fatal(err)
	}
	d.Version = 2
	verified := a
	verified.Status, verified.Version = department.AccountVerified, 2
	after := d
	after.PayoutAccountID = a.ID
	v := &department.Verification{Before: a, Account: verified, Department: after}
	stale := d
	stale.Version = 1
	check(t, "approval at a stale department version", s.SubmitKYC(ctx, stale, k, next, v, []event.Event{ev(t)}),
		conflict("the department's bank accounts changed at the same time"))
	staleAccount := *v
	staleAccount.Account.Version = 5
	check(t, "approval at a stale account version", s.SubmitKYC(ctx, d, k, next, &staleAccount, []event.Event{ev(t)}),
		conflict("the department's bank accounts changed at the same time"))
	check(t, "approval", s.SubmitKYC(ctx, d, k, next, v, []event.Event{ev(t)}), ok)
	got, err := s.GetDepartment(ctx, "ptn", d.ID)
	if err != nil || got.PayoutAccountID != a.ID || got.KYCStatus != "approved" || got.Version != 3 {
		t.Fatalf("department after approval = %+v, %v", got, err)
	}
}

func TestInvoiceConditions(t *testing.T) {
	s, d := deptWorld(t)
	ctx := context.Background()
	inv := func(id string) invoice.Invoice {
		return invoice.Invoice{ID: id, PartnerID: "ptn", OrgID: d.OrgID, DepartmentID: d.ID, Status: "draft", DueDate: "2026-12-31", Version: 1}
	}
	cases := []struct {
		name   string
		id     string
		number int64
		want   outcome
	}{
		{"first number", "inv-1", 1, ok},
		{"first number again (a lost race)", "inv-2", 1, outcome{target: invoice.ErrNumberTaken}},
		{"a number ahead of the counter", "inv-3", 3, outcome{target: invoice.ErrNumberTaken}},
		{"the next number", "inv-4", 2, ok},
		{"the same next number again", "inv-5", 2, outcome{target: invoice.ErrNumberTaken}},
	}
	for _, tc := range cases {
		check(t, tc.name, s.CreateInvoice(ctx, inv(tc.id), "2026", tc.number, ev(t)), tc.want)
	}
	cc, err := s.CreationContext(ctx, "ptn", d.OrgID, d.ID, "2026")
	if err != nil || cc.LastNumber != 2 {
		t.Fatalf("counter = %d, %v; want 2", cc.LastNumber, err)
	}

	before := inv("inv-1")
	after := before
	after.Status, after.Version = invoice.StatusIssued, 2
	check(t, "update as read", s.UpdateInvoice(ctx, before, after, ev(t)), ok)
	check(t, "update at a stale version", s.UpdateInvoice(ctx, before, after, ev(t)), conflict("the invoice was changed by another request"))
	wrongStatus := after
	wrongStatus.Status = "draft"
	next := after
	next.Version = 3
	check(t, "update from a status it is no longer in", s.UpdateInvoice(ctx, wrongStatus, next, ev(t)), conflict("the invoice was changed by another request"))
}

// linkWorld is an issued invoice of 10 000 and a verified account.
func linkWorld(t *testing.T) (*dynamo.Store, invoice.Invoice, department.BankAccount) {
	t.Helper()
	s, d := deptWorld(t)
	ctx := context.Background()
	a := account(d, "ba-1", "FR7630004000031234567890143")
	if err := s.CreateBankAccount(ctx, d, d, a, []event.Event{ev(t)}); err != nil {
		t.Fatal(err)
	}
	inv := invoice.Invoice{ID: "inv-1", PartnerID: "ptn", OrgID: d.OrgID, DepartmentID: d.ID, Status: invoice.StatusIssued, DueDate: "2030-01-01",
		TotalAmount: 10000, AmountDue: 10000, Currency: "EUR", Version: 1}
	if err := s.CreateInvoice(ctx, inv, "2026", 1, ev(t)); err != nil {
		t.Fatal(err)
	}
	return s, inv, a
}

func newLink(inv invoice.Invoice, a department.BankAccount, n int) (payment.Link, payment.Intent) {
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	l := payment.Link{ID: fmt.Sprintf("pl-%d", n), InvoiceID: inv.ID, PaymentIntentID: fmt.Sprintf("pi-%d", n), Amount: 4000, Currency: "EUR",
		Status: payment.LinkActive, ExpiresAt: at.Add(24 * time.Hour), CreatedAt: at, PartnerID: inv.PartnerID, OrgID: inv.OrgID,
		DepartmentID: a.DepartmentID, BankAccountID: a.ID, Token: fmt.Sprintf("tok-%d", n), Version: 1}
	pi := payment.Intent{ID: l.PaymentIntentID, InvoiceID: inv.ID, PaymentLinkID: l.ID, Amount: l.Amount, Currency: "EUR", Status: payment.IntentPending,
		CreatedAt: at, UpdatedAt: at, PartnerID: inv.PartnerID, OrgID: inv.OrgID, Version: 1}
	return l, pi
}

func TestPaymentLinkConditions(t *testing.T) {
	s, inv, a := linkWorld(t)
	ctx := context.Background()
	l, pi := newLink(inv, a, 1)
	check(t, "link on the invoice as read", s.CreateLink(ctx, inv, l, pi, ev(t)), ok)
	l2, pi2 := newLink(inv, a, 2)
	check(t, "link on a stale invoice", s.CreateLink(ctx, inv, l2, pi2, ev(t)), conflict("the invoice changed at the same time"))
	inv.Version, inv.AmountInLinks = 2, 4000
	gone := a
	gone.ID = "ba-missing"
	l3, pi3 := newLink(inv, gone, 3)
	check(t, "link paid into a missing account", s.CreateLink(ctx, inv, l3, pi3, ev(t)), conflict("the invoice's bank account no longer exists"))

	// The account now has an active link: it cannot be deleted.
	d, err := s.GetDepartment(ctx, "ptn", a.DepartmentID)
	if err != nil {
		t.Fatal(err)
	}
	check(t, "delete an account with an active link", s.DeleteBankAccount(ctx, d, a, ev(t)), conflict("the account is gone, or active payment links pay into it"))

	ended := l
	ended.Status, ended.Version = payment.LinkExpired, 2
	check(t, "end a link whose intent has not failed, without canceling it", s.EndLink(ctx, ended, payment.LinkExpired, nil, []event.Event{ev(t)}),
		outcome{target: payment.ErrLinkChanged})
	staleLink := ended
	staleLink.Version = 5
	cancelled := pi
	cancelled.Status, cancelled.Version = payment.IntentCancelled, 2
	check(t, "end a link at a stale version", s.EndLink(ctx, staleLink, payment.LinkExpired, &cancelled, []event.Event{ev(t)}), outcome{target: payment.ErrLinkChanged})
	staleIntent := cancelled
	staleIntent.Version = 7
	check(t, "cancel an intent at a stale version", s.EndLink(ctx, ended, payment.LinkExpired, &staleIntent, []event.Event{ev(t)}), outcome{target: payment.ErrLinkChanged})
	check(t, "end the link, canceling its intent", s.EndLink(ctx, ended, payment.LinkExpired, &cancelled, []event.Event{ev(t)}), ok)
	check(t, "end it again", s.EndLink(ctx, ended, payment.LinkExpired, &cancelled, []event.Event{ev(t)}), outcome{target: payment.ErrLinkChanged})
	// Released: the account can go now.
	check(t, "delete the account once the link ended", s.DeleteBankAccount(ctx, d, a, ev(t)), ok)
}

func TestPaymentIntentConditions(t *testing.T) {
	s, inv, a := linkWorld(t)
	ctx := context.Background()
	l, pi := newLink(inv, a, 1)
	if err := s.CreateLink(ctx, inv, l, pi, ev(t)); err != nil {
		t.Fatal(err)
	}
	processing := pi
	processing.Status, processing.Version = "processing", 2
	check(t, "intent at the version read", s.UpdateIntent(ctx, processing, []event.Event{ev(t)}), ok)
	check(t, "intent at a stale version", s.UpdateIntent(ctx, processing, nil), outcome{target: payment.ErrLinkChanged})

	inv, err := s.GetInvoice(ctx, "ptn", inv.OrgID, inv.ID)
	if err != nil {
		t.Fatal(err)
	}
	succeeded := processing
	succeeded.Status, succeeded.Version = "succeeded", 3
	paid := inv
	paid.Version++
	completed := l
	completed.Status, completed.Version = "completed", 2
	cases := []struct {
		name string
		pi   payment.Intent
		link payment.Link
		inv  invoice.Invoice
		want outcome
	}{
		{name: "stale intent", pi: processing, link: completed, inv: paid, want: outcome{target: payment.ErrLinkChanged}},
		{name: "stale invoice", pi: succeeded, link: completed, inv: inv, want: outcome{target: payment.ErrLinkChanged}},
		{name: "stale link", pi: succeeded, link: l, inv: paid, want: outcome{target: payment.ErrLinkChanged}},
		{name: "as read", pi: succeeded, link: completed, inv: paid, want: ok},
		{name: "settled twice", pi: succeeded, link: completed, inv: paid, want: outcome{target: payment.ErrLinkChanged}},
	}
	for _, tc := range cases {
		check(t, "settle: "+tc.name, s.SettleIntent(ctx, tc.pi, tc.link, tc.inv, []event.Event{ev(t)}), tc.want)
	}
}

func TestPaymentSettlementWithAReusedEventIsAChange(t *testing.T) {
	s, inv, a := linkWorld(t)
	ctx := context.Background()
	l, pi := newLink(inv, a, 1)
	if err := s.CreateLink(ctx, inv, l, pi, ev(t)); err != nil {
		t.Fatal(err)
	}
	inv.Version, inv.AmountInLinks = 2, 4000
	succeeded := pi
	succeeded.Status, succeeded.Version = "succeeded", 2
	paid := inv
	paid.Version = 3
	completed := l
	completed.Status, completed.Version = "completed", 2
	// The event's id is taken by another write: the settlement is refused whole.
	taken := ev(t)
	if err := s.PutBranding(ctx, "ptn", "", branding.Branding{}, taken); err != nil {
		t.Fatal(err)
	}
	check(t, "settle with a reused event id", s.SettleIntent(ctx, succeeded, completed, paid, []event.Event{taken}), outcome{target: payment.ErrLinkChanged})
	check(t, "settle with a fresh event", s.SettleIntent(ctx, succeeded, completed, paid, []event.Event{ev(t)}), ok)
}

func subscription(id string, orgs ...string) webhook.Subscription {
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	return webhook.Subscription{ID: id, URL: "https://example.com/hook", Events: []string{"invoice.status_changed"}, OrganizationIDs: orgs,
		Status: webhook.StatusActive, CreatedAt: at, UpdatedAt: at, PartnerID: "ptn", Secrets: []webhook.Secret{{Value: "whsec"}}, Version: 1}
}

func TestWebhookSubscriptionConditions(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustOrg(t, s, "ptn", "org-1", "Alpha")
	check(t, "narrowed to its own organisation", s.CreateSubscription(ctx, subscription("whs-0", "org-1"), ev(t)), ok)
	check(t, "narrowed to a missing organisation", s.CreateSubscription(ctx, subscription("whs-x", "org-1", "org-missing"), ev(t)),
		outcome{code: apperr.Invalid, param: "organization_ids[1]", msg: "organization not found"})
	for i := 1; i < webhook.MaxSubscriptions; i++ {
		if err := s.CreateSubscription(ctx, subscription(fmt.Sprintf("whs-%d", i)), ev(t)); err != nil {
			t.Fatalf("subscription %d: %v", i, err)
		}
	}
	check(t, "one over the limit", s.CreateSubscription(ctx, subscription("whs-over"), ev(t)),
		conflict(fmt.Sprintf("a partner may have at most %d webhook subscriptions", webhook.MaxSubscriptions)))

	sub := subscription("whs-0", "org-1")
	sub.Description, sub.Version = "changed", 2
	check(t, "update at the version read", s.UpdateSubscription(ctx, sub, ev(t)), ok)
	check(t, "update at a stale version", s.UpdateSubscription(ctx, sub, ev(t)), conflict("the webhook subscription changed meanwhile"))
	sub.Version, sub.OrganizationIDs = 3, []string{"org-missing"}
	check(t, "update to a missing organisation", s.UpdateSubscription(ctx, sub, ev(t)),
		outcome{code: apperr.Invalid, param: "organization_ids[0]", msg: "organization not found"})

	check(t, "delete", s.DeleteSubscription(ctx, subscription("whs-1"), ev(t)), ok)
	check(t, "delete again", s.DeleteSubscription(ctx, subscription("whs-1"), ev(t)), outcome{code: apperr.NotFound, msg: "webhook subscription not found"})
	// The deletion uncounted it: one more fits.
	check(t, "a new one in the freed place", s.CreateSubscription(ctx, subscription("whs-new"), ev(t)), ok)

	// The failure run: set once, cleared once, each a no-op when already so.
	at := time.Date(2026, 11, 21, 11, 0, 0, 0, time.UTC)
	check(t, "mark failing", s.MarkFailing(ctx, "ptn", "whs-2", at), ok)
	check(t, "mark failing again", s.MarkFailing(ctx, "ptn", "whs-2", at.Add(time.Hour)), ok)
	got, err := s.GetSubscription(ctx, "ptn", "whs-2")
	if err != nil || got.FailingSince == nil || !got.FailingSince.Equal(at) {
		t.Fatalf("failing since = %v, %v; want the first run's start %v", got.FailingSince, err, at)
	}
	check(t, "clear failing", s.ClearFailing(ctx, "ptn", "whs-2"), ok)
	check(t, "clear failing again", s.ClearFailing(ctx, "ptn", "whs-2"), ok)
	check(t, "mark a deleted subscription failing", s.MarkFailing(ctx, "ptn", "whs-1", at), ok)
}

func TestWebhookDeliveryConditions(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	m := webhook.Message{PartnerID: "ptn", SubscriptionID: "whs-1", EventID: "evt-x", EventType: "invoice.status_changed", EventAt: at, Payload: `{}`, Attempt: 1}

	d, acquired, err := s.AcquireAttempt(ctx, m, "worker-a", at, at.Add(time.Minute))
	if err != nil || !acquired || d.AttemptCount != 1 {
		t.Fatalf("first attempt: %+v acquired %v err %v; want it taken", d, acquired, err)
	}
	if _, acquired, err := s.AcquireAttempt(ctx, m, "worker-b", at.Add(time.Second), at.Add(time.Minute)); err != nil || acquired {
		t.Fatalf("attempt while the lease is held: acquired %v err %v; want refused", acquired, err)
	}
	a := webhook.Attempt{Number: 1, AttemptedAt: at, StatusCode: 500}
	next := at.Add(time.Minute)
	check(t, "finish by another owner", s.FinishAttempt(ctx, d, "worker-b", a, webhook.DeliveryPending, &next, at), conflict("the delivery's lease was lost"))
	// A crashed holder's lease lapses: the same attempt can be taken over.
	if _, acquired, err := s.AcquireAttempt(ctx, m, "worker-b", at.Add(2*time.Minute), at.Add(3*time.Minute)); err != nil || !acquired {
		t.Fatalf("attempt after the lease lapsed: acquired %v err %v; want taken", acquired, err)
	}
	check(t, "finish by the first owner, whose lease lapsed", s.FinishAttempt(ctx, d, "worker-a", a, webhook.DeliveryFailed, nil, at), conflict("the delivery's lease was lost"))
	check(t, "finish by the owner", s.FinishAttempt(ctx, d, "worker-b", a, webhook.DeliveryFailed, nil, at), ok)

	failed, err := s.GetDelivery(ctx, "ptn", d.ID)
	if err != nil || failed.Status != webhook.DeliveryFailed {
		t.Fatalf("delivery = %+v, %v; want failed", failed, err)
	}
	failed.NextAttemptAt, failed.UpdatedAt = &next, at
	check(t, "retry a failed delivery", s.RequestRetry(ctx, failed, ev(t)), ok)
	check(t, "retry it again (now pending)", s.RequestRetry(ctx, failed, ev(t)), conflict("the delivery changed meanwhile"))

	ping := webhook.Delivery{ID: "whd-ping", SubscriptionID: "whs-1", EventID: "evt-ping", EventType: "ping", Status: webhook.DeliveryPending,
		CreatedAt: at, UpdatedAt: at, PartnerID: "ptn", EventAt: at, Payload: []byte(`{}`)}
	check(t, "a new delivery", s.CreateDelivery(ctx, ping, ev(t)), ok)
	check(t, "the same delivery again", s.CreateDelivery(ctx, ping, ev(t)), conflict("the delivery exists already"))
}
