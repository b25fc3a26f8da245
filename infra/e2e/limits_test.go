package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/wiring"
)

// largestLines are 200 lines of 500 two-byte characters: the documented
// maximum, about 200 KB of text, whose events (the invoice, and on a
// change its before and after) exceed both DynamoDB's 400 KB item and
// SQS's 256 KiB message.
func largestLines(mark string) []map[string]any {
	var lines []map[string]any
	for i := 0; i < 200; i++ {
		d := fmt.Sprintf("%s %03d ", mark, i)
		d += strings.Repeat("é", 500-len([]rune(d)))
		lines = append(lines, map[string]any{"description": d, "quantity": 1, "unit_price": 100 + i, "vat_rate": 20})
	}
	return lines
}

// The largest valid invoice is created, changed and issued like any other:
// its events are committed (the outbox keeps a large record in parts),
// routed (the audit writer and the webhook dispatcher read a record too
// large for a queue message from the outbox), its audit entries written,
// and the partner's endpoint receives every webhook with the whole invoice.
func TestTheLargestInvoiceGoesThroughEverything(t *testing.T) {
	w := newWorldWith(t, worldOptions{runningClock: true, webhooks: wiring.WebhookOptions{
		Schedule: []time.Duration{time.Second, time.Second, time.Second, time.Second}, Timeout: 5 * time.Second}})
	iw := invoiceWorldOn(t, w)
	rcv := newReceiver(t, nil)
	w.subscribe(iw.token, rcv.url(), "invoice.created", "invoice.status_changed")

	body, _ := json.Marshal(map[string]any{"department_id": iw.dept, "payer": map[string]any{"name": "Jean Dupont", "email": "jean.dupont@example.com"},
		"line_items": largestLines("Ligne"), "due_date": iw.day(30)})
	inv := iw.create(string(body), 201).json(t)
	id := inv["id"].(string)
	if n := len(inv["line_items"].([]any)); n != 200 {
		t.Fatalf("%d lines created", n)
	}
	patch, _ := json.Marshal(map[string]any{"line_items": largestLines("Révisée")})
	changed := iw.do(exchange{method: "PATCH", route: "/v1/invoices/{invoice_id}", path: "/v1/invoices/" + id, header: iw.h(), body: string(patch), status: 200}).json(t)
	if first := changed["line_items"].([]any)[0].(map[string]any)["description"].(string); !strings.HasPrefix(first, "Révisée 000 ééé") {
		t.Fatalf("first line after the change: %.40s", first)
	}
	iw.action(id, "issue", 200)
	got := iw.do(exchange{method: "GET", route: "/v1/invoices/{invoice_id}", path: "/v1/invoices/" + id, header: iw.h(), status: 200}).json(t)
	if got["status"] != "issued" || len(got["line_items"].([]any)) != 200 {
		t.Fatalf("read back: %v, %d lines", got["status"], len(got["line_items"].([]any)))
	}

	// The audit trail: the creation, the change and the issue.
	entries := iw.waitTrail(t, "resource_id="+id, func(es []map[string]any) bool { return len(es) >= 3 })
	actions := map[string]bool{}
	for _, e := range entries {
		actions[fmt.Sprint(e["action"])] = true
	}
	if !actions["created"] || !actions["updated"] {
		t.Errorf("audit actions %v, want created and updated among them", actions)
	}

	// The webhooks: the creation and the issue, each with the whole invoice.
	waitFor(t, 30*time.Second, func() (bool, string) {
		seen := map[string]int{}
		for _, r := range rcv.requests() {
			var ev struct {
				Type string `json:"event_type"`
				Data struct {
					Invoice struct {
						ID    string           `json:"id"`
						Lines []map[string]any `json:"line_items"`
					} `json:"invoice"`
				} `json:"data"`
			}
			if json.Unmarshal(r.body, &ev) == nil && ev.Data.Invoice.ID == id && len(ev.Data.Invoice.Lines) == 200 {
				seen[ev.Type]++
			}
		}
		return seen["invoice.created"] == 1 && seen["invoice.status_changed"] == 1, fmt.Sprintf("webhooks with the whole invoice: %v", seen)
	})
}

// Past what one item holds (4-byte characters on every line), the invoice
// is refused with a 422 naming the line where the text passes the limit,
// on creation and on change, and nothing is written.
func TestAnInvoiceTooLargeForOneItemIsRefusedByName(t *testing.T) {
	iw := newInvoiceWorld(t)
	var lines []map[string]any
	for i := 0; i < 200; i++ {
		lines = append(lines, map[string]any{"description": strings.Repeat("😀", 500), "quantity": 1, "unit_price": 100, "vat_rate": 20})
	}
	body, _ := json.Marshal(map[string]any{"department_id": iw.dept, "payer": map[string]any{"name": "Jean Dupont", "email": "jean.dupont@example.com"},
		"line_items": lines, "due_date": iw.day(30)})
	a := iw.create(string(body), 422)
	// 150 lines of 2 000 bytes make 300 000: the 151st passes it.
	if p := a.errParam(t); p != "line_items[150].description" {
		t.Fatalf("param %q: %s", p, a.body)
	}
	inv := iw.create(seedInvoice(iw.dept, iw.day(30)), 201).json(t)
	patch, _ := json.Marshal(map[string]any{"line_items": lines})
	if p := iw.do(exchange{method: "PATCH", route: "/v1/invoices/{invoice_id}", path: "/v1/invoices/" + inv["id"].(string), header: iw.h(), body: string(patch), status: 422}).errParam(t); p != "line_items[150].description" {
		t.Fatalf("PATCH param %q", p)
	}
	if got := iw.do(exchange{method: "GET", route: "/v1/invoices", header: iw.h(), status: 200}).json(t)["data"].([]any); len(got) != 1 {
		t.Fatalf("%d invoices after the refusals, want the one valid", len(got))
	}
}
