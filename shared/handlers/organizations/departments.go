package organizations

import (
	"context"
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/httpapi"
)

// deptScope is the department scope of the tenant the edge resolved: the
// partner, and the organisation unless a partner token reaches all of its own.
func deptScope(r *httpapi.Request) department.Scope {
	return department.Scope{PartnerID: r.Tenant.PartnerID, OrgID: r.Tenant.OrgID}
}

func (h *Handlers) createDepartment(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	var in department.CreateInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	d, err := h.Departments.Create(ctx, t.PartnerID, t.OrgID, r.Actor(), in)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusCreated, d)
}

func (h *Handlers) listDepartments(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	q, err := r.PageParams()
	if err != nil {
		return nil, err
	}
	page, err := h.Departments.List(ctx, t.PartnerID, t.OrgID, q)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, httpapi.NewList(q, page, func(d department.Department) department.Department { return d }))
}

func (h *Handlers) getDepartment(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	d, err := h.Departments.Get(ctx, deptScope(r), r.PathParams["dept_id"])
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, d)
}

func (h *Handlers) updateDepartment(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in department.UpdateInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	d, err := h.Departments.Update(ctx, deptScope(r), r.PathParams["dept_id"], r.Actor(), in)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, d)
}

func (h *Handlers) createBankAccount(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in department.CreateAccountInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	a, err := h.Departments.CreateAccount(ctx, deptScope(r), r.PathParams["dept_id"], r.Actor(), in)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusCreated, a)
}

// accountList is the shape of the account list: every account of the
// department (a department has a handful), IBANs masked.
type accountList struct {
	Data []department.BankAccount `json:"data"`
}

func (h *Handlers) listBankAccounts(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	as, err := h.Departments.ListAccounts(ctx, deptScope(r), r.PathParams["dept_id"])
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, accountList{Data: as})
}

func (h *Handlers) getBankAccount(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	a, err := h.Departments.GetAccount(ctx, deptScope(r), r.PathParams["dept_id"], r.PathParams["bank_account_id"])
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, a)
}

func (h *Handlers) updateBankAccount(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in department.UpdateAccountInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	a, err := h.Departments.UpdateAccount(ctx, deptScope(r), r.PathParams["dept_id"], r.PathParams["bank_account_id"], r.Actor(), in)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, a)
}

func (h *Handlers) deleteBankAccount(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if err := h.Departments.DeleteAccount(ctx, deptScope(r), r.PathParams["dept_id"], r.PathParams["bank_account_id"], r.Actor()); err != nil {
		return nil, err
	}
	return httpapi.NoContent(), nil
}

func (h *Handlers) uploadKYCDocument(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in department.UploadInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	doc, err := h.Departments.UploadDocument(ctx, deptScope(r), r.PathParams["dept_id"], r.Actor(), in)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusCreated, doc)
}

func (h *Handlers) getKYC(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	k, err := h.Departments.GetKYC(ctx, deptScope(r), r.PathParams["dept_id"])
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, k)
}

func (h *Handlers) submitKYC(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	// The department first: another tenant's id is a 404 whatever the body.
	if _, err := h.Departments.Get(ctx, deptScope(r), r.PathParams["dept_id"]); err != nil {
		return nil, err
	}
	if err := missingKYCFields(r); err != nil {
		return nil, err
	}
	var in department.SubmitInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	k, err := h.Departments.SubmitKYC(ctx, deptScope(r), r.PathParams["dept_id"], r.Actor(), in)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusCreated, k)
}

// missingKYCFields answers a body that lacks the submission's fields with a
// 422 naming them, before any complaint about fields it has instead: the
// integration guide's step 6 sends a bank account body here, and what its
// author needs to hear is what a KYC submission is made of.
func missingKYCFields(r *httpapi.Request) error {
	var fields map[string]json.RawMessage
	if r.MediaType() != "application/json" || json.Unmarshal(r.Body, &fields) != nil {
		return nil // DecodeJSON gives the precise error
	}
	var missing []string
	for _, f := range department.KYCRequiredFields {
		if _, ok := fields[f]; !ok {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	msg := "a KYC submission needs " + strings.Join(missing, " and ") +
		" (the representative: first_name, last_name, role, date_of_birth; documents: uploaded ids of the RIB, an identity document, and the régisseur's appointment act or a Kbis extract)"
	var extra []string
	for f := range fields {
		if f != "representative" && f != "documents" && f != "bank_account_id" {
			extra = append(extra, f)
		}
	}
	if len(extra) > 0 {
		sort.Strings(extra)
		msg += "; " + strings.Join(extra, ", ") + " are not KYC fields (bank accounts are added with POST /v1/departments/{dept_id}/bank_accounts)"
	}
	return apperr.Field("kyc.submit", missing[0], msg)
}
