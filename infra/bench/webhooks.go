package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/modupay/modupay/infra/gateway"
	"github.com/modupay/modupay/shared/wiring"
)

// Webhook bench parameters.
const (
	steadyEvents = 200
	// burstClients create the burst's organisations concurrently.
	burstClients = 16
	// burstTimeout bounds the wait for the burst's deliveries, from the
	// burst's first request.
	burstTimeout = 10 * time.Minute
	// dispatcherPollers is the number of SQS pollers the local gateway runs
	// for WebhookDispatcherFunction: gateway.New leaves SQSConfig.Pollers at
	// its default, 1. Each poller invokes the function with batches of up to
	// 10 messages (the template's BatchSize), handled concurrently.
	dispatcherPollers = 1
	dispatcherBatch   = 10
)

// webhookSetup is what the webhook section needs besides the app and the
// client: the burst's size, the queues watched during the burst, and the
// clock of the functions the gateway invokes.
type webhookSetup struct {
	burst    int
	sqs      *sqs.Client
	queueURL string // WebhookQueue
	dlqURL   string // WebhookDLQ
	auditURL string // AuditQueue: the router's other output, fed the same events
	stages   *stageClock
}

// hookHit is one POST the receiver got.
type hookHit struct {
	phase     string // the URL path: "steady" or "burst"
	eventID   string
	headerID  string // webhook-id
	committed time.Time
	at        time.Time
	attempt   int
}

// hookReceiver is the partner's endpoint, on 127.0.0.1: it answers 200 at
// once and records every request.
type hookReceiver struct {
	srv  *httptest.Server
	mu   sync.Mutex
	hits []hookHit
	// how many times each event id came, per phase
	seen map[string]map[string]int
}

func newHookReceiver() *hookReceiver {
	r := &hookReceiver{seen: map[string]map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		at := time.Now()
		body, _ := io.ReadAll(req.Body)
		var env struct {
			EventID   string    `json:"event_id"`
			Timestamp time.Time `json:"timestamp"`
		}
		_ = json.Unmarshal(body, &env)
		attempt, _ := strconv.Atoi(req.Header.Get("X-Webhook-Attempt"))
		h := hookHit{phase: strings.Trim(req.URL.Path, "/"), eventID: env.EventID, headerID: req.Header.Get("webhook-id"),
			committed: env.Timestamp, at: at, attempt: attempt}
		r.mu.Lock()
		r.hits = append(r.hits, h)
		if r.seen[h.phase] == nil {
			r.seen[h.phase] = map[string]int{}
		}
		r.seen[h.phase][h.eventID]++
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	return r
}

// distinct is the number of distinct event ids received on phase's URL.
func (r *hookReceiver) distinct(phase string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.seen[phase])
}

// phaseHits returns a copy of the hits of phase, and how often each event came.
func (r *hookReceiver) phaseHits(phase string) ([]hookHit, map[string]int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []hookHit
	for _, h := range r.hits {
		if h.phase == phase {
			out = append(out, h)
		}
	}
	counts := make(map[string]int, len(r.seen[phase]))
	for id, n := range r.seen[phase] {
		counts[id] = n
	}
	return out, counts
}

// stageClock times the invocations of the functions on the webhook path as
// the gateway makes them (records per invocation, time inside the handler).
type stageClock struct {
	mu    sync.Mutex
	on    bool
	stats map[string]*stageStat
}

type stageStat struct {
	calls, records int
	busy           time.Duration
}

// wrap returns fns whose stream and SQS handlers report to the clock.
func (s *stageClock) wrap(fns gateway.Functions) gateway.Functions { return timedFunctions{fns, s} }

func (s *stageClock) start() {
	s.mu.Lock()
	s.on, s.stats = true, map[string]*stageStat{}
	s.mu.Unlock()
}

func (s *stageClock) stop() map[string]stageStat {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.on = false
	out := map[string]stageStat{}
	for k, v := range s.stats {
		out[k] = *v
	}
	return out
}

func (s *stageClock) add(fn string, records int, took time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.on {
		return
	}
	st := s.stats[fn]
	if st == nil {
		st = &stageStat{}
		s.stats[fn] = st
	}
	st.calls++
	st.records += records
	st.busy += took
}

type timedFunctions struct {
	gateway.Functions
	clock *stageClock
}

func (t timedFunctions) Function(id string) (wiring.Function, bool) {
	f, ok := t.Functions.Function(id)
	if !ok || t.clock == nil {
		return f, ok
	}
	if h := f.Stream; h != nil {
		f.Stream = func(ctx context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
			start := time.Now()
			defer func() { t.clock.add(id, len(ev.Records), time.Since(start)) }()
			return h(ctx, ev)
		}
	}
	if h := f.SQS; h != nil {
		f.SQS = func(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
			start := time.Now()
			defer func() { t.clock.add(id, len(ev.Records), time.Since(start)) }()
			return h(ctx, ev)
		}
	}
	return f, ok
}

// queueSample is the queues' depth at one moment of the burst.
type queueSample struct {
	at       time.Duration // since the burst's start
	hooks    int           // WebhookQueue, visible + in flight
	received int           // distinct burst events received
	audit    int           // AuditQueue, visible + in flight
}

type webhookFigures struct {
	// steady
	steadyPace           float64 // organisations committed per second
	steadyP50, steadyP95 time.Duration
	steadyMax            time.Duration
	steadyDone           bool

	// burst
	burst              int
	burstStarted       bool
	timedOut           bool
	commitTime         time.Duration // first request to last 201
	allReceived        time.Duration // first request to the receiver holding every event id (or the timeout)
	span               time.Duration // first commit to last receipt
	deliveryRate       float64       // receipts / span
	burstP50, burstP95 time.Duration
	burstMax           time.Duration
	routedBy           time.Duration // ≈ when the router had queued every message (from the first request); -1: unknown
	maxHooks, maxAudit int           // deepest webhook and audit queues seen
	distinctReceived   int
	posts              int
	duplicates         int // event ids received more than once
	retriedPosts       int // POSTs with X-Webhook-Attempt other than 1
	headerMismatches   int // webhook-id differing from the body's event_id
	strays             int // burst events received on the disabled steady subscription
	steadyDuplicates   int // steady POSTs beyond each event's first
	logRead            bool
	logCount, logPages int // the delivery log's succeeded deliveries, and the pages read
	logNotFirstAttempt int // of them, with attempt_count other than 1
	logUnknown         int // of them, with an event id the receiver never got
	logDistinct        int
	queueLeft, dlqLeft int // messages left after the burst
	samples            []queueSample
	stages             map[string]stageStat
}

// measureWebhooks subscribes a partner's receiver to organization.created and
// measures the path commit → stream → EventRouterFunction → WebhookQueue →
// WebhookDispatcherFunction → receiver: latency one event after another, then
// a burst's throughput, with proof of no loss and no duplicate success. On a
// timeout it returns what was measured so far with the error.
func measureWebhooks(ctx context.Context, app *wiring.App, c *client, s webhookSetup) (webhookFigures, error) {
	f := webhookFigures{burst: s.burst, routedBy: -1}
	if s.burst < 1 {
		return f, fmt.Errorf("webhooks: a burst of %d events", s.burst)
	}
	// A partner of its own: the router reads one partner's subscriptions,
	// and only this section's organisations produce its events.
	if err := app.EnsurePartner(ctx, "partner-bench-webhooks", "Bench webhooks", "bench-webhooks", "bench-webhooks-secret-0123"); err != nil {
		return f, err
	}
	token, err := c.token("bench-webhooks", "bench-webhooks-secret-0123")
	if err != nil {
		return f, err
	}
	recv := newHookReceiver()
	defer recv.srv.Close()
	// Start from idle queues: what earlier sections left (audit records of
	// the payments and the overdue run) would be measured otherwise.
	if err := waitQueuesEmpty(ctx, s.sqs, 2*time.Minute, s.queueURL, s.auditURL); err != nil {
		return f, err
	}

	// 1. Steady: one organisation after another.
	steadySub, err := c.subscribe(token, recv.srv.URL+"/steady")
	if err != nil {
		return f, err
	}
	start := time.Now()
	for i := 0; i < steadyEvents; i++ {
		if _, err := c.createOrgTaken(token, fmt.Sprintf("Webhook steady %03d", i)); err != nil {
			return f, fmt.Errorf("steady organisation %d: %w", i, err)
		}
	}
	f.steadyPace = float64(steadyEvents) / time.Since(start).Seconds()
	for recv.distinct("steady") < steadyEvents {
		if time.Since(start) > 3*time.Minute {
			return f, fmt.Errorf("webhooks, steady: %d of %d events received after 3 min", recv.distinct("steady"), steadyEvents)
		}
		time.Sleep(20 * time.Millisecond)
	}
	steadyHits, _ := recv.phaseHits("steady")
	var lat []time.Duration
	for _, h := range firstHits(steadyHits) {
		lat = append(lat, h.at.Sub(h.committed))
	}
	f.steadyP50, f.steadyP95, f.steadyMax = percentile(lat, 50), percentile(lat, 95), percentile(lat, 100)
	f.steadyDone = true
	if err := waitQueuesEmpty(ctx, s.sqs, 2*time.Minute, s.queueURL, s.auditURL); err != nil {
		return f, err
	}

	// 2. Burst: a new subscription, the steady one disabled, then s.burst
	// organisations as fast as burstClients clients go.
	burstSub, err := c.subscribe(token, recv.srv.URL+"/burst")
	if err != nil {
		return f, err
	}
	if r, err := c.do(request{method: "PATCH", path: "/v1/webhook_subscriptions/" + steadySub, token: token, body: `{"status":"disabled"}`}); err != nil || r.status != 200 {
		return f, fmt.Errorf("disable the steady subscription: %d %s %v", r.status, r.body, err)
	} else {
		c.rec.take(r.id)
	}
	// Enough idle connections for the clients (the default keeps 2 per host).
	bc := *c
	bc.http = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: burstClients, MaxIdleConns: burstClients}}
	defer bc.http.CloseIdleConnections()

	sampleCtx, stopSampling := context.WithCancel(ctx)
	var sampled sync.WaitGroup
	var samples []queueSample
	if s.stages != nil {
		s.stages.start()
	}
	burstStart := time.Now()
	f.burstStarted = true
	sampled.Add(1)
	go func() { // the queues' depth every second: where the backlog is
		defer sampled.Done()
		for sleepCtx(sampleCtx, time.Second) {
			smp := queueSample{at: time.Since(burstStart), received: recv.distinct("burst")}
			if n, err := queueDepth(sampleCtx, s.sqs, s.queueURL); err == nil {
				smp.hooks = n.visible + n.inFlight
			}
			if n, err := queueDepth(sampleCtx, s.sqs, s.auditURL); err == nil {
				smp.audit = n.visible + n.inFlight
			}
			samples = append(samples, smp)
		}
	}()
	var next atomic.Int64
	errs := make(chan error, burstClients)
	var wg sync.WaitGroup
	for w := 0; w < burstClients; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= s.burst {
					return
				}
				if _, err := bc.createOrgTaken(token, fmt.Sprintf("Webhook burst %05d", i)); err != nil {
					errs <- fmt.Errorf("burst organisation %d: %w", i, err)
					next.Store(int64(s.burst)) // stop the others
					return
				}
			}
		}()
	}
	wg.Wait()
	f.commitTime = time.Since(burstStart)
	close(errs)
	if err := <-errs; err != nil {
		stopSampling()
		sampled.Wait()
		return f, err
	}
	var timeout error
	for recv.distinct("burst") < s.burst {
		if time.Since(burstStart) > burstTimeout {
			f.timedOut = true
			timeout = fmt.Errorf("webhooks, burst: %d of %d events received %s after the first request", recv.distinct("burst"), s.burst, burstTimeout)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	f.allReceived = time.Since(burstStart)
	if !f.timedOut {
		// Every message deleted (none left to come back after its visibility
		// timeout), then a moment for a straggler.
		_ = waitQueuesEmpty(ctx, s.sqs, time.Minute, s.queueURL)
		time.Sleep(time.Second)
	}
	stopSampling()
	sampled.Wait()
	if s.stages != nil {
		f.stages = s.stages.stop()
	}
	f.samples = samples
	if n, err := queueDepth(ctx, s.sqs, s.queueURL); err == nil {
		f.queueLeft = n.visible + n.inFlight + n.delayed
	}
	if n, err := queueDepth(ctx, s.sqs, s.dlqURL); err == nil {
		f.dlqLeft = n.visible + n.inFlight + n.delayed
	}

	hits, counts := recv.phaseHits("burst")
	steadyHits, steadyCounts := recv.phaseHits("steady")
	f.strays = len(steadyCounts) - steadyEvents
	f.steadyDuplicates = len(steadyHits) - len(steadyCounts)
	f.posts = len(hits)
	firsts := firstHits(hits)
	f.distinctReceived = len(firsts)
	lat = lat[:0]
	var firstCommit, allIn, lastReceipt time.Time
	for i, h := range firsts {
		if i == 0 || h.committed.Before(firstCommit) {
			firstCommit = h.committed
		}
		if h.at.After(allIn) {
			allIn = h.at
		}
		lat = append(lat, h.at.Sub(h.committed))
	}
	for _, h := range hits {
		if h.at.After(lastReceipt) {
			lastReceipt = h.at
		}
		if h.attempt != 1 {
			f.retriedPosts++
		}
		if h.headerID != h.eventID {
			f.headerMismatches++
		}
	}
	for _, n := range counts {
		if n > 1 {
			f.duplicates++
		}
	}
	if len(firsts) > 0 {
		f.burstP50, f.burstP95, f.burstMax = percentile(lat, 50), percentile(lat, 95), percentile(lat, 100)
		if !f.timedOut {
			f.allReceived = allIn.Sub(burstStart)
		}
		f.span = lastReceipt.Sub(firstCommit)
		f.deliveryRate = float64(f.posts) / f.span.Seconds()
	}
	for _, smp := range samples {
		f.maxHooks = max(f.maxHooks, smp.hooks)
		f.maxAudit = max(f.maxAudit, smp.audit)
		// Routed so far ≈ received + still queued (a message in flight whose
		// POST is done counts twice: early by at most a batch).
		if f.routedBy < 0 && smp.received+smp.hooks >= s.burst {
			f.routedBy = smp.at
		}
	}
	if timeout != nil {
		return f, timeout
	}

	// The delivery log: every succeeded delivery, by cursor.
	logged := map[string]bool{}
	path := "/v1/webhook_subscriptions/" + burstSub + "/deliveries?status=succeeded&page_size=100"
	for {
		r, err := c.do(request{method: "GET", path: path, token: token})
		if err != nil || r.status != 200 {
			return f, fmt.Errorf("delivery log page %d: %d %s %v", f.logPages+1, r.status, r.body, err)
		}
		c.rec.take(r.id)
		f.logPages++
		var page struct {
			Data []struct {
				EventID      string `json:"event_id"`
				Status       string `json:"status"`
				AttemptCount int    `json:"attempt_count"`
			} `json:"data"`
		}
		if err := json.Unmarshal(r.body, &page); err != nil {
			return f, fmt.Errorf("delivery log page %d: %w", f.logPages, err)
		}
		for _, d := range page.Data {
			f.logCount++
			logged[d.EventID] = true
			if d.AttemptCount != 1 {
				f.logNotFirstAttempt++
			}
			if counts[d.EventID] == 0 {
				f.logUnknown++
			}
		}
		cur := cursorOf(r.body)
		if cur == "" {
			break
		}
		path = "/v1/webhook_subscriptions/" + burstSub + "/deliveries?status=succeeded&page_size=100&cursor=" + url.QueryEscape(cur)
	}
	f.logDistinct = len(logged)
	f.logRead = true
	return f, nil
}

// lost is the number of burst events never received.
func (f webhookFigures) lost() int { return f.burst - f.distinctReceived }

// check fails on any loss or duplicate success, at the receiver or in the log.
func (f webhookFigures) check() error {
	var bad []string
	if f.lost() != 0 {
		bad = append(bad, fmt.Sprintf("%d events lost", f.lost()))
	}
	if f.duplicates != 0 {
		bad = append(bad, fmt.Sprintf("%d events received more than once", f.duplicates))
	}
	if f.retriedPosts != 0 {
		bad = append(bad, fmt.Sprintf("%d POSTs were not first attempts", f.retriedPosts))
	}
	if f.headerMismatches != 0 {
		bad = append(bad, fmt.Sprintf("%d POSTs had a webhook-id other than their event_id", f.headerMismatches))
	}
	if f.strays != 0 {
		bad = append(bad, fmt.Sprintf("the disabled subscription received %d burst events", f.strays))
	}
	if f.steadyDuplicates != 0 {
		bad = append(bad, fmt.Sprintf("the steady subscription received %d duplicate POSTs", f.steadyDuplicates))
	}
	if f.logCount != f.burst || f.logDistinct != f.burst || f.logNotFirstAttempt != 0 || f.logUnknown != 0 {
		bad = append(bad, fmt.Sprintf("the delivery log has %d succeeded deliveries of %d events (%d expected), %d with attempt_count ≠ 1, %d of events never received",
			f.logCount, f.logDistinct, f.burst, f.logNotFirstAttempt, f.logUnknown))
	}
	if f.queueLeft != 0 || f.dlqLeft != 0 {
		bad = append(bad, fmt.Sprintf("%d messages left in the webhook queue, %d in its DLQ", f.queueLeft, f.dlqLeft))
	}
	if len(bad) > 0 {
		return fmt.Errorf("webhooks: %s", strings.Join(bad, "; "))
	}
	return nil
}

func (f webhookFigures) report(w io.Writer) {
	ms := func(d time.Duration) string { return d.Round(time.Millisecond).String() }
	fmt.Fprintf(w, "\nWebhooks: organization.created, commit → table stream → EventRouterFunction → WebhookQueue → WebhookDispatcherFunction\n"+
		"(%d SQS poller, batches of %d handled concurrently) → a receiver on 127.0.0.1 answering 200 at once. Commit = the envelope's\n"+
		"timestamp, receipt = the receiver's clock (same machine).\n", dispatcherPollers, dispatcherBatch)
	if !f.steadyDone {
		fmt.Fprintln(w, "not measured (see the error)")
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "steady: %d organisations one after another (%.0f/s), commit → receipt\tp50 %s\tp95 %s\tmax %s\t\n",
		steadyEvents, f.steadyPace, ms(f.steadyP50), ms(f.steadyP95), ms(f.steadyMax))
	if !f.burstStarted {
		tw.Flush()
		return
	}
	fmt.Fprintf(tw, "burst: %d organisations by %d clients, committed in\t%s\t(%.0f/s)\t\t\n", f.burst, burstClients, ms(f.commitTime), float64(f.burst)/f.commitTime.Seconds())
	routed := "not within the burst"
	if f.routedBy >= 0 {
		routed = "≈ " + f.routedBy.Round(time.Second).String()
	}
	fmt.Fprintf(tw, "burst: all queued by the router (from the first request)\t%s\twebhook queue max %d\taudit queue max %d\t\n", routed, f.maxHooks, f.maxAudit)
	if f.timedOut {
		fmt.Fprintf(tw, "burst: TIMED OUT — event ids received after %s\t%d of %d\t\t\t\n", burstTimeout, f.distinctReceived, f.burst)
	} else {
		fmt.Fprintf(tw, "burst: all %d event ids received (from the first request)\t%s\t\t\t\n", f.distinctReceived, ms(f.allReceived))
	}
	fmt.Fprintf(tw, "burst: deliveries per second (%d receipts over first commit → last receipt, %s)\t%.1f/s\t%.1f/s per SQS poller\t%.1f/s per core (%d CPU)\t\n",
		f.posts, ms(f.span), f.deliveryRate, f.deliveryRate/dispatcherPollers, f.deliveryRate/float64(runtime.NumCPU()), runtime.NumCPU())
	fmt.Fprintf(tw, "burst: commit → receipt\tp50 %s\tp95 %s\tmax %s\t\n", ms(f.burstP50), ms(f.burstP95), ms(f.burstMax))
	tw.Flush()
	if len(f.stages) > 0 {
		// Time inside each function during the burst: a stage busy for most
		// of the burst's span is the one the others wait for.
		tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "function (during the burst)\tinvocations\trecords/invocation\tbusy\tper record\t")
		var names []string
		for k := range f.stages {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			st := f.stages[k]
			per := time.Duration(0)
			if st.records > 0 {
				per = st.busy / time.Duration(st.records)
			}
			fmt.Fprintf(tw, "%s\t%d\t%.1f\t%s\t%s\t\n", k, st.calls, float64(st.records)/float64(max(st.calls, 1)), st.busy.Round(100*time.Millisecond), per.Round(10*time.Microsecond))
		}
		tw.Flush()
	}
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "received: distinct event ids\t%d of %d\t\n", f.distinctReceived, f.burst)
	fmt.Fprintf(tw, "received: POSTs\t%d (%d not first attempts)\t\n", f.posts, f.retriedPosts)
	if f.timedOut {
		// Not received is not lost: the rest were still on their way.
		fmt.Fprintf(tw, "lost: not established (%d events not received within %s)\t\t\n", f.lost(), burstTimeout)
		fmt.Fprintf(tw, "duplicate successes: %d (of the events received)\t\t\n", f.duplicates)
	} else {
		fmt.Fprintf(tw, "lost: %d\t\t\n", f.lost())
		fmt.Fprintf(tw, "duplicate successes: %d\t\t\n", f.duplicates)
	}
	if f.strays != 0 || f.steadyDuplicates != 0 {
		fmt.Fprintf(tw, "steady subscription: burst events received after it was disabled\t%d (and %d duplicate POSTs)\t\n", f.strays, f.steadyDuplicates)
	}
	if f.logRead {
		fmt.Fprintf(tw, "delivery log, status=succeeded by cursor (%d pages)\t%d deliveries of %d events, %d with attempt_count ≠ 1\t\n", f.logPages, f.logCount, f.logDistinct, f.logNotFirstAttempt)
	}
	if !f.timedOut {
		fmt.Fprintf(tw, "webhook queue after the burst\t%d messages left, %d in the DLQ\t\n", f.queueLeft, f.dlqLeft)
	}
	tw.Flush()
	if len(f.samples) > 0 {
		// The backlog over time: a deep webhook queue = the dispatcher is
		// behind; receipts trailing commits with a shallow one = the router is.
		fmt.Fprint(w, "during the burst (t: webhook queue / received / audit queue):")
		step := max(1, len(f.samples)/12)
		for i := 0; i < len(f.samples); i += step {
			smp := f.samples[i]
			fmt.Fprintf(w, " %s: %d/%d/%d", smp.at.Round(time.Second), smp.hooks, smp.received, smp.audit)
		}
		fmt.Fprintln(w)
	}
}

// firstHits keeps each event's first receipt.
func firstHits(hits []hookHit) []hookHit {
	seen := map[string]bool{}
	var out []hookHit
	for _, h := range hits {
		if !seen[h.eventID] {
			seen[h.eventID] = true
			out = append(out, h)
		}
	}
	return out
}

// subscribe creates a partner-level subscription to organization.created.
func (c *client) subscribe(token, endpoint string) (string, error) {
	r, err := c.do(request{method: "POST", path: "/v1/webhook_subscriptions", token: token,
		body: `{"url":"` + endpoint + `","events":["organization.created"],"description":"bench"}`})
	if err != nil || r.status != 201 {
		return "", fmt.Errorf("create webhook subscription: %d %s %v", r.status, r.body, err)
	}
	c.rec.take(r.id)
	var s struct {
		ID string `json:"id"`
	}
	return s.ID, json.Unmarshal(r.body, &s)
}

// createOrgTaken creates an organisation and drops its call counts.
func (c *client) createOrgTaken(token, name string) (string, error) {
	r, err := c.do(request{method: "POST", path: "/v1/organizations", token: token, body: orgJSON(name)})
	if err != nil || r.status != 201 {
		return "", fmt.Errorf("create organisation: %d %s %v", r.status, r.body, err)
	}
	c.rec.take(r.id)
	var o struct {
		ID string `json:"id"`
	}
	return o.ID, json.Unmarshal(r.body, &o)
}

type depth struct{ visible, inFlight, delayed int }

// queueDepth reads a queue's message counts. It asks for "All": moto
// computes every attribute (three scans of the queue) once per requested
// name, so naming three would cost more.
func queueDepth(ctx context.Context, client *sqs.Client, queueURL string) (depth, error) {
	out, err := client.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{QueueUrl: aws.String(queueURL),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll}})
	if err != nil {
		return depth{}, err
	}
	n := func(a sqstypes.QueueAttributeName) int {
		v, _ := strconv.Atoi(out.Attributes[string(a)])
		return v
	}
	return depth{n(sqstypes.QueueAttributeNameApproximateNumberOfMessages), n(sqstypes.QueueAttributeNameApproximateNumberOfMessagesNotVisible),
		n(sqstypes.QueueAttributeNameApproximateNumberOfMessagesDelayed)}, nil
}

// waitQueuesEmpty waits until every queue has no message, visible, in
// flight or delayed.
func waitQueuesEmpty(ctx context.Context, client *sqs.Client, timeout time.Duration, queueURLs ...string) error {
	deadline := time.Now().Add(timeout)
	for {
		busy := ""
		for _, u := range queueURLs {
			n, err := queueDepth(ctx, client, u)
			if err != nil {
				return err
			}
			if left := n.visible + n.inFlight + n.delayed; left > 0 {
				busy = fmt.Sprintf("%s has %d messages", u[strings.LastIndex(u, "/")+1:], left)
				break
			}
		}
		if busy == "" {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("webhooks: queues not idle after %s: %s", timeout, busy)
		}
		if !sleepCtx(ctx, 500*time.Millisecond) {
			return ctx.Err()
		}
	}
}

// sleepCtx waits d or until ctx is done, and tells whether ctx is still live.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
