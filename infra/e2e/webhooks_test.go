package e2e

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	dynamodbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/modupay/modupay/infra/webhooktest"
	"github.com/modupay/modupay/shared/webhook"
	"github.com/modupay/modupay/shared/webhook/webhookdispatch"
	"github.com/modupay/modupay/shared/wiring"
)

// hookRequest is one POST a receiver got.
type hookRequest struct {
	header http.Header
	body   []byte
}

// receiver is a partner's endpoint on 127.0.0.1: it records every request
// and answers as answer says for the n-th one (1-based).
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []hookRequest
	answer func(n int) (status int, delay time.Duration)
}

func newReceiver(t *testing.T, answer func(n int) (int, time.Duration)) *receiver {
	r := &receiver{answer: answer}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		// Payloads show the guide's forms too (whole seconds, "cancelled").
		if problem := wireFormProblem("", body); problem != "" {
			t.Errorf("webhook payload: %s", problem)
		}
		r.mu.Lock()
		r.got = append(r.got, hookRequest{header: req.Header.Clone(), body: body})
		n := len(r.got)
		r.mu.Unlock()
		status, delay := http.StatusOK, time.Duration(0)
		if r.answer != nil {
			status, delay = r.answer(n)
		}
		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-req.Context().Done():
				return
			}
		}
		w.WriteHeader(status)
		fmt.Fprintf(w, "answer %d to request %d", status, n)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []hookRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hookRequest(nil), r.got...)
}

func (r *receiver) url() string { return r.srv.URL + "/webhooks/payment-api" }

// hookWorld is a world whose dispatcher retries after 1 s and times out
// after 1 s (the production schedule is unit-tested), on a running clock.
func newHookWorld(t *testing.T) (*world, string) {
	w := newWorldWith(t, worldOptions{runningClock: true, webhooks: wiring.WebhookOptions{
		Schedule: []time.Duration{time.Second, time.Second, time.Second, time.Second}, Timeout: time.Second}})
	return w, w.token("ptn-1-client", partnerSecret)
}

func (w *world) subscribe(token, url string, events ...string) map[string]any {
	w.t.Helper()
	b, _ := json.Marshal(map[string]any{"url": url, "events": events})
	return w.do(exchange{method: "POST", route: "/v1/webhook_subscriptions", header: bearer(token), body: string(b), status: 201}).json(w.t)
}

func (w *world) deliveries(token, subID, query string) []map[string]any {
	w.t.Helper()
	a := w.do(exchange{method: "GET", route: "/v1/webhook_subscriptions/{subscription_id}/deliveries",
		path: "/v1/webhook_subscriptions/" + subID + "/deliveries", query: query, header: bearer(token), status: 200})
	var out struct {
		Data []map[string]any `json:"data"`
	}
	if err := json.Unmarshal(a.body, &out); err != nil {
		w.t.Fatal(err)
	}
	return out.Data
}

// waitDelivery waits until the subscription has a delivery of eventType in
// a final status, and returns it.
func (w *world) waitDelivery(token, subID, eventType string) map[string]any {
	w.t.Helper()
	var found map[string]any
	waitFor(w.t, 30*time.Second, func() (bool, string) {
		for _, d := range w.deliveries(token, subID, "event_type="+eventType) {
			if d["status"] != webhook.DeliveryPending {
				found = d
				return true, ""
			}
		}
		return false, "no final delivery of " + eventType
	})
	return found
}

func attemptsOf(d map[string]any) []map[string]any {
	var out []map[string]any
	for _, a := range d["attempts"].([]any) {
		out = append(out, a.(map[string]any))
	}
	return out
}

func TestWebhookSubscriptionsAPI(t *testing.T) {
	w, tok := newHookWorld(t)
	rcv := newReceiver(t, nil)
	// Seed 000's request, with our receiver's URL.
	seed := `{
    "url": "` + rcv.url() + `",
    "events": [
      "invoice.status_changed",
      "payment_intent.status_changed",
      "refund.created"
    ],
    "description": "Production webhook"
  }`
	sub := w.do(exchange{method: "POST", route: "/v1/webhook_subscriptions", header: bearer(tok), body: seed, status: 201}).json(t)
	secret, _ := sub["secret"].(string)
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if !strings.HasPrefix(secret, "whsec_") || err != nil || len(key) != 32 {
		t.Errorf("secret %q: want whsec_ and 32 bytes in base64", secret)
	}
	if sub["status"] != "active" || sub["url"] != rcv.url() || fmt.Sprint(sub["events"]) != "[invoice.status_changed payment_intent.status_changed refund.created]" ||
		sub["description"] != "Production webhook" || !strings.HasPrefix(fmt.Sprint(sub["id"]), "whsub-") || sub["created_at"] == nil {
		t.Errorf("created subscription = %v", sub)
	}
	id := sub["id"].(string)
	path := "/v1/webhook_subscriptions/" + id
	got := w.do(exchange{method: "GET", route: "/v1/webhook_subscriptions/{subscription_id}", path: path, header: bearer(tok), status: 200}).json(t)
	if _, ok := got["secret"]; ok {
		t.Error("the secret is shown again after the creation")
	}
	if list := w.do(exchange{method: "GET", route: "/v1/webhook_subscriptions", header: bearer(tok), status: 200}).json(t)["data"].([]any); len(list) != 1 {
		t.Errorf("list has %d subscriptions, want 1", len(list))
	}

	// Bad input: a 4xx naming the field, and nothing changes.
	otherOrg := w.createOrg(w.token("ptn-2-client", partnerSecret), orgBody("B"))
	for _, c := range []struct{ body, param string }{
		{`{"events":["*"]}`, "url"},
		{`{"url":"ftp://127.0.0.1/x","events":["*"]}`, "url"},
		{`{"url":"http://93.184.216.34/hook","events":["*"]}`, "url"},                // http to a public host
		{`{"url":"https://10.1.2.3/hook","events":["*"]}`, "url"},                    // private
		{`{"url":"https://169.254.169.254/latest/meta-data","events":["*"]}`, "url"}, // cloud metadata
		{`{"url":"https://user:pw@127.0.0.1/x","events":["*"]}`, "url"},
		{`{"url":"` + rcv.url() + `","events":[]}`, "events"},
		{`{"url":"` + rcv.url() + `","events":["invoice.created","invoice.paid"]}`, "events[1]"},
		{`{"url":"` + rcv.url() + `","events":["*"],"organization_ids":["` + otherOrg + `"]}`, "organization_ids[0]"},
		{`{"url":"` + rcv.url() + `","events":["*"],"secret":"mine"}`, "secret"},
	} {
		a := w.do(exchange{method: "POST", route: "/v1/webhook_subscriptions", header: bearer(tok), body: c.body, status: -1})
		if a.status/100 != 4 || a.errParam(t) != c.param {
			t.Errorf("%s: %d param %q, want a 4xx naming %q (%s)", c.body, a.status, a.errParam(t), c.param, a.body)
		}
	}
	if list := w.do(exchange{method: "GET", route: "/v1/webhook_subscriptions", header: bearer(tok), status: 200}).json(t)["data"].([]any); len(list) != 1 {
		t.Errorf("refused creations left %d subscriptions", len(list))
	}

	upd := w.do(exchange{method: "PATCH", route: "/v1/webhook_subscriptions/{subscription_id}", path: path, header: bearer(tok),
		body: `{"events":["*"],"description":"all","status":"disabled"}`, status: 200}).json(t)
	if upd["status"] != "disabled" || fmt.Sprint(upd["events"]) != "[*]" || upd["description"] != "all" {
		t.Errorf("updated = %v", upd)
	}
	if a := w.do(exchange{method: "PATCH", route: "/v1/webhook_subscriptions/{subscription_id}", path: path, header: bearer(tok),
		body: `{"status":"paused"}`, status: 422}); a.errParam(t) != "status" {
		t.Errorf("bad status: %s", a.body)
	}

	// Rotation: a new secret; the previous one signs for 24 h by default.
	rot := w.do(exchange{method: "POST", route: "/v1/webhook_subscriptions/{subscription_id}/rotate_secret", path: path + "/rotate_secret", header: bearer(tok), status: 200}).json(t)
	exp, _ := time.Parse(time.RFC3339, fmt.Sprint(rot["previous_secret_expires_at"]))
	if rot["secret"] == secret || !strings.HasPrefix(fmt.Sprint(rot["secret"]), "whsec_") || exp.Sub(w.clock.Now()) < 23*time.Hour || exp.Sub(w.clock.Now()) > 25*time.Hour {
		t.Errorf("rotation = %v", rot)
	}
	if a := w.do(exchange{method: "POST", route: "/v1/webhook_subscriptions/{subscription_id}/rotate_secret", path: path + "/rotate_secret", header: bearer(tok),
		body: `{"previous_secret_expires_in":604801}`, status: 422}); a.errParam(t) != "previous_secret_expires_in" {
		t.Errorf("overlap beyond 7 days: %s", a.body)
	}

	// Organisation tokens do not manage the partner's subscriptions.
	cli := w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/api_clients", path: "/v1/organizations/" + w.createOrg(tok, orgBody("A")) + "/api_clients",
		header: bearer(tok), body: `{"role":"admin"}`, status: 201}).json(t)
	orgTok := w.token(cli["client_id"].(string), cli["client_secret"].(string))
	w.do(exchange{method: "GET", route: "/v1/webhook_subscriptions", header: bearer(orgTok), status: 403})

	w.do(exchange{method: "DELETE", route: "/v1/webhook_subscriptions/{subscription_id}", path: path, header: bearer(tok), status: 204})
	w.do(exchange{method: "GET", route: "/v1/webhook_subscriptions/{subscription_id}", path: path, header: bearer(tok), status: 404})

	// At most 20 per partner, even when created concurrently.
	var wg sync.WaitGroup
	statuses := make([]int, 25)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = w.do(exchange{method: "POST", route: "/v1/webhook_subscriptions", header: bearer(tok),
				body: `{"url":"` + rcv.url() + `","events":["*"]}`, status: -1}).status
		}()
	}
	wg.Wait()
	created := 0
	for _, s := range statuses {
		if s == 201 {
			created++
		} else if s != 409 {
			t.Errorf("concurrent creation: status %d", s)
		}
	}
	if n := len(w.do(exchange{method: "GET", route: "/v1/webhook_subscriptions", header: bearer(tok), status: 200}).json(t)["data"].([]any)); created != webhook.MaxSubscriptions || n != created {
		t.Errorf("%d created, %d listed; want %d", created, n, webhook.MaxSubscriptions)
	}
}

// standardValid verifies the Standard Webhooks headers of a request the way
// the specification says, independently of the signer.
func standardValid(t *testing.T, r hookRequest, secret string) bool {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	id, ts := r.header.Get("webhook-id"), r.header.Get("webhook-timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return false
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "." + string(r.body)))
	want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	for _, s := range strings.Fields(r.header.Get("webhook-signature")) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return true
		}
	}
	return false
}

func seedSignatureValid(r hookRequest, secret string) bool {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(r.body)
	return r.header.Get("X-Webhook-Signature") == "sha256="+hex.EncodeToString(m.Sum(nil))
}

// TestWebhooksReachTheGuidesSnippets: real events (an organisation, a
// department, an invoice issued) are delivered to receivers running the
// integration guide's Python and Node verification code unchanged, and
// every delivery passes it; a Go receiver checks the Standard Webhooks
// headers and the envelope.
func TestWebhooksReachTheGuidesSnippets(t *testing.T) {
	w, tok := newHookWorld(t)
	placeholder := newReceiver(t, nil)
	type target struct {
		sub    map[string]any
		snip   *webhooktest.Receiver
		expect int
	}
	var targets []target
	for _, lang := range webhooktest.Langs {
		sub := w.subscribe(tok, placeholder.url(), "*")
		snip := webhooktest.StartSnippet(t, lang, sub["secret"].(string))
		w.do(exchange{method: "PATCH", route: "/v1/webhook_subscriptions/{subscription_id}", path: "/v1/webhook_subscriptions/" + sub["id"].(string),
			header: bearer(tok), body: `{"url":"` + snip.URL + `"}`, status: 200})
		targets = append(targets, target{sub: sub, snip: snip})
	}
	goRcv := newReceiver(t, nil)
	goSub := w.subscribe(tok, goRcv.url(), "organization.created", "invoice.status_changed", "department.created")

	org := w.createOrg(tok, seedOrganization)
	dept := w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/departments", path: "/v1/organizations/" + org + "/departments",
		header: bearer(tok), body: seedDepartment, status: 201}).json(t)["id"].(string)
	w.do(exchange{method: "POST", route: "/v1/departments/{dept_id}/bank_accounts", path: deptPath(dept, "/bank_accounts"), header: bearer(tok), body: seedBankAccount, status: 201})
	inv := w.do(exchange{method: "POST", route: "/v1/invoices", header: bearer(tok, "X-Entity-Id", org), body: seedInvoice(dept, "2030-03-31"), status: 201}).json(t)["id"].(string)
	w.do(exchange{method: "POST", route: "/v1/invoices/{invoice_id}/issue", path: "/v1/invoices/" + inv + "/issue", header: bearer(tok, "X-Entity-Id", org), status: 200})

	// organization.created, department.created, bank_account.created,
	// invoice.created, invoice.status_changed: five events for "*".
	for _, tg := range targets {
		got := tg.snip.Wait(5, 30*time.Second)
		if len(got) != 5 {
			t.Fatalf("%s receiver judged %d deliveries, want 5; stderr %s", tg.snip.Lang, len(got), tg.snip.Stderr())
		}
		for _, v := range got {
			if !v.Verified || v.Status != 200 || v.EventID == "" || v.WebhookID != v.EventID {
				t.Errorf("%s receiver: %+v", tg.snip.Lang, v)
			}
		}
		waitFor(t, 10*time.Second, func() (bool, string) {
			ds := w.deliveries(tok, tg.sub["id"].(string), "status=succeeded")
			return len(ds) == 5, fmt.Sprintf("%s: %d succeeded deliveries in the log, want 5", tg.snip.Lang, len(ds))
		})
	}
	waitFor(t, 20*time.Second, func() (bool, string) {
		return len(goRcv.requests()) == 3, fmt.Sprintf("%d requests at the Go receiver, want 3", len(goRcv.requests()))
	})
	secret := goSub["secret"].(string)
	var statusChanged map[string]any
	for _, r := range goRcv.requests() {
		if !standardValid(t, r, secret) || !seedSignatureValid(r, secret) {
			t.Errorf("signatures do not verify: %v", r.header)
		}
		if r.header.Get("Content-Type") != "application/json" || !strings.HasPrefix(r.header.Get("User-Agent"), "ModuPay-Webhooks/") {
			t.Errorf("headers %v", r.header)
		}
		var env map[string]any
		if err := json.Unmarshal(r.body, &env); err != nil {
			t.Fatal(err)
		}
		keys := make([]string, 0, len(env))
		for k := range env {
			keys = append(keys, k)
		}
		if fmt.Sprint(sortedKeys(env)) != "[data event_id event_type organization_id timestamp]" {
			t.Errorf("envelope keys %v, want the seed's", keys)
		}
		if env["event_id"] != r.header.Get("webhook-id") || env["organization_id"] != org {
			t.Errorf("envelope %v", env)
		}
		if env["event_type"] == "invoice.status_changed" {
			statusChanged = env["data"].(map[string]any)
		}
	}
	if statusChanged["invoice_id"] != inv || statusChanged["previous_status"] != "draft" || statusChanged["current_status"] != "issued" || statusChanged["invoice"] == nil {
		t.Errorf("invoice.status_changed data = %v", statusChanged)
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sortStrings(keys)
	return keys
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// TestWebhookRetries: one real event to endpoints that answer 500 then
// 200, time out then answer, 429 then 503 then 204, 410, 400, a redirect,
// and 500 five times (then a manual retry): every delivery ends as the
// policy says, attempt by attempt, and one delivery succeeds at most once.
func TestWebhookRetries(t *testing.T) {
	w, tok := newHookWorld(t)
	watcher := newReceiver(t, nil)
	w.subscribe(tok, watcher.url(), webhook.TypeDisabled)
	cases := []struct {
		name       string
		answer     func(n int) (int, time.Duration)
		status     string
		codes      []int // status_code of each attempt (0: no response)
		disabledAs string
	}{
		{name: "500 then 200", answer: func(n int) (int, time.Duration) { return map[bool]int{true: 500, false: 200}[n == 1], 0 },
			status: "succeeded", codes: []int{500, 200}},
		{name: "a timeout then 200", answer: func(n int) (int, time.Duration) {
			if n == 1 {
				return 200, 3 * time.Second
			}
			return 200, 0
		}, status: "succeeded", codes: []int{0, 200}},
		{name: "429 and 503 are retried", answer: func(n int) (int, time.Duration) { return map[int]int{1: 429, 2: 503, 3: 204}[n], 0 },
			status: "succeeded", codes: []int{429, 503, 204}},
		{name: "410 fails at once and disables", answer: func(int) (int, time.Duration) { return 410, 0 }, status: "failed", codes: []int{410}, disabledAs: "gone"},
		{name: "400 fails at once", answer: func(int) (int, time.Duration) { return 400, 0 }, status: "failed", codes: []int{400}},
		{name: "a redirect is not followed", answer: func(int) (int, time.Duration) { return 302, 0 }, status: "failed", codes: []int{302}},
		{name: "five 500s, then a manual retry", answer: func(n int) (int, time.Duration) { return map[bool]int{true: 500, false: 200}[n <= 5], 0 },
			status: "failed", codes: []int{500, 500, 500, 500, 500}},
	}
	rcvs := make([]*receiver, len(cases))
	subs := make([]string, len(cases))
	for i, c := range cases {
		rcvs[i] = newReceiver(t, c.answer)
		subs[i] = w.subscribe(tok, rcvs[i].url(), "organization.created")["id"].(string)
	}
	org := w.createOrg(tok, orgBody("Retried"))
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wt := &world{t: t, cfg: w.cfg, app: w.app, srv: w.srv, clock: w.clock, faults: w.faults, validator: w.validator, seen: w.seen}
			d := wt.waitDelivery(tok, subs[i], "organization.created")
			atts := attemptsOf(d)
			var codes []int
			for _, a := range atts {
				codes = append(codes, int(a["status_code"].(float64)))
			}
			if d["status"] != c.status || fmt.Sprint(codes) != fmt.Sprint(c.codes) || int(d["attempt_count"].(float64)) != len(c.codes) || d["next_attempt_at"] != nil {
				t.Errorf("delivery %s, attempts %v, count %v, next %v; want %s %v", d["status"], codes, d["attempt_count"], d["next_attempt_at"], c.status, c.codes)
			}
			if c.codes[0] == 0 && !strings.HasPrefix(fmt.Sprint(atts[0]["error"]), "timeout") {
				t.Errorf("a timeout is recorded as %v", atts[0]["error"])
			}
			reqs := rcvs[i].requests()
			if len(reqs) != len(c.codes) {
				t.Errorf("the endpoint got %d requests, want %d", len(reqs), len(c.codes))
			}
			for n, r := range reqs {
				var env map[string]any
				_ = json.Unmarshal(r.body, &env)
				if r.header.Get("webhook-id") != d["event_id"] || r.header.Get("X-Webhook-Attempt") != strconv.Itoa(n+1) || env["organization_id"] != org {
					t.Errorf("request %d: webhook-id %s attempt %s", n+1, r.header.Get("webhook-id"), r.header.Get("X-Webhook-Attempt"))
				}
				if n > 0 && string(r.body) != string(reqs[0].body) {
					t.Error("a retry's body differs from the first attempt's")
				}
			}
			sub := wt.do(exchange{method: "GET", route: "/v1/webhook_subscriptions/{subscription_id}", path: "/v1/webhook_subscriptions/" + subs[i], header: bearer(tok), status: 200}).json(t)
			if c.disabledAs != "" {
				if sub["status"] != "disabled" || sub["disabled_reason"] != c.disabledAs {
					t.Errorf("subscription %v %v, want disabled (%s)", sub["status"], sub["disabled_reason"], c.disabledAs)
				}
				waitFor(t, 20*time.Second, func() (bool, string) {
					for _, r := range watcher.requests() {
						if strings.Contains(string(r.body), subs[i]) && strings.Contains(string(r.body), `"event_type":"webhook_subscription.disabled"`) {
							return true, ""
						}
					}
					return false, "no webhook_subscription.disabled event delivered to the watcher"
				})
				waitFor(t, 20*time.Second, func() (bool, string) {
					entries, err := w.app.Store.ListAuditEntries(context.Background(), "ptn-1", "")
					if err != nil {
						t.Fatal(err)
					}
					for _, e := range entries {
						if e.EventType == webhook.TypeDisabled && e.ResourceID == subs[i] && e.UserType == "system" {
							return true, ""
						}
					}
					return false, "no audit entry for the disabling"
				})
				return
			}
			if c.status == "succeeded" {
				// The dispatcher records the attempt, then ends the failure run
				// in a second write: the run ends right after the success shows.
				waitFor(t, 10*time.Second, func() (bool, string) {
					sub := wt.do(exchange{method: "GET", route: "/v1/webhook_subscriptions/{subscription_id}", path: "/v1/webhook_subscriptions/" + subs[i], header: bearer(tok), status: 200}).json(t)
					return sub["failing_since"] == nil, fmt.Sprintf("a success leaves failing_since = %v", sub["failing_since"])
				})
			}
			if c.status != "failed" {
				w.do(exchange{method: "POST", route: "/v1/webhook_deliveries/{delivery_id}/retry", path: "/v1/webhook_deliveries/" + d["id"].(string) + "/retry", header: bearer(tok), status: 409})
				return
			}
			if sub["failing_since"] == nil {
				t.Error("failures do not start a failure run")
			}
			if len(c.codes) < 5 {
				return
			}
			// Replay ("Surveillez les webhooks non reçus"): one attempt, now.
			wt.do(exchange{method: "POST", route: "/v1/webhook_deliveries/{delivery_id}/retry", path: "/v1/webhook_deliveries/" + d["id"].(string) + "/retry", header: bearer(tok), status: 202})
			var final map[string]any
			waitFor(t, 20*time.Second, func() (bool, string) {
				final = wt.do(exchange{method: "GET", route: "/v1/webhook_deliveries/{delivery_id}", path: "/v1/webhook_deliveries/" + d["id"].(string), header: bearer(tok), status: 200}).json(t)
				return final["status"] == "succeeded", fmt.Sprint("delivery is ", final["status"])
			})
			if atts := attemptsOf(final); len(atts) != 6 || atts[5]["manual"] != true || atts[5]["status_code"].(float64) != 200 {
				t.Errorf("after the replay: %v", atts)
			}
			wt.do(exchange{method: "POST", route: "/v1/webhook_deliveries/{delivery_id}/retry", path: "/v1/webhook_deliveries/" + d["id"].(string) + "/retry", header: bearer(tok), status: 409})
			sub = wt.do(exchange{method: "GET", route: "/v1/webhook_subscriptions/{subscription_id}", path: "/v1/webhook_subscriptions/" + subs[i], header: bearer(tok), status: 200}).json(t)
			if sub["failing_since"] != nil {
				t.Errorf("a success after failures leaves failing_since = %v", sub["failing_since"])
			}
		})
	}
}

// TestWebhookDeliveredOnceDespiteDuplicatesAndRaces: the same attempt
// delivered twice by SQS, in one batch, and to three dispatchers at once,
// reaches the endpoint once; a later copy after the success changes nothing.
func TestWebhookDeliveredOnceDespiteDuplicatesAndRaces(t *testing.T) {
	w, tok := newHookWorld(t)
	rcv := newReceiver(t, func(int) (int, time.Duration) { return 200, 300 * time.Millisecond })
	subID := w.subscribe(tok, rcv.url(), "organization.created")["id"].(string)
	dispatch, _ := w.app.Function("WebhookDispatcherFunction")
	msg := func(eventID string) string {
		b, _ := json.Marshal(webhook.Message{PartnerID: "ptn-1", SubscriptionID: subID, EventID: eventID, EventType: "organization.created",
			EventAt: w.clock.Now(), Payload: `{"event_id":"` + eventID + `","event_type":"organization.created","timestamp":"2026-11-21T10:00:00Z","data":{}}`, Attempt: 1})
		return string(b)
	}
	body := msg("evt-dup-1")
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs := []events.SQSMessage{{MessageId: fmt.Sprint("m", i), Body: body}, {MessageId: fmt.Sprint("n", i), Body: body}}
			if _, err := dispatch.SQS(context.Background(), events.SQSEvent{Records: recs}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// And twice through the real queue, after the success.
	cfg, err := wiring.AWSConfig(context.Background(), "eu-west-3", true)
	if err != nil {
		t.Fatal(err)
	}
	q := sqsClient(cfg, w)
	for range 2 {
		if _, err := q.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(w.cfg.WebhookQueueURL), MessageBody: aws.String(body)}); err != nil {
			t.Fatal(err)
		}
	}
	// Both were received and acknowledged once the queue holds nothing.
	w.waitDrained(t, 30*time.Second, "WebhookQueue", "WebhookDLQ")
	if n := len(rcv.requests()); n != 1 {
		t.Fatalf("the endpoint got %d requests for one delivery, want 1", n)
	}
	ds := w.deliveries(tok, subID, "")
	if len(ds) != 1 || ds[0]["status"] != "succeeded" || ds[0]["attempt_count"].(float64) != 1 {
		t.Errorf("deliveries = %v", ds)
	}

	// The test ping: one signed attempt, whatever the events asked for.
	ping := w.do(exchange{method: "POST", route: "/v1/webhook_subscriptions/{subscription_id}/test", path: "/v1/webhook_subscriptions/" + subID + "/test",
		header: bearer(tok), status: 202}).json(t)
	if ping["status"] != "pending" || ping["event_type"] != webhook.TypeTest {
		t.Errorf("ping = %v", ping)
	}
	d := w.waitDelivery(tok, subID, webhook.TypeTest)
	if d["id"] != ping["id"] || d["status"] != "succeeded" {
		t.Errorf("ping delivery = %v", d)
	}
	last := rcv.requests()[len(rcv.requests())-1]
	if last.header.Get("X-Webhook-Event") != webhook.TypeTest || !strings.Contains(string(last.body), subID) {
		t.Errorf("ping request %v %s", last.header, last.body)
	}
}

// TestWebhookNothingLostBetweenCommitAndPublish: the router cannot fan out
// (its read of the subscriptions fails) after the change is committed; once
// it can, the event is delivered, once.
func TestWebhookNothingLostBetweenCommitAndPublish(t *testing.T) {
	w, tok := newHookWorld(t)
	rcv := newReceiver(t, nil)
	w.subscribe(tok, rcv.url(), "organization.created")
	w.faults.setWhen(errBoom, func(in any) bool {
		q, ok := in.(*dynamodb.QueryInput)
		if !ok {
			return false
		}
		sk, ok := q.ExpressionAttributeValues[":sk"].(*dynamodbtypes.AttributeValueMemberS)
		return ok && sk.Value == "WHSUB#"
	})
	org := w.createOrg(tok, orgBody("Committed"))
	// The router has tried, and failed, to read the subscriptions, and the
	// webhook queue holds nothing: no delivery can be on its way.
	waitFor(t, 30*time.Second, func() (bool, string) {
		n := w.faults.hits.Load()
		return n >= 2, fmt.Sprintf("the router read the subscriptions %d times, want at least 2 (a retry)", n)
	})
	w.waitDrained(t, 30*time.Second, "WebhookQueue", "WebhookDLQ")
	if n := len(rcv.requests()); n != 0 {
		t.Fatalf("%d deliveries while the router was failing", n)
	}
	w.faults.set(nil)
	waitFor(t, 30*time.Second, func() (bool, string) {
		return len(rcv.requests()) > 0, "the committed event never arrived"
	})
	w.waitDrained(t, 30*time.Second, "WebhookQueue", "WebhookDLQ")
	reqs := rcv.requests()
	if len(reqs) != 1 || !strings.Contains(string(reqs[0].body), org) {
		t.Errorf("%d requests after recovery, want the organisation's event once", len(reqs))
	}
}

// TestWebhookSubscriptionDisabledAfterContinuousFailures: failures for more
// than 72 h disable the subscription; attempts after that are not sent.
func TestWebhookSubscriptionDisabledAfterContinuousFailures(t *testing.T) {
	w, tok := newHookWorld(t)
	rcv := newReceiver(t, func(int) (int, time.Duration) { return 503, 0 })
	subID := w.subscribe(tok, rcv.url(), "organization.created")["id"].(string)
	w.createOrg(tok, orgBody("First"))
	w.waitDelivery(tok, subID, "organization.created")
	path := "/v1/webhook_subscriptions/" + subID
	if sub := w.do(exchange{method: "GET", route: "/v1/webhook_subscriptions/{subscription_id}", path: path, header: bearer(tok), status: 200}).json(t); sub["status"] != "active" || sub["failing_since"] == nil {
		t.Fatalf("after one failed delivery: %v", sub)
	}
	w.clock.Advance(webhookdispatch.DefaultDisableAfter + time.Hour)
	tok = w.token("ptn-1-client", partnerSecret) // the first expired meanwhile
	w.createOrg(tok, orgBody("Second"))
	waitFor(t, 30*time.Second, func() (bool, string) {
		sub := w.do(exchange{method: "GET", route: "/v1/webhook_subscriptions/{subscription_id}", path: path, header: bearer(tok), status: 200}).json(t)
		return sub["status"] == "disabled" && sub["disabled_reason"] == "failing", fmt.Sprint("subscription ", sub["status"])
	})
	sent := len(rcv.requests())
	third := w.createOrg(tok, orgBody("Third")) // not delivered: the subscription is disabled
	// The router has handled Third's event once its audit entry is written
	// (it sends to the audit and webhook queues together); then both queues
	// drain.
	waitFor(t, 30*time.Second, func() (bool, string) {
		n, err := w.app.Store.CountAuditEntries(context.Background(), "ptn-1", third)
		if err != nil {
			return false, err.Error()
		}
		return n > 0, "no audit entry for the third organisation"
	})
	w.waitDrained(t, 30*time.Second, "AuditQueue", "AuditDLQ", "WebhookQueue", "WebhookDLQ")
	if len(rcv.requests()) != sent {
		t.Errorf("a disabled subscription still receives deliveries")
	}
	// Re-enabled, it forgets the failures.
	sub := w.do(exchange{method: "PATCH", route: "/v1/webhook_subscriptions/{subscription_id}", path: path, header: bearer(tok), body: `{"status":"active"}`, status: 200}).json(t)
	if sub["status"] != "active" || sub["failing_since"] != nil || sub["disabled_reason"] != nil {
		t.Errorf("re-enabled: %v", sub)
	}
}

func sqsClient(cfg aws.Config, w *world) *sqs.Client {
	return sqs.NewFromConfig(cfg, func(o *sqs.Options) { o.BaseEndpoint = aws.String(w.cfg.SQSEndpoint) })
}
