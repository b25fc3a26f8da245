// Package payments serves payment links and payment intents. Every route
// acts on the organisation named by X-Entity-Id (or the organisation token's).
package payments

import (
	"context"
	"net/http"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/qr"
	"github.com/modupay/modupay/shared/refund"
)

// Handlers holds the family's dependencies.
type Handlers struct {
	Payments *payment.Service
	Refunds  *refund.Service
	// Flow settles an intent the organisation resolves (Flow.Resolve).
	Flow *payment.Flow
}

// Routes lists the family's routes, keyed as in template.yaml.
func (h *Handlers) Routes() []httpapi.Route {
	return append([]httpapi.Route{
		{Key: "POST /v1/payment_links", Tenancy: httpapi.OrgInEntity, Action: auth.ActionPaymentLinksWrite, Handler: h.createLink},
		{Key: "GET /v1/payment_links", Tenancy: httpapi.OrgInEntity, Action: auth.ActionPaymentLinksRead, Handler: h.listLinks},
		{Key: "GET /v1/payment_links/{link_id}", Tenancy: httpapi.OrgInEntity, Action: auth.ActionPaymentLinksRead, Handler: h.getLink},
		{Key: "GET /v1/payment_links/{link_id}/qr.png", Tenancy: httpapi.OrgInEntity, Action: auth.ActionPaymentLinksRead, Handler: h.linkQR},
		{Key: "POST /v1/payment_links/{link_id}/deactivate", Tenancy: httpapi.OrgInEntity, Action: auth.ActionPaymentLinksWrite, Handler: h.deactivate},
		{Key: "GET /v1/payment_intents", Tenancy: httpapi.OrgInEntity, Action: auth.ActionPaymentIntentsRead, Handler: h.listIntents},
		{Key: "GET /v1/payment_intents/{intent_id}", Tenancy: httpapi.OrgInEntity, Action: auth.ActionPaymentIntentsRead, Handler: h.getIntent},
		{Key: "POST /v1/payment_intents/{intent_id}/resolve", Tenancy: httpapi.OrgInEntity, Action: auth.ActionPaymentIntentsResolve, Handler: h.resolveIntent},
	}, h.refundRoutes()...)
}

// resolveIntent records how a transfer the bank lost track of ended.
func (h *Handlers) resolveIntent(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	var in payment.ResolveInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	pi, err := h.Flow.Resolve(ctx, t.PartnerID, t.OrgID, r.PathParams["intent_id"], in, r.Actor())
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, pi)
}

func (h *Handlers) createLink(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	var in payment.CreateLinkInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	in.RequestOrigin = r.Origin()
	l, err := h.Payments.CreateLink(ctx, t.PartnerID, t.OrgID, r.Actor(), in)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusCreated, l)
}

func (h *Handlers) listLinks(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	q, err := r.PageParams()
	if err != nil {
		return nil, err
	}
	page, err := h.Payments.ListLinks(ctx, t.PartnerID, t.OrgID, q, r.Query.Get("invoice_id"), r.Query.Get("status"))
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, httpapi.NewList(q, page, func(l payment.Link) payment.Link { return l }))
}

func (h *Handlers) getLink(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	l, err := h.Payments.GetLink(ctx, t.PartnerID, t.OrgID, r.PathParams["link_id"])
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, l)
}

// linkQR answers the link's QR code, which encodes its qr_code_data (the
// payment page URL), as a PNG. Like getLink, any role reads it and another
// tenant's link is a 404. The image never changes for a link, whatever its
// status, so the client may keep it a few minutes.
func (h *Handlers) linkQR(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	l, err := h.Payments.GetLink(ctx, t.PartnerID, t.OrgID, r.PathParams["link_id"])
	if err != nil {
		return nil, err
	}
	img, err := qr.PNG(l.QRCodeData)
	if err != nil {
		return nil, apperr.Wrap("payments.qr", err)
	}
	resp := httpapi.Raw(http.StatusOK, "image/png", img)
	resp.Binary = true
	resp.Header.Set("Cache-Control", "private, max-age=300")
	return resp, nil
}

func (h *Handlers) deactivate(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	l, err := h.Payments.Deactivate(ctx, t.PartnerID, t.OrgID, r.PathParams["link_id"], r.Actor())
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, l)
}

func (h *Handlers) getIntent(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	pi, err := h.Payments.GetIntent(ctx, t.PartnerID, t.OrgID, r.PathParams["intent_id"])
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, pi)
}

// intentList is every intent of an invoice (an invoice has a handful).
type intentList struct {
	Data []payment.Intent `json:"data"`
}

func (h *Handlers) listIntents(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	pis, err := h.Payments.ListIntents(ctx, t.PartnerID, t.OrgID, r.Query.Get("invoice_id"))
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, intentList{Data: pis})
}
