package docs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/openapi"
)

// call runs the handler of route key directly, as the edge would.
func call(t *testing.T, h *Handlers, key string) (*httpapi.Response, error) {
	t.Helper()
	for _, rt := range h.Routes() {
		if rt.Key == key {
			method, path, _ := strings.Cut(key, " ")
			return rt.Handler(context.Background(), &httpapi.Request{
				Method: method, Path: path, RouteKey: key, Query: url.Values{}, Header: http.Header{}, RequestID: "req-test",
			})
		}
	}
	t.Fatalf("no route %q", key)
	return nil, nil
}

func mustCall(t *testing.T, h *Handlers, key string) *httpapi.Response {
	t.Helper()
	resp, err := call(t, h, key)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("%s: status %d", key, resp.Status)
	}
	return resp
}

func TestRoutesArePublic(t *testing.T) {
	want := []string{"GET /health", "GET /api-docs", "GET /api-docs/openapi.yaml", "GET /api-docs/openapi.json", "GET /changelog"}
	routes := (&Handlers{}).Routes()
	if len(routes) != len(want) {
		t.Fatalf("%d routes, want %d", len(routes), len(want))
	}
	for i, rt := range routes {
		if rt.Key != want[i] || rt.Access != httpapi.Public || rt.Handler == nil {
			t.Errorf("route %d = %q (access %v), want public %q", i, rt.Key, rt.Access, want[i])
		}
	}
}

func TestHealth(t *testing.T) {
	resp := mustCall(t, &Handlers{}, "GET /health")
	if got := string(resp.Body); got != `{"status":"ok"}` {
		t.Errorf("body = %s", got)
	}
	if got := resp.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q", got)
	}

	resp = mustCall(t, &Handlers{Ready: func(context.Context) error { return nil }}, "GET /health")
	if got := string(resp.Body); got != `{"status":"ok"}` {
		t.Errorf("ready: body = %s", got)
	}

	cause := errors.New("table unreachable")
	_, err := call(t, &Handlers{Ready: func(context.Context) error { return cause }}, "GET /health")
	if got := apperr.CodeOf(err); got != apperr.Unavailable {
		t.Errorf("not ready: code = %q, want %q (503)", got, apperr.Unavailable)
	}
	if !errors.Is(err, cause) {
		t.Error("not ready: the cause must be kept for the log")
	}
	if ae, _ := apperr.As(err); ae == nil || strings.Contains(ae.Message, "unreachable") {
		t.Errorf("not ready: the client message must not show the cause: %v", err)
	}
}

func TestPage(t *testing.T) {
	resp := mustCall(t, &Handlers{}, "GET /api-docs")
	for header, want := range map[string]string{
		"Content-Type":            "text/html; charset=utf-8",
		"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
		"Cache-Control":           "public, max-age=300",
	} {
		if got := resp.Header.Get(header); got != want {
			t.Errorf("%s = %q, want %q", header, got, want)
		}
	}
	page := string(resp.Body)

	// Self-contained: nothing the CSP would block, nothing fetched elsewhere.
	for _, banned := range []string{"<script", "<link", "<img", "<iframe", " src=", "@import", "url("} {
		if strings.Contains(strings.ToLower(page), banned) {
			t.Errorf("the page contains %q", banned)
		}
	}
	for _, want := range []string{`href="/api-docs/openapi.yaml"`, `href="/api-docs/openapi.json"`, `href="/changelog"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the page has no link %s", want)
		}
	}

	// Every operation, with its summary, parameters and responses.
	doc, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			article := section(t, page, `<article class="op" id="op-`+anchor(op.OperationID)+`">`)
			for _, want := range []string{
				`<span class="method ` + method + `">` + method + `</span><span class="path">` + path + `</span>`,
				escaped(op.Summary),
			} {
				if !strings.Contains(article, want) {
					t.Errorf("%s %s: the page lacks %q", method, path, want)
				}
			}
			for _, p := range op.Parameters {
				if !strings.Contains(article, "<code>"+p.Value.Name+"</code>") {
					t.Errorf("%s %s: parameter %s is not shown", method, path, p.Value.Name)
				}
			}
			for code := range op.Responses.Map() {
				if !strings.Contains(article, `<td class="status">`+code+`</td>`) {
					t.Errorf("%s %s: response %s is not shown", method, path, code)
				}
			}
		}
	}
	// Tags in the document's order.
	last := -1
	for _, tag := range doc.Tags {
		i := strings.Index(page, `<section id="tag-`+anchor(tag.Name)+`">`)
		if i < last {
			t.Errorf("tag %s is out of order", tag.Name)
		}
		last = i
	}
	// Descriptions are escaped, and the guide's sample keeps its key order.
	for _, want := range []string{
		"<code>Authorization: Bearer &lt;access_token&gt;</code>",
		"&#34;type&#34;: &#34;public_entity&#34;,\n  &#34;name&#34;: &#34;Mairie de Lyon&#34;,\n  &#34;siret&#34;: &#34;21690123400019&#34;",
		"grant_type=client_credentials&amp;client_id=votre_client_id",
		`<h3>Known errors in the integration guide / Erreurs connues du guide</h3>`,
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	// Every in-page link has its target.
	for _, m := range regexp.MustCompile(`href="#([^"]+)"`).FindAllStringSubmatch(page, -1) {
		if !strings.Contains(page, `id="`+m[1]+`"`) {
			t.Errorf("link #%s has no target", m[1])
		}
	}
}

// section returns the page from start to the end of its element.
func section(t *testing.T, page, start string) string {
	t.Helper()
	i := strings.Index(page, start)
	if i < 0 {
		t.Fatalf("the page has no %s", start)
	}
	j := strings.Index(page[i:], "</article>")
	return page[i : i+j]
}

// escaped escapes s as html/template does in text.
func escaped(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '\'':
			b.WriteString("&#39;")
		case '"':
			b.WriteString("&#34;")
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestRawDocuments(t *testing.T) {
	h := &Handlers{}
	resp := mustCall(t, h, "GET /api-docs/openapi.yaml")
	if got := resp.Header.Get("Content-Type"); got != "application/yaml" {
		t.Errorf("YAML Content-Type = %q", got)
	}
	if !bytes.Equal(resp.Body, openapi.YAML()) {
		t.Error("the YAML route does not serve the document")
	}
	if got := resp.Header.Get("Cache-Control"); got != "public, max-age=300" {
		t.Errorf("YAML Cache-Control = %q", got)
	}

	resp = mustCall(t, h, "GET /api-docs/openapi.json")
	if got := resp.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("JSON Content-Type = %q", got)
	}
	var doc map[string]any
	if err := json.Unmarshal(resp.Body, &doc); err != nil || doc["openapi"] != "3.0.3" {
		t.Errorf("the JSON route does not serve the document: %v", err)
	}

	resp = mustCall(t, h, "GET /changelog")
	if got := resp.Header.Get("Content-Type"); got != "text/markdown; charset=utf-8" {
		t.Errorf("changelog Content-Type = %q", got)
	}
	if !bytes.Equal(resp.Body, changelog) || !bytes.Contains(resp.Body, []byte("## v1.0.0")) {
		t.Error("the changelog route does not serve CHANGELOG.md with its v1.0.0 entry")
	}
}

// TestResponsesMatchTheDocument validates every answer of the family against
// the document, with the headers the edge adds.
func TestResponsesMatchTheDocument(t *testing.T) {
	v, err := openapi.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range (&Handlers{}).Routes() {
		method, path, _ := strings.Cut(rt.Key, " ")
		resp := mustCall(t, &Handlers{}, rt.Key)
		h := resp.Header.Clone()
		h.Set("X-Request-Id", "req-test")
		if err := v.ValidateResponse(method, path, "", nil, resp.Status, h, resp.Body); err != nil {
			t.Errorf("%s: %v", rt.Key, err)
		}
	}
}

func TestMarkdown(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"paragraphs", "one\ntwo\n\nthree", "<p>one two</p>\n<p>three</p>\n"},
		{"heading shifted", "## Errors", "<h3>Errors</h3>\n"},
		{"heading capped", "###### Deep", "<h6>Deep</h6>\n"},
		{"not a heading", "#hashtag", "<p>#hashtag</p>\n"},
		{"list with continuation", "- a\n  b\n- c", "<ul>\n<li>a b</li>\n<li>c</li>\n</ul>\n"},
		{"ordered list", "1. a\n2. b", "<ol>\n<li>a</li>\n<li>b</li>\n</ol>\n"},
		{"list then paragraph", "- a\ntext", "<ul>\n<li>a</li>\n</ul>\n<p>text</p>\n"},
		{"code span and bold", "use `a<b>` **now**", "<p>use <code>a&lt;b&gt;</code> <strong>now</strong></p>\n"},
		{"unpaired markers", "a ` b ** c", "<p>a ` b ** c</p>\n"},
		{"fence", "```\n{\"a\": \"<x>\"}\n```", "<pre><code>{&#34;a&#34;: &#34;&lt;x&gt;&#34;}</code></pre>\n"},
		{"escaping", `<script>alert("x")</script> & co`, "<p>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co</p>\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(markdown(tt.in, 1)); got != tt.want {
				t.Errorf("markdown(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestDocumentVersionIsTheNewestRelease keeps the document's info.version and
// the changelog's newest entry in step: a release that changes the API bumps
// both in the same commit.
func TestDocumentVersionIsTheNewestRelease(t *testing.T) {
	newest := regexp.MustCompile(`(?m)^## v(\d+\.\d+\.\d+) `).FindSubmatch(changelog)
	if newest == nil {
		t.Fatal("CHANGELOG.md has no '## vX.Y.Z ' entry")
	}
	version := regexp.MustCompile(`(?m)^  version: (\S+)$`).FindSubmatch(openapi.YAML())
	if version == nil {
		t.Fatal("the OpenAPI document has no info.version")
	}
	if string(version[1]) != string(newest[1]) {
		t.Errorf("OpenAPI info.version is %s, the newest changelog entry v%s", version[1], newest[1])
	}
}
