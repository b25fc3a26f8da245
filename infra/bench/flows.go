package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/modupay/modupay/shared/webhook"
)

// flowFigures is the flow section's result: concurrent payers, each
// invoice → issue → link → payment through the sandbox bank → paid →
// webhook received (→ a partial refund for one flow in four), then the
// verifier's reading of what the run left.
type flowFigures struct {
	Flows           int      `json:"flows"`
	Payers          int      `json:"payers"`
	Refunds         int      `json:"refunds"`
	Seconds         float64  `json:"seconds"`
	FlowsPerSecond  float64  `json:"flows_per_second"`
	AuthToHookP50Ms float64  `json:"authorisation_to_webhook_p50_ms"`
	AuthToHookP95Ms float64  `json:"authorisation_to_webhook_p95_ms"`
	Answers         int64    `json:"answers"`
	Server5xx       int64    `json:"answers_5xx"`
	Orders          int      `json:"payment_orders_executed"`
	OrderToDoneP50  float64  `json:"order_authorisation_to_completed_p50_ms"`
	Events          int      `json:"events"`
	Lost            int      `json:"lost"`
	Duplicated      int      `json:"duplicated"`
	Violations      []string `json:"violations"`
}

// flowReceiver is the partner's endpoint for the flows: it answers 200 and
// counts each event id; a payment's success wakes its payer.
type flowReceiver struct {
	srv     *httptest.Server
	mu      sync.Mutex
	seen    map[string]int
	waiting map[string]chan time.Time // intent id → its payer
	early   map[string]time.Time      // successes that came before their payer waited
}

func newFlowReceiver() *flowReceiver {
	r := &flowReceiver{seen: map[string]int{}, waiting: map[string]chan time.Time{}, early: map[string]time.Time{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		at := time.Now()
		body, _ := io.ReadAll(req.Body)
		var env struct {
			EventID   string `json:"event_id"`
			EventType string `json:"event_type"`
			Data      struct {
				IntentID string `json:"payment_intent_id"`
				Status   string `json:"current_status"`
			} `json:"data"`
		}
		_ = json.Unmarshal(body, &env)
		r.mu.Lock()
		r.seen[env.EventID]++
		if env.EventType == "payment_intent.status_changed" && env.Data.Status == "succeeded" && r.seen[env.EventID] == 1 {
			if ch, ok := r.waiting[env.Data.IntentID]; ok {
				ch <- at
			} else {
				r.early[env.Data.IntentID] = at
			}
		}
		r.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	return r
}

// await waits for the webhook saying intentID succeeded.
func (r *flowReceiver) await(intentID string, timeout time.Duration) (time.Time, error) {
	r.mu.Lock()
	if at, ok := r.early[intentID]; ok {
		r.mu.Unlock()
		return at, nil
	}
	ch := make(chan time.Time, 1)
	r.waiting[intentID] = ch
	r.mu.Unlock()
	select {
	case at := <-ch:
		return at, nil
	case <-time.After(timeout):
		return time.Time{}, fmt.Errorf("no webhook for intent %s within %s", intentID, timeout)
	}
}

func (r *flowReceiver) count(eventID string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[eventID]
}

type flowSetup struct {
	db            *dynamodb.Client
	table         string
	token         string
	partnerID     string
	flows, payers int
	// The queues the verifier waits to see empty before it counts audit
	// entries and deliveries (their consumers can lag the flows).
	sqs       *sqs.Client
	queueURLs []string
	// duration, when set, bounds the run by time instead: payers start
	// flows until it has passed (a soak), then the verifier reads all.
	duration time.Duration
}

// flowDone is what one payer's flow left, for the verifier.
type flowDone struct {
	invoiceID, intentID, refundID string
	authToHook                    time.Duration
}

// measureFlows runs the flows and verifies the table afterwards.
func measureFlows(ctx context.Context, c *client, s flowSetup) (flowFigures, error) {
	f := flowFigures{Flows: s.flows, Payers: s.payers}
	// The subscription first: every event of the organisation is then owed to it.
	recv := newFlowReceiver()
	defer recv.srv.Close()
	if r, err := c.do(request{method: "POST", path: "/v1/webhook_subscriptions", token: s.token,
		body: `{"url":"` + recv.srv.URL + `/flows","events":["*"],"description":"bench flows"}`}); err != nil || r.status != 201 {
		return f, fmt.Errorf("flow subscription: %d %s %v", r.status, r.body, err)
	}
	orgID, err := c.createOrgTaken(s.token, "Flux")
	if err != nil {
		return f, err
	}
	deptID, err := c.createDept(s.token, orgID)
	if err != nil {
		return f, err
	}
	if r, err := c.do(request{method: "POST", path: "/v1/departments/" + deptID + "/bank_accounts", token: s.token,
		body: `{"iban":"` + frenchIBAN(777777) + `","bic":"BNPAFRPPXXX","account_name":"Compte des flux"}`}); err != nil || r.status != 201 {
		return f, fmt.Errorf("flow bank account: %d %s %v", r.status, r.body, err)
	}
	// Payment orders beside the payers: a funded portfolio whose orders are
	// paid through the sandbox bank (approval, payout, the holder's consent).
	r, err := c.do(request{method: "POST", path: "/v1/portfolios", token: s.token, entity: orgID,
		body: `{"name":"Décaissements des flux","currency":"EUR","executionAccount":{"accountId":"sandbox-treasury-1","redirectUrl":"https://back-office.example.fr/payouts"}}`})
	var pf struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err != nil || r.status != 201 || json.Unmarshal(r.body, &pf) != nil {
		return f, fmt.Errorf("flow portfolio: %d %s %v", r.status, r.body, err)
	}
	const funding = 5_000_000 // cents, in two fundings
	for _, amount := range []string{"30000.00", "20000.00"} {
		if r, err := c.do(request{method: "POST", path: "/v1/portfolios/" + pf.Data.ID + "/fundings", token: s.token, entity: orgID, body: `{"amount":` + amount + `}`}); err != nil || r.status != 201 {
			return f, fmt.Errorf("flow funding: %d %s %v", r.status, r.body, err)
		}
	}
	answers0, fives0 := c.tally.answers.Load(), c.tally.server5xx.Load()
	var doneMu sync.Mutex
	var done []flowDone
	var next atomic.Int64
	start := time.Now()
	orders := max(s.flows/20, 2)
	if s.duration > 0 {
		orders = max(int(s.duration/(10*time.Second)), 2)
	}
	var orderTimes []time.Duration
	ordersDone := make(chan error, 1)
	go func() {
		var mu sync.Mutex
		var next atomic.Int64
		ordersDone <- inParallel(2, func(int) error {
			for {
				i := int(next.Add(1)) - 1
				if i >= orders {
					return nil
				}
				_, d, err := c.executeOnce(s.token, orgID, pf.Data.ID, i)
				if err != nil {
					return fmt.Errorf("payment order %d: %w", i, err)
				}
				mu.Lock()
				orderTimes = append(orderTimes, d)
				mu.Unlock()
			}
		})
	}()
	err = inParallel(s.payers, func(int) error {
		for {
			i := int(next.Add(1)) - 1
			if (s.duration == 0 && i >= s.flows) || (s.duration > 0 && time.Since(start) >= s.duration) {
				return nil
			}
			// Two rates, prices in tens of cents: every total is exact.
			lines := fmt.Sprintf(`[{"description":"Abonnement %d","quantity":%d,"unit_price":%d,"vat_rate":20},{"description":"Entretien","quantity":1,"unit_price":%d,"vat_rate":10}]`,
				i, 1+i%3, 1000+10*(i%50), 500+10*(i%7))
			p, err := c.payThroughBank(s.token, orgID, deptID, lines, payerIBAN)
			if err != nil {
				return fmt.Errorf("flow %d: %w", i, err)
			}
			hook, err := recv.await(p.intentID, 60*time.Second)
			if err != nil {
				return fmt.Errorf("flow %d: %w", i, err)
			}
			d := flowDone{invoiceID: p.invoiceID, intentID: p.intentID, authToHook: hook.Sub(p.authorized)}
			if i%4 == 3 {
				r, err := c.do(request{method: "POST", path: "/v1/refunds", token: s.token, entity: orgID,
					body: fmt.Sprintf(`{"payment_intent_id":"%s","amount":%d,"reason":"Geste commercial"}`, p.intentID, 100+i)})
				if err != nil || r.status != 201 {
					return fmt.Errorf("flow %d refund: %d %s %v", i, r.status, r.body, err)
				}
				var v struct {
					ID string `json:"id"`
				}
				_ = json.Unmarshal(r.body, &v)
				d.refundID = v.ID
			}
			doneMu.Lock()
			done = append(done, d)
			doneMu.Unlock()
		}
	})
	if oerr := <-ordersDone; err == nil {
		err = oerr
	}
	if err != nil {
		return f, err
	}
	f.Orders, f.OrderToDoneP50 = len(orderTimes), toMs(percentile(orderTimes, 50))
	// The refunds end later, on the poller's schedule; the throughput counts
	// flows until their webhook, the verifier waits for the refunds.
	f.Seconds = time.Since(start).Seconds()
	f.Flows = len(done)
	f.FlowsPerSecond = float64(len(done)) / f.Seconds
	var hooks []time.Duration
	for _, d := range done {
		hooks = append(hooks, d.authToHook)
		if d.refundID != "" {
			f.Refunds++
		}
	}
	f.AuthToHookP50Ms, f.AuthToHookP95Ms = toMs(percentile(hooks, 50)), toMs(percentile(hooks, 95))
	v := verifier{c: c, s: s, orgID: orgID, recv: recv}
	v.run(ctx, done)
	v.checkPortfolio(pf.Data.ID, funding, orders)
	f.Events, f.Lost, f.Duplicated, f.Violations = v.events, v.lost, v.duplicated, v.violations
	f.Answers, f.Server5xx = c.tally.answers.Load()-answers0, c.tally.server5xx.Load()-fives0
	return f, nil
}

// verifier reads what the flows left and checks every invariant, waiting
// (up to a deadline) for what is still on its way: refunds settling,
// events delivered, audit entries written.
type verifier struct {
	c          *client
	s          flowSetup
	orgID      string
	recv       *flowReceiver
	events     int
	lost       int
	duplicated int
	violations []string
}

func (v *verifier) violate(format string, args ...any) {
	v.violations = append(v.violations, fmt.Sprintf(format, args...))
}

func (v *verifier) run(ctx context.Context, done []flowDone) {
	deadline := time.Now().Add(90 * time.Second)
	for _, d := range done {
		v.checkFlow(d, deadline)
	}
	refunds := 0
	for _, d := range done {
		if d.refundID != "" {
			refunds++
		}
	}
	v.checkNumbers(len(done), refunds)
	// The audit writer and the dispatcher may be minutes behind a soak on
	// two cores: what counts is that they catch up, so the events are
	// counted once their queues are empty.
	if err := waitQueuesEmpty(ctx, v.s.sqs, 15*time.Minute, v.s.queueURLs...); err != nil {
		v.violate("%v", err)
	}
	v.checkEvents(ctx, time.Now().Add(60*time.Second))
}

func (v *verifier) getJSON(path string, into any) error {
	r, err := v.c.do(request{method: "GET", path: path, token: v.s.token, entity: v.orgID})
	if err != nil {
		return err
	}
	if r.status != 200 {
		return fmt.Errorf("GET %s: %d %s", path, r.status, r.body)
	}
	return json.Unmarshal(r.body, into)
}

type flowInvoice struct {
	Number    string `json:"invoice_number"`
	Status    string `json:"status"`
	LineItems []struct {
		Quantity  json.Number `json:"quantity"`
		UnitPrice int64       `json:"unit_price"`
		VATRate   json.Number `json:"vat_rate"`
		NetAmount int64       `json:"net_amount"`
	} `json:"line_items"`
	VATBreakdown []struct {
		VATRate   json.Number `json:"vat_rate"`
		NetAmount int64       `json:"net_amount"`
		VATAmount int64       `json:"vat_amount"`
	} `json:"vat_breakdown"`
	TotalNet    int64 `json:"total_excluding_vat"`
	TotalVAT    int64 `json:"total_vat"`
	TotalAmount int64 `json:"total_amount"`
	AmountPaid  int64 `json:"amount_paid"`
	AmountDue   int64 `json:"amount_due"`
	CreditNotes []struct {
		Number   string `json:"number"`
		Amount   int64  `json:"amount"`
		RefundID string `json:"refund_id"`
	} `json:"credit_notes"`
}

// checkFlow: the invoice's totals are its lines', and what it says was
// paid is the settled payment less the succeeded refund.
func (v *verifier) checkFlow(d flowDone, deadline time.Time) {
	var pi struct {
		Status string `json:"status"`
		Amount int64  `json:"amount"`
	}
	var rf struct {
		Status     string `json:"status"`
		Amount     int64  `json:"amount"`
		CreditNote string `json:"credit_note_number"`
	}
	refunded := int64(0)
	if d.refundID != "" {
		for {
			if err := v.getJSON("/v1/refunds/"+d.refundID, &rf); err != nil {
				v.violate("refund %s: %v", d.refundID, err)
				return
			}
			if rf.Status == "succeeded" || rf.Status == "failed" || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if rf.Status != "succeeded" {
			v.violate("refund %s is %s, not succeeded", d.refundID, rf.Status)
		}
		refunded = rf.Amount
	}
	var inv flowInvoice
	if err := v.getJSON("/v1/payment_intents/"+d.intentID, &pi); err != nil {
		v.violate("intent %s: %v", d.intentID, err)
		return
	}
	if err := v.getJSON("/v1/invoices/"+d.invoiceID, &inv); err != nil {
		v.violate("invoice %s: %v", d.invoiceID, err)
		return
	}
	net, vatByRate := int64(0), map[string]int64{}
	for i, l := range inv.LineItems {
		q, _ := strconv.ParseInt(l.Quantity.String(), 10, 64)
		if l.NetAmount != q*l.UnitPrice {
			v.violate("invoice %s line %d: net %d ≠ %d × %d", inv.Number, i, l.NetAmount, q, l.UnitPrice)
		}
		net += l.NetAmount
		vatByRate[l.VATRate.String()] += l.NetAmount
	}
	vat := int64(0)
	for _, b := range inv.VATBreakdown {
		r, _ := strconv.ParseInt(b.VATRate.String(), 10, 64)
		if b.NetAmount != vatByRate[b.VATRate.String()] || b.VATAmount*100 != b.NetAmount*r {
			v.violate("invoice %s: VAT line %s%% (net %d, VAT %d) is not its lines'", inv.Number, b.VATRate, b.NetAmount, b.VATAmount)
		}
		vat += b.VATAmount
	}
	if net != inv.TotalNet || vat != inv.TotalVAT || inv.TotalAmount != net+vat {
		v.violate("invoice %s: totals %d/%d/%d, lines say %d/%d/%d", inv.Number, inv.TotalNet, inv.TotalVAT, inv.TotalAmount, net, vat, net+vat)
	}
	wantStatus := "succeeded"
	if refunded > 0 {
		wantStatus = "partially_refunded"
		if refunded == pi.Amount {
			wantStatus = "refunded"
		}
	}
	if pi.Status != wantStatus || pi.Amount != inv.TotalAmount {
		v.violate("intent %s: %s %d for an invoice of %d", d.intentID, pi.Status, pi.Amount, inv.TotalAmount)
	}
	if refunded > pi.Amount {
		v.violate("intent %s: refunded %d of %d", d.intentID, refunded, pi.Amount)
	}
	if inv.AmountPaid != pi.Amount-refunded || inv.AmountDue != inv.TotalAmount-inv.AmountPaid {
		v.violate("invoice %s: amount_paid %d, amount_due %d; settled %d − refunded %d", inv.Number, inv.AmountPaid, inv.AmountDue, pi.Amount, refunded)
	}
	// The succeeded refund made the invoice's one credit note, of its
	// amount; an invoice without a refund has none.
	switch {
	case refunded == 0 && len(inv.CreditNotes) != 0:
		v.violate("invoice %s: credit notes %+v without a refund", inv.Number, inv.CreditNotes)
	case refunded > 0 && (len(inv.CreditNotes) != 1 || inv.CreditNotes[0].Number != rf.CreditNote ||
		inv.CreditNotes[0].RefundID != d.refundID || inv.CreditNotes[0].Amount != refunded):
		v.violate("invoice %s: credit notes %+v; refund %s of %d names %q", inv.Number, inv.CreditNotes, d.refundID, refunded, rf.CreditNote)
	}
}

// sequence: numbers are 1…want, each once.
func (v *verifier) sequence(what string, numbers []int, want int) {
	sort.Ints(numbers)
	if len(numbers) != want {
		v.violate("%s: %d listed, %d made", what, len(numbers), want)
	}
	for i, k := range numbers {
		if k != i+1 {
			v.violate("%s have a gap or a duplicate at %d (found %d)", what, i+1, k)
			return
		}
	}
}

// checkNumbers: the organisation's invoices are numbered 1…n, each once,
// and its credit notes (one per refund) 1…credits.
func (v *verifier) checkNumbers(n, credits int) {
	var numbers, creditNumbers []int
	seq := func(number string) (int, bool) {
		k, err := strconv.Atoi(number[strings.LastIndexByte(number, '-')+1:])
		if err != nil {
			v.violate("number %q", number)
		}
		return k, err == nil
	}
	if !v.each("/v1/invoices", func(item json.RawMessage) {
		var inv struct {
			Number      string `json:"invoice_number"`
			CreditNotes []struct {
				Number string `json:"number"`
			} `json:"credit_notes"`
		}
		_ = json.Unmarshal(item, &inv)
		if k, ok := seq(inv.Number); ok {
			numbers = append(numbers, k)
		}
		for _, cn := range inv.CreditNotes {
			if k, ok := seq(cn.Number); ok {
				creditNumbers = append(creditNumbers, k)
			}
		}
	}) {
		return
	}
	v.sequence("invoice numbers", numbers, n)
	v.sequence("credit note numbers", creditNumbers, credits)
}

// each calls fn with every item of a list route of the organisation, page
// by page (100 a page, by cursor); false when a page could not be read.
func (v *verifier) each(path string, fn func(json.RawMessage)) bool {
	cursor := ""
	for {
		q := path + "?page_size=100"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		r, err := v.c.do(request{method: "GET", path: q, token: v.s.token, entity: v.orgID})
		if err != nil || r.status != 200 {
			v.violate("GET %s: %d %s %v", q, r.status, r.body, err)
			return false
		}
		var page struct {
			Data []json.RawMessage `json:"data"`
		}
		_ = json.Unmarshal(r.body, &page)
		for _, item := range page.Data {
			fn(item)
		}
		if cursor = cursorOf(r.body); cursor == "" {
			return true
		}
	}
}

// checkEvents: every event the organisation's changes committed (read from
// the table: the outbox items) has exactly one audit entry and was
// delivered exactly once to the subscription, which asked for every type.
func (v *verifier) checkEvents(ctx context.Context, deadline time.Time) {
	var events []string
	kinds := map[string]string{}
	var in = &dynamodb.ScanInput{TableName: aws.String(v.s.table), FilterExpression: aws.String("kind = :k AND organization_id = :o"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":k": &types.AttributeValueMemberS{Value: "event"}, ":o": &types.AttributeValueMemberS{Value: v.orgID}},
		ProjectionExpression:      aws.String("event_id, event_type")}
	// The verifier reads the bench's own table once, after the run: a Scan
	// here is no request path and no scheduled job.
	for {
		out, err := v.s.db.Scan(ctx, in)
		if err != nil {
			v.violate("scan of the events: %v", err)
			return
		}
		for _, it := range out.Items {
			id, _ := it["event_id"].(*types.AttributeValueMemberS)
			t, _ := it["event_type"].(*types.AttributeValueMemberS)
			if id != nil && t != nil && slices.Contains(webhook.Catalogue, t.Value) {
				events = append(events, id.Value)
				kinds[id.Value] = t.Value
			}
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	v.events = len(events)
	audit := map[string]int{}
	for {
		clear(audit)
		if !v.each("/v1/audit_logs", func(item json.RawMessage) {
			var e struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(item, &e)
			audit[strings.TrimPrefix(e.ID, "log-")]++
		}) {
			return
		}
		complete := true
		for _, id := range events {
			if audit[id] == 0 || v.recv.count(id) == 0 {
				complete = false
				break
			}
		}
		if complete || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	// Late duplicates would come within the dispatcher's first retry.
	time.Sleep(2 * time.Second)
	for _, id := range events {
		switch n := v.recv.count(id); {
		case n == 0:
			v.lost++
			v.violate("event %s (%s) was not delivered", id, kinds[id])
		case n > 1:
			v.duplicated++
			v.violate("event %s (%s) was delivered %d times", id, kinds[id], n)
		}
		if audit[id] != 1 {
			v.violate("event %s has %d audit entries", id, audit[id])
		}
	}
}

// checkPortfolio: the portfolio's funds add up (funded = the fundings;
// available = funded − spent − reserved; spent = its COMPLETED orders),
// every order was executed, and the organisation's order references are
// 1…n without gaps.
func (v *verifier) checkPortfolio(id string, funded int64, orders int) {
	var pf struct {
		Data struct {
			Available json.Number `json:"availableFunds"`
			Reserved  json.Number `json:"reservedFunds"`
			Spent     json.Number `json:"spentFunds"`
			Funded    json.Number `json:"totalFunded"`
		} `json:"data"`
	}
	if err := v.getJSON("/v1/portfolios/"+id, &pf); err != nil {
		v.violate("portfolio: %v", err)
		return
	}
	var completed int64
	var refs []int
	for page := 1; ; page++ {
		var list struct {
			Data []struct {
				Reference string      `json:"reference"`
				Status    string      `json:"status"`
				Amount    json.Number `json:"amount"`
			} `json:"data"`
		}
		if err := v.getJSON(fmt.Sprintf("/v1/payments?portfolioId=%s&page=%d&limit=100", id, page), &list); err != nil {
			v.violate("orders: %v", err)
			return
		}
		for _, o := range list.Data {
			if o.Status != "COMPLETED" {
				v.violate("order %s is %s after the run", o.Reference, o.Status)
			}
			completed += cents(o.Amount)
			n, _ := strconv.Atoi(o.Reference[strings.LastIndexByte(o.Reference, '-')+1:])
			refs = append(refs, n)
		}
		if len(list.Data) < 100 {
			break
		}
	}
	v.sequence("order references", refs, orders)
	d := pf.Data
	if cents(d.Funded) != funded || cents(d.Spent) != completed || cents(d.Available) != cents(d.Funded)-cents(d.Spent)-cents(d.Reserved) {
		v.violate("portfolio funds: funded %s (fundings %d), spent %s (completed orders %d), reserved %s, available %s",
			d.Funded, funded, d.Spent, completed, d.Reserved, d.Available)
	}
}

// cents reads a decimal amount of the seed-003 wire ("100.00") exactly.
func cents(n json.Number) int64 {
	r, ok := new(big.Rat).SetString(n.String())
	if !ok {
		return -1
	}
	r.Mul(r, big.NewRat(100, 1))
	if !r.IsInt() {
		return -1
	}
	return r.Num().Int64()
}

func (f flowFigures) report(w io.Writer) {
	fmt.Fprintf(w, "\nFlows — %d payers at once, %d flows (invoice, issue, link, the hosted page, payment through the sandbox bank, paid,\n"+
		"webhook received; a partial refund for one in four): %.1f flows/s; from the bank's authorisation to the webhook: p50 %.0f ms, p95 %.0f ms\n",
		f.Payers, f.Flows, f.FlowsPerSecond, f.AuthToHookP50Ms, f.AuthToHookP95Ms)
	fmt.Fprintf(w, "Payment orders beside them: %d executed through the sandbox bank, from the holder's consent to COMPLETED p50 %.0f ms\n",
		f.Orders, f.OrderToDoneP50)
	fmt.Fprintf(w, "Verifier: %d events, %d answers, %d refunds — %d violations, %d lost, %d duplicated, %d 5xx\n",
		f.Events, f.Answers, f.Refunds, len(f.Violations), f.Lost, f.Duplicated, f.Server5xx)
	for i, v := range f.Violations {
		if i == 20 {
			fmt.Fprintf(w, "  … %d more\n", len(f.Violations)-20)
			break
		}
		fmt.Fprintln(w, "  violation:", v)
	}
}

func (f flowFigures) check() error {
	if len(f.Violations) > 0 || f.Lost > 0 || f.Duplicated > 0 || f.Server5xx > 0 {
		return fmt.Errorf("the flows' verifier found %d violations, %d lost, %d duplicated, %d 5xx", len(f.Violations), f.Lost, f.Duplicated, f.Server5xx)
	}
	return nil
}
