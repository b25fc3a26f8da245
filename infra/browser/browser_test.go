// Package browser drives the hosted payment page in a real browser (headless
// Chromium through chromedp): a payer opens a payment link, pays by SEPA at
// the local sandbox bank with the keyboard alone, comes back and reads the
// receipt, on the whole local stack (gateway, DynamoDB Local, SQS endpoint,
// stream and queue pollers). Every page is audited on the way (axe-core,
// weight, origins, 360 and 1280 px; audit_test.go).
//
// It needs Debian's chromium at /usr/bin/chromium (`make test` and .ci/run
// install it through infra/ci/need-chromium.sh). When it is missing the test
// fails, unless MODUPAY_SKIP_BROWSER=1 says to skip it; -short skips it too.
package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/modupay/modupay/infra/engines/enginetest"
	"github.com/modupay/modupay/infra/gateway"
	"github.com/modupay/modupay/infra/stacktest"
	"github.com/modupay/modupay/shared/aiiasandbox"
	"github.com/modupay/modupay/shared/wiring"
)

func TestMain(m *testing.M) { enginetest.Main(m) }

const (
	chromiumPath  = "/usr/bin/chromium"
	partnerSecret = "partner-secret-0123456789"
	payerIBAN     = "FR7612345678901234567890123" // the sandbox's "success" account
)

// requireChromium fails the test when the browser is missing, or skips it
// when MODUPAY_SKIP_BROWSER=1 asks to.
func requireChromium(t *testing.T) {
	t.Helper()
	fi, err := os.Stat(chromiumPath)
	if err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
		return
	}
	if os.Getenv("MODUPAY_SKIP_BROWSER") == "1" {
		t.Skipf("%s is missing and MODUPAY_SKIP_BROWSER=1: browser test skipped", chromiumPath)
	}
	t.Fatalf("%s is missing: install Debian's chromium (sudo apt-get install chromium; "+
		"make test does it when run as root), or set MODUPAY_SKIP_BROWSER=1 to skip this test", chromiumPath)
}

// api is a partner calling the JSON API over HTTP.
type api struct {
	t          *testing.T
	base       string
	token, org string
}

func (a *api) call(method, path, body string, want int) map[string]any {
	a.t.Helper()
	req, err := http.NewRequest(method, a.base+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	if a.org != "" && (strings.HasPrefix(path, "/v1/invoices") || strings.HasPrefix(path, "/v1/payment_")) {
		req.Header.Set("X-Entity-Id", a.org)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		a.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, resp.StatusCode, want, b)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		a.t.Fatalf("%s %s: body %q: %v", method, path, b, err)
	}
	return m
}

func (a *api) id(method, path, body string) string {
	a.t.Helper()
	id, _ := a.call(method, path, body, http.StatusCreated)["id"].(string)
	if id == "" {
		a.t.Fatalf("%s %s: no id", method, path)
	}
	return id
}

// The integration guide's seed bodies (as in infra/e2e).
const (
	seedOrganization = `{"type":"public_entity","name":"Mairie de Lyon","siret":"21690123400019","vat_number":"FR21216901234",
    "address":{"line1":"1 Place de la Comédie","postal_code":"69001","city":"Lyon","country":"FR"}}`
	seedDepartment  = `{"name":"Régie de l'Eau","code":"REG-EAU-001","description":"Gestion des factures d'eau potable"}`
	seedBankAccount = `{"iban":"FR7612345678901234567890123","bic":"BNPAFRPPXXX","account_name":"Compte Régie Eau","bank_name":"BNP Paribas","is_default":true}`
)

func seedInvoice(deptID, due string) string {
	return `{"department_id":"` + deptID + `",
    "payer":{"name":"Jean Dupont","email":"jean.dupont@example.com","address":{"line1":"15 rue de la Paix","postal_code":"69002","city":"Lyon","country":"FR"}},
    "line_items":[{"description":"Consommation eau T1 2024","quantity":125,"unit_price":320,"vat_rate":5.5}],
    "due_date":"` + due + `","payment_terms":"Paiement sous 30 jours"}`
}

// startStack runs the local stack as infra/e2e does (sandbox bank, gateway
// with its pollers) and returns the gateway's URL, which is also the base of
// payment page URLs.
func startStack(t *testing.T) (base string, app *wiring.App) {
	t.Helper()
	st := stacktest.New(t)
	sandbox := aiiasandbox.New(aiiasandbox.Options{})
	bank := httptest.NewServer(sandbox)
	t.Cleanup(bank.Close)
	st.Config.Aiia = sandbox.ClientConfig(bank.URL)
	// The gateway's address is known before it starts, so that the app
	// builds payment page URLs on it.
	srv := httptest.NewUnstartedServer(nil)
	st.Config.PublicBaseURL = "http://" + srv.Listener.Addr().String()
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	app, err := wiring.Build(context.Background(), st.Config, wiring.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	gw, err := gateway.New(st.Template, st.Resources, app, gateway.Options{
		DynamoDBEndpoint: st.Config.DynamoDBEndpoint, SQSEndpoint: st.Config.SQSEndpoint, Log: log,
		SQSWaitTimeSeconds: 1, StreamPollInterval: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	gw.Start(ctx)
	srv.Config.Handler = gw
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		cancel()
		gw.Wait()
	})
	if srv.URL != st.Config.PublicBaseURL {
		t.Fatalf("gateway at %s, payment pages at %s", srv.URL, st.Config.PublicBaseURL)
	}
	return srv.URL, app
}

// syncBuffer collects the browser's output and console (written by other
// goroutines).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestPayerPaysInvoiceInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the browser test needs chromium, DynamoDB Local and the SQS engine; make test runs it")
	}
	requireChromium(t)
	started := time.Now()

	// The merchant's site, where the payer goes back at the end.
	var merchantHits sync.Map
	merchant := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		merchantHits.Store(r.URL.Path, true)
		if r.URL.Path != "/payment/success" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Marchand</title></head><body><h1>Merci</h1><p>Votre paiement est enregistré.</p></body></html>`)
	}))
	t.Cleanup(merchant.Close)

	// The stack, a partner, an organisation with a department and its bank
	// account, an issued invoice and its payment link.
	base, app := startStack(t)
	if err := app.EnsurePartner(context.Background(), "ptn-1", "ptn-1", "ptn-1-client", partnerSecret); err != nil {
		t.Fatal(err)
	}
	c := &api{t: t, base: base}
	tok, _ := c.call("POST", "/v1/auth/token",
		`{"grant_type":"client_credentials","client_id":"ptn-1-client","client_secret":"`+partnerSecret+`","scope":""}`, http.StatusOK)["access_token"].(string)
	if tok == "" {
		t.Fatal("no access token")
	}
	c.token = tok
	c.org = c.id("POST", "/v1/organizations", seedOrganization)
	dept := c.id("POST", "/v1/organizations/"+c.org+"/departments", seedDepartment)
	c.id("POST", "/v1/departments/"+dept+"/bank_accounts", seedBankAccount)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	inv := c.id("POST", "/v1/invoices", seedInvoice(dept, time.Now().In(paris).AddDate(0, 0, 30).Format(time.DateOnly)))
	c.call("POST", "/v1/invoices/"+inv+"/issue", "", http.StatusOK)
	returnURL := merchant.URL + "/payment/success" // http://127.0.0.1:port: allowed in the sandbox
	link := c.call("POST", "/v1/payment_links",
		`{"invoice_id":"`+inv+`","payment_methods":["sepa_credit","card"],"return_url":"`+returnURL+`"}`, http.StatusCreated)
	pageURL, _ := link["payment_page_url"].(string)
	if !strings.HasPrefix(pageURL, base+"/p/") {
		t.Fatalf("payment_page_url %q is not on the gateway %s", pageURL, base)
	}
	intentID, _ := link["payment_intent_id"].(string)
	if intentID == "" {
		t.Fatalf("the link has no payment_intent_id: %v", link)
	}
	t.Logf("stack ready in %s; payment page %s", time.Since(started).Round(time.Millisecond), pageURL)

	b := newBrowser(t, base)
	ctx, text, location, fail, waitText, netlog, au := b.ctx, b.text, b.location, b.fail, b.waitText, b.netlog, b.au
	visible := func(sel string) bool {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const e = document.querySelector(`+"`"+sel+"`"+`); return !!e && e.offsetParent !== null; })()`))
		if err != nil {
			fail("read %s: %v", sel, err)
		}
		return v
	}

	// 1. The payment page: what a French invoice states, one choice per
	// method, and the audits (axe-core, weight, origins, both widths).
	netlog.reset()
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL)); err != nil {
		fail("open the payment page: %v", err)
	}
	waitText("Payer par virement", 10*time.Second)
	page := text()
	for _, want := range []string{"422,00", "Payer par virement", "Mairie de Lyon", "FAC-", "SIRET", "21690123400019", "1 Place de la Comédie",
		"Total HT", "400,00", "TVA 5,5", "22,00", "Total TTC", "Compte Régie Eau", "FR76 •••• 0123", "Échéance"} {
		if !strings.Contains(page, want) {
			fail("the payment page does not show %q", want)
		}
	}
	au.check("payment-page", true)
	// The SEPA transfer is the chosen method, and its radio button has a
	// label (for= its id): screen readers and keyboard users reach it.
	type radio struct {
		Found    bool   `json:"found"`
		Checked  bool   `json:"checked"`
		Disabled bool   `json:"disabled"`
		Label    string `json:"label"`
		LabelFor string `json:"labelFor"`
		ID       string `json:"id"`
		Focused  bool   `json:"focused"`
	}
	sepa, err := chromedp.Run(ctx, chromedp.Evaluate[radio](`(() => {
		const r = document.querySelector('input[type=radio][name=choice][value=sepa_credit]');
		if (!r) return {found: false};
		r.focus();
		const l = r.labels && r.labels[0];
		return {found: true, checked: r.checked, disabled: r.disabled, id: r.id,
			label: l ? l.textContent.trim() : "", labelFor: l ? l.htmlFor : "",
			focused: document.activeElement === r};
	})()`))
	switch {
	case err != nil:
		fail("read the SEPA radio: %v", err)
	case !sepa.Found:
		fail("no SEPA radio button on the payment page")
	case !sepa.Checked || sepa.Disabled:
		fail("the SEPA radio is not selected and enabled: %+v", sepa)
	case sepa.Label == "" || sepa.ID == "" || sepa.LabelFor != sepa.ID:
		fail("the SEPA radio has no <label for=%q>: %+v", sepa.ID, sepa)
	case !sepa.Focused:
		fail("the SEPA radio cannot take the keyboard focus: %+v", sepa)
	}
	t.Logf("SEPA radio: checked, labelled %q", sepa.Label)
	// With SEPA chosen, no card field shows; the arrow key chooses the card,
	// whose panel has its fields and its own button, and the SEPA button goes.
	if visible("#card-number") || !visible(".p-sepa button") {
		fail("with SEPA chosen the page shows card fields, or no SEPA button")
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.ArrowDown)); err != nil {
		fail("arrow down: %v", err)
	}
	if !visible("#card-number") || !visible(".p-card button") || visible(".p-sepa button") {
		fail("with the card chosen the page does not show the card's fields and button alone")
	}
	if !strings.Contains(text(), "Payer par carte") {
		fail("the card's button does not say Payer par carte")
	}
	au.check("payment-page-card", false)
	// English: the same page, the same audits.
	netlog.reset()
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL+"?lang=en")); err != nil {
		fail("open the English page: %v", err)
	}
	waitText("Pay by bank transfer", 10*time.Second)
	for _, want := range []string{"Pay your invoice", "Total excl. VAT", "Total incl. VAT", "422,00"} {
		if !strings.Contains(text(), want) {
			fail("the English page does not show %q", want)
		}
	}
	au.check("payment-page-en", true)
	// A link that does not exist: the same look, the same audits.
	netlog.reset()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/p/no-such-link")); err != nil {
		fail("open a missing page: %v", err)
	}
	waitText("Page introuvable", 10*time.Second)
	au.check("not-found", true)

	// 2. Pay with the keyboard alone: Tab to "Payer par virement", Enter;
	// at the bank, Tab to "Autoriser le virement", Enter.
	if err := chromedp.Do(ctx, chromedp.Navigate(pageURL)); err != nil {
		fail("open the payment page again: %v", err)
	}
	waitText("Payer par virement", 10*time.Second)
	if err := focusByTab(ctx, "Payer par virement", 30); err != nil {
		fail("keyboard: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
		fail("press Enter on Payer par virement: %v", err)
	}
	authorize := `//button[normalize-space()="Autoriser le virement"]`
	wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
	err = chromedp.Do(wctx, chromedp.WaitVisible(authorize))
	wcancel()
	if err != nil {
		fail("the bank's authorisation page did not come: %v", err)
	}
	if iban, err := chromedp.Run(ctx, chromedp.Value(chromedp.ID("iban"))); err != nil || iban != payerIBAN {
		fail("the bank's IBAN field holds %q (%v), want %s prefilled", iban, err, payerIBAN)
	}
	if !strings.Contains(text(), "422,00") {
		fail("the bank page does not show the amount 422,00")
	}
	if err := focusByTab(ctx, "Autoriser le virement", 30); err != nil {
		fail("keyboard at the bank: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
		fail("press Enter on Autoriser le virement: %v", err)
	}

	// 3. Back on ModuPay's return page, which refreshes itself until the
	// poller has seen the transfer settle.
	deadline := time.Now().Add(30 * time.Second)
	var seen []string
	for {
		loc, page := location(), text()
		if strings.HasPrefix(loc, base+"/p/") {
			if title, _ := chromedp.Run(ctx, chromedp.Title()); title != "" && (len(seen) == 0 || seen[len(seen)-1] != title) {
				seen = append(seen, title)
			}
		}
		if strings.Contains(page, "Paiement reçu") {
			if !strings.Contains(loc, "/return") {
				fail("Paiement reçu shown at %s, not on the return page", loc)
			}
			break
		}
		if time.Now().After(deadline) {
			fail("after 30 s the return page does not show Paiement reçu (titles seen: %q)", seen)
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("return page titles: %q (after %s)", seen, time.Since(started).Round(time.Millisecond))
	// The receipt: amount, date, references, seller; printable (the print
	// button is the script's, so it shows only with JavaScript).
	receiptURL := location()
	netlog.reset()
	if err := chromedp.Do(ctx, chromedp.Navigate(receiptURL)); err != nil {
		fail("reload the receipt: %v", err)
	}
	waitText("Reçu de paiement", 10*time.Second)
	for _, want := range []string{"Montant payé", "422,00", "Payé le", "heure de Paris", "Référence du paiement", intentID, "Virement SEPA", "Jean Dupont", "SIRET 21690123400019"} {
		if !strings.Contains(text(), want) {
			fail("the receipt does not show %q", want)
		}
	}
	if !visible("#print") {
		fail("the receipt's print button does not show with JavaScript on")
	}
	au.check("receipt", true)

	// 4. Back to the merchant.
	if err := chromedp.Do(ctx, chromedp.Click(`//a[normalize-space()="Revenir au site du marchand"]`)); err != nil {
		fail("click the link back to the merchant: %v", err)
	}
	waitText("Merci", 10*time.Second)
	if loc := location(); !strings.HasPrefix(loc, returnURL) {
		fail("the merchant page is at %s, want %s", loc, returnURL)
	}
	if _, ok := merchantHits.Load("/payment/success"); !ok {
		fail("the merchant never saw /payment/success")
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		fail("screenshot: %v", err)
	}
	file := filepath.Join(au.shots, "merchant-thanks.png")
	if err := os.WriteFile(file, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s (%d bytes)", file, len(shot))

	// 5. The API agrees: the invoice is paid.
	got := c.call("GET", "/v1/invoices/"+inv, "", http.StatusOK)
	if got["status"] != "paid" || got["amount_paid"] != 42200.0 || got["amount_due"] != 0.0 {
		t.Errorf("invoice after the payment: status %v, amount_paid %v, amount_due %v; want paid, 42200, 0", got["status"], got["amount_paid"], got["amount_due"])
	}

	// 6. The other states a payer can meet, audited like the rest: a
	// refused transfer, and a link the organisation deactivated.
	newLink := func() (id, page string) {
		t.Helper()
		inv := c.id("POST", "/v1/invoices", seedInvoice(dept, time.Now().In(paris).AddDate(0, 0, 30).Format(time.DateOnly)))
		c.call("POST", "/v1/invoices/"+inv+"/issue", "", http.StatusOK)
		l := c.call("POST", "/v1/payment_links", `{"invoice_id":"`+inv+`","payment_methods":["sepa_credit"]}`, http.StatusCreated)
		id, _ = l["id"].(string)
		page, _ = l["payment_page_url"].(string)
		return id, page
	}
	_, refusedPage := newLink()
	if err := chromedp.Do(ctx, chromedp.Navigate(refusedPage)); err != nil {
		fail("open the third page: %v", err)
	}
	waitText("Payer par virement", 10*time.Second)
	if err := focusByTab(ctx, "Payer par virement", 30); err != nil {
		fail("keyboard: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.KeyEvent(kb.Enter)); err != nil {
		fail("press Enter: %v", err)
	}
	wctx, wcancel = context.WithTimeout(ctx, 10*time.Second)
	err = chromedp.Do(wctx, chromedp.WaitVisible(authorize))
	wcancel()
	if err != nil {
		fail("the bank's authorisation page did not come: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.ID("iban"), "FR7612345678901234567890124")); err != nil { // fonds insuffisants
		fail("type the refusing IBAN: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(authorize)); err != nil {
		fail("authorise: %v", err)
	}
	waitText("Paiement refusé", 30*time.Second)
	netlog.reset()
	if err := chromedp.Do(ctx, chromedp.Navigate(location())); err != nil {
		fail("reload the refused page: %v", err)
	}
	waitText("Paiement refusé", 10*time.Second)
	au.check("refused", true)
	closedID, closedPage := newLink()
	c.call("POST", "/v1/payment_links/"+closedID+"/deactivate", "", http.StatusOK)
	netlog.reset()
	if err := chromedp.Do(ctx, chromedp.Navigate(closedPage)); err != nil {
		fail("open the deactivated link: %v", err)
	}
	waitText("Lien de paiement inactif", 10*time.Second)
	if strings.Contains(text(), "Payer par virement") {
		fail("a deactivated link still offers to pay")
	}
	au.check("link-inactive", true)
	t.Logf("whole flow in %s", time.Since(started).Round(time.Millisecond))
}

// session is a headless Chromium with a fresh profile, quiet on the network
// (the machine's network is closed), its console recorded for failure
// reports, its network watched and an auditor of its pages.
type session struct {
	t          *testing.T
	root, ctx  context.Context // the browser's; the steps' (one deadline)
	consoleLog *syncBuffer
	netlog     *netLog
	au         *auditor
}

func newBrowser(t *testing.T, base string) *session {
	t.Helper()
	profile := t.TempDir()
	output := &syncBuffer{}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1024, 900),
		chromedp.CombinedOutput(output),
	)
	// Cleanups run last-in first-out: the browser exits before its profile
	// directory is removed.
	t.Cleanup(cancelAlloc)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelBrowser)
	// The steps share one deadline; the browser itself lives until the
	// cleanups, so that a failure can still read the page.
	ctx, cancel := context.WithTimeout(browserCtx, 150*time.Second)
	t.Cleanup(cancel)
	b := &session{t: t, root: browserCtx, ctx: ctx, consoleLog: &syncBuffer{}}
	// The browser starts, then its console is recorded (a
	// Content-Security-Policy violation, for instance, shows only there).
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("start %s: %v\n%s", chromiumPath, err, output.String())
	}
	messages := chromedp.Console(browserCtx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			fmt.Fprintf(b.consoleLog, "  %s\n", m)
		}
	}()
	b.netlog = watchNetwork(browserCtx)
	b.au = newAuditor(t, ctx, base, b.netlog, b.fail)
	return b
}

// text is the visible text of the current page ("" while it loads).
func (b *session) text() string {
	tctx, tcancel := context.WithTimeout(b.root, 3*time.Second)
	defer tcancel()
	s, _ := chromedp.Run(tctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	return s
}

func (b *session) location() string {
	tctx, tcancel := context.WithTimeout(b.root, 3*time.Second)
	defer tcancel()
	s, _ := chromedp.Run(tctx, chromedp.Location())
	return s
}

func (b *session) fail(format string, args ...any) {
	b.t.Helper()
	b.t.Fatalf("%s\nbrowser at %s\npage text:\n%s\nconsole:\n%s", fmt.Sprintf(format, args...), b.location(), b.text(), b.consoleLog.String())
}

func (b *session) waitText(want string, limit time.Duration) {
	b.t.Helper()
	b.waitFor(limit, fmt.Sprintf("the page shows %q", want), func() bool { return strings.Contains(b.text(), want) })
}

func (b *session) waitFor(limit time.Duration, what string, ok func() bool) {
	b.t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			b.fail("after %s, still not: %s", limit, what)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// count is the number of elements matching a CSS selector.
func (b *session) count(sel string) int {
	tctx, tcancel := context.WithTimeout(b.root, 3*time.Second)
	defer tcancel()
	n, _ := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll(`+"`"+sel+"`"+`).length`))
	return n
}

// waitField waits for an input named name; waitGone for it to go.
func (b *session) waitField(name string) {
	b.t.Helper()
	b.waitFor(10*time.Second, "a field named "+name, func() bool { return b.count(`input[name=`+name+`]`) > 0 })
}

func (b *session) waitGone(name string) {
	b.t.Helper()
	b.waitFor(10*time.Second, "no field named "+name, func() bool { return b.count(`input[name=`+name+`]`) == 0 })
}

// dashboardLinks are the same-origin /dashboard links of the page (not
// sign-out, which is a form).
func (b *session) dashboardLinks(base string) []string {
	tctx, tcancel := context.WithTimeout(b.root, 3*time.Second)
	defer tcancel()
	links, _ := chromedp.Run(tctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll('a[href]')).map(a => a.href)`))
	var out []string
	for _, l := range links {
		if strings.HasPrefix(l, base+"/dashboard") && !strings.Contains(l, "#") {
			out = append(out, l)
		}
	}
	return out
}
