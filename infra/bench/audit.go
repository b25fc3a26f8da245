package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"text/tabwriter"
	"time"

	"github.com/modupay/modupay/shared/audit"
	"github.com/modupay/modupay/shared/audit/apicall"
	"github.com/modupay/modupay/shared/wiring"
)

// auditCalls is the size of the API call log seeded beside the trail.
const auditCalls = 10_000

// auditScale is the audit trail's measurement: an organisation whose trail
// holds total entries (seeded directly), read through the gateway.
type auditScale struct {
	total    int
	seedTime time.Duration
	rows     []auditRow
}

type auditRow struct {
	name     string
	calls    int64
	p50, p95 time.Duration
	entries  int
	total    string
	budget   int64
}

// measureAuditScale seeds total invoice entries into orgID's trail (and its
// resource-type copy), plus the ten entries of one resource through the
// writer's own path, then reads pages of GET /v1/audit_logs: unfiltered
// (with total_items, null beyond 1 000), by resource type and dates
// following the cursor, and by resource.
func measureAuditScale(ctx context.Context, app *wiring.App, c *client, token, partnerID, orgID string, total int) (auditScale, error) {
	res := auditScale{total: total}
	t0 := time.Now().UTC().Add(-time.Duration(total) * time.Second)
	changes := json.RawMessage(`{"before":{"status":"draft"},"after":{"status":"issued"}}`)
	entry := func(i int, resource string) audit.Entry {
		return audit.Entry{ID: fmt.Sprintf("log-evt-bench-%07d", i), Timestamp: t0.Add(time.Duration(i) * time.Second), PartnerID: partnerID,
			OrganizationID: orgID, EventType: "invoice.status_changed", ResourceType: "invoice", ResourceID: resource, Action: "status_changed",
			UserID: "bench-partner", UserType: "partner", IPAddress: "203.0.113.42", RequestID: fmt.Sprintf("req-%d", i), Changes: changes}
	}
	start := time.Now()
	const workers = 8
	if err := inParallel(workers, func(w int) error {
		var batch []audit.Entry
		for i := w; i < total; i += workers {
			batch = append(batch, entry(i, fmt.Sprintf("inv-bench-%07d", i)))
			if len(batch) == 500 {
				if err := app.Store.SeedAuditTrail(ctx, batch); err != nil {
					return err
				}
				batch = batch[:0]
			}
		}
		return app.Store.SeedAuditTrail(ctx, batch)
	}); err != nil {
		return res, err
	}
	for i := 0; i < 10; i++ {
		if err := app.Store.PutAuditEntry(ctx, entry(total+i, "inv-bench-one")); err != nil {
			return res, err
		}
	}
	// An API call log of 10 000 calls (the writer's own puts, 10 at a
	// time by 8 workers), so that 50 pages by cursor stay inside it.
	if err := inParallel(workers, func(w int) error {
		for i := w * 10; i < auditCalls; i += workers * 10 {
			var batch []apicall.Call
			for j := i; j < min(i+10, auditCalls); j++ {
				batch = append(batch, apicall.Call{RequestID: fmt.Sprintf("req-bench-call-%06d", j), Timestamp: t0.Add(time.Duration(j) * time.Second),
					PartnerID: partnerID, OrgID: orgID, Method: "GET", Route: "GET /v1/invoices/{invoice_id}", Status: 200, LatencyMS: 2,
					ClientID: "bench-partner", UserType: "partner", IPAddress: "203.0.113.42"})
			}
			for _, err := range app.Store.PutAPICalls(ctx, batch) {
				if err != nil {
					return err
				}
			}
		}
		return nil
	}); err != nil {
		return res, err
	}
	res.seedTime = time.Since(start)

	from := url.QueryEscape(t0.Add(time.Duration(total/2) * time.Second).Format(time.RFC3339))
	// Budgets: one Query per page, one bounded count on a first page; the
	// API call log of an organisation adds the organisation's GetItem.
	for _, s := range []struct {
		name, query string
		follow      bool
		budget      int64
	}{
		{"no filter, page of 20 with total_items", "page_size=20", false, 2},
		{"resource_type + from_date, page of 20 by cursor", "resource_type=invoice&from_date=" + from + "&page_size=20", true, 1},
		{"resource_id (10 entries), with total_items", "resource_id=inv-bench-one&page_size=20", false, 2},
		{"resource_type=api_call, page of 20 with total_items", "resource_type=api_call&page_size=20", false, 3},
		{"resource_type=api_call, page of 20 by cursor", "resource_type=api_call&page_size=20", true, 2},
	} {
		var lat []time.Duration
		var calls []int64
		row := auditRow{name: s.name, budget: s.budget}
		q := s.query
		for i := 0; i < 50; i++ {
			resp, err := c.do(request{method: "GET", path: "/v1/audit_logs?" + q, token: token, entity: orgID})
			if err != nil || resp.status != 200 {
				return res, fmt.Errorf("audit logs %s: %d %s %v", q, resp.status, resp.body, err)
			}
			cc, _ := c.rec.take(resp.id)
			calls, lat = append(calls, cc.dynamo), append(lat, resp.took)
			var body struct {
				Data       []json.RawMessage `json:"data"`
				Pagination struct {
					TotalItems *int `json:"total_items"`
				} `json:"pagination"`
			}
			_ = json.Unmarshal(resp.body, &body)
			row.entries = len(body.Data)
			row.total = "null"
			if body.Pagination.TotalItems != nil {
				row.total = fmt.Sprint(*body.Pagination.TotalItems)
			}
			if s.follow {
				q = s.query + "&cursor=" + cursorOf(resp.body)
			}
		}
		row.p50, row.p95, row.calls = percentile(lat, 50), percentile(lat, 95), medianInt(calls)
		res.rows = append(res.rows, row)
	}
	return res, nil
}

func (s auditScale) report(w io.Writer) {
	fmt.Fprintf(w, "\nAudit trail at scale: one organisation with %d entries and %d API calls (seeded in %s), GET /v1/audit_logs through the gateway, 50 pages each\n",
		s.total, auditCalls, s.seedTime.Round(time.Second))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "page\tDynamoDB calls (median)\tbudget\tentries\ttotal_items\tp50\tp95\t")
	for _, r := range s.rows {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%s\t\n", r.name, r.calls, r.budget, r.entries, r.total, r.p50.Round(10*time.Microsecond), r.p95.Round(10*time.Microsecond))
	}
	tw.Flush()
}

// check is the budget: a page is one Query, plus one bounded count when
// total_items is given.
func (s auditScale) check() error {
	for _, r := range s.rows {
		if r.calls > r.budget {
			return fmt.Errorf("audit trail budget exceeded: %s made %d DynamoDB calls, budget %d", r.name, r.calls, r.budget)
		}
	}
	return nil
}
