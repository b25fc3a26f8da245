// Package organizations serves the organisations family.
package organizations

import (
	"context"
	"net/http"

	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/branding"
	"github.com/modupay/modupay/shared/datasubject"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/organization"
)

// Handlers holds the family's dependencies.
type Handlers struct {
	Organizations *organization.Service
	Departments   *department.Service
	Branding      *branding.Service
	DataSubjects  *datasubject.Service
}

// Routes lists the family's routes, keyed as in template.yaml.
func (h *Handlers) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Key: "POST /v1/organizations", Tenancy: httpapi.PartnerLevel, Action: auth.ActionOrganizationsCreate, Handler: h.create},
		{Key: "GET /v1/organizations", Tenancy: httpapi.PartnerLevel, Action: auth.ActionOrganizationsList, Handler: h.list},
		{Key: "GET /v1/organizations/{org_id}", Tenancy: httpapi.OrgInPath, Action: auth.ActionOrganizationsRead, Handler: h.get},
		{Key: "PATCH /v1/organizations/{org_id}", Tenancy: httpapi.OrgInPath, Action: auth.ActionOrganizationsWrite, Handler: h.update},
		{Key: "POST /v1/organizations/{org_id}/departments", Tenancy: httpapi.OrgInPath, Action: auth.ActionDepartmentsWrite, Handler: h.createDepartment},
		{Key: "GET /v1/organizations/{org_id}/departments", Tenancy: httpapi.OrgInPath, Action: auth.ActionDepartmentsRead, Handler: h.listDepartments},
		{Key: "GET /v1/departments/{dept_id}", Tenancy: httpapi.OrgOfResource, Action: auth.ActionDepartmentsRead, Handler: h.getDepartment},
		{Key: "PATCH /v1/departments/{dept_id}", Tenancy: httpapi.OrgOfResource, Action: auth.ActionDepartmentsWrite, Handler: h.updateDepartment},
		{Key: "POST /v1/departments/{dept_id}/bank_accounts", Tenancy: httpapi.OrgOfResource, Action: auth.ActionBankAccountsWrite, Handler: h.createBankAccount},
		{Key: "GET /v1/departments/{dept_id}/bank_accounts", Tenancy: httpapi.OrgOfResource, Action: auth.ActionBankAccountsRead, Handler: h.listBankAccounts},
		{Key: "GET /v1/departments/{dept_id}/bank_accounts/{bank_account_id}", Tenancy: httpapi.OrgOfResource, Action: auth.ActionBankAccountsRead, Handler: h.getBankAccount},
		{Key: "PATCH /v1/departments/{dept_id}/bank_accounts/{bank_account_id}", Tenancy: httpapi.OrgOfResource, Action: auth.ActionBankAccountsWrite, Handler: h.updateBankAccount},
		{Key: "DELETE /v1/departments/{dept_id}/bank_accounts/{bank_account_id}", Tenancy: httpapi.OrgOfResource, Action: auth.ActionBankAccountsWrite, Handler: h.deleteBankAccount},
		{Key: "POST /v1/departments/{dept_id}/kyc/documents", Tenancy: httpapi.OrgOfResource, Action: auth.ActionKYCWrite, Handler: h.uploadKYCDocument},
		{Key: "POST /v1/departments/{dept_id}/kyc", Tenancy: httpapi.OrgOfResource, Action: auth.ActionKYCWrite, Handler: h.submitKYC},
		{Key: "GET /v1/departments/{dept_id}/kyc", Tenancy: httpapi.OrgOfResource, Action: auth.ActionKYCRead, Handler: h.getKYC},
		{Key: "GET /v1/branding", Tenancy: httpapi.PartnerLevel, Action: auth.ActionPartnerBrandingRead, Handler: h.getPartnerBranding},
		{Key: "PUT /v1/branding", Tenancy: httpapi.PartnerLevel, Action: auth.ActionPartnerBrandingWrite, Handler: h.putPartnerBranding},
		{Key: "GET /v1/organizations/{org_id}/branding", Tenancy: httpapi.OrgInPath, Action: auth.ActionBrandingRead, Handler: h.getOrgBranding},
		{Key: "PUT /v1/organizations/{org_id}/branding", Tenancy: httpapi.OrgInPath, Action: auth.ActionBrandingWrite, Handler: h.putOrgBranding},
		{Key: "GET /v1/organizations/{org_id}/data_subjects/export", Tenancy: httpapi.OrgInPath, Action: auth.ActionDataSubjectsExport, Handler: h.exportDataSubject},
		{Key: "POST /v1/organizations/{org_id}/data_subjects/erase", Tenancy: httpapi.OrgInPath, Action: auth.ActionDataSubjectsErase, Handler: h.eraseDataSubject},
	}
}

// Organisations are created and listed by partners; an organisation token
// reads its own organisation only.
func (h *Handlers) create(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in organization.CreateInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	org, err := h.Organizations.Create(ctx, r.Tenant.PartnerID, r.Actor(), in)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusCreated, org)
}

func (h *Handlers) get(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	org, err := h.Organizations.Get(ctx, t.PartnerID, t.OrgID)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, org)
}

func (h *Handlers) update(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	var in organization.UpdateInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	res, err := h.Organizations.Update(ctx, t.PartnerID, t.OrgID, r.Actor(), in)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, res)
}

func (h *Handlers) list(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	q, err := r.PageParams()
	if err != nil {
		return nil, err
	}
	f := organization.Filter{Type: r.Query.Get("type"), Name: r.Query.Get("name")}
	page, err := h.Organizations.List(ctx, r.Tenant.PartnerID, q, f)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, httpapi.NewList(q, page, func(o organization.Organization) organization.Organization { return o }))
}

// The partner's white label (name, logo, colour of the payment page) is set
// with a partner token; an organisation may override it (partner token or
// the organisation's admin).
func (h *Handlers) getPartnerBranding(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	b, err := h.Branding.Get(ctx, r.Tenant.PartnerID, "")
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, b)
}

func (h *Handlers) putPartnerBranding(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in branding.Branding
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	b, err := h.Branding.Put(ctx, r.Tenant.PartnerID, "", r.Actor(), in)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, b)
}

func (h *Handlers) getOrgBranding(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	b, err := h.Branding.Get(ctx, t.PartnerID, t.OrgID)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, b)
}

func (h *Handlers) putOrgBranding(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	var in branding.Branding
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	b, err := h.Branding.Put(ctx, t.PartnerID, t.OrgID, r.Actor(), in)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, b)
}
