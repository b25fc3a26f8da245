package openapi_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/openapi"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/refund"
)

// guideRefund is the guide's partial refund of the step 3 intent, as
// package refund renders it once accepted.
func guideRefund() refund.Refund {
	pi := guideIntent()
	at := time.Date(2024, 2, 5, 14, 30, 0, 0, time.UTC)
	return refund.Refund{ID: "ref-01928d10-3c4d-7e5f-8a6b-7c8d9e0f1a2b", PaymentIntentID: pi.ID, InvoiceID: pi.InvoiceID,
		Amount: 10000, Currency: "EUR", Status: refund.StatusPending, Reason: "Remise commerciale de 100€", Method: payment.MethodSEPA,
		CreatedAt: at, UpdatedAt: at, PartnerID: pi.PartnerID, OrgID: pi.OrgID, ProviderID: "aiia-rf-1", ProviderCode: "PREPARING", Version: 1}
}

// ended moves r to a final status at t.
func ended(r refund.Refund, status, reason string, t time.Time) refund.Refund {
	r.Status, r.FailureReason, r.NextAction, r.UpdatedAt, r.CompletedAt = status, reason, nil, t, &t
	return r
}

// The document's refund examples are what the Go types render.
func TestRefundExamplesAreRendered(t *testing.T) {
	doc, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	pending := guideRefund()
	waiting := pending
	waiting.Status, waiting.UpdatedAt = refund.StatusRequiresAction, pending.CreatedAt.Add(4*time.Second)
	waiting.NextAction = &refund.Action{Type: "pay_payer_account",
		Message: "Aiia cannot pay this refund out (no settlement account): pay the payer's account by bank transfer, then confirm the refund (POST /v1/refunds/ref-01928d10-3c4d-7e5f-8a6b-7c8d9e0f1a2b/confirm), or cancel it (POST /v1/refunds/ref-01928d10-3c4d-7e5f-8a6b-7c8d9e0f1a2b/cancel)"}
	next := time.Date(2024, 2, 6, 9, 12, 0, 0, time.UTC)

	paid := guideIntent()
	done := time.Date(2024, 2, 1, 10, 42, 0, 0, time.UTC)
	paid.Status, paid.SelectedPaymentMethod, paid.AiiaTransactionID, paid.AiiaStatus = payment.IntentPartiallyRefunded, payment.MethodSEPA,
		"7f3e9a2c-4b1d-4e8f-a6c5-2d9b8e1f0a37", "settled"
	paid.RefundedAmount, paid.UpdatedAt, paid.CompletedAt = 10000, time.Date(2024, 2, 5, 14, 31, 0, 0, time.UTC), &done

	for name, want := range map[string]any{
		"RefundPending":                  pending,
		"RefundSucceeded":                ended(pending, refund.StatusSucceeded, "", time.Date(2024, 2, 5, 14, 31, 0, 0, time.UTC)),
		"RefundRequiresAction":           waiting,
		"RefundFailed":                   ended(pending, refund.StatusFailed, "compte du payeur clôturé", pending.CreatedAt.Add(7*time.Second)),
		"RefundConfirmed":                ended(waiting, refund.StatusSucceeded, "", next),
		"RefundCanceled":                 ended(waiting, refund.StatusCancelled, "cancelled by the organization", next),
		"PaymentIntentPartiallyRefunded": paid,
	} {
		ex := doc.Components.Examples[name]
		if ex == nil || ex.Value == nil {
			t.Errorf("components/examples/%s is missing", name)
			continue
		}
		var got, rendered any
		b, _ := json.Marshal(ex.Value.Value)
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(mustJSON(t, want), &rendered); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, rendered) {
			t.Errorf("example %s differs from the Go rendering:\n doc: %s\n go:  %s", name, b, mustJSON(t, want))
		}
	}

	// The request examples are the guide's two bodies, verbatim, and decode
	// into the Go input type as they are.
	op := doc.Paths.Value("/v1/refunds").Post
	for name, want := range map[string]string{
		"total":   `{"payment_intent_id":"pi-456def78-90ab-cdef-1234-567890abcdef","reason":"Facture annulée suite à erreur de facturation"}`,
		"partial": `{"amount":10000,"payment_intent_id":"pi-456def78-90ab-cdef-1234-567890abcdef","reason":"Remise commerciale de 100€"}`,
	} {
		ex := op.RequestBody.Value.Content.Get("application/json").Examples[name]
		if ex == nil {
			t.Errorf("request example %s is missing", name)
			continue
		}
		got := mustJSON(t, ex.Value.Value)
		if string(got) != want {
			t.Errorf("request example %s = %s, want the guide's body %s", name, got, want)
		}
		var in refund.CreateInput
		r := &httpapi.Request{Header: http.Header{"Content-Type": {"application/json"}}, Body: got}
		if err := httpapi.DecodeJSON(r, &in); err != nil {
			t.Errorf("the guide's %s body does not decode: %v", name, err)
		}
	}
}

// Refund answers rendered by the Go types must match the document; shapes
// the code never answers must not.
func TestValidateRefundResponses(t *testing.T) {
	v := mustValidator(t)
	h := http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"r1"}}
	r := guideRefund()
	waiting := r
	waiting.Status, waiting.NextAction = refund.StatusRequiresAction, &refund.Action{Type: "collect_payer_account", Message: "ask the payer"}
	succeeded := ended(r, refund.StatusSucceeded, "", r.CreatedAt.Add(time.Minute))
	cancelled := ended(waiting, refund.StatusCancelled, "cancelled by the organization", r.CreatedAt.Add(time.Hour))
	uncounted := httpapi.NewList(httpapi.PageRequest{Page: 1, Size: 20}, listing.Page[refund.Refund]{Items: []refund.Refund{r}, Next: "abc", Total: -1},
		func(x refund.Refund) refund.Refund { return x })
	counted := httpapi.NewList(httpapi.PageRequest{Page: 1, Size: 20}, listing.Page[refund.Refund]{Items: []refund.Refund{r, succeeded}, Total: 2},
		func(x refund.Refund) refund.Refund { return x })
	// The intent's list, in the guide's shape (handlers/payments renders it;
	// its own test validates the handler's answer against this document).
	line := map[string]any{"id": r.ID, "amount": r.Amount, "status": r.Status, "reason": r.Reason, "created_at": r.CreatedAt, "completed_at": nil}
	lines := mustJSON(t, map[string]any{"data": []any{line}})
	errBody := func(typ, code, param string) []byte {
		return mustJSON(t, httpapi.ErrorBody{Error: httpapi.ErrorDetail{Type: typ, Code: code, Message: "x", Param: param, RequestID: "r1"}})
	}
	const rp = "/v1/refunds/ref-01928d10-3c4d-7e5f-8a6b-7c8d9e0f1a2b"
	const ip = "/v1/payment_intents/pi-456def78-90ab-cdef-1234-567890abcdef/refunds"

	tests := []struct {
		name, method, path string
		status             int
		body               []byte
		valid              bool
	}{
		{"refund accepted", "POST", "/v1/refunds", 201, mustJSON(t, r), true},
		{"refund read", "GET", rp, 200, mustJSON(t, r), true},
		{"refund waiting", "GET", rp, 200, mustJSON(t, waiting), true},
		{"refund succeeded", "GET", rp, 200, mustJSON(t, succeeded), true},
		{"refund confirmed", "POST", rp + "/confirm", 200, mustJSON(t, succeeded), true},
		{"refund cancelled", "POST", rp + "/cancel", 200, mustJSON(t, cancelled), true},
		{"a page of refunds", "GET", "/v1/refunds", 200, mustJSON(t, uncounted), true},
		{"an intent's refunds through the filter, counted", "GET", "/v1/refunds", 200, mustJSON(t, counted), true},
		{"an intent's refunds", "GET", ip, 200, lines, true},
		{"an intent without refunds", "GET", ip, 200, mustJSON(t, map[string]any{"data": []any{}}), true},
		{"X-Entity-Id missing", "POST", "/v1/refunds", 400, errBody("invalid_request_error", "malformed_request", "X-Entity-Id"), true},
		{"a role that may not refund", "POST", "/v1/refunds", 403, errBody("permission_error", "forbidden", ""), true},
		{"a role that may not confirm", "POST", rp + "/confirm", 403, errBody("permission_error", "forbidden", ""), true},
		{"a role that may not cancel", "POST", rp + "/cancel", 403, errBody("permission_error", "forbidden", ""), true},
		{"another tenant's intent", "POST", "/v1/refunds", 404, errBody("invalid_request_error", "not_found", ""), true},
		{"an intent not paid", "POST", "/v1/refunds", 409, errBody("invalid_request_error", "conflict", ""), true},
		{"above the refundable", "POST", "/v1/refunds", 422, errBody("invalid_request_error", "validation_failed", "amount"), true},
		{"another tenant's refund", "GET", rp, 404, errBody("invalid_request_error", "not_found", ""), true},
		{"not waiting (confirm)", "POST", rp + "/confirm", 409, errBody("invalid_request_error", "conflict", ""), true},
		{"not waiting (cancel)", "POST", rp + "/cancel", 409, errBody("invalid_request_error", "conflict", ""), true},
		{"another tenant's intent's refunds", "GET", ip, 404, errBody("invalid_request_error", "not_found", ""), true},
		{"a filter's unknown intent", "GET", "/v1/refunds", 404, errBody("invalid_request_error", "not_found", ""), true},
		{"a bad status filter", "GET", "/v1/refunds", 422, errBody("invalid_request_error", "validation_failed", "status"), true},

		{"accepted, not 200", "POST", "/v1/refunds", 200, mustJSON(t, r), false},
		{"an unknown refund status", "GET", rp, 200, edit(t, mustJSON(t, r), func(m map[string]any) { m["status"] = "refunded" }), false},
		{"a zero amount", "GET", rp, 200, edit(t, mustJSON(t, r), func(m map[string]any) { m["amount"] = 0 }), false},
		{"next_action absent rather than null", "GET", rp, 200, edit(t, mustJSON(t, r), func(m map[string]any) { delete(m, "next_action") }), false},
		{"an unknown next action", "GET", rp, 200, edit(t, mustJSON(t, waiting), func(m map[string]any) {
			m["next_action"].(map[string]any)["type"] = "wait"
		}), false},
		{"a refund with its provider's id", "GET", rp, 200, edit(t, mustJSON(t, r), func(m map[string]any) { m["provider_refund_id"] = "aiia-rf-1" }), false},
		{"the intent's list with a whole refund", "GET", ip, 200, mustJSON(t, map[string]any{"data": []any{r}}), false},
		{"the intent's list paginated", "GET", ip, 200, mustJSON(t, uncounted), false},
		{"a read cannot be forbidden", "GET", rp, 403, errBody("permission_error", "forbidden", ""), false},
		{"a read cannot conflict", "GET", ip, 409, errBody("invalid_request_error", "conflict", ""), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.ValidateResponse(tt.method, tt.path, "", nil, tt.status, h, tt.body)
			if tt.valid && err != nil {
				t.Errorf("want valid, got %v", err)
			}
			if !tt.valid && err == nil {
				t.Error("want an error, got none")
			}
		})
	}
}

// Every refund route documents X-Entity-Id, its tag and the statuses the
// handlers can answer; writes document 403, reads do not; the schema's
// enums are the package's.
func TestRefundOperations(t *testing.T) {
	doc, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	common := []string{"400", "401", "404", "500", "503"}
	writes := []string{"403", "409", "413", "415", "422"}
	for _, c := range []struct {
		method, path string
		ok           string
		write        bool
		extra        []string
	}{
		{"POST", "/v1/refunds", "201", true, nil},
		{"GET", "/v1/refunds", "200", false, []string{"422"}},
		{"GET", "/v1/refunds/{refund_id}", "200", false, nil},
		{"POST", "/v1/refunds/{refund_id}/confirm", "200", true, nil},
		{"POST", "/v1/refunds/{refund_id}/cancel", "200", true, nil},
		{"GET", "/v1/payment_intents/{intent_id}/refunds", "200", false, nil},
	} {
		key := c.method + " " + c.path
		op := doc.Paths.Value(c.path).GetOperation(c.method)
		if op == nil {
			t.Errorf("%s is not documented", key)
			continue
		}
		if len(op.Tags) != 1 || op.Tags[0] != "Refunds" {
			t.Errorf("%s: tags %v, want [Refunds]", key, op.Tags)
		}
		if op.Security != nil {
			t.Errorf("%s: must use the document's bearerAuth", key)
		}
		if !hasParam(op, "header", "X-Entity-Id") {
			t.Errorf("%s: X-Entity-Id is not documented", key)
		}
		if c.method == http.MethodPost && !hasParam(op, "header", "Idempotency-Key") {
			t.Errorf("%s: Idempotency-Key is not documented", key)
		}
		want := append([]string{c.ok}, common...)
		want = append(want, c.extra...)
		if c.write {
			want = append(want, writes...)
		}
		for _, code := range want {
			if op.Responses.Value(code) == nil {
				t.Errorf("%s: no %s response", key, code)
			}
		}
		if c.ok == "201" && op.Responses.Value("200") != nil {
			t.Errorf("%s: creation answers 201, not 200", key)
		}
		if !c.write && op.Responses.Value("403") != nil {
			t.Errorf("%s: every role reads, so no 403", key)
		}
	}
	// The intent's list is not paginated.
	op := doc.Paths.Value("/v1/payment_intents/{intent_id}/refunds").Get
	for _, p := range op.Parameters {
		if p.Value.In == "query" && slices.Contains([]string{"page", "page_size", "cursor"}, p.Value.Name) {
			t.Errorf("GET /v1/payment_intents/{intent_id}/refunds: not paginated, yet documents %s", p.Value.Name)
		}
	}
	// Statuses and limits are the package's.
	var statuses []string
	for _, e := range doc.Components.Schemas["Refund"].Value.Properties["status"].Value.Enum {
		statuses = append(statuses, e.(string))
	}
	if !slices.Equal(statuses, refund.Statuses) {
		t.Errorf("Refund.status enum %v, want refund.Statuses %v", statuses, refund.Statuses)
	}
	if got := doc.Components.Schemas["RefundCreate"].Value.Properties["reason"].Value.MaxLength; got == nil || *got != refund.MaxReasonLength {
		t.Errorf("RefundCreate.reason maxLength %v, want %d", got, refund.MaxReasonLength)
	}
	if got := doc.Components.Schemas["IntentRefundList"].Value.Properties["data"].Value.MaxItems; got == nil || *got != refund.MaxPerIntent {
		t.Errorf("IntentRefundList.data maxItems %v, want %d", got, refund.MaxPerIntent)
	}
	if !strings.Contains(doc.Info.Description, "## Refunds / Remboursements") {
		t.Error("the introduction has no refunds section")
	}
}
