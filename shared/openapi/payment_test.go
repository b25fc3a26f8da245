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
	"github.com/modupay/modupay/shared/qr"
)

// The guide's step 3 link and its intent, as package payment renders them:
// the invoice's real amount (42200, not the guide's 42220) and a page URL
// carrying a 256-bit token.
const guideToken = "k12blhSwhwVIAhYhM5f_Izk8aPONtVfjzppWh0AInnk"

func guideLink() payment.Link {
	page := "https://api.sandbox.modupay.fr/p/" + guideToken
	return payment.Link{ID: "pl-987fcdeb-51a2-43f1-b789-123456789abc", InvoiceID: "inv-123e4567-e89b-12d3-a456-426614174000",
		PaymentIntentID: "pi-456def78-90ab-cdef-1234-567890abcdef", Amount: 42200, Currency: "EUR", Status: payment.LinkActive,
		PaymentPageURL: page, QRCodeData: page, ExpiresAt: time.Date(2024, 3, 31, 23, 59, 59, 0, time.UTC),
		CreatedAt: time.Date(2024, 2, 1, 10, 30, 0, 0, time.UTC),
		PartnerID: "ptn-1", OrgID: "org-01928c3e-5b7a-7c1d-9e2f-3a4b5c6d7e8f", DepartmentID: "dept-01928c41-7d2e-7f3a-8b4c-5d6e7f809a1b",
		BankAccountID: "ba-01928c42-3c4d-7e5f-9a6b-7c8d9e0f1a2b", PaymentMethods: []string{payment.MethodSEPA, payment.MethodCard},
		ReturnURL: "https://votreapp.fr/payment/success", Token: guideToken, Version: 1}
}

func guideIntent() payment.Intent {
	l := guideLink()
	return payment.Intent{ID: l.PaymentIntentID, InvoiceID: l.InvoiceID, PaymentLinkID: l.ID, Amount: l.Amount, Currency: "EUR",
		Status: payment.IntentCreated, CreatedAt: l.CreatedAt, UpdatedAt: l.CreatedAt, PartnerID: l.PartnerID, OrgID: l.OrgID, Version: 1}
}

// The document's payment examples are what the Go types render.
func TestPaymentExamplesAreRendered(t *testing.T) {
	doc, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	deactivated := guideLink()
	deactivated.Status = payment.LinkDeactivated
	cancelled := guideIntent()
	cancelled.Status, cancelled.UpdatedAt = payment.IntentCancelled, time.Date(2024, 2, 1, 11, 5, 0, 0, time.UTC)
	for name, want := range map[string]any{
		"PaymentLinkActive":      guideLink(),
		"PaymentLinkDeactivated": deactivated,
		"PaymentIntentCreated":   guideIntent(),
		"PaymentIntentCanceled":  cancelled,
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

	// The request example is the guide's step 3 body, verbatim.
	op := doc.Paths.Value("/v1/payment_links").Post
	ex := op.RequestBody.Value.Content.Get("application/json").Examples["guide"]
	got := mustJSON(t, ex.Value.Value)
	want := `{"expires_at":"2024-03-31T23:59:59Z","invoice_id":"inv-123e4567-e89b-12d3-a456-426614174000","payment_methods":["sepa_credit","card"],"return_url":"https://votreapp.fr/payment/success"}`
	if string(got) != want {
		t.Errorf("request example %s, want the guide's body %s", got, want)
	}
	// It decodes into the Go input type as it is.
	var in payment.CreateLinkInput
	r := &httpapi.Request{Header: http.Header{"Content-Type": {"application/json"}}, Body: got}
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		t.Errorf("the guide's body does not decode: %v", err)
	}
	if strings.Contains(string(mustJSON(t, doc.Components.Examples["PaymentLinkActive"].Value.Value)), "42220") {
		t.Error("the link example must answer 42200, not the guide's 42220")
	}
}

// Payment answers rendered by the Go types must match the document; shapes
// the code never answers must not.
func TestValidatePaymentResponses(t *testing.T) {
	v := mustValidator(t)
	h := http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"r1"}}
	link := guideLink()
	local := link
	local.PaymentPageURL = "http://127.0.0.1:3000/p/" + guideToken
	local.QRCodeData = local.PaymentPageURL
	pi := guideIntent()
	settled := pi
	done := time.Date(2024, 2, 1, 10, 37, 0, 0, time.UTC)
	settled.Status, settled.SelectedPaymentMethod, settled.AiiaTransactionID, settled.AiiaStatus = payment.IntentSucceeded, payment.MethodSEPA, "aiia-tx-789", "settled"
	settled.UpdatedAt, settled.CompletedAt = done, &done
	failed := settled
	failed.Status, failed.AiiaStatus, failed.FailureReason = payment.IntentFailed, "rejected", "insufficient funds"
	links := httpapi.NewList(httpapi.PageRequest{Page: 1, Size: 20}, listing.Page[payment.Link]{Items: []payment.Link{link}, Next: "abc", Total: -1},
		func(l payment.Link) payment.Link { return l })
	empty := httpapi.NewList(httpapi.PageRequest{Page: 1, Size: 20}, listing.Page[payment.Link]{Total: -1}, func(l payment.Link) payment.Link { return l })
	counted := httpapi.NewList(httpapi.PageRequest{Page: 1, Size: 20}, listing.Page[payment.Link]{Items: []payment.Link{link}, Total: 1},
		func(l payment.Link) payment.Link { return l })
	type intentList struct {
		Data []payment.Intent `json:"data"`
	}
	errBody := func(typ, code, param string) []byte {
		return mustJSON(t, httpapi.ErrorBody{Error: httpapi.ErrorDetail{Type: typ, Code: code, Message: "x", Param: param, RequestID: "r1"}})
	}
	const lp = "/v1/payment_links/pl-987fcdeb-51a2-43f1-b789-123456789abc"
	const ip = "/v1/payment_intents/pi-456def78-90ab-cdef-1234-567890abcdef"

	tests := []struct {
		name, method, path string
		status             int
		body               []byte
		valid              bool
	}{
		{"link created", "POST", "/v1/payment_links", 201, mustJSON(t, link), true},
		{"link on the local stack", "POST", "/v1/payment_links", 201, mustJSON(t, local), true},
		{"link read", "GET", lp, 200, mustJSON(t, link), true},
		{"link deactivated", "POST", lp + "/deactivate", 200, mustJSON(t, link), true},
		{"a page of links, never counted", "GET", "/v1/payment_links", 200, mustJSON(t, links), true},
		{"an empty page", "GET", "/v1/payment_links", 200, mustJSON(t, empty), true},
		{"intent created", "GET", ip, 200, mustJSON(t, pi), true},
		{"intent settled", "GET", ip, 200, mustJSON(t, settled), true},
		{"intent failed", "GET", ip, 200, mustJSON(t, failed), true},
		{"an invoice's intents", "GET", "/v1/payment_intents", 200, mustJSON(t, intentList{Data: []payment.Intent{pi, settled}}), true},
		{"an invoice without intents", "GET", "/v1/payment_intents", 200, mustJSON(t, intentList{Data: []payment.Intent{}}), true},
		{"X-Entity-Id missing", "POST", "/v1/payment_links", 400, errBody("invalid_request_error", "malformed_request", "X-Entity-Id"), true},
		{"a role that may not write", "POST", "/v1/payment_links", 403, errBody("permission_error", "forbidden", ""), true},
		{"a role that may not deactivate", "POST", lp + "/deactivate", 403, errBody("permission_error", "forbidden", ""), true},
		{"another tenant's organisation", "POST", "/v1/payment_links", 404, errBody("invalid_request_error", "not_found", ""), true},
		{"an invoice not open for payment", "POST", "/v1/payment_links", 409, errBody("invalid_request_error", "conflict", ""), true},
		{"card in production", "POST", "/v1/payment_links", 422, errBody("invalid_request_error", "validation_failed", "payment_methods"), true},
		{"not active", "POST", lp + "/deactivate", 409, errBody("invalid_request_error", "conflict", ""), true},
		{"another tenant's link", "GET", lp, 404, errBody("invalid_request_error", "not_found", ""), true},
		{"another tenant's intent", "GET", ip, 404, errBody("invalid_request_error", "not_found", ""), true},
		{"invoice_id missing", "GET", "/v1/payment_intents", 422, errBody("invalid_request_error", "validation_failed", "invoice_id"), true},
		{"a bad status filter", "GET", "/v1/payment_links", 422, errBody("invalid_request_error", "validation_failed", "status"), true},

		{"created, not 200", "POST", "/v1/payment_links", 200, mustJSON(t, link), false},
		{"a counted page", "GET", "/v1/payment_links", 200, mustJSON(t, counted), false},
		{"intents paginated", "GET", "/v1/payment_intents", 200, mustJSON(t, links), false},
		{"a link with a field the guide does not show", "GET", lp, 200, edit(t, mustJSON(t, link), func(m map[string]any) { m["return_url"] = "https://a.fr/" }), false},
		{"a link without qr_code_data", "GET", lp, 200, edit(t, mustJSON(t, link), func(m map[string]any) { delete(m, "qr_code_data") }), false},
		{"the guide's short page token", "GET", lp, 200, edit(t, mustJSON(t, link), func(m map[string]any) {
			m["payment_page_url"] = "https://pay.modupay.fr/p/abc123xyz456"
		}), false},
		{"the link id as the page token", "GET", lp, 200, edit(t, mustJSON(t, link), func(m map[string]any) {
			m["payment_page_url"] = "https://api.sandbox.modupay.fr/p/" + link.ID
		}), false},
		{"an unknown link status", "GET", lp, 200, edit(t, mustJSON(t, link), func(m map[string]any) { m["status"] = "paid" }), false},
		{"a zero amount", "GET", lp, 200, edit(t, mustJSON(t, link), func(m map[string]any) { m["amount"] = 0 }), false},
		{"an unknown intent status (the spelling before 1.7.0)", "GET", ip, 200, edit(t, mustJSON(t, pi), func(m map[string]any) { m["status"] = "canceled" }), false},
		{"an unknown aiia_status", "GET", ip, 200, edit(t, mustJSON(t, pi), func(m map[string]any) { m["aiia_status"] = "PAYMENT_EXECUTED_CREDITED" }), false},
		{"completed_at absent rather than null", "GET", ip, 200, edit(t, mustJSON(t, pi), func(m map[string]any) { delete(m, "completed_at") }), false},
		{"selected_payment_method null", "GET", ip, 200, edit(t, mustJSON(t, pi), func(m map[string]any) { m["selected_payment_method"] = nil }), false},
		{"an intent with partner_id", "GET", ip, 200, edit(t, mustJSON(t, pi), func(m map[string]any) { m["partner_id"] = "ptn-1" }), false},
		{"a read cannot be forbidden", "GET", lp, 403, errBody("permission_error", "forbidden", ""), false},
		{"a list of intents cannot conflict", "GET", "/v1/payment_intents", 409, errBody("invalid_request_error", "conflict", ""), false},
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

// The QR code route answers a PNG (binary, image/png) kept 5 minutes by the
// caller only; its errors are the link's JSON errors.
func TestValidatePaymentLinkQRCode(t *testing.T) {
	v := mustValidator(t)
	img, err := qr.PNG(guideLink().QRCodeData)
	if err != nil {
		t.Fatal(err)
	}
	const path = "/v1/payment_links/pl-987fcdeb-51a2-43f1-b789-123456789abc/qr.png"
	pngHeader := func(cacheControl string) http.Header {
		h := http.Header{"Content-Type": {"image/png"}, "X-Request-Id": {"r1"}}
		if cacheControl != "" {
			h.Set("Cache-Control", cacheControl)
		}
		return h
	}
	jsonHeader := http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"r1"}}
	errBody := func(typ, code, param string) []byte {
		return mustJSON(t, httpapi.ErrorBody{Error: httpapi.ErrorDetail{Type: typ, Code: code, Message: "x", Param: param, RequestID: "r1"}})
	}
	tests := []struct {
		name   string
		status int
		header http.Header
		body   []byte
		valid  bool
	}{
		{"the QR code", 200, pngHeader("private, max-age=300"), img, true},
		{"another tenant's link", 404, jsonHeader, errBody("invalid_request_error", "not_found", ""), true},
		{"X-Entity-Id missing", 400, jsonHeader, errBody("invalid_request_error", "malformed_request", "X-Entity-Id"), true},
		{"no token", 401, jsonHeader, errBody("authentication_error", "unauthenticated", ""), true},

		{"the link as JSON", 200, jsonHeader, mustJSON(t, guideLink()), false},
		{"another image type", 200, http.Header{"Content-Type": {"image/svg+xml"}, "X-Request-Id": {"r1"}, "Cache-Control": {"private, max-age=300"}}, []byte("<svg/>"), false},
		{"kept by shared caches", 200, pngHeader("public, max-age=300"), img, false},
		{"not cacheable", 200, pngHeader("no-store"), img, false},
		{"without X-Request-Id", 200, http.Header{"Content-Type": {"image/png"}, "Cache-Control": {"private, max-age=300"}}, img, false},
		{"a read cannot be forbidden", 403, jsonHeader, errBody("permission_error", "forbidden", ""), false},
		{"a read cannot conflict", 409, jsonHeader, errBody("invalid_request_error", "conflict", ""), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.ValidateResponse("GET", path, "", nil, tt.status, tt.header, tt.body)
			if tt.valid && err != nil {
				t.Errorf("want valid, got %v", err)
			}
			if !tt.valid && err == nil {
				t.Error("want an error, got none")
			}
		})
	}

	doc, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	op := doc.Paths.Value("/v1/payment_links/{link_id}/qr.png").Get
	ok := op.Responses.Value("200").Value
	if len(ok.Content) != 1 || ok.Content.Get("image/png") == nil {
		t.Fatalf("200 content %v, want image/png only", ok.Content)
	}
	if s := ok.Content.Get("image/png").Schema.Value; !s.Type.Is("string") || s.Format != "binary" {
		t.Errorf("image/png schema %v %q, want string binary", s.Type, s.Format)
	}
	if ok.Headers["Cache-Control"] == nil {
		t.Error("the 200 documents its Cache-Control")
	}
}

// Every payment route documents X-Entity-Id, its tag and the statuses the
// handlers can answer; writes document 403, reads do not.
func TestPaymentOperations(t *testing.T) {
	doc, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	common := []string{"200", "400", "401", "404", "500", "503"}
	writes := []string{"403", "409", "413", "415", "422"}
	for _, c := range []struct {
		method, path, tag string
		write             bool
		extra             []string
	}{
		{"POST", "/v1/payment_links", "Payment links", true, nil},
		{"GET", "/v1/payment_links", "Payment links", false, []string{"422"}},
		{"GET", "/v1/payment_links/{link_id}", "Payment links", false, nil},
		{"GET", "/v1/payment_links/{link_id}/qr.png", "Payment links", false, nil},
		{"POST", "/v1/payment_links/{link_id}/deactivate", "Payment links", true, nil},
		{"GET", "/v1/payment_intents", "Payment intents", false, []string{"422"}},
		{"GET", "/v1/payment_intents/{intent_id}", "Payment intents", false, nil},
	} {
		op := doc.Paths.Value(c.path).GetOperation(c.method)
		key := c.method + " " + c.path
		if op == nil {
			t.Errorf("%s is not documented", key)
			continue
		}
		if len(op.Tags) != 1 || op.Tags[0] != c.tag {
			t.Errorf("%s: tags %v, want [%s]", key, op.Tags, c.tag)
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
		want := append([]string{}, common...)
		want = append(want, c.extra...)
		if c.write {
			want = append(want, writes...)
		}
		if key == "POST /v1/payment_links" {
			want[0] = "201"
			if op.Responses.Value("200") != nil {
				t.Errorf("%s: creation answers 201, not 200", key)
			}
		}
		for _, code := range want {
			if op.Responses.Value(code) == nil {
				t.Errorf("%s: no %s response", key, code)
			}
		}
		if !c.write && op.Responses.Value("403") != nil {
			t.Errorf("%s: every role reads, so no 403", key)
		}
	}
	// invoice_id is required on the intents' list, which is not paginated.
	op := doc.Paths.Value("/v1/payment_intents").Get
	for _, p := range op.Parameters {
		if p.Value.In == "query" && p.Value.Name == "invoice_id" && !p.Value.Required {
			t.Error("GET /v1/payment_intents: invoice_id must be required")
		}
		if p.Value.In == "query" && slices.Contains([]string{"page", "page_size", "cursor"}, p.Value.Name) {
			t.Errorf("GET /v1/payment_intents: not paginated, yet documents %s", p.Value.Name)
		}
	}
	// The page routes are public.
	for _, key := range []string{"GET /p/{token}", "POST /p/{token}/pay", "GET /p/{token}/return", "GET /p/{token}/status", "GET /p/{token}/invoice.pdf", "GET /p/refund-account"} {
		method, path, _ := strings.Cut(key, " ")
		op := doc.Paths.Value(path).GetOperation(method)
		if op == nil {
			t.Errorf("%s is not documented", key)
			continue
		}
		if op.Security == nil || len(*op.Security) != 0 {
			t.Errorf("%s: the payment page is public (security: [])", key)
		}
	}
}
