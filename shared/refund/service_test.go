package refund_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/infra/engines/enginetest"
	"github.com/modupay/modupay/infra/stacktest"
	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/documents"
	"github.com/modupay/modupay/shared/dynamo"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/money"
	"github.com/modupay/modupay/shared/objects"
	"github.com/modupay/modupay/shared/organization"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/refund"
	"github.com/modupay/modupay/shared/wiring"
)

// The refund use cases over the real store on DynamoDB Local; only the
// provider that executes refunds (the bank, the card processor) is played
// by the test.

func TestMain(m *testing.M) { enginetest.Main(m) }

var start = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

var actor = event.Actor{ID: "user-1", Type: "organization"}

// bank is the external provider as the test scripts it. Create answers
// create (or createErr); State answers state (or stateErr). During, when
// set, runs inside the next call to Create (another follower at work).
type bank struct {
	mu        sync.Mutex
	create    refund.Execution
	createErr error
	state     refund.Execution
	stateErr  error
	during    func()
	creates   int
	states    int
}

func (b *bank) Create(_ context.Context, r refund.Refund, _ payment.Intent) (refund.Execution, error) {
	b.mu.Lock()
	b.creates++
	during := b.during
	b.during = nil
	ex, err := b.create, b.createErr
	b.mu.Unlock()
	if during != nil {
		during()
	}
	return ex, err
}

func (b *bank) State(_ context.Context, r refund.Refund, _ payment.Intent) (refund.Execution, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.states++
	if r.ProviderID == "" {
		return refund.Execution{}, errors.New("state asked before the provider's id was recorded")
	}
	return b.state, b.stateErr
}

func (b *bank) calls() (int, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.creates, b.states
}

type world struct {
	store *dynamo.Store
	raw   *dynamodb.Client
	table string
	svc   *refund.Service
	bank  *bank
	docs  documents.Keeper
	a     department.BankAccount
	mu    sync.Mutex
	sleps []time.Duration
	seq   int
}

func newWorld(t *testing.T) *world { t.Helper(); return newWorldOf(t, nil) }

// newWorldOf is newWorld with its invoice as edit makes it. The service
// keeps credit notes in a temporary directory (w.docs); an invoice issued
// without documents (DocumentsVersion 0, newWorld's) makes none.
func newWorldOf(t *testing.T, edit func(*invoice.Invoice)) *world {
	t.Helper()
	st := stacktest.New(t)
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion(st.Config.Region),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	if err != nil {
		t.Fatal(err)
	}
	clk := stacktest.NewClock(start)
	w := &world{raw: wiring.NewDynamoDB(awsCfg, st.Config.DynamoDBEndpoint), table: st.Config.Table, bank: &bank{},
		docs: documents.Keeper{Objects: objects.Dir{Root: t.TempDir()}}}
	w.store = dynamo.New(w.raw, w.table, clk.Now)
	w.svc = &refund.Service{Store: w.store, Methods: []string{payment.MethodSEPA, payment.MethodCard}, Credits: w.docs,
		Providers: map[string]refund.Provider{payment.MethodSEPA: w.bank}, Now: clk.Now, NewID: w.newID,
		Sleep: func(_ context.Context, d time.Duration) error {
			w.mu.Lock()
			w.sleps = append(w.sleps, d)
			w.mu.Unlock()
			return nil
		}}

	ctx := context.Background()
	org := organization.Organization{ID: "org-1", PartnerID: "ptn", Type: organization.TypeCompany, Name: "Alpha", SIRET: "73282932000074", SIREN: "732829320",
		Address: organization.Address{Line1: "1 rue", PostalCode: "75001", City: "Paris", Country: "FR"}, Status: "active"}
	if err := w.store.CreateOrganization(ctx, org, w.event(t)); err != nil {
		t.Fatal(err)
	}
	d := department.Department{ID: "dept-1", PartnerID: "ptn", OrgID: "org-1", Name: "Eau", Code: "EAU", Status: "active",
		KYCStatus: department.KYCNotSubmitted, CreatedAt: start, UpdatedAt: start, Version: 1}
	if err := w.store.CreateDepartment(ctx, d, w.event(t)); err != nil {
		t.Fatal(err)
	}
	w.a = department.BankAccount{ID: "ba-1", PartnerID: "ptn", DepartmentID: d.ID, OrgID: "org-1", IBAN: "FR7630004000031234567890143", BIC: "BNPAFRPPXXX",
		AccountName: "Compte", Status: department.AccountVerified, Version: 1}
	if err := w.store.CreateBankAccount(ctx, d, d, w.a, []event.Event{w.event(t)}); err != nil {
		t.Fatal(err)
	}
	inv := invoice.Invoice{ID: "inv-1", PartnerID: "ptn", OrgID: "org-1", DepartmentID: d.ID, Status: invoice.StatusIssued, DueDate: "2030-01-01",
		TotalAmount: 10000, AmountDue: 10000, Currency: "EUR", Version: 1}
	if edit != nil {
		edit(&inv)
	}
	if err := w.store.CreateInvoice(ctx, inv, "2026", 1, w.event(t)); err != nil {
		t.Fatal(err)
	}
	return w
}

// newID is "<prefix>-<n>", n zero-padded so that ids sort as created.
func (w *world) newID(prefix string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seq++
	return fmt.Sprintf("%s-%05d", prefix, w.seq)
}

func (w *world) event(t *testing.T) event.Event {
	t.Helper()
	e, err := event.New(w.newID("evt"), "test.setup", start, "ptn", "org-1", actor, nil, event.Change{})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (w *world) waits() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.sleps...)
}

// intent makes intent pi-<n> of amount paid by method on the invoice
// (paid says whether its payment succeeded).
func (w *world) intent(t *testing.T, n int, amount int64, method string, paid bool) payment.Intent {
	t.Helper()
	ctx := context.Background()
	inv := w.invoice(t)
	l := payment.Link{ID: fmt.Sprintf("pl-%d", n), InvoiceID: inv.ID, PaymentIntentID: fmt.Sprintf("pi-%d", n), Amount: amount, Currency: "EUR",
		Status: payment.LinkActive, ExpiresAt: start.Add(24 * time.Hour), CreatedAt: start, PartnerID: "ptn", OrgID: "org-1",
		DepartmentID: w.a.DepartmentID, BankAccountID: w.a.ID, Token: fmt.Sprintf("tok-%d", n), Version: 1}
	pi := payment.Intent{ID: l.PaymentIntentID, InvoiceID: inv.ID, PaymentLinkID: l.ID, Amount: amount, Currency: "EUR", Status: payment.IntentPending,
		SelectedPaymentMethod: method, CreatedAt: start, UpdatedAt: start, PartnerID: "ptn", OrgID: "org-1", Version: 1}
	if method == payment.MethodCard {
		pi.CardChargeID = fmt.Sprintf("card-%d", n)
	}
	if err := w.store.CreateLink(ctx, inv, l, pi, w.event(t)); err != nil {
		t.Fatal(err)
	}
	if !paid {
		return w.readIntent(t, pi.ID)
	}
	inv = w.invoice(t)
	succeeded := pi
	succeeded.Status, succeeded.CompletedAt, succeeded.Version = payment.IntentSucceeded, &start, 2
	after, err := invoice.ApplyPayment(inv, amount, "2026-11-21")
	if err != nil {
		t.Fatal(err)
	}
	after.Version, after.AmountInLinks = inv.Version+1, inv.AmountInLinks-amount
	l.Status, l.Version = payment.LinkCompleted, 2
	if err := w.store.SettleIntent(ctx, succeeded, l, after, []event.Event{w.event(t)}); err != nil {
		t.Fatal(err)
	}
	return w.readIntent(t, pi.ID)
}

func (w *world) invoice(t *testing.T) invoice.Invoice {
	t.Helper()
	inv, err := w.store.GetInvoice(context.Background(), "ptn", "org-1", "inv-1")
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func (w *world) readIntent(t *testing.T, id string) payment.Intent {
	t.Helper()
	pi, err := w.store.GetIntent(context.Background(), "ptn", "org-1", id)
	if err != nil {
		t.Fatal(err)
	}
	return pi
}

func (w *world) refund(t *testing.T, id string) refund.Refund {
	t.Helper()
	r, err := w.store.GetRefund(context.Background(), "ptn", "org-1", id)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// outboxEvent is an event as the outbox holds it.
type outboxEvent struct {
	ID   string
	Type string
	Data map[string]any
}

// events are the outbox's events of type typ about resource id (a refund,
// an intent, the invoice), read from the test's own table, in the order
// they were made (their ids are sequential).
func (w *world) events(t *testing.T, typ, id string) []outboxEvent {
	t.Helper()
	var out []outboxEvent
	in := &dynamodb.ScanInput{TableName: aws.String(w.table), ConsistentRead: aws.Bool(true), FilterExpression: aws.String("#k = :k AND #t = :t"),
		ExpressionAttributeNames:  map[string]string{"#k": "kind", "#t": "event_type"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": &types.AttributeValueMemberS{Value: "event"}, ":t": &types.AttributeValueMemberS{Value: typ}}}
	for {
		res, err := w.raw.Scan(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range res.Items {
			rec, _ := it["record"].(*types.AttributeValueMemberS)
			if rec == nil {
				t.Fatalf("event item without record: %v", it)
			}
			var r struct {
				Envelope struct {
					ID   string         `json:"event_id"`
					Data map[string]any `json:"data"`
				} `json:"envelope"`
			}
			if err := json.Unmarshal([]byte(rec.Value), &r); err != nil {
				t.Fatal(err)
			}
			e := r.Envelope
			for _, k := range []string{"refund_id", "payment_intent_id", "invoice_id"} {
				if e.Data[k] == id {
					out = append(out, outboxEvent{ID: e.ID, Type: typ, Data: e.Data})
					break
				}
			}
		}
		if res.LastEvaluatedKey == nil {
			slices.SortFunc(out, func(a, b outboxEvent) int { return strings.Compare(a.ID, b.ID) })
			return out
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

func amount(n int64) *int64 { return &n }

// wantField checks a 422 on param whose message contains msg.
func wantField(t *testing.T, what string, err error, param, msg string) {
	t.Helper()
	ae, ok := apperr.As(err)
	if !ok || ae.Code != apperr.Invalid || ae.Param != param || !strings.Contains(ae.Message, msg) {
		t.Fatalf("%s: err = %v, want a 422 on %s saying %q", what, err, param, msg)
	}
}

func wantCode(t *testing.T, what string, err error, code apperr.Code, msg string) {
	t.Helper()
	ae, ok := apperr.As(err)
	if !ok || ae.Code != code || !strings.Contains(ae.Message, msg) {
		t.Fatalf("%s: err = %v, want %s saying %q", what, err, code, msg)
	}
}

// wantHeld checks the intent's reservation and refunds.
func wantHeld(t *testing.T, w *world, what, id string, reserved int64, refunds int) {
	t.Helper()
	pi := w.readIntent(t, id)
	if pi.RefundReserved != reserved || len(pi.RefundIDs) != refunds {
		t.Fatalf("%s: intent reserves %d for %d refunds, want %d for %d", what, pi.RefundReserved, len(pi.RefundIDs), reserved, refunds)
	}
}

func TestCreateValidatesAndWritesNothingOnRefusal(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	pi := w.intent(t, 1, 4000, payment.MethodSEPA, true)
	first, err := w.svc.Create(ctx, "ptn", "org-1", actor, refund.CreateInput{PaymentIntentID: pi.ID, Amount: amount(3000), Reason: "Remise commerciale de 30€"})
	if err != nil {
		t.Fatal(err)
	}
	if first.Status != refund.StatusPending || first.Amount != 3000 || first.Currency != "EUR" || first.InvoiceID != "inv-1" ||
		first.Method != payment.MethodSEPA || first.Version != 1 || !first.CreatedAt.Equal(start) {
		t.Fatalf("created = %+v", first)
	}
	if got := w.refund(t, first.ID); got.Amount != 3000 || got.Reason != "Remise commerciale de 30€" {
		t.Fatalf("stored = %+v", got)
	}
	if evs := w.events(t, "refund.created", first.ID); len(evs) != 1 || evs[0].Data["payment_intent_id"] != pi.ID {
		t.Fatalf("refund.created events = %+v, want one naming the intent", evs)
	}
	wantHeld(t, w, "after the first refund", pi.ID, 3000, 1)

	pending := w.intent(t, 2, 1000, payment.MethodSEPA, false)
	card := w.intent(t, 3, 1000, payment.MethodCard, true)
	sepaOnly := *w.svc
	sepaOnly.Methods = []string{payment.MethodSEPA}
	long := strings.Repeat("é", refund.MaxReasonLength+1)

	cases := []struct {
		name  string
		svc   *refund.Service
		ptn   string
		org   string
		in    refund.CreateInput
		check func(t *testing.T, err error)
	}{
		{name: "amount 0", in: refund.CreateInput{PaymentIntentID: pi.ID, Amount: amount(0)},
			check: func(t *testing.T, err error) {
				wantField(t, "amount 0", err, "amount", "amount must be a positive number of cents")
			}},
		{name: "negative amount", in: refund.CreateInput{PaymentIntentID: pi.ID, Amount: amount(-100)},
			check: func(t *testing.T, err error) {
				wantField(t, "negative amount", err, "amount", "amount must be a positive number of cents")
			}},
		{name: "above what is refundable", in: refund.CreateInput{PaymentIntentID: pi.ID, Amount: amount(1001)},
			check: func(t *testing.T, err error) {
				wantField(t, "above refundable", err, "amount", "amount is above what is refundable: 1000 of 4000")
			}},
		{name: "above the payment", in: refund.CreateInput{PaymentIntentID: pi.ID, Amount: amount(4001)},
			check: func(t *testing.T, err error) {
				wantField(t, "above the payment", err, "amount", "amount is above what is refundable: 1000 of 4000")
			}},
		{name: "reason too long", in: refund.CreateInput{PaymentIntentID: pi.ID, Amount: amount(10), Reason: long},
			check: func(t *testing.T, err error) {
				wantField(t, "reason too long", err, "reason", "reason must be at most 500 characters (it has 501)")
			}},
		{name: "reason with a control character", in: refund.CreateInput{PaymentIntentID: pi.ID, Amount: amount(10), Reason: "a\x00b"},
			check: func(t *testing.T, err error) {
				wantField(t, "control character", err, "reason", "reason must be text without control characters")
			}},
		{name: "no intent", in: refund.CreateInput{PaymentIntentID: "  ", Amount: amount(10)},
			check: func(t *testing.T, err error) {
				wantField(t, "no intent", err, "payment_intent_id", "payment_intent_id is required")
			}},
		{name: "missing intent", in: refund.CreateInput{PaymentIntentID: "pi-missing", Amount: amount(10)},
			check: func(t *testing.T, err error) {
				wantCode(t, "missing intent", err, apperr.NotFound, "payment intent not found")
			}},
		{name: "another organisation's intent", org: "org-2", in: refund.CreateInput{PaymentIntentID: pi.ID, Amount: amount(10)},
			check: func(t *testing.T, err error) {
				wantCode(t, "foreign org", err, apperr.NotFound, "payment intent not found")
			}},
		{name: "another partner's intent", ptn: "ptn-2", in: refund.CreateInput{PaymentIntentID: pi.ID, Amount: amount(10)},
			check: func(t *testing.T, err error) {
				wantCode(t, "foreign partner", err, apperr.NotFound, "payment intent not found")
			}},
		{name: "intent not succeeded", in: refund.CreateInput{PaymentIntentID: pending.ID, Amount: amount(10)},
			check: func(t *testing.T, err error) {
				wantCode(t, "pending intent", err, apperr.Conflict, "the payment intent is pending: only a succeeded payment can be refunded")
			}},
		{name: "a method whose refunds are unavailable", svc: &sepaOnly, in: refund.CreateInput{PaymentIntentID: card.ID, Amount: amount(10)},
			check: func(t *testing.T, err error) {
				wantField(t, "card without a processor", err, "payment_intent_id", "payment_method_unavailable")
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			svc := w.svc
			if tc.svc != nil {
				svc = tc.svc
			}
			ptn, org := "ptn", "org-1"
			if tc.ptn != "" {
				ptn = tc.ptn
			}
			if tc.org != "" {
				org = tc.org
			}
			r, err := svc.Create(ctx, ptn, org, actor, tc.in)
			if err == nil {
				t.Fatalf("created %+v, want a refusal", r)
			}
			tc.check(t, err)
		})
	}
	wantHeld(t, w, "after the refusals", pi.ID, 3000, 1)
	wantHeld(t, w, "pending intent after the refusals", pending.ID, 0, 0)
	wantHeld(t, w, "card intent after the refusals", card.ID, 0, 0)
	if evs := w.events(t, "refund.created", pi.ID); len(evs) != 1 {
		t.Fatalf("refund.created events of pi-1 = %d, want the first only", len(evs))
	}

	// The longest reason (in characters, not bytes) is taken.
	r, err := w.svc.Create(ctx, "ptn", "org-1", actor, refund.CreateInput{PaymentIntentID: card.ID, Amount: amount(10), Reason: long[len("é"):]})
	if err != nil || len([]rune(r.Reason)) != refund.MaxReasonLength {
		t.Fatalf("a reason of 500 characters: %v, %v", r.Reason, err)
	}
}

func TestCreateWithoutAmountRefundsWhatIsLeft(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	pi := w.intent(t, 1, 4000, payment.MethodSEPA, true)
	all, err := w.svc.Create(ctx, "ptn", "org-1", actor, refund.CreateInput{PaymentIntentID: pi.ID})
	if err != nil || all.Amount != 4000 {
		t.Fatalf("total refund = %+v, %v; want 4000", all, err)
	}
	_, err = w.svc.Create(ctx, "ptn", "org-1", actor, refund.CreateInput{PaymentIntentID: pi.ID})
	wantCode(t, "nothing left", err, apperr.Conflict, "nothing is left to refund on this payment: refundable 0 of 4000")
	_, err = w.svc.Create(ctx, "ptn", "org-1", actor, refund.CreateInput{PaymentIntentID: pi.ID, Amount: amount(1)})
	wantField(t, "one cent more", err, "amount", "amount is above what is refundable: 0 of 4000")

	// Partially refunded: without amount, the rest.
	pi2 := w.intent(t, 2, 3000, payment.MethodSEPA, true)
	if _, err := w.svc.Create(ctx, "ptn", "org-1", actor, refund.CreateInput{PaymentIntentID: pi2.ID, Amount: amount(1200)}); err != nil {
		t.Fatal(err)
	}
	rest, err := w.svc.Create(ctx, "ptn", "org-1", actor, refund.CreateInput{PaymentIntentID: pi2.ID})
	if err != nil || rest.Amount != 1800 {
		t.Fatalf("the rest = %+v, %v; want 1800", rest, err)
	}
	wantHeld(t, w, "pi-2", pi2.ID, 3000, 2)
	if len(w.waits()) != 0 {
		t.Fatalf("waited %v without any concurrent request", w.waits())
	}
}

// raceStore is the real store; a hook runs once, right after the next
// GetIntent (or GetInvoice) answered: another request committing in between.
type raceStore struct {
	*dynamo.Store
	mu           sync.Mutex
	afterIntent  func()
	afterInvoice func()
	intentReads  int
	invoiceReads int
}

func (s *raceStore) GetIntent(ctx context.Context, partnerID, orgID, id string) (payment.Intent, error) {
	pi, err := s.Store.GetIntent(ctx, partnerID, orgID, id)
	s.mu.Lock()
	s.intentReads++
	hook := s.afterIntent
	s.afterIntent = nil
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	return pi, err
}

func (s *raceStore) GetInvoice(ctx context.Context, partnerID, orgID, id string) (invoice.Invoice, error) {
	inv, err := s.Store.GetInvoice(ctx, partnerID, orgID, id)
	s.mu.Lock()
	s.invoiceReads++
	hook := s.afterInvoice
	s.afterInvoice = nil
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	return inv, err
}

func TestCreateReadsTheIntentAgainWhenAnotherRefundTookTheAmount(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	pi := w.intent(t, 1, 4000, payment.MethodSEPA, true)
	rs := &raceStore{Store: w.store}
	svc := *w.svc
	svc.Store = rs
	other := func(amt int64) func() {
		return func() {
			if _, err := w.svc.Create(ctx, "ptn", "org-1", actor, refund.CreateInput{PaymentIntentID: pi.ID, Amount: amount(amt)}); err != nil {
				t.Errorf("the other request: %v", err)
			}
		}
	}

	// Without amount, from a read that another refund of 1000 made stale:
	// refused by the store, read again, the rest (3000) refunded.
	rs.afterIntent = other(1000)
	r, err := svc.Create(ctx, "ptn", "org-1", actor, refund.CreateInput{PaymentIntentID: pi.ID})
	if err != nil || r.Amount != 3000 {
		t.Fatalf("total refund after another = %+v, %v; want the 3000 left", r, err)
	}
	if rs.intentReads != 2 || fmt.Sprint(w.waits()) != "[3ms]" {
		t.Fatalf("intent read %d times, waits %v; want 2 reads and one wait of 3ms", rs.intentReads, w.waits())
	}
	wantHeld(t, w, "after both", pi.ID, 4000, 2)

	// With an amount that no longer fits: the second read says why.
	pi2 := w.intent(t, 2, 3000, payment.MethodSEPA, true)
	rs.intentReads = 0
	rs.afterIntent = func() {
		if _, err := w.svc.Create(ctx, "ptn", "org-1", actor, refund.CreateInput{PaymentIntentID: pi2.ID, Amount: amount(2500)}); err != nil {
			t.Errorf("the other request: %v", err)
		}
	}
	_, err = svc.Create(ctx, "ptn", "org-1", actor, refund.CreateInput{PaymentIntentID: pi2.ID, Amount: amount(1000)})
	wantField(t, "taken meanwhile", err, "amount", "amount is above what is refundable: 500 of 3000")
	if rs.intentReads != 2 {
		t.Fatalf("intent read %d times, want 2", rs.intentReads)
	}
	wantHeld(t, w, "pi-2", pi2.ID, 2500, 1)
}

// Fifty requests at once, 300 each on a payment of 4000: exactly 13 are
// accepted, every other is told what is left.
func TestCreateConcurrentlyAcceptsExactlyWhatFits(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	pi := w.intent(t, 1, 4000, payment.MethodSEPA, true)
	const n = 50
	var wg sync.WaitGroup
	results := make(chan error, n)
	gate := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			_, err := w.svc.Create(ctx, "ptn", "org-1", actor, refund.CreateInput{PaymentIntentID: pi.ID, Amount: amount(300)})
			results <- err
		}()
	}
	close(gate)
	wg.Wait()
	close(results)
	accepted := 0
	for err := range results {
		if err == nil {
			accepted++
			continue
		}
		wantField(t, "a request that does not fit", err, "amount", "amount is above what is refundable: 100 of 4000")
	}
	if accepted != 13 {
		t.Fatalf("%d accepted, want 13", accepted)
	}
	wantHeld(t, w, "after the burst", pi.ID, 3900, 13)
	if evs := w.events(t, "refund.created", pi.ID); len(evs) != 13 {
		t.Fatalf("%d refund.created events, want 13", len(evs))
	}
}

func TestCreateAtMostMaxPerIntent(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	pi := w.intent(t, 1, 4000, payment.MethodSEPA, true)
	for i := 0; i < refund.MaxPerIntent; i++ {
		if _, err := w.svc.Create(ctx, "ptn", "org-1", actor, refund.CreateInput{PaymentIntentID: pi.ID, Amount: amount(10)}); err != nil {
			t.Fatalf("refund %d: %v", i+1, err)
		}
	}
	_, err := w.svc.Create(ctx, "ptn", "org-1", actor, refund.CreateInput{PaymentIntentID: pi.ID, Amount: amount(10)})
	wantCode(t, "a 51st refund", err, apperr.Conflict, "this payment already has 50 refunds")
	wantHeld(t, w, "after 50", pi.ID, 500, 50)
}

// created is a refund of amt on a new SEPA intent of 4000 (pi-<n>); the
// invoice (10 000) takes two such payments.
func created(t *testing.T, w *world, n int, amt int64) (payment.Intent, refund.Refund) {
	t.Helper()
	return createdOf(t, w, n, 4000, amt)
}

func createdOf(t *testing.T, w *world, n int, paid, amt int64) (payment.Intent, refund.Refund) {
	t.Helper()
	pi := w.intent(t, n, paid, payment.MethodSEPA, true)
	r, err := w.svc.Create(context.Background(), "ptn", "org-1", actor, refund.CreateInput{PaymentIntentID: pi.ID, Amount: amount(amt)})
	if err != nil {
		t.Fatal(err)
	}
	return pi, r
}

func follow(t *testing.T, w *world, id string) bool {
	t.Helper()
	final, err := w.svc.Follow(context.Background(), "ptn", "org-1", id)
	if err != nil {
		t.Fatalf("Follow(%s): %v", id, err)
	}
	return final
}

func statusChanges(t *testing.T, w *world, id string) []string {
	t.Helper()
	var out []string
	for _, e := range w.events(t, "refund.status_changed", id) {
		out = append(out, fmt.Sprint(e.Data["previous_status"], "→", e.Data["current_status"]))
	}
	return out
}

func TestFollowSettlesASucceededRefundOnce(t *testing.T) {
	w := newWorld(t)
	pi, r := created(t, w, 1, 1000)
	w.bank.create = refund.Execution{ProviderID: "aiia-rf-1", Code: "Preparing", Status: refund.StatusPending}
	w.bank.state = refund.Execution{ProviderID: "aiia-rf-1", Code: "Succeeded", Status: refund.StatusSucceeded}
	if !follow(t, w, r.ID) {
		t.Fatal("Follow of a succeeded refund: not final")
	}
	got := w.refund(t, r.ID)
	if got.Status != refund.StatusSucceeded || got.ProviderID != "aiia-rf-1" || got.ProviderCode != "Succeeded" || got.CompletedAt == nil || got.Version != 3 {
		t.Fatalf("refund = %+v; want succeeded, with the provider's id, at version 3 (recorded, then settled)", got)
	}
	now := w.readIntent(t, pi.ID)
	if now.RefundedAmount != 1000 || now.Status != payment.IntentPartiallyRefunded || now.RefundReserved != 1000 {
		t.Fatalf("intent = refunded %d, %s, reserved %d; want 1000, partially_refunded, 1000", now.RefundedAmount, now.Status, now.RefundReserved)
	}
	if inv := w.invoice(t); inv.AmountPaid != 3000 || inv.AmountDue != 7000 || inv.Status != invoice.StatusPartiallyPaid {
		t.Fatalf("invoice = paid %d due %d %s; want 3000, 7000, partially_paid", inv.AmountPaid, inv.AmountDue, inv.Status)
	}
	if got := statusChanges(t, w, r.ID); fmt.Sprint(got) != "[pending→succeeded]" {
		t.Fatalf("refund events %v, want pending→succeeded once", got)
	}
	// Its invoice was issued before documents were kept: no credit note.
	if got.CreditNoteNumber != "" || len(w.invoice(t).CreditNotes) != 0 {
		t.Fatalf("a credit note %q on an invoice without documents: %+v", got.CreditNoteNumber, w.invoice(t).CreditNotes)
	}
	piEvs := w.events(t, "payment_intent.status_changed", pi.ID)
	var moves []string
	for _, e := range piEvs {
		moves = append(moves, fmt.Sprint(e.Data["previous_status"], "→", e.Data["current_status"]))
	}
	if fmt.Sprint(moves) != "[succeeded→partially_refunded]" {
		t.Fatalf("intent events %v, want the refund's", moves)
	}
	creates, states := w.bank.calls()

	// Again (a duplicate message): nothing is asked, written or published.
	if !follow(t, w, r.ID) {
		t.Fatal("Follow again: not final")
	}
	if c, s := w.bank.calls(); c != creates || s != states {
		t.Fatalf("the provider was asked again: creates %d→%d, states %d→%d", creates, c, states, s)
	}
	if again := w.refund(t, r.ID); again.Version != got.Version {
		t.Fatalf("refund written again: version %d→%d", got.Version, again.Version)
	}
	if got := statusChanges(t, w, r.ID); len(got) != 1 {
		t.Fatalf("refund events after a second Follow: %v", got)
	}
	if inv := w.invoice(t); inv.AmountPaid != 3000 {
		t.Fatalf("invoice amount_paid %d after a second Follow, want 3000", inv.AmountPaid)
	}
	if n := len(w.events(t, "payment_intent.status_changed", pi.ID)); n != 1 {
		t.Fatalf("%d intent events after a second Follow, want 2", n)
	}
}

func TestFollowOfTheWholePaymentRefundsTheIntentAndReopensTheInvoice(t *testing.T) {
	w := newWorld(t)
	pi, r := created(t, w, 1, 4000)
	w.bank.create = refund.Execution{ProviderID: "aiia-rf-1", Code: "Succeeded", Status: refund.StatusSucceeded}
	if !follow(t, w, r.ID) {
		t.Fatal("not final")
	}
	if _, states := w.bank.calls(); states != 0 {
		t.Fatalf("state asked %d times of a refund the provider answered at once", states)
	}
	if now := w.readIntent(t, pi.ID); now.RefundedAmount != 4000 || now.Status != payment.IntentRefunded {
		t.Fatalf("intent = refunded %d, %s; want 4000, refunded", now.RefundedAmount, now.Status)
	}
	if inv := w.invoice(t); inv.AmountPaid != 0 || inv.AmountDue != 10000 || inv.Status != invoice.StatusIssued {
		t.Fatalf("invoice = paid %d due %d %s; want 0, 10000, issued", inv.AmountPaid, inv.AmountDue, inv.Status)
	}
	invEvs := w.events(t, "invoice.status_changed", "inv-1")
	if len(invEvs) != 1 || invEvs[0].Data["previous_status"] != invoice.StatusPartiallyPaid || invEvs[0].Data["current_status"] != invoice.StatusIssued {
		t.Fatalf("invoice events = %+v, want partially_paid → issued", invEvs)
	}
	piEvs := w.events(t, "payment_intent.status_changed", pi.ID)
	if len(piEvs) != 1 || piEvs[0].Data["current_status"] != payment.IntentRefunded {
		t.Fatalf("intent events = %+v, want succeeded → refunded", piEvs)
	}
	_, err := w.svc.Create(context.Background(), "ptn", "org-1", actor, refund.CreateInput{PaymentIntentID: pi.ID})
	wantCode(t, "a refunded intent", err, apperr.Conflict, "nothing is left to refund")
}

func TestFollowReleasesAFailedRefund(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	pi, r := created(t, w, 1, 4000)
	w.bank.create = refund.Execution{ProviderID: "aiia-rf-1", Code: "Preparing", Status: refund.StatusPending}
	w.bank.state = refund.Execution{ProviderID: "aiia-rf-1", Code: "Rejected", Status: refund.StatusFailed, FailureReason: "compte clôturé"}
	if !follow(t, w, r.ID) {
		t.Fatal("not final")
	}
	got := w.refund(t, r.ID)
	if got.Status != refund.StatusFailed || got.FailureReason != "compte clôturé" || got.CompletedAt == nil || got.ProviderCode != "Rejected" {
		t.Fatalf("refund = %+v; want failed with the provider's reason", got)
	}
	wantHeld(t, w, "after the failure", pi.ID, 0, 1)
	if now := w.readIntent(t, pi.ID); now.RefundedAmount != 0 || now.Status != payment.IntentSucceeded {
		t.Fatalf("intent = %+v, want it succeeded, nothing refunded", now)
	}
	if inv := w.invoice(t); inv.AmountPaid != 4000 {
		t.Fatalf("invoice amount_paid %d, want 4000", inv.AmountPaid)
	}
	if got := statusChanges(t, w, r.ID); fmt.Sprint(got) != "[pending→failed]" {
		t.Fatalf("refund events %v", got)
	}
	if !follow(t, w, r.ID) || len(statusChanges(t, w, r.ID)) != 1 {
		t.Fatal("a second Follow of a failed refund did something")
	}
	wantHeld(t, w, "after a second Follow", pi.ID, 0, 1)
	// The amount can be refunded again.
	again, err := w.svc.Create(ctx, "ptn", "org-1", actor, refund.CreateInput{PaymentIntentID: pi.ID})
	if err != nil || again.Amount != 4000 {
		t.Fatalf("refund after a failure = %+v, %v; want the whole 4000", again, err)
	}

	// A failure without the provider's reason says its code.
	_, r2 := created(t, w, 2, 100)
	w.bank.state = refund.Execution{ProviderID: "aiia-rf-1", Code: "Cancelled", Status: refund.StatusFailed}
	follow(t, w, r2.ID)
	if got := w.refund(t, r2.ID); got.FailureReason != "the provider reports the refund failed (Cancelled)" {
		t.Fatalf("failure reason %q", got.FailureReason)
	}
}

func TestFollowWhenTheProviderRefusesOrIsAway(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	pi, r := created(t, w, 1, 1000)

	// Unavailable: a retryable error, nothing written, followed again later.
	w.bank.createErr = apperr.Transient("aiia.create_refund", errors.New("503"))
	final, err := w.svc.Follow(ctx, "ptn", "org-1", r.ID)
	if final || !apperr.Retryable(err) {
		t.Fatalf("provider away: final %v, err %v; want a retryable error", final, err)
	}
	if got := w.refund(t, r.ID); got.Status != refund.StatusPending || got.Version != 1 {
		t.Fatalf("refund after a provider outage = %+v", got)
	}
	wantHeld(t, w, "provider away", pi.ID, 1000, 1)

	// Refused for good (its 4xx): failed and released.
	w.bank.createErr = apperr.E("aiia.create_refund", apperr.Invalid, "the payment cannot be refunded")
	if !follow(t, w, r.ID) {
		t.Fatal("a refused refund is final")
	}
	if got := w.refund(t, r.ID); got.Status != refund.StatusFailed || got.FailureReason != "the provider refused the refund: the payment cannot be refunded" {
		t.Fatalf("refused refund = %+v", got)
	}
	wantHeld(t, w, "refused", pi.ID, 0, 1)

	// Still pending at the provider: no write while nothing changes, the
	// provider's new code recorded when it does, no event either way.
	w.bank.createErr = nil
	w.bank.create = refund.Execution{ProviderID: "aiia-rf-2", Code: "Preparing", Status: refund.StatusPending}
	w.bank.state = refund.Execution{ProviderID: "aiia-rf-2", Code: "Preparing", Status: refund.StatusPending}
	_, r2 := createdOf(t, w, 2, 2000, 500)
	if follow(t, w, r2.ID) {
		t.Fatal("a pending refund is not final")
	}
	if got := w.refund(t, r2.ID); got.ProviderID != "aiia-rf-2" || got.Version != 2 {
		t.Fatalf("pending refund = %+v; want the provider's id recorded once", got)
	}
	if follow(t, w, r2.ID) || w.refund(t, r2.ID).Version != 2 {
		t.Fatal("a pending refund without news was written again")
	}
	creates, _ := w.bank.calls()
	w.bank.state.Code = "Processing"
	if follow(t, w, r2.ID) {
		t.Fatal("still pending: not final")
	}
	if got := w.refund(t, r2.ID); got.ProviderCode != "Processing" || got.Version != 3 || got.Status != refund.StatusPending {
		t.Fatalf("pending refund with a new code = %+v", got)
	}
	if c, _ := w.bank.calls(); c != creates {
		t.Fatal("the refund was created at the provider again although its id was recorded")
	}
	if got := statusChanges(t, w, r2.ID); len(got) != 0 {
		t.Fatalf("events of a refund still pending: %v", got)
	}

	// No provider for the method: failed, released.
	noProvider := *w.svc
	noProvider.Providers = map[string]refund.Provider{}
	_, r3 := createdOf(t, w, 3, 2000, 700)
	if final, err := noProvider.Follow(ctx, "ptn", "org-1", r3.ID); !final || err != nil {
		t.Fatalf("no provider: %v, %v", final, err)
	}
	if got := w.refund(t, r3.ID); got.Status != refund.StatusFailed || !strings.Contains(got.FailureReason, "payment_method_unavailable") {
		t.Fatalf("refund without a provider = %+v", got)
	}
	wantHeld(t, w, "no provider", "pi-3", 0, 1)

	// A refund that does not exist (or is another organisation's).
	if _, err := w.svc.Follow(ctx, "ptn", "org-2", r2.ID); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("foreign refund: %v, want not found", err)
	}
}

func TestRequiresActionThenConfirmOrCancel(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	pi, r := created(t, w, 1, 1000)
	action := &refund.Action{Type: "pay_payer_account", Message: "pay the payer's account by bank transfer"}
	w.bank.create = refund.Execution{ProviderID: "aiia-rf-1", Code: "Preparing", Status: refund.StatusPending}
	w.bank.state = refund.Execution{ProviderID: "aiia-rf-1", Code: "PaymentRailsAvailable", Status: refund.StatusRequiresAction, NextAction: action}

	_, err := w.svc.Confirm(ctx, "ptn", "org-1", r.ID, actor)
	wantCode(t, "confirm a pending refund", err, apperr.Conflict, "the refund is pending: only a refund in requires_action waits for the organization")
	_, err = w.svc.Cancel(ctx, "ptn", "org-1", r.ID, actor)
	wantCode(t, "cancel a pending refund", err, apperr.Conflict, "the refund is pending")

	if !follow(t, w, r.ID) {
		t.Fatal("a refund waiting for the organisation needs no more following")
	}
	got := w.refund(t, r.ID)
	if got.Status != refund.StatusRequiresAction || got.NextAction == nil || *got.NextAction != *action || got.CompletedAt != nil {
		t.Fatalf("refund = %+v; want requires_action with its next action", got)
	}
	wantHeld(t, w, "waiting", pi.ID, 1000, 1)
	if got := statusChanges(t, w, r.ID); fmt.Sprint(got) != "[pending→requires_action]" {
		t.Fatalf("events %v", got)
	}
	creates, states := w.bank.calls()
	if !follow(t, w, r.ID) {
		t.Fatal("Follow again: not final")
	}
	if c, s := w.bank.calls(); c != creates || s != states || len(statusChanges(t, w, r.ID)) != 1 || w.refund(t, r.ID).Version != got.Version {
		t.Fatal("a second Follow of a refund waiting for the organisation did something")
	}

	if _, err := w.svc.Confirm(ctx, "ptn", "org-2", r.ID, actor); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("confirm another organisation's refund: %v", err)
	}
	confirmed, err := w.svc.Confirm(ctx, "ptn", "org-1", r.ID, actor)
	if err != nil || confirmed.Status != refund.StatusSucceeded || confirmed.NextAction != nil || confirmed.CompletedAt == nil {
		t.Fatalf("confirmed = %+v, %v", confirmed, err)
	}
	if now := w.readIntent(t, pi.ID); now.RefundedAmount != 1000 || now.Status != payment.IntentPartiallyRefunded {
		t.Fatalf("intent after the confirmation = %+v", now)
	}
	if inv := w.invoice(t); inv.AmountPaid != 3000 {
		t.Fatalf("invoice amount_paid %d, want 3000", inv.AmountPaid)
	}
	_, err = w.svc.Confirm(ctx, "ptn", "org-1", r.ID, actor)
	wantCode(t, "confirm twice", err, apperr.Conflict, "the refund is succeeded")
	if inv := w.invoice(t); inv.AmountPaid != 3000 {
		t.Fatalf("invoice amount_paid %d after a second confirmation, want 3000", inv.AmountPaid)
	}

	// Another waits; cancelled, its amount is refundable again.
	r2, err := w.svc.Create(ctx, "ptn", "org-1", actor, refund.CreateInput{PaymentIntentID: pi.ID})
	if err != nil || r2.Amount != 3000 {
		t.Fatalf("the rest = %+v, %v", r2, err)
	}
	w.bank.create = refund.Execution{ProviderID: "aiia-rf-2", Code: "PaymentRailsUnavailable", Status: refund.StatusRequiresAction,
		NextAction: &refund.Action{Type: "collect_payer_account", Message: "ask the payer"}}
	if !follow(t, w, r2.ID) {
		t.Fatal("not final")
	}
	wantHeld(t, w, "second waiting", pi.ID, 4000, 2)
	cancelled, err := w.svc.Cancel(ctx, "ptn", "org-1", r2.ID, actor)
	if err != nil || cancelled.Status != refund.StatusCancelled || cancelled.FailureReason != "cancelled by the organization" || cancelled.NextAction != nil {
		t.Fatalf("cancelled = %+v, %v", cancelled, err)
	}
	wantHeld(t, w, "after the cancel", pi.ID, 1000, 2)
	if got := statusChanges(t, w, r2.ID); fmt.Sprint(got) != "[pending→requires_action requires_action→cancelled]" {
		t.Fatalf("events %v", got)
	}
	_, err = w.svc.Cancel(ctx, "ptn", "org-1", r2.ID, actor)
	wantCode(t, "cancel twice", err, apperr.Conflict, "the refund is cancelled")
	wantHeld(t, w, "after a second cancel", pi.ID, 1000, 2)
	if inv := w.invoice(t); inv.AmountPaid != 3000 {
		t.Fatalf("invoice amount_paid %d after a cancel, want 3000", inv.AmountPaid)
	}
	rest, err := w.svc.Create(ctx, "ptn", "org-1", actor, refund.CreateInput{PaymentIntentID: pi.ID})
	if err != nil || rest.Amount != 3000 {
		t.Fatalf("after the cancel = %+v, %v; want the 3000 refundable again", rest, err)
	}
}

// Two followers of one refund (a duplicate message): the second finishes
// while the first waits on the provider; the first then finds the refund
// changed and leaves it, so the refund is settled once.
func TestFollowersOfOneRefundSettleItOnce(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	pi, r := created(t, w, 1, 1000)
	w.bank.create = refund.Execution{ProviderID: "aiia-rf-1", Code: "Preparing", Status: refund.StatusPending}
	w.bank.state = refund.Execution{ProviderID: "aiia-rf-1", Code: "Succeeded", Status: refund.StatusSucceeded}
	w.bank.during = func() {
		if final, err := w.svc.Follow(ctx, "ptn", "org-1", r.ID); !final || err != nil {
			t.Errorf("the other follower: %v, %v", final, err)
		}
	}
	final, err := w.svc.Follow(ctx, "ptn", "org-1", r.ID)
	if final || err != nil {
		t.Fatalf("the late follower: final %v, err %v; want to leave it to the next poll", final, err)
	}
	if now := w.readIntent(t, pi.ID); now.RefundedAmount != 1000 {
		t.Fatalf("refunded %d, want 1000 once", now.RefundedAmount)
	}
	if inv := w.invoice(t); inv.AmountPaid != 3000 {
		t.Fatalf("invoice amount_paid %d, want 3000", inv.AmountPaid)
	}
	if got := statusChanges(t, w, r.ID); len(got) != 1 {
		t.Fatalf("events %v, want one", got)
	}
	if !follow(t, w, r.ID) {
		t.Fatal("the next poll: not final")
	}
}

// A settle whose intent changed between read and write (another refund
// accepted meanwhile) reads it again and keeps the new reservation.
func TestSettleReadsAgainWhenTheIntentChanged(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	pi, r := created(t, w, 1, 1000)
	rs := &raceStore{Store: w.store}
	svc := *w.svc
	svc.Store = rs
	rs.afterInvoice = func() {
		if _, err := w.svc.Create(ctx, "ptn", "org-1", actor, refund.CreateInput{PaymentIntentID: pi.ID, Amount: amount(500)}); err != nil {
			t.Errorf("the other refund: %v", err)
		}
	}
	w.bank.create = refund.Execution{ProviderID: "aiia-rf-1", Code: "Succeeded", Status: refund.StatusSucceeded}
	if final, err := svc.Follow(ctx, "ptn", "org-1", r.ID); !final || err != nil {
		t.Fatalf("Follow: %v, %v", final, err)
	}
	if rs.invoiceReads != 2 || fmt.Sprint(w.waits()) != "[3ms]" {
		t.Fatalf("invoice read %d times, waits %v; want a second attempt after 3ms", rs.invoiceReads, w.waits())
	}
	now := w.readIntent(t, pi.ID)
	if now.RefundedAmount != 1000 || now.RefundReserved != 1500 || len(now.RefundIDs) != 2 || now.Status != payment.IntentPartiallyRefunded {
		t.Fatalf("intent = refunded %d reserved %d for %v %s; want 1000, 1500, both refunds", now.RefundedAmount, now.RefundReserved, now.RefundIDs, now.Status)
	}
	if inv := w.invoice(t); inv.AmountPaid != 3000 {
		t.Fatalf("invoice amount_paid %d, want 3000", inv.AmountPaid)
	}
}

func TestCardRefundsAnswerAtOnce(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.svc.Providers[payment.MethodCard] = refund.Cards{Processor: payment.SandboxCards{NewID: w.newID}}
	pi := w.intent(t, 1, 2000, payment.MethodCard, true)
	r, err := w.svc.Create(ctx, "ptn", "org-1", actor, refund.CreateInput{PaymentIntentID: pi.ID, Amount: amount(500)})
	if err != nil {
		t.Fatal(err)
	}
	if !follow(t, w, r.ID) {
		t.Fatal("not final")
	}
	got := w.refund(t, r.ID)
	if got.Status != refund.StatusSucceeded || got.ProviderID != "cardrf-"+r.ID {
		t.Fatalf("card refund = %+v", got)
	}
	if now := w.readIntent(t, pi.ID); now.RefundedAmount != 500 || now.Status != payment.IntentPartiallyRefunded {
		t.Fatalf("intent = %+v", now)
	}
	if inv := w.invoice(t); inv.AmountPaid != 1500 {
		t.Fatalf("invoice amount_paid %d, want 1500", inv.AmountPaid)
	}
}

func TestListsOfRefunds(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	pi1 := w.intent(t, 1, 4000, payment.MethodSEPA, true)
	pi2 := w.intent(t, 2, 3000, payment.MethodSEPA, true)
	var ids []string
	for _, p := range []payment.Intent{pi1, pi2, pi1, pi1} {
		r, err := w.svc.Create(ctx, "ptn", "org-1", actor, refund.CreateInput{PaymentIntentID: p.ID, Amount: amount(100)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	idsOf := func(rs []refund.Refund) string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return strings.Join(out, " ")
	}
	rs, err := w.svc.ListForIntent(ctx, "ptn", "org-1", pi1.ID)
	if err != nil || idsOf(rs) != strings.Join([]string{ids[0], ids[2], ids[3]}, " ") {
		t.Fatalf("pi-1's refunds = %s, %v", idsOf(rs), err)
	}
	if _, err := w.svc.ListForIntent(ctx, "ptn", "org-2", pi1.ID); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("another organisation's intent: %v", err)
	}
	// Narrowed to an intent: its refunds, paged in memory, with a total.
	p, err := w.svc.List(ctx, "ptn", "org-1", listing.Query{Page: 1, Size: 2}, refund.Filter{PaymentIntentID: pi1.ID})
	if err != nil || idsOf(p.Items) != ids[0]+" "+ids[2] || p.Total != 3 || p.Next != ids[2] {
		t.Fatalf("pi-1, page 1 = %+v, %v", p, err)
	}
	p, err = w.svc.List(ctx, "ptn", "org-1", listing.Query{Page: 1, Size: 2, Cursor: p.Next}, refund.Filter{PaymentIntentID: pi1.ID})
	if err != nil || idsOf(p.Items) != ids[3] || p.Next != "" {
		t.Fatalf("pi-1, page 2 = %+v, %v", p, err)
	}
	p, err = w.svc.List(ctx, "ptn", "org-1", listing.Query{Page: 1, Size: 10}, refund.Filter{})
	if err != nil || idsOf(p.Items) != strings.Join(ids, " ") {
		t.Fatalf("the organisation's refunds = %+v, %v", p, err)
	}
	_, err = w.svc.List(ctx, "ptn", "org-1", listing.Query{Page: 1, Size: 10}, refund.Filter{Status: "done"})
	wantField(t, "unknown status", err, "status", "status must be one of pending, requires_action, succeeded, failed, cancelled")
	_, err = w.svc.List(ctx, "ptn", "org-1", listing.Query{Page: 1, Size: 10}, refund.Filter{CreatedFrom: start, CreatedTo: start.Add(-time.Second)})
	wantField(t, "reversed dates", err, "created_to", "created_to is before created_from")
	if got, err := w.svc.Get(ctx, "ptn", "org-1", ids[1]); err != nil || got.PaymentIntentID != pi2.ID {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if _, err := w.svc.Get(ctx, "ptn-2", "org-1", ids[1]); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("another partner's refund: %v", err)
	}
}

func TestStatusEvent(t *testing.T) {
	at := time.Date(2026, 11, 21, 11, 0, 0, 0, time.FixedZone("CET", 3600))
	before := refund.Refund{ID: "ref-1", PaymentIntentID: "pi-1", Amount: 1000, Status: refund.StatusPending, PartnerID: "ptn", OrgID: "org-1"}
	after := before
	after.Status = refund.StatusSucceeded
	e, err := refund.StatusEvent("evt-1", at, actor, before, after)
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != "evt-1" || e.Type != "refund.status_changed" || e.PartnerID != "ptn" || e.OrganizationID != "org-1" || e.Actor != actor ||
		!e.Timestamp.Equal(at) || e.Timestamp.Location() != time.UTC {
		t.Fatalf("event = %+v", e)
	}
	var data struct {
		RefundID        string `json:"refund_id"`
		PaymentIntentID string `json:"payment_intent_id"`
		Previous        string `json:"previous_status"`
		Current         string `json:"current_status"`
		Refund          struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Amount int64  `json:"amount"`
		} `json:"refund"`
	}
	if err := json.Unmarshal(e.Data, &data); err != nil {
		t.Fatal(err)
	}
	if data.RefundID != "ref-1" || data.PaymentIntentID != "pi-1" || data.Previous != "pending" || data.Current != "succeeded" ||
		data.Refund.ID != "ref-1" || data.Refund.Status != "succeeded" || data.Refund.Amount != 1000 {
		t.Fatalf("data = %s", e.Data)
	}
	if strings.Contains(string(e.Data), "ptn") {
		t.Fatalf("data names the partner: %s", e.Data)
	}
	a := e.Audit
	if a.ResourceType != "refund" || a.ResourceID != "ref-1" || a.Action != "status_changed" ||
		string(a.Before) != `{"status":"pending"}` || string(a.After) != `{"status":"succeeded"}` {
		t.Fatalf("audit = %+v (before %s, after %s)", a, a.Before, a.After)
	}
}

// documented makes the world's invoice one issued with its documents kept:
// numbered, one line of 100,00 € TTC at 20 %.
func documented(t *testing.T) func(*invoice.Invoice) {
	return func(inv *invoice.Invoice) {
		var q money.Quantity
		var r money.Rate
		if err := q.UnmarshalJSON([]byte("1")); err != nil {
			t.Fatal(err)
		}
		if err := r.UnmarshalJSON([]byte("20")); err != nil {
			t.Fatal(err)
		}
		tot, err := money.Compute([]money.Line{{Quantity: q, UnitPrice: 8334, Rate: r}})
		if err != nil || tot.Gross != 10001 {
			t.Fatalf("the line's total: %+v %v", tot, err)
		}
		inv.InvoiceNumber, inv.IssueDate, inv.DocumentsVersion = "FAC-2026-00001", "2026-11-20", 2
		inv.Payer = invoice.Payer{Name: "Jean Dupont", Email: "jean@example.test",
			Address: &organization.Address{Line1: "2 rue", PostalCode: "69002", City: "Lyon", Country: "FR"}}
		inv.Seller = invoice.Seller{Name: "Alpha", LegalName: "Alpha SAS", SIRET: "73282932000074", VATNumber: "FR44732829320",
			Address: organization.Address{Line1: "1 rue", PostalCode: "75001", City: "Paris", Country: "FR"}}
		inv.LineItems = []invoice.LineItem{{Description: "Prestation", Quantity: q, UnitPrice: 8334, VATRate: r, NetAmount: tot.LineNet[0]}}
		inv.VATBreakdown = []invoice.VATLine{{VATRate: r, NetAmount: tot.ByRate[0].NetAmount, VATAmount: tot.ByRate[0].VATAmount}}
		inv.TotalNet, inv.TotalVAT, inv.TotalAmount, inv.AmountDue = tot.Net, tot.VAT, tot.Gross, tot.Gross
	}
}

// Each refund that succeeds on an invoice keeping documents makes its
// credit note in its settle: refunds settling at once on one invoice take
// the organisation's next numbers without gap or double, each names its
// refund and amount, its documents are kept, and a second follow makes no
// other. A refund the organisation confirms makes one too.
func TestSucceededRefundsMakeTheirCreditNotes(t *testing.T) {
	w := newWorldOf(t, documented(t))
	ctx := context.Background()
	w.bank.create = refund.Execution{ProviderID: "aiia-rf", Code: "Succeeded", Status: refund.StatusSucceeded}
	amounts := map[string]int64{}
	var ids []string
	for n, amt := range []int64{1000, 3000, 1} {
		_, r := createdOf(t, w, n+1, 3000, amt)
		ids, amounts[r.ID] = append(ids, r.ID), amt
	}
	var wg sync.WaitGroup
	for _, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := w.svc.Follow(ctx, "ptn", "org-1", id); err != nil {
				t.Errorf("Follow(%s): %v", id, err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	inv := w.invoice(t)
	if len(inv.CreditNotes) != 3 {
		t.Fatalf("credit notes %+v, want 3", inv.CreditNotes)
	}
	numbers := map[string]bool{}
	for _, cn := range inv.CreditNotes {
		numbers[cn.Number] = true
		r := w.refund(t, cn.RefundID)
		if r.CreditNoteNumber != cn.Number || cn.Amount != amounts[r.ID] || r.Status != refund.StatusSucceeded ||
			!strings.HasPrefix(cn.Reason, "Remboursement de la facture FAC-2026-00001") || cn.IssueDate != "2026-11-21" {
			t.Errorf("credit note %+v of refund %+v", cn, r)
		}
		for _, kind := range []documents.Kind{documents.PDF, documents.FacturX, documents.CII} {
			if d, err := w.docs.ReadCredit(ctx, inv, cn.Number, kind, ""); err != nil || len(d.Body) == 0 {
				t.Errorf("credit note %s's %s: %v", cn.Number, kind, err)
			}
		}
	}
	if fmt.Sprint(len(numbers), numbers["AV-2026-00001"], numbers["AV-2026-00002"], numbers["AV-2026-00003"]) != "3 true true true" {
		t.Errorf("numbers %v, want AV-2026-00001..3", numbers)
	}
	if inv.AmountPaid != 9000-4001 {
		t.Errorf("invoice amount_paid %d, want %d", inv.AmountPaid, 9000-4001)
	}
	for _, id := range ids {
		follow(t, w, id)
	}
	if n := len(w.invoice(t).CreditNotes); n != 3 {
		t.Errorf("%d credit notes after following again, want 3", n)
	}
	// Every settle gave the series back: it is free, at 3.
	if last, err := w.store.AcquireCreditSeries(ctx, "ptn", "org-1", "2026", "test", time.Now().Add(time.Second)); err != nil || last != 3 {
		t.Errorf("the counter is at %d, %v; want 3, free", last, err)
	}
	if err := w.store.ReleaseCreditSeries(ctx, "ptn", "org-1", "2026", "test"); err != nil {
		t.Fatal(err)
	}

	// The organisation pays one itself and confirms it: the next number.
	w.bank.create = refund.Execution{ProviderID: "aiia-rf-4", Code: "PAYMENT_RAILS_AVAILABLE", Status: refund.StatusRequiresAction,
		NextAction: &refund.Action{Type: "pay_payer_account", Message: "pay it"}}
	_, r := createdOf(t, w, 4, 500, 500)
	follow(t, w, r.ID)
	if got := w.refund(t, r.ID); got.Status != refund.StatusRequiresAction || got.CreditNoteNumber != "" {
		t.Fatalf("a refund waiting for the organisation: %+v", got)
	}
	confirmed, err := w.svc.Confirm(ctx, "ptn", "org-1", r.ID, actor)
	if err != nil || confirmed.CreditNoteNumber != "AV-2026-00004" {
		t.Fatalf("confirmed %+v, %v; want credit note AV-2026-00004", confirmed, err)
	}
	if cns := w.invoice(t).CreditNotes; len(cns) != 4 || cns[3].RefundID != r.ID || cns[3].Amount != 500 {
		t.Errorf("credit notes after the confirmation: %+v", cns)
	}
}

// A refund the provider still moves while it waits for the organisation
// (the payer is connecting the account to refund): followed until the
// account is known, with one event when the status changes, one when
// the next action does, none for the provider's code alone.
func TestRequiresActionWhileTheProviderStillMovesIt(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	_, r := created(t, w, 1, 1000)
	closes := start.Add(48 * time.Hour)
	collect := &refund.Action{Type: "collect_payer_account", Message: "send the payer this link", URL: "https://aiia.test/payment-rails/start/x", ExpiresAt: &closes}
	w.bank.create = refund.Execution{ProviderID: "aiia-rf-1", Code: "PREPARING", Status: refund.StatusPending}
	w.bank.state = refund.Execution{ProviderID: "aiia-rf-1", Code: "PAYMENT_RAILS_UNAVAILABLE", Status: refund.StatusRequiresAction, NextAction: collect, Awaiting: true}
	if follow(t, w, r.ID) {
		t.Fatal("a refund whose payer is connecting an account is final")
	}
	got := w.refund(t, r.ID)
	if got.Status != refund.StatusRequiresAction || !got.Awaiting || got.NextAction == nil || got.NextAction.URL != collect.URL || !got.NextAction.ExpiresAt.Equal(closes) {
		t.Fatalf("refund = %+v %+v", got, got.NextAction)
	}
	v := got.Version
	if follow(t, w, r.ID) || w.refund(t, r.ID).Version != v {
		t.Fatal("the same answer again wrote something, or ended the following")
	}
	w.bank.state.Code = "CAPTURING_SOURCE_ACCOUNT"
	if follow(t, w, r.ID) || w.refund(t, r.ID).Version != v+1 || w.refund(t, r.ID).ProviderCode != "CAPTURING_SOURCE_ACCOUNT" {
		t.Fatal("the provider's new code is not recorded")
	}
	if n := len(w.events(t, "refund.next_action_changed", r.ID)); n != 0 {
		t.Fatalf("%d next_action_changed events for a code alone", n)
	}
	acct := &refund.PayerAccount{IBAN: "FR7630006000011234567890189", AccountHolderName: "Jeanne Martin"}
	w.bank.state = refund.Execution{ProviderID: "aiia-rf-1", Code: "PAYMENT_RAILS_AVAILABLE", Status: refund.StatusRequiresAction,
		NextAction: &refund.Action{Type: "pay_payer_account", Message: "pay it", PayerAccount: acct}}
	if !follow(t, w, r.ID) {
		t.Fatal("a refund whose payer's account is known is still followed")
	}
	got = w.refund(t, r.ID)
	if got.Awaiting || got.NextAction == nil || got.NextAction.PayerAccount == nil || *got.NextAction.PayerAccount != *acct || got.NextAction.URL != "" {
		t.Fatalf("refund = %+v %+v", got, got.NextAction)
	}
	evs := w.events(t, "refund.next_action_changed", r.ID)
	if len(evs) != 1 || evs[0].Data["previous_next_action_type"] != "collect_payer_account" || evs[0].Data["next_action_type"] != "pay_payer_account" {
		t.Fatalf("next_action_changed events %+v", evs)
	}
	if fmt.Sprint(statusChanges(t, w, r.ID)) != "[pending→requires_action]" {
		t.Fatalf("status events %v", statusChanges(t, w, r.ID))
	}
	creates, states := w.bank.calls()
	if !follow(t, w, r.ID) {
		t.Fatal("not final")
	}
	if c, s := w.bank.calls(); c != creates || s != states {
		t.Fatal("a refund that waits for the organisation alone is still read at the provider")
	}
	confirmed, err := w.svc.Confirm(ctx, "ptn", "org-1", r.ID, actor)
	if err != nil || confirmed.Status != refund.StatusSucceeded || confirmed.NextAction != nil {
		t.Fatalf("confirmed = %+v, %v", confirmed, err)
	}
	if got := w.refund(t, r.ID); got.Awaiting || got.NextAction != nil {
		t.Fatalf("a confirmed refund keeps the payer's account: %+v", got)
	}
}

// A provider that cannot start the refund yet (the payment is not
// credited to the organisation) answers pending without an id: nothing is
// read at the provider, and the next poll asks again.
func TestPendingBeforeTheProviderHasTheRefund(t *testing.T) {
	w := newWorld(t)
	_, r := created(t, w, 1, 1000)
	w.bank.create = refund.Execution{Code: "awaiting_credit", Status: refund.StatusPending}
	for i := 1; i <= 2; i++ {
		if follow(t, w, r.ID) {
			t.Fatal("final")
		}
		if c, s := w.bank.calls(); c != i || s != 0 {
			t.Fatalf("poll %d: %d creates, %d states", i, c, s)
		}
	}
	if got := w.refund(t, r.ID); got.Status != refund.StatusPending || got.ProviderID != "" || got.ProviderCode != "awaiting_credit" {
		t.Fatalf("refund = %+v", got)
	}
	w.bank.create = refund.Execution{Code: "not_credited", Status: refund.StatusRequiresAction, NextAction: &refund.Action{Type: "pay_payer_account", Message: "pay it yourself"}}
	if !follow(t, w, r.ID) {
		t.Fatal("not final")
	}
	if got := w.refund(t, r.ID); got.Status != refund.StatusRequiresAction || got.NextAction.Type != "pay_payer_account" {
		t.Fatalf("refund = %+v", got)
	}
}
