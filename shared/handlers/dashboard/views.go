package dashboard

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/audit"
	"github.com/modupay/modupay/shared/audit/apicall"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/credential"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/documents"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/money"
	"github.com/modupay/modupay/shared/organization"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/session"
	"github.com/modupay/modupay/shared/webhook"
)

type loginView struct {
	CSRF, ClientID, Error string
}

// loginForm shows the sign-in form, with a fresh nonce in its cookie and
// the token bound to it in the form.
func (h *Handlers) loginForm(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	return h.renderLogin(http.StatusOK, "", "")
}

func (h *Handlers) renderLogin(status int, clientID, message string) (*httpapi.Response, error) {
	nonce := session.NewID()
	resp, err := html(status, "login", loginView{CSRF: h.Codec.LoginToken(nonce), ClientID: clientID, Error: message})
	if err != nil {
		return nil, err
	}
	resp.Cookies = append(resp.Cookies, loginCookie(nonce, 3600))
	return resp, nil
}

// maxCredential bounds what the form may send (ids and secrets are far
// shorter); longer values are refused before any read.
const maxCredential = 256

// login checks the client's credentials with the token endpoint's service
// and limits (credential.Service.Authenticate): a wrong secret, an unknown
// or a revoked client are the same 401 and count against the same
// windows; a used-up window is a 429 until it ends, the right secret too.
func (h *Handlers) login(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	if err := h.checkForm(r, func(form url.Values) bool {
		return h.Codec.CheckLoginToken(r.Cookie(LoginCookieName), form.Get("csrf"))
	}); err != nil {
		return nil, err
	}
	form := formValues(r)
	id, secret := strings.TrimSpace(form.Get("client_id")), form.Get("client_secret")
	if id == "" || secret == "" || len(id) > maxCredential || len(secret) > maxCredential {
		return h.renderLogin(http.StatusUnprocessableEntity, "", "Enter a client id and its secret.")
	}
	c, err := h.Credentials.Authenticate(ctx, id, secret, r.SourceIP)
	var oerr *auth.OAuthError
	if errors.As(err, &oerr) {
		status, msg := http.StatusUnauthorized, "Sign-in failed: unknown client id, wrong secret or revoked client."
		if oerr.Code == auth.CodeRateLimited {
			status, msg = http.StatusTooManyRequests, "Too many failed sign-ins for this client or from this address. Try again later."
		}
		resp, rerr := h.renderLogin(status, id, msg)
		if rerr != nil {
			return nil, rerr
		}
		if len(oerr.RateLimits) > 0 {
			httpapi.SetRateLimitHeaders(resp.Header, status == http.StatusTooManyRequests, oerr.RateLimits...)
		}
		return resp, nil
	}
	if err != nil {
		return nil, err
	}
	// Whole seconds, as a token's iat: a session begun in the second of its
	// client's revocation counts as begun before it.
	now := h.Now().UTC().Truncate(time.Second)
	p := credential.PrincipalOf(c)
	s := session.Session{ID: session.NewID(), ClientID: p.ClientID, PartnerID: p.PartnerID, OrgID: p.OrgID, Scope: p.Scope, Role: p.Role,
		PortfolioLimited: p.PortfolioLimited, SecretTag: credential.SecretTag(c), IssuedAt: now, LastSeen: now, Checked: now}
	v, err := h.Codec.Seal(s)
	if err != nil {
		return nil, apperr.Wrap("dashboard.login", err)
	}
	r.Identify(s.Principal()) // the API call log keeps the sign-in under the client's tenant
	h.Log.LogAttrs(ctx, slog.LevelInfo, "dashboard sign-in", slog.String("client_id", c.ID), slog.String("partner_id", c.PartnerID),
		slog.String("source_ip", r.SourceIP))
	resp := redirect("/dashboard")
	setPageHeaders(resp.Header)
	resp.Cookies = []string{sessionCookie(v, session.MaxAge), loginCookie("", -1)}
	return resp, nil
}

// logout ends the session everywhere (its cookie may have been copied):
// recorded as signed out, refused by every container within the
// revocation list's refresh.
func (h *Handlers) logout(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	s := r.Session.(*session.Session)
	if err := h.Sessions.EndSession(ctx, s.ID, h.Now(), s.IssuedAt.Add(session.MaxAge)); err != nil {
		return nil, err
	}
	resp := redirect("/dashboard/login")
	setPageHeaders(resp.Header)
	resp.Cookies = []string{sessionCookie("", 0)}
	return resp, nil
}

type homeView struct {
	base
	Title string
}

func (h *Handlers) home(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	return html(http.StatusOK, "home", homeView{base: h.base(r), Title: "Dashboard"})
}

// cursorLink is a list's "next page" query: the cursor of the service's
// page ("" on the last page).
func cursorLink(next string) string {
	if next == "" {
		return ""
	}
	return "?" + url.Values{"cursor": {next}}.Encode()
}

type organizationsView struct {
	base
	Title string
	Items []organization.Organization
	Next  string
}

// organizations is the partner's organisations, a page at a time (one
// Query, as GET /v1/organizations).
func (h *Handlers) organizations(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	q, err := pageParams(r)
	if err != nil {
		return nil, err
	}
	page, err := h.Organizations.List(ctx, r.Tenant.PartnerID, q, organization.Filter{})
	if err != nil {
		return nil, err
	}
	return html(http.StatusOK, "organizations", organizationsView{base: h.base(r), Title: "Organisations", Items: page.Items, Next: cursorLink(page.Next)})
}

type organizationView struct {
	base
	Title       string
	Org         organization.Organization
	Departments []department.Department
	ShowDepts   bool
	Next        string
	// The organisation's other pages its rights allow.
	Invoices, APIClients, Audit, Links, Refunds bool
}

// organization is one organisation (one GetItem) and its departments (one
// Query; a second only when the list is empty, as the API's).
func (h *Handlers) organization(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	q, err := pageParams(r)
	if err != nil {
		return nil, err
	}
	org, err := h.Organizations.Get(ctx, t.PartnerID, t.OrgID)
	if err != nil {
		return nil, err
	}
	p := *r.Principal
	v := organizationView{base: h.base(r), Title: org.Name, Org: org, ShowDepts: auth.Allowed(p, auth.ActionDepartmentsRead),
		Invoices: auth.Allowed(p, auth.ActionInvoicesRead), APIClients: auth.Allowed(p, auth.ActionAPIClientsManage),
		Audit: auth.Allowed(p, auth.ActionAuditRead), Links: auth.Allowed(p, auth.ActionPaymentLinksRead), Refunds: auth.Allowed(p, auth.ActionRefundsRead)}
	if v.ShowDepts {
		page, err := h.Departments.List(ctx, t.PartnerID, t.OrgID, q)
		if err != nil {
			return nil, err
		}
		v.Departments, v.Next = page.Items, cursorLink(page.Next)
	}
	return html(http.StatusOK, "organization", v)
}

type subscriptionsView struct {
	base
	Title string
	Items []webhook.Subscription
}

// subscriptions is the partner's webhook subscriptions (one Query).
func (h *Handlers) subscriptions(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	subs, err := h.Webhooks.List(ctx, r.Tenant.PartnerID)
	if err != nil {
		return nil, err
	}
	return html(http.StatusOK, "subscriptions", subscriptionsView{base: h.base(r), Title: "Webhooks", Items: subs})
}

type subscriptionView struct {
	base
	Title      string
	Sub        webhook.Subscription
	Failed     []webhook.Delivery
	Deliveries []webhook.Delivery
	Next       string
	CanWrite   bool
}

// failedShown is how many failed deliveries the subscription's page lists
// above the log.
const failedShown = 20

// subscription is one subscription (one GetItem), its failed deliveries
// first (the delivery log filtered, as GET …/deliveries?status=failed: two
// calls) and then its whole log, newest first, a page at a time (two
// calls).
func (h *Handlers) subscription(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	partner, id := r.Tenant.PartnerID, r.PathParams["subscription_id"]
	q, err := pageParams(r)
	if err != nil {
		return nil, err
	}
	sub, err := h.Webhooks.Get(ctx, partner, id)
	if err != nil {
		return nil, err
	}
	failed, err := h.Webhooks.ListDeliveries(ctx, partner, id, listing.Query{Page: 1, Size: failedShown, NoTotal: true}, webhook.DeliveryFilter{Status: webhook.DeliveryFailed})
	if err != nil {
		return nil, err
	}
	all, err := h.Webhooks.ListDeliveries(ctx, partner, id, q, webhook.DeliveryFilter{})
	if err != nil {
		return nil, err
	}
	return html(http.StatusOK, "subscription", subscriptionView{base: h.base(r), Title: "Webhook subscription", Sub: sub,
		Failed: failed.Items, Deliveries: all.Items, Next: cursorLink(all.Next), CanWrite: auth.Allowed(*r.Principal, auth.ActionWebhooksWrite)})
}

type deliveryView struct {
	base
	Title    string
	D        webhook.Delivery
	CanWrite bool
}

// delivery is one delivery with every attempt (one GetItem).
func (h *Handlers) delivery(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	d, err := h.Webhooks.GetDelivery(ctx, r.Tenant.PartnerID, r.PathParams["delivery_id"])
	if err != nil {
		return nil, err
	}
	return html(http.StatusOK, "delivery", deliveryView{base: h.base(r), Title: "Webhook delivery", D: d, CanWrite: auth.Allowed(*r.Principal, auth.ActionWebhooksWrite)})
}

// testPing sends a signed ping, as POST /v1/webhook_subscriptions/{id}/test,
// and shows its delivery.
func (h *Handlers) testPing(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	d, err := h.Webhooks.Test(ctx, r.Tenant.PartnerID, r.PathParams["subscription_id"], r.Actor())
	if err != nil {
		return nil, err
	}
	return redirect("/dashboard/webhook_deliveries/" + url.PathEscape(d.ID)), nil
}

// retry sends a delivery again, as POST /v1/webhook_deliveries/{id}/retry.
func (h *Handlers) retry(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	d, err := h.Webhooks.Retry(ctx, r.Tenant.PartnerID, r.PathParams["delivery_id"], r.Actor())
	if err != nil {
		return nil, err
	}
	return redirect("/dashboard/webhook_deliveries/" + url.PathEscape(d.ID)), nil
}

// invoiceStatuses are the status filter's choices.
var invoiceStatuses = []string{invoice.StatusDraft, invoice.StatusIssued, invoice.StatusPartiallyPaid, invoice.StatusPaid,
	invoice.StatusOverdue, invoice.StatusCancelled}

type invoicesView struct {
	base
	Title    string
	OrgID    string
	F        invoice.Filter
	Statuses []string
	// The created bounds as sent (a day or an RFC 3339 time); Filtered:
	// any filter is set.
	CreatedFrom, CreatedTo string
	Filtered               bool
	Items                  []invoiceRow
	Next                   string
}

type invoiceRow struct {
	invoice.Invoice
	Total, Due string
}

// invoices is an organisation's invoices, newest first, filtered as
// GET /v1/invoices is — status, department, payer email, due dates,
// creation times (the same parsing, invoice.FilterOf, and service) — from
// a GET form, so it works without script (one Query; a second when the
// first page is empty). A creation bound may also be a day (UTC), as the
// audit trail's: from its first second, until its last.
func (h *Handlers) invoices(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	const op = "dashboard.invoices"
	t := r.Tenant
	q, err := pageParams(r)
	if err != nil {
		return nil, err
	}
	params := url.Values{}
	for _, k := range invoice.FilterParams {
		if v := strings.TrimSpace(r.Query.Get(k)); v != "" {
			params.Set(k, v)
		}
	}
	for k, suffix := range map[string]string{"created_from": "T00:00:00Z", "created_to": "T23:59:59.999999999Z"} {
		if v := params.Get(k); v != "" {
			if _, err := time.Parse(time.DateOnly, v); err == nil {
				params.Set(k, v+suffix)
			}
		}
	}
	f, err := invoice.FilterOf(op, params)
	if err != nil {
		return nil, err
	}
	page, err := h.Invoices.List(ctx, t.PartnerID, t.OrgID, q, f)
	if err != nil {
		return nil, err
	}
	v := invoicesView{base: h.base(r), Title: "Invoices", OrgID: t.OrgID, F: f, Statuses: invoiceStatuses, Filtered: !f.Empty(),
		CreatedFrom: r.Query.Get("created_from"), CreatedTo: r.Query.Get("created_to")}
	for _, inv := range page.Items {
		v.Items = append(v.Items, invoiceRow{Invoice: inv, Total: money.FormatEUR(inv.TotalAmount), Due: money.FormatEUR(inv.AmountDue)})
	}
	v.Next = nextLink(page.Next, r.Query, append(invoice.FilterParams, "page_size")...)
	return html(http.StatusOK, "invoices", v)
}

type apiClientsView struct {
	base
	Title string
	OrgID string
	Items []credential.PublicClient
	Next  string
	Roles []auth.Role
	// Created is the client just created, with its secret: shown this once.
	Created *createdClient
	Error   string
}

type createdClient struct {
	ID, Secret string
	Role       auth.Role
}

// apiClients lists an organisation's API clients (one Query), with the
// forms that create and revoke them: the services of the API's
// /v1/organizations/{org_id}/api_clients routes.
func (h *Handlers) apiClients(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	return h.renderAPIClients(ctx, r, http.StatusOK, nil, "")
}

func (h *Handlers) renderAPIClients(ctx context.Context, r *httpapi.Request, status int, created *createdClient, message string) (*httpapi.Response, error) {
	t := r.Tenant
	q := listing.Query{Page: 1, Size: httpapi.DefaultPageSize, NoTotal: true}
	if r.Method == http.MethodGet {
		var err error
		if q, err = pageParams(r); err != nil {
			return nil, err
		}
	}
	page, err := h.Credentials.List(ctx, t.PartnerID, t.OrgID, q)
	if err != nil {
		return nil, err
	}
	v := apiClientsView{base: h.base(r), Title: "API clients", OrgID: t.OrgID, Roles: auth.Roles(), Created: created, Error: message,
		Next: cursorLink(page.Next)}
	for _, c := range page.Items {
		v.Items = append(v.Items, credential.Public(c))
	}
	return html(status, "api_clients", v)
}

// createAPIClient creates a client with the role and name of the form and
// shows its secret once, on this answer only (never stored, never shown
// again). A refused role or name is the form again with the reason (422).
func (h *Handlers) createAPIClient(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	form := formValues(r)
	c, err := h.Credentials.CreateClient(ctx, t.PartnerID, t.OrgID, r.Actor(), credential.CreateInput{Role: form.Get("role"), Name: form.Get("name")})
	if ae, ok := apperr.As(err); ok && ae.Code == apperr.Invalid {
		return h.renderAPIClients(ctx, r, http.StatusUnprocessableEntity, nil, ae.Message)
	}
	if err != nil {
		return nil, err
	}
	return h.renderAPIClients(ctx, r, http.StatusOK, &createdClient{ID: c.Client.ID, Secret: c.Secret, Role: c.Client.Role}, "")
}

// revokeAPIClient revokes a client: its tokens and its dashboard sessions
// stop with it.
func (h *Handlers) revokeAPIClient(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	if _, err := h.Credentials.Revoke(ctx, t.PartnerID, t.OrgID, r.PathParams["client_id"], r.Actor()); err != nil {
		return nil, err
	}
	return redirect("/dashboard/organizations/" + url.PathEscape(t.OrgID) + "/api_clients"), nil
}

type departmentView struct {
	base
	Title    string
	OrgID    string
	Dept     department.Department
	Accounts []department.BankAccount
	KYC      *department.KYC
}

// department is one department of the organisation (one GetItem), its bank
// accounts with their verification state, IBANs masked (one Query, as
// GET /v1/departments/{dept_id}/bank_accounts), and its KYC (one
// BatchGetItem, as GET /v1/departments/{dept_id}/kyc). The organisation of
// the path binds the department: another organisation's is NotFound.
func (h *Handlers) department(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	sc := department.Scope{PartnerID: t.PartnerID, OrgID: t.OrgID}
	id := r.PathParams["dept_id"]
	d, err := h.Departments.Get(ctx, sc, id)
	if err != nil {
		return nil, err
	}
	p := *r.Principal
	v := departmentView{base: h.base(r), Title: d.Name, OrgID: t.OrgID, Dept: d}
	if auth.Allowed(p, auth.ActionBankAccountsRead) {
		if v.Accounts, err = h.Departments.ListAccounts(ctx, sc, id); err != nil {
			return nil, err
		}
	}
	if auth.Allowed(p, auth.ActionKYCRead) {
		k, err := h.Departments.GetKYC(ctx, sc, id)
		if err != nil {
			return nil, err
		}
		v.KYC = &k
	}
	return html(http.StatusOK, "department", v)
}

type invoiceView struct {
	base
	Title   string
	OrgID   string
	Inv     invoice.Invoice
	Intents []payment.Intent
	Links   []payment.Link
	// ShowPayments, ShowLinks: the role may read the invoice's payment
	// intents, its payment links.
	ShowPayments, ShowLinks bool
}

// invoiceLinksShown is how many of an invoice's payment links its page
// lists (newest first; the links page has them all).
const invoiceLinksShown = 20

// invoice is one invoice (one GetItem, as GET /v1/invoices/{invoice_id}):
// its lines, VAT per rate and totals, its payment history — each payment
// intent with its method, the bank's status, the reason of a failure and
// what was refunded, linked to its page (two calls, as
// GET /v1/payment_intents?invoice_id=…) — and its payment links (one
// Query, as GET /v1/payment_links?invoice_id=…; two when it has none).
func (h *Handlers) invoice(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	inv, err := h.Invoices.Get(ctx, t.PartnerID, t.OrgID, r.PathParams["invoice_id"])
	if err != nil {
		return nil, err
	}
	v := invoiceView{base: h.base(r), Title: "Invoice " + inv.InvoiceNumber, OrgID: t.OrgID, Inv: inv,
		ShowPayments: auth.Allowed(*r.Principal, auth.ActionPaymentIntentsRead)}
	if v.ShowPayments {
		if v.Intents, err = h.Payments.ListIntents(ctx, t.PartnerID, t.OrgID, inv.ID); err != nil {
			return nil, err
		}
	}
	if v.ShowLinks = auth.Allowed(*r.Principal, auth.ActionPaymentLinksRead); v.ShowLinks {
		page, err := h.Payments.ListLinks(ctx, t.PartnerID, t.OrgID, listing.Query{Page: 1, Size: invoiceLinksShown, NoTotal: true}, inv.ID, "")
		if err != nil {
			return nil, err
		}
		v.Links = page.Items
	}
	return html(http.StatusOK, "invoice", v)
}

type auditView struct {
	base
	Title, OrgID string
	// The filters as sent, shown back in the form.
	ResourceType, ResourceID, Action, UserID, From, To string
	Items                                              []auditRow
	Next                                               string
}

type auditRow struct {
	audit.Entry
	Changes string
}

// auditParams are the trail's query parameters: its filters and paging.
var auditParams = map[string]bool{"resource_type": true, "resource_id": true, "action": true, "user_id": true,
	"from_date": true, "to_date": true, "page": true, "page_size": true, "cursor": true}

// auditTrail is an organisation's audit trail, newest first, filtered as
// GET /v1/audit_logs is (the same parsing, the same service: one Query per
// page, two on a first page that counts).
func (h *Handlers) auditTrail(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	const op = "dashboard.audit"
	for p := range r.Query {
		if !auditParams[p] {
			return nil, apperr.Field(op, p, "unknown filter "+p)
		}
	}
	q, err := audit.QueryOf(op, r.Query)
	if err != nil {
		return nil, err
	}
	if q.ResourceType == apicall.Kind {
		return nil, apperr.Field(op, "resource_type", "the API call log is read with GET /v1/audit_logs?resource_type=api_call")
	}
	if q.Page, err = pageParams(r); err != nil {
		return nil, err
	}
	t := r.Tenant
	page, err := h.Trail.List(ctx, t.PartnerID, t.OrgID, q)
	if err != nil {
		return nil, err
	}
	v := auditView{base: h.base(r), Title: "Audit trail", OrgID: t.OrgID, ResourceType: q.ResourceType, ResourceID: q.ResourceID,
		Action: q.Action, UserID: q.UserID, From: r.Query.Get("from_date"), To: r.Query.Get("to_date")}
	for _, e := range page.Items {
		v.Items = append(v.Items, auditRow{Entry: e, Changes: string(e.Changes)})
	}
	if page.Next != "" {
		next := url.Values{"cursor": {page.Next}}
		for _, k := range []string{"resource_type", "resource_id", "action", "user_id", "from_date", "to_date", "page_size"} {
			if val := r.Query.Get(k); val != "" {
				next.Set(k, val)
			}
		}
		v.Next = "?" + next.Encode()
	}
	return html(http.StatusOK, "audit", v)
}

// invoicePDF is the invoice's PDF as kept at its issue, in French or with
// ?lang=en in English — the bytes of GET /v1/invoices/{invoice_id}/pdf, by
// the same reads (the invoice, one object fetch). A draft's is the 409
// page.
func (h *Handlers) invoicePDF(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	inv, err := h.Invoices.Get(ctx, t.PartnerID, t.OrgID, r.PathParams["invoice_id"])
	if err != nil {
		return nil, err
	}
	d, err := h.Documents.Read(ctx, inv, documents.PDF, r.Query.Get("lang"))
	if err != nil {
		return nil, err
	}
	return httpapi.File(d.ContentType, d.FileName, d.Body), nil
}
