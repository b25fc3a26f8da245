package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/infra/stacktest"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/credential"
	"github.com/modupay/modupay/shared/dynamo"
	"github.com/modupay/modupay/shared/handlers/dashboard"
	"github.com/modupay/modupay/shared/money"
	"github.com/modupay/modupay/shared/session"
	"github.com/modupay/modupay/shared/webhook"
)

// A browser of the dashboard, driven as a person (or an attacker) would:
// cookies set by hand (the Secure session cookie is never sent over the
// test's plain http by a cookie jar), redirects not followed, every answer
// checked against the OpenAPI document by doWith.

// noRedirect is the test's browser: it shows redirects instead of following.
var noRedirect = &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// page sends a dashboard request with the session cookie (may be "").
func (w *world) page(method, route, path, cookie string, form url.Values, extra map[string]string, status int) answer {
	w.t.Helper()
	h := map[string]string{}
	if cookie != "" {
		h["Cookie"] = dashboard.CookieName + "=" + cookie
	}
	var body string
	if method == http.MethodPost {
		h["Content-Type"] = "application/x-www-form-urlencoded"
		h["Sec-Fetch-Site"] = "same-origin"
		h["Origin"] = w.srv.URL
		body = form.Encode()
	}
	for k, v := range extra {
		if v == "" {
			delete(h, k)
		} else {
			h[k] = v
		}
	}
	if path == "" {
		path = route
	}
	p, q, _ := strings.Cut(path, "?")
	return w.doWith(noRedirect, exchange{method: method, route: route, path: p, query: q, header: h, body: body, status: status})
}

// setCookie is the value the answer sets for the cookie name ("" if none;
// deleted reports a cookie set to expire).
func setCookie(a answer, name string) (value string, deleted bool) {
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		if c.Name == name {
			return c.Value, c.MaxAge < 0
		}
	}
	return "", false
}

var dashCSRFField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfOf is the CSRF token of a page's forms.
func csrfOf(t *testing.T, a answer) string {
	t.Helper()
	m := dashCSRFField.FindSubmatch(a.body)
	if m == nil {
		t.Fatalf("no csrf field in the page: %s", a.body)
	}
	return string(m[1])
}

// signIn signs in through the form and returns the session cookie's value.
func (w *world) signIn(id, secret string) string {
	w.t.Helper()
	form := w.page("GET", "/dashboard/login", "", "", nil, nil, 200)
	nonce, _ := setCookie(form, dashboard.LoginCookieName)
	a := w.page("POST", "/dashboard/login", "", "", url.Values{"csrf": {csrfOf(w.t, form)}, "client_id": {id}, "client_secret": {secret}},
		map[string]string{"Cookie": dashboard.LoginCookieName + "=" + nonce}, 303)
	if a.header.Get("Location") != "/dashboard" {
		w.t.Fatalf("sign-in of %s: Location %q", id, a.header.Get("Location"))
	}
	v, _ := setCookie(a, dashboard.CookieName)
	if v == "" {
		w.t.Fatalf("sign-in of %s set no session cookie: %v", id, a.header)
	}
	return v
}

// signInAttempt posts the sign-in form once (a fresh form each time) and
// returns the answer, whatever its status.
func (w *world) signInAttempt(client *http.Client, id, secret string) answer {
	w.t.Helper()
	form := w.doWith(client, exchange{method: "GET", route: "/dashboard/login", status: 200})
	nonce, _ := setCookie(form, dashboard.LoginCookieName)
	body := url.Values{"csrf": {csrfOf(w.t, form)}, "client_id": {id}, "client_secret": {secret}}.Encode()
	c := *client
	c.CheckRedirect = noRedirect.CheckRedirect
	return w.doWith(&c, exchange{method: "POST", route: "/dashboard/login", body: body, status: -1,
		header: map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Cookie": dashboard.LoginCookieName + "=" + nonce, "Sec-Fetch-Site": "same-origin"}})
}

// refusedToSignIn: the answer sends the browser to the sign-in page and
// deletes the session cookie.
func refusedToSignIn(t *testing.T, name string, a answer) {
	t.Helper()
	_, deleted := setCookie(a, dashboard.CookieName)
	if a.status != 303 || a.header.Get("Location") != "/dashboard/login" || !deleted {
		t.Errorf("%s: %d Location %q cookie deleted %v, want 303 to /dashboard/login deleting the cookie: %s", name, a.status, a.header.Get("Location"), deleted, a.body)
	}
}

// injected is markup a partner could type into any field the dashboard shows.
const injected = `<script>alert(1)</script>"'><img src=x onerror=alert(2)>`

// escapedOnly: the page shows the field escaped, never as markup.
func escapedOnly(t *testing.T, where string, a answer) {
	t.Helper()
	body := string(a.body)
	for _, raw := range []string{"<script>alert(1)</script>", "<img src=x onerror=alert(2)>", "<script"} {
		if strings.Contains(body, raw) {
			t.Errorf("%s: the page holds %q unescaped", where, raw)
		}
	}
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("%s: the injected field is not shown (escaped): %s", where, body)
	}
	if csp := a.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("%s: Content-Security-Policy %q", where, csp)
	}
}

// TestDashboardPartner signs a partner in and walks every view: its
// organisations, one with its departments, its webhook subscriptions, one
// with its failed delivery first, a delivery with its attempts; the Retry
// and Send test ping buttons make what the API's routes make; every field a
// partner typed is shown escaped.
func TestDashboardPartner(t *testing.T) {
	w := newWorld(t)
	tok := w.token("ptn-1-client", partnerSecret)
	fails := newReceiver(t, func(n int) (int, time.Duration) {
		if n == 1 {
			return 400, 0 // fails at once: the delivery is failed
		}
		return 200, 0
	})
	b, _ := json.Marshal(map[string]any{"url": fails.url() + "?q=" + url.QueryEscape(injected), "events": []string{"organization.created"}, "description": injected})
	sub := w.do(exchange{method: "POST", route: "/v1/webhook_subscriptions", header: bearer(tok), body: string(b), status: 201}).json(t)["id"].(string)
	ob, _ := json.Marshal(map[string]any{"type": "company", "name": injected, "siret": "73282932000074",
		"address": map[string]string{"line1": "1 rue A", "postal_code": "75001", "city": "Paris", "country": "FR"}})
	org := w.createOrg(tok, string(ob))
	db, _ := json.Marshal(map[string]any{"name": injected, "code": "INJ", "description": injected})
	dept := w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/departments", path: "/v1/organizations/" + org + "/departments",
		header: bearer(tok), body: string(db), status: 201}).json(t)["id"].(string)
	failed := w.waitDelivery(tok, sub, "organization.created")
	if failed["status"] != "failed" {
		t.Fatalf("the delivery to an endpoint answering 400 is %v", failed["status"])
	}

	s := w.signIn("ptn-1-client", partnerSecret)
	home := w.page("GET", "/dashboard", "", s, nil, nil, 200)
	if !strings.Contains(string(home.body), "ptn-1-client") || !strings.Contains(string(home.body), "/dashboard/organizations") {
		t.Errorf("home: %s", home.body)
	}
	if v, _ := setCookie(home, dashboard.CookieName); v == "" {
		t.Error("a page served does not re-issue the session cookie")
	}
	// Under no-referrer, browsers post forms with "Origin: null", which
	// the origin check refuses: the pages' forms would never work.
	if rp := home.header.Get("Referrer-Policy"); rp != "same-origin" {
		t.Errorf("Referrer-Policy %q, want same-origin", rp)
	}
	list := w.page("GET", "/dashboard/organizations", "", s, nil, nil, 200)
	escapedOnly(t, "organisations", list)
	if !strings.Contains(string(list.body), "/dashboard/organizations/"+org) {
		t.Errorf("the list does not link the organisation: %s", list.body)
	}
	orgPage := w.page("GET", "/dashboard/organizations/{org_id}", "/dashboard/organizations/"+org, s, nil, nil, 200)
	escapedOnly(t, "organisation", orgPage)
	if !strings.Contains(string(orgPage.body), "INJ") || strings.Count(string(orgPage.body), "&lt;script&gt;") < 3 {
		t.Errorf("the organisation's page does not show its department %s (name and description): %s", dept, orgPage.body)
	}
	subs := w.page("GET", "/dashboard/webhook_subscriptions", "", s, nil, nil, 200)
	escapedOnly(t, "subscriptions", subs)
	subPage := w.page("GET", "/dashboard/webhook_subscriptions/{subscription_id}", "/dashboard/webhook_subscriptions/"+sub, s, nil, nil, 200)
	escapedOnly(t, "subscription", subPage)
	failedAt, logAt := strings.Index(string(subPage.body), "Failed deliveries"), strings.Index(string(subPage.body), "Delivery log")
	if first := strings.Index(string(subPage.body), failed["id"].(string)); failedAt < 0 || first < failedAt || first > logAt {
		t.Errorf("the failed delivery is not listed first, under Failed deliveries: %s", subPage.body)
	}
	delivery := w.page("GET", "/dashboard/webhook_deliveries/{delivery_id}", "/dashboard/webhook_deliveries/"+failed["id"].(string), s, nil, nil, 200)
	if !strings.Contains(string(delivery.body), "<td>400</td>") || !strings.Contains(string(delivery.body), "/retry") {
		t.Errorf("the delivery's page shows no attempt answered 400 or no Retry button: %s", delivery.body)
	}

	// Retry: the API's retry, a manual attempt that the endpoint now accepts.
	csrf := csrfOf(t, subPage)
	id := failed["id"].(string)
	a := w.page("POST", "/dashboard/webhook_deliveries/{delivery_id}/retry", "/dashboard/webhook_deliveries/"+id+"/retry", s, url.Values{"csrf": {csrf}}, nil, 303)
	if a.header.Get("Location") != "/dashboard/webhook_deliveries/"+id {
		t.Errorf("retry: Location %q", a.header.Get("Location"))
	}
	waitFor(t, 30*time.Second, func() (bool, string) {
		d := w.do(exchange{method: "GET", route: "/v1/webhook_deliveries/{delivery_id}", path: "/v1/webhook_deliveries/" + id, header: bearer(tok), status: 200}).json(t)
		atts := attemptsOf(d)
		ok := d["status"] == "succeeded" && len(atts) == 2 && atts[1]["manual"] == true
		return ok, fmt.Sprintf("after Retry: %v %v", d["status"], atts)
	})
	// A retry of a delivery that succeeded is the API's 409, as a page.
	w.page("POST", "/dashboard/webhook_deliveries/{delivery_id}/retry", "/dashboard/webhook_deliveries/"+id+"/retry", s, url.Values{"csrf": {csrf}}, nil, 409)

	// Send test ping: the API's test delivery.
	before := len(w.deliveries(tok, sub, ""))
	a = w.page("POST", "/dashboard/webhook_subscriptions/{subscription_id}/test", "/dashboard/webhook_subscriptions/"+sub+"/test", s, url.Values{"csrf": {csrf}}, nil, 303)
	ping := strings.TrimPrefix(a.header.Get("Location"), "/dashboard/webhook_deliveries/")
	d := w.do(exchange{method: "GET", route: "/v1/webhook_deliveries/{delivery_id}", path: "/v1/webhook_deliveries/" + ping, header: bearer(tok), status: 200}).json(t)
	if d["event_type"] != webhook.TypeTest || d["webhook_subscription_id"] != sub || len(w.deliveries(tok, sub, "")) != before+1 {
		t.Errorf("Send test ping made %v (deliveries %d → %d)", d, before, len(w.deliveries(tok, sub, "")))
	}
	w.page("GET", "/dashboard/webhook_deliveries/{delivery_id}", "/dashboard/webhook_deliveries/"+ping, s, nil, nil, 200)

	// Paging: a page size the API refuses is the API's 422, as a page.
	bad := w.page("GET", "/dashboard/organizations", "/dashboard/organizations?page_size=1000", s, nil, nil, 422)
	if !strings.Contains(string(bad.body), "page_size") {
		t.Errorf("a bad page size: %s", bad.body)
	}
	w.page("GET", "/dashboard/organizations", "/dashboard/organizations?cursor=forged", s, nil, nil, 422)
	for i := range 3 {
		w.createOrg(tok, orgBody(fmt.Sprintf("Page %d", i)))
	}
	p1 := w.page("GET", "/dashboard/organizations", "/dashboard/organizations?page_size=2", s, nil, nil, 200)
	next := regexp.MustCompile(`href="/dashboard/organizations(\?cursor=[^"]+)"`).FindSubmatch(p1.body)
	if next == nil {
		t.Fatalf("no next page link on a page of 2 of 4: %s", p1.body)
	}
	p2 := w.page("GET", "/dashboard/organizations", "/dashboard/organizations"+strings.ReplaceAll(string(next[1]), "&amp;", "&")+"&page_size=2", s, nil, nil, 200)
	if !strings.Contains(string(p2.body), "Page 1") || strings.Contains(string(p2.body), "Page 0") {
		t.Errorf("the second page: %s", p2.body)
	}
}

// TestDashboardOrganizationClient signs in an organisation's API client:
// it sees its own organisation, not the partner's list nor its webhooks
// (the role table: partner-level pages are 403), and a sibling's
// organisation is the 404 of an organisation that does not exist.
func TestDashboardOrganizationClient(t *testing.T) {
	w := newWorld(t)
	tok := w.token("ptn-1-client", partnerSecret)
	org := w.createOrg(tok, orgBody("Mine"))
	sibling := w.createOrg(tok, orgBody("Sibling"))
	w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/departments", path: "/v1/organizations/" + org + "/departments",
		header: bearer(tok), body: `{"name":"Régie des eaux","code":"EAU"}`, status: 201})
	for _, role := range auth.Roles() {
		c := w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/api_clients", path: "/v1/organizations/" + org + "/api_clients",
			header: bearer(tok), body: `{"role":"` + string(role) + `"}`, status: 201}).json(t)
		s := w.signIn(c["client_id"].(string), c["client_secret"].(string))
		home := w.page("GET", "/dashboard", "", s, nil, nil, 200)
		if !strings.Contains(string(home.body), org) || !strings.Contains(string(home.body), string(role)) || strings.Contains(string(home.body), "/dashboard/webhook_subscriptions") {
			t.Errorf("%s: home %s", role, home.body)
		}
		own := w.page("GET", "/dashboard/organizations/{org_id}", "/dashboard/organizations/"+org, s, nil, nil, 200)
		if !strings.Contains(string(own.body), "Régie des eaux") {
			t.Errorf("%s: its organisation's page shows no department: %s", role, own.body)
		}
		w.page("GET", "/dashboard/organizations", "", s, nil, nil, 403)
		w.page("GET", "/dashboard/webhook_subscriptions", "", s, nil, nil, 403)
		ref := w.page("GET", "/dashboard/organizations/{org_id}", "/dashboard/organizations/org-01900000-0000-7000-8000-000000000000", s, nil, nil, 404)
		got := w.page("GET", "/dashboard/organizations/{org_id}", "/dashboard/organizations/"+sibling, s, nil, nil, 404)
		if !samePage(got, ref) || strings.Contains(string(got.body), sibling) {
			t.Errorf("%s: the sibling's page differs from a missing one's:\n%s\n%s", role, got.body, ref.body)
		}
	}
}

var requestIDSpan = regexp.MustCompile(`<span class="rid">[^<]*</span>`)

// samePage compares two pages but for their request ids.
func samePage(a, b answer) bool {
	strip := func(x answer) string { return requestIDSpan.ReplaceAllString(string(x.body), "") }
	return a.status == b.status && strip(a) == strip(b) && a.header.Get("Location") == b.header.Get("Location")
}

// TestDashboardSessionsEnd: a session ends on sign-out (a copy of its
// cookie too), when its client is revoked, after 30 minutes without use and
// 12 hours after sign-in; a forged, tampered, other-key or malformed cookie
// is the sign-in page, never an error; a session signed with the ring's
// previous key still works (rotation).
func TestDashboardSessionsEnd(t *testing.T) {
	w := newWorld(t)
	tok := w.token("ptn-1-client", partnerSecret)
	org := w.createOrg(tok, orgBody("Sessions"))

	// Sign-out: the cookie deleted, and a copy refused once the revocation
	// list is read again (every RevocationRefresh).
	s := w.signIn("ptn-1-client", partnerSecret)
	home := w.page("GET", "/dashboard", "", s, nil, nil, 200)
	copied, _ := setCookie(home, dashboard.CookieName)
	out := w.page("POST", "/dashboard/logout", "", s, url.Values{"csrf": {csrfOf(t, home)}}, nil, 303)
	if _, deleted := setCookie(out, dashboard.CookieName); !deleted || out.header.Get("Location") != "/dashboard/login" {
		t.Errorf("sign-out: %d %v", out.status, out.header)
	}
	w.clock.Advance(dynamo.RevocationRefresh)
	refusedToSignIn(t, "the signed-out session", w.page("GET", "/dashboard", "", s, nil, nil, -1))
	refusedToSignIn(t, "a copy of the signed-out session's cookie", w.page("GET", "/dashboard", "", copied, nil, nil, -1))
	// Another session of the same client is not signed out.
	s2 := w.signIn("ptn-1-client", partnerSecret)
	w.page("GET", "/dashboard", "", s2, nil, nil, 200)

	// Revocation: the organisation client's session stops with its tokens.
	c := w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/api_clients", path: "/v1/organizations/" + org + "/api_clients",
		header: bearer(tok), body: `{"role":"admin"}`, status: 201}).json(t)
	cid := c["client_id"].(string)
	rs := w.signIn(cid, c["client_secret"].(string))
	w.page("GET", "/dashboard/organizations/{org_id}", "/dashboard/organizations/"+org, rs, nil, nil, 200)
	w.do(exchange{method: "DELETE", route: "/v1/organizations/{org_id}/api_clients/{client_id}", path: "/v1/organizations/" + org + "/api_clients/" + cid,
		header: bearer(tok), status: 200})
	w.clock.Advance(dynamo.RevocationRefresh)
	refusedToSignIn(t, "a revoked client's session", w.page("GET", "/dashboard/organizations/{org_id}", "/dashboard/organizations/"+org, rs, nil, nil, -1))
	if a := w.signInAttempt(noRedirect, cid, c["client_secret"].(string)); a.status != 401 {
		t.Errorf("a revoked client signs in: %d", a.status)
	}

	// Idle expiry slides with use; the absolute one does not.
	s = w.signIn("ptn-1-client", partnerSecret)
	for range 2 {
		w.clock.Advance(session.IdleTimeout - time.Minute)
		a := w.page("GET", "/dashboard", "", s, nil, nil, 200)
		s, _ = setCookie(a, dashboard.CookieName)
	}
	idle := s
	w.clock.Advance(session.IdleTimeout)
	refusedToSignIn(t, "a session idle for 30 minutes", w.page("GET", "/dashboard", "", idle, nil, nil, -1))
	s = w.signIn("ptn-1-client", partnerSecret)
	for elapsed := time.Duration(0); elapsed+20*time.Minute < session.MaxAge; elapsed += 20 * time.Minute {
		w.clock.Advance(20 * time.Minute)
		a := w.page("GET", "/dashboard", "", s, nil, nil, 200)
		s, _ = setCookie(a, dashboard.CookieName)
	}
	w.clock.Advance(20 * time.Minute)
	refusedToSignIn(t, "a session used every 20 minutes, 12 hours after sign-in", w.page("GET", "/dashboard", "", s, nil, nil, -1))

	// Forged, tampered, foreign and malformed cookies.
	s = w.signIn("ptn-1-client", partnerSecret)
	ring := func(spec string) *session.Codec {
		k, err := auth.ParseKeyring(spec, "")
		if err != nil {
			t.Fatal(err)
		}
		return &session.Codec{Keys: k}
	}
	now := w.clock.Now().UTC().Truncate(time.Second)
	forge := func(c *session.Codec, edit func(*session.Session)) string {
		x := session.Session{ID: session.NewID(), ClientID: "ptn-1-client", PartnerID: "ptn-1", Scope: auth.ScopePartner, SecretTag: "x",
			IssuedAt: now, LastSeen: now, Checked: now}
		if edit != nil {
			edit(&x)
		}
		v, err := c.Seal(x)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	attackerKey := "dash-2:" + base64.StdEncoding.EncodeToString([]byte("an attacker's own key, 32 bytes long"))
	parts := strings.Split(s, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[2])
	promoted := strings.Replace(string(payload), `"scope":"partner"`, `"scope":"partner","x":1`, 1)
	for name, v := range map[string]string{
		"signed with an attacker's key under the ring's kid": forge(ring(attackerKey), nil),
		"a kid the ring does not hold":                       forge(ring(strings.Replace(attackerKey, "dash-2", "dash-9", 1)), nil),
		"another partner's id, re-signed by an attacker":     forge(ring(attackerKey), func(x *session.Session) { x.PartnerID = "ptn-2" }),
		"a payload changed, the mac kept":                    parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString([]byte(promoted)) + "." + parts[3],
		"the mac cut":                                        strings.Join(parts[:3], "."),
		"the last byte changed":                              s[:len(s)-1] + map[bool]string{true: "A", false: "B"}[s[len(s)-1] != 'A'],
		"garbage":                                            "%00%ff<script>",
		"empty payload":                                      "v1.dash-2..",
		"a huge cookie":                                      strings.Repeat("v1.", 1500),
	} {
		refusedToSignIn(t, name, w.page("GET", "/dashboard/organizations", "", v, nil, nil, -1))
	}
	// The ring's previous key (dash-1, kept after a rotation) still opens
	// the sessions it signed.
	old := ring(stacktest.DashboardOldKey)
	partnerClient, err := w.app.Credentials.Active(t.Context(), "ptn-1-client", "")
	if err == nil {
		t.Fatalf("a wrong secret tag passes: %v", partnerClient)
	}
	a := w.page("GET", "/dashboard", "", forge(old, func(x *session.Session) { x.SecretTag = secretTagOf(t, w, "ptn-1-client") }), nil, nil, 200)
	if !strings.Contains(string(a.body), "ptn-1-client") {
		t.Errorf("a session of the previous kid: %s", a.body)
	}
	if v, _ := setCookie(a, dashboard.CookieName); !strings.HasPrefix(v, "v1.dash-2.") {
		t.Errorf("the re-issued cookie is not signed with the active key: %.12s", v)
	}
}

// secretTagOf is the secret tag a session of the client carries.
func secretTagOf(t *testing.T, w *world, clientID string) string {
	t.Helper()
	c, err := w.app.Store.GetClient(t.Context(), clientID)
	if err != nil {
		t.Fatal(err)
	}
	return credential.SecretTag(c)
}

// TestDashboardFormsRefuseForgery: a form without the session's token, with
// another session's, or sent from another site changes nothing (403); the
// sign-in form needs its own token and nonce.
func TestDashboardFormsRefuseForgery(t *testing.T) {
	w := newWorld(t)
	tok := w.token("ptn-1-client", partnerSecret)
	hook := newReceiver(t, nil)
	sub := w.subscribe(tok, hook.url(), "organization.created")["id"].(string)
	s := w.signIn("ptn-1-client", partnerSecret)
	other := w.signIn("ptn-1-client", partnerSecret)
	csrf := csrfOf(t, w.page("GET", "/dashboard", "", s, nil, nil, 200))
	otherCSRF := csrfOf(t, w.page("GET", "/dashboard", "", other, nil, nil, 200))
	path := "/dashboard/webhook_subscriptions/" + sub + "/test"
	const route = "/dashboard/webhook_subscriptions/{subscription_id}/test"
	for name, tc := range map[string]struct {
		form  url.Values
		extra map[string]string
	}{
		"no token":                       {url.Values{}, nil},
		"an empty token":                 {url.Values{"csrf": {""}}, nil},
		"another session's token":        {url.Values{"csrf": {otherCSRF}}, nil},
		"a token of another key":         {url.Values{"csrf": {base64.RawURLEncoding.EncodeToString(make([]byte, 32))}}, nil},
		"cross-site (Sec-Fetch-Site)":    {url.Values{"csrf": {csrf}}, map[string]string{"Sec-Fetch-Site": "cross-site"}},
		"same-site (Sec-Fetch-Site)":     {url.Values{"csrf": {csrf}}, map[string]string{"Sec-Fetch-Site": "same-site"}},
		"another origin":                 {url.Values{"csrf": {csrf}}, map[string]string{"Sec-Fetch-Site": "", "Origin": "https://evil.example"}},
		"a null origin":                  {url.Values{"csrf": {csrf}}, map[string]string{"Sec-Fetch-Site": "", "Origin": "null"}},
		"a JSON body (Content-Type 415)": {url.Values{"csrf": {csrf}}, map[string]string{"Content-Type": "application/json"}},
	} {
		status := 403
		if strings.Contains(name, "415") {
			status = 415
		}
		a := w.page("POST", route, path, s, tc.form, tc.extra, status)
		if v, _ := setCookie(a, dashboard.CookieName); v != "" && status == 403 {
			t.Errorf("%s: a refused form re-issued the session", name)
		}
	}
	if n := len(w.deliveries(tok, sub, "")); n != 0 {
		t.Errorf("refused forms made %d deliveries", n)
	}
	// Sign-out needs the token too: a forged one leaves the session alive.
	w.page("POST", "/dashboard/logout", "", s, url.Values{"csrf": {otherCSRF}}, nil, 403)
	w.clock.Advance(dynamo.RevocationRefresh)
	w.page("GET", "/dashboard", "", s, nil, nil, 200)
	// The right form works (control).
	w.page("POST", route, path, s, url.Values{"csrf": {csrf}}, nil, 303)
	if n := len(w.deliveries(tok, sub, "")); n != 1 {
		t.Errorf("the control form made %d deliveries", n)
	}

	// Sign-in: without the form's nonce cookie, with another form's token,
	// or from another site, refused before any credential is checked.
	form := w.page("GET", "/dashboard/login", "", "", nil, nil, 200)
	nonce, _ := setCookie(form, dashboard.LoginCookieName)
	form2 := w.page("GET", "/dashboard/login", "", "", nil, nil, 200)
	good := url.Values{"csrf": {csrfOf(t, form)}, "client_id": {"ptn-1-client"}, "client_secret": {partnerSecret}}
	for name, tc := range map[string]struct {
		form  url.Values
		extra map[string]string
	}{
		"no nonce cookie":       {good, nil},
		"another form's token":  {url.Values{"csrf": {csrfOf(t, form2)}, "client_id": {"ptn-1-client"}, "client_secret": {partnerSecret}}, map[string]string{"Cookie": dashboard.LoginCookieName + "=" + nonce}},
		"cross-site":            {good, map[string]string{"Cookie": dashboard.LoginCookieName + "=" + nonce, "Sec-Fetch-Site": "cross-site"}},
		"another origin":        {good, map[string]string{"Cookie": dashboard.LoginCookieName + "=" + nonce, "Sec-Fetch-Site": "", "Origin": "https://evil.example"}},
		"a session cookie only": {good, map[string]string{"Cookie": dashboard.CookieName + "=" + s}},
	} {
		a := w.page("POST", "/dashboard/login", "", "", tc.form, tc.extra, 403)
		if v, _ := setCookie(a, dashboard.CookieName); v != "" {
			t.Errorf("sign-in %s: a session cookie was set", name)
		}
	}
	w.page("POST", "/dashboard/login", "", "", url.Values{"csrf": {csrfOf(t, form)}, "client_id": {""}, "client_secret": {""}},
		map[string]string{"Cookie": dashboard.LoginCookieName + "=" + nonce}, 422)
	w.page("POST", "/dashboard/login", "", "", good, map[string]string{"Cookie": dashboard.LoginCookieName + "=" + nonce}, 303)
}

// TestDashboardSignInBruteForce: failed sign-ins count in the token
// endpoint's windows — per client id and per address — whichever door they
// come through; once a window is used up, the right secret is refused too,
// at both doors, until it ends.
func TestDashboardSignInBruteForce(t *testing.T) {
	w, clock, logs := limitsWorld(t)
	// Five wrong secrets at the token endpoint and five at the dashboard:
	// the client's quota of ten is used up.
	for i := range 5 {
		w.do(exchange{method: "POST", route: "/v1/auth/token", header: map[string]string{"Content-Type": jsonCT}, body: tokenBody("ptn-1-client", fmt.Sprint("wrong-", i), ""), status: 401})
		a := w.signInAttempt(w.srv.Client(), "ptn-1-client", fmt.Sprint("wrong-", i))
		if a.status != 401 || strings.Contains(string(a.body), "wrong-") {
			t.Fatalf("wrong secret %d: %d %s", i, a.status, a.body)
		}
	}
	a := w.signInAttempt(w.srv.Client(), "ptn-1-client", partnerSecret)
	if a.status != 429 || a.header.Get("Retry-After") == "" {
		t.Errorf("the right secret after ten failures: %d Retry-After %q", a.status, a.header.Get("Retry-After"))
	}
	if v, _ := setCookie(a, dashboard.CookieName); v != "" {
		t.Error("a locked-out sign-in set a session")
	}
	w.do(exchange{method: "POST", route: "/v1/auth/token", header: map[string]string{"Content-Type": jsonCT}, body: tokenBody("ptn-1-client", partnerSecret, ""), status: 429})
	// Another client from another address is not locked.
	if a := w.signInAttempt(clientFrom(t, "127.0.0.9"), "ptn-2-client", partnerSecret); a.status != 303 {
		t.Errorf("another client: %d", a.status)
	}
	// Per address: unknown client ids from one address, 50 in the window.
	from := clientFrom(t, "127.0.0.7")
	for i := range 50 {
		if a := w.signInAttempt(from, fmt.Sprint("guess-", i), "x"); a.status != 401 {
			t.Fatalf("guess %d: %d", i, a.status)
		}
	}
	if a := w.signInAttempt(from, "ptn-2-client", partnerSecret); a.status != 429 {
		t.Errorf("the right secret from an address past its quota: %d", a.status)
	}
	for _, l := range logs.lines(t, "failed client authentication") {
		if strings.Contains(fmt.Sprint(l), "wrong-") || strings.Contains(fmt.Sprint(l), partnerSecret) {
			t.Fatalf("a log line holds a secret: %v", l)
		}
	}
	// The window ends: the right secret signs in again.
	clock.Advance(15 * time.Minute)
	w.signIn("ptn-1-client", partnerSecret)
}

// TestDashboardSessionsEndWithoutTheRevocationList: a container that cannot
// read the revocation list again keeps its last copy, in which a client
// revoked since, or a session signed out since, is absent. The sessions
// then end at their next check of the records themselves, at most
// session.CheckEvery after the last one.
func TestDashboardSessionsEndWithoutTheRevocationList(t *testing.T) {
	w := newWorld(t)
	tok := w.token("ptn-1-client", partnerSecret)
	org := w.createOrg(tok, orgBody("Stale list"))
	c := w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/api_clients", path: "/v1/organizations/" + org + "/api_clients",
		header: bearer(tok), body: `{"role":"analyst"}`, status: 201}).json(t)
	revoked := w.signIn(c["client_id"].(string), c["client_secret"].(string))
	signedOut := w.signIn("ptn-1-client", partnerSecret)
	home := w.page("GET", "/dashboard", "", signedOut, nil, nil, 200)
	w.page("GET", "/dashboard", "", revoked, nil, nil, 200) // the list is read now

	w.faults.setWhen(errBoom, func(in any) bool {
		q, ok := in.(*dynamodb.QueryInput)
		if !ok {
			return false
		}
		pk, _ := q.ExpressionAttributeValues[":pk"].(*types.AttributeValueMemberS)
		return pk != nil && pk.Value == "REVOCATIONS"
	})
	t.Cleanup(func() { w.faults.set(nil) })
	w.do(exchange{method: "DELETE", route: "/v1/organizations/{org_id}/api_clients/{client_id}", path: "/v1/organizations/" + org + "/api_clients/" + c["client_id"].(string),
		header: bearer(tok), status: 200})
	w.page("POST", "/dashboard/logout", "", signedOut, url.Values{"csrf": {csrfOf(t, home)}}, nil, 303)
	copied := signedOut

	// The list cannot be read again: both sessions still pass it...
	w.clock.Advance(dynamo.RevocationRefresh)
	for _, s := range []*string{&revoked, &copied} {
		a := w.page("GET", "/dashboard", "", *s, nil, nil, 200)
		*s, _ = setCookie(a, dashboard.CookieName)
	}
	w.clock.Advance(session.CheckEvery - dynamo.RevocationRefresh - 5*time.Minute)
	for _, s := range []*string{&revoked, &copied} {
		a := w.page("GET", "/dashboard", "", *s, nil, nil, 200)
		*s, _ = setCookie(a, dashboard.CookieName)
	}
	if w.faults.hits.Load() == 0 {
		t.Fatal("the revocation list was never read: the test proves nothing")
	}
	// ...until the check of the records, CheckEvery after sign-in.
	w.clock.Advance(5 * time.Minute)
	refusedToSignIn(t, "the revoked client's session, at its next check", w.page("GET", "/dashboard", "", revoked, nil, nil, -1))
	refusedToSignIn(t, "the signed-out session, at its next check", w.page("GET", "/dashboard", "", copied, nil, nil, -1))
}

// TestDashboardInvoicesAndAPIClients: an organisation's invoices filtered
// by status; its API clients created (the secret shown once, and working)
// and revoked (the client's token and session refused) from the dashboard,
// by the partner and by the organisation's admin; the other roles may not
// manage clients (403), as with the API.
func TestDashboardInvoicesAndAPIClients(t *testing.T) {
	w := newWorld(t)
	tok := w.token("ptn-1-client", partnerSecret)
	org := w.createOrg(tok, orgBody("Invoices"))
	dept, acct := newDepartmentWithAccounts(t, w, tok, org)
	draft := w.do(exchange{method: "POST", route: "/v1/invoices", header: bearer(tok, "X-Entity-Id", org), body: seedInvoice(dept, "2030-01-01"), status: 201}).json(t)["invoice_number"].(string)
	issued := w.do(exchange{method: "POST", route: "/v1/invoices", header: bearer(tok, "X-Entity-Id", org), body: seedInvoice(dept, "2030-01-01"), status: 201}).json(t)["id"].(string)
	number := w.do(exchange{method: "POST", route: "/v1/invoices/{invoice_id}/issue", path: "/v1/invoices/" + issued + "/issue",
		header: bearer(tok, "X-Entity-Id", org), status: 200}).json(t)["invoice_number"].(string)

	s := w.signIn("ptn-1-client", partnerSecret)
	base := "/dashboard/organizations/" + org
	all := w.page("GET", "/dashboard/organizations/{org_id}/invoices", base+"/invoices", s, nil, nil, 200)
	if !strings.Contains(string(all.body), ">"+draft+"</a></td><td>draft</td>") || !strings.Contains(string(all.body), ">"+number+"</a></td><td>issued</td>") {
		t.Errorf("all invoices: %s", all.body)
	}
	only := w.page("GET", "/dashboard/organizations/{org_id}/invoices", base+"/invoices?status=issued", s, nil, nil, 200)
	if strings.Contains(string(only.body), draft) || !strings.Contains(string(only.body), ">"+number+"</a></td><td>issued</td>") || !strings.Contains(string(only.body), `value="issued" selected`) {
		t.Errorf("issued invoices: %s", only.body)
	}
	w.page("GET", "/dashboard/organizations/{org_id}/invoices", base+"/invoices?status=%3Cscript%3E", s, nil, nil, 422)

	// An invoice: its lines, VAT and totals, and its payment history (the
	// link's intent, as the API lists it).
	link := w.do(exchange{method: "POST", route: "/v1/payment_links", header: bearer(tok, "X-Entity-Id", org), body: linkBody(issued, ""), status: 201}).json(t)
	inv := w.page("GET", "/dashboard/organizations/{org_id}/invoices/{invoice_id}", base+"/invoices/"+issued, s, nil, nil, 200)
	for _, want := range []string{number, money.FormatEUR(40000), money.FormatEUR(2200), money.FormatEUR(42200), "Payment history", link["payment_intent_id"].(string)} {
		if !strings.Contains(string(inv.body), want) {
			t.Errorf("the invoice's page lacks %q: %s", want, inv.body)
		}
	}
	if !strings.Contains(string(all.body), base+"/invoices/"+issued) {
		t.Errorf("the list does not link the invoice: %s", all.body)
	}
	w.page("GET", "/dashboard/organizations/{org_id}/invoices/{invoice_id}", base+"/invoices/inv-01900000-0000-7000-8000-000000000000", s, nil, nil, 404)

	// The department: its accounts with their verification state, the
	// IBANs masked as the API lists them.
	deptPage := w.page("GET", "/dashboard/organizations/{org_id}/departments/{dept_id}", base+"/departments/"+dept, s, nil, nil, 200)
	accounts := w.do(exchange{method: "GET", route: "/v1/departments/{dept_id}/bank_accounts", path: deptPath(dept, "/bank_accounts"), header: bearer(tok), status: 200}).json(t)["data"].([]any)
	for _, a := range accounts {
		acc := a.(map[string]any)
		row := fmt.Sprintf("<td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>", acc["id"], acc["account_name"], acc["iban"], acc["bic"], acc["status"])
		if !strings.Contains(string(deptPage.body), row) {
			t.Errorf("the department's page has no row %s: %s", row, deptPage.body)
		}
	}
	if len(accounts) != 2 || !strings.Contains(string(deptPage.body), acct) || strings.Contains(string(deptPage.body), "FR7630006000011234567890189") {
		t.Errorf("the department's page shows %d accounts, or an IBAN unmasked: %s", len(accounts), deptPage.body)
	}
	w.page("GET", "/dashboard/organizations/{org_id}/departments/{dept_id}", base+"/departments/dept-01900000-0000-7000-8000-000000000000", s, nil, nil, 404)

	// The partner creates an organisation admin; its secret is on that
	// answer only, and works.
	clients := w.page("GET", "/dashboard/organizations/{org_id}/api_clients", base+"/api_clients", s, nil, nil, 200)
	csrf := csrfOf(t, clients)
	created := w.page("POST", "/dashboard/organizations/{org_id}/api_clients", base+"/api_clients", s,
		url.Values{"csrf": {csrf}, "role": {"admin"}, "name": {injected}}, nil, 200)
	escapedOnly(t, "API clients", created)
	m := regexp.MustCompile(`<dt>Client id</dt><dd>([^<]+)</dd>.*<code class="secret">([^<]+)</code>`).FindSubmatch(created.body)
	if m == nil {
		t.Fatalf("the creation shows no id and secret: %s", created.body)
	}
	adminID, adminSecret := string(m[1]), string(m[2])
	w.token(adminID, adminSecret)
	again := w.page("GET", "/dashboard/organizations/{org_id}/api_clients", base+"/api_clients", s, nil, nil, 200)
	if !strings.Contains(string(again.body), adminID) || strings.Contains(string(again.body), adminSecret) {
		t.Errorf("the list shows the client %v, or its secret again", strings.Contains(string(again.body), adminID))
	}
	w.page("POST", "/dashboard/organizations/{org_id}/api_clients", base+"/api_clients", s, url.Values{"csrf": {csrf}, "role": {"owner"}}, nil, 422)

	// The organisation's admin, signed in, creates and revokes an analyst;
	// the analyst may not manage clients.
	as := w.signIn(adminID, adminSecret)
	acsrf := csrfOf(t, w.page("GET", "/dashboard/organizations/{org_id}/api_clients", base+"/api_clients", as, nil, nil, 200))
	created = w.page("POST", "/dashboard/organizations/{org_id}/api_clients", base+"/api_clients", as, url.Values{"csrf": {acsrf}, "role": {"analyst"}}, nil, 200)
	m = regexp.MustCompile(`<dt>Client id</dt><dd>([^<]+)</dd>.*<code class="secret">([^<]+)</code>`).FindSubmatch(created.body)
	if m == nil {
		t.Fatalf("the admin's creation shows no id and secret: %s", created.body)
	}
	analystID, analystSecret := string(m[1]), string(m[2])
	analystToken := w.token(analystID, analystSecret)
	analyst := w.signIn(analystID, analystSecret)
	w.page("GET", "/dashboard/organizations/{org_id}/api_clients", base+"/api_clients", analyst, nil, nil, 403)
	ancsrf := csrfOf(t, w.page("GET", "/dashboard", "", analyst, nil, nil, 200))
	w.page("POST", "/dashboard/organizations/{org_id}/api_clients", base+"/api_clients", analyst, url.Values{"csrf": {ancsrf}, "role": {"admin"}}, nil, 403)
	w.page("GET", "/dashboard/organizations/{org_id}/invoices", base+"/invoices", analyst, nil, nil, 200)
	r := w.page("POST", "/dashboard/organizations/{org_id}/api_clients/{client_id}/revoke", base+"/api_clients/"+analystID+"/revoke", as, url.Values{"csrf": {acsrf}}, nil, 303)
	if r.header.Get("Location") != base+"/api_clients" {
		t.Errorf("revoke: Location %q", r.header.Get("Location"))
	}
	w.do(exchange{method: "POST", route: "/v1/auth/token", header: map[string]string{"Content-Type": jsonCT}, body: tokenBody(analystID, analystSecret, ""), status: 401})
	w.clock.Advance(dynamo.RevocationRefresh)
	w.do(exchange{method: "GET", route: "/v1/organizations/{org_id}", path: "/v1/organizations/" + org, header: bearer(analystToken), status: 401})
	refusedToSignIn(t, "the revoked analyst's session", w.page("GET", "/dashboard", "", analyst, nil, nil, -1))
	// Revoking an id that is not the organisation's client is the 404 page.
	w.page("POST", "/dashboard/organizations/{org_id}/api_clients/{client_id}/revoke", base+"/api_clients/ptn-1-client/revoke", as, url.Values{"csrf": {acsrf}}, nil, 404)
}

// The audit trail in the dashboard: the entries the API's trail holds, the
// same filters (a wrong one is a 422 page), changes escaped, the payer
// masked as the API masks it, and the roles the API admits.
func TestDashboardAuditTrail(t *testing.T) {
	iw := newInvoiceWorld(t)
	inv := iw.create(seedInvoice(iw.dept, iw.day(30)), 201).json(t)["id"].(string)
	iw.action(inv, "issue", 200)
	api := iw.waitTrail(t, "resource_id="+inv, func(es []map[string]any) bool { return len(es) >= 2 })

	s := iw.signIn("ptn-1-client", partnerSecret)
	base := "/dashboard/organizations/" + iw.org + "/audit_logs"
	all := iw.page("GET", "/dashboard/organizations/{org_id}/audit_logs", base+"?resource_id="+inv, s, nil, nil, 200)
	body := string(all.body)
	for _, e := range api {
		if !strings.Contains(body, e["action"].(string)) || !strings.Contains(body, inv) {
			t.Errorf("the page lacks the entry %s %s: %s", e["action"], e["resource_id"], body)
		}
	}
	if strings.Contains(body, "jean.dupont@example.com") || !strings.Contains(body, "j•••@example.com") {
		t.Errorf("the payer is not masked as the API masks it: %s", body)
	}
	if !strings.Contains(body, `value="`+inv+`"`) {
		t.Error("the form does not show the filter back")
	}
	// The same filters as the API: only status changes, then a day range
	// that holds none.
	changed := string(iw.page("GET", "/dashboard/organizations/{org_id}/audit_logs", base+"?resource_id="+inv+"&action=status_changed", s, nil, nil, 200).body)
	if !strings.Contains(changed, "status_changed") || strings.Contains(changed, ">created<") {
		t.Errorf("action=status_changed: %s", changed)
	}
	none := string(iw.page("GET", "/dashboard/organizations/{org_id}/audit_logs", base+"?resource_id="+inv+"&to_date=2001-01-01", s, nil, nil, 200).body)
	if !strings.Contains(none, "No entry matching these filters") {
		t.Errorf("a range without entries: %s", none)
	}
	for _, q := range []string{"?action=%3Cscript%3E", "?from_date=yesterday", "?from_date=2026-02-02&to_date=2026-02-01", "?resource_type=api_call", "?colour=red"} {
		page := iw.page("GET", "/dashboard/organizations/{org_id}/audit_logs", base+q, s, nil, nil, 422)
		if strings.Contains(string(page.body), "<script>") {
			t.Errorf("%s: the error page echoes the script", q)
		}
	}
	// The organisation page links the trail; a portfolio manager may not
	// read it (as GET /v1/audit_logs), an analyst may.
	if org := iw.page("GET", "/dashboard/organizations/{org_id}", "/dashboard/organizations/"+iw.org, s, nil, nil, 200); !strings.Contains(string(org.body), base) {
		t.Error("the organisation's page does not link its audit trail")
	}
	for role, status := range map[string]int{"portfolio_manager": 403, "analyst": 200} {
		c := iw.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/api_clients", path: "/v1/organizations/" + iw.org + "/api_clients",
			header: bearer(iw.token), body: `{"role":"` + role + `"}`, status: 201}).json(t)
		rs := iw.signIn(c["client_id"].(string), c["client_secret"].(string))
		iw.page("GET", "/dashboard/organizations/{org_id}/audit_logs", base, rs, nil, nil, status)
	}
}
