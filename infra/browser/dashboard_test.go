package browser

import (
	"context"
	"io"
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
	// A second invoice, paid by the sandbox's test card: its payment's page
	// has the refund form.
	paidInv := c.id("POST", "/v1/invoices", seedInvoice(dept, time.Now().AddDate(0, 0, 30).Format(time.DateOnly)))
	c.call("POST", "/v1/invoices/"+paidInv+"/issue", "", http.StatusOK)
	paid := c.call("POST", "/v1/payment_links", `{"invoice_id":"`+paidInv+`","payment_methods":["sepa_credit","card"]}`, http.StatusCreated)
	paidIntent, _ := paid["payment_intent_id"].(string)
	payByCard(t, paid["payment_page_url"].(string))
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
		if who.name == "org" {
			b.refundInBrowser(base, c.org, paidIntent)
		}
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

// payByCard pays a payment page with the sandbox's approved test card, as
// a payer's browser posts the form (the browser test of the page itself is
// TestPayerPaysInvoiceInBrowser).
func payByCard(t *testing.T, pageURL string) {
	t.Helper()
	get, err := http.Get(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(get.Body)
	get.Body.Close()
	m := regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF field on the payment page: %s", body)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(pageURL+"/pay", url.Values{"csrf": {string(m[1])}, "method": {"card"},
		"card_number": {"4242424242424242"}, "card_exp_month": {"12"}, "card_exp_year": {"2099"}, "card_cvc": {"123"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("card payment: status %d", resp.StatusCode)
	}
}

// refundInBrowser opens a paid payment's page, audits it, sends the refund
// form with an amount above what is refundable (the page again, the reason
// announced, audited), then with 1,00 €: the refund is listed on the page
// the form leads to.
func (b *session) refundInBrowser(base, org, intent string) {
	b.t.Helper()
	page := base + "/dashboard/organizations/" + org + "/payment_intents/" + intent
	b.waitFor(30*time.Second, "the card payment succeeded", func() bool {
		if err := chromedp.Do(b.ctx, chromedp.Navigate(page)); err != nil {
			b.fail("open %s: %v", page, err)
		}
		return strings.Contains(b.text(), "Refund this payment")
	})
	b.netlog.reset()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(page)); err != nil {
		b.fail("open %s: %v", page, err)
	}
	b.waitField("amount")
	b.au.check("dashboard-org-payment-intent", true)
	for _, c := range []struct{ amount, want string }{{"9999", "above what is refundable"}, {"1,00", "1,00\u00a0€"}} {
		if err := chromedp.Do(b.ctx, chromedp.SetValue(chromedp.CSS(`input[name=amount]`), c.amount)); err != nil {
			b.fail("type the amount: %v", err)
		}
		b.netlog.reset()
		if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(`form[action$="/refunds"] button`))); err != nil {
			b.fail("send the refund form: %v", err)
		}
		b.waitText(c.want, 10*time.Second)
	}
	b.au.check("dashboard-org-payment-intent-refunded", true)
	if strings.Contains(b.text(), "above what is refundable") || !strings.Contains(b.text(), "pending") && !strings.Contains(b.text(), "succeeded") {
		b.fail("after the refund the page shows no refund: %s", b.text())
	}
}
