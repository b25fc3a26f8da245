// Package invoices serves the invoices family. Every route acts on the
// organisation named by X-Entity-Id (or the organisation token's own).
package invoices

import (
	"context"
	"net/http"

	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/invoice"
)

// Handlers holds the family's dependencies.
type Handlers struct {
	Invoices *invoice.Service
	// Documents reads the documents kept at issue.
	Documents DocumentReader
}

// Routes lists the family's routes, keyed as in template.yaml.
func (h *Handlers) Routes() []httpapi.Route {
	routes := []httpapi.Route{
		{Key: "POST /v1/invoices", Tenancy: httpapi.OrgInEntity, Action: auth.ActionInvoicesWrite, Handler: h.create},
		{Key: "GET /v1/invoices", Tenancy: httpapi.OrgInEntity, Action: auth.ActionInvoicesRead, Handler: h.list},
		{Key: "GET /v1/invoices/{invoice_id}", Tenancy: httpapi.OrgInEntity, Action: auth.ActionInvoicesRead, Handler: h.get},
		{Key: "PATCH /v1/invoices/{invoice_id}", Tenancy: httpapi.OrgInEntity, Action: auth.ActionInvoicesWrite, Handler: h.update},
		{Key: "POST /v1/invoices/{invoice_id}/issue", Tenancy: httpapi.OrgInEntity, Action: auth.ActionInvoicesWrite, Handler: h.issue},
		{Key: "POST /v1/invoices/{invoice_id}/cancel", Tenancy: httpapi.OrgInEntity, Action: auth.ActionInvoicesWrite, Handler: h.cancel},
		{Key: "PATCH /v1/invoices/{invoice_id}/payer", Tenancy: httpapi.OrgInEntity, Action: auth.ActionInvoicesRectifyPayer, Handler: h.rectifyPayer},
	}
	return append(routes, h.documentRoutes()...)
}

func (h *Handlers) create(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	var in invoice.CreateInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	inv, err := h.Invoices.Create(ctx, t.PartnerID, t.OrgID, r.Actor(), in)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusCreated, inv)
}

func (h *Handlers) get(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	inv, err := h.Invoices.Get(ctx, t.PartnerID, t.OrgID, r.PathParams["invoice_id"])
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, inv)
}

func (h *Handlers) list(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	const op = "invoices.list"
	t := r.Tenant
	q, err := r.PageParams()
	if err != nil {
		return nil, err
	}
	f, err := invoice.FilterOf(op, r.Query)
	if err != nil {
		return nil, err
	}
	page, err := h.Invoices.List(ctx, t.PartnerID, t.OrgID, q, f)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, httpapi.NewList(q, page, func(i invoice.Invoice) invoice.Invoice { return i }))
}

func (h *Handlers) update(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	var in invoice.UpdateInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	inv, err := h.Invoices.Update(ctx, t.PartnerID, t.OrgID, r.PathParams["invoice_id"], r.Actor(), in)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, inv)
}

// rectifyPayer corrects the payer's contact details (GDPR article 16) on
// an invoice of any status; amounts and numbers are not touched.
func (h *Handlers) rectifyPayer(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	var in invoice.RectifyInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	inv, err := h.Invoices.RectifyPayer(ctx, t.PartnerID, t.OrgID, r.PathParams["invoice_id"], r.Actor(), in)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, inv)
}

func (h *Handlers) issue(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	return h.act(ctx, r, h.Invoices.Issue)
}

func (h *Handlers) cancel(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	return h.act(ctx, r, h.Invoices.Cancel)
}

// act runs a body-less state change (issue, cancel).
func (h *Handlers) act(ctx context.Context, r *httpapi.Request, do func(context.Context, string, string, string, event.Actor) (invoice.Invoice, error)) (*httpapi.Response, error) {
	t := r.Tenant
	inv, err := do(ctx, t.PartnerID, t.OrgID, r.PathParams["invoice_id"], r.Actor())
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, inv)
}
