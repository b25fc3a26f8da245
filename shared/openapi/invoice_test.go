package openapi_test

import (
	"encoding/json"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/money"
	"github.com/modupay/modupay/shared/openapi"
	"github.com/modupay/modupay/shared/organization"
)

type guideLine struct {
	description, quantity string
	unitPrice             int64
	rate                  string
}

// computedInvoice is an invoice of the seed's organisation and department
// whose lines and amounts come from package money, as the service computes
// them.
func computedInvoice(t *testing.T, status string, lines ...guideLine) invoice.Invoice {
	t.Helper()
	at := time.Date(2024, 2, 1, 10, 30, 15, 0, time.UTC)
	items := make([]invoice.LineItem, len(lines))
	calc := make([]money.Line, len(lines))
	for i, l := range lines {
		q, err := money.ParseQuantity(json.Number(l.quantity))
		if err != nil {
			t.Fatal(err)
		}
		r, err := money.ParseRate(json.Number(l.rate))
		if err != nil {
			t.Fatal(err)
		}
		items[i] = invoice.LineItem{Description: l.description, Quantity: q, UnitPrice: l.unitPrice, VATRate: r}
		calc[i] = money.Line{Quantity: q, UnitPrice: l.unitPrice, Rate: r}
	}
	totals, err := money.Compute(calc)
	if err != nil {
		t.Fatal(err)
	}
	inv := invoice.Invoice{
		ID: "inv-123e4567-e89b-12d3-a456-426614174000", PartnerID: "ptn-1", OrgID: "org-01928c3e-5b7a-7c1d-9e2f-3a4b5c6d7e8f",
		DepartmentID: "dept-01928c41-7d2e-7f3a-8b4c-5d6e7f809a1b", InvoiceNumber: "FAC-2024-00001", Status: status, Currency: "EUR",
		Payer: invoice.Payer{Name: "Jean Dupont", Email: "jean.dupont@example.com",
			Address: &organization.Address{Line1: "15 rue de la Paix", PostalCode: "69002", City: "Lyon", Country: "FR"}},
		DueDate: "2024-03-31", PaymentTerms: "Paiement sous 30 jours",
		Seller: invoice.Seller{Name: "Mairie de Lyon", LegalName: "Mairie de Lyon", SIRET: "21690123400019", VATNumber: "FR21216901234",
			Address:    organization.Address{Line1: "1 Place de la Comédie", PostalCode: "69001", City: "Lyon", Country: "FR"},
			Department: "Régie de l'Eau"},
		BankAccount: &invoice.BankDetails{BankAccountID: "ba-01928c42-3c4d-7e5f-9a6b-7c8d9e0f1a2b", IBAN: "FR7612345678901234567890123",
			BIC: "BNPAFRPPXXX", AccountName: "Compte Régie Eau", BankName: "BNP Paribas"},
		CreatedAt: at, UpdatedAt: at, Version: 1,
	}
	for i := range items {
		items[i].NetAmount = totals.LineNet[i]
	}
	inv.LineItems = items
	inv.VATBreakdown = make([]invoice.VATLine, len(totals.ByRate))
	for i, r := range totals.ByRate {
		inv.VATBreakdown[i] = invoice.VATLine{VATRate: r.Rate, NetAmount: r.NetAmount, VATAmount: r.VATAmount}
	}
	inv.TotalNet, inv.TotalVAT, inv.TotalAmount, inv.AmountDue = totals.Net, totals.VAT, totals.Gross, totals.Gross
	return inv
}

// The guide's step 1 line: 125 × 3,20 € at 5.5 %.
var guideStep1 = guideLine{"Consommation eau T1 2024", "125", 320, "5.5"}

// The PATCH example's lines: two rates, a half cent rounded up on each.
var editedLines = []guideLine{{"Abonnement", "1", 1000, "20"}, {"Eau", "1.5", 333, "5.5"}}

// The document's invoice examples are what the Go types render for the same
// lines: the guide's 42220 must not come back.
func TestInvoiceExamplesAreComputed(t *testing.T) {
	doc, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	issued := computedInvoice(t, invoice.StatusIssued, guideStep1)
	issued.IssueDate, issued.UpdatedAt = "2024-02-01", time.Date(2024, 2, 1, 10, 31, 0, 0, time.UTC)
	cancelled := issued
	cancelled.Status, cancelled.UpdatedAt = invoice.StatusCancelled, time.Date(2024, 2, 5, 14, 30, 0, 0, time.UTC)
	edited := computedInvoice(t, invoice.StatusDraft, editedLines...)
	edited.UpdatedAt = time.Date(2024, 2, 1, 10, 35, 0, 0, time.UTC)

	for name, want := range map[string]invoice.Invoice{
		"InvoiceDraft":     computedInvoice(t, invoice.StatusDraft, guideStep1),
		"InvoiceIssued":    issued,
		"InvoiceCancelled": cancelled,
		"InvoiceEdited":    edited,
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
	draft := computedInvoice(t, invoice.StatusDraft, guideStep1)
	if draft.TotalNet != 40000 || draft.TotalVAT != 2200 || draft.TotalAmount != 42200 {
		t.Errorf("the guide's invoice: net %d, VAT %d, total %d; want 40000, 2200, 42200", draft.TotalNet, draft.TotalVAT, draft.TotalAmount)
	}
	if edited.TotalNet != 1500 || edited.TotalVAT != 228 || edited.TotalAmount != 1728 {
		t.Errorf("the PATCH example: net %d, VAT %d, total %d; want 1500, 228, 1728", edited.TotalNet, edited.TotalVAT, edited.TotalAmount)
	}
}

// Invoice answers rendered by the Go types must match the document; shapes
// the code never answers must not.
func TestValidateInvoiceResponses(t *testing.T) {
	v := mustValidator(t)
	h := http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"r1"}}
	draft := computedInvoice(t, invoice.StatusDraft, guideStep1)
	sparse := draft // every omitempty field omitted, no bank account yet
	sparse.Payer.Address, sparse.Seller.VATNumber, sparse.BankAccount, sparse.PaymentTerms = nil, "", nil, ""
	noBankName := draft
	noBankName.BankAccount = &invoice.BankDetails{BankAccountID: "ba-1", IBAN: "FR7630006000011234567890189", BIC: "AGRIFRPP", AccountName: "B"}
	issued := computedInvoice(t, invoice.StatusIssued, editedLines...)
	issued.IssueDate = "2024-02-01"
	overdue := issued
	overdue.Status = invoice.StatusOverdue
	fine := computedInvoice(t, invoice.StatusDraft, guideLine{"Petit", "0.001", 1, "0"}) // net rounds to 0
	list := httpapi.NewList(httpapi.PageRequest{Page: 1, Size: 20}, listing.Page[invoice.Invoice]{Items: []invoice.Invoice{draft, issued}, Next: "abc", Total: -1},
		func(i invoice.Invoice) invoice.Invoice { return i })
	counted := httpapi.NewList(httpapi.PageRequest{Page: 1, Size: 20}, listing.Page[invoice.Invoice]{Items: []invoice.Invoice{draft}, Total: 1},
		func(i invoice.Invoice) invoice.Invoice { return i })
	errBody := func(typ, code, param string) []byte {
		return mustJSON(t, httpapi.ErrorBody{Error: httpapi.ErrorDetail{Type: typ, Code: code, Message: "x", Param: param, RequestID: "r1"}})
	}
	const path = "/v1/invoices/inv-123e4567-e89b-12d3-a456-426614174000"

	tests := []struct {
		name, method, path string
		status             int
		body               []byte
		valid              bool
	}{
		{"draft created", "POST", "/v1/invoices", 201, mustJSON(t, draft), true},
		{"draft without the optional fields, no bank account", "POST", "/v1/invoices", 201, mustJSON(t, sparse), true},
		{"bank account without bank_name", "GET", path, 200, mustJSON(t, noBankName), true},
		{"a line whose net rounds to 0", "GET", path, 200, mustJSON(t, fine), true},
		{"issued", "POST", path + "/issue", 200, mustJSON(t, issued), true},
		{"overdue read", "GET", path, 200, mustJSON(t, overdue), true},
		{"draft edited", "PATCH", path, 200, mustJSON(t, draft), true},
		{"cancelled", "POST", path + "/cancel", 200, mustJSON(t, draft), true},
		{"a page, never counted", "GET", "/v1/invoices", 200, mustJSON(t, list), true},
		{"X-Entity-Id missing", "GET", "/v1/invoices", 400, errBody("invalid_request_error", "malformed_request", "X-Entity-Id"), true},
		{"a role that may not write", "POST", "/v1/invoices", 403, errBody("permission_error", "forbidden", ""), true},
		{"another tenant's invoice", "GET", path, 404, errBody("invalid_request_error", "not_found", ""), true},
		{"not a draft", "PATCH", path, 409, errBody("invalid_request_error", "conflict", ""), true},
		{"past due date at issue", "POST", path + "/issue", 422, errBody("invalid_request_error", "validation_failed", "due_date"), true},
		{"no bank account at issue", "POST", path + "/issue", 409, errBody("invalid_request_error", "conflict", ""), true},
		{"a bad filter", "GET", "/v1/invoices", 422, errBody("invalid_request_error", "validation_failed", "status"), true},

		{"a counted page", "GET", "/v1/invoices", 200, mustJSON(t, counted), false},
		{"an unknown field", "GET", path, 200, edit(t, mustJSON(t, draft), func(m map[string]any) { m["partner_id"] = "ptn-1" }), false},
		{"bank_account absent rather than null", "GET", path, 200, edit(t, mustJSON(t, draft), func(m map[string]any) { delete(m, "bank_account") }), false},
		{"issue_date empty rather than omitted", "GET", path, 200, edit(t, mustJSON(t, draft), func(m map[string]any) { m["issue_date"] = "" }), false},
		{"an unknown status", "GET", path, 200, edit(t, mustJSON(t, draft), func(m map[string]any) { m["status"] = "unpaid" }), false},
		{"another currency", "GET", path, 200, edit(t, mustJSON(t, draft), func(m map[string]any) { m["currency"] = "USD" }), false},
		{"a number of another shape", "GET", path, 200, edit(t, mustJSON(t, draft), func(m map[string]any) { m["invoice_number"] = "F-2024-1" }), false},
		{"a fractional amount", "GET", path, 200, edit(t, mustJSON(t, draft), func(m map[string]any) { m["total_amount"] = 42199.5 }), false},
		{"a negative amount due", "GET", path, 200, edit(t, mustJSON(t, draft), func(m map[string]any) { m["amount_due"] = -1 }), false},
		{"an illegal VAT rate", "GET", path, 200, edit(t, mustJSON(t, draft), func(m map[string]any) {
			m["line_items"].([]any)[0].(map[string]any)["vat_rate"] = 19.6
		}), false},
		{"a quantity with 4 decimals", "GET", path, 200, edit(t, mustJSON(t, draft), func(m map[string]any) {
			m["line_items"].([]any)[0].(map[string]any)["quantity"] = 1.0001
		}), false},
		{"a line without net_amount", "GET", path, 200, edit(t, mustJSON(t, draft), func(m map[string]any) {
			delete(m["line_items"].([]any)[0].(map[string]any), "net_amount")
		}), false},
		{"no vat_breakdown", "GET", path, 200, edit(t, mustJSON(t, draft), func(m map[string]any) { m["vat_breakdown"] = []any{} }), false},
		{"a seller without SIRET", "GET", path, 200, edit(t, mustJSON(t, draft), func(m map[string]any) { delete(m["seller"].(map[string]any), "siret") }), false},
		{"a masked IBAN", "GET", path, 200, edit(t, mustJSON(t, draft), func(m map[string]any) {
			m["bank_account"].(map[string]any)["iban"] = "FR76•••••••••••••••••••0123"
		}), false},
		{"a read cannot be forbidden", "GET", path, 403, errBody("permission_error", "forbidden", ""), false},
		{"a list cannot conflict", "GET", "/v1/invoices", 409, errBody("invalid_request_error", "conflict", ""), false},
		{"created, not 200", "POST", "/v1/invoices", 200, mustJSON(t, draft), false},
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

// Every invoice route documents X-Entity-Id, the Invoices tag and the
// statuses the handlers can answer; writes document 403, reads do not.
func TestInvoiceOperations(t *testing.T) {
	doc, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	common := []string{"200", "400", "401", "404", "500", "503"}
	writes := []string{"403", "409", "413", "415", "422"}
	for _, c := range []struct {
		method, path string
		write        bool
		extra        []string
	}{
		{"POST", "/v1/invoices", true, nil},
		{"GET", "/v1/invoices", false, []string{"422"}},
		{"GET", "/v1/invoices/{invoice_id}", false, nil},
		{"PATCH", "/v1/invoices/{invoice_id}", true, nil},
		{"POST", "/v1/invoices/{invoice_id}/issue", true, nil},
		{"POST", "/v1/invoices/{invoice_id}/cancel", true, nil},
	} {
		op := doc.Paths.Value(c.path).GetOperation(c.method)
		key := c.method + " " + c.path
		if op == nil {
			t.Errorf("%s is not documented", key)
			continue
		}
		if len(op.Tags) != 1 || op.Tags[0] != "Invoices" {
			t.Errorf("%s: tags %v, want [Invoices]", key, op.Tags)
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
		if key == "POST /v1/invoices" {
			want[0] = "201"
		}
		for _, code := range want {
			if op.Responses.Value(code) == nil {
				t.Errorf("%s: no %s response", key, code)
			}
		}
		if !c.write && op.Responses.Value("403") != nil {
			t.Errorf("%s: every role reads invoices, so no 403", key)
		}
		if key == "POST /v1/invoices" && op.Responses.Value("200") != nil {
			t.Errorf("%s: creation answers 201, not 200", key)
		}
	}
}
