package main

import "fmt"

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
