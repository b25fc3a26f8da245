package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Seed 003's samples, verbatim but for the ids it invents (portfolioId is
// the test's portfolio).
const (
	seedOrderCreate = `{
  "fundingType": "CREDIT",
  "amount": 7500000.00,
  "currency": "CDF",
  "portfolioId": "%s",
  "contractReference": "CONT-2025-004",
  "description": "Deuxième tranche crédit équipement",
  "beneficiary": {
    "name": "DEF Industries",
    "accountNumber": "5555666777",
    "bankName": "Banque du Commerce",
    "bankCode": "BDC003"
  },
  "paymentMethod": "BANK_TRANSFER",
  "executionDate": "2025-11-12T09:00:00.000Z"
}`
	seedOrderCreated = `{
  "success": true,
  "data": {
    "id": "payment-125",
    "reference": "PAY-2025-003",
    "fundingType": "CREDIT",
    "status": "PENDING",
    "amount": 7500000.00,
    "currency": "CDF",
    "portfolioId": "portfolio-456",
    "contractReference": "CONT-2025-004",
    "description": "Deuxième tranche crédit équipement",
    "beneficiary": {
      "name": "DEF Industries",
      "accountNumber": "5555666777",
      "bankName": "Banque du Commerce",
      "bankCode": "BDC003"
    },
    "paymentMethod": "BANK_TRANSFER",
    "executionDate": "2025-11-12T09:00:00.000Z",
    "createdAt": "2025-11-10T16:30:00.000Z"
  },
  "message": "Payment order created successfully"
}`
	seedOrderUpdate = `{
  "amount": 8000000.00,
  "executionDate": "2025-11-13T09:00:00.000Z",
  "description": "Deuxième tranche crédit équipement - montant ajusté"
}`
	seedOrderUpdated = `{
  "success": true,
  "data": {
    "id": "payment-125",
    "reference": "PAY-2025-003",
    "status": "PENDING",
    "amount": 8000000.00,
    "executionDate": "2025-11-13T09:00:00.000Z",
    "description": "Deuxième tranche crédit équipement - montant ajusté",
    "updatedAt": "2025-11-10T17:00:00.000Z"
  },
  "message": "Payment order updated successfully"
}`
	seedStatusUpdate = `{
  "status": "PROCESSING",
  "notes": "Validation effectuée, envoi vers la banque"
}`
	seedStatusUpdated = `{
  "success": true,
  "data": {
    "id": "payment-125",
    "reference": "PAY-2025-003",
    "status": "PROCESSING",
    "previousStatus": "PENDING",
    "statusChangedAt": "2025-11-11T08:30:00.000Z",
    "notes": "Validation effectuée, envoi vers la banque"
  },
  "message": "Payment order status updated successfully"
}`
	seedOrderDetail = `{
  "success": true,
  "data": {
    "id": "payment-123",
    "reference": "PAY-2025-001",
    "fundingType": "CREDIT",
    "status": "COMPLETED",
    "amount": 5000000.00,
    "currency": "CDF",
    "portfolioId": "portfolio-456",
    "contractReference": "CONT-2025-001",
    "description": "Déboursement initial crédit PME",
    "beneficiary": {
      "name": "ABC Corporation",
      "accountNumber": "1234567890",
      "bankName": "Banque Centrale",
      "bankCode": "BC001",
      "address": "123 Avenue de la République, Kinshasa"
    },
    "paymentMethod": "BANK_TRANSFER",
    "executionDate": "2025-11-10T09:00:00.000Z",
    "statusHistory": [
      {"status": "PENDING", "timestamp": "2025-11-10T08:00:00.000Z", "actor": "user-789", "notes": "Order created"},
      {"status": "COMPLETED", "timestamp": "2025-11-10T10:15:00.000Z", "actor": "system", "notes": "Payment confirmed by bank"}
    ],
    "createdAt": "2025-11-10T08:00:00.000Z",
    "updatedAt": "2025-11-10T10:15:00.000Z"
  }
}`
	seedOrderList = `{
  "success": true,
  "data": [
    {
      "id": "payment-123",
      "reference": "PAY-2025-001",
      "fundingType": "CREDIT",
      "status": "COMPLETED",
      "amount": 5000000.00,
      "currency": "CDF",
      "portfolioId": "portfolio-456",
      "contractReference": "CONT-2025-001",
      "beneficiary": {"name": "ABC Corporation", "accountNumber": "1234567890", "bankName": "Banque Centrale", "bankCode": "BC001"},
      "createdBy": {"id": "user-789", "name": "Jean Dupont"},
      "createdAt": "2025-11-10T08:00:00.000Z",
      "processedAt": "2025-11-10T09:30:00.000Z",
      "completedAt": "2025-11-10T10:15:00.000Z"
    }
  ],
  "meta": {"total": 156, "page": 1, "limit": 10, "totalPages": 16}
}`
	seedOrderDeleted = `{"success": true, "message": "Payment order deleted successfully"}`
)

// sameShape reports every path of want absent from got or of another JSON
// type (arrays: the first element of want against every element of got).
func sameShape(path string, want, got any) []string {
	var out []string
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{path + ": not an object"}
		}
		for k, v := range w {
			gv, present := g[k]
			if !present {
				out = append(out, path+"."+k+": missing")
				continue
			}
			out = append(out, sameShape(path+"."+k, v, gv)...)
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{path + ": not an array"}
		}
		if len(w) > 0 {
			if len(g) == 0 {
				return []string{path + ": empty"}
			}
			for i, x := range g {
				out = append(out, sameShape(fmt.Sprintf("%s[%d]", path, i), w[0], x)...)
			}
		}
	default:
		if fmt.Sprintf("%T", want) != fmt.Sprintf("%T", got) {
			out = append(out, fmt.Sprintf("%s: %T, want %T", path, got, want))
		}
	}
	return out
}

func checkShape(t *testing.T, what, sample string, a answer) {
	t.Helper()
	var want, got any
	if err := json.Unmarshal([]byte(sample), &want); err != nil {
		t.Fatalf("%s sample: %v", what, err)
	}
	if err := json.Unmarshal(a.body, &got); err != nil {
		t.Fatalf("%s: %v: %s", what, err, a.body)
	}
	for _, d := range sameShape("", want, got) {
		t.Errorf("%s: the answer differs from seed 003's sample at %s\n%s", what, d, a.body)
	}
}

func orderBody(portfolio, amount string) string {
	return `{"fundingType":"CREDIT","amount":` + amount + `,"currency":"EUR","portfolioId":"` + portfolio + `",
	"beneficiary":{"name":"Atelier Durand","accountNumber":"FR7630006000011234567890189","bankName":"Banque Test","bankCode":"AGRIFRPP"},
	"paymentMethod":"BANK_TRANSFER","executionDate":"2030-01-02T09:00:00.000Z"}`
}

// orders is one organisation's seed-003 client: a token (and X-Entity-Id
// for a partner token).
type orders struct {
	w      *world
	header map[string]string
}

func (o orders) h(kv ...string) map[string]string {
	h := map[string]string{}
	for k, v := range o.header {
		h[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		h[kv[i]] = kv[i+1]
	}
	return h
}

func (o orders) portfolio(t *testing.T, body string, fund string) string {
	t.Helper()
	id := o.w.do(exchange{method: "POST", route: "/v1/portfolios", header: o.h(), body: body, status: 201}).json(t)["data"].(map[string]any)["id"].(string)
	if fund != "" {
		o.w.do(exchange{method: "POST", route: "/v1/portfolios/{portfolio_id}/fundings", path: "/v1/portfolios/" + id + "/fundings", header: o.h(),
			body: `{"amount":` + fund + `,"reference":"VIR-0001","notes":"Dotation initiale"}`, status: 201})
	}
	return id
}

func (o orders) create(body string, status int) answer {
	return o.w.do(exchange{method: "POST", route: "/v1/payments", header: o.h(), body: body, status: status})
}

func (o orders) get(id string, status int) answer {
	return o.w.do(exchange{method: "GET", route: "/v1/payments/{payment_id}", path: "/v1/payments/" + id, header: o.h(), status: status})
}

func (o orders) update(id, body string, status int) answer {
	return o.w.do(exchange{method: "PUT", route: "/v1/payments/{payment_id}", path: "/v1/payments/" + id, header: o.h(), body: body, status: status})
}

func (o orders) setStatus(id, status, notes string, want int) answer {
	b, _ := json.Marshal(map[string]string{"status": status, "notes": notes})
	return o.w.do(exchange{method: "PUT", route: "/v1/payments/{payment_id}/status", path: "/v1/payments/" + id + "/status", header: o.h(), body: string(b), status: want})
}

func (o orders) remove(id string, status int) answer {
	return o.w.do(exchange{method: "DELETE", route: "/v1/payments/{payment_id}", path: "/v1/payments/" + id, header: o.h(), status: status})
}

func (o orders) funds(t *testing.T, portfolio string) map[string]any {
	t.Helper()
	return o.w.do(exchange{method: "GET", route: "/v1/portfolios/{portfolio_id}", path: "/v1/portfolios/" + portfolio, header: o.h(), status: 200}).json(t)["data"].(map[string]any)
}

func (o orders) list(t *testing.T, query string) (ids []string, meta map[string]any) {
	t.Helper()
	m := o.w.do(exchange{method: "GET", route: "/v1/payments", query: query, header: o.h(), status: 200}).json(t)
	for _, x := range m["data"].([]any) {
		ids = append(ids, x.(map[string]any)["id"].(string))
	}
	return ids, m["meta"].(map[string]any)
}

func data(t *testing.T, a answer) map[string]any {
	t.Helper()
	d, _ := a.json(t)["data"].(map[string]any)
	return d
}

// familyError checks the family's error shape and returns its code.
func familyError(t *testing.T, a answer) (code string, fields []string) {
	t.Helper()
	m := a.json(t)
	e, _ := m["error"].(map[string]any)
	if m["success"] != false || e == nil || m["requestId"] == "" || m["requestId"] == nil {
		t.Fatalf("not seed 003's error shape: %s", a.body)
	}
	details, ok := e["details"].([]any)
	if !ok {
		t.Fatalf("error.details is not an array: %s", a.body)
	}
	for _, d := range details {
		fields = append(fields, d.(map[string]any)["field"].(string))
	}
	return e["code"].(string), fields
}

// newOrdersWorld starts the stack with an organisation named name and
// its partner's seed-003 client (the partner token and X-Entity-Id).
func newOrdersWorld(t *testing.T, name string) (w *world, partner, org string, o orders) {
	w = newWorld(t)
	partner = w.token("ptn-1-client", partnerSecret)
	org = w.createOrg(partner, orgBody(name))
	return w, partner, org, orders{w: w, header: bearer(partner, "X-Entity-Id", org)}
}

// orgClient creates an API client of org (body: its role, name,
// portfolio_ids) and returns it as a seed-003 client with its own token.
func orgClient(t *testing.T, w *world, partner, org, body string) orders {
	t.Helper()
	c := w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/api_clients", path: "/v1/organizations/" + org + "/api_clients",
		header: bearer(partner), body: body, status: 201}).json(t)
	return orders{w: w, header: bearer(w.token(c["client_id"].(string), c["client_secret"].(string)))}
}

// retryBusy sends a request again, a few times, while it answers 503 (the
// API's "too many changes at once; retry", which writes nothing).
func retryBusy(send func() answer) answer {
	a := send()
	for i := 0; i < 5 && a.status == http.StatusServiceUnavailable; i++ {
		time.Sleep(time.Duration(100*(i+1)) * time.Millisecond)
		a = send()
	}
	return a
}

// newFundedOrder makes, for the tenancy table, a portfolio funded with
// 1 000.00 EUR and a PENDING order of 12.50 of it.
func newFundedOrder(t *testing.T, w *world, partnerToken, org string) (portfolio, order string) {
	t.Helper()
	o := orders{w: w, header: bearer(partnerToken, "X-Entity-Id", org)}
	portfolio = o.portfolio(t, `{"name":"Crédit PME","currency":"EUR"}`, "1000.00")
	return portfolio, data(t, o.create(orderBody(portfolio, "12.50"), 201))["id"].(string)
}

// TestPaymentOrdersReplayTheSeed replays every sample request of seed 003
// against a CDF portfolio and compares each answer with the sample's shape,
// then follows the order to COMPLETED and checks the funds and the trail.
func TestPaymentOrdersReplayTheSeed(t *testing.T) {
	w, _, _, o := newOrdersWorld(t, "Wanzo Portfolio")
	pf := o.portfolio(t, `{"name":"Crédit PME Kinshasa","currency":"CDF","fundingTypes":["CREDIT","LEASING"]}`, "20000000.00")

	created := o.create(fmt.Sprintf(seedOrderCreate, pf), 201)
	checkShape(t, "POST /payments", seedOrderCreated, created)
	for _, exact := range []string{`"amount":7500000.00`, `"status":"PENDING"`, `"executionDate":"2025-11-12T09:00:00.000Z"`} {
		if !strings.Contains(string(created.body), exact) {
			t.Errorf("the created order does not read %s: %s", exact, created.body)
		}
	}
	d := data(t, created)
	id, year := d["id"].(string), time.Now().UTC().Year()
	if want := fmt.Sprintf("PAY-%d-001", year); d["reference"] != want {
		t.Errorf("reference %v, want %s", d["reference"], want)
	}
	if cb := d["createdBy"].(map[string]any); cb["id"] != "ptn-1-client" || cb["name"] == "" {
		t.Errorf("createdBy %v, want the partner's client with its name", cb)
	}

	updated := o.update(id, seedOrderUpdate, 200)
	checkShape(t, "PUT /payments/{id}", seedOrderUpdated, updated)
	if !strings.Contains(string(updated.body), `"amount":8000000.00`) {
		t.Errorf("the update does not read 8000000.00: %s", updated.body)
	}
	// Partial<Beneficiary>: the address is added, the rest kept.
	b := data(t, o.update(id, `{"beneficiary":{"address":"123 Avenue de la République, Kinshasa"}}`, 200))["beneficiary"].(map[string]any)
	if b["address"] != "123 Avenue de la République, Kinshasa" || b["name"] != "DEF Industries" || b["bankCode"] != "BDC003" {
		t.Errorf("beneficiary after a partial update: %v", b)
	}
	st := o.setStatus(id, "PROCESSING", "Validation effectuée, envoi vers la banque", 200)
	checkShape(t, "PUT /payments/{id}/status", seedStatusUpdated, st)
	if sd := data(t, st); sd["previousStatus"] != "PENDING" || sd["status"] != "PROCESSING" {
		t.Errorf("status answer %v", sd)
	}
	if f := o.funds(t, pf); f["availableFunds"] != 12000000.0 || f["reservedFunds"] != 8000000.0 {
		t.Errorf("after approval: available %v reserved %v, want 12000000 and 8000000", f["availableFunds"], f["reservedFunds"])
	}
	o.setStatus(id, "COMPLETED", "Payment confirmed by bank", 200)
	detail := o.get(id, 200)
	checkShape(t, "GET /payments/{id}", seedOrderDetail, detail)
	dd := data(t, detail)
	if h := dd["statusHistory"].([]any); len(h) != 3 {
		t.Errorf("statusHistory has %d entries, want 3 (created, approved, completed): %v", len(h), h)
	}
	if dd["processedAt"] == nil || dd["completedAt"] == nil {
		t.Errorf("processedAt/completedAt not set: %v", dd)
	}
	if f := o.funds(t, pf); f["availableFunds"] != 12000000.0 || f["reservedFunds"] != 0.0 || f["spentFunds"] != 8000000.0 || f["totalFunded"] != 20000000.0 {
		t.Errorf("after completion: %v", f)
	}
	list := w.do(exchange{method: "GET", route: "/v1/payments", query: "status=COMPLETED&fundingType=CREDIT", header: o.h(), status: 200})
	checkShape(t, "GET /payments", seedOrderList, list)
	if meta := list.json(t)["meta"].(map[string]any); meta["total"] != 1.0 || meta["page"] != 1.0 || meta["limit"] != 10.0 || meta["totalPages"] != 1.0 {
		t.Errorf("meta %v", meta)
	}

	second := data(t, o.create(fmt.Sprintf(seedOrderCreate, pf), 201))["id"].(string)
	checkShape(t, "DELETE /payments/{id}", seedOrderDeleted, o.remove(second, 200))
	if code, _ := familyError(t, o.get(second, 404)); code != "PAYMENT_ORDER_NOT_FOUND" {
		t.Errorf("a deleted order: %s", code)
	}
	if ids, meta := o.list(t, ""); len(ids) != 1 || meta["total"] != 1.0 {
		t.Errorf("after the deletion the list holds %v (total %v), want the completed order only", ids, meta["total"])
	}

	// The trail holds every change of the order, the deleted one's too.
	w.waitDrained(t, 60*time.Second, "AuditQueue", "AuditDLQ")
	for _, rid := range []string{id, second} {
		trail := w.do(exchange{method: "GET", route: "/v1/audit_logs", query: "resource_id=" + rid, header: o.h(), status: 200}).json(t)
		var actions []string
		for _, e := range trail["data"].([]any) {
			actions = append(actions, e.(map[string]any)["action"].(string))
		}
		slices.Sort(actions)
		want := []string{"created", "status_changed", "status_changed", "updated", "updated"}
		if rid == second {
			want = []string{"created", "deleted"}
		}
		if !slices.Equal(actions, want) {
			t.Errorf("audit trail of %s: %v, want %v", rid, actions, want)
		}
	}
}

// TestPaymentOrderErrors produces every code of seed 003's table, each in
// the family's shape, naming the field, and checks nothing was written.
func TestPaymentOrderErrors(t *testing.T) {
	w, _, org, o := newOrdersWorld(t, "Errors")
	pf := o.portfolio(t, `{"name":"EUR","currency":"EUR","fundingTypes":["CREDIT"]}`, "100.00")
	cdf := o.portfolio(t, `{"name":"CDF","currency":"CDF"}`, "")
	xaf := o.portfolio(t, `{"name":"XAF","currency":"XAF"}`, "1000")
	with := func(portfolio string, edit func(m map[string]any)) string {
		var m map[string]any
		_ = json.Unmarshal([]byte(orderBody(portfolio, "10.00")), &m)
		edit(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	raw := func(portfolio, amount string) string { return orderBody(portfolio, amount) }
	for _, c := range []struct {
		name   string
		body   string
		status int
		code   string
		field  string
	}{
		{"zero", raw(pf, "0"), 400, "INVALID_AMOUNT", "amount"},
		{"negative", raw(pf, "-5.00"), 400, "INVALID_AMOUNT", "amount"},
		{"three decimals in EUR", raw(pf, "10.001"), 400, "INVALID_AMOUNT", "amount"},
		{"decimals in XAF", with(xaf, func(m map[string]any) { m["currency"], m["amount"] = "XAF", json.Number("10.5") }), 400, "INVALID_AMOUNT", "amount"},
		{"huge", raw(pf, "1e30"), 400, "INVALID_AMOUNT", "amount"},
		{"a string", raw(pf, `"10.00"`), 400, "INVALID_AMOUNT", "amount"},
		{"unknown currency", with(pf, func(m map[string]any) { m["currency"] = "ZZZ" }), 400, "INVALID_PAYMENT_DATA", "currency"},
		{"unknown funding type", with(pf, func(m map[string]any) { m["fundingType"] = "GRANT" }), 400, "INVALID_PAYMENT_DATA", "fundingType"},
		{"no beneficiary name", with(pf, func(m map[string]any) { delete(m["beneficiary"].(map[string]any), "name") }), 400, "INVALID_PAYMENT_DATA", "beneficiary.name"},
		{"no beneficiary", with(pf, func(m map[string]any) { delete(m, "beneficiary") }), 400, "INVALID_PAYMENT_DATA", "beneficiary"},
		{"malformed date", with(pf, func(m map[string]any) { m["executionDate"] = "12/11/2025" }), 400, "INVALID_PAYMENT_DATA", "executionDate"},
		{"unknown field", with(pf, func(m map[string]any) { m["priority"] = "HIGH" }), 400, "INVALID_PAYMENT_DATA", "priority"},
		{"another currency than the portfolio's", with(cdf, func(m map[string]any) {}), 400, "INVALID_PAYMENT_DATA", "currency"},
		{"a funding type the portfolio does not finance", with(pf, func(m map[string]any) { m["fundingType"] = "LEASING" }), 400, "INVALID_PAYMENT_DATA", "fundingType"},
		{"a generated-looking reference", with(pf, func(m map[string]any) { m["reference"] = "PAY-2031-001" }), 400, "INVALID_PAYMENT_DATA", "reference"},
		{"no such portfolio", with("portfolio-01900000-0000-7000-8000-000000000000", func(m map[string]any) {}), 404, "PORTFOLIO_NOT_FOUND", "portfolioId"},
		{"above the available funds", raw(pf, "100.01"), 422, "INSUFFICIENT_FUNDS", "amount"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, fields := familyError(t, o.create(c.body, c.status))
			if code != c.code || !slices.Contains(fields, c.field) {
				t.Errorf("code %s fields %v, want %s naming %s", code, fields, c.code, c.field)
			}
		})
	}
	if ids, meta := o.list(t, ""); len(ids) != 0 || meta["total"] != 0.0 {
		t.Fatalf("refused creations wrote orders: %v", ids)
	}

	ref := with(pf, func(m map[string]any) { m["reference"] = "LOAN-77/1" })
	first := data(t, o.create(ref, 201))["id"].(string)
	if code, fields := familyError(t, o.create(ref, 409)); code != "PAYMENT_REFERENCE_EXISTS" || !slices.Contains(fields, "reference") {
		t.Errorf("a duplicate reference: %s %v", code, fields)
	}
	if code, _ := familyError(t, o.setStatus(first, "COMPLETED", "", 400)); code != "INVALID_STATUS_TRANSITION" {
		t.Errorf("PENDING → COMPLETED: %s", code)
	}
	if code, fields := familyError(t, o.setStatus(first, "SHIPPED", "", 400)); code != "INVALID_PAYMENT_DATA" || !slices.Contains(fields, "status") {
		t.Errorf("an unknown status: %s %v", code, fields)
	}
	if code, fields := familyError(t, o.update(first, `{"amount":1000.00}`, 422)); code != "INSUFFICIENT_FUNDS" || !slices.Contains(fields, "amount") {
		t.Errorf("an update above the funds: %s %v", code, fields)
	}
	if code, _ := familyError(t, o.update(first, `{}`, 400)); code != "INVALID_PAYMENT_DATA" {
		t.Errorf("an empty update: %s", code)
	}
	// A second order fits the funds at creation but not once the first is
	// approved: its approval is refused and changes nothing.
	second := data(t, o.create(raw(pf, "95.00"), 201))["id"].(string)
	o.setStatus(first, "PROCESSING", "", 200)
	if code, _ := familyError(t, o.update(first, `{"description":"late"}`, 400)); code != "PAYMENT_NOT_MODIFIABLE" {
		t.Errorf("updating a PROCESSING order: %s", code)
	}
	if code, _ := familyError(t, o.remove(first, 400)); code != "PAYMENT_NOT_MODIFIABLE" {
		t.Errorf("deleting a PROCESSING order: %s", code)
	}
	if code, _ := familyError(t, o.setStatus(first, "PENDING", "", 400)); code != "INVALID_STATUS_TRANSITION" {
		t.Errorf("PROCESSING → PENDING: %s", code)
	}
	if code, _ := familyError(t, o.get("payment-01900000-0000-7000-8000-000000000000", 404)); code != "PAYMENT_ORDER_NOT_FOUND" {
		t.Errorf("a missing order: %s", code)
	}
	before := o.funds(t, pf)
	if code, _ := familyError(t, o.setStatus(second, "PROCESSING", "", 422)); code != "INSUFFICIENT_FUNDS" {
		t.Errorf("approving above the funds: %s", code)
	}
	if after := o.funds(t, pf); after["availableFunds"] != before["availableFunds"] || after["reservedFunds"] != before["reservedFunds"] {
		t.Errorf("a refused approval moved funds: %v → %v", before, after)
	}
	if s := data(t, o.get(second, 200))["status"]; s != "PENDING" {
		t.Errorf("a refused approval left the order %v", s)
	}
	// It no longer fits, but only a raised amount is checked against the
	// funds: its other fields stay editable, a higher amount does not.
	o.update(second, `{"description":"en attente de fonds"}`, 200)
	o.update(second, `{"amount":94.00}`, 200)
	if code, _ := familyError(t, o.update(second, `{"amount":94.01}`, 422)); code != "INSUFFICIENT_FUNDS" {
		t.Errorf("raising an amount above the funds: %s", code)
	}
	// The platform's own errors in this family's shape: no token, a bad
	// query parameter, a body that is not JSON.
	noToken := w.do(exchange{method: "GET", route: "/v1/payments", header: map[string]string{"X-Entity-Id": org}, status: 401})
	if code, _ := familyError(t, noToken); code != "UNAUTHORIZED" || noToken.header.Get("WWW-Authenticate") == "" {
		t.Errorf("no token: %s %v", code, noToken.header)
	}
	for _, q := range []string{"limit=101", "page=0", "status=DONE", "fundingType=GRANT", "sort=amount"} {
		a := w.do(exchange{method: "GET", route: "/v1/payments", query: q, header: o.h(), status: 400})
		if code, fields := familyError(t, a); code != "INVALID_PAYMENT_DATA" || len(fields) != 1 || !strings.HasPrefix(q, fields[0]+"=") {
			t.Errorf("?%s: %s %v", q, code, fields)
		}
	}
	for _, a := range []answer{
		w.do(exchange{method: "GET", route: "/v1/payments", header: o.h("X-Entity-Id", "org-01900000-0000-7000-8000-000000000000"), status: 404}),
		w.do(exchange{method: "POST", route: "/v1/portfolios", header: o.h("X-Entity-Id", "org-01900000-0000-7000-8000-000000000000"),
			body: `{"name":"Nowhere","currency":"EUR"}`, status: 404}),
	} {
		if code, _ := familyError(t, a); code != "ORGANIZATION_NOT_FOUND" {
			t.Errorf("an organization that does not exist: %s", code)
		}
	}
	if code, _ := familyError(t, o.create(`{"amount":`, 400)); code != "INVALID_PAYMENT_DATA" {
		t.Errorf("malformed JSON: %s", code)
	}
	if code, fields := familyError(t, w.do(exchange{method: "POST", route: "/v1/portfolios/{portfolio_id}/fundings", path: "/v1/portfolios/" + pf + "/fundings",
		header: o.h(), body: `{"amount":0}`, status: 400})); code != "INVALID_AMOUNT" || !slices.Contains(fields, "amount") {
		t.Errorf("a zero funding: %s %v", code, fields)
	}
	if code, _ := familyError(t, w.do(exchange{method: "PATCH", route: "/v1/portfolios/{portfolio_id}", path: "/v1/portfolios/" + pf,
		header: o.h(), body: `{"currency":"USD"}`, status: 400})); code != "INVALID_PORTFOLIO_DATA" {
		t.Errorf("changing a portfolio's currency: %s", code)
	}
}

// TestPaymentOrderRoles follows seed 003's matrix cell by cell with
// organisation tokens, and a portfolio manager limited to one portfolio.
func TestPaymentOrderRoles(t *testing.T) {
	w, partner, org, admin := newOrdersWorld(t, "Roles")
	mine := admin.portfolio(t, `{"name":"Mine","currency":"EUR"}`, "1000.00")
	other := admin.portfolio(t, `{"name":"Other","currency":"EUR"}`, "1000.00")
	otherOrder := data(t, admin.create(orderBody(other, "10.00"), 201))["id"].(string)
	client := func(role string, extra string) orders {
		return orgClient(t, w, partner, org, `{"role":"`+role+`","name":"`+role+` client"`+extra+`}`)
	}
	finance, pm, limited, analyst := client("finance_manager", ""), client("portfolio_manager", ""), client("portfolio_manager", `,"portfolio_ids":["`+mine+`"]`), client("analyst", "")

	// Create: admin, finance, portfolio managers; not an analyst.
	if code, _ := familyError(t, analyst.create(orderBody(mine, "10.00"), 403)); code != "FORBIDDEN" {
		t.Errorf("an analyst creating: %s", code)
	}
	byPM := data(t, pm.create(orderBody(other, "10.00"), 201))
	if byPM["createdBy"].(map[string]any)["name"] != "portfolio_manager client" {
		t.Errorf("createdBy %v, want the API client's name", byPM["createdBy"])
	}
	byLimited := data(t, limited.create(orderBody(mine, "10.00"), 201))["id"].(string)
	if code, fields := familyError(t, limited.create(orderBody(other, "10.00"), 404)); code != "PORTFOLIO_NOT_FOUND" || !slices.Contains(fields, "portfolioId") {
		t.Errorf("a limited portfolio manager creating in another portfolio: %s %v", code, fields)
	}
	// Read: everyone; a limited portfolio manager its portfolio's only.
	analyst.get(otherOrder, 200)
	if code, _ := familyError(t, limited.get(otherOrder, 404)); code != "PAYMENT_ORDER_NOT_FOUND" {
		t.Errorf("a limited portfolio manager reading another portfolio's order: %s", code)
	}
	if ids, meta := limited.list(t, ""); !slices.Equal(ids, []string{byLimited}) || meta["total"] != 1.0 {
		t.Errorf("a limited portfolio manager lists %v (total %v), want its portfolio's order only", ids, meta["total"])
	}
	if ids, _ := limited.list(t, "portfolioId="+other); len(ids) != 0 {
		t.Errorf("a limited portfolio manager filtering on another portfolio lists %v", ids)
	}
	ps := w.do(exchange{method: "GET", route: "/v1/portfolios", header: limited.h(), status: 200}).json(t)["data"].([]any)
	if len(ps) != 1 || ps[0].(map[string]any)["id"] != mine {
		t.Errorf("a limited portfolio manager sees portfolios %v", ps)
	}
	managers := admin.funds(t, mine)["managers"]
	if ms, _ := managers.([]any); len(ms) != 1 || ms[0].(map[string]any)["name"] != "portfolio_manager client" {
		t.Errorf("the portfolio's managers: %v", managers)
	}
	// Update: portfolio managers (their portfolios), not analysts.
	limited.update(byLimited, `{"description":"ajusté"}`, 200)
	if code, _ := familyError(t, limited.update(otherOrder, `{"description":"x"}`, 404)); code != "PAYMENT_ORDER_NOT_FOUND" {
		t.Errorf("a limited portfolio manager updating another portfolio's order: %s", code)
	}
	if code, _ := familyError(t, analyst.update(otherOrder, `{"description":"x"}`, 403)); code != "FORBIDDEN" {
		t.Errorf("an analyst updating: %s", code)
	}
	// Approve, cancel, delete: the finance roles only.
	for _, c := range []struct {
		who  orders
		name string
	}{{pm, "portfolio manager"}, {limited, "limited portfolio manager"}, {analyst, "analyst"}} {
		if code, _ := familyError(t, c.who.setStatus(byLimited, "PROCESSING", "", 403)); code != "FORBIDDEN" {
			t.Errorf("a %s approving: %s", c.name, code)
		}
		if code, _ := familyError(t, c.who.setStatus(byLimited, "CANCELLED", "", 403)); code != "FORBIDDEN" {
			t.Errorf("a %s cancelling: %s", c.name, code)
		}
		if code, _ := familyError(t, c.who.remove(byLimited, 403)); code != "FORBIDDEN" {
			t.Errorf("a %s deleting: %s", c.name, code)
		}
		if code, _ := familyError(t, w.do(exchange{method: "POST", route: "/v1/portfolios/{portfolio_id}/fundings", path: "/v1/portfolios/" + mine + "/fundings",
			header: c.who.h(), body: `{"amount":1.00}`, status: 403})); code != "FORBIDDEN" {
			t.Errorf("a %s funding: %s", c.name, code)
		}
	}
	if s := data(t, admin.get(byLimited, 200))["status"]; s != "PENDING" {
		t.Fatalf("refused transitions moved the order to %v", s)
	}
	finance.setStatus(byLimited, "PROCESSING", "", 200)
	finance.setStatus(byLimited, "FAILED", "Rejet banque", 200)
	finance.setStatus(byLimited, "PENDING", "Nouvel essai", 200)
	finance.setStatus(byLimited, "CANCELLED", "", 200)
	finance.remove(data(t, finance.create(orderBody(mine, "1.00"), 201))["id"].(string), 200)
	hist := data(t, admin.get(byLimited, 200))["statusHistory"].([]any)
	var seq []string
	for _, h := range hist {
		seq = append(seq, h.(map[string]any)["status"].(string))
	}
	if want := []string{"PENDING", "PROCESSING", "FAILED", "PENDING", "CANCELLED"}; !slices.Equal(seq, want) {
		t.Errorf("statusHistory %v, want %v", seq, want)
	}
	if f := admin.funds(t, mine); f["availableFunds"] != 1000.0 || f["reservedFunds"] != 0.0 {
		t.Errorf("after fail, retry and cancel the funds are %v", f)
	}
}

// TestConcurrentApprovalsNeverOverdraw approves many orders at once whose
// sum exceeds the portfolio: exactly as many as fit succeed, the others are
// INSUFFICIENT_FUNDS, and the funds add up.
func TestConcurrentApprovalsNeverOverdraw(t *testing.T) {
	_, _, _, o := newOrdersWorld(t, "Race")
	pf := o.portfolio(t, `{"name":"Race","currency":"EUR"}`, "100.00")
	const n = 12
	ids := make([]string, n)
	for i := range ids {
		ids[i] = data(t, o.create(orderBody(pf, "30.00"), 201))["id"].(string)
	}
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = retryBusy(func() answer { return o.setStatus(id, "PROCESSING", "", -1) }).status
		}()
	}
	wg.Wait()
	ok, refused := 0, 0
	for _, s := range statuses {
		switch s {
		case http.StatusOK:
			ok++
		case http.StatusUnprocessableEntity:
			refused++
		default:
			t.Errorf("an approval answered %d", s)
		}
	}
	if ok != 3 || refused != n-3 {
		t.Errorf("%d approvals succeeded and %d were refused, want 3 and %d", ok, refused, n-3)
	}
	if f := o.funds(t, pf); f["availableFunds"] != 10.0 || f["reservedFunds"] != 90.0 {
		t.Errorf("funds after the race: %v", f)
	}
	if _, meta := o.list(t, "status=PROCESSING"); meta["total"] != 3.0 {
		t.Errorf("PROCESSING total %v, want 3", meta["total"])
	}
}

// TestOrderReferencesHaveNoGaps creates orders concurrently: their
// references are PAY-YYYY-001… without a gap or a duplicate. Each client
// does what the API asks of a 503 ("too many changes at once; retry"): it
// sends the same request again with the same Idempotency-Key; every order
// must then exist once, and a refused attempt must not have used a number.
func TestOrderReferencesHaveNoGaps(t *testing.T) {
	w, _, _, o := newOrdersWorld(t, "Refs")
	pf := o.portfolio(t, `{"name":"Refs","currency":"EUR"}`, "1000.00")
	const n = 16
	refs := make([]string, n)
	var wg sync.WaitGroup
	for i := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := retryBusy(func() answer {
				return w.do(exchange{method: "POST", route: "/v1/payments", header: o.h("Idempotency-Key", fmt.Sprintf("ref-%d", i)),
					body: orderBody(pf, "1.00"), status: -1})
			})
			if a.status != 201 {
				t.Errorf("creation %d: %d %s", i, a.status, a.body)
				return
			}
			refs[i] = data(t, a)["reference"].(string)
		}()
	}
	wg.Wait()
	slices.Sort(refs)
	year := time.Now().UTC().Year()
	for i, r := range refs {
		if want := fmt.Sprintf("PAY-%d-%03d", year, i+1); r != want {
			t.Errorf("reference %d is %q, want %s (all: %v)", i, r, want, refs)
		}
	}
	if ids, meta := o.list(t, "limit=5&page=4"); len(ids) != 1 || meta["total"] != float64(n) || meta["totalPages"] != 4.0 {
		t.Errorf("page 4 of 5: %v, meta %v", ids, meta)
	}
	re := regexp.MustCompile(`^PAY-\d{4}-\d{3,}$`)
	for _, r := range refs {
		if !re.MatchString(r) {
			t.Errorf("reference %q", r)
		}
	}
}

// TestMakerChecker: a portfolio that requires the approver not to be the
// creator, and two distinct approvals above 50.00.
func TestMakerChecker(t *testing.T) {
	w, partner, org, admin := newOrdersWorld(t, "Checker")
	pf := admin.portfolio(t, `{"name":"Checked","currency":"EUR","approvalPolicy":{"distinctApprover":true,"dualApprovalAbove":50.00}}`, "1000.00")
	client := func(role string) orders { return orgClient(t, w, partner, org, `{"role":"`+role+`"}`) }
	maker, checker1, checker2 := client("finance_manager"), client("finance_manager"), client("admin")

	small := data(t, maker.create(orderBody(pf, "50.00"), 201))["id"].(string)
	if code, _ := familyError(t, maker.setStatus(small, "PROCESSING", "", 403)); code != "APPROVER_IS_CREATOR" {
		t.Errorf("the maker approving its own order: %s", code)
	}
	if d := data(t, checker1.setStatus(small, "PROCESSING", "", 200)); d["status"] != "PROCESSING" {
		t.Errorf("one approval at the threshold: %v", d)
	}

	big := data(t, maker.create(orderBody(pf, "50.01"), 201))["id"].(string)
	first := data(t, checker1.setStatus(big, "PROCESSING", "ok 1", 200))
	if first["status"] != "PENDING" || first["approvals"] != 1.0 || first["approvalsRequired"] != 2.0 {
		t.Errorf("the first of two approvals: %v", first)
	}
	if f := admin.funds(t, pf); f["reservedFunds"] != 50.0 {
		t.Errorf("a first approval reserved funds: %v", f["reservedFunds"])
	}
	if code, _ := familyError(t, checker1.setStatus(big, "PROCESSING", "", 403)); code != "ALREADY_APPROVED" {
		t.Errorf("the same approver twice: %s", code)
	}
	second := data(t, checker2.setStatus(big, "PROCESSING", "ok 2", 200))
	if second["status"] != "PROCESSING" || second["previousStatus"] != "PENDING" {
		t.Errorf("the second approval: %v", second)
	}
	d := data(t, admin.get(big, 200))
	if a, _ := d["approvals"].([]any); len(a) != 2 {
		t.Errorf("approvals %v", d["approvals"])
	}
	if h := d["statusHistory"].([]any); len(h) != 3 {
		t.Errorf("statusHistory %v, want created, approval 1 of 2, PROCESSING", h)
	}
	if f := admin.funds(t, pf); f["reservedFunds"] != 100.01 || f["availableFunds"] != 899.99 {
		t.Errorf("funds after both approvals: %v", f)
	}
	// Changing an approved-once order withdraws its approval.
	third := data(t, maker.create(orderBody(pf, "60.00"), 201))["id"].(string)
	checker1.setStatus(third, "PROCESSING", "", 200)
	maker.update(third, `{"amount":61.00}`, 200)
	if d := data(t, checker2.setStatus(third, "PROCESSING", "", 200)); d["status"] != "PENDING" || d["approvals"] != 1.0 {
		t.Errorf("after an update the approvals start over: %v", d)
	}
}

// TestPaymentOrderIdempotency: a creation or a funding retried with its
// Idempotency-Key is answered again, not done again — no second order, no
// reference used up, no money added twice.
func TestPaymentOrderIdempotency(t *testing.T) {
	w, _, _, o := newOrdersWorld(t, "Retries")
	pf := o.portfolio(t, `{"name":"Retries","currency":"EUR"}`, "")
	fund := func() answer {
		return w.do(exchange{method: "POST", route: "/v1/portfolios/{portfolio_id}/fundings", path: "/v1/portfolios/" + pf + "/fundings",
			header: o.h("Idempotency-Key", "fund-1"), body: `{"amount":250.00}`, status: 201})
	}
	first, again := fund(), fund()
	if data(t, first)["id"] != data(t, again)["id"] || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("a retried funding was not replayed: %s / %s", first.body, again.body)
	}
	if f := o.funds(t, pf); f["availableFunds"] != 250.0 || f["totalFunded"] != 250.0 {
		t.Errorf("after a retried funding: %v", f)
	}
	create := func() answer {
		return w.do(exchange{method: "POST", route: "/v1/payments", header: o.h("Idempotency-Key", "order-1"), body: orderBody(pf, "10.00"), status: 201})
	}
	a, b := data(t, create()), data(t, create())
	if a["id"] != b["id"] || a["reference"] != b["reference"] {
		t.Errorf("a retried creation made another order: %v / %v", a["id"], b["id"])
	}
	next := data(t, o.create(orderBody(pf, "10.00"), 201))
	if want := fmt.Sprintf("PAY-%d-002", time.Now().UTC().Year()); next["reference"] != want {
		t.Errorf("the next order is %v, want %s: the replay used up a reference", next["reference"], want)
	}
	if _, meta := o.list(t, ""); meta["total"] != 2.0 {
		t.Errorf("total %v, want 2", meta["total"])
	}
	// The same key with another body is refused in the family's shape.
	if code, _ := familyError(t, w.do(exchange{method: "POST", route: "/v1/payments", header: o.h("Idempotency-Key", "order-1"),
		body: orderBody(pf, "11.00"), status: 422})); code != "IDEMPOTENCY_KEY_REUSED" {
		t.Errorf("a reused key: %s", code)
	}
}

// TestFundsAndCountsHoldUnderMixedConcurrency runs every kind of change
// at once on the orders of one portfolio — approvals, the bank's answers,
// retries, cancellations, deletions, amount changes — then reads the orders
// back: the portfolio's reserved and spent funds are exactly the sums of
// its PROCESSING and COMPLETED orders, nothing was created or lost, every
// list total is the number of orders it lists, and no request answered 5xx.
func TestFundsAndCountsHoldUnderMixedConcurrency(t *testing.T) {
	w, _, _, o := newOrdersWorld(t, "Mixed")
	pf := o.portfolio(t, `{"name":"Mixed","currency":"EUR","fundingTypes":["CREDIT","LEASING"]}`, "1000.00")
	const orders, workers, steps = 24, 8, 30
	ids := make([]string, orders)
	for i := range ids {
		body := orderBody(pf, fmt.Sprintf("%d.%02d", 10+i*3, i))
		if i%3 == 0 {
			body = strings.Replace(body, `"CREDIT"`, `"LEASING"`, 1)
		}
		ids[i] = data(t, o.create(body, 201))["id"].(string)
	}
	var mu sync.Mutex
	var fivexx []string
	var wg sync.WaitGroup
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range steps {
				id := ids[(g*7+s*5)%orders]
				op := func() answer {
					switch (g + s) % 7 {
					case 0, 1:
						return o.setStatus(id, "PROCESSING", "", -1)
					case 2:
						return o.setStatus(id, "COMPLETED", "", -1)
					case 3:
						return o.setStatus(id, "FAILED", "", -1)
					case 4:
						return o.setStatus(id, "PENDING", "", -1)
					case 5:
						if s%2 == 0 {
							return o.setStatus(id, "CANCELLED", "", -1)
						}
						return o.remove(id, -1)
					case 6:
						return o.update(id, fmt.Sprintf(`{"amount":%d.50}`, 20+s), -1)
					}
					return answer{}
				}
				a := retryBusy(op)
				if a.status >= 500 {
					mu.Lock()
					fivexx = append(fivexx, fmt.Sprintf("%d %s", a.status, a.body))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	for _, f := range fivexx {
		t.Errorf("a request answered %s", f)
	}
	cents := func(v any) int64 {
		s := fmt.Sprint(v)
		whole, frac, _ := strings.Cut(s, ".")
		frac = (frac + "00")[:2]
		var c int64
		if _, err := fmt.Sscan(whole+frac, &c); err != nil {
			t.Fatalf("amount %q: %v", s, err)
		}
		return c
	}
	read := func(query string) (list []map[string]any, total float64) {
		m := w.do(exchange{method: "GET", route: "/v1/payments", query: query, header: o.h(), status: 200}).json(t)
		for _, x := range m["data"].([]any) {
			list = append(list, x.(map[string]any))
		}
		return list, m["meta"].(map[string]any)["total"].(float64)
	}
	all, total := read("limit=100")
	if int(total) != len(all) || len(all) > orders {
		t.Fatalf("the list holds %d orders and says %v; %d were created", len(all), total, orders)
	}
	var reserved, spent int64
	byStatus := map[string]int{}
	for _, x := range all {
		byStatus[x["status"].(string)]++
		switch x["status"] {
		case "PROCESSING":
			reserved += cents(x["amount"])
		case "COMPLETED":
			spent += cents(x["amount"])
		}
	}
	for _, st := range []string{"PENDING", "PROCESSING", "COMPLETED", "FAILED", "CANCELLED"} {
		if l, n := read("limit=100&status=" + st); len(l) != byStatus[st] || int(n) != byStatus[st] {
			t.Errorf("status %s: %d listed, total %v, %d in the full list", st, len(l), n, byStatus[st])
		}
	}
	f := o.funds(t, pf)
	if cents(f["reservedFunds"]) != reserved || cents(f["spentFunds"]) != spent ||
		cents(f["availableFunds"]) != 100000-reserved-spent || cents(f["totalFunded"]) != 100000 {
		t.Errorf("portfolio %v; the orders say reserved %d, spent %d (cents)", f, reserved, spent)
	}
	t.Logf("after the run: %v", byStatus)
}
