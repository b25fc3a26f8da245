package main

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

var (
	csrfRE   = regexp.MustCompile(`name="csrf" value="([0-9a-f]+)"`)
	actionRE = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
)

// payOnce runs one payment as a payer does — page, "Payer par virement", the
// sandbox bank's authorisation — and returns the time from the bank's
// authorisation to the invoice being paid (event router, poll queue, poller,
// settlement, on the local engines), and the paid intent's id.
func (c *client) payOnce(token, orgID, deptID string) (time.Duration, string, error) {
	p, err := c.payThroughBank(token, orgID, deptID, `[{"description":"Eau","quantity":125,"unit_price":320,"vat_rate":5.5}]`, payerIBAN)
	if err != nil {
		return 0, "", err
	}
	for time.Since(p.authorized) < 60*time.Second {
		r, err := c.do(request{method: "GET", path: "/v1/invoices/" + p.invoiceID, token: token, entity: orgID})
		if err == nil && strings.Contains(string(r.body), `"status":"paid"`) {
			c.rec.take(r.id)
			return time.Since(p.authorized), p.intentID, nil
		}
		c.rec.take(r.id)
		time.Sleep(50 * time.Millisecond)
	}
	return 0, "", fmt.Errorf("invoice %s not paid after 60 s", p.invoiceID)
}

// bankPayment is an invoice paid in full through one link, as far as the
// payer's authorisation at the sandbox bank.
type bankPayment struct {
	invoiceID, intentID string
	authorized          time.Time // when the bank's answer to the authorisation came
}

// The sandbox bank's test IBANs the bench pays from: credited, and lost at
// the provider (UNKNOWN: the intent requires_action).
const (
	payerIBAN   = "FR7612345678901234567890123"
	unknownIBAN = "FR7612345678901234567890130"
)

// payThroughBank creates and issues an invoice of lines (JSON), makes a SEPA
// link for all of it, and pays it as a payer does from iban: the hosted
// page, "Payer par virement", the sandbox bank's authorisation.
func (c *client) payThroughBank(token, orgID, deptID, lines, iban string) (bankPayment, error) {
	noFollow := *c.http
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	inv, err := c.do(request{method: "POST", path: "/v1/invoices", token: token, entity: orgID,
		body: `{"department_id":"` + deptID + `","payer":{"name":"Jean Dupont","email":"jean.dupont@example.com"},"line_items":` + lines + `,"due_date":"2030-03-31"}`})
	if err != nil || inv.status != 201 {
		return bankPayment{}, fmt.Errorf("invoice: %d %s %v", inv.status, inv.body, err)
	}
	var v struct {
		ID              string `json:"id"`
		PaymentPageURL  string `json:"payment_page_url"`
		PaymentIntentID string `json:"payment_intent_id"`
	}
	_ = json.Unmarshal(inv.body, &v)
	p := bankPayment{invoiceID: v.ID}
	if r, err := c.do(request{method: "POST", path: "/v1/invoices/" + p.invoiceID + "/issue", token: token, entity: orgID}); err != nil || r.status != 200 {
		return p, fmt.Errorf("issue: %d %s %v", r.status, r.body, err)
	}
	l, err := c.do(request{method: "POST", path: "/v1/payment_links", token: token, entity: orgID,
		body: `{"invoice_id":"` + p.invoiceID + `","payment_methods":["sepa_credit"],"return_url":"https://votreapp.fr/ok"}`})
	if err != nil || l.status != 201 {
		return p, fmt.Errorf("link: %d %s %v", l.status, l.body, err)
	}
	_ = json.Unmarshal(l.body, &v)
	p.intentID = v.PaymentIntentID
	page := c.base + v.PaymentPageURL[strings.Index(v.PaymentPageURL, "/p/"):]
	body, err := c.get(c.http, page)
	if err != nil {
		return p, err
	}
	csrf := csrfRE.FindStringSubmatch(body)
	if csrf == nil {
		return p, fmt.Errorf("no csrf on the page")
	}
	resp, err := noFollow.PostForm(page+"/pay", url.Values{"csrf": {csrf[1]}, "method": {"sepa_credit"}})
	if err != nil {
		return p, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther && resp.StatusCode != http.StatusFound {
		c.count(resp.StatusCode)
		return p, fmt.Errorf("pay: %d", resp.StatusCode)
	}
	flow := resp.Header.Get("Location")
	bank, err := c.get(&noFollow, flow)
	if err != nil {
		return p, err
	}
	action := actionRE.FindStringSubmatch(bank)
	if action == nil {
		return p, fmt.Errorf("no bank form")
	}
	target, _ := url.Parse(flow)
	target, _ = target.Parse(html.UnescapeString(action[1]))
	back, err := noFollow.PostForm(target.String(), url.Values{"iban": {iban}, "decision": {"authorize"}})
	if err != nil {
		return p, err
	}
	back.Body.Close()
	p.authorized = time.Now()
	if back.StatusCode >= 400 {
		return p, fmt.Errorf("bank authorisation: %d", back.StatusCode)
	}
	return p, nil
}

func (c *client) get(hc *http.Client, u string) (string, error) {
	resp, err := hc.Get(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	c.count(resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// refundOnce refunds amount of a paid intent and returns the time from the
// refund's 201 to its reading succeeded (event router, poll queue, poller,
// Aiia's refund created and read, the settlement transaction).
func (c *client) refundOnce(token, orgID, intentID string, amount int) (time.Duration, error) {
	r, err := c.do(request{method: "POST", path: "/v1/refunds", token: token, entity: orgID,
		body: fmt.Sprintf(`{"payment_intent_id":"%s","amount":%d,"reason":"Bench"}`, intentID, amount)})
	c.rec.take(r.id)
	if err != nil || r.status != 201 {
		return 0, fmt.Errorf("refund: %d %s %v", r.status, r.body, err)
	}
	start := time.Now()
	var v struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(r.body, &v)
	for time.Since(start) < 60*time.Second {
		g, err := c.do(request{method: "GET", path: "/v1/refunds/" + v.ID, token: token, entity: orgID})
		c.rec.take(g.id)
		if err == nil && strings.Contains(string(g.body), `"status":"succeeded"`) {
			return time.Since(start), nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0, fmt.Errorf("refund %s not succeeded after 60 s", v.ID)
}

// lostOnce pays an invoice from the test IBAN the provider loses track of
// and returns the intent once it is requires_action.
func (c *client) lostOnce(token, orgID, deptID string) (string, error) {
	p, err := c.payThroughBank(token, orgID, deptID, `[{"description":"Eau","quantity":125,"unit_price":320,"vat_rate":5.5}]`, unknownIBAN)
	if err != nil {
		return "", err
	}
	for time.Since(p.authorized) < 60*time.Second {
		r, err := c.do(request{method: "GET", path: "/v1/payment_intents/" + p.intentID, token: token, entity: orgID})
		if err == nil && strings.Contains(string(r.body), `"status":"requires_action"`) {
			c.rec.take(r.id)
			return p.intentID, nil
		}
		c.rec.take(r.id)
		time.Sleep(50 * time.Millisecond)
	}
	return "", fmt.Errorf("intent %s not requires_action after 60 s", p.intentID)
}
