package browser

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestDashboardInBrowser signs in to the dashboard as the partner and as an
// organisation's API client, and audits every view reachable from its
// navigation (axe-core, weight, origins, screenshots at 360 and 1280 px),
// then signs out.
func TestDashboardInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the browser test needs chromium, DynamoDB Local and the SQS engine; make test runs it")
	}
	requireChromium(t)
	base, app := startStack(t)
	if err := app.EnsurePartner(context.Background(), "ptn-1", "ptn-1", "ptn-1-client", partnerSecret); err != nil {
		t.Fatal(err)
	}
	c := &api{t: t, base: base}
	c.token, _ = c.call("POST", "/v1/auth/token",
		`{"grant_type":"client_credentials","client_id":"ptn-1-client","client_secret":"`+partnerSecret+`","scope":""}`, http.StatusOK)["access_token"].(string)
	c.org = c.id("POST", "/v1/organizations", seedOrganization)
	dept := c.id("POST", "/v1/organizations/"+c.org+"/departments", seedDepartment)
	c.id("POST", "/v1/departments/"+dept+"/bank_accounts", seedBankAccount)
	inv := c.id("POST", "/v1/invoices", seedInvoice(dept, time.Now().AddDate(0, 0, 30).Format(time.DateOnly)))
	c.call("POST", "/v1/invoices/"+inv+"/issue", "", http.StatusOK)
	c.call("POST", "/v1/payment_links", `{"invoice_id":"`+inv+`","payment_methods":["sepa_credit"]}`, http.StatusCreated)
	// A webhook subscription whose receiver fails, and a test ping to it: the
	// delivery log has something to show.
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) }))
	t.Cleanup(failing.Close)
	sub := c.id("POST", "/v1/webhook_subscriptions", `{"url":"`+failing.URL+`/hooks","events":["*"],"description":"Comptabilité <b>test</b>"}`)
	c.call("POST", "/v1/webhook_subscriptions/"+sub+"/test", "", http.StatusAccepted)
	orgClient := c.call("POST", "/v1/organizations/"+c.org+"/api_clients", `{"name":"Comptabilité","role":"admin"}`, http.StatusCreated)
	orgClientID, _ := orgClient["client_id"].(string)
	orgClientSecret, _ := orgClient["client_secret"].(string)
	if orgClientID == "" || orgClientSecret == "" {
		t.Fatalf("no organisation client: %v", orgClient)
	}

	b := newBrowser(t, base)
	for _, who := range []struct{ name, id, secret string }{
		{"partner", "ptn-1-client", partnerSecret},
		{"org", orgClientID, orgClientSecret},
	} {
		b.netlog.reset()
		if err := chromedp.Do(b.ctx, chromedp.Navigate(base+"/dashboard")); err != nil {
			b.fail("open the dashboard: %v", err)
		}
		b.waitField("client_id")
		b.au.check("dashboard-login", true)
		if err := chromedp.Do(b.ctx, chromedp.SetValue(chromedp.CSS(`input[name=client_id]`), who.id)); err != nil {
			b.fail("type the client id: %v", err)
		}
		if err := chromedp.Do(b.ctx, chromedp.SetValue(chromedp.CSS(`input[name=client_secret]`), who.secret)); err != nil {
			b.fail("type the secret: %v", err)
		}
		if err := chromedp.Do(b.ctx, chromedp.Submit(chromedp.CSS(`input[name=client_secret]`))); err != nil {
			b.fail("sign in: %v", err)
		}
		b.waitGone("client_secret")
		// Every view the navigation reaches, four links deep.
		seen := map[string]bool{}
		queue := []string{b.location()}
		for depth := 0; depth < 4 && len(queue) > 0 && len(seen) < 30; depth++ {
			var next []string
			for _, u := range queue {
				path := pathOf(u)
				if seen[path] || len(seen) >= 30 {
					continue
				}
				seen[path] = true
				b.netlog.reset()
				if err := chromedp.Do(b.ctx, chromedp.Navigate(u)); err != nil {
					b.fail("open %s: %v", u, err)
				}
				time.Sleep(200 * time.Millisecond)
				if strings.Contains(b.text(), "client_secret") || strings.HasSuffix(pathOf(b.location()), "/login") {
					b.fail("%s sent the signed-in %s back to sign in", u, who.name)
				}
				b.au.check("dashboard-"+who.name+"-"+shotName(path), true)
				next = append(next, b.dashboardLinks(base)...)
			}
			queue = next
		}
		if len(seen) < 3 {
			b.fail("the %s's dashboard reaches only %d view(s): %v", who.name, len(seen), keys(seen))
		}
		t.Logf("%s: %d views audited: %v", who.name, len(seen), keys(seen))
		// Sign out: the session is gone.
		if err := chromedp.Do(b.ctx, chromedp.Navigate(base+"/dashboard")); err != nil {
			b.fail("open the dashboard: %v", err)
		}
		if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(`form[action$="/logout"] button`))); err != nil {
			b.fail("sign out: %v", err)
		}
		b.waitField("client_id")
		if err := chromedp.Do(b.ctx, chromedp.Navigate(base+"/dashboard")); err != nil {
			b.fail("open the dashboard after signing out: %v", err)
		}
		b.waitField("client_id")
	}
}

func pathOf(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	if p.RawQuery != "" {
		return p.Path + "?" + p.RawQuery
	}
	return p.Path
}

var unsafeName = regexp.MustCompile(`[^a-z0-9]+`)

// shotName makes a screenshot's name of a view's path: ids become "id".
func shotName(path string) string {
	var parts []string
	for _, seg := range strings.Split(strings.TrimPrefix(path, "/dashboard"), "/") {
		if seg == "" {
			continue
		}
		if strings.ContainsAny(seg, "0123456789") && len(seg) > 12 {
			seg = "id"
		}
		parts = append(parts, unsafeName.ReplaceAllString(strings.ToLower(seg), "-"))
	}
	if len(parts) == 0 {
		return "home"
	}
	return strings.Trim(strings.Join(parts, "-"), "-")
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
