package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/money"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/refund"
)

// linkStatuses are the payment link list's status filter.
var linkStatuses = []string{payment.LinkActive, payment.LinkCompleted, payment.LinkExpired, payment.LinkDeactivated}

type linksView struct {
	base
	Title, OrgID, Status, InvoiceID string
	Statuses                        []string
	Items                           []payment.Link
	Next                            string
}

// links is an organisation's payment links, newest first, filtered by
// status and invoice as GET /v1/payment_links is (one Query; a second when
// the first page is empty).
func (h *Handlers) links(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	q, err := pageParams(r)
	if err != nil {
		return nil, err
	}
	status, invoiceID := r.Query.Get("status"), r.Query.Get("invoice_id")
	page, err := h.Payments.ListLinks(ctx, t.PartnerID, t.OrgID, q, invoiceID, status)
	if err != nil {
		return nil, err
	}
	v := linksView{base: h.base(r), Title: "Payment links", OrgID: t.OrgID, Status: status, InvoiceID: invoiceID, Statuses: linkStatuses, Items: page.Items}
	v.Next = nextLink(page.Next, r.Query, "status", "invoice_id", "page_size")
	return html(http.StatusOK, "links", v)
}

// nextLink is a filtered list's "next page" query: the cursor and the
// filters as sent ("" on the last page).
func nextLink(cursor string, q url.Values, keep ...string) string {
	if cursor == "" {
		return ""
	}
	next := url.Values{"cursor": {cursor}}
	for _, k := range keep {
		if v := q.Get(k); v != "" {
			next.Set(k, v)
		}
	}
	return "?" + next.Encode()
}

type linkView struct {
	base
	Title, OrgID string
	L            payment.Link
	CanWrite     bool
}

// link is one payment link (one GetItem, as GET /v1/payment_links/{id}),
// with Deactivate while it is active.
func (h *Handlers) link(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	l, err := h.Payments.GetLink(ctx, t.PartnerID, t.OrgID, r.PathParams["link_id"])
	if err != nil {
		return nil, err
	}
	return html(http.StatusOK, "link", linkView{base: h.base(r), Title: "Payment link", OrgID: t.OrgID, L: l,
		CanWrite: auth.Allowed(*r.Principal, auth.ActionPaymentLinksWrite)})
}

// deactivateLink ends a link, as POST /v1/payment_links/{id}/deactivate:
// its open intent is cancelled and the invoice's reserved amount released.
func (h *Handlers) deactivateLink(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	l, err := h.Payments.Deactivate(ctx, t.PartnerID, t.OrgID, r.PathParams["link_id"], r.Actor())
	if err != nil {
		return nil, err
	}
	return redirect(orgPath(t.OrgID, "payment_links", l.ID)), nil
}

// orgPath is a dashboard page of the organisation.
func orgPath(orgID string, parts ...string) string {
	p := "/dashboard/organizations/" + url.PathEscape(orgID)
	for _, s := range parts {
		p += "/" + url.PathEscape(s)
	}
	return p
}

type intentView struct {
	base
	Title, OrgID string
	PI           payment.Intent
	Refunds      []refund.Refund
	ShowRefunds  bool
	// CanRefund: the role may create refunds and the payment can take one;
	// Refundable is what is left, Amount the form's value.
	CanRefund, CanAct   bool
	Refundable          int64
	Amount, Reason      string
	Error               string
	RefundableFormatted string
}

// intent is a payment intent with its refunds (one intent read and one
// batch, as GET /v1/payment_intents/{id}/refunds reads them), and the form
// that refunds it, with the same rules as POST /v1/refunds (the same
// service). A role that may not read refunds sees the intent alone (one
// GetItem).
func (h *Handlers) intent(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	return h.renderIntent(ctx, r, http.StatusOK, "", "", "")
}

func (h *Handlers) renderIntent(ctx context.Context, r *httpapi.Request, status int, amount, reason, message string) (*httpapi.Response, error) {
	t := r.Tenant
	id := r.PathParams["intent_id"]
	p := *r.Principal
	v := intentView{base: h.base(r), Title: "Payment", OrgID: t.OrgID, ShowRefunds: auth.Allowed(p, auth.ActionRefundsRead),
		Amount: amount, Reason: reason, Error: message}
	var err error
	if v.ShowRefunds {
		v.PI, v.Refunds, err = h.Refunds.IntentWithRefunds(ctx, t.PartnerID, t.OrgID, id)
	} else {
		v.PI, err = h.Payments.GetIntent(ctx, t.PartnerID, t.OrgID, id)
	}
	if err != nil {
		return nil, err
	}
	v.CanAct = auth.Allowed(p, auth.ActionRefundsCreate)
	v.Refundable = refund.Refundable(v.PI)
	v.RefundableFormatted = money.FormatEUR(v.Refundable)
	v.CanRefund = v.CanAct && v.Refundable > 0 && (v.PI.Status == payment.IntentSucceeded || v.PI.Status == payment.IntentPartiallyRefunded)
	if v.Amount == "" && v.Error == "" {
		v.Amount = decimalEUR(v.Refundable)
	}
	return html(status, "intent", v)
}

// decimalEUR writes cents as the refund form's amount, the French way the
// page writes amounts, without grouping or sign: 123456 is "1234,56".
func decimalEUR(cents int64) string {
	n, err := money.FormatAmount(cents, "EUR")
	if err != nil {
		return ""
	}
	return strings.Replace(string(n), ".", ",", 1)
}

// maxAmountInput bounds the amount field (any amount has far fewer
// characters); a longer one is refused before it is parsed.
const maxAmountInput = 32

// parseEuros reads the refund form's amount in euros — "12.50", "12,50",
// "1 250,00 €" — exactly, as cents; "" is no amount (everything still
// refundable, as POST /v1/refunds without amount).
func parseEuros(op, s string) (*int64, error) {
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "€"))
	if s == "" {
		return nil, nil
	}
	bad := apperr.Field(op, "amount", "amount must be a positive amount in euros with at most 2 decimals, e.g. 12,50")
	if len(s) > maxAmountInput {
		return nil, bad
	}
	s = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", ",", ".").Replace(s)
	cents, err := money.ParseAmount(json.Number(s), "EUR")
	var de *money.AmountDecimalsError
	switch {
	case errors.As(err, &de):
		return nil, apperr.Field(op, "amount", "amount must have at most 2 decimals (cents)")
	case errors.Is(err, money.ErrAmountTooLarge):
		return nil, apperr.Field(op, "amount", "amount is larger than any payment")
	case err != nil:
		return nil, bad
	}
	return &cents, nil
}

// createRefund refunds the intent of the path with the form's amount and
// reason, through the service of POST /v1/refunds (the same checks: never
// more than is refundable, a succeeded payment only). A refused form is the
// page again with the reason (422, or 409 when the payment cannot take a
// refund); an accepted refund is the payment's page (303), where it shows
// as pending until the provider answers.
func (h *Handlers) createRefund(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	const op = "dashboard.refund"
	t := r.Tenant
	form := formValues(r)
	amountText, reason := form.Get("amount"), form.Get("reason")
	amount, err := parseEuros(op, amountText)
	if err == nil {
		_, err = h.Refunds.Create(ctx, t.PartnerID, t.OrgID, r.Actor(), refund.CreateInput{PaymentIntentID: r.PathParams["intent_id"], Amount: amount, Reason: reason})
	}
	if ae, ok := apperr.As(err); ok && (ae.Code == apperr.Invalid || ae.Code == apperr.Conflict) {
		return h.renderIntent(ctx, r, httpapi.StatusOf(ae.Code), amountText, reason, ae.Message)
	}
	if err != nil {
		return nil, err
	}
	return redirect(orgPath(t.OrgID, "payment_intents", r.PathParams["intent_id"])), nil
}

// confirmRefund and cancelRefund act on a refund waiting for the
// organisation (requires_action), as POST /v1/refunds/{id}/confirm and
// /cancel, then show its payment.
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
	return redirect(orgPath(t.OrgID, "payment_intents", rf.PaymentIntentID)), nil
}

type refundsView struct {
	base
	Title, OrgID, Status string
	Statuses             []string
	Items                []refund.Refund
	Next                 string
}

// refunds is an organisation's refunds, newest first, filtered by status
// as GET /v1/refunds?status=… (one Query a page): the ones waiting for the
// organisation are requires_action.
func (h *Handlers) refunds(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	q, err := pageParams(r)
	if err != nil {
		return nil, err
	}
	status := r.Query.Get("status")
	page, err := h.Refunds.List(ctx, t.PartnerID, t.OrgID, q, refund.Filter{Status: status})
	if err != nil {
		return nil, err
	}
	return html(http.StatusOK, "refunds", refundsView{base: h.base(r), Title: "Refunds", OrgID: t.OrgID, Status: status,
		Statuses: refund.Statuses, Items: page.Items, Next: nextLink(page.Next, r.Query, "status", "page_size")})
}
