package payments_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/handlers/payments"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/openapi"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/refund"
)

// refundStore keeps intents, invoices and refunds of partner ptn-1 in
// memory, with the store's conditions (the reservation within the intent's
// amount, at most refund.MaxPerIntent refunds, versions).
type refundStore struct {
	mu       sync.Mutex
	intents  map[string]payment.Intent
	invoices map[string]invoice.Invoice
	refunds  map[string]refund.Refund
	order    []string
}

func (s *refundStore) GetIntent(_ context.Context, partnerID, org, id string) (payment.Intent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pi, ok := s.intents[id]
	if !ok || pi.PartnerID != partnerID || pi.OrgID != org {
		return payment.Intent{}, apperr.E("fake.intent", apperr.NotFound, "payment intent not found")
	}
	return pi, nil
}

func (s *refundStore) GetInvoice(_ context.Context, partnerID, org, id string) (invoice.Invoice, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	inv, ok := s.invoices[id]
	if !ok || inv.PartnerID != partnerID || inv.OrgID != org {
		return invoice.Invoice{}, apperr.E("fake.invoice", apperr.NotFound, "invoice not found")
	}
	return inv, nil
}

func (s *refundStore) CreateRefund(_ context.Context, read payment.Intent, r refund.Refund, _ event.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	pi := s.intents[read.ID]
	if pi.RefundReserved+r.Amount > pi.Amount || len(pi.RefundIDs) >= refund.MaxPerIntent {
		return refund.ErrNotRefundable
	}
	pi.RefundReserved += r.Amount
	pi.RefundIDs = append(slices.Clone(pi.RefundIDs), r.ID)
	pi.Version++
	s.intents[pi.ID], s.refunds[r.ID] = pi, r
	s.order = append(s.order, r.ID)
	return nil
}

func (s *refundStore) GetRefund(_ context.Context, partnerID, org, id string) (refund.Refund, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.refunds[id]
	if !ok || r.PartnerID != partnerID || r.OrgID != org {
		return refund.Refund{}, apperr.E("fake.refund", apperr.NotFound, "refund not found")
	}
	return r, nil
}

func (s *refundStore) ListRefunds(_ context.Context, partnerID, org string, q listing.Query, f refund.Filter) (listing.Page[refund.Refund], error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := listing.Page[refund.Refund]{Items: []refund.Refund{}, Total: -1}
	for _, id := range s.order {
		if r := s.refunds[id]; r.PartnerID == partnerID && r.OrgID == org && f.Keep(r) && len(p.Items) < q.Size {
			p.Items = append(p.Items, r)
		}
	}
	return p, nil
}

// OrganizationExists knows the organisations of its intents.
func (s *refundStore) OrganizationExists(_ context.Context, partnerID, org string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, pi := range s.intents {
		if pi.PartnerID == partnerID && pi.OrgID == org {
			return nil
		}
	}
	return apperr.OrganizationNotFound("refund.store")
}

func (s *refundStore) IntentRefunds(ctx context.Context, partnerID, org, id string) (payment.Intent, []refund.Refund, error) {
	pi, err := s.GetIntent(ctx, partnerID, org, id)
	if err != nil {
		return pi, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := []refund.Refund{}
	for _, rid := range pi.RefundIDs {
		rs = append(rs, s.refunds[rid])
	}
	return pi, rs, nil
}

func (s *refundStore) put(r refund.Refund) error {
	if s.refunds[r.ID].Version != r.Version-1 {
		return refund.ErrRefundChanged
	}
	s.refunds[r.ID] = r
	return nil
}

func (s *refundStore) UpdateRefund(_ context.Context, r refund.Refund, _ []event.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.put(r)
}

func (s *refundStore) ReleaseRefund(_ context.Context, r refund.Refund, _ []event.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.put(r); err != nil {
		return err
	}
	pi := s.intents[r.PaymentIntentID]
	pi.RefundReserved -= r.Amount
	pi.Version++
	s.intents[pi.ID] = pi
	return nil
}

// The credit note series: these invoices keep no documents, so no credit
// note is numbered.
func (s *refundStore) AcquireCreditSeries(context.Context, string, string, string, string, time.Time) (int64, error) {
	return 0, errors.New("no credit note is made here")
}

func (s *refundStore) ReleaseCreditSeries(context.Context, string, string, string, string) error {
	return nil
}

func (s *refundStore) SettleRefund(_ context.Context, r refund.Refund, pi payment.Intent, inv invoice.Invoice, _ *invoice.CreditNumber, _ []event.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.intents[pi.ID].Version != pi.Version-1 || s.invoices[inv.ID].Version != inv.Version-1 {
		return refund.ErrChanged
	}
	if err := s.put(r); err != nil {
		return err
	}
	s.intents[pi.ID], s.invoices[inv.ID] = pi, inv
	return nil
}

// TestRefundAnswersMatchTheDocument drives every refund route through the
// edge, as the roles and tenants that call them, and validates each answer
// against the OpenAPI document: the statuses, codes and shapes the
// document promises are the ones the handlers give.
func TestRefundAnswersMatchTheDocument(t *testing.T) {
	at := time.Date(2024, 2, 5, 14, 30, 0, 0, time.UTC)
	done := at.Add(-time.Hour)
	paid := payment.Intent{ID: "pi-paid", InvoiceID: "inv-1", PaymentLinkID: "pl-1", Amount: 42200, Currency: "EUR",
		Status: payment.IntentSucceeded, SelectedPaymentMethod: payment.MethodSEPA, AiiaTransactionID: "tx-1", AiiaStatus: "settled",
		CreatedAt: done, UpdatedAt: done, CompletedAt: &done, PartnerID: "ptn-1", OrgID: orgID, Version: 3}
	processing := paid
	processing.ID, processing.Status, processing.CompletedAt = "pi-processing", payment.IntentProcessing, nil
	card := paid
	card.ID, card.SelectedPaymentMethod, card.CardChargeID = "pi-card", payment.MethodCard, "ch-1"
	inv := invoice.Invoice{ID: "inv-1", PartnerID: "ptn-1", OrgID: orgID, Status: invoice.StatusPaid, Currency: "EUR",
		TotalAmount: 42200, AmountPaid: 42200, DueDate: "2030-03-31", Version: 5}
	waiting := refund.Refund{ID: "ref-waiting", PaymentIntentID: paid.ID, InvoiceID: inv.ID, Amount: 2000, Currency: "EUR",
		Status: refund.StatusRequiresAction, Method: payment.MethodSEPA, NextAction: &refund.Action{Type: "pay_payer_account", Message: "pay"},
		CreatedAt: at, UpdatedAt: at, PartnerID: "ptn-1", OrgID: orgID, Version: 2}
	paid.RefundReserved, paid.RefundIDs = waiting.Amount, []string{waiting.ID}
	store := &refundStore{
		intents:  map[string]payment.Intent{paid.ID: paid, processing.ID: processing, card.ID: card},
		invoices: map[string]invoice.Invoice{inv.ID: inv},
		refunds:  map[string]refund.Refund{waiting.ID: waiting},
		order:    []string{waiting.ID},
	}
	n := 0
	svc := &refund.Service{Store: store, Methods: []string{payment.MethodSEPA}, Now: func() time.Time { return at },
		NewID: func(prefix string) string { n++; return fmt.Sprintf("%s-%04d", prefix, n) }}
	api, err := httpapi.New(httpapi.Options{NewID: func() string { return "req-1" }, Verifier: tokens{
		"partner":   {ClientID: "c1", PartnerID: "ptn-1", Scope: auth.ScopePartner},
		"analyst":   {ClientID: "c3", PartnerID: "ptn-1", OrgID: orgID, Scope: auth.ScopeOrganization, Role: auth.RoleAnalyst},
		"finance":   {ClientID: "c5", PartnerID: "ptn-1", OrgID: orgID, Scope: auth.ScopeOrganization, Role: auth.RoleFinanceManager},
		"other-org": {ClientID: "c4", PartnerID: "ptn-1", OrgID: "org-2", Scope: auth.ScopeOrganization, Role: auth.RoleAdmin},
	}}, (&payments.Handlers{Refunds: svc}).Routes()...)
	if err != nil {
		t.Fatal(err)
	}
	v, err := openapi.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	call := func(token, routeKey string, params map[string]string, query, body string, want int) map[string]any {
		t.Helper()
		method, path, _ := strings.Cut(routeKey, " ")
		for k, val := range params {
			path = strings.ReplaceAll(path, "{"+k+"}", val)
		}
		hdr := map[string]string{"authorization": "Bearer " + token, "content-type": "application/json"}
		if token == "partner" {
			hdr["x-entity-id"] = orgID
		}
		resp, err := api.Handle(context.Background(), events.APIGatewayV2HTTPRequest{RouteKey: routeKey, RawPath: path, RawQueryString: query,
			Headers: hdr, PathParameters: params, Body: body,
			RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-1",
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path}}})
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != want {
			t.Errorf("%s %s %s: status %d, want %d; %s", token, routeKey, body, resp.StatusCode, want, resp.Body)
		}
		rh := http.Header{}
		for k, val := range resp.Headers {
			rh.Set(k, val)
		}
		if err := v.ValidateResponse(method, path, query, nil, resp.StatusCode, rh, []byte(resp.Body)); err != nil {
			t.Errorf("%s %s %s: the answer does not match the document: %v", token, routeKey, body, err)
		}
		var m map[string]any
		_ = json.Unmarshal([]byte(resp.Body), &m)
		return m
	}
	param := func(m map[string]any) string {
		if e, ok := m["error"].(map[string]any); ok {
			p, _ := e["param"].(string)
			return p
		}
		return ""
	}
	const create = "POST /v1/refunds"
	one := map[string]string{"refund_id": "ref-waiting"}

	// Creation, and its refusals.
	r := call("finance", create, nil, "", `{"payment_intent_id": "pi-paid", "amount": 10000, "reason": "Remise commerciale de 100€"}`, 201)
	if r["status"] != "pending" || r["amount"] != float64(10000) || r["next_action"] != nil {
		t.Errorf("accepted: %v", r)
	}
	call("analyst", create, nil, "", `{"payment_intent_id": "pi-paid", "amount": 100}`, 403)
	call("other-org", create, nil, "", `{"payment_intent_id": "pi-paid", "amount": 100}`, 404)
	call("partner", create, nil, "", `{"payment_intent_id": "pi-missing"}`, 404)
	call("partner", create, nil, "", `{"payment_intent_id": "pi-processing"}`, 409)
	if m := call("partner", create, nil, "", `{"payment_intent_id": "pi-paid", "amount": 40000}`, 422); param(m) != "amount" {
		t.Errorf("above the refundable: %v", m)
	}
	if m := call("partner", create, nil, "", `{"payment_intent_id": "pi-card"}`, 422); param(m) != "payment_intent_id" {
		t.Errorf("a method not refunded: %v", m)
	}
	for body, p := range map[string]string{
		`{"amount": 100}`: "payment_intent_id", `{"payment_intent_id": "pi-paid", "amount": 0}`: "amount",
		`{"payment_intent_id": "pi-paid", "amount": 1.5}`:                                "amount",
		`{"payment_intent_id": "pi-paid", "reason": "` + strings.Repeat("x", 501) + `"}`: "reason",
		`{"payment_intent_id": "pi-paid", "currency": "EUR"}`:                            "currency",
	} {
		if m := call("partner", create, nil, "", body, 422); param(m) != p {
			t.Errorf("%.60s: param %q, want %q", body, param(m), p)
		}
	}
	call("partner", create, nil, "", `{"payment_intent_id": "pi-paid"}`, 201) // the rest: 42200 − 2000 − 10000
	call("partner", create, nil, "", `{"payment_intent_id": "pi-paid"}`, 409) // nothing left

	// Reads.
	call("analyst", "GET /v1/refunds", nil, "", "", 200)
	call("analyst", "GET /v1/refunds", nil, "payment_intent_id=pi-paid&status=pending", "", 200)
	call("analyst", "GET /v1/refunds", nil, "payment_intent_id=pi-missing", "", 404)
	call("analyst", "GET /v1/refunds", nil, "status=refunded", "", 422)
	call("analyst", "GET /v1/refunds", nil, "created_from=2024-02-01", "", 422)
	call("analyst", "GET /v1/refunds", nil, "created_from=2024-02-02T00:00:00Z&created_to=2024-02-01T00:00:00Z", "", 422)
	call("analyst", "GET /v1/refunds/{refund_id}", one, "", "", 200)
	call("other-org", "GET /v1/refunds/{refund_id}", one, "", "", 404)
	call("analyst", "GET /v1/refunds/{refund_id}", map[string]string{"refund_id": "ref-missing"}, "", "", 404)
	lines := call("analyst", "GET /v1/payment_intents/{intent_id}/refunds", map[string]string{"intent_id": "pi-paid"}, "", "", 200)
	if data, _ := lines["data"].([]any); len(data) != 3 {
		t.Errorf("the intent's refunds: %v", lines)
	}
	call("other-org", "GET /v1/payment_intents/{intent_id}/refunds", map[string]string{"intent_id": "pi-paid"}, "", "", 404)

	// The organisation's action on a refund that waits for it.
	call("analyst", "POST /v1/refunds/{refund_id}/confirm", one, "", "", 403)
	call("finance", "POST /v1/refunds/{refund_id}/confirm", map[string]string{"refund_id": r["id"].(string)}, "", "", 409) // pending
	if m := call("finance", "POST /v1/refunds/{refund_id}/cancel", one, "", "", 200); m["status"] != "cancelled" || m["completed_at"] == nil {
		t.Errorf("cancelled: %v", m)
	}
	call("finance", "POST /v1/refunds/{refund_id}/confirm", one, "", "", 409) // cancelled already
	if pi := store.intents["pi-paid"]; pi.RefundReserved != 42200-2000 {
		t.Errorf("a cancelled refund releases its amount: reserved %d", pi.RefundReserved)
	}

	// Confirming settles the refund, the intent and the invoice.
	w2 := waiting
	w2.ID = "ref-waiting-2"
	store.refunds[w2.ID] = w2
	pi := store.intents["pi-paid"]
	pi.RefundReserved, pi.RefundIDs = pi.RefundReserved+w2.Amount, append(pi.RefundIDs, w2.ID)
	store.intents[pi.ID] = pi
	if m := call("partner", "POST /v1/refunds/{refund_id}/confirm", map[string]string{"refund_id": w2.ID}, "", "", 200); m["status"] != "succeeded" {
		t.Errorf("confirmed: %v", m)
	}
	if pi, inv := store.intents["pi-paid"], store.invoices["inv-1"]; pi.Status != payment.IntentPartiallyRefunded || pi.RefundedAmount != 2000 ||
		inv.AmountPaid != 40200 || inv.Status != invoice.StatusPartiallyPaid {
		t.Errorf("after confirm: intent %s %d, invoice %s %d", pi.Status, pi.RefundedAmount, inv.Status, inv.AmountPaid)
	}
}
