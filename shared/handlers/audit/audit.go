// Package audit serves the audit trail (seed 000, "Consultation des logs"):
// GET /v1/audit_logs, one organisation's entries newest first, or the
// partner's own (webhook subscriptions, branding) for a partner token
// without X-Entity-Id; with resource_type=api_call, the API call log of the
// same tenant (one year). Entries are written by the audit writer from the
// committed events; nothing here changes them (there is no route that could).
package audit

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/audit"
	"github.com/modupay/modupay/shared/audit/apicall"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/httpapi"
)

// Handlers holds the family's dependencies.
type Handlers struct {
	Trail *audit.Service
}

// Routes lists the family's routes, keyed as in template.yaml.
func (h *Handlers) Routes() []httpapi.Route {
	return []httpapi.Route{
		// OrgOfResource: a partner token names the organisation in
		// X-Entity-Id, or none for its own partner-level trail; an
		// organisation token reads its own organisation's.
		{Key: "GET /v1/audit_logs", Tenancy: httpapi.OrgOfResource, Action: auth.ActionAuditRead, Handler: h.list},
	}
}

// Entry is an entry as seed 000 shows it: the timestamp in whole seconds.
type Entry struct {
	ID             string          `json:"id"`
	Timestamp      string          `json:"timestamp"`
	ResourceType   string          `json:"resource_type"`
	ResourceID     string          `json:"resource_id"`
	Action         string          `json:"action"`
	UserID         string          `json:"user_id"`
	UserType       string          `json:"user_type"`
	IPAddress      string          `json:"ip_address,omitempty"`
	RequestID      string          `json:"request_id,omitempty"`
	EventType      string          `json:"event_type"`
	OrganizationID string          `json:"organization_id,omitempty"`
	Changes        json.RawMessage `json:"changes"`
	Call           *Call           `json:"call,omitempty"`
}

// Call is what an API call entry (resource_type api_call) adds: the
// request's method, route key, status and latency.
type Call struct {
	Method    string `json:"method"`
	Route     string `json:"route"`
	Status    int    `json:"status"`
	LatencyMS int64  `json:"latency_ms"`
}

func render(e audit.Entry) Entry {
	return Entry{ID: e.ID, Timestamp: e.Timestamp.UTC().Truncate(time.Second).Format(time.RFC3339), ResourceType: e.ResourceType,
		ResourceID: e.ResourceID, Action: e.Action, UserID: e.UserID, UserType: e.UserType, IPAddress: e.IPAddress, RequestID: e.RequestID,
		EventType: e.EventType, OrganizationID: e.OrganizationID, Changes: e.Changes}
}

// renderCall shows a call as an entry: its id and resource id are the
// request id, its action "called", its changes null.
func renderCall(c apicall.Call) Entry {
	return Entry{ID: c.RequestID, Timestamp: c.Timestamp.UTC().Truncate(time.Second).Format(time.RFC3339), ResourceType: apicall.Kind,
		ResourceID: c.RequestID, Action: "called", UserID: c.ClientID, UserType: c.UserType, IPAddress: c.IPAddress, RequestID: c.RequestID,
		EventType: "api.called", OrganizationID: c.OrgID, Changes: json.RawMessage("null"),
		Call: &Call{Method: c.Method, Route: c.Route, Status: c.Status, LatencyMS: c.LatencyMS}}
}

var params = map[string]bool{"resource_type": true, "resource_id": true, "action": true, "user_id": true,
	"from_date": true, "to_date": true, "page": true, "page_size": true, "cursor": true}

func (h *Handlers) list(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	const op = "audit.list"
	for p := range r.Query {
		if !params[p] {
			return nil, apperr.Field(op, p, "unknown query parameter "+p+"; the filters are resource_type, resource_id, action, user_id, from_date, to_date")
		}
	}
	q, err := audit.QueryOf(op, r.Query)
	if err != nil {
		return nil, err
	}
	if q.Page, err = r.PageParams(); err != nil {
		return nil, err
	}
	t := r.Tenant
	if q.ResourceType == apicall.Kind {
		calls, err := h.Trail.ListCalls(ctx, t.PartnerID, t.OrgID, apicall.Query{UserID: q.UserID, From: q.From, To: q.To, Page: q.Page})
		if err != nil {
			return nil, err
		}
		return httpapi.JSON(http.StatusOK, httpapi.NewList(q.Page, calls, renderCall))
	}
	page, err := h.Trail.List(ctx, t.PartnerID, t.OrgID, q)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, httpapi.NewList(q.Page, page, render))
}
