package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type client struct {
	base string
	http *http.Client
	rec  *recorder
	// trace and floor, when set, issue each measured request's DynamoDB
	// calls again directly, right after it (the overhead ratio).
	trace *tracer
	floor *floor
	// settle is the pause before each timed request and each floor replay
	// when the floor is measured: the asynchronous work a request leaves
	// (the API call log sent after the response, the stream's consumers)
	// runs on this machine's two cores, where in AWS it runs elsewhere, and
	// would otherwise land on whichever measurement comes next.
	settle time.Duration
	// Every answer's status, counted (the flow section's "0 5xx"); shared
	// by the copies of the client.
	tally *tally
}

type tally struct{ answers, server5xx atomic.Int64 }

// count records an answer's status.
func (c *client) count(status int) {
	if c.tally == nil {
		return
	}
	c.tally.answers.Add(1)
	if status >= 500 {
		c.tally.server5xx.Add(1)
	}
}

type request struct {
	method, path, body, token, key string
	entity                         string    // X-Entity-Id
	collect                        *[]string // append created api client ids here
}

type response struct {
	status int
	body   []byte
	id     string
	took   time.Duration
}

func (c *client) do(r request) (response, error) {
	req, err := http.NewRequest(r.method, c.base+r.path, strings.NewReader(r.body))
	if err != nil {
		return response{}, err
	}
	if r.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	if r.key != "" {
		req.Header.Set("Idempotency-Key", r.key)
	}
	if r.entity != "" {
		req.Header.Set("X-Entity-Id", r.entity)
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	took := time.Since(start)
	c.count(resp.StatusCode)
	return response{status: resp.StatusCode, body: b, id: resp.Header.Get("X-Request-Id"), took: took}, err
}

func (c *client) token(id, secret string) (string, error) {
	r, err := c.do(request{method: "POST", path: "/v1/auth/token", body: `{"grant_type":"client_credentials","client_id":"` + id + `","client_secret":"` + secret + `","scope":"partner"}`})
	if err != nil || r.status != 200 {
		return "", fmt.Errorf("token: %d %s %v", r.status, r.body, err)
	}
	var t struct {
		AccessToken string `json:"access_token"`
	}
	return t.AccessToken, json.Unmarshal(r.body, &t)
}

func (c *client) createOrg(token, name, key string) (string, error) {
	r, err := c.do(request{method: "POST", path: "/v1/organizations", token: token, body: orgJSON(name), key: key})
	if err != nil || r.status != 201 {
		return "", fmt.Errorf("create organisation: %d %s %v", r.status, r.body, err)
	}
	var o struct {
		ID string `json:"id"`
	}
	return o.ID, json.Unmarshal(r.body, &o)
}

// measure sends n requests of a scenario one after the other (latency, not
// throughput) and gathers latency and call counts.
func (c *client) measure(s scenario, n int) (row, error) {
	r := row{name: s.name, budget: s.budget, single: s.single}
	var lat, floorLat, handlerLat, sdkLat []time.Duration
	var dyn []int64
	if c.trace != nil {
		c.trace.forget()
	}
	// For reads the order alternates (the floor before the route on odd
	// requests, replaying the previous request's reads, which name the same
	// items), so neither side always follows the other's leftover work.
	var prevReads []any
	replay := func(calls []any) error {
		time.Sleep(c.settle)
		d, err := c.floor.replay(context.Background(), calls)
		switch {
		case errors.Is(err, errNotReplayable):
			r.floorErr, floorLat = err.Error(), nil
		case err != nil:
			return fmt.Errorf("floor: %w", err)
		default:
			floorLat = append(floorLat, d)
		}
		return nil
	}
	for i := 0; i < n; i++ {
		req := s.req(i)
		floorFirst := c.floor != nil && i%2 == 1 && prevReads != nil && r.floorErr == ""
		if floorFirst {
			if err := replay(prevReads); err != nil {
				return r, err
			}
		}
		if c.floor != nil {
			time.Sleep(c.settle)
		}
		resp, err := c.do(req)
		if err != nil {
			return r, err
		}
		if resp.status >= 300 {
			r.statusFailure = fmt.Sprintf("status %d: %s", resp.status, resp.body)
			return r, nil
		}
		if req.collect != nil {
			var v struct {
				ClientID string `json:"client_id"`
				ID       string `json:"id"`
				Page     string `json:"payment_page_url"`
				Data     struct {
					ID string `json:"id"`
				} `json:"data"` // seed 003's envelope
			}
			_ = json.Unmarshal(resp.body, &v)
			id := v.ClientID
			if v.Page != "" {
				id = v.Page[strings.Index(v.Page, "/p/"):] // the page's path, for the page scenario
			} else if id == "" {
				id = cmp.Or(v.ID, v.Data.ID)
			}
			*req.collect = append(*req.collect, id)
		}
		cc, ok := c.rec.take(resp.id)
		if !ok {
			return r, fmt.Errorf("no log line for request %s", resp.id)
		}
		if c.floor != nil && cc.dynamo > 0 && r.floorErr == "" {
			calls, inSDK := c.trace.take(resp.id)
			handlerLat, sdkLat = append(handlerLat, cc.handler), append(sdkLat, inSDK)
			prevReads = nil
			if onlyReads(calls) {
				prevReads = calls
			}
			if !floorFirst {
				if err := replay(calls); err != nil {
					return r, err
				}
			}
		}
		lat = append(lat, resp.took)
		dyn = append(dyn, cc.dynamo)
		r.dynamoMax = max(r.dynamoMax, cc.dynamo)
		r.sqsMax = max(r.sqsMax, cc.sqs)
	}
	r.p50, r.p95 = percentile(lat, 50), percentile(lat, 95)
	if len(floorLat) > 0 {
		r.floorP50, r.floorP95 = percentile(floorLat, 50), percentile(floorLat, 95)
		r.handlerP50, r.sdkP50 = percentile(handlerLat, 50), percentile(sdkLat, 50)
	}
	r.dynamoMedian = medianInt(dyn)
	return r, nil
}

func (c *client) createDept(token, orgID string) (string, error) {
	r, err := c.do(request{method: "POST", path: "/v1/organizations/" + orgID + "/departments", token: token, body: `{"name":"Régie bench","code":"BENCH"}`})
	if err != nil || r.status != 201 {
		return "", fmt.Errorf("create department: %d %s %v", r.status, r.body, err)
	}
	var d struct {
		ID string `json:"id"`
	}
	return d.ID, json.Unmarshal(r.body, &d)
}

// cursorOf reads pagination.next_cursor from a list body.
func cursorOf(body []byte) string {
	var l struct {
		Pagination struct {
			NextCursor string `json:"next_cursor"`
		} `json:"pagination"`
	}
	_ = json.Unmarshal(body, &l)
	return l.Pagination.NextCursor
}

// inParallel runs fn(0) … fn(n-1) at once and returns the first error.
func inParallel(n int, fn func(w int) error) error {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := 0; w < n; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fn(w); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}
