package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// measurePaymentOrders measures seed 003's routes on one funded portfolio:
// creations, reads, lists with and without filters, approvals.
func measurePaymentOrders(c *client, token, orgID string, n int) ([]row, error) {
	var portfolios, orders []string
	if _, err := c.measure(scenario{name: "setup: POST /v1/portfolios", budget: budget{1, 0}, req: func(int) request {
		return request{method: "POST", path: "/v1/portfolios", token: token, entity: orgID, collect: &portfolios,
			body: `{"name":"Crédit PME","currency":"EUR","fundingTypes":["CREDIT","LEASING"]}`}
	}}, 1); err != nil || len(portfolios) == 0 {
		return nil, fmt.Errorf("POST /v1/portfolios: %v", err)
	}
	pf := portfolios[0]
	order := func(i int) string {
		return fmt.Sprintf(`{"fundingType":"CREDIT","amount":%d.00,"currency":"EUR","portfolioId":"%s","contractReference":"CONT-%d",`+
			`"beneficiary":{"name":"Atelier Durand","accountNumber":"FR7630006000011234567890189","bankName":"Banque Test","bankCode":"AGRIFRPP"},`+
			`"paymentMethod":"BANK_TRANSFER","executionDate":"2030-01-02T09:00:00.000Z"}`, 10+i%90, pf, i%20)
	}
	var rows []row
	for _, s := range []scenario{
		// One read (the portfolio) and one transaction (portfolio, funding,
		// event); then the portfolio as it is after, read consistently.
		{name: "POST /v1/portfolios/{portfolio_id}/fundings", budget: budget{3, 0}, req: func(i int) request {
			return request{method: "POST", path: "/v1/portfolios/" + pf + "/fundings", token: token, entity: orgID, body: `{"amount":100000.00}`}
		}},
		// One BatchGetItem (portfolio, reference counter, calling client) and
		// one transaction (counter, order, three index items, portfolio, event).
		{name: "POST /v1/payments", budget: budget{2, 0}, req: func(i int) request {
			return request{method: "POST", path: "/v1/payments", token: token, entity: orgID, body: order(i), collect: &orders}
		}},
		{name: "GET /v1/payments/{payment_id}", budget: budget{1, 0}, req: func(i int) request {
			return request{method: "GET", path: "/v1/payments/" + orders[i%len(orders)], token: token, entity: orgID}
		}},
		// The page (GSI1) and the portfolios whose counts make total.
		{name: "GET /v1/payments", budget: budget{2, 0}, req: func(int) request {
			return request{method: "GET", path: "/v1/payments", token: token, entity: orgID}
		}},
		{name: "GET /v1/payments?status=PENDING", budget: budget{2, 0}, req: func(int) request {
			return request{method: "GET", path: "/v1/payments?status=PENDING", token: token, entity: orgID}
		}},
		// The portfolio's index partition, the page's orders (BatchGetItem),
		// the portfolio's counts.
		{name: "GET /v1/payments?portfolioId=", budget: budget{3, 0}, req: func(int) request {
			return request{method: "GET", path: "/v1/payments?portfolioId=" + pf, token: token, entity: orgID}
		}},
		// The order, the portfolio (its approval policy) and one transaction
		// (order, portfolio funds and counts, event).
		{name: "PUT /v1/payments/{payment_id}/status (approve)", budget: budget{3, 0}, req: func(i int) request {
			return request{method: "PUT", path: "/v1/payments/" + orders[i%len(orders)] + "/status", token: token, entity: orgID, body: `{"status":"PROCESSING"}`}
		}},
	} {
		r, err := c.measure(s, n)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// executeOnce runs one order paid through the sandbox bank: approval, the
// poller's payout with its authorisation, the account holder's consent,
// the bank's answer. It returns the time from the approval's 200 to the
// order showing its authorizationUrl (event router, poll queue, poller,
// Aiia payout and authorisation created, one transaction), and from the
// consent to COMPLETED (the poller's next scheduled read — 2 s after the
// first — Aiia's status, the completion transaction).
func (c *client) executeOnce(token, orgID, portfolioID string, i int) (toAuthorization, toCompleted time.Duration, err error) {
	r, err := c.do(request{method: "POST", path: "/v1/payments", token: token, entity: orgID, body: fmt.Sprintf(
		`{"fundingType":"CREDIT","amount":%d.00,"currency":"EUR","portfolioId":"%s","beneficiary":{"name":"SARL Les Vergers",`+
			`"accountNumber":"FR7612345678901234567890123","bankName":"Banque Test","bankCode":"AGRIFRPP"},`+
			`"paymentMethod":"BANK_TRANSFER","executionDate":"2030-01-02T09:00:00.000Z"}`, 100+i, portfolioID)})
	c.rec.take(r.id)
	var created struct {
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err != nil || r.status != 201 || json.Unmarshal(r.body, &created) != nil {
		return 0, 0, fmt.Errorf("order: %d %s %v", r.status, r.body, err)
	}
	id := created.Data.ID
	r, err = c.do(request{method: "PUT", path: "/v1/payments/" + id + "/status", token: token, entity: orgID, body: `{"status":"PROCESSING"}`})
	c.rec.take(r.id)
	if err != nil || r.status != 200 {
		return 0, 0, fmt.Errorf("approve: %d %s %v", r.status, r.body, err)
	}
	start := time.Now()
	var order struct {
		Data struct {
			Status    string `json:"status"`
			Execution struct {
				Status           string `json:"status"`
				AuthorizationURL string `json:"authorizationUrl"`
			} `json:"execution"`
		} `json:"data"`
	}
	wait := func(done func() bool) error {
		for t0 := time.Now(); time.Since(t0) < 60*time.Second; time.Sleep(20 * time.Millisecond) {
			g, err := c.do(request{method: "GET", path: "/v1/payments/" + id, token: token, entity: orgID})
			c.rec.take(g.id)
			if err == nil && json.Unmarshal(g.body, &order) == nil && done() {
				return nil
			}
		}
		return fmt.Errorf("order %s: %+v after 60 s", id, order.Data)
	}
	if err := wait(func() bool { return order.Data.Execution.AuthorizationURL != "" }); err != nil {
		return 0, 0, err
	}
	toAuthorization = time.Since(start)
	start = time.Now()
	noFollow := *c.http // the bank sends the holder to the organisation's back office
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.PostForm(order.Data.Execution.AuthorizationURL, url.Values{"decision": {"authorize"}})
	if err != nil {
		return 0, 0, err
	}
	resp.Body.Close()
	if err := wait(func() bool { return order.Data.Status == "COMPLETED" }); err != nil {
		return 0, 0, err
	}
	return toAuthorization, time.Since(start), nil
}
