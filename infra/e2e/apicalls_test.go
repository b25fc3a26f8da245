package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/audit/apicall"
	"github.com/modupay/modupay/shared/listing"
)

// Each request whose caller is known leaves exactly one API call, through
// the edge, the audit queue and the audit writer, under the tenant it acted
// on (or the caller's own when refused before): the token issued, a
// partner-level creation, an organisation's read, a 404 on another
// partner's organisation. A request without a valid token leaves none. The
// send happens after the response: the request's log line counts no SQS
// call.
func TestRequestsLeaveOneAPICallEach(t *testing.T) {
	logs := &lockedBuffer{}
	w := newWorldWith(t, worldOptions{logs: logs})
	ctx := context.Background()

	tok := w.do(exchange{method: "POST", route: "/v1/auth/token", header: map[string]string{"Content-Type": jsonCT},
		body: tokenBody("ptn-1-client", partnerSecret, "partner"), status: 200})
	var issued struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(tok.body, &issued); err != nil {
		t.Fatal(err)
	}
	partner := issued.AccessToken
	created := w.do(exchange{method: "POST", route: "/v1/organizations", header: bearer(partner), body: orgBody("Logged"), status: 201})
	org := created.json(t)["id"].(string)
	read := w.do(exchange{method: "GET", route: "/v1/organizations/{org_id}", path: "/v1/organizations/" + org, header: bearer(partner), status: 200})
	other := w.createOrg(w.token("ptn-2-client", partnerSecret), orgBody("Elsewhere"))
	refused := w.do(exchange{method: "GET", route: "/v1/organizations/{org_id}", path: "/v1/organizations/" + other, header: bearer(partner), status: 404})
	w.do(exchange{method: "GET", route: "/v1/organizations/{org_id}", path: "/v1/organizations/" + org, header: bearer("not-a-token"), status: 401})

	type want struct {
		org, route string
		status     int
		requestID  string
	}
	wants := []want{
		{"", "POST /v1/auth/token", 200, tok.header.Get("X-Request-Id")},
		{"", "POST /v1/organizations", 201, created.header.Get("X-Request-Id")},
		{org, "GET /v1/organizations/{org_id}", 200, read.header.Get("X-Request-Id")},
		{other, "GET /v1/organizations/{org_id}", 404, refused.header.Get("X-Request-Id")},
	}
	list := func(partnerID, orgID string) []apicall.Call {
		p, err := w.app.Store.ListAPICalls(ctx, partnerID, orgID, apicall.Query{Page: listing.Query{Page: 1, Size: 100}})
		if err != nil {
			t.Fatal(err)
		}
		return p.Items
	}
	waitFor(t, 30*time.Second, func() (bool, string) {
		n := len(list("ptn-1", "")) + len(list("ptn-1", org)) + len(list("ptn-1", other))
		return n >= len(wants), fmt.Sprintf("%d API calls of ptn-1, want %d", n, len(wants))
	})
	w.waitDrained(t, 30*time.Second, "AuditQueue", "AuditDLQ")

	for _, wt := range wants {
		var got []apicall.Call
		for _, c := range list("ptn-1", wt.org) {
			if c.RequestID == wt.requestID {
				got = append(got, c)
			}
		}
		if len(got) != 1 {
			t.Errorf("%s (%d): %d calls under ptn-1/%q, want 1", wt.route, wt.status, len(got), wt.org)
			continue
		}
		c := got[0]
		if c.Route != wt.route || c.Status != wt.status || c.ClientID != "ptn-1-client" || c.UserType != "partner" ||
			c.PartnerID != "ptn-1" || c.OrgID != wt.org || c.IPAddress == "" || c.LatencyMS < 0 || c.Timestamp.IsZero() {
			t.Errorf("%s: call = %+v", wt.route, c)
		}
	}
	if n := len(list("ptn-1", "")) + len(list("ptn-1", org)) + len(list("ptn-1", other)); n != len(wants) {
		t.Errorf("ptn-1 has %d API calls, want %d (the 401 leaves none)", n, len(wants))
	}
	// ptn-1's refused read is not in ptn-2's organisation's log: only
	// ptn-2's own creation is (a partner-level call, in ptn-2's log).
	if got := list("ptn-2", other); len(got) != 0 {
		t.Errorf("ptn-2's organisation's log holds %d calls: %+v", len(got), got)
	}
	if got := list("ptn-2", ""); len(got) != 2 { // its token, its creation
		t.Errorf("ptn-2's log holds %d calls, want 2", len(got))
	}

	// The route reads the same log: the organisation's calls with the
	// partner's token and X-Entity-Id, the partner's own without it; each
	// call as an entry with its method, route, status and latency.
	byRoute := func(h map[string]string) map[string]map[string]any {
		got := w.do(exchange{method: "GET", route: "/v1/audit_logs", query: "resource_type=api_call&page_size=100", header: h, status: 200}).json(t)
		out := map[string]map[string]any{}
		for _, e := range got["data"].([]any) {
			m := e.(map[string]any)
			out[m["request_id"].(string)] = m
		}
		return out
	}
	own, orgs := byRoute(bearer(partner)), byRoute(bearer(partner, "X-Entity-Id", org))
	for _, wt := range wants[:3] {
		src := own
		if wt.org != "" {
			src = orgs
		}
		e := src[wt.requestID]
		call, _ := e["call"].(map[string]any)
		if e == nil || e["resource_type"] != "api_call" || e["action"] != "called" || e["user_id"] != "ptn-1-client" ||
			call["route"] != wt.route || call["status"] != float64(wt.status) || call["method"] != wt.route[:strings.IndexByte(wt.route, ' ')] {
			t.Errorf("%s through GET /v1/audit_logs: %v", wt.route, e)
		}
	}
	for id := range orgs {
		if _, mine := own[id]; mine {
			t.Errorf("call %s is both the partner's and the organisation's", id)
		}
	}
	// Another partner's organisation is a 404, not an empty log.
	w.do(exchange{method: "GET", route: "/v1/audit_logs", query: "resource_type=api_call", header: bearer(partner, "X-Entity-Id", other), status: 404})

	// The send is not the request's: it runs after the response (the
	// gateway's post-response queue, the Lambda extension's deployed), so
	// the request's log line counts no SQS call, and the calls above still
	// all arrived.
	byID := map[string]map[string]any{}
	for _, l := range logs.lines(t, "request") {
		byID[fmt.Sprint(l["request_id"])] = l
	}
	for _, wt := range wants {
		l := byID[wt.requestID]
		if l == nil || l["sqs_calls"] != float64(0) {
			t.Errorf("%s: request log line %v, want sqs_calls 0", wt.route, l)
		}
	}
}
