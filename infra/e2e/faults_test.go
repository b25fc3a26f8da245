package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/modupay/modupay/shared/webhook"
	"github.com/modupay/modupay/shared/wiring"
)

// sdkFaults fails a share of the AWS SDK's attempts from inside its retry
// loop, as the services do: half of them throttled (ThrottlingException),
// half a 500 (InternalServerError), both before the request reaches the
// engine. The SDK retries them with its backoff and jitter; what still
// fails after its attempts reaches our code, which must answer a retryable
// error or leave the message to its queue.
type sdkFaults struct {
	mu       sync.Mutex
	rnd      *rand.Rand
	rate     float64
	injected map[string]int
}

func newSDKFaults(seed uint64) *sdkFaults {
	return &sdkFaults{rnd: rand.New(rand.NewPCG(seed, seed)), injected: map[string]int{}}
}

func (f *sdkFaults) setRate(r float64) {
	f.mu.Lock()
	f.rate = r
	f.mu.Unlock()
}

func (f *sdkFaults) counts() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, v := range f.injected {
		out[k] = v
	}
	return out
}

func (f *sdkFaults) middleware(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("e2e-sdk-faults",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			if err := f.draw(middleware.GetServiceID(ctx) + " " + middleware.GetOperationName(ctx)); err != nil {
				return middleware.FinalizeOutput{}, middleware.Metadata{}, err
			}
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

func (f *sdkFaults) draw(op string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rate == 0 || f.rnd.Float64() >= f.rate {
		return nil
	}
	if f.rnd.IntN(2) == 0 {
		f.injected[op+" throttled"]++
		return &smithy.GenericAPIError{Code: "ThrottlingException", Message: "injected: rate of requests exceeded"}
	}
	f.injected[op+" 500"]++
	return &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 500, Header: http.Header{}}},
		Err: &smithy.GenericAPIError{Code: "InternalServerError", Message: "injected: internal server error"}}
}

// shortenVisibility sets the named queues' VisibilityTimeout: a message
// whose handler failed comes back after seconds instead of the template's
// 60 to 180 s, which a test cannot wait for.
func shortenVisibility(t *testing.T, w *world, visibility map[string]time.Duration) {
	t.Helper()
	cfg, err := wiring.AWSConfig(context.Background(), "eu-west-3", true)
	if err != nil {
		t.Fatal(err)
	}
	c := sqsClient(cfg, w)
	for id, d := range visibility {
		u, ok := w.queues[id]
		if !ok {
			t.Fatalf("no queue %s in the stack", id)
		}
		if _, err := c.SetQueueAttributes(context.Background(), &sqs.SetQueueAttributesInput{QueueUrl: aws.String(u),
			Attributes: map[string]string{string(sqstypes.QueueAttributeNameVisibilityTimeout): strconv.Itoa(int(d.Seconds()))}}); err != nil {
			t.Fatalf("visibility of %s: %v", id, err)
		}
	}
}

// faultVisibility is the fault tests' redelivery: 3 s, except on the webhook
// queue, whose messages must stay hidden longer than the dispatcher's lease
// (its 2 s timeout here + 20 s), as the template's 180 s is longer than the
// deployed lease (30 s + 20 s): a message coming back while its delivery is
// leased is refused again, and five refusals would dead-letter it.
var faultVisibility = map[string]time.Duration{"AuditQueue": 3 * time.Second, "AiiaPollQueue": 3 * time.Second, "WebhookQueue": 25 * time.Second}

// retryable is what a client replays (with the same Idempotency-Key).
func retryable(status int) bool {
	return status == 429 || status == 500 || status == 502 || status == 503 || status == 504
}

// replaying sends ex until it is answered with something a client does not
// replay, the same Idempotency-Key each time, and counts the replays.
func (w *world) replaying(ex exchange, replays *int) answer {
	w.t.Helper()
	for attempt := 1; ; attempt++ {
		a := w.doAny(ex)
		if !retryable(a.status) || attempt == 40 {
			return a
		}
		*replays++
		time.Sleep(time.Duration(20*attempt+rand.IntN(50)) * time.Millisecond)
	}
}

// faultFlow is what one payer's flow left.
type faultFlow struct {
	invoice, intent, refund string
	refunded                int64
}

// TestFlowsConvergeUnderEngineFaults: payers pay invoices (create, issue,
// link, the hosted page, the sandbox bank) and one in three is partly
// refunded, while one attempt in four of every DynamoDB and SQS call of
// every function — API, event router, audit writer, webhook dispatcher,
// poller — is throttled or answers 500. Clients replay what answers 429 or
// 5xx with the same Idempotency-Key; failed messages come back from their
// queue or stream. Once the faults stop, everything converges: one invoice
// per flow and numbers without gaps, each invoice's amount paid is its
// payment less its refund, every event of the organisation has one audit
// entry and one succeeded delivery, received by the endpoint.
func TestFlowsConvergeUnderEngineFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("engines")
	}
	faults := newSDKFaults(17)
	w := newWorldWith(t, worldOptions{runningClock: true, dynamoOptions: []func(*middleware.Stack) error{faults.middleware},
		sqsOptions: []func(*middleware.Stack) error{faults.middleware}, visibility: faultVisibility,
		webhooks: wiring.WebhookOptions{Schedule: []time.Duration{time.Second, time.Second, time.Second, time.Second}, Timeout: 2 * time.Second}})
	// The subscription first: every event of the organisation is owed to it.
	recv := newReceiver(t, nil)
	sub := w.subscribe(w.token("ptn-1-client", partnerSecret), recv.url(), "*")["id"].(string)
	iw := invoiceWorldOn(t, w)

	faults.setRate(0.25)
	done, replayed := iw.payConcurrently(t, 12, 4, nil)
	faults.setRate(0)
	injected, total := faults.counts(), 0
	for _, n := range injected {
		total += n
	}
	t.Logf("injected %d failed attempts (%v); the payers replayed %d requests", total, injected, replayed)
	if total == 0 {
		t.Fatal("no fault was injected: the test proves nothing")
	}

	checkConverged(t, w, iw, recv, sub, done)
}

// checkConverged waits for the flows' refunds and queues to settle, then
// checks: one invoice per flow, numbered 1…n; each invoice paid as its
// payment says, less its refund; every event of the organisation that "*"
// asks for has one audit entry and one succeeded delivery, received.
func checkConverged(t *testing.T, w *world, iw *invoiceWorld, recv *receiver, sub string, done []faultFlow) {
	t.Helper()
	flows := len(done)
	// Convergence: every refund settled, every queue drained.
	for _, f := range done {
		if f.refund == "" {
			continue
		}
		waitFor(t, 90*time.Second, func() (bool, string) {
			s := iw.doAny(exchange{method: "GET", route: "/v1/refunds/{refund_id}", path: "/v1/refunds/" + f.refund, header: iw.h()})
			st := s.json(t)["status"]
			return st == "succeeded", fmt.Sprintf("refund %s is %v", f.refund, st)
		})
	}
	w.waitDrained(t, 120*time.Second, "WebhookQueue", "AuditQueue", "AiiaPollQueue", "WebhookDLQ", "AuditDLQ", "AiiaPollDLQ")

	// One invoice per flow, numbered 1…n.
	var numbers []int
	for _, inv := range listAll(t, w, "/v1/invoices", iw.h()) {
		s := inv["invoice_number"].(string)
		n, _ := strconv.Atoi(s[strings.LastIndexByte(s, '-')+1:])
		numbers = append(numbers, n)
	}
	sort.Ints(numbers)
	if len(numbers) != flows {
		t.Errorf("%d invoices for %d flows: a replay created one twice or lost one", len(numbers), flows)
	}
	for i, n := range numbers {
		if n != i+1 {
			t.Errorf("invoice numbers %v have a gap or a duplicate", numbers)
			break
		}
	}
	// Each invoice: paid as its payment says, less its refund.
	for i, f := range done {
		inv := iw.do(exchange{method: "GET", route: "/v1/invoices/{invoice_id}", path: "/v1/invoices/" + f.invoice, header: iw.h(), status: 200}).json(t)
		pi := iw.do(exchange{method: "GET", route: "/v1/payment_intents/{intent_id}", path: "/v1/payment_intents/" + f.intent, header: iw.h(), status: 200}).json(t)
		total, paid, amount := inv["total_amount"].(float64), inv["amount_paid"].(float64), pi["amount"].(float64)
		if amount != total || paid != amount-float64(f.refunded) || inv["amount_due"].(float64) != total-paid {
			t.Errorf("flow %d: invoice total %v, paid %v, due %v; intent %v (%v), refunded %d", i, total, paid, inv["amount_due"], amount, pi["status"], f.refunded)
		}
	}
	// Every event of the organisation: one audit entry, one succeeded
	// delivery, received.
	events := map[string]string{}
	for _, it := range w.rawItems() {
		if strings.HasPrefix(it.pk, "EVENT#") && it.sk == "EVENT" && strings.Contains(it.text, "organization_id="+iw.org+"\n") {
			m := regexp.MustCompile(`(?m)^event_type=(.*)$`).FindStringSubmatch(it.text)
			if slices.Contains(webhook.Catalogue, m[1]) { // what "*" asks for
				events[strings.TrimPrefix(it.pk, "EVENT#")] = m[1]
			}
		}
	}
	audit := map[string]int{}
	for _, e := range listAll(t, w, "/v1/audit_logs", iw.h()) {
		audit[strings.TrimPrefix(e["id"].(string), "log-")]++
	}
	delivered := map[string]int{}
	for _, d := range listAll(t, w, "/v1/webhook_subscriptions/"+sub+"/deliveries", bearer(iw.token)) {
		if d["status"] == webhook.DeliverySucceeded {
			delivered[d["event_id"].(string)]++
		}
	}
	received := map[string]int{}
	for _, r := range recv.requests() {
		received[r.header.Get("webhook-id")]++
	}
	duplicates := 0
	for id, typ := range events {
		if audit[id] != 1 {
			t.Errorf("event %s (%s): %d audit entries", id, typ, audit[id])
		}
		if delivered[id] != 1 || received[id] == 0 {
			t.Errorf("event %s (%s): %d succeeded deliveries, received %d times", id, typ, delivered[id], received[id])
		}
		duplicates += max(received[id]-1, 0)
	}
	if len(events) < flows*5 {
		t.Errorf("only %d events for %d flows", len(events), flows)
	}
	// Webhooks are at least once: a POST whose outcome could not be
	// recorded is sent again (its receiver dedupes by webhook-id).
	t.Logf("%d events, each with one audit entry and one succeeded delivery; %d repeated POSTs", len(events), duplicates)
}

// TestFlowsSurviveAProcessRestart: while payers pay, the process stops
// abruptly — its queue pollers, stream readers and schedules, with what
// they hold in flight — and a new one (a new app, nothing kept in memory)
// takes over. The new stream readers start again from the oldest record
// (progress was in memory), so every event is routed a second time, and
// messages the old process had taken come back after their visibility
// timeout. Every flow completes, and every event still has one audit entry
// and one succeeded delivery.
func TestFlowsSurviveAProcessRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("engines")
	}
	w := newWorldWith(t, worldOptions{runningClock: true, visibility: faultVisibility,
		webhooks: wiring.WebhookOptions{Schedule: []time.Duration{time.Second, time.Second, time.Second, time.Second}, Timeout: 2 * time.Second}})
	recv := newReceiver(t, nil)
	sub := w.subscribe(w.token("ptn-1-client", partnerSecret), recv.url(), "*")["id"].(string)
	iw := invoiceWorldOn(t, w)
	// Halfway: some flows paid, others between their link and their payment.
	done, _ := iw.payConcurrently(t, 8, 4, func(finished *atomic.Int32) {
		waitFor(t, 60*time.Second, func() (bool, string) { return finished.Load() >= 2, "no flow finished" })
		w.restart()
	})
	checkConverged(t, w, iw, recv, sub, done)
}

// payConcurrently runs flows faultFlows with payers at once and returns
// what they left and how many requests they replayed; during(finished),
// when given, runs beside them (finished counts the flows done). A flow
// that fails ends the test.
func (iw *invoiceWorld) payConcurrently(t *testing.T, flows, payers int, during func(finished *atomic.Int32)) ([]faultFlow, int) {
	t.Helper()
	done := make([]faultFlow, flows)
	replays := make([]int, payers)
	var finished atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, flows)
	for p := 0; p < payers; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			for i := p; i < flows; i += payers {
				f, err := iw.faultFlow(i, &replays[p])
				if err != nil {
					errs <- fmt.Errorf("flow %d: %w", i, err)
					return
				}
				done[i] = f
				finished.Add(1)
			}
		}(p)
	}
	if during != nil {
		during(&finished)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	replayed := 0
	for _, n := range replays {
		replayed += n
	}
	return done, replayed
}

// faultFlow runs flow i as a payer and a partner do, replaying what fails.
func (iw *invoiceWorld) faultFlow(i int, replays *int) (faultFlow, error) {
	var f faultFlow
	key := func(step string) map[string]string {
		return iw.h("Idempotency-Key", fmt.Sprintf("flow-%d-%s", i, step))
	}
	body := fmt.Sprintf(`{"department_id":"%s","payer":{"name":"Payeur %d","email":"payeur%d@example.com"},"line_items":[{"description":"Abonnement","quantity":%d,"unit_price":%d,"vat_rate":20}],"due_date":"2030-03-31"}`,
		iw.dept, i, i, 1+i%3, 1000+10*i)
	a := iw.replaying(exchange{method: "POST", route: "/v1/invoices", header: key("invoice"), body: body}, replays)
	if a.status != 201 {
		return f, fmt.Errorf("invoice: %d %s", a.status, a.body)
	}
	f.invoice = a.json(iw.t)["id"].(string)
	if a := iw.replaying(exchange{method: "POST", route: "/v1/invoices/{invoice_id}/issue", path: "/v1/invoices/" + f.invoice + "/issue", header: key("issue")}, replays); a.status != 200 {
		return f, fmt.Errorf("issue: %d %s", a.status, a.body)
	}
	a = iw.replaying(exchange{method: "POST", route: "/v1/payment_links", header: key("link"),
		body: `{"invoice_id":"` + f.invoice + `","payment_methods":["sepa_credit"],"return_url":"https://votreapp.fr/ok"}`}, replays)
	if a.status != 201 {
		return f, fmt.Errorf("link: %d %s", a.status, a.body)
	}
	l := a.json(iw.t)
	f.intent = l["payment_intent_id"].(string)
	page := l["payment_page_url"].(string)
	if err := iw.payReplaying(page[strings.LastIndex(page, "/")+1:], replays); err != nil {
		return f, err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		a := iw.doAny(exchange{method: "GET", route: "/v1/invoices/{invoice_id}", path: "/v1/invoices/" + f.invoice, header: iw.h()})
		if a.status == 200 && a.json(iw.t)["status"] == "paid" {
			break
		}
		if time.Now().After(deadline) {
			return f, fmt.Errorf("invoice %s not paid after 60 s: %d %s", f.invoice, a.status, a.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if i%3 == 2 {
		f.refunded = int64(100 + i)
		a := iw.replaying(exchange{method: "POST", route: "/v1/refunds", header: key("refund"),
			body: fmt.Sprintf(`{"payment_intent_id":"%s","amount":%d,"reason":"Geste commercial"}`, f.intent, f.refunded)}, replays)
		if a.status != 201 {
			return f, fmt.Errorf("refund: %d %s", a.status, a.body)
		}
		f.refund = a.json(iw.t)["id"].(string)
	}
	return f, nil
}

var (
	csrfField  = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)
	bankAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
)

// payReplaying is what a payer does on the page and at the sandbox bank,
// reloading the page and pressing the button again when the page fails.
func (w *world) payReplaying(token string, replays *int) error {
	noFollow := *w.srv.Client()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	var flow string
	for attempt := 1; flow == ""; attempt++ {
		if attempt > 40 {
			return fmt.Errorf("the page never took the payment")
		}
		if attempt > 1 {
			*replays++
			time.Sleep(time.Duration(20*attempt) * time.Millisecond)
		}
		a := w.doAny(exchange{method: "GET", route: "/p/{token}", path: "/p/" + token})
		if retryable(a.status) {
			continue
		}
		csrf := csrfField.FindSubmatch(a.body)
		if a.status != 200 || csrf == nil {
			return fmt.Errorf("page: %d", a.status)
		}
		resp, err := noFollow.PostForm(w.srv.URL+"/p/"+token+"/pay", url.Values{"csrf": {string(csrf[1])}, "method": {"sepa_credit"}})
		if err != nil {
			return err
		}
		resp.Body.Close()
		if retryable(resp.StatusCode) {
			continue
		}
		if resp.StatusCode != http.StatusSeeOther {
			return fmt.Errorf("pay: %d", resp.StatusCode)
		}
		flow = resp.Header.Get("Location")
	}
	bankPage, err := noFollow.Get(flow)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(bankPage.Body)
	bankPage.Body.Close()
	action := bankAction.FindSubmatch(body)
	if action == nil {
		return fmt.Errorf("bank page without a form: %s", body)
	}
	target, _ := url.Parse(flow)
	target, _ = target.Parse(html.UnescapeString(string(action[1])))
	back, err := noFollow.PostForm(target.String(), url.Values{"iban": {"FR7612345678901234567890123"}, "decision": {"authorize"}})
	if err != nil {
		return err
	}
	back.Body.Close()
	if loc := back.Header.Get("Location"); !strings.Contains(loc, "/p/"+token+"/return") {
		return fmt.Errorf("the bank sends the payer back to %q", loc)
	}
	return nil
}

// listAll pages through a list route (page_size 100, next_cursor).
func listAll(t *testing.T, w *world, path string, header map[string]string) []map[string]any {
	t.Helper()
	var out []map[string]any
	cursor := ""
	for {
		q := "page_size=100"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		a := w.doAny(exchange{method: "GET", route: routeOf(path), path: path, query: q, header: header})
		if a.status != 200 {
			t.Fatalf("GET %s?%s: %d %s", path, q, a.status, a.body)
		}
		var page struct {
			Data       []map[string]any `json:"data"`
			Pagination struct {
				NextCursor string `json:"next_cursor"`
			} `json:"pagination"`
		}
		if err := json.Unmarshal(a.body, &page); err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Data...)
		if cursor = page.Pagination.NextCursor; cursor == "" {
			return out
		}
	}
}

// routeOf is the route key's path of the list paths listAll reads.
func routeOf(path string) string {
	if strings.HasPrefix(path, "/v1/webhook_subscriptions/") {
		return "/v1/webhook_subscriptions/{subscription_id}/deliveries"
	}
	return path
}
