package openapi_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/organization"
	"github.com/modupay/modupay/shared/validation"
)

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The organisation structure's answers, rendered by the Go types themselves,
// must match the document; shapes the code never answers must not.
func TestValidateStructureResponses(t *testing.T) {
	v := mustValidator(t)
	h := http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"r1"}}
	at := time.Date(2024, 2, 1, 9, 40, 0, 0, time.UTC)

	var org organization.Organization
	if err := json.Unmarshal(organizationSample(t), &org); err != nil {
		t.Fatal(err)
	}
	sandboxWarnings := []validation.Warning{
		{Param: "siret", Code: "checksum_failed", Message: "the SIRET fails its Luhn check; accepted in the sandbox, refused in production"},
		{Param: "siret", Code: "unusual_for_type", Message: "the SIREN of a public entity normally begins with 1 or 2"},
	}
	withWarnings := mustJSON(t, organization.Result{Organization: org, Warnings: sandboxWarnings})
	without := mustJSON(t, organization.Result{Organization: org})

	dept := department.Department{ID: "dept-1", PartnerID: "ptn-1", OrgID: org.ID, Name: "Régie de l'Eau", Code: "REG-EAU-001",
		Status: "active", KYCStatus: department.KYCNotSubmitted, CreatedAt: at, UpdatedAt: at}
	acct := department.BankAccount{ID: "ba-1", PartnerID: "ptn-1", DepartmentID: dept.ID, OrgID: org.ID, IBAN: "FR7612345678901234567890123",
		BIC: "BNPAFRPPXXX", AccountName: "Compte Régie Eau", IsDefault: true, Status: department.AccountPendingVerification, CreatedAt: at, UpdatedAt: at}
	ibanWarning := []validation.Warning{{Param: "iban", Code: "sandbox_test_iban", Message: "sandbox test IBAN"}}
	type accountList struct {
		Data []department.BankAccount `json:"data"`
	}
	notSubmitted := department.KYC{DepartmentID: dept.ID, OrgID: org.ID, Status: department.KYCNotSubmitted,
		Documents: []department.DocumentRef{}, RejectionReasons: []department.Reason{}}
	refs := []department.DocumentRef{{Type: department.DocRIB, DocumentID: "doc-1"}, {Type: department.DocIdentity, DocumentID: "doc-2"}}
	rejected := department.KYC{DepartmentID: dept.ID, OrgID: org.ID, Status: department.KYCRejected,
		Representative: &department.Representative{FirstName: "Marie", LastName: "Reject", Role: "regisseur", DateOfBirth: "1975-06-15"},
		Documents:      refs, BankAccountID: acct.ID, SubmittedAt: &at, DecidedAt: &at,
		RejectionReasons: []department.Reason{{Code: "document_unreadable", Message: "sandbox"}}}
	pending := rejected
	pending.Status, pending.DecidedAt, pending.RejectionReasons = department.KYCPending, nil, []department.Reason{}
	doc := department.Document{ID: "doc-1", PartnerID: "ptn-1", DepartmentID: dept.ID, OrgID: org.ID, Type: department.DocRIB,
		FileName: "rib.pdf", ContentType: "application/pdf", Size: 15, Content: []byte("%PDF-"),
		SHA256: "14bcd090baf31edba64e9cbd8cdfc15f943344aa72cb3675ad8e91bfcbce03ad", CreatedAt: at}
	deptList := httpapi.NewList(httpapi.PageRequest{Page: 1, Size: 20}, listing.Page[department.Department]{Items: []department.Department{dept}, Total: 1},
		func(d department.Department) department.Department { return d })

	tests := []struct {
		name, method, path string
		status             int
		body               []byte
		valid              bool
	}{
		{"organisation created with warnings", "POST", "/v1/organizations", 201, withWarnings, true},
		{"organisation created without warnings (omitempty)", "POST", "/v1/organizations", 201, without, true},
		{"organisation updated with warnings", "PATCH", "/v1/organizations/org-1", 200, withWarnings, true},
		{"organisation read: never warnings", "GET", "/v1/organizations/org-1", 200, withWarnings, false},
		{"warnings: an empty array is omitted, not sent", "POST", "/v1/organizations", 201,
			edit(t, without, func(m map[string]any) { m["warnings"] = []any{} }), false},
		{"warnings: an unknown code", "POST", "/v1/organizations", 201,
			edit(t, withWarnings, func(m map[string]any) { m["warnings"].([]any)[0].(map[string]any)["code"] = "other" }), false},

		{"department created", "POST", "/v1/organizations/org-1/departments", 201, mustJSON(t, dept), true},
		{"department read", "GET", "/v1/departments/dept-1", 200, mustJSON(t, dept), true},
		{"department updated", "PATCH", "/v1/departments/dept-1", 200, mustJSON(t, dept), true},
		{"department list", "GET", "/v1/organizations/org-1/departments", 200, mustJSON(t, deptList), true},
		{"department with a lower-case code", "GET", "/v1/departments/dept-1", 200,
			edit(t, mustJSON(t, dept), func(m map[string]any) { m["code"] = "reg-eau-001" }), false},
		{"department without default_bank_account_id", "GET", "/v1/departments/dept-1", 200,
			edit(t, mustJSON(t, dept), func(m map[string]any) { delete(m, "default_bank_account_id") }), false},
		{"department without payout_bank_account_id", "GET", "/v1/departments/dept-1", 200,
			edit(t, mustJSON(t, dept), func(m map[string]any) { delete(m, "payout_bank_account_id") }), false},
		{"account with the status of before verification existed", "GET", "/v1/departments/dept-1/bank_accounts/ba-1", 200,
			edit(t, mustJSON(t, acct), func(m map[string]any) { m["status"] = "active" }), false},
		{"department list without pagination", "GET", "/v1/organizations/org-1/departments", 200,
			edit(t, mustJSON(t, deptList), func(m map[string]any) { delete(m, "pagination") }), false},
		{"a department read cannot conflict", "GET", "/v1/departments/dept-1", 409,
			mustJSON(t, httpapi.ErrorBody{Error: httpapi.ErrorDetail{Type: "invalid_request_error", Code: "conflict", Message: "x", RequestID: "r1"}}), false},

		{"account created with a warning", "POST", "/v1/departments/dept-1/bank_accounts", 201,
			mustJSON(t, department.AccountResult{BankAccount: acct, Warnings: ibanWarning}), true},
		{"account created without warnings", "POST", "/v1/departments/dept-1/bank_accounts", 201,
			mustJSON(t, department.AccountResult{BankAccount: acct}), true},
		{"account read in full", "GET", "/v1/departments/dept-1/bank_accounts/ba-1", 200, mustJSON(t, acct), true},
		{"account updated", "PATCH", "/v1/departments/dept-1/bank_accounts/ba-1", 200, mustJSON(t, acct), true},
		{"account read: never warnings", "GET", "/v1/departments/dept-1/bank_accounts/ba-1", 200,
			mustJSON(t, department.AccountResult{BankAccount: acct, Warnings: ibanWarning}), false},
		{"account list, IBANs masked", "GET", "/v1/departments/dept-1/bank_accounts", 200,
			mustJSON(t, accountList{Data: []department.BankAccount{acct.Masked()}}), true},
		{"account list, an IBAN in full", "GET", "/v1/departments/dept-1/bank_accounts", 200,
			mustJSON(t, accountList{Data: []department.BankAccount{acct}}), false},
		{"account list with pagination", "GET", "/v1/departments/dept-1/bank_accounts", 200,
			edit(t, mustJSON(t, accountList{Data: []department.BankAccount{}}), func(m map[string]any) { m["pagination"] = map[string]any{} }), false},
		{"account deleted", "DELETE", "/v1/departments/dept-1/bank_accounts/ba-1", 204, nil, true},

		{"document uploaded", "POST", "/v1/departments/dept-1/kyc/documents", 201, mustJSON(t, doc), true},
		{"document with its content", "POST", "/v1/departments/dept-1/kyc/documents", 201,
			edit(t, mustJSON(t, doc), func(m map[string]any) { m["content_base64"] = "JVBERi0=" }), false},
		{"KYC not submitted", "GET", "/v1/departments/dept-1/kyc", 200, mustJSON(t, notSubmitted), true},
		{"KYC rejected", "POST", "/v1/departments/dept-1/kyc", 201, mustJSON(t, rejected), true},
		{"KYC pending", "GET", "/v1/departments/dept-1/kyc", 200, mustJSON(t, pending), true},
		{"KYC with documents null", "GET", "/v1/departments/dept-1/kyc", 200,
			edit(t, mustJSON(t, notSubmitted), func(m map[string]any) { m["documents"] = nil }), false},
		{"KYC without submitted_at", "GET", "/v1/departments/dept-1/kyc", 200,
			edit(t, mustJSON(t, notSubmitted), func(m map[string]any) { delete(m, "submitted_at") }), false},
		{"KYC with an unknown status", "GET", "/v1/departments/dept-1/kyc", 200,
			edit(t, mustJSON(t, pending), func(m map[string]any) { m["status"] = "in_review" }), false},
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
