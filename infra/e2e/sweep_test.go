package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// A bad-input sweep: every route of the tenancy table (with the owner's
// valid request as the starting point) and the routes that create in the
// caller's own scope, each sent spoiled in every way below. Classes:
//
//   - refused: the answer must be a 4xx in the error shape (a body with
//     "error") carrying a request id (X-Request-Id), never a 2xx, never a 5xx;
//   - survived: the value may be legitimate (a confusable name, a
//     NoSQL-looking string, a negative number), so any answer but a 5xx.
//
// A path whose id holds a slash no longer matches the route: API Gateway
// itself answers that 404 ({"message":"Not Found"}, no request id), as the
// local gateway does; that is the one 4xx outside the error shape.
func TestBadInputSweep(t *testing.T) {
	w := newWorld(t)
	hookSink := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(hookSink.Close)
	partner := w.token("ptn-1-client", partnerSecret)
	org := w.createOrg(partner, orgBody("Sweep"))
	client := w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/api_clients", path: "/v1/organizations/" + org + "/api_clients",
		header: bearer(partner), body: `{"role":"analyst"}`, status: 201}).json(t)["client_id"].(string)

	type start struct {
		route  string
		ex     exchange
		entity bool
	}
	starts := []start{
		{route: "POST /v1/auth/token", ex: exchange{method: "POST", path: "/v1/auth/token", header: map[string]string{"Content-Type": jsonCT},
			body: tokenBody("ptn-1-client", partnerSecret, "partner")}},
		{route: "POST /v1/organizations", ex: exchange{method: "POST", path: "/v1/organizations", header: bearer(partner), body: orgBody("Sweep bis")}},
		{route: "PUT /v1/branding", ex: exchange{method: "PUT", path: "/v1/branding", header: bearer(partner),
			body: `{"display_name":"Sweep","primary_color":"#1f2937"}`}},
		{route: "POST /v1/webhook_subscriptions", ex: exchange{method: "POST", path: "/v1/webhook_subscriptions", header: bearer(partner),
			body: `{"url":"` + hookSink.URL + `","events":["invoice.paid"]}`}},
	}
	for _, c := range tenancyRoutes {
		c := c
		starts = append(starts, start{route: c.route, entity: c.entity, ex: exchange{method: "build:" + c.route}})
	}
	refusedTotal, survivedTotal := 0, 0
	for _, s := range starts {
		t.Run(s.route, func(t *testing.T) {
			ex := s.ex
			if strings.HasPrefix(ex.method, "build:") {
				for _, c := range tenancyRoutes {
					if c.route == s.route {
						ex = c.build(newTarget(t, w, partner, org, client, c.route, hookSink.URL))
					}
				}
				ex.header = bearer(partner)
				if s.entity {
					ex.header["X-Entity-Id"] = org
				}
			}
			if ex.path == "" {
				ex.path = ex.route
			}
			for _, m := range spoil(s.route, ex, s.entity) {
				status, header, body := sendRaw(t, w, m.ex)
				switch {
				case status >= 500:
					t.Errorf("%s: %d %s", m.name, status, truncate(body))
				case m.refused && (status < 400 || status >= 500):
					t.Errorf("%s: %d, want a 4xx: %s", m.name, status, truncate(body))
				case m.refused && m.pathChanged && status == 404 && strings.Contains(string(body), `"message":"Not Found"`):
					// the gateway's own 404 (see above)
				case status >= 400 && !errorShaped(header, body):
					t.Errorf("%s: %d without the error shape and a request id: %s %s", m.name, status, header.Get("X-Request-Id"), truncate(body))
				}
				if m.refused {
					refusedTotal++
				} else {
					survivedTotal++
				}
			}
		})
	}
	t.Logf("%d routes, %d requests that must be refused, %d that must not break anything", len(starts), refusedTotal, survivedTotal)
}

type spoiled struct {
	name        string
	ex          exchange
	refused     bool
	pathChanged bool
}

// spoil is every spoiled version of the valid request ex.
func spoil(route string, ex exchange, entity bool) []spoiled {
	var out []spoiled
	with := func(name string, refused bool, change func(e *exchange)) {
		e := ex
		e.header = map[string]string{}
		for k, v := range ex.header {
			e.header[k] = v
		}
		change(&e)
		out = append(out, spoiled{name: name, ex: e, refused: refused})
	}
	bearerRoute := strings.HasPrefix(ex.header["Authorization"], "Bearer ")

	// Headers.
	if bearerRoute {
		with("Idempotency-Key of 10 000 characters", ex.method == http.MethodPost, func(e *exchange) { e.header["Idempotency-Key"] = strings.Repeat("k", 10000) })
		with("no Authorization", true, func(e *exchange) { delete(e.header, "Authorization") })
		with("two Authorization headers", true, func(e *exchange) { e.header["Authorization"] += "\x00dup:Bearer forged" })
		with("Authorization of another scheme", true, func(e *exchange) { e.header["Authorization"] = "Basic Zm9vOmJhcg==" })
	}
	if entity {
		with("two X-Entity-Id headers", true, func(e *exchange) {
			e.header["X-Entity-Id"] += "\x00dup:org-01900000-0000-7000-8000-000000000000"
		})
		with("X-Entity-Id with a path", true, func(e *exchange) { e.header["X-Entity-Id"] = "../" + e.header["X-Entity-Id"] })
	}
	// Ids in the path.
	params := regexp.MustCompile(`\{[a-z_]+\}`).FindAllStringIndex(routePath(route), -1)
	if len(params) > 0 {
		segs := strings.Split(ex.path, "/")
		rsegs := strings.Split(routePath(route), "/")
		for i, rs := range rsegs {
			if !strings.HasPrefix(rs, "{") || i >= len(segs) {
				continue
			}
			for _, bad := range []struct{ name, id string }{
				{"traversal", "..%2F..%2Fetc%2Fpasswd"}, {"NUL", "inv%00"}, {"10 000 characters", strings.Repeat("a", 10000)},
				{"confusable", "%D0%BErg-1"}, {"quote", "x%27%22%3E"},
			} {
				i, bad := i, bad
				e := ex
				s := append([]string(nil), segs...)
				s[i] = bad.id
				e.path = strings.Join(s, "/")
				out = append(out, spoiled{name: rs + " " + bad.name, ex: e, refused: true, pathChanged: true})
			}
		}
	}
	// Lists: cursors are the client's to send back, so forged ones come too
	// (a start key DynamoDB refuses would be a 500; a foreign partition a leak).
	if ex.method == http.MethodGet {
		for name, c := range map[string]string{
			"cursor with a 10 000-character key": base64.RawURLEncoding.EncodeToString([]byte(`{"PK":"x","SK":"` + strings.Repeat("s", 10000) + `"}`)),
			"cursor not base64":                  "%25%00",
			"page_size huge":                     "",
		} {
			q := "cursor=" + c
			if c == "" {
				q = "page_size=99999999999999999999"
			}
			with(name, false, func(e *exchange) {
				if e.query != "" {
					e.query += "&"
				}
				e.query += q
			})
		}
	}
	// The body. Oversize for every route; the rest where a JSON body is sent.
	with("body over 1 MiB", true, func(e *exchange) {
		e.body = `{"x":"` + strings.Repeat("a", 1<<20+1024) + `"}`
		e.header["Content-Type"] = jsonCT
	})
	if ex.body == "" || !strings.HasPrefix(strings.TrimSpace(ex.body), "{") {
		return out
	}
	with("Content-Type text/plain", true, func(e *exchange) { e.header["Content-Type"] = "text/plain" })
	with("no Content-Type", true, func(e *exchange) { delete(e.header, "Content-Type") })
	with("body not JSON", true, func(e *exchange) { e.body = "name=x" })
	with("body an array", true, func(e *exchange) { e.body = "[" + ex.body + "]" })
	with("body a string", true, func(e *exchange) { e.body = `"` + strings.ReplaceAll(ex.body, `"`, `\"`) + `"` })
	with("two JSON values", true, func(e *exchange) { e.body = ex.body + ex.body })
	with("deep nesting", true, func(e *exchange) { e.body = strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000) })
	// A Lambda event is JSON: a text body's invalid bytes reach the function
	// as U+FFFD (a valid character, which a name may hold), so this one may
	// be accepted; a body that arrives base64-encoded is checked
	// (httpapi.DecodeJSON refuses bytes that are not UTF-8).
	with("invalid UTF-8", false, func(e *exchange) { e.body = strings.Replace(ex.body, `":"`, "\":\"\xff\xfe", 1) })
	with("unknown field", true, func(e *exchange) { e.body = `{"zz_unknown":1,` + strings.TrimPrefix(strings.TrimSpace(ex.body), "{") })
	var fields map[string]json.RawMessage
	if json.Unmarshal([]byte(ex.body), &fields) != nil {
		return out
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		k, v := k, strings.TrimSpace(string(fields[k]))
		set := func(value string) func(e *exchange) {
			return func(e *exchange) {
				m := map[string]json.RawMessage{}
				for kk, vv := range fields {
					m[kk] = vv
				}
				m[k] = json.RawMessage(value)
				b, _ := json.Marshal(m)
				e.body = string(b)
			}
		}
		with(k+" twice", true, func(e *exchange) {
			e.body = `{"` + k + `":` + v + `,` + strings.TrimPrefix(strings.TrimSpace(ex.body), "{")
		})
		switch {
		case v == "true" || v == "false":
			with(k+" a string", true, set(`"yes"`))
		case strings.HasPrefix(v, "{"):
			with(k+" a string", true, set(`"x"`))
		default:
			with(k+" a boolean", true, set(`true`))
			with(k+" a NoSQL operator object", true, set(`{"$ne":null}`))
		}
		if strings.HasPrefix(v, `"`) {
			with(k+" 100 000 characters", false, set(`"`+strings.Repeat("é", 100000)+`"`))
			with(k+" NoSQL-looking text", false, set(`"{\"$gt\":\"\"}'; DROP TABLE x; --"`))
			with(k+" confusables and controls", false, set(`"Ｍａｉｒｉｅ\u202e\u0000"`))
		}
		if len(v) > 0 && (v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) {
			with(k+" negative", false, set(`-1`))
			with(k+" huge", true, set(`1e400`))
			with(k+" fraction", false, set(`0.5`))
		}
	}
	if fullSweep() {
		var doc any
		d := json.NewDecoder(strings.NewReader(ex.body))
		d.UseNumber()
		if d.Decode(&doc) == nil {
			for _, l := range leaves(doc, "") {
				for _, b := range deepValues(l.value) {
					b := b
					with(l.path+" "+b.name, b.refused, func(e *exchange) {
						nb, _ := json.Marshal(replaced(doc, l.steps, b.value))
						e.body = string(nb)
					})
				}
			}
		}
	}
	return out
}

// fullSweep: MODUPAY_SWEEP=full (make bench) spoils every field at every
// depth — the lines of an invoice, the payer, an address — with more
// values; make test spoils the top-level fields.
func fullSweep() bool { return os.Getenv("MODUPAY_SWEEP") == "full" }

type leaf struct {
	path  string
	steps []any // keys (string) and indexes (int) from the root
	value any
}

// leaves lists every value of doc below its top level, objects and arrays
// included, with its path ("line_items[0].quantity").
func leaves(doc any, prefix string, steps ...any) []leaf {
	var out []leaf
	switch x := doc.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := strings.TrimPrefix(prefix+"."+k, ".")
			st := append(append([]any(nil), steps...), k)
			if len(steps) > 0 {
				out = append(out, leaf{path: p, steps: st, value: x[k]})
			}
			out = append(out, leaves(x[k], p, st...)...)
		}
	case []any:
		for i, v := range x {
			p := fmt.Sprintf("%s[%d]", prefix, i)
			st := append(append([]any(nil), steps...), i)
			out = append(out, leaf{path: p, steps: st, value: v})
			out = append(out, leaves(v, p, st...)...)
		}
	}
	return out
}

type deepValue struct {
	name    string
	value   any
	refused bool
}

// deepValues are the spoilings of a value, by its kind: a wrong kind must
// be refused; an empty, null, extreme or odd value of the right kind may
// be legitimate, so it must only break nothing.
func deepValues(v any) []deepValue {
	out := []deepValue{{"null", nil, false}, {"a NoSQL operator object", map[string]any{"$ne": nil}, true}}
	switch v.(type) {
	case string:
		out = append(out, deepValue{"a boolean", true, true}, deepValue{"empty", "", false},
			deepValue{"10 000 characters", strings.Repeat("ß", 10000), false}, deepValue{"controls and bidi", "a\u0000\u202e\u2028b", false},
			deepValue{"a number", json.Number("12"), false})
	case json.Number:
		out = append(out, deepValue{"a boolean", true, true}, deepValue{"zero", json.Number("0"), false},
			deepValue{"2^63", json.Number("9223372036854775808"), true}, deepValue{"-2^63", json.Number("-9223372036854775809"), true},
			deepValue{"1e-400", json.Number("1e-400"), false}, deepValue{"a numeric string", "12", false})
	case bool:
		out = append(out, deepValue{"a string", "true", true}, deepValue{"a number", json.Number("1"), true})
	case []any:
		out = append(out, deepValue{"a string", "x", true}, deepValue{"empty", []any{}, false}, deepValue{"an object", map[string]any{}, true})
	case map[string]any:
		out = append(out, deepValue{"a string", "x", true}, deepValue{"an array", []any{}, true}, deepValue{"empty", map[string]any{}, false})
	}
	return out
}

// replaced is a copy of doc with the value at steps set to v.
func replaced(doc any, steps []any, v any) any {
	if len(steps) == 0 {
		return v
	}
	switch x := doc.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, vv := range x {
			m[k] = vv
		}
		k := steps[0].(string)
		m[k] = replaced(x[k], steps[1:], v)
		return m
	case []any:
		a := append([]any(nil), x...)
		i := steps[0].(int)
		a[i] = replaced(x[i], steps[1:], v)
		return a
	}
	return doc
}

func routePath(route string) string {
	_, p, _ := strings.Cut(route, " ")
	return p
}

// sendRaw sends e without the OpenAPI check of w.do (spoiled requests get
// answers the document need not list, e.g. 413 from the edge). A header
// value holding "\x00dup:" is sent as two header lines.
func sendRaw(t *testing.T, w *world, e exchange) (int, http.Header, []byte) {
	t.Helper()
	u := w.srv.URL + e.path
	if e.query != "" {
		u += "?" + e.query
	}
	req, err := http.NewRequest(e.method, u, strings.NewReader(e.body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range e.header {
		first, second, dup := strings.Cut(v, "\x00dup:")
		req.Header.Set(k, first)
		if dup {
			req.Header.Add(k, second)
		}
	}
	resp, err := w.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", e.method, e.path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, body
}

// errorShaped: a JSON body with "error" (/v1, OAuth and seed 003 shapes)
// and a request id in the header.
func errorShaped(h http.Header, body []byte) bool {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		return false
	}
	_, ok := m["error"]
	return ok && h.Get("X-Request-Id") != ""
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return fmt.Sprintf("%s… (%d bytes)", b[:300], len(b))
	}
	return string(b)
}
