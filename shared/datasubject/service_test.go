package datasubject_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/modupay/modupay/infra/engines/enginetest"
	"github.com/modupay/modupay/infra/stacktest"
	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/datasubject"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/dynamo"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/organization"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/refund"
	"github.com/modupay/modupay/shared/wiring"
)

// The rights over the real store on DynamoDB Local.

func TestMain(m *testing.M) { enginetest.Main(m) }

var start = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

var actor = event.Actor{ID: "cli-admin", Type: "organization"}

// counting is the DynamoDB client, counting transactions and their sizes.
type counting struct {
	dynamo.DB
	mu    sync.Mutex
	sizes []int
}

func (c *counting) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, o ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	c.mu.Lock()
	c.sizes = append(c.sizes, len(in.TransactItems))
	c.mu.Unlock()
	return c.DB.TransactWriteItems(ctx, in, o...)
}

func (c *counting) reset() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.sizes
	c.sizes = nil
	return s
}

type world struct {
	db     *counting
	store  *dynamo.Store
	svc    *datasubject.Service
	seq    int
	number int64
	mu     sync.Mutex
}

func newWorld(t *testing.T) *world {
	t.Helper()
	st := stacktest.New(t)
	cfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion(st.Config.Region),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{db: &counting{DB: wiring.NewDynamoDB(cfg, st.Config.DynamoDBEndpoint)}}
	clk := stacktest.NewClock(start)
	w.store = dynamo.New(w.db, st.Config.Table, clk.Now)
	w.svc = &datasubject.Service{Store: w.store, Now: clk.Now, NewID: w.newID}
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
	a := department.BankAccount{ID: "ba-1", PartnerID: "ptn", DepartmentID: d.ID, OrgID: "org-1", IBAN: "FR7630004000031234567890143", BIC: "BNPAFRPPXXX",
		AccountName: "Compte", Status: department.AccountVerified, Version: 1}
	if err := w.store.CreateBankAccount(ctx, d, d, a, []event.Event{w.event(t)}); err != nil {
		t.Fatal(err)
	}
	return w
}

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

// invoice writes an issued invoice of the payer name <email>.
func (w *world) invoice(t *testing.T, name, email string) invoice.Invoice {
	t.Helper()
	w.number++
	inv := invoice.Invoice{ID: w.newID("inv"), PartnerID: "ptn", OrgID: "org-1", DepartmentID: "dept-1", InvoiceNumber: fmt.Sprintf("FAC-2026-%05d", w.number),
		Status: invoice.StatusIssued, Currency: "EUR", DueDate: "2030-01-01", TotalAmount: 10000, AmountDue: 10000, CreatedAt: start, UpdatedAt: start, Version: 1,
		Payer:        invoice.Payer{Name: name, Email: email, Address: &organization.Address{Line1: "15 rue de la Paix", PostalCode: "69002", City: "Lyon", Country: "FR"}},
		PaymentTerms: "Paiement sous 30 jours",
		LineItems:    []invoice.LineItem{{Description: "Eau de " + name, UnitPrice: 10000, NetAmount: 10000}}}
	if err := w.store.CreateInvoice(context.Background(), inv, "2026", w.number, w.event(t)); err != nil {
		t.Fatal(err)
	}
	return inv
}

// intent adds a link and its intent in status to the invoice.
func (w *world) intent(t *testing.T, inv invoice.Invoice, status, returnURL string) payment.Intent {
	t.Helper()
	ctx := context.Background()
	inv, err := w.store.GetInvoice(ctx, "ptn", "org-1", inv.ID)
	if err != nil {
		t.Fatal(err)
	}
	l := payment.Link{ID: w.newID("pl"), InvoiceID: inv.ID, Amount: 10000, Currency: "EUR", Status: payment.LinkActive, ExpiresAt: start.Add(time.Hour),
		CreatedAt: start, PartnerID: "ptn", OrgID: "org-1", DepartmentID: "dept-1", BankAccountID: "ba-1", Token: w.newID("tok"), ReturnURL: returnURL, Version: 1}
	pi := payment.Intent{ID: w.newID("pi"), InvoiceID: inv.ID, PaymentLinkID: l.ID, Amount: 10000, Currency: "EUR", Status: status,
		CreatedAt: start, UpdatedAt: start, PartnerID: "ptn", OrgID: "org-1", Version: 1}
	l.PaymentIntentID = pi.ID
	if err := w.store.CreateLink(ctx, inv, l, pi, w.event(t)); err != nil {
		t.Fatal(err)
	}
	return pi
}

func (w *world) refund(t *testing.T, pi payment.Intent, status, reason string) refund.Refund {
	t.Helper()
	r := refund.Refund{ID: w.newID("ref"), PaymentIntentID: pi.ID, InvoiceID: pi.InvoiceID, Amount: 100, Currency: "EUR", Status: status, Reason: reason,
		CreatedAt: start, UpdatedAt: start, PartnerID: "ptn", OrgID: "org-1", Version: 1}
	if err := w.store.CreateRefund(context.Background(), pi, r, w.event(t)); err != nil {
		t.Fatal(err)
	}
	return r
}

func (w *world) erase(t *testing.T, email string) (datasubject.ErasureResult, error) {
	t.Helper()
	return w.svc.Erase(context.Background(), "ptn", "org-1", actor, datasubject.EraseInput{Email: email, Reason: "demande RGPD"})
}

// An erasure larger than one transaction commits in chunks of at most 100
// items, each with its event; refunds and links naming the payer are
// scrubbed; what is kept is kept; the other payer is untouched; a second
// erasure changes nothing; the export then holds nothing personal.
func TestEraseInChunks(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	var invs []invoice.Invoice
	for i := 0; i < 60; i++ {
		invs = append(invs, w.invoice(t, "Jean Dupont", "jean.dupont@example.com"))
	}
	other := w.invoice(t, "Marie Curie", "marie.curie@example.com")
	pi := w.intent(t, invs[0], payment.IntentSucceeded, "https://app.example/back?email=jean.dupont%40example.com")
	r1 := w.refund(t, pi, refund.StatusSucceeded, "Geste pour Jean Dupont")
	r2 := w.refund(t, pi, refund.StatusSucceeded, "Remise")
	w.db.reset()

	res, err := w.erase(t, " Jean.Dupont@Example.com")
	if err != nil {
		t.Fatal(err)
	}
	if res.InvoicesAnonymized != 60 || res.RefundsAnonymized != 1 || res.PaymentLinksAnonymized != 1 || res.HasMore {
		t.Errorf("result = %+v", res)
	}
	sizes := w.db.reset()
	if len(sizes) != 2 {
		t.Errorf("transactions = %v, want 2 (60 invoices and their index entries do not fit one)", sizes)
	}
	for _, n := range sizes {
		if n > datasubject.MaxChunkItems {
			t.Errorf("a transaction of %d items", n)
		}
	}
	placeholder := invoice.ErasedEmail(invoice.EmailHash("jean.dupont@example.com"))
	for _, before := range invs {
		got, err := w.store.GetInvoice(ctx, "ptn", "org-1", before.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Payer.Name != invoice.ErasedName || got.Payer.Email != placeholder || got.Payer.Address != nil || got.Payer.ErasedAt == nil {
			t.Fatalf("%s payer = %+v", got.ID, got.Payer)
		}
		if got.InvoiceNumber != before.InvoiceNumber || got.TotalAmount != before.TotalAmount || got.Status != before.Status || got.DueDate != before.DueDate ||
			got.LineItems[0].NetAmount != 10000 || got.LineItems[0].Description != "Eau de Anonymisé" || got.Version < before.Version+1 {
			t.Fatalf("%s kept fields changed: %+v", got.ID, got)
		}
	}
	if got, _ := w.store.GetRefund(ctx, "ptn", "org-1", r1.ID); got.Reason != "Geste pour Anonymisé" || got.Amount != 100 {
		t.Errorf("refund naming the payer: %q %d", got.Reason, got.Amount)
	}
	if got, _ := w.store.GetRefund(ctx, "ptn", "org-1", r2.ID); got.Reason != "Remise" || got.Version != 1 {
		t.Errorf("refund not naming the payer was rewritten: %+v", got)
	}
	if l, _ := w.store.GetLink(ctx, "ptn", "org-1", pi.PaymentLinkID); strings.Contains(l.ReturnURL, "dupont") {
		t.Errorf("link return URL = %s", l.ReturnURL)
	}
	if got, _ := w.store.GetInvoice(ctx, "ptn", "org-1", other.ID); got.Payer.Name != "Marie Curie" {
		t.Errorf("another payer erased: %+v", got.Payer)
	}
	// Nothing left: 200 with zero counts, no write.
	again, err := w.erase(t, "jean.dupont@example.com")
	if err != nil || again.InvoicesAnonymized != 0 || !again.ErasedAt.Equal(res.ErasedAt) {
		t.Errorf("second erasure = %+v, %v", again, err)
	}
	if s := w.db.reset(); len(s) != 0 {
		t.Errorf("a second erasure wrote %v", s)
	}
	ex, err := w.svc.Export(ctx, "ptn", "org-1", "jean.dupont@example.com", listing.Query{Page: 1, Size: 10})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(ex)
	if len(ex.Invoices) != 0 || ex.ErasedAt == nil || strings.Contains(string(b), "Dupont") || !strings.Contains(string(b), `"audit_logs":null`) {
		t.Errorf("export after erasure = %s", b)
	}
}

// More invoices than one request erases: has_more, and the next request
// resumes where the first stopped.
func TestEraseResumes(t *testing.T) {
	w := newWorld(t)
	for i := 0; i < datasubject.MaxErasePerRequest+5; i++ {
		w.invoice(t, "Jean Dupont", "jean@example.com")
	}
	first, err := w.erase(t, "jean@example.com")
	if err != nil || first.InvoicesAnonymized != datasubject.MaxErasePerRequest || !first.HasMore {
		t.Fatalf("first = %+v, %v", first, err)
	}
	second, err := w.erase(t, "jean@example.com")
	if err != nil || second.InvoicesAnonymized != 5 || second.HasMore {
		t.Fatalf("second = %+v, %v", second, err)
	}
}

// A payment processing at the bank, or a refund pending, refuses the
// erasure before anything is written.
func TestEraseRefusedWhileMoneyMoves(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := w.invoice(t, "Jean Dupont", "jean@example.com")
	b := w.invoice(t, "Jean Dupont", "jean@example.com")
	w.intent(t, b, payment.IntentProcessing, "")
	w.db.reset()
	_, err := w.erase(t, "jean@example.com")
	if apperr.CodeOf(err) != apperr.Conflict || !strings.Contains(err.Error(), "processing") {
		t.Fatalf("err = %v, want a conflict naming the processing payment", err)
	}
	if s := w.db.reset(); len(s) != 0 {
		t.Errorf("a refused erasure wrote %v", s)
	}
	if got, _ := w.store.GetInvoice(ctx, "ptn", "org-1", a.ID); got.Payer.Name != "Jean Dupont" {
		t.Errorf("payer = %+v", got.Payer)
	}

	c := w.invoice(t, "Paul Martin", "paul@example.com")
	paid := w.intent(t, c, payment.IntentSucceeded, "")
	w.refund(t, paid, refund.StatusPending, "")
	if _, err := w.erase(t, "paul@example.com"); apperr.CodeOf(err) != apperr.Conflict || !strings.Contains(err.Error(), "pending") {
		t.Fatalf("err = %v, want a conflict naming the pending refund", err)
	}
}

// Unknown, malformed; the payer index follows a changed email; another
// organisation's id finds nothing.
func TestIndexAndBadInput(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	inv := w.invoice(t, "Jean Dupont", "jean@example.com")
	if _, err := w.erase(t, "nobody@example.com"); apperr.CodeOf(err) != apperr.NotFound || paramOf(err) != "email" {
		t.Errorf("unknown email: %v", err)
	}
	if _, err := w.erase(t, "not an email"); apperr.CodeOf(err) != apperr.Invalid || paramOf(err) != "email" {
		t.Errorf("malformed email: %v", err)
	}
	if _, err := w.svc.Erase(ctx, "ptn", "org-other", actor, datasubject.EraseInput{Email: "jean@example.com", Reason: "x"}); apperr.CodeOf(err) != apperr.NotFound || paramOf(err) == "email" {
		t.Errorf("another organisation: %v, want the organisation's 404", err)
	}
	after := inv
	after.Payer.Email, after.Version = "Jean.Martin@example.com", 2
	if err := w.store.UpdateInvoice(ctx, inv, after, w.event(t)); err != nil {
		t.Fatal(err)
	}
	old, _ := w.store.PayerInvoices(ctx, "ptn", "org-1", invoice.EmailHash("jean@example.com"), listing.Query{Page: 1, Size: 10})
	moved, _ := w.store.PayerInvoices(ctx, "ptn", "org-1", invoice.EmailHash("jean.martin@example.com"), listing.Query{Page: 1, Size: 10})
	if len(old.Items) != 0 || len(moved.Items) != 1 || moved.Total != 1 {
		t.Errorf("index after the email changed: old %v, new %v", old, moved)
	}
}

func paramOf(err error) string {
	var e *apperr.Error
	if errors.As(err, &e) {
		return e.Param
	}
	return ""
}
