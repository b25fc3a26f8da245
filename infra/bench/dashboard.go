package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"runtime"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/shared/handlers/dashboard"
)

// dashboardPage is one page of the partner dashboard the bench measures:
// its name, its path (each {id} filled from the ids the bench created) and
// its budget, the most DynamoDB calls a request may make — the "DynamoDB
// calls" column of docs/dashboard.md's "Pages" for the data the bench
// gives it. A page is over budget when the median of its requests exceeds
// it: a session's client is read again every 30 minutes (2 calls) and the
// revocation list every 30 s per container, each on one request only.
type dashboardPage struct {
	name, path string
	budget     int64
}

// dashboardPages are the pages measured, in the order of the navigation.
// A new page is a row here; a new id in its path is a key of the ids
// measureDashboard fills (dashboardSetup and what it creates).
var dashboardPages = []dashboardPage{
	// The session is opened in memory (its client re-read every 30 min).
	{"home", "/dashboard", 0},
	// One Query of the partner's organisations (no COUNT: the page shows no
	// total).
	{"organisations", "/dashboard/organizations", 1},
	// The organisation (GetItem) and its departments (one Query; the bench's
	// organisation has departments).
	{"an organisation", "/dashboard/organizations/{org_id}", 2},
	// The department, its bank accounts (Query) and its KYC (BatchGetItem).
	{"its department", "/dashboard/organizations/{org_id}/departments/{dept_id}", 3},
	// One Query: the first page is not empty.
	{"invoices", "/dashboard/organizations/{org_id}/invoices", 1},
	// The invoice, its payment intents (the invoice again, a Query) and its
	// payment links (a Query; the invoice has one).
	{"an invoice", "/dashboard/organizations/{org_id}/invoices/{invoice_id}", 4},
	// One Query of the organisation's links (it has one).
	{"payment links", "/dashboard/organizations/{org_id}/payment_links", 1},
	// The link (GetItem).
	{"a payment link", "/dashboard/organizations/{org_id}/payment_links/{link_id}", 1},
	// The intent (GetItem) and its refunds (a BatchGetItem; none here).
	{"a payment", "/dashboard/organizations/{org_id}/payment_intents/{intent_id}", 1},
	// One Query of the organisation's refunds; empty here, so the
	// organisation is read too (its 404 for another tenant's).
	{"refunds", "/dashboard/organizations/{org_id}/refunds", 2},
	// One Query of the organisation's clients (it has one at least).
	{"API clients", "/dashboard/organizations/{org_id}/api_clients", 1},
	// One Query (no COUNT: the page shows no total).
	{"audit trail", "/dashboard/organizations/{org_id}/audit_logs", 1},
	// One Query of the partner's subscriptions.
	{"webhook subscriptions", "/dashboard/webhook_subscriptions", 1},
	// The subscription, its failed deliveries (the subscription, a Query) and
	// its log (the same two): a short log, so one Query each.
	{"a subscription", "/dashboard/webhook_subscriptions/{subscription_id}", 5},
	// The delivery with its attempts (GetItem).
	{"a delivery", "/dashboard/webhook_deliveries/{delivery_id}", 1},
}

// dashboardWarmup is the untimed rounds over the pages before they are
// measured.
const dashboardWarmup = 5

// dashboardSetup is what run() has already created for the partner.
type dashboardSetup struct {
	clientID, secret string // the partner's credentials, signed in with
	token            string // the same partner's API token (setup requests)
	orgID, deptID    string
	invoiceID        string // an issued invoice of orgID
	n                int    // requests per page
	route            string // -route: only the pages whose name or path contains it
}

// dashboardRow is one page's figures.
type dashboardRow struct {
	page                    dashboardPage
	p50, p95                time.Duration
	dynamoMedian, dynamoMax int64
	statusFailure           string
	// calls names the DynamoDB calls of one request that made the median.
	calls string
}

func (r dashboardRow) over() bool { return r.dynamoMedian > r.page.budget }

type dashboardFigures struct {
	n    int
	rows []dashboardRow
}

// measureDashboard signs in as a browser does (the sign-in form's nonce
// cookie and CSRF field, a same-origin POST) and requests each page n times
// in turn with the session cookie, re-sent as each page re-issues it. Each
// request's DynamoDB calls come from the edge's log line, as the routes'.
func measureDashboard(c *client, s dashboardSetup) (dashboardFigures, error) {
	f := dashboardFigures{n: s.n}
	var pages []dashboardPage
	for _, p := range dashboardPages {
		if strings.Contains(p.name, s.route) || strings.Contains(p.path, s.route) {
			pages = append(pages, p)
		}
	}
	if len(pages) == 0 || s.n <= 0 {
		return f, nil
	}
	// Pages are read with redirects left to the bench: a 303 is an answer
	// (the sign-in's, or a dead session's), not a page to follow.
	d := dashClient{c: c, http: &http.Client{Transport: c.http.Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	ids := map[string]string{"org_id": s.orgID, "dept_id": s.deptID, "invoice_id": s.invoiceID}
	// The invoice's payment history: one link, so one intent; the
	// organisation's API clients: one at least.
	for _, r := range []request{
		{method: "POST", path: "/v1/payment_links", token: s.token, entity: s.orgID,
			body: `{"invoice_id":"` + s.invoiceID + `","payment_methods":["sepa_credit"],"amount":200,"return_url":"https://votreapp.fr/ok"}`},
		{method: "POST", path: "/v1/organizations/" + s.orgID + "/api_clients", token: s.token, body: `{"role":"analyst","name":"Bench dashboard"}`},
	} {
		a, err := c.do(r)
		if err != nil || a.status != 201 {
			return f, fmt.Errorf("dashboard: %s %s: %d %s %v", r.method, r.path, a.status, a.body, err)
		}
		c.rec.take(a.id)
		if r.path == "/v1/payment_links" {
			var l struct {
				ID       string `json:"id"`
				IntentID string `json:"payment_intent_id"`
			}
			if err := json.Unmarshal(a.body, &l); err != nil {
				return f, fmt.Errorf("dashboard: the payment link: %w", err)
			}
			ids["link_id"], ids["intent_id"] = l.ID, l.IntentID
		}
	}
	subID, deliveryID, cleanup, err := dashboardSubscription(c, s.token)
	if err != nil {
		return f, err
	}
	defer cleanup()
	ids["subscription_id"], ids["delivery_id"] = subID, deliveryID
	cookie, err := d.signIn(s.clientID, s.secret)
	if err != nil {
		return f, err
	}
	paths := make([]string, len(pages))
	for i, p := range pages {
		if paths[i], err = expandPath(p.path, ids); err != nil {
			return f, err
		}
	}
	// Untimed rounds first: with -only dashboard the engines' JVM has served
	// little before, where the route table warms it in a full run.
	for w := 0; w < dashboardWarmup; w++ {
		for _, path := range paths {
			a, err := d.get(path, cookie)
			if err != nil {
				return f, fmt.Errorf("dashboard %s: %w", path, err)
			}
			if a.session != "" {
				cookie = a.session
			}
			c.rec.take(a.id)
			if c.trace != nil {
				c.trace.take(a.id)
			}
		}
	}
	for pi, p := range pages {
		path := paths[pi]
		row := dashboardRow{page: p}
		var lat []time.Duration
		var dyn []int64
		var calls []string
		for i := 0; i < s.n; i++ {
			time.Sleep(c.settle) // as the route table: the previous request's leftover work first
			a, err := d.get(path, cookie)
			if err != nil {
				return f, fmt.Errorf("dashboard %s: %w", path, err)
			}
			if a.status != http.StatusOK {
				row.statusFailure = fmt.Sprintf("status %d (Location %q)", a.status, a.location)
				break
			}
			if a.session != "" {
				cookie = a.session
			}
			cc, ok := c.rec.take(a.id)
			if !ok {
				return f, fmt.Errorf("dashboard %s: no log line for request %s", path, a.id)
			}
			var traced []any
			if c.trace != nil {
				traced, _ = c.trace.take(a.id)
			}
			lat, dyn, calls = append(lat, a.took), append(dyn, cc.dynamo), append(calls, callNames(traced))
			row.dynamoMax = max(row.dynamoMax, cc.dynamo)
		}
		if len(lat) > 0 {
			row.dynamoMedian = medianInt(append([]int64(nil), dyn...)) // dyn stays in request order
			for i, d := range dyn {
				if d == row.dynamoMedian {
					row.calls = calls[i]
					break
				}
			}
			row.p50, row.p95 = percentile(lat, 50), percentile(lat, 95)
		}
		f.rows = append(f.rows, row)
	}
	return f, nil
}

// callNames names a request's DynamoDB calls as the tracer recorded them:
// the operation, and the index and COUNT of a Query.
func callNames(calls []any) string {
	var names []string
	for _, call := range calls {
		n := strings.TrimSuffix(strings.TrimPrefix(fmt.Sprintf("%T", call), "*dynamodb."), "Input")
		if q, ok := call.(*dynamodb.QueryInput); ok {
			if q.IndexName != nil {
				n += " " + *q.IndexName
			}
			if q.Select == types.SelectCount {
				n += " COUNT"
			}
		}
		names = append(names, n)
	}
	return strings.Join(names, ", ")
}

// expandPath fills a page's {id}s; an id the bench did not create is an
// error rather than a 404 measured.
func expandPath(path string, ids map[string]string) (string, error) {
	var missing string
	out := pathParam.ReplaceAllStringFunc(path, func(m string) string {
		v, ok := ids[m[1:len(m)-1]]
		if !ok || v == "" {
			missing = m
		}
		return url.PathEscape(v)
	})
	if missing != "" {
		return "", fmt.Errorf("dashboard page %s: the bench has no %s", path, missing)
	}
	return out, nil
}

var pathParam = regexp.MustCompile(`\{[a-z_]+\}`)

// dashboardSubscription creates a partner-level subscription with a short
// delivery log — three test pings, received by a local endpoint — and
// returns it, one of its deliveries, and what deletes it afterwards. It asks
// for an event type the bench never emits, so no other section's events
// reach it while it exists.
func dashboardSubscription(c *client, token string) (subID, deliveryID string, cleanup func(), err error) {
	const pings = 3
	var received atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		received.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	r, err := c.do(request{method: "POST", path: "/v1/webhook_subscriptions", token: token,
		body: `{"url":"` + recv.URL + `/dashboard","events":["kyc.status_changed"],"description":"bench dashboard"}`})
	if err != nil || r.status != 201 {
		recv.Close()
		return "", "", nil, fmt.Errorf("dashboard: webhook subscription: %d %s %v", r.status, r.body, err)
	}
	c.rec.take(r.id)
	var v struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(r.body, &v); err != nil {
		recv.Close()
		return "", "", nil, err
	}
	subID = v.ID
	cleanup = func() {
		if r, err := c.do(request{method: "DELETE", path: "/v1/webhook_subscriptions/" + subID, token: token}); err == nil {
			c.rec.take(r.id)
		}
		recv.Close()
	}
	for i := 0; i < pings; i++ {
		r, err := c.do(request{method: "POST", path: "/v1/webhook_subscriptions/" + subID + "/test", token: token})
		if err != nil || r.status != http.StatusAccepted {
			cleanup()
			return "", "", nil, fmt.Errorf("dashboard: test ping: %d %s %v", r.status, r.body, err)
		}
		c.rec.take(r.id)
		if err := json.Unmarshal(r.body, &v); err != nil {
			cleanup()
			return "", "", nil, err
		}
		deliveryID = v.ID
	}
	// Measured once delivered: the delivery's page then shows its attempt,
	// and no dispatch writes beside the measurements.
	for deadline := time.Now().Add(30 * time.Second); ; {
		r, err := c.do(request{method: "GET", path: "/v1/webhook_deliveries/" + deliveryID, token: token})
		if err != nil {
			cleanup()
			return "", "", nil, err
		}
		c.rec.take(r.id)
		var d struct {
			Status string `json:"status"`
		}
		_ = json.Unmarshal(r.body, &d)
		if received.Load() >= pings && d.Status == "succeeded" {
			break
		}
		if time.Now().After(deadline) {
			cleanup()
			return "", "", nil, fmt.Errorf("dashboard: test pings not delivered after 30 s (%d received, last %q)", received.Load(), d.Status)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return subID, deliveryID, cleanup, nil
}

// dashClient sends the dashboard's requests as a browser would, the
// session cookie set by hand: it is Secure, and the bench's server is
// plain http, where a cookie jar would not send it.
type dashClient struct {
	c    *client
	http *http.Client
}

type dashAnswer struct {
	status   int
	body     []byte
	id       string
	took     time.Duration
	location string
	// The cookies the answer sets ("" when it sets none).
	session, login string
}

func (d dashClient) send(method, path string, header map[string]string, body string) (dashAnswer, error) {
	req, err := http.NewRequest(method, d.c.base+path, strings.NewReader(body))
	if err != nil {
		return dashAnswer{}, err
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := d.http.Do(req)
	if err != nil {
		return dashAnswer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	a := dashAnswer{status: resp.StatusCode, body: b, id: resp.Header.Get("X-Request-Id"), took: time.Since(start), location: resp.Header.Get("Location")}
	d.c.count(resp.StatusCode)
	for _, ck := range resp.Cookies() {
		switch ck.Name {
		case dashboard.CookieName:
			a.session = ck.Value
		case dashboard.LoginCookieName:
			a.login = ck.Value
		}
	}
	return a, err
}

func (d dashClient) get(path, session string) (dashAnswer, error) {
	return d.send(http.MethodGet, path, map[string]string{"Cookie": dashboard.CookieName + "=" + session}, "")
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// signIn fills and posts the sign-in form, and returns the session cookie.
func (d dashClient) signIn(clientID, secret string) (string, error) {
	form, err := d.send(http.MethodGet, "/dashboard/login", nil, "")
	if err != nil {
		return "", err
	}
	d.c.rec.take(form.id)
	m := csrfField.FindSubmatch(form.body)
	if form.status != http.StatusOK || m == nil || form.login == "" {
		return "", fmt.Errorf("dashboard sign-in form: status %d, csrf field %t, nonce cookie %t", form.status, m != nil, form.login != "")
	}
	body := url.Values{"csrf": {string(m[1])}, "client_id": {clientID}, "client_secret": {secret}}.Encode()
	a, err := d.send(http.MethodPost, "/dashboard/login", map[string]string{"Content-Type": "application/x-www-form-urlencoded",
		"Cookie": dashboard.LoginCookieName + "=" + form.login, "Origin": d.c.base}, body)
	if err != nil {
		return "", err
	}
	d.c.rec.take(a.id)
	if a.status != http.StatusSeeOther || a.session == "" {
		return "", fmt.Errorf("dashboard sign-in: status %d (Location %q), session cookie %t: %s", a.status, a.location, a.session != "", a.body)
	}
	return a.session, nil
}

// report prints the pages' table and tells whether one is over its budget
// (or did not answer its page).
func (f dashboardFigures) report(w io.Writer) (failed bool) {
	if len(f.rows) == 0 {
		return false
	}
	fmt.Fprintf(w, "\nDashboard — %d requests per page through the local gateway, signed in as the partner (session cookie), %s/%s, %d CPU;\n"+
		"budgets: the DynamoDB calls of docs/dashboard.md (\"Pages\")\n\n", f.n, runtime.GOOS, runtime.GOARCH, runtime.NumCPU())
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "page\tpath\tDynamoDB calls (median/max)\tbudget\tp50\tp95\t")
	for _, r := range f.rows {
		verdict := ""
		if r.over() {
			verdict, failed = "  OVER BUDGET", true
		}
		if r.statusFailure != "" {
			verdict, failed = "  "+r.statusFailure, true
		}
		fmt.Fprintf(tw, "%s\t%s\t%d / %d\t%d\t%s\t%s\t%s\n", r.page.name, r.page.path, r.dynamoMedian, r.dynamoMax, r.page.budget,
			r.p50.Round(10*time.Microsecond), r.p95.Round(10*time.Microsecond), verdict)
	}
	tw.Flush()
	for _, r := range f.rows {
		if r.over() {
			fmt.Fprintf(w, "%s over its budget of %d: %s\n", r.page.path, r.page.budget, r.calls)
		}
	}
	return failed
}
