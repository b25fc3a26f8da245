package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/wiring"
)

// auditPage reads GET /v1/audit_logs with query as the invoice world's
// partner, for its organisation.
func (iw *invoiceWorld) auditPage(t *testing.T, query string) ([]map[string]any, map[string]any) {
	t.Helper()
	body := iw.do(exchange{method: "GET", route: "/v1/audit_logs", query: query, header: iw.h(), status: 200}).json(t)
	var out []map[string]any
	for _, e := range body["data"].([]any) {
		out = append(out, e.(map[string]any))
	}
	return out, body["pagination"].(map[string]any)
}

// waitTrail waits until the trail read with query satisfies done.
func (iw *invoiceWorld) waitTrail(t *testing.T, query string, done func([]map[string]any) bool) []map[string]any {
	t.Helper()
	var got []map[string]any
	waitFor(t, 30*time.Second, func() (bool, string) {
		got, _ = iw.auditPage(t, query)
		return done(got), fmt.Sprintf("trail %s: %d entries", query, len(got))
	})
	return got
}

func changesOf(e map[string]any) (before, after map[string]any) {
	c := e["changes"].(map[string]any)
	before, _ = c["before"].(map[string]any)
	after, _ = c["after"].(map[string]any)
	return before, after
}

var wholeSeconds = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`)

// A paid invoice's trail, read back as a partner reads it: newest first,
// one entry per change, only what changed, the payer masked, and every
// filter of the seed narrowing it.
func TestAuditTrailOfAPaidInvoice(t *testing.T) {
	iw := newInvoiceWorld(t)
	inv, pi := iw.paidIntent(t, ibanRefundSucceeds)
	trail := iw.waitTrail(t, "resource_id="+inv, func(es []map[string]any) bool {
		for _, e := range es {
			if _, a := changesOf(e); a != nil && a["status"] == "paid" {
				return true
			}
		}
		return false
	})
	var actions []string
	for i, e := range trail {
		actions = append(actions, fmt.Sprint(e["action"]))
		if e["resource_type"] != "invoice" || e["resource_id"] != inv || !wholeSeconds.MatchString(fmt.Sprint(e["timestamp"])) ||
			!strings.HasPrefix(fmt.Sprint(e["id"]), "log-evt-") || e["organization_id"] != iw.org {
			t.Errorf("entry %d: %v", i, e)
		}
		if i > 0 && fmt.Sprint(e["timestamp"]) > fmt.Sprint(trail[i-1]["timestamp"]) {
			t.Errorf("entry %d is newer than entry %d: not newest first", i, i-1)
		}
		before, after := changesOf(e)
		for _, side := range []map[string]any{before, after} {
			if _, ok := side["updated_at"]; ok {
				t.Errorf("entry %d holds bookkeeping fields: %v", i, e["changes"])
			}
		}
	}
	created := trail[len(trail)-1]
	if created["action"] != "created" || created["user_type"] != "partner" || created["ip_address"] == nil || created["request_id"] == nil {
		t.Fatalf("oldest entry = %v (actions newest first: %v)", created, actions)
	}
	before, after := changesOf(created)
	payer, _ := after["payer"].(map[string]any)
	if before != nil || after["status"] != "draft" || after["total_amount"] != 42200.0 || payer["email"] != "j•••@example.com" || payer["name"] != "J••• D•••" {
		t.Errorf("creation changes = %v", created["changes"])
	}
	issued := trail[len(trail)-2]
	if b, a := changesOf(issued); issued["action"] != "status_changed" || b["status"] != "draft" || a["status"] != "issued" || a["total_amount"] != nil {
		t.Errorf("issue entry = %v, want only what changed", issued)
	}
	raw := string(iw.do(exchange{method: "GET", route: "/v1/audit_logs", query: "resource_id=" + inv, header: iw.h(), status: 200}).body)
	for _, leak := range []string{"jean.dupont@example.com", "Jean Dupont", "15 rue de la Paix", "FR7612345678901234567890123"} {
		if strings.Contains(raw, leak) {
			t.Errorf("the trail holds %q unmasked", leak)
		}
	}

	// The intent's trail: the payer chose, the bank settled.
	intent := iw.waitTrail(t, "resource_type=payment_intent&resource_id="+pi, func(es []map[string]any) bool {
		return len(es) > 0 && func() bool { _, a := changesOf(es[0]); return a["status"] == "succeeded" }()
	})
	types := map[string]bool{}
	for _, e := range intent {
		types[fmt.Sprint(e["user_type"])] = true
	}
	if !types["system"] {
		t.Errorf("the intent's trail has no system (bank) entry: %v", types)
	}

	// Filters, each answering exactly its entries.
	for _, tc := range []struct {
		query string
		check func(map[string]any) bool
	}{
		{"resource_type=invoice&action=status_changed", func(e map[string]any) bool {
			return e["resource_type"] == "invoice" && e["action"] == "status_changed"
		}},
		{"action=created", func(e map[string]any) bool { return e["action"] == "created" }},
		{"user_id=aiia", func(e map[string]any) bool { return e["user_id"] == "aiia" && e["user_type"] == "system" }},
		{"resource_type=organization", func(e map[string]any) bool { return e["resource_type"] == "organization" }},
	} {
		es, pg := iw.auditPage(t, tc.query)
		if len(es) == 0 {
			t.Errorf("%s: no entries", tc.query)
		}
		for _, e := range es {
			if !tc.check(e) {
				t.Errorf("%s: entry %v", tc.query, e)
			}
		}
		if n, ok := pg["total_items"].(float64); ok && int(n) != len(es) {
			t.Errorf("%s: total_items %v for %d entries", tc.query, n, len(es))
		}
	}
	// Dates: a day after everything is empty; the day of the payment holds it.
	tomorrow := iw.clock.Now().UTC().AddDate(0, 0, 1).Format(time.DateOnly)
	if es, pg := iw.auditPage(t, "from_date="+tomorrow); len(es) != 0 || pg["total_items"] != 0.0 {
		t.Errorf("from tomorrow: %d entries, %v", len(es), pg)
	}
	today := iw.clock.Now().UTC().Format(time.DateOnly)
	if es, _ := iw.auditPage(t, "resource_id="+inv+"&from_date="+today+"&to_date="+today); len(es) != len(trail) {
		t.Errorf("today's entries of the invoice: %d, want %d", len(es), len(trail))
	}
	// Pages by cursor, one entry at a time, walk the invoice's trail once.
	var walked []string
	cursor := ""
	for range len(trail) + 1 {
		q := "resource_id=" + inv + "&page_size=1"
		if cursor != "" {
			q += "&cursor=" + cursor
		}
		es, pg := iw.auditPage(t, q)
		for _, e := range es {
			walked = append(walked, fmt.Sprint(e["id"]))
		}
		next, _ := pg["next_cursor"].(string)
		if cursor = next; cursor == "" {
			break
		}
	}
	if len(walked) != len(trail) || walked[0] != trail[0]["id"] || walked[len(walked)-1] != created["id"] {
		t.Errorf("cursor walk %v, want the %d entries", walked, len(trail))
	}
	// The partner's own trail (no X-Entity-Id) holds none of the organisation's.
	own := iw.do(exchange{method: "GET", route: "/v1/audit_logs", query: "resource_id=" + inv, header: bearer(iw.token), status: 200}).json(t)
	if len(own["data"].([]any)) != 0 {
		t.Errorf("partner-level trail holds the organisation's invoice: %v", own["data"])
	}
}

// An analyst of the organisation reads its trail with its own token; a
// portfolio manager may not; neither reaches another organisation's.
func TestAuditTrailByOrganisationTokens(t *testing.T) {
	iw := newInvoiceWorld(t)
	iw.waitTrail(t, "resource_type=organization", func(es []map[string]any) bool { return len(es) > 0 })
	orgToken := func(role string) string {
		c := iw.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/api_clients", path: "/v1/organizations/" + iw.org + "/api_clients",
			header: bearer(iw.token), body: `{"role":"` + role + `"}`, status: 201}).json(t)
		return iw.world.token(c["client_id"].(string), c["client_secret"].(string))
	}
	analyst := orgToken("analyst")
	got := iw.do(exchange{method: "GET", route: "/v1/audit_logs", query: "resource_type=organization", header: bearer(analyst), status: 200}).json(t)
	if es := got["data"].([]any); len(es) == 0 || es[0].(map[string]any)["resource_id"] != iw.org {
		t.Errorf("analyst reads %v", got)
	}
	iw.do(exchange{method: "GET", route: "/v1/audit_logs", header: bearer(orgToken("portfolio_manager")), status: 403})
	other := iw.createOrg(iw.token, orgBody("Other"))
	iw.do(exchange{method: "GET", route: "/v1/audit_logs", header: bearer(analyst, "X-Entity-Id", other), status: 404})
}

// Bad input is a 422 naming the parameter, never a 500, and reads nothing.
func TestAuditLogsBadInput(t *testing.T) {
	iw := newInvoiceWorld(t)
	first := iw.waitTrail(t, "", func(es []map[string]any) bool { return len(es) >= 3 })
	_, pg := iw.auditPage(t, "page_size=1")
	cursor := pg["next_cursor"].(string)
	for _, tc := range []struct{ query, param string }{
		{"status=paid", "status"},
		{"from_date=yesterday", "from_date"},
		{"to_date=2024-13-01", "to_date"},
		{"from_date=2024-02-02&to_date=2024-02-01", "to_date"},
		{"page_size=0", "page_size"},
		{"page_size=101", "page_size"},
		{"page=0", "page"},
		{"resource_type=Invoice", "resource_type"},
		{"resource_type=invoice%23x", "resource_type"},
		{"resource_id=inv%23R%23x", "resource_id"},
		{"action=" + strings.Repeat("a", 65), "action"},
		{"user_id=%20", "user_id"},
		{"cursor=bm90LWEtY3Vyc29y", "cursor"},
		{"resource_type=invoice&cursor=" + cursor, "cursor"}, // another filter's cursor
		{"to_date=2000-01-01&cursor=" + cursor, "cursor"},    // other dates
		{"from_date=2100-01-01&cursor=" + cursor, "cursor"},
		{"resource_type=api_call&action=created", "action"},
		{"resource_type=api_call&resource_id=req-1", "resource_id"},
		{"resource_type=api_call&from_date=2024-02-02&to_date=2024-02-01", "to_date"},
		{"resource_type=invoice&action=created&page=2", "page"},
	} {
		a := iw.do(exchange{method: "GET", route: "/v1/audit_logs", query: tc.query, header: iw.h(), status: 422})
		if e, _ := a.json(t)["error"].(map[string]any); e["param"] != tc.param {
			t.Errorf("%s: param %v, want %s (%s)", tc.query, e["param"], tc.param, a.body)
		}
	}
	if len(first) == 0 {
		t.Fatal("no trail")
	}
}

// A record delivered several times through the real audit queue, even at
// once, is one entry.
func TestAuditEntryOnceDespiteRedelivery(t *testing.T) {
	iw := newInvoiceWorld(t)
	cfg, err := wiring.AWSConfig(context.Background(), "eu-west-3", true)
	if err != nil {
		t.Fatal(err)
	}
	q := sqsClient(cfg, iw.world)
	rec := event.Record{EventID: "evt-01900000-0000-7000-8000-00000000a0d1", Type: "organization.updated", PartnerID: "ptn-1", OrgID: iw.org,
		Timestamp: iw.clock.Now(), Actor: event.Actor{ID: "ptn-1-client", Type: "partner", IPAddress: "203.0.113.42", RequestID: "req-dup"},
		Change: event.Change{ResourceType: "organization", ResourceID: iw.org, Action: "updated",
			Before: json.RawMessage(`{"name":"Avant"}`), After: json.RawMessage(`{"name":"Après"}`)},
		Envelope: json.RawMessage(`{}`)}
	body, _ := json.Marshal(rec)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := q.SendMessage(context.Background(), &sqs.SendMessageInput{QueueUrl: aws.String(iw.queues["AuditQueue"]), MessageBody: aws.String(string(body))}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	iw.waitTrail(t, "user_id=ptn-1-client&action=updated", func(es []map[string]any) bool { return len(es) > 0 })
	iw.waitDrained(t, 30*time.Second, "AuditQueue", "AuditDLQ")
	es, pg := iw.auditPage(t, "resource_id="+iw.org+"&action=updated")
	if len(es) != 1 || es[0]["id"] != "log-"+rec.EventID || es[0]["request_id"] != "req-dup" {
		t.Fatalf("entries after 4 deliveries: %v (%v)", es, pg)
	}
	if b, a := changesOf(es[0]); b["name"] != "Avant" || a["name"] != "Après" {
		t.Errorf("changes = %v", es[0]["changes"])
	}
	for _, q := range []string{"action=updated", "user_id=ptn-1-client&action=updated"} {
		if es, _ := iw.auditPage(t, q); len(es) != 1 {
			t.Errorf("%s: %d entries, want 1", q, len(es))
		}
	}
}
