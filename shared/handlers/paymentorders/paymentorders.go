// Package paymentorders serves seed 003's payment orders (disbursements
// from financing portfolios) and the portfolios they are paid from, in
// seed 003's own wire format: camelCase fields, uppercase enums, the
// envelopes {"success": true, "data", "meta" | "message"} and errors as
// {"success": false, "error": {"code", "message", "details"}, "requestId"}
// — every error of these routes, the edge's included (authentication,
// tenancy, role, body). Credentials, tenancy (X-Entity-Id for a partner
// token), the outbox, the audit trail and webhooks are the platform's.
package paymentorders

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/paymentorder"
)

// Handlers holds the family's dependencies.
type Handlers struct {
	Orders *paymentorder.Service
}

// Routes lists the family's routes, keyed as in template.yaml.
func (h *Handlers) Routes() []httpapi.Route {
	orders, portfolios := Errors(paymentorder.CodeInvalidPaymentData, paymentorder.CodeOrderNotFound),
		Errors(paymentorder.CodeInvalidPortfolio, paymentorder.CodePortfolioNotFound)
	return []httpapi.Route{
		{Key: "GET /v1/payments", Tenancy: httpapi.OrgInEntity, Action: auth.ActionPaymentOrdersRead, Handler: h.list, Errors: orders},
		{Key: "POST /v1/payments", Tenancy: httpapi.OrgInEntity, Action: auth.ActionPaymentOrdersCreate, Handler: h.create, Errors: orders},
		{Key: "GET /v1/payments/{payment_id}", Tenancy: httpapi.OrgInEntity, Action: auth.ActionPaymentOrdersRead, Handler: h.get, Errors: orders},
		{Key: "PUT /v1/payments/{payment_id}", Tenancy: httpapi.OrgInEntity, Action: auth.ActionPaymentOrdersUpdate, Handler: h.update, Errors: orders},
		{Key: "DELETE /v1/payments/{payment_id}", Tenancy: httpapi.OrgInEntity, Action: auth.ActionPaymentOrdersDelete, Handler: h.delete, Errors: orders},
		// A status change's own action is its transition's (approve,
		// cancel…: paymentorder.Step), known once the order is read, and
		// the service checks it. The edge admits the roles that may make a
		// transition at all: approve's, which are cancel's too (the finance
		// roles); a test holds the two rows of the matrix equal.
		{Key: "PUT /v1/payments/{payment_id}/status", Tenancy: httpapi.OrgInEntity, Action: auth.ActionPaymentOrdersApprove, Handler: h.status, Errors: orders},

		{Key: "POST /v1/portfolios", Tenancy: httpapi.OrgInEntity, Action: auth.ActionPortfoliosWrite, Handler: h.createPortfolio, Errors: portfolios},
		{Key: "GET /v1/portfolios", Tenancy: httpapi.OrgInEntity, Action: auth.ActionPortfoliosRead, Handler: h.listPortfolios, Errors: portfolios},
		{Key: "GET /v1/portfolios/{portfolio_id}", Tenancy: httpapi.OrgInEntity, Action: auth.ActionPortfoliosRead, Handler: h.getPortfolio, Errors: portfolios},
		{Key: "PATCH /v1/portfolios/{portfolio_id}", Tenancy: httpapi.OrgInEntity, Action: auth.ActionPortfoliosWrite, Handler: h.updatePortfolio, Errors: portfolios},
		{Key: "POST /v1/portfolios/{portfolio_id}/fundings", Tenancy: httpapi.OrgInEntity, Action: auth.ActionPortfoliosFund, Handler: h.fund, Errors: portfolios},
	}
}

// Success is the family's envelope of a successful answer.
type Success struct {
	Success bool   `json:"success"`
	Data    any    `json:"data,omitempty"`
	Meta    *Meta  `json:"meta,omitempty"`
	Message string `json:"message,omitempty"`
}

// Meta is a list's paging (seed 003).
type Meta struct {
	Total      int64 `json:"total"`
	Page       int   `json:"page"`
	Limit      int   `json:"limit"`
	TotalPages int64 `json:"totalPages"`
}

func ok(status int, data any, message string) (*httpapi.Response, error) {
	return httpapi.JSON(status, Success{Success: true, Data: data, Message: message})
}

func tenant(r *httpapi.Request) paymentorder.Tenant {
	return paymentorder.Tenant{PartnerID: r.Tenant.PartnerID, OrgID: r.Tenant.OrgID}
}

func caller(r *httpapi.Request) paymentorder.Caller {
	return paymentorder.Caller{Principal: *r.Principal, Actor: r.Actor()}
}

func (h *Handlers) create(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in paymentorder.CreateInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	o, err := h.Orders.CreateOrder(ctx, tenant(r), caller(r), in)
	if err != nil {
		return nil, err
	}
	return ok(http.StatusCreated, o.View(), "Payment order created successfully")
}

func (h *Handlers) get(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	o, err := h.Orders.GetOrder(ctx, tenant(r), caller(r), r.PathParams["payment_id"])
	if err != nil {
		return nil, err
	}
	return ok(http.StatusOK, o.View(), "")
}

var listParams = map[string]bool{"page": true, "limit": true, "status": true, "fundingType": true, "portfolioId": true, "contractReference": true}

// maxPage bounds page numbers: a page is read from the start of the list.
const maxPage = 1000

func (h *Handlers) list(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	const op = "payment_orders.list"
	for p := range r.Query {
		if !listParams[p] {
			return nil, apperr.Field(op, p, "unknown query parameter "+p+"; the parameters are page, limit, status, fundingType, portfolioId, contractReference")
		}
	}
	q := paymentorder.ListQuery{Page: 1, Limit: paymentorder.DefaultLimit}
	for _, p := range []struct {
		name     string
		into     *int
		min, max int
	}{{"page", &q.Page, 1, maxPage}, {"limit", &q.Limit, 1, paymentorder.MaxLimit}} {
		if v := r.Query.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < p.min || n > p.max {
				return nil, apperr.Field(op, p.name, p.name+" must be a whole number from "+strconv.Itoa(p.min)+" to "+strconv.Itoa(p.max))
			}
			*p.into = n
		}
	}
	f := &q.Filter
	if v := r.Query.Get("status"); v != "" {
		if f.Status = paymentorder.Status(v); !f.Status.Valid() {
			return nil, apperr.Field(op, "status", "status must be PENDING, PROCESSING, COMPLETED, FAILED or CANCELLED")
		}
	}
	if v := r.Query.Get("fundingType"); v != "" {
		if f.FundingType = paymentorder.FundingType(v); !f.FundingType.Valid() {
			return nil, apperr.Field(op, "fundingType", "fundingType must be CREDIT, LEASING or INVESTMENT")
		}
	}
	for _, p := range []struct {
		name string
		into *string
	}{{"portfolioId", &f.PortfolioID}, {"contractReference", &f.ContractReference}} {
		v := r.Query.Get(p.name)
		if len(v) > 100 || strings.ContainsAny(v, "#\x00") {
			return nil, apperr.Field(op, p.name, p.name+" must be at most 100 characters, without #")
		}
		*p.into = v
	}
	orders, total, err := h.Orders.ListOrders(ctx, tenant(r), caller(r), q)
	if err != nil {
		return nil, err
	}
	data := make([]paymentorder.View, len(orders))
	for i, o := range orders {
		data[i] = o.View()
	}
	pages := (total + int64(q.Limit) - 1) / int64(q.Limit)
	return httpapi.JSON(http.StatusOK, Success{Success: true, Data: data, Meta: &Meta{Total: total, Page: q.Page, Limit: q.Limit, TotalPages: pages}})
}

func (h *Handlers) update(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in paymentorder.UpdateInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	o, err := h.Orders.UpdateOrder(ctx, tenant(r), caller(r), r.PathParams["payment_id"], in)
	if err != nil {
		return nil, err
	}
	return ok(http.StatusOK, o.View(), "Payment order updated successfully")
}

func (h *Handlers) status(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in paymentorder.StatusInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	_, change, err := h.Orders.ChangeStatus(ctx, tenant(r), caller(r), r.PathParams["payment_id"], in)
	if err != nil {
		return nil, err
	}
	msg := "Payment order status updated successfully"
	if change.Status == change.PreviousStatus {
		msg = "Approval recorded; another approval is required"
	}
	return ok(http.StatusOK, change, msg)
}

func (h *Handlers) delete(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if err := h.Orders.DeleteOrder(ctx, tenant(r), caller(r), r.PathParams["payment_id"]); err != nil {
		return nil, err
	}
	return ok(http.StatusOK, nil, "Payment order deleted successfully")
}

func (h *Handlers) createPortfolio(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in paymentorder.PortfolioInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	p, err := h.Orders.CreatePortfolio(ctx, tenant(r), caller(r), in)
	if err != nil {
		return nil, err
	}
	return ok(http.StatusCreated, p.View(), "Portfolio created successfully")
}

func (h *Handlers) listPortfolios(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	const op = "portfolios.list"
	for p := range r.Query {
		return nil, apperr.Field(op, p, "GET /v1/portfolios takes no query parameter (an organization has at most 1000 portfolios, all listed)")
	}
	ps, err := h.Orders.ListPortfolios(ctx, tenant(r), caller(r))
	if err != nil {
		return nil, err
	}
	data := make([]paymentorder.PortfolioView, len(ps))
	for i, p := range ps {
		data[i] = p.View()
	}
	n := int64(len(ps))
	return httpapi.JSON(http.StatusOK, Success{Success: true, Data: data, Meta: &Meta{Total: n, Page: 1, Limit: len(ps), TotalPages: min(n, 1)}})
}

func (h *Handlers) getPortfolio(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	p, managers, err := h.Orders.GetPortfolio(ctx, tenant(r), caller(r), r.PathParams["portfolio_id"])
	if err != nil {
		return nil, err
	}
	v := p.View()
	v.Managers = managers
	return ok(http.StatusOK, v, "")
}

func (h *Handlers) updatePortfolio(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in paymentorder.PortfolioInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	p, err := h.Orders.UpdatePortfolio(ctx, tenant(r), caller(r), r.PathParams["portfolio_id"], in)
	if err != nil {
		return nil, err
	}
	return ok(http.StatusOK, p.View(), "Portfolio updated successfully")
}

func (h *Handlers) fund(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	var in paymentorder.FundingInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	f, p, err := h.Orders.FundPortfolio(ctx, tenant(r), caller(r), r.PathParams["portfolio_id"], in)
	if err != nil {
		return nil, err
	}
	return ok(http.StatusCreated, paymentorder.FundingView{ID: f.ID, PortfolioID: f.PortfolioID, Amount: paymentorder.Amount(f.AmountMinor, f.Currency),
		Currency: f.Currency, Reference: f.Reference, Notes: f.Notes, CreatedBy: f.CreatedBy, CreatedAt: paymentorder.FormatTime(f.CreatedAt),
		Portfolio: p.View()}, "Portfolio funded successfully")
}

// ErrorBody is the family's error shape.
type ErrorBody struct {
	Success   bool        `json:"success"`
	Error     ErrorDetail `json:"error"`
	RequestID string      `json:"requestId"`
}

// ErrorDetail is what went wrong: the code a client branches on, a message,
// and the fields at fault (always an array).
type ErrorDetail struct {
	Code    string                    `json:"code"`
	Message string                    `json:"message"`
	Details []paymentorder.FieldError `json:"details"`
}

// Errors renders errors in the family's shape. The family's own errors
// (paymentorder.Error) keep their status and code; the platform's are
// mapped once: a field or body error is 400 invalid (the seed answers 400
// for bad data, where the platform's own routes answer 422), a missing
// resource notFound, and the others a code named after the platform's:
// UNAUTHORIZED 401, FORBIDDEN 403, CONFLICT 409, PAYLOAD_TOO_LARGE 413,
// UNSUPPORTED_MEDIA_TYPE 415, IDEMPOTENCY_KEY_IN_USE 409,
// IDEMPOTENCY_KEY_REUSED 422, RATE_LIMITED 429, SERVICE_UNAVAILABLE 503,
// INTERNAL_ERROR 500.
func Errors(invalid, notFound string) httpapi.ErrorRenderer {
	return func(err error, requestID string) *httpapi.Response {
		status, d := describe(err, invalid, notFound)
		if d.Details == nil {
			d.Details = []paymentorder.FieldError{}
		}
		b, _ := json.Marshal(ErrorBody{Error: d, RequestID: requestID})
		return httpapi.Raw(status, "application/json", b)
	}
}

func describe(err error, invalid, notFound string) (int, ErrorDetail) {
	var fe *paymentorder.Error
	if errors.As(err, &fe) {
		return fe.Status, ErrorDetail{Code: fe.Code, Message: fe.Message, Details: fe.Details}
	}
	code := apperr.CodeOf(err)
	d := ErrorDetail{Message: http.StatusText(httpapi.StatusOf(code))}
	if ae, ok := apperr.As(err); ok && code != apperr.Internal && ae.Message != "" {
		d.Message = ae.Message
		if ae.Param != "" {
			d.Details = []paymentorder.FieldError{{Field: ae.Param, Message: ae.Message}}
		}
	}
	status := httpapi.StatusOf(code)
	switch code {
	case apperr.Invalid, apperr.Malformed:
		status, d.Code = http.StatusBadRequest, invalid
	case apperr.NotFound:
		d.Code = notFound
		if apperr.IsOrganizationNotFound(err) {
			d.Code = "ORGANIZATION_NOT_FOUND"
		}
	case apperr.Unauthenticated:
		d.Code = "UNAUTHORIZED"
	case apperr.Forbidden:
		d.Code = paymentorder.CodeForbidden
	case apperr.Conflict:
		d.Code = "CONFLICT"
	case apperr.TooLarge:
		d.Code = "PAYLOAD_TOO_LARGE"
	case apperr.UnsupportedType:
		d.Code = "UNSUPPORTED_MEDIA_TYPE"
	case apperr.IdempotencyBusy:
		d.Code = "IDEMPOTENCY_KEY_IN_USE"
	case apperr.IdempotencyMism:
		d.Code = "IDEMPOTENCY_KEY_REUSED"
	case apperr.RateLimited:
		d.Code = "RATE_LIMITED"
	case apperr.Unavailable:
		d.Code = "SERVICE_UNAVAILABLE"
	default:
		status, d.Code, d.Message = http.StatusInternalServerError, "INTERNAL_ERROR", "internal error; quote the requestId to support"
	}
	return status, d
}
