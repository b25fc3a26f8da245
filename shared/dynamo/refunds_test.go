package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/infra/stacktest"
	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/dynamo"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/refund"
	"github.com/modupay/modupay/shared/wiring"
)

// The refunds' repository on DynamoDB Local: the reservation on the intent
// that keeps refunds within what was received, each conditional path of
// each write with the typed answer the domain decodes, and the reads.

var refundAt = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

// refundWorld is an organisation with an issued invoice of 10 000 and a
// verified account; its payments come from paidIntent.
type refundWorld struct {
	s     *dynamo.Store
	raw   *dynamodb.Client
	table string
	a     department.BankAccount
}

func newRefundWorld(t *testing.T, wrap func(dynamo.DB) dynamo.DB) *refundWorld {
	t.Helper()
	st := stacktest.New(t)
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion(st.Config.Region),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	if err != nil {
		t.Fatal(err)
	}
	raw := wiring.NewDynamoDB(awsCfg, st.Config.DynamoDBEndpoint)
	var db dynamo.DB = raw
	if wrap != nil {
		db = wrap(raw)
	}
	w := &refundWorld{s: dynamo.New(db, st.Config.Table, func() time.Time { return refundAt }), raw: raw, table: st.Config.Table}
	ctx := context.Background()
	mustOrg(t, w.s, "ptn", "org-1", "Alpha")
	d := department.Department{ID: "dept-1", PartnerID: "ptn", OrgID: "org-1", Name: "Eau", Code: "EAU", Status: "active",
		KYCStatus: department.KYCNotSubmitted, CreatedAt: refundAt, UpdatedAt: refundAt, Version: 1}
	if err := w.s.CreateDepartment(ctx, d, ev(t)); err != nil {
		t.Fatal(err)
	}
	w.a = account(d, "ba-1", "FR7630004000031234567890143")
	if err := w.s.CreateBankAccount(ctx, d, d, w.a, []event.Event{ev(t)}); err != nil {
		t.Fatal(err)
	}
	inv := invoice.Invoice{ID: "inv-1", PartnerID: "ptn", OrgID: "org-1", DepartmentID: d.ID, Status: invoice.StatusIssued, DueDate: "2030-01-01",
		TotalAmount: 10000, AmountDue: 10000, Currency: "EUR", Version: 1}
	if err := w.s.CreateInvoice(ctx, inv, "2026", 1, ev(t)); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *refundWorld) invoice(t *testing.T) invoice.Invoice {
	t.Helper()
	inv, err := w.s.GetInvoice(context.Background(), "ptn", "org-1", "inv-1")
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

// pendingIntent is intent pi-<n> of amount, still waiting for its payment.
func (w *refundWorld) pendingIntent(t *testing.T, n int, amount int64) payment.Intent {
	t.Helper()
	l, pi := newLink(w.invoice(t), w.a, n)
	l.Amount, pi.Amount, pi.SelectedPaymentMethod = amount, amount, payment.MethodSEPA
	if err := w.s.CreateLink(context.Background(), w.invoice(t), l, pi, ev(t)); err != nil {
		t.Fatal(err)
	}
	return w.intent(t, pi.ID)
}

// paidIntent is intent pi-<n> of amount, paid: succeeded, with the invoice
// taking its amount.
func (w *refundWorld) paidIntent(t *testing.T, n int, amount int64) payment.Intent {
	t.Helper()
	ctx := context.Background()
	pi := w.pendingIntent(t, n, amount)
	l, err := w.s.GetLink(ctx, "ptn", "org-1", pi.PaymentLinkID)
	if err != nil {
		t.Fatal(err)
	}
	inv := w.invoice(t)
	succeeded := pi
	succeeded.Status, succeeded.CompletedAt, succeeded.Version = payment.IntentSucceeded, &refundAt, pi.Version+1
	paid, err := invoice.ApplyPayment(inv, amount, "2026-11-21")
	if err != nil {
		t.Fatal(err)
	}
	paid.Version, paid.AmountInLinks = inv.Version+1, inv.AmountInLinks-amount
	l.Status, l.Version = payment.LinkCompleted, l.Version+1
	if err := w.s.SettleIntent(ctx, succeeded, l, paid, []event.Event{ev(t)}); err != nil {
		t.Fatal(err)
	}
	return w.intent(t, pi.ID)
}

func (w *refundWorld) intent(t *testing.T, id string) payment.Intent {
	t.Helper()
	pi, err := w.s.GetIntent(context.Background(), "ptn", "org-1", id)
	if err != nil {
		t.Fatal(err)
	}
	return pi
}

// rawItem reads an item as stored (strongly consistent), nil if absent.
func (w *refundWorld) rawItem(t *testing.T, pk, sk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := w.raw.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(w.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: pk}, "SK": &types.AttributeValueMemberS{Value: sk}}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func (w *refundWorld) eventStored(t *testing.T, id string) bool {
	t.Helper()
	return w.rawItem(t, "EVENT#"+id, "EVENT") != nil
}

func newRefund(pi payment.Intent, id string, amount int64) refund.Refund {
	return refund.Refund{ID: id, PaymentIntentID: pi.ID, InvoiceID: pi.InvoiceID, Amount: amount, Currency: pi.Currency, Status: refund.StatusPending,
		Reason: "geste commercial", Method: pi.SelectedPaymentMethod, CreatedAt: refundAt, UpdatedAt: refundAt,
		PartnerID: pi.PartnerID, OrgID: pi.OrgID, Version: 1}
}

// wantReservation checks the intent's refund state: its reservation, its
// refunds' ids and its version, exactly.
func wantReservation(t *testing.T, w *refundWorld, what string, id string, reserved int64, ids []string, version int64) {
	t.Helper()
	pi := w.intent(t, id)
	if pi.RefundReserved != reserved || fmt.Sprint(pi.RefundIDs) != fmt.Sprint(ids) || pi.Version != version {
		t.Fatalf("%s: intent reserves %d for %v at version %d; want %d for %v at version %d",
			what, pi.RefundReserved, pi.RefundIDs, pi.Version, reserved, ids, version)
	}
}

func wantNoRefund(t *testing.T, w *refundWorld, what, id string) {
	t.Helper()
	if _, err := w.s.GetRefund(context.Background(), "ptn", "org-1", id); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("%s: refund %s: err = %v, want it never written", what, id, err)
	}
}

// distinct: each typed answer is its own, so the domain never mistakes one
// refusal for another.
func wantOnly(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: err = %v, want %v", what, err, target)
	}
	for _, other := range []error{refund.ErrNotRefundable, refund.ErrRefundChanged, refund.ErrChanged} {
		if other != target && errors.Is(err, other) {
			t.Fatalf("%s: err = %v is also %v", what, err, other)
		}
	}
}

func TestCreateRefundReservesOnTheIntent(t *testing.T) {
	w := newRefundWorld(t, nil)
	ctx := context.Background()
	pi := w.paidIntent(t, 1, 4000)
	if pi.RefundReserved != 0 || len(pi.RefundIDs) != 0 {
		t.Fatalf("a paid intent reserves %d for %v, want nothing", pi.RefundReserved, pi.RefundIDs)
	}
	r := newRefund(pi, "ref-01", 3000)
	created := ev(t)
	check(t, "a refund within the amount", w.s.CreateRefund(ctx, pi, r, created), ok)
	wantReservation(t, w, "after the first refund", pi.ID, 3000, []string{"ref-01"}, pi.Version+1)
	if !w.eventStored(t, created.ID) {
		t.Fatal("refund.created is not in the outbox")
	}
	got, err := w.s.GetRefund(ctx, "ptn", "org-1", "ref-01")
	if err != nil {
		t.Fatal(err)
	}
	if got.Amount != 3000 || got.Status != refund.StatusPending || got.PaymentIntentID != pi.ID || got.InvoiceID != "inv-1" ||
		got.PartnerID != "ptn" || got.OrgID != "org-1" || got.Version != 1 || got.Reason != "geste commercial" || got.Method != payment.MethodSEPA ||
		!got.CreatedAt.Equal(refundAt) {
		t.Fatalf("stored refund = %+v, want what was created", got)
	}

	// A second refund is bounded by what the intent reserves, not by the
	// version the caller read: a stale read of the intent still fits.
	check(t, "the rest exactly, from the same (stale) read", w.s.CreateRefund(ctx, pi, newRefund(pi, "ref-02", 1000), ev(t)), ok)
	wantReservation(t, w, "after the second refund", pi.ID, 4000, []string{"ref-01", "ref-02"}, pi.Version+2)

	// Status partially_refunded and refunded stay refundable (as read by the
	// condition); what is left decides.
	for _, status := range []string{payment.IntentPartiallyRefunded, payment.IntentRefunded} {
		other := w.paidIntent(t, 10+len(status), 500)
		moved := other
		moved.Status, moved.Version = status, other.Version+1
		if err := w.s.UpdateIntent(ctx, moved, nil); err != nil {
			t.Fatal(err)
		}
		check(t, "refund of a "+status+" intent", w.s.CreateRefund(ctx, moved, newRefund(moved, "ref-"+status, 100), ev(t)), ok)
	}
}

func TestCreateRefundRefusalsWriteNothing(t *testing.T) {
	w := newRefundWorld(t, nil)
	ctx := context.Background()
	pi := w.paidIntent(t, 1, 4000)
	check(t, "a first refund", w.s.CreateRefund(ctx, pi, newRefund(pi, "ref-01", 3000), ev(t)), ok)
	pi = w.intent(t, pi.ID)
	pending := w.pendingIntent(t, 2, 1000)

	refused := func(what string, on payment.Intent, r refund.Refund, evt event.Event, target error) {
		t.Helper()
		before := w.intent(t, on.ID)
		err := w.s.CreateRefund(ctx, on, r, evt)
		if target != nil {
			wantOnly(t, what, err, target)
		} else if apperr.CodeOf(err) != apperr.Conflict || !strings.Contains(err.Error(), "refund "+r.ID+" exists already") ||
			errors.Is(err, refund.ErrNotRefundable) {
			t.Fatalf("%s: err = %v, want a conflict naming the refund", what, err)
		}
		wantReservation(t, w, what, on.ID, before.RefundReserved, before.RefundIDs, before.Version)
		if w.eventStored(t, evt.ID) {
			t.Fatalf("%s: its event is in the outbox", what)
		}
	}

	for _, status := range []string{payment.IntentPending, "processing", payment.IntentFailed, payment.IntentCancelled} {
		moved := pending
		if status != payment.IntentPending {
			moved.Status, moved.Version = status, pending.Version+1
			if err := w.s.UpdateIntent(ctx, moved, nil); err != nil {
				t.Fatal(err)
			}
			pending = moved
		}
		r := newRefund(moved, "ref-"+status, 100)
		refused("an intent "+status, moved, r, ev(t), refund.ErrNotRefundable)
		wantNoRefund(t, w, "an intent "+status, r.ID)
	}

	r := newRefund(pi, "ref-over", 1001)
	refused("1 cent more than is left (3000 + 1001 > 4000)", pi, r, ev(t), refund.ErrNotRefundable)
	wantNoRefund(t, w, "over the amount", r.ID)
	r = newRefund(pi, "ref-huge", 4001)
	refused("more than the whole payment", pi, r, ev(t), refund.ErrNotRefundable)
	wantNoRefund(t, w, "more than the payment", r.ID)

	// The bound is the stored amount, not the caller's copy of it.
	inflated := pi
	inflated.Amount = 5000
	r = newRefund(inflated, "ref-inflated", 1500)
	refused("an intent read with a larger amount", inflated, r, ev(t), refund.ErrNotRefundable)
	wantNoRefund(t, w, "an intent read with a larger amount", r.ID)

	missing := pi
	missing.ID = "pi-missing"
	r = newRefund(missing, "ref-orphan", 10)
	err := w.s.CreateRefund(ctx, missing, r, ev(t))
	wantOnly(t, "a missing intent", err, refund.ErrNotRefundable)
	wantNoRefund(t, w, "a missing intent", r.ID)
	if w.rawItem(t, "P#ptn#O#org-1#PI#pi-missing", "PI") != nil {
		t.Fatal("a refund of a missing intent wrote an intent")
	}
	foreign := pi
	foreign.OrgID = "org-2"
	r = newRefund(foreign, "ref-foreign", 10)
	wantOnly(t, "another organisation's intent", w.s.CreateRefund(ctx, foreign, r, ev(t)), refund.ErrNotRefundable)
	if _, err := w.s.GetRefund(ctx, "ptn", "org-2", r.ID); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("refund of a foreign intent: %v, want never written", err)
	}
	wantReservation(t, w, "after a foreign refund", pi.ID, 3000, []string{"ref-01"}, pi.Version)

	// The same refund id again (a replayed request): a conflict on the
	// refund, not on the intent, and the reservation does not move.
	refused("the same refund id again", pi, newRefund(pi, "ref-01", 10), ev(t), nil)
	got, err := w.s.GetRefund(ctx, "ptn", "org-1", "ref-01")
	if err != nil || got.Amount != 3000 {
		t.Fatalf("the first ref-01 = %+v, %v; want it untouched", got, err)
	}

	// An event id already taken fails the whole transaction.
	taken := ev(t)
	check(t, "another refund taking the event id", w.s.CreateRefund(ctx, pi, newRefund(pi, "ref-02", 10), taken), ok)
	pi = w.intent(t, pi.ID)
	before := pi
	err = w.s.CreateRefund(ctx, pi, newRefund(pi, "ref-03", 10), taken)
	if err == nil || errors.Is(err, refund.ErrNotRefundable) {
		t.Fatalf("a reused event id: err = %v, want a refusal that is not the intent's", err)
	}
	wantNoRefund(t, w, "a reused event id", "ref-03")
	wantReservation(t, w, "a reused event id", pi.ID, before.RefundReserved, before.RefundIDs, before.Version)
}

// An intent paid before refunds existed has no refund_reserved attribute:
// the condition still bounds its first refund by its amount.
func TestCreateRefundBoundsAnIntentWithoutReservation(t *testing.T) {
	w := newRefundWorld(t, nil)
	ctx := context.Background()
	pi := w.paidIntent(t, 1, 4000)
	if _, err := w.raw.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(w.table),
		Key:              map[string]types.AttributeValue{"PK": &types.AttributeValueMemberS{Value: "P#ptn#O#org-1#PI#pi-1"}, "SK": &types.AttributeValueMemberS{Value: "PI"}},
		UpdateExpression: aws.String("REMOVE refund_reserved, refund_ids")}); err != nil {
		t.Fatal(err)
	}
	if it := w.rawItem(t, "P#ptn#O#org-1#PI#pi-1", "PI"); it["refund_reserved"] != nil || it["amount"] == nil {
		t.Fatalf("intent item = %v, want one without refund_reserved", it)
	}
	wantOnly(t, "more than the payment, first refund", w.s.CreateRefund(ctx, pi, newRefund(pi, "ref-huge", 4001), ev(t)), refund.ErrNotRefundable)
	wantNoRefund(t, w, "more than the payment, first refund", "ref-huge")
	check(t, "the whole payment, first refund", w.s.CreateRefund(ctx, pi, newRefund(pi, "ref-all", 4000), ev(t)), ok)
	wantReservation(t, w, "the whole payment", pi.ID, 4000, []string{"ref-all"}, pi.Version+1)
	wantOnly(t, "one cent more", w.s.CreateRefund(ctx, pi, newRefund(pi, "ref-more", 1), ev(t)), refund.ErrNotRefundable)
}

func TestCreateRefundAtMostMaxPerIntent(t *testing.T) {
	w := newRefundWorld(t, nil)
	ctx := context.Background()
	pi := w.paidIntent(t, 1, 4000)
	var ids []string
	for i := 1; i <= refund.MaxPerIntent; i++ {
		id := fmt.Sprintf("ref-%02d", i)
		if err := w.s.CreateRefund(ctx, pi, newRefund(pi, id, 10), ev(t)); err != nil {
			t.Fatalf("refund %d: %v", i, err)
		}
		ids = append(ids, id)
	}
	wantReservation(t, w, "after 50 refunds", pi.ID, 500, ids, pi.Version+refund.MaxPerIntent)
	e := ev(t)
	wantOnly(t, "a 51st refund that fits the amount", w.s.CreateRefund(ctx, pi, newRefund(pi, "ref-51", 10), e), refund.ErrNotRefundable)
	wantNoRefund(t, w, "a 51st refund", "ref-51")
	wantReservation(t, w, "after a 51st refund", pi.ID, 500, ids, pi.Version+refund.MaxPerIntent)
	if w.eventStored(t, e.ID) {
		t.Fatal("the 51st refund's event is in the outbox")
	}
	// A failed refund still counts: the intent keeps every refund's id.
	r, err := w.s.GetRefund(ctx, "ptn", "org-1", "ref-01")
	if err != nil {
		t.Fatal(err)
	}
	r.Status, r.Version = refund.StatusFailed, 2
	check(t, "release one", w.s.ReleaseRefund(ctx, r, []event.Event{ev(t)}), ok)
	wantOnly(t, "a 51st refund after a release", w.s.CreateRefund(ctx, pi, newRefund(pi, "ref-51", 10), ev(t)), refund.ErrNotRefundable)
}

func TestUpdateRefundIsConditionalOnVersion(t *testing.T) {
	w := newRefundWorld(t, nil)
	ctx := context.Background()
	pi := w.paidIntent(t, 1, 4000)
	r := newRefund(pi, "ref-01", 1000)
	check(t, "create", w.s.CreateRefund(ctx, pi, r, ev(t)), ok)
	pi = w.intent(t, pi.ID)

	next := r
	next.ProviderID, next.ProviderCode, next.Version = "aiia-rf-1", "Preparing", 2
	e := ev(t)
	check(t, "update at the version read", w.s.UpdateRefund(ctx, next, []event.Event{e}), ok)
	if !w.eventStored(t, e.ID) {
		t.Fatal("the update's event is not in the outbox")
	}
	stale := next
	stale.ProviderCode = "Other"
	e = ev(t)
	wantOnly(t, "update at a stale version", w.s.UpdateRefund(ctx, stale, []event.Event{e}), refund.ErrRefundChanged)
	if w.eventStored(t, e.ID) {
		t.Fatal("a refused update's event is in the outbox")
	}
	missing := newRefund(pi, "ref-missing", 10)
	missing.Version = 2
	wantOnly(t, "update of a missing refund", w.s.UpdateRefund(ctx, missing, nil), refund.ErrRefundChanged)
	wantNoRefund(t, w, "update of a missing refund", "ref-missing")

	got, err := w.s.GetRefund(ctx, "ptn", "org-1", "ref-01")
	if err != nil || got.ProviderID != "aiia-rf-1" || got.ProviderCode != "Preparing" || got.Version != 2 {
		t.Fatalf("stored = %+v, %v; want the first update only", got, err)
	}
	// An update never touches the intent.
	wantReservation(t, w, "after updates", pi.ID, 1000, []string{"ref-01"}, pi.Version)
}

func TestReleaseRefundFreesItsAmount(t *testing.T) {
	w := newRefundWorld(t, nil)
	ctx := context.Background()
	pi := w.paidIntent(t, 1, 4000)
	r := newRefund(pi, "ref-01", 4000)
	check(t, "refund the whole payment", w.s.CreateRefund(ctx, pi, r, ev(t)), ok)
	wantOnly(t, "one cent more", w.s.CreateRefund(ctx, pi, newRefund(pi, "ref-02", 1), ev(t)), refund.ErrNotRefundable)
	pi = w.intent(t, pi.ID)

	stale := r
	stale.Status, stale.Version = refund.StatusFailed, 5
	e := ev(t)
	wantOnly(t, "release at a stale version", w.s.ReleaseRefund(ctx, stale, []event.Event{e}), refund.ErrRefundChanged)
	wantReservation(t, w, "after a stale release", pi.ID, 4000, []string{"ref-01"}, pi.Version)
	if w.eventStored(t, e.ID) {
		t.Fatal("a refused release's event is in the outbox")
	}

	// A reservation below the refund's amount is never written so: the
	// release refuses rather than taking the reservation below zero.
	corrupt := r
	corrupt.Amount, corrupt.Status, corrupt.Version = 4001, refund.StatusFailed, 2
	err := w.s.ReleaseRefund(ctx, corrupt, []event.Event{ev(t)})
	if err == nil || apperr.CodeOf(err) != apperr.Internal || !strings.Contains(err.Error(), "reserves less than the refund it releases") {
		t.Fatalf("release of more than is reserved: err = %v, want an internal error naming the reservation", err)
	}
	if got, _ := w.s.GetRefund(ctx, "ptn", "org-1", "ref-01"); got.Status != refund.StatusPending || got.Version != 1 {
		t.Fatalf("refund after a refused release = %+v, want it pending at version 1", got)
	}

	failed := r
	failed.Status, failed.FailureReason, failed.CompletedAt, failed.Version = refund.StatusFailed, "refusé", &refundAt, 2
	e = ev(t)
	check(t, "release at the version read", w.s.ReleaseRefund(ctx, failed, []event.Event{e}), ok)
	wantReservation(t, w, "after the release", pi.ID, 0, []string{"ref-01"}, pi.Version+1)
	if !w.eventStored(t, e.ID) {
		t.Fatal("the release's event is not in the outbox")
	}
	got, err := w.s.GetRefund(ctx, "ptn", "org-1", "ref-01")
	if err != nil || got.Status != refund.StatusFailed || got.FailureReason != "refusé" || got.Version != 2 || got.CompletedAt == nil {
		t.Fatalf("released refund = %+v, %v", got, err)
	}
	// Released once: a duplicate follower's release is refused and the
	// reservation does not go below zero.
	wantOnly(t, "release again", w.s.ReleaseRefund(ctx, failed, []event.Event{ev(t)}), refund.ErrRefundChanged)
	wantReservation(t, w, "after a second release", pi.ID, 0, []string{"ref-01"}, pi.Version+1)

	// The amount is refundable again, from the read before the release.
	check(t, "the whole payment again", w.s.CreateRefund(ctx, pi, newRefund(pi, "ref-02", 4000), ev(t)), ok)
	wantReservation(t, w, "after a new refund", pi.ID, 4000, []string{"ref-01", "ref-02"}, pi.Version+2)
}

// settlement is a settle of r as the domain builds it from fresh reads.
func settlement(t *testing.T, w *refundWorld, r refund.Refund) (refund.Refund, payment.Intent, invoice.Invoice) {
	t.Helper()
	pi := w.intent(t, r.PaymentIntentID)
	inv := w.invoice(t)
	r.Status, r.CompletedAt, r.Version = refund.StatusSucceeded, &refundAt, r.Version+1
	pi.RefundedAmount += r.Amount
	pi.Status = payment.IntentPartiallyRefunded
	if pi.RefundedAmount == pi.Amount {
		pi.Status = payment.IntentRefunded
	}
	pi.Version++
	after, err := invoice.ApplyPayment(inv, -r.Amount, "2026-11-21")
	if err != nil {
		t.Fatal(err)
	}
	after.Version = inv.Version + 1
	return r, pi, after
}

func TestSettleRefundMovesIntentAndInvoiceTogether(t *testing.T) {
	w := newRefundWorld(t, nil)
	ctx := context.Background()
	pi := w.paidIntent(t, 1, 4000)
	if inv := w.invoice(t); inv.AmountPaid != 4000 || inv.Status != invoice.StatusPartiallyPaid {
		t.Fatalf("invoice after the payment = %+v", inv)
	}
	r1 := newRefund(pi, "ref-01", 1500)
	check(t, "create", w.s.CreateRefund(ctx, pi, r1, ev(t)), ok)

	// Each stale part refuses the whole, with the answer that says what to
	// read again; nothing is written.
	settled, spi, sinv := settlement(t, w, r1)
	unchanged := func(what string) {
		t.Helper()
		got, err := w.s.GetRefund(ctx, "ptn", "org-1", "ref-01")
		if err != nil || got.Status != refund.StatusPending || got.Version != 1 {
			t.Fatalf("%s: refund = %+v, %v; want it pending", what, got, err)
		}
		if now := w.intent(t, pi.ID); now.RefundedAmount != 0 || now.Status != payment.IntentSucceeded {
			t.Fatalf("%s: intent = %+v, want it unchanged", what, now)
		}
		if inv := w.invoice(t); inv.AmountPaid != 4000 {
			t.Fatalf("%s: invoice amount_paid = %d, want 4000", what, inv.AmountPaid)
		}
	}
	staleRefund := settled
	staleRefund.Version = 3
	wantOnly(t, "settle at a stale refund version", w.s.SettleRefund(ctx, staleRefund, spi, sinv, nil, []event.Event{ev(t)}), refund.ErrRefundChanged)
	unchanged("a stale refund")
	staleInv := sinv
	staleInv.Version = sinv.Version + 3
	wantOnly(t, "settle at a stale invoice version", w.s.SettleRefund(ctx, settled, spi, staleInv, nil, []event.Event{ev(t)}), refund.ErrChanged)
	unchanged("a stale invoice")
	// Another refund moves the intent: the settle must read it again rather
	// than overwrite the new reservation.
	check(t, "another refund meanwhile", w.s.CreateRefund(ctx, pi, newRefund(pi, "ref-02", 500), ev(t)), ok)
	e := ev(t)
	wantOnly(t, "settle at a stale intent version", w.s.SettleRefund(ctx, settled, spi, sinv, nil, []event.Event{e}), refund.ErrChanged)
	unchanged("a stale intent")
	if w.eventStored(t, e.ID) {
		t.Fatal("a refused settle's event is in the outbox")
	}
	wantReservation(t, w, "after the refused settles", pi.ID, 2000, []string{"ref-01", "ref-02"}, pi.Version+2)

	// Read again: it commits, each part once.
	settled, spi, sinv = settlement(t, w, r1)
	evs := []event.Event{ev(t), ev(t)}
	check(t, "settle as read", w.s.SettleRefund(ctx, settled, spi, sinv, nil, evs), ok)
	for _, e := range evs {
		if !w.eventStored(t, e.ID) {
			t.Fatalf("event %s of the settle is not in the outbox", e.ID)
		}
	}
	got, err := w.s.GetRefund(ctx, "ptn", "org-1", "ref-01")
	if err != nil || got.Status != refund.StatusSucceeded || got.Version != 2 || got.CompletedAt == nil {
		t.Fatalf("settled refund = %+v, %v", got, err)
	}
	now := w.intent(t, pi.ID)
	if now.RefundedAmount != 1500 || now.Status != payment.IntentPartiallyRefunded || now.RefundReserved != 2000 ||
		fmt.Sprint(now.RefundIDs) != "[ref-01 ref-02]" || now.Version != pi.Version+3 {
		t.Fatalf("intent after the settle = %+v; want refunded 1500, partially_refunded, the reservation kept", now)
	}
	if inv := w.invoice(t); inv.AmountPaid != 2500 || inv.AmountDue != 7500 || inv.Status != invoice.StatusPartiallyPaid {
		t.Fatalf("invoice after the settle = paid %d due %d %s; want 2500, 7500, partially_paid", inv.AmountPaid, inv.AmountDue, inv.Status)
	}
	wantOnly(t, "settle twice", w.s.SettleRefund(ctx, settled, spi, sinv, nil, []event.Event{ev(t)}), refund.ErrRefundChanged)

	// The last refund: the intent is refunded, the invoice back to issued.
	// A reused event id refuses it whole.
	r3 := newRefund(pi, "ref-03", 2000)
	check(t, "the rest", w.s.CreateRefund(ctx, w.intent(t, pi.ID), r3, ev(t)), ok)
	settled, spi, sinv = settlement(t, w, r3)
	taken := evs[0]
	wantOnly(t, "settle with a reused event id", w.s.SettleRefund(ctx, settled, spi, sinv, nil, []event.Event{taken}), refund.ErrRefundChanged)
	if inv := w.invoice(t); inv.AmountPaid != 2500 {
		t.Fatalf("invoice after a refused settle: amount_paid %d, want 2500", inv.AmountPaid)
	}
	check(t, "settle the rest", w.s.SettleRefund(ctx, settled, spi, sinv, nil, []event.Event{ev(t)}), ok)
	if inv := w.invoice(t); inv.AmountPaid != 500 || inv.Status != invoice.StatusPartiallyPaid {
		t.Fatalf("invoice = paid %d %s, want 500 partially_paid", inv.AmountPaid, inv.Status)
	}
	r2, err := w.s.GetRefund(ctx, "ptn", "org-1", "ref-02")
	if err != nil {
		t.Fatal(err)
	}
	settled, spi, sinv = settlement(t, w, r2)
	check(t, "settle the last one", w.s.SettleRefund(ctx, settled, spi, sinv, nil, []event.Event{ev(t)}), ok)
	now = w.intent(t, pi.ID)
	if now.RefundedAmount != 4000 || now.Status != payment.IntentRefunded || now.RefundReserved != 4000 {
		t.Fatalf("intent after every refund = %+v, want refunded 4000", now)
	}
	if inv := w.invoice(t); inv.AmountPaid != 0 || inv.AmountDue != 10000 || inv.Status != invoice.StatusIssued {
		t.Fatalf("invoice after every refund = paid %d due %d %s; want 0, 10000, issued", inv.AmountPaid, inv.AmountDue, inv.Status)
	}
}

// A settle that makes a credit note takes its number with the rest, by
// the series' lease holder: a number another credit note took, one that
// skips, or a holder that lost the lease refuses the whole, as
// invoice.ErrNumberTaken, and nothing moves; the holder's next number
// commits and gives the lease back.
func TestSettleRefundTakesItsCreditNoteNumber(t *testing.T) {
	w := newRefundWorld(t, nil)
	ctx := context.Background()
	pi := w.paidIntent(t, 1, 4000)
	r1, r2 := newRefund(pi, "ref-01", 1000), newRefund(pi, "ref-02", 500)
	check(t, "create", w.s.CreateRefund(ctx, pi, r1, ev(t)), ok)
	check(t, "create", w.s.CreateRefund(ctx, w.intent(t, pi.ID), r2, ev(t)), ok)
	soon := time.Now().Add(time.Minute)
	acquire := func(owner string, want int64) {
		t.Helper()
		if n, err := w.s.AcquireCreditSeries(ctx, "ptn", "org-1", "2026", owner, soon); err != nil || n != want {
			t.Fatalf("%s acquires: last %d, %v; want %d", owner, n, err, want)
		}
	}
	num := func(n int64, owner string) *invoice.CreditNumber {
		return &invoice.CreditNumber{Year: "2026", Number: n, Owner: owner}
	}
	acquire("a", 0)
	if _, err := w.s.AcquireCreditSeries(ctx, "ptn", "org-1", "2026", "b", soon); !errors.Is(err, invoice.ErrCreditSeriesBusy) {
		t.Fatalf("b while a holds the series: %v", err)
	}
	settled, spi, sinv := settlement(t, w, r1)
	wantOnly(t, "a number that skips", w.s.SettleRefund(ctx, settled, spi, sinv, num(2, "a"), []event.Event{ev(t)}), invoice.ErrNumberTaken)
	wantOnly(t, "by one who does not hold the series", w.s.SettleRefund(ctx, settled, spi, sinv, num(1, "b"), []event.Event{ev(t)}), invoice.ErrNumberTaken)
	if got, err := w.s.GetRefund(ctx, "ptn", "org-1", "ref-01"); err != nil || got.Status != refund.StatusPending {
		t.Fatalf("refund after a refused number = %+v, %v", got, err)
	}
	check(t, "the first number, by its holder", w.s.SettleRefund(ctx, settled, spi, sinv, num(1, "a"), []event.Event{ev(t)}), ok)
	// The commit gave the lease back: b takes it, sees 1 taken.
	acquire("b", 1)
	settled, spi, sinv = settlement(t, w, r2)
	wantOnly(t, "a number taken", w.s.SettleRefund(ctx, settled, spi, sinv, num(1, "b"), []event.Event{ev(t)}), invoice.ErrNumberTaken)
	if inv := w.invoice(t); inv.AmountPaid != 3000 {
		t.Fatalf("invoice after a refused number: amount_paid %d, want 3000", inv.AmountPaid)
	}
	// A lease that expired is taken over; its old holder's commit fails.
	if _, err := w.s.AcquireCreditSeries(ctx, "ptn", "org-1", "2026", "b", time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	acquire("c", 1)
	wantOnly(t, "by a holder whose lease was taken over", w.s.SettleRefund(ctx, settled, spi, sinv, num(2, "b"), []event.Event{ev(t)}), invoice.ErrNumberTaken)
	// Released by another, the lease stays; by its holder, it goes.
	if err := w.s.ReleaseCreditSeries(ctx, "ptn", "org-1", "2026", "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := w.s.AcquireCreditSeries(ctx, "ptn", "org-1", "2026", "d", soon); !errors.Is(err, invoice.ErrCreditSeriesBusy) {
		t.Fatalf("d after b's release of c's lease: %v", err)
	}
	check(t, "the next number", w.s.SettleRefund(ctx, settled, spi, sinv, num(2, "c"), []event.Event{ev(t)}), ok)
	acquire("d", 2)
	if err := w.s.ReleaseCreditSeries(ctx, "ptn", "org-1", "2026", "d"); err != nil {
		t.Fatal(err)
	}
	acquire("e", 2)
	// Another year's series starts at 1.
	if n, err := w.s.AcquireCreditSeries(ctx, "ptn", "org-1", "2027", "e", soon); err != nil || n != 0 {
		t.Fatalf("2027's series = %d, %v", n, err)
	}
}

// batchSpy passes every call to DynamoDB Local and notes, for each
// BatchGetItem, whether each table's read was strongly consistent (as sent:
// the caller may reuse its input afterwards).
type batchSpy struct {
	dynamo.DB
	mu      sync.Mutex
	batches []map[string]bool
}

func (b *batchSpy) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	consistent := map[string]bool{}
	for table, ka := range in.RequestItems {
		consistent[table] = aws.ToBool(ka.ConsistentRead)
	}
	b.mu.Lock()
	b.batches = append(b.batches, consistent)
	b.mu.Unlock()
	return b.DB.BatchGetItem(ctx, in, opts...)
}

func TestIntentRefundsAndListRefunds(t *testing.T) {
	spy := &batchSpy{}
	w := newRefundWorld(t, func(db dynamo.DB) dynamo.DB { spy.DB = db; return spy })
	ctx := context.Background()
	pi1 := w.paidIntent(t, 1, 4000)
	pi2 := w.paidIntent(t, 2, 3000)
	none := w.paidIntent(t, 3, 1000)

	// Five refunds over two intents, in id (creation) order, a minute apart.
	plan := []struct {
		id     string
		pi     payment.Intent
		status string
	}{
		{"ref-01", pi1, refund.StatusPending}, {"ref-02", pi2, refund.StatusRequiresAction}, {"ref-03", pi1, refund.StatusRequiresAction},
		{"ref-04", pi2, refund.StatusPending}, {"ref-05", pi1, refund.StatusPending},
	}
	for i, p := range plan {
		r := newRefund(p.pi, p.id, 100)
		r.CreatedAt = refundAt.Add(time.Duration(i) * time.Minute)
		if err := w.s.CreateRefund(ctx, p.pi, r, ev(t)); err != nil {
			t.Fatal(err)
		}
		if p.status != refund.StatusPending {
			r.Status, r.Version = p.status, 2
			if err := w.s.UpdateRefund(ctx, r, nil); err != nil {
				t.Fatal(err)
			}
		}
	}

	ids := func(rs []refund.Refund) string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return strings.Join(out, " ")
	}
	spy.batches = nil
	got, rs, err := w.s.IntentRefunds(ctx, "ptn", "org-1", pi1.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != pi1.ID || got.RefundReserved != 300 || ids(rs) != "ref-01 ref-03 ref-05" {
		t.Fatalf("intent refunds = %s of %s (reserved %d), want ref-01 ref-03 ref-05 of pi-1 (300)", ids(rs), got.ID, got.RefundReserved)
	}
	if rs[1].Status != refund.StatusRequiresAction || rs[1].Version != 2 || rs[0].PartnerID != "ptn" || rs[0].OrgID != "org-1" {
		t.Fatalf("refunds as read = %+v", rs)
	}
	// Read in one batch, strongly consistent: a refund committed with the
	// intent that names it is never missing from the answer.
	if len(spy.batches) != 1 || !spy.batches[0][w.table] {
		t.Fatalf("IntentRefunds read batches %v, want one strongly consistent batch of the table", spy.batches)
	}
	_, rs, err = w.s.IntentRefunds(ctx, "ptn", "org-1", none.ID)
	if err != nil || rs == nil || len(rs) != 0 {
		t.Fatalf("intent without refunds = %v, %v; want an empty list", rs, err)
	}
	for _, tenant := range [][2]string{{"ptn", "org-2"}, {"ptn-2", "org-1"}} {
		if _, rs, err := w.s.IntentRefunds(ctx, tenant[0], tenant[1], pi1.ID); apperr.CodeOf(err) != apperr.NotFound || len(rs) != 0 {
			t.Fatalf("%v reads pi-1's refunds: %v, %v; want not found", tenant, rs, err)
		}
		if _, err := w.s.GetRefund(ctx, tenant[0], tenant[1], "ref-01"); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("%v reads ref-01: %v, want not found", tenant, err)
		}
		p, err := w.s.ListRefunds(ctx, tenant[0], tenant[1], listing.Query{Page: 1, Size: 10}, refund.Filter{})
		if err != nil || len(p.Items) != 0 {
			t.Fatalf("%v lists %s, %v; want nothing", tenant, ids(p.Items), err)
		}
	}
	if _, err := w.s.GetRefund(ctx, "ptn", "org-1", "ref-99"); apperr.CodeOf(err) != apperr.NotFound || !strings.Contains(err.Error(), "refund not found") {
		t.Fatalf("missing refund: %v", err)
	}

	// The organisation's list: oldest first, by cursor or page number.
	var walked []string
	q := listing.Query{Page: 1, Size: 2}
	for pages := 0; ; pages++ {
		p, err := w.s.ListRefunds(ctx, "ptn", "org-1", q, refund.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		// An organisation's refunds are an unbounded list: no total.
		if p.Total != -1 {
			t.Fatalf("total = %d, want -1 (not counted)", p.Total)
		}
		walked = append(walked, ids(p.Items))
		if p.Next == "" {
			break
		}
		if pages > 5 {
			t.Fatal("cursor never ends")
		}
		q.Cursor = p.Next
	}
	if got, want := strings.Join(walked, " | "), "ref-01 ref-02 | ref-03 ref-04 | ref-05"; got != want {
		t.Fatalf("walked %s, want %s", got, want)
	}
	p3, err := w.s.ListRefunds(ctx, "ptn", "org-1", listing.Query{Page: 3, Size: 2}, refund.Filter{})
	if err != nil || ids(p3.Items) != "ref-05" || p3.Next != "" {
		t.Fatalf("page 3 = %+v, %v; want ref-05 alone", p3, err)
	}
	first, _ := w.s.ListRefunds(ctx, "ptn", "org-1", listing.Query{Page: 1, Size: 2}, refund.Filter{})
	if _, err := w.s.ListRefunds(ctx, "ptn", "org-2", listing.Query{Page: 1, Size: 2, Cursor: first.Next}, refund.Filter{}); func() bool {
		ae, isApp := apperr.As(err)
		return !isApp || ae.Param != "cursor"
	}() {
		t.Fatalf("another organisation's cursor: err = %v, want a 422 on cursor", err)
	}

	filters := []struct {
		name string
		f    refund.Filter
		size int
		want string
	}{
		{"status", refund.Filter{Status: refund.StatusRequiresAction}, 10, "ref-02 ref-03"},
		{"intent", refund.Filter{PaymentIntentID: pi2.ID}, 10, "ref-02 ref-04"},
		{"created from", refund.Filter{CreatedFrom: refundAt.Add(3 * time.Minute)}, 10, "ref-04 ref-05"},
		{"created to", refund.Filter{CreatedTo: refundAt.Add(1 * time.Minute)}, 10, "ref-01 ref-02"},
		{"created between, both ends included", refund.Filter{CreatedFrom: refundAt.Add(time.Minute), CreatedTo: refundAt.Add(3 * time.Minute)}, 10, "ref-02 ref-03 ref-04"},
		{"status and intent", refund.Filter{Status: refund.StatusPending, PaymentIntentID: pi1.ID}, 10, "ref-01 ref-05"},
		{"nothing matches", refund.Filter{Status: refund.StatusSucceeded}, 10, ""},
	}
	for _, tc := range filters {
		p, err := w.s.ListRefunds(ctx, "ptn", "org-1", listing.Query{Page: 1, Size: tc.size}, tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if ids(p.Items) != tc.want || p.Next != "" || p.Total != -1 {
			t.Fatalf("%s: %s (next %q, total %d), want %s", tc.name, ids(p.Items), p.Next, p.Total, tc.want)
		}
	}
	// A filtered list pages through what matches.
	p, err := w.s.ListRefunds(ctx, "ptn", "org-1", listing.Query{Page: 1, Size: 2}, refund.Filter{Status: refund.StatusPending})
	if err != nil || ids(p.Items) != "ref-01 ref-04" || p.Next == "" {
		t.Fatalf("pending, page 1 = %s (next %q), %v", ids(p.Items), p.Next, err)
	}
	p, err = w.s.ListRefunds(ctx, "ptn", "org-1", listing.Query{Page: 1, Size: 2, Cursor: p.Next}, refund.Filter{Status: refund.StatusPending})
	if err != nil || ids(p.Items) != "ref-05" || p.Next != "" {
		t.Fatalf("pending, page 2 = %s (next %q), %v", ids(p.Items), p.Next, err)
	}
}

// Fifty requests for one intent at once, each of 300 on a payment of 4000:
// exactly the 13 that fit are accepted (3900), whatever the interleaving.
// A refused request reads the intent again, as the domain does, and tries
// again only while its refund still fits.
func TestCreateRefundConcurrentlyAcceptsExactlyWhatFits(t *testing.T) {
	w := newRefundWorld(t, nil)
	pi := w.paidIntent(t, 1, 4000)
	accepted, reserved := raceRefunds(t, w, pi, 50, 300)
	if len(accepted) != 13 || reserved != 3900 {
		t.Fatalf("%d accepted reserving %d, want 13 reserving 3900", len(accepted), reserved)
	}
}

// Sixty requests of 1 cent: the amount never binds, the count does.
func TestCreateRefundConcurrentlyStopsAtMaxPerIntent(t *testing.T) {
	w := newRefundWorld(t, nil)
	pi := w.paidIntent(t, 1, 4000)
	accepted, reserved := raceRefunds(t, w, pi, refund.MaxPerIntent+10, 1)
	if len(accepted) != refund.MaxPerIntent || reserved != refund.MaxPerIntent {
		t.Fatalf("%d accepted reserving %d, want %d", len(accepted), reserved, refund.MaxPerIntent)
	}
}

// raceRefunds sends n refunds of amount at once and checks that the
// intent's state is exactly the accepted ones; it returns them and the
// reservation.
func raceRefunds(t *testing.T, w *refundWorld, pi payment.Intent, n int, amount int64) ([]string, int64) {
	t.Helper()
	ctx := context.Background()
	var (
		mu       sync.Mutex
		accepted []string
		rereads  int
		wg       sync.WaitGroup
		start    = make(chan struct{})
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			id := fmt.Sprintf("ref-race-%02d", i)
			read := pi
			<-start
			for attempt := 1; attempt <= 200; attempt++ {
				err := w.s.CreateRefund(ctx, read, newRefund(read, id, amount), ev(t))
				if err == nil {
					mu.Lock()
					accepted = append(accepted, id)
					mu.Unlock()
					return
				}
				if !errors.Is(err, refund.ErrNotRefundable) {
					t.Errorf("refund %s: %v", id, err)
					return
				}
				mu.Lock()
				rereads++
				mu.Unlock()
				read, err = w.s.GetIntent(ctx, "ptn", "org-1", pi.ID)
				if err != nil {
					t.Errorf("read again: %v", err)
					return
				}
				if read.RefundReserved+amount > read.Amount || len(read.RefundIDs) >= refund.MaxPerIntent {
					return // it no longer fits: refused for good
				}
			}
			t.Errorf("refund %s: still conflicting after 200 attempts", id)
		}(i)
	}
	close(start)
	wg.Wait()
	now := w.intent(t, pi.ID)
	if now.RefundReserved > now.Amount {
		t.Fatalf("reserved %d of %d", now.RefundReserved, now.Amount)
	}
	var sum int64
	for _, id := range now.RefundIDs {
		r, err := w.s.GetRefund(ctx, "ptn", "org-1", id)
		if err != nil {
			t.Fatalf("refund %s named by the intent: %v", id, err)
		}
		sum += r.Amount
	}
	mu.Lock()
	defer mu.Unlock()
	t.Logf("%d requests of %d: %d accepted, %d refusals read the intent again", n, amount, len(accepted), rereads)
	if sum != now.RefundReserved || len(now.RefundIDs) != len(accepted) {
		t.Fatalf("intent names %d refunds summing %d, reserves %d; %d accepted", len(now.RefundIDs), sum, now.RefundReserved, len(accepted))
	}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("ref-race-%02d", i)
		_, err := w.s.GetRefund(ctx, "ptn", "org-1", id)
		isAccepted := false
		for _, a := range accepted {
			isAccepted = isAccepted || a == id
		}
		if (err == nil) != isAccepted {
			t.Fatalf("refund %s: stored %v, accepted %v", id, err == nil, isAccepted)
		}
	}
	return accepted, now.RefundReserved
}
