package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/idempotency"
)

// TestServedResponsesMatchTheDocument drives every route through its success
// and error paths and checks each answer's status and its conformance.
func TestServedResponsesMatchTheDocument(t *testing.T) {
	w := newWorld(t)
	t.Cleanup(func() { w.faults.set(nil) })
	tokenRoute := func(header map[string]string, body string, status int) answer {
		return w.do(exchange{method: "POST", route: "/v1/auth/token", header: header, body: body, status: status})
	}

	// --- POST /v1/auth/token
	a := tokenRoute(map[string]string{"Content-Type": jsonCT}, tokenBody("ptn-1-client", partnerSecret, "partner"), 200)
	partner := a.json(t)["access_token"].(string)
	if got := a.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("token Cache-Control = %q, want no-store", got)
	}
	if m := a.json(t); m["token_type"] != "Bearer" || m["expires_in"] != 3600.0 || m["scope"] != "partner" {
		t.Errorf("token response = %v", m)
	}
	tokenRoute(map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": basic("ptn-1-client", partnerSecret)},
		"grant_type=client_credentials", 200)
	tokenRoute(map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
		"grant_type=client_credentials&client_id=ptn-1-client&client_secret="+partnerSecret, 200)
	if a := tokenRoute(map[string]string{"Content-Type": jsonCT}, tokenBody("ptn-1-client", "wrong-secret", ""), 401); a.errCode(t) != "invalid_client" {
		t.Errorf("wrong secret: %s", a.body)
	}
	if a := tokenRoute(map[string]string{"Content-Type": jsonCT}, tokenBody("no-such-client", partnerSecret, ""), 401); a.errCode(t) != "invalid_client" {
		t.Errorf("unknown client: %s", a.body)
	}
	a = tokenRoute(map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": basic("ptn-1-client", "wrong")},
		"grant_type=client_credentials", 401)
	if got := a.header.Get("WWW-Authenticate"); got != `Basic realm="modupay"` {
		t.Errorf("401 after Basic: WWW-Authenticate = %q", got)
	}
	tokenRoute(map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": "Basic !!!"}, "grant_type=client_credentials", 401)
	tokenRoute(map[string]string{"Content-Type": jsonCT}, `{}`, 400)
	if a := tokenRoute(map[string]string{"Content-Type": jsonCT}, `{"grant_type":"password"}`, 400); a.errCode(t) != "unsupported_grant_type" {
		t.Errorf("password grant: %s", a.body)
	}
	if a := tokenRoute(map[string]string{"Content-Type": jsonCT}, tokenBody("ptn-1-client", partnerSecret, "organization"), 400); a.errCode(t) != "invalid_scope" {
		t.Errorf("foreign scope: %s", a.body)
	}
	if a := tokenRoute(map[string]string{"Content-Type": "text/plain"}, "grant_type=client_credentials", 415); a.errCode(t) != "unsupported_media_type" {
		t.Errorf("text/plain: %s", a.body)
	}
	tokenRoute(map[string]string{"Content-Type": jsonCT}, strings.Repeat(" ", 1<<20+1), 413)
	// The token endpoint is not subject to Idempotency-Key (keys are per client).
	tokenRoute(map[string]string{"Content-Type": jsonCT, "Idempotency-Key": "k-token"}, tokenBody("ptn-1-client", partnerSecret, ""), 200)
	w.faults.set(errThrottled)
	tokenRoute(map[string]string{"Content-Type": jsonCT}, tokenBody("ptn-1-client", partnerSecret, ""), 503)
	w.faults.set(errBoom)
	if a := tokenRoute(map[string]string{"Content-Type": jsonCT}, tokenBody("ptn-1-client", partnerSecret, ""), 500); strings.Contains(string(a.body), "boom") {
		t.Error("a 500 must not show its cause")
	}
	w.faults.set(nil)

	// --- POST /v1/organizations, with idempotency
	createOrg := func(header map[string]string, body string, status int) answer {
		return w.do(exchange{method: "POST", route: "/v1/organizations", header: header, body: body, status: status})
	}
	first := createOrg(bearer(partner, "Idempotency-Key", "k-lyon"), seedOrganization, 201)
	lyon := first.json(t)["id"].(string)
	replay := createOrg(bearer(partner, "Idempotency-Key", "k-lyon"), seedOrganization, 201)
	if replay.header.Get("Idempotent-Replayed") != "true" || string(replay.body) != string(first.body) {
		t.Errorf("replay: header %q, body %s", replay.header.Get("Idempotent-Replayed"), replay.body)
	}
	if a := createOrg(bearer(partner, "Idempotency-Key", "k-lyon"), orgBody("Autre"), 422); a.errCode(t) != "idempotency_key_reused" {
		t.Errorf("key reused: %s", a.body)
	}
	// A claim held by a request still running (made here directly on the store).
	busyBody := orgBody("Occupée")
	now := w.clock.Now()
	if h, err := w.app.Store.Begin(context.Background(), &idempotency.Record{Scope: "ptn-1-client", Key: "k-busy",
		Fingerprint: httpapi.Fingerprint("POST", "/v1/organizations", "", []byte(busyBody)),
		LockedUntil: now.Add(time.Minute), ExpiresAt: now.Add(24 * time.Hour)}); err != nil || h != nil {
		t.Fatalf("claiming k-busy: %v, %v", h, err)
	}
	if a := createOrg(bearer(partner, "Idempotency-Key", "k-busy"), busyBody, 409); a.errCode(t) != "idempotency_key_in_use" {
		t.Errorf("key in use: %s", a.body)
	}
	if a := createOrg(bearer(partner, "Idempotency-Key", "clé"), seedOrganization, 400); a.errParam(t) != "Idempotency-Key" {
		t.Errorf("non-ASCII key: %s", a.body)
	}
	w.faults.set(errThrottled)
	// The claim itself fails here; nothing is kept.
	createOrg(bearer(partner, "Idempotency-Key", "k-retry"), orgBody("Retry SARL"), 503)
	w.faults.set(nil)
	retried := createOrg(bearer(partner, "Idempotency-Key", "k-retry"), orgBody("Retry SARL"), 201)
	if retried.header.Get("Idempotent-Replayed") != "" {
		t.Error("after a 5xx the retry must execute, not replay")
	}
	// The guide's SDK sample has no address: created, and the address named
	// as what it lacks to issue invoices.
	if o := createOrg(bearer(partner), `{"type":"public_entity","name":"Mairie de Paris","siret":"21750001600019"}`, 201).json(t); fmt.Sprint(o["requirements"]) != "[address]" {
		t.Errorf("no address: requirements %v", o["requirements"])
	}
	for body, param := range map[string]string{
		`{"type":"association","name":"X","siret":"73282932000074"}`:                                                                         "type",
		`{"type":"company","name":"","siret":"73282932000074"}`:                                                                              "name",
		`{"type":"company","name":"X","siret":"7328293200007"}`:                                                                              "siret",
		`{"type":"company","name":"X","siret":"73282932000074","vat_number":"FR00123456789"}`:                                                "vat_number",
		`{"type":"company","name":"X","siret":"73282932000074","address":{"line1":"a","postal_code":"6900","city":"L","country":"FR"}}`:      "address.postal_code",
		`{"type":"company","name":"X","siret":"73282932000074","address":{"line1":"a","postal_code":"69001","city":"L","country":"France"}}`: "address.country",
		`{"type":"company","name":"X","siret":"73282932000074","colour":"blue"}`:                                                             "colour",
		`{"type":"company","Name":"X"}`: "Name",
		`{"type":"company","name":42}`:  "name",
	} {
		if a := createOrg(bearer(partner), body, 422); a.errParam(t) != param {
			t.Errorf("%s: param %q, want %q (%s)", body, a.errParam(t), param, a.body)
		}
	}
	createOrg(bearer(partner), `{"type":"company",`, 400)
	createOrg(bearer(partner), ``, 400)
	createOrg(bearer(partner, "Content-Type", "text/plain"), seedOrganization, 415)
	createOrg(bearer(partner), `{"type":"company","name":"`+strings.Repeat("x", 1<<20)+`"}`, 413)
	a = createOrg(map[string]string{"Content-Type": jsonCT}, seedOrganization, 401)
	if a.header.Get("WWW-Authenticate") == "" {
		t.Error("a Bearer 401 carries WWW-Authenticate")
	}
	createOrg(bearer("not-a-token"), seedOrganization, 401)
	createOrg(map[string]string{"Content-Type": jsonCT, "Authorization": "Basic " + partner}, seedOrganization, 401)
	createOrg(bearer(partner), `{"type":"company","name":"Sans TVA","siret":"73282932000074","address":{"line1":"2 rue B","line2":"Bât. C","postal_code":"69002","city":"Lyon","country":"FR"}}`, 201)

	// --- GET /v1/organizations
	listOrgs := func(token, query string, status int) answer {
		return w.do(exchange{method: "GET", route: "/v1/organizations", query: query, header: bearer(token), status: status})
	}
	a = listOrgs(partner, "", 200)
	// The seed's, the retried one, the guide's SDK sample without address, "Sans TVA".
	if pg := a.json(t)["pagination"].(map[string]any); pg["total_items"] != 4.0 || pg["has_more"] != false {
		t.Errorf("list: pagination %v", pg)
	}
	a = listOrgs(partner, "page_size=1", 200)
	next, _ := a.json(t)["pagination"].(map[string]any)["next_cursor"].(string)
	if next == "" {
		t.Fatalf("page_size=1: no next_cursor in %s", a.body)
	}
	listOrgs(partner, "page_size=1&cursor="+url.QueryEscape(next), 200)
	if pg := listOrgs(partner, "type=company", 200).json(t)["pagination"].(map[string]any); pg["total_items"] != nil || pg["total_pages"] != nil {
		t.Errorf("a filtered list is not counted: %v", pg)
	}
	if d := listOrgs(partner, "name=LYON", 200).json(t)["data"].([]any); len(d) != 1 {
		t.Errorf("name=LYON: %d organisations, want 1", len(d))
	}
	for _, q := range []string{"page=0", "page=10001", "page=200&page_size=100", "page_size=101", "page_size=x", "cursor=bogus", "type=association"} {
		if a := listOrgs(partner, q, 422); a.errCode(t) != "validation_failed" {
			t.Errorf("%s: %s", q, a.body)
		}
	}

	// --- GET /v1/organizations/{org_id}
	getOrg := func(token, orgID string, status int, kv ...string) answer {
		return w.do(exchange{method: "GET", route: "/v1/organizations/{org_id}", path: "/v1/organizations/" + orgID, header: bearer(token, kv...), status: status})
	}
	if got := getOrg(partner, lyon, 200).json(t); got["siren"] != "216901234" || got["status"] != "active" || got["legal_name"] != "Mairie de Lyon" {
		t.Errorf("organisation = %v", got)
	}
	getOrg(partner, lyon, 200, "X-Entity-Id", lyon)
	getOrg(partner, lyon, 400, "X-Entity-Id", "org-other")
	getOrg(partner, "org-missing", 404)
	w.faults.set(errThrottled)
	getOrg(partner, lyon, 503)
	w.faults.set(nil)
	partner2 := w.token("ptn-2-client", partnerSecret)
	if a := getOrg(partner2, lyon, 404); a.errCode(t) != "not_found" {
		t.Errorf("another partner's organisation: %s", a.body)
	}

	// --- /v1/organizations/{org_id}/api_clients
	clientsRoute := "/v1/organizations/{org_id}/api_clients"
	createClient := func(token, orgID, body string, status int, kv ...string) answer {
		return w.do(exchange{method: "POST", route: clientsRoute, path: "/v1/organizations/" + orgID + "/api_clients", header: bearer(token, kv...), body: body, status: status})
	}
	listClients := func(token, orgID, query string, status int) answer {
		return w.do(exchange{method: "GET", route: clientsRoute, path: "/v1/organizations/" + orgID + "/api_clients", query: query, header: bearer(token), status: status})
	}
	revoke := func(token, orgID, clientID string, status int) answer {
		return w.do(exchange{method: "DELETE", route: clientsRoute + "/{client_id}", path: "/v1/organizations/" + orgID + "/api_clients/" + clientID, header: bearer(token), status: status})
	}
	a = createClient(partner, lyon, `{"role":"finance_manager","name":"Comptabilité"}`, 201, "Idempotency-Key", "k-client")
	finance := a.json(t)
	if again := createClient(partner, lyon, `{"role":"finance_manager","name":"Comptabilité"}`, 201, "Idempotency-Key", "k-client"); again.json(t)["client_id"] != finance["client_id"] {
		t.Error("an idempotent replay must return the same client")
	}
	admin := createClient(partner, lyon, `{"role":"admin"}`, 201).json(t)
	createClient(partner, lyon, `{"role":"portfolio_manager","portfolio_ids":["pf-1","pf:2"]}`, 201)
	createClient(partner, lyon, `{"role":"analyst","name":"`+strings.Repeat("é", 100)+`"}`, 201)
	for _, body := range []string{`{"role":"boss"}`, `{"role":"analyst","portfolio_ids":["pf-1"]}`, `{"role":"analyst","scope":"partner"}`, `{"role":"analyst","name":"` + strings.Repeat("n", 101) + `"}`} {
		createClient(partner, lyon, body, 422)
	}
	createClient(partner, "org-missing", `{"role":"analyst"}`, 404)
	createClient(partner2, lyon, `{"role":"analyst"}`, 404)
	if d := listClients(partner, lyon, "", 200).json(t)["data"].([]any); len(d) != 4 {
		t.Errorf("clients: %d, want 4", len(d))
	}
	listClients(partner, lyon, "page_size=2", 200)
	listClients(partner, lyon, "cursor=bogus", 422)
	listClients(partner2, lyon, "", 404)

	// Organisation tokens: own organisation only, admin role for clients.
	financeToken := w.token(finance["client_id"].(string), finance["client_secret"].(string))
	adminToken := w.token(admin["client_id"].(string), admin["client_secret"].(string))
	other := w.createOrg(partner, orgBody("Autre"))
	getOrg(financeToken, lyon, 200)
	getOrg(financeToken, other, 404)
	getOrg(financeToken, lyon, 404, "X-Entity-Id", other)
	w.do(exchange{method: "GET", route: "/v1/organizations", header: bearer(adminToken), status: 403})
	createOrg(bearer(adminToken), seedOrganization, 403)
	listClients(financeToken, lyon, "", 403)
	createClient(financeToken, lyon, `{"role":"admin"}`, 403)
	listClients(adminToken, lyon, "", 200)
	listClients(adminToken, other, "", 404)
	createClient(adminToken, lyon, `{"role":"analyst"}`, 201)

	// Revocation: new tokens at once, existing ones within the refresh bound.
	a = revoke(partner, lyon, finance["client_id"].(string), 200)
	if m := a.json(t); m["status"] != "revoked" || m["revoked_at"] == nil {
		t.Errorf("revoke: %s", a.body)
	}
	revoke(partner, lyon, finance["client_id"].(string), 200)
	revoke(partner, lyon, "cli-missing", 404)
	revoke(partner, other, admin["client_id"].(string), 404)
	revoke(partner2, lyon, admin["client_id"].(string), 404)
	revoke(adminToken, other, admin["client_id"].(string), 404)
	tokenRoute(map[string]string{"Content-Type": jsonCT}, tokenBody(finance["client_id"].(string), finance["client_secret"].(string), ""), 401)
	w.clock.Advance(31 * time.Second)
	getOrg(financeToken, lyon, 401)
	getOrg(adminToken, lyon, 200)

	// Expired tokens.
	w.clock.Advance(time.Hour)
	getOrg(adminToken, lyon, 401)

	// --- platform routes
	for _, p := range []string{"/health", "/api-docs", "/api-docs/openapi.yaml", "/api-docs/openapi.json", "/changelog"} {
		w.do(exchange{method: "GET", route: p, status: 200})
	}
	// An unknown path is API Gateway's own 404, outside the document.
	resp, err := w.srv.Client().Get(w.srv.URL + "/v1/nothing-here")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("unknown path: status %d, want 404", resp.StatusCode)
	}
}
