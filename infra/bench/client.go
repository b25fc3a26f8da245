package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

type client struct {
	base string
	http *http.Client
	rec  *recorder
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
	r := row{name: s.name, budget: s.budget}
	var lat []time.Duration
	var dyn []int64
	for i := 0; i < n; i++ {
		req := s.req(i)
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
		lat = append(lat, resp.took)
		dyn = append(dyn, cc.dynamo)
		r.dynamoMax = max(r.dynamoMax, cc.dynamo)
		r.sqsMax = max(r.sqsMax, cc.sqs)
	}
	r.p50, r.p95 = percentile(lat, 50), percentile(lat, 95)
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
