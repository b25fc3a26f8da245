package invoices

import (
	"context"

	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/documents"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/invoice"
)

// DocumentReader reads an issued invoice's kept documents
// (documents.Keeper).
type DocumentReader interface {
	Read(ctx context.Context, inv invoice.Invoice, kind documents.Kind, lang string) (documents.Document, error)
	ReadCredit(ctx context.Context, inv invoice.Invoice, number string, kind documents.Kind, lang string) (documents.Document, error)
}

// documentRoutes serve an issued invoice's documents, as kept at its issue:
// one read of the invoice (tenancy, status, the version its documents were
// kept under) and one object fetch.
func (h *Handlers) documentRoutes() []httpapi.Route {
	doc := func(kind documents.Kind) httpapi.HandlerFunc {
		return func(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
			return h.document(ctx, r, kind)
		}
	}
	credit := func(kind documents.Kind) httpapi.HandlerFunc {
		return func(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
			return h.creditNote(ctx, r, kind)
		}
	}
	return []httpapi.Route{
		{Key: "GET /v1/invoices/{invoice_id}/pdf", Tenancy: httpapi.OrgInEntity, Action: auth.ActionInvoicesRead, Handler: doc(documents.PDF)},
		{Key: "GET /v1/invoices/{invoice_id}/facturx", Tenancy: httpapi.OrgInEntity, Action: auth.ActionInvoicesRead, Handler: doc(documents.FacturX)},
		{Key: "GET /v1/invoices/{invoice_id}/cii.xml", Tenancy: httpapi.OrgInEntity, Action: auth.ActionInvoicesRead, Handler: doc(documents.CII)},
		{Key: "GET /v1/invoices/{invoice_id}/credit_notes/{credit_note_number}/pdf", Tenancy: httpapi.OrgInEntity, Action: auth.ActionInvoicesRead, Handler: credit(documents.PDF)},
		{Key: "GET /v1/invoices/{invoice_id}/credit_notes/{credit_note_number}/facturx", Tenancy: httpapi.OrgInEntity, Action: auth.ActionInvoicesRead, Handler: credit(documents.FacturX)},
		{Key: "GET /v1/invoices/{invoice_id}/credit_notes/{credit_note_number}/cii.xml", Tenancy: httpapi.OrgInEntity, Action: auth.ActionInvoicesRead, Handler: credit(documents.CII)},
	}
}

// creditNote answers a document of one of the invoice's credit notes, as
// kept when it was made (the cancellation, a refund): one read, one object
// fetch.
func (h *Handlers) creditNote(ctx context.Context, r *httpapi.Request, kind documents.Kind) (*httpapi.Response, error) {
	t := r.Tenant
	inv, err := h.Invoices.Get(ctx, t.PartnerID, t.OrgID, r.PathParams["invoice_id"])
	if err != nil {
		return nil, err
	}
	d, err := h.Documents.ReadCredit(ctx, inv, r.PathParams["credit_note_number"], kind, r.Query.Get("lang"))
	if err != nil {
		return nil, err
	}
	return httpapi.File(d.ContentType, d.FileName, d.Body), nil
}

// document answers a kept document: inline (a browser shows it; its name
// is the invoice's number), never changing, so a client may keep it.
func (h *Handlers) document(ctx context.Context, r *httpapi.Request, kind documents.Kind) (*httpapi.Response, error) {
	t := r.Tenant
	inv, err := h.Invoices.Get(ctx, t.PartnerID, t.OrgID, r.PathParams["invoice_id"])
	if err != nil {
		return nil, err
	}
	d, err := h.Documents.Read(ctx, inv, kind, r.Query.Get("lang"))
	if err != nil {
		return nil, err
	}
	return httpapi.File(d.ContentType, d.FileName, d.Body), nil
}
