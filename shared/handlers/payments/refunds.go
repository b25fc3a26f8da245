package payments

import (
	"context"
	"net/http"
	"time"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/refund"
)

// refundRoutes are the refunds' routes (seed 000, "Remboursements"), served
// by the payments function beside the intents they refund.
func (h *Handlers) refundRoutes() []httpapi.Route {
	return []httpapi.Route{
		{Key: "POST /v1/refunds", Tenancy: httpapi.OrgInEntity, Action: auth.ActionRefundsCreate, Handler: h.createRefund},
		{Key: "GET /v1/refunds", Tenancy: httpapi.OrgInEntity, Action: auth.ActionRefundsRead, Handler: h.listRefunds},
		{Key: "GET /v1/refunds/{refund_id}", Tenancy: httpapi.OrgInEntity, Action: auth.ActionRefundsRead, Handler: h.getRefund},
		{Key: "POST /v1/refunds/{refund_id}/confirm", Tenancy: httpapi.OrgInEntity, Action: auth.ActionRefundsCreate, Handler: h.confirmRefund},
		{Key: "POST /v1/refunds/{refund_id}/cancel", Tenancy: httpapi.OrgInEntity, Action: auth.ActionRefundsCreate, Handler: h.cancelRefund},
		{Key: "GET /v1/payment_intents/{intent_id}/refunds", Tenancy: httpapi.OrgInEntity, Action: auth.ActionRefundsRead, Handler: h.intentRefunds},
	}
}

func (h *Handlers) createRefund(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	var in refund.CreateInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	rf, err := h.Refunds.Create(ctx, t.PartnerID, t.OrgID, r.Actor(), in)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusCreated, rf)
}

func (h *Handlers) getRefund(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	rf, err := h.Refunds.Get(ctx, t.PartnerID, t.OrgID, r.PathParams["refund_id"])
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, rf)
}

func (h *Handlers) listRefunds(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	const op = "refund.list"
	t := r.Tenant
	q, err := r.PageParams()
	if err != nil {
		return nil, err
	}
	f := refund.Filter{Status: r.Query.Get("status"), PaymentIntentID: r.Query.Get("payment_intent_id")}
	for _, d := range []struct {
		param string
		into  *time.Time
	}{{"created_from", &f.CreatedFrom}, {"created_to", &f.CreatedTo}} {
		if v := r.Query.Get(d.param); v != "" {
			ts, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return nil, apperr.Field(op, d.param, d.param+" must be an RFC 3339 date-time, e.g. 2024-02-01T00:00:00Z")
			}
			*d.into = ts
		}
	}
	page, err := h.Refunds.List(ctx, t.PartnerID, t.OrgID, q, f)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, httpapi.NewList(q, page, func(rf refund.Refund) refund.Refund { return rf }))
}

// refundLine is a refund as seed 000's "Suivi des remboursements" lists it.
type refundLine struct {
	ID          string     `json:"id"`
	Amount      int64      `json:"amount"`
	Status      string     `json:"status"`
	Reason      string     `json:"reason"`
	CreatedAt   time.Time  `json:"created_at"`
	CompletedAt *time.Time `json:"completed_at"`
}

type refundLines struct {
	Data []refundLine `json:"data"`
}

// intentRefunds answers an intent's refunds exactly as seed 000 shows them
// (the whole refund is GET /v1/refunds/{id}); another organisation's intent
// is a 404.
func (h *Handlers) intentRefunds(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	rs, err := h.Refunds.ListForIntent(ctx, t.PartnerID, t.OrgID, r.PathParams["intent_id"])
	if err != nil {
		return nil, err
	}
	out := refundLines{Data: make([]refundLine, 0, len(rs))}
	for _, rf := range rs {
		out.Data = append(out.Data, refundLine{ID: rf.ID, Amount: rf.Amount, Status: rf.Status, Reason: rf.Reason, CreatedAt: rf.CreatedAt, CompletedAt: rf.CompletedAt})
	}
	return httpapi.JSON(http.StatusOK, out)
}

func (h *Handlers) confirmRefund(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	return h.refundAction(ctx, r, h.Refunds.Confirm)
}

func (h *Handlers) cancelRefund(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	return h.refundAction(ctx, r, h.Refunds.Cancel)
}

func (h *Handlers) refundAction(ctx context.Context, r *httpapi.Request, act func(context.Context, string, string, string, event.Actor) (refund.Refund, error)) (*httpapi.Response, error) {
	t := r.Tenant
	rf, err := act(ctx, t.PartnerID, t.OrgID, r.PathParams["refund_id"], r.Actor())
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, rf)
}
