// Package webhooks serves webhook subscriptions, their delivery log and
// replays. Subscriptions belong to the partner (seed 000's request has no
// X-Entity-Id): every route needs a partner token, and another partner's
// subscription or delivery is a 404.
package webhooks

import (
	"bytes"
	"context"
	"net/http"
	"time"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/webhook"
)

// Handlers holds the family's dependencies.
type Handlers struct {
	Webhooks *webhook.Service
}

// Routes lists the family's routes, keyed as in template.yaml.
func (h *Handlers) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Key: "POST /v1/webhook_subscriptions", Tenancy: httpapi.PartnerLevel, Action: auth.ActionWebhooksWrite, Handler: h.create, Redact: []string{"secret"}},
		{Key: "GET /v1/webhook_subscriptions", Tenancy: httpapi.PartnerLevel, Action: auth.ActionWebhooksRead, Handler: h.list},
		{Key: "GET /v1/webhook_subscriptions/{subscription_id}", Tenancy: httpapi.PartnerLevel, Action: auth.ActionWebhooksRead, Handler: h.get},
		{Key: "PATCH /v1/webhook_subscriptions/{subscription_id}", Tenancy: httpapi.PartnerLevel, Action: auth.ActionWebhooksWrite, Handler: h.update},
		{Key: "DELETE /v1/webhook_subscriptions/{subscription_id}", Tenancy: httpapi.PartnerLevel, Action: auth.ActionWebhooksWrite, Handler: h.delete},
		{Key: "POST /v1/webhook_subscriptions/{subscription_id}/rotate_secret", Tenancy: httpapi.PartnerLevel, Action: auth.ActionWebhooksWrite, Handler: h.rotate, Redact: []string{"secret"}},
		{Key: "POST /v1/webhook_subscriptions/{subscription_id}/test", Tenancy: httpapi.PartnerLevel, Action: auth.ActionWebhooksWrite, Handler: h.test},
		{Key: "GET /v1/webhook_subscriptions/{subscription_id}/deliveries", Tenancy: httpapi.PartnerLevel, Action: auth.ActionWebhooksRead, Handler: h.deliveries},
		{Key: "GET /v1/webhook_deliveries/{delivery_id}", Tenancy: httpapi.PartnerLevel, Action: auth.ActionWebhooksRead, Handler: h.getDelivery},
		{Key: "POST /v1/webhook_deliveries/{delivery_id}/retry", Tenancy: httpapi.PartnerLevel, Action: auth.ActionWebhooksWrite, Handler: h.retry},
	}
}

func (h *Handlers) create(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in webhook.CreateInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	sub, err := h.Webhooks.Create(ctx, r.Tenant.PartnerID, r.Actor(), in)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusCreated, sub)
}

// subscriptionList is the partner's subscriptions: at most
// webhook.MaxSubscriptions, so never paged.
type subscriptionList struct {
	Data []webhook.Subscription `json:"data"`
}

func (h *Handlers) list(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	subs, err := h.Webhooks.List(ctx, r.Tenant.PartnerID)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, subscriptionList{Data: subs})
}

func (h *Handlers) get(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	sub, err := h.Webhooks.Get(ctx, r.Tenant.PartnerID, r.PathParams["subscription_id"])
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, sub)
}

func (h *Handlers) update(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in webhook.UpdateInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	sub, err := h.Webhooks.Update(ctx, r.Tenant.PartnerID, r.PathParams["subscription_id"], r.Actor(), in)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, sub)
}

func (h *Handlers) delete(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if err := h.Webhooks.Delete(ctx, r.Tenant.PartnerID, r.PathParams["subscription_id"], r.Actor()); err != nil {
		return nil, err
	}
	return httpapi.NoContent(), nil
}

// rotate takes an optional body: without one the previous secret keeps
// signing for webhook.DefaultOverlap.
func (h *Handlers) rotate(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in webhook.RotateInput
	if len(bytes.TrimSpace(r.Body)) > 0 {
		if err := httpapi.DecodeJSON(r, &in); err != nil {
			return nil, err
		}
	}
	sub, err := h.Webhooks.RotateSecret(ctx, r.Tenant.PartnerID, r.PathParams["subscription_id"], r.Actor(), in)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, sub)
}

// test answers 202 with the ping's delivery, pending: its attempt follows
// within seconds (GET /v1/webhook_deliveries/{id} shows it).
func (h *Handlers) test(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	d, err := h.Webhooks.Test(ctx, r.Tenant.PartnerID, r.PathParams["subscription_id"], r.Actor())
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusAccepted, d)
}

func (h *Handlers) deliveries(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	const op = "webhooks.deliveries"
	q, err := r.PageParams()
	if err != nil {
		return nil, err
	}
	f := webhook.DeliveryFilter{Status: r.Query.Get("status"), EventType: r.Query.Get("event_type")}
	for _, d := range []struct {
		param string
		into  *time.Time
	}{{"created_from", &f.From}, {"created_to", &f.To}} {
		if v := r.Query.Get(d.param); v != "" {
			ts, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return nil, apperr.Field(op, d.param, d.param+" must be an RFC 3339 date-time, e.g. 2024-02-01T00:00:00Z")
			}
			*d.into = ts
		}
	}
	page, err := h.Webhooks.ListDeliveries(ctx, r.Tenant.PartnerID, r.PathParams["subscription_id"], q, f)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, httpapi.NewList(q, page, func(d webhook.Delivery) webhook.Delivery { return d }))
}

func (h *Handlers) getDelivery(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	d, err := h.Webhooks.GetDelivery(ctx, r.Tenant.PartnerID, r.PathParams["delivery_id"])
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, d)
}

// retry answers 202: the delivery is pending again and its attempt follows.
func (h *Handlers) retry(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	d, err := h.Webhooks.Retry(ctx, r.Tenant.PartnerID, r.PathParams["delivery_id"], r.Actor())
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusAccepted, d)
}
