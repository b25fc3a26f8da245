// Package dashboard serves the partner dashboard: server-rendered HTML
// pages under /dashboard for a partner's client credentials or an
// organisation's API client, signed in with the same credential service and
// failed-attempt limits as POST /v1/auth/token. Its pages are another door
// into the API's data, so they pass the same edge: the session's principal
// meets the revocation list, the tenancy rule and the role matrix before a
// handler runs (httpapi.Session routes), and every handler calls the same
// services the API's routes call. It works without JavaScript (forms and
// links), sends a strict Content-Security-Policy (no script at all, its
// stylesheet served by itself), checks the request's origin and a
// per-session CSRF token on every form, and answers every error with a
// page: never a 500 for bad input, the same 404 for another tenant's ids as
// for ids that do not exist.
package dashboard

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/audit"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/credential"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/dynamo"
	"github.com/modupay/modupay/shared/handlers/invoices"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/idempotency"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/organization"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/refund"
	"github.com/modupay/modupay/shared/session"
	"github.com/modupay/modupay/shared/webhook"
)

// The cookies: the session, and the sign-in form's nonce (login CSRF).
const (
	CookieName      = "modupay_dashboard"
	LoginCookieName = "modupay_dashboard_login"
	cookiePath      = "/dashboard"
)

// SessionStore records signed-out sessions (dynamo.Sessions).
type SessionStore interface {
	EndSession(ctx context.Context, sessionID string, at, until time.Time) error
	SessionEnded(ctx context.Context, sessionID string) (bool, error)
}

// Handlers holds the dashboard's dependencies: the services the API's
// routes use, and its own session codec.
type Handlers struct {
	Codec         *session.Codec
	Sessions      SessionStore
	Revocations   httpapi.RevocationChecker
	Credentials   *credential.Service
	Organizations *organization.Service
	Departments   *department.Service
	Invoices      *invoice.Service
	Payments      *payment.Service
	Refunds       *refund.Service
	Webhooks      *webhook.Service
	// Forms keeps the form keys (formKeyField): the API's idempotency
	// store.
	Forms idempotency.Store
	// Documents reads invoices' documents as kept at their issue.
	Documents invoices.DocumentReader
	// Trail is the audit trail's service, as GET /v1/audit_logs uses it.
	Trail *audit.Service
	// Now is the sessions' clock (the edge's); Log receives sign-in and
	// session events.
	Now func() time.Time
	Log *slog.Logger
}

// Routes lists the dashboard's routes, keyed as in template.yaml. Pages
// that show a tenant's data declare the API action whose service they
// call; the home page and signing out declare dashboard.use. Home and
// logout act on the caller's own principal only: OrgOfResource resolves it
// to the caller's own tenant (an organisation session's organisation).
func (h *Handlers) Routes() []httpapi.Route {
	form := []string{"application/x-www-form-urlencoded"}
	s := func(key string, t httpapi.Tenancy, a auth.Action, fn httpapi.HandlerFunc) httpapi.Route {
		if strings.HasPrefix(key, "POST ") && key != "POST /dashboard/logout" {
			fn = h.once(fn)
		}
		rt := httpapi.Route{Key: key, Access: httpapi.Session, Tenancy: t, Action: a, Handler: h.page(fn), Errors: h.errorPage}
		if strings.HasPrefix(key, "POST ") {
			rt.Consumes = form
		}
		return rt
	}
	return []httpapi.Route{
		{Key: "GET /dashboard/login", Access: httpapi.Public, Handler: h.loginForm, Errors: h.errorPage},
		{Key: "POST /dashboard/login", Access: httpapi.Public, Handler: h.login, Consumes: form, Errors: h.errorPage},
		{Key: "GET /dashboard/dashboard.css", Access: httpapi.Public, Handler: h.stylesheet, Errors: h.errorPage},
		s("GET /dashboard", httpapi.OrgOfResource, auth.ActionDashboardUse, h.home),
		s("POST /dashboard/logout", httpapi.OrgOfResource, auth.ActionDashboardUse, h.logout),
		s("GET /dashboard/organizations", httpapi.PartnerLevel, auth.ActionOrganizationsList, h.organizations),
		s("GET /dashboard/organizations/{org_id}", httpapi.OrgInPath, auth.ActionOrganizationsRead, h.organization),
		s("GET /dashboard/organizations/{org_id}/departments/{dept_id}", httpapi.OrgInPath, auth.ActionDepartmentsRead, h.department),
		s("GET /dashboard/organizations/{org_id}/invoices", httpapi.OrgInPath, auth.ActionInvoicesRead, h.invoices),
		s("GET /dashboard/organizations/{org_id}/invoices/{invoice_id}", httpapi.OrgInPath, auth.ActionInvoicesRead, h.invoice),
		s("GET /dashboard/organizations/{org_id}/invoices/{invoice_id}/pdf", httpapi.OrgInPath, auth.ActionInvoicesRead, h.invoicePDF),
		s("GET /dashboard/organizations/{org_id}/payment_links", httpapi.OrgInPath, auth.ActionPaymentLinksRead, h.links),
		s("GET /dashboard/organizations/{org_id}/payment_links/{link_id}", httpapi.OrgInPath, auth.ActionPaymentLinksRead, h.link),
		s("POST /dashboard/organizations/{org_id}/payment_links/{link_id}/deactivate", httpapi.OrgInPath, auth.ActionPaymentLinksWrite, h.deactivateLink),
		s("GET /dashboard/organizations/{org_id}/payment_intents/{intent_id}", httpapi.OrgInPath, auth.ActionPaymentIntentsRead, h.intent),
		s("POST /dashboard/organizations/{org_id}/payment_intents/{intent_id}/refunds", httpapi.OrgInPath, auth.ActionRefundsCreate, h.createRefund),
		s("GET /dashboard/organizations/{org_id}/refunds", httpapi.OrgInPath, auth.ActionRefundsRead, h.refunds),
		s("POST /dashboard/organizations/{org_id}/refunds/{refund_id}/confirm", httpapi.OrgInPath, auth.ActionRefundsCreate, h.confirmRefund),
		s("POST /dashboard/organizations/{org_id}/refunds/{refund_id}/cancel", httpapi.OrgInPath, auth.ActionRefundsCreate, h.cancelRefund),
		s("GET /dashboard/organizations/{org_id}/api_clients", httpapi.OrgInPath, auth.ActionAPIClientsManage, h.apiClients),
		s("GET /dashboard/organizations/{org_id}/audit_logs", httpapi.OrgInPath, auth.ActionAuditRead, h.auditTrail),
		s("POST /dashboard/organizations/{org_id}/api_clients", httpapi.OrgInPath, auth.ActionAPIClientsManage, h.createAPIClient),
		s("POST /dashboard/organizations/{org_id}/api_clients/{client_id}/revoke", httpapi.OrgInPath, auth.ActionAPIClientsManage, h.revokeAPIClient),
		s("GET /dashboard/webhook_subscriptions", httpapi.PartnerLevel, auth.ActionWebhooksRead, h.subscriptions),
		s("GET /dashboard/webhook_subscriptions/{subscription_id}", httpapi.PartnerLevel, auth.ActionWebhooksRead, h.subscription),
		s("POST /dashboard/webhook_subscriptions/{subscription_id}/test", httpapi.PartnerLevel, auth.ActionWebhooksWrite, h.testPing),
		s("GET /dashboard/webhook_deliveries/{delivery_id}", httpapi.PartnerLevel, auth.ActionWebhooksRead, h.delivery),
		s("POST /dashboard/webhook_deliveries/{delivery_id}/retry", httpapi.PartnerLevel, auth.ActionWebhooksWrite, h.retry),
	}
}

// Authenticate is the edge's httpapi.SessionAuthenticator: the session
// cookie, opened with the ring, and not signed out (the revocation list,
// from memory); every session.CheckEvery its client is also read again
// (still active, same secret) and its sign-out record looked for. The edge
// then checks the client against the same list as tokens.
func (h *Handlers) Authenticate(ctx context.Context, r *httpapi.Request) (auth.Principal, error) {
	const op = "dashboard.session"
	v := r.Cookie(CookieName)
	if v == "" {
		return auth.Principal{}, apperr.E(op, apperr.Unauthenticated, "sign in to use the dashboard")
	}
	now := h.Now()
	s, err := h.Codec.Open(v, now)
	if err != nil {
		return auth.Principal{}, &apperr.Error{Op: op, Code: apperr.Unauthenticated, Message: "the session is invalid or has expired: sign in again", Err: err}
	}
	if h.Revocations != nil {
		ended, err := h.Revocations.Revoked(ctx, dynamo.SessionRevocationID(s.ID), s.IssuedAt)
		if err != nil {
			return auth.Principal{}, apperr.Wrap(op, err)
		}
		if ended {
			return auth.Principal{}, apperr.E(op, apperr.Unauthenticated, "this session was signed out")
		}
	}
	if now.Sub(s.Checked) >= session.CheckEvery {
		if _, err := h.Credentials.Active(ctx, s.ClientID, s.SecretTag); err != nil {
			return auth.Principal{}, err
		}
		ended, err := h.Sessions.SessionEnded(ctx, s.ID)
		if err != nil {
			return auth.Principal{}, apperr.Wrap(op, err)
		}
		if ended {
			return auth.Principal{}, apperr.E(op, apperr.Unauthenticated, "this session was signed out")
		}
		s.Checked = now
	}
	r.Session = &s
	return s.Principal(), nil
}

// page wraps a session route's handler: a form is checked first (origin,
// CSRF token), and a page served re-issues the session's cookie, so an
// active session slides on (idle expiry) until its absolute end.
func (h *Handlers) page(fn httpapi.HandlerFunc) httpapi.HandlerFunc {
	return func(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
		s, ok := r.Session.(*session.Session)
		if !ok {
			return nil, apperr.E("dashboard.page", apperr.Unauthenticated, "sign in to use the dashboard")
		}
		if r.Method == http.MethodPost {
			if err := h.checkForm(r, func(form url.Values) bool { return h.Codec.CheckCSRF(*s, form.Get("csrf")) }); err != nil {
				return nil, err
			}
		}
		resp, err := fn(ctx, r)
		if err != nil || resp == nil {
			return resp, err
		}
		if r.RouteKey == "POST /dashboard/logout" {
			return resp, nil
		}
		s.LastSeen = h.Now()
		v, err := h.Codec.Seal(*s)
		if err != nil {
			return nil, apperr.Wrap("dashboard.page", err)
		}
		resp.Cookies = append(resp.Cookies, sessionCookie(v, s.IssuedAt.Add(session.MaxAge).Sub(s.LastSeen)))
		return resp, nil
	}
}

// sessionCookie is the session's Set-Cookie: never readable by script,
// sent over https only, never on a request another site starts, and only
// to the dashboard's paths. maxAge ≤ 0 deletes it.
func sessionCookie(value string, maxAge time.Duration) string {
	c := &http.Cookie{Name: CookieName, Value: value, Path: cookiePath, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode}
	if maxAge > 0 {
		c.MaxAge = int(maxAge / time.Second)
	} else {
		c.MaxAge = -1
	}
	return c.String()
}

func loginCookie(nonce string, maxAge int) string {
	return (&http.Cookie{Name: LoginCookieName, Value: nonce, Path: cookiePath, HttpOnly: true, Secure: true,
		SameSite: http.SameSiteStrictMode, MaxAge: maxAge}).String()
}

// checkForm refuses a form another site may have sent — a Sec-Fetch-Site
// other than same-origin, an Origin of another host — and one whose CSRF
// token does not verify. A browser sends at least one of the two headers
// on a form post; a client that sends neither still needs the token, which
// only the session's own pages carry.
func (h *Handlers) checkForm(r *httpapi.Request, tokenOK func(url.Values) bool) error {
	const op = "dashboard.form"
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return apperr.E(op, apperr.Forbidden, "a form sent from another site is refused")
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || u.Host == "" || !strings.EqualFold(u.Host, r.Header.Get("Host")) {
			return apperr.E(op, apperr.Forbidden, "a form sent from another site is refused")
		}
	}
	form, err := url.ParseQuery(string(r.Body))
	if err != nil || !tokenOK(form) {
		return apperr.E(op, apperr.Forbidden, "the form is stale or forged: reload the page and send it again")
	}
	return nil
}

// formValues is a checked form's values (checkForm parsed it already).
func formValues(r *httpapi.Request) url.Values {
	v, _ := url.ParseQuery(string(r.Body))
	return v
}

// csp forbids every script, every other origin and framing: the pages are
// HTML and one stylesheet of this function; forms post to this origin only.
const csp = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// html renders a page with the headers every dashboard page carries.
func html(status int, name string, data any) (*httpapi.Response, error) {
	var b strings.Builder
	if err := pages.ExecuteTemplate(&b, name, data); err != nil {
		return nil, err
	}
	resp := httpapi.Raw(status, "text/html; charset=utf-8", []byte(b.String()))
	setPageHeaders(resp.Header)
	return resp, nil
}

// setPageHeaders sets what every page carries. The referrer policy is
// same-origin, not no-referrer: under no-referrer a browser sends
// "Origin: null" with a form's POST, which checkForm must refuse; the
// dashboard's URLs carry no secret, and no other site is told them.
func setPageHeaders(h http.Header) {
	h.Set("Content-Security-Policy", csp)
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
}

func redirect(to string) *httpapi.Response {
	resp := httpapi.Raw(http.StatusSeeOther, "text/plain; charset=utf-8", nil)
	resp.Header.Set("Location", to)
	return resp
}

// errorPage renders every error of a dashboard route as a page. An
// unauthenticated request goes to the sign-in page, its cookie deleted. A
// 404 says only that there is nothing here: the same bytes (but the
// request id) for another tenant's id as for an id that does not exist.
// Internal causes are never shown; the log line with the request id has
// them.
func (h *Handlers) errorPage(err error, requestID string) *httpapi.Response {
	code := apperr.CodeOf(err)
	if code == apperr.Unauthenticated {
		resp := redirect("/dashboard/login")
		resp.Cookies = []string{sessionCookie("", 0)}
		setPageHeaders(resp.Header)
		return resp
	}
	status := httpapi.StatusOf(code)
	v := errorView{Status: status, Title: http.StatusText(status), RequestID: requestID}
	switch code {
	case apperr.NotFound:
		v.Message = "There is nothing here, or nothing you may see."
	case apperr.Internal, apperr.Unavailable:
		v.Message = "Something went wrong on our side. Quote the request id to support."
	default:
		if ae, ok := apperr.As(err); ok {
			v.Message = ae.Message
		}
	}
	resp, rerr := html(status, "error", v)
	if rerr != nil {
		resp = httpapi.Raw(status, "text/plain; charset=utf-8", []byte(v.Title+"\n"))
	}
	return resp
}

type errorView struct {
	Status         int
	Title, Message string
	RequestID      string
}

// base is what every signed-in page shows: who is signed in, the
// navigation its rights allow, and the CSRF token of its forms.
type base struct {
	P    auth.Principal
	CSRF string
	// Nav: the links the role table admits.
	Organizations, Webhooks bool
}

func (h *Handlers) base(r *httpapi.Request) base {
	s := r.Session.(*session.Session)
	p := *r.Principal
	return base{P: p, CSRF: h.Codec.CSRF(*s),
		Organizations: auth.Allowed(p, auth.ActionOrganizationsList) || auth.Allowed(p, auth.ActionOrganizationsRead),
		Webhooks:      auth.Allowed(p, auth.ActionWebhooksRead)}
}

// stylesheet is the pages' one stylesheet (the CSP admits 'self' only).
func (h *Handlers) stylesheet(context.Context, *httpapi.Request) (*httpapi.Response, error) {
	resp := httpapi.Raw(http.StatusOK, "text/css; charset=utf-8", []byte(style))
	resp.Header.Set("Cache-Control", "public, max-age=3600")
	return resp, nil
}

// styleVersion names the stylesheet's content, so a changed one is fetched
// again whatever the browser cached.
var styleVersion = func() string {
	sum := sha256.Sum256([]byte(style))
	return hex.EncodeToString(sum[:6])
}()

// pageParams is a list page's query as the API reads it, asking for no
// total: the pages show none, so a list the API counts for total_items
// (organisations, departments, API clients, the audit trail's first page)
// costs the dashboard no counting read.
func pageParams(r *httpapi.Request) (listing.Query, error) {
	q, err := r.PageParams()
	q.NoTotal = true
	return q, err
}
