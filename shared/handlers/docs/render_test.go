package docs

import (
	"bytes"
	"fmt"
	"html/template"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"

	"github.com/modupay/modupay/shared/openapi"
)

// The page is rendered on the server from the loaded document, so it needs no
// script: a partner reads it with any browser, and the strict CSP holds.

type pageView struct {
	Title, Version string
	Intro          template.HTML
	Servers        []serverView
	Security       []securityView
	Tags           []tagView
	Responses      []responseView
	Schemas        []schemaView
}

type serverView struct{ URL, Description string }

type securityView struct {
	Name        string
	Kind        string
	Description template.HTML
}

type tagView struct {
	Name, Anchor string
	Description  template.HTML
	Ops          []opView
}

type opView struct {
	Anchor, Method, Path, Summary string
	Description                   template.HTML
	Auth                          string
	Params                        []paramView
	Bodies                        []mediaView
	Responses                     []responseView
}

type paramView struct {
	Name, In    string
	Required    bool
	Type        template.HTML
	Description template.HTML
}

type mediaView struct {
	MediaType string
	Type      template.HTML
	Examples  []exampleView
}

type exampleView struct{ Name, Text string }

type responseView struct {
	Status      string
	Ref, Anchor string // a common response, shown once with its examples
	Description template.HTML
	Headers     []string
	Media       []mediaView
}

type schemaView struct {
	Name, Anchor string
	Description  template.HTML
	Type         template.HTML
	Props        []propView
}

type propView struct {
	Name        string
	Required    bool
	Type        template.HTML
	Description template.HTML
}

var methodOrder = map[string]int{"GET": 0, "POST": 1, "PUT": 2, "PATCH": 3, "DELETE": 4}

// renderPage renders doc; src is the YAML it was loaded from, which keeps the
// examples' keys in the order they were written (the loaded document holds
// them in maps).
func renderPage(doc *openapi3.T, src []byte) ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, fmt.Errorf("docs: render: %w", err)
	}
	if root.Kind != yaml.DocumentNode || len(root.Content) != 1 {
		return nil, fmt.Errorf("docs: render: the document is not one YAML document")
	}
	y := source{root: root.Content[0]}
	v := pageView{Title: doc.Info.Title, Version: doc.Info.Version, Intro: markdown(doc.Info.Description, 1)}
	for _, s := range doc.Servers {
		v.Servers = append(v.Servers, serverView{URL: s.URL, Description: s.Description})
	}
	if doc.Components != nil {
		for _, name := range sortedKeys(doc.Components.SecuritySchemes) {
			s := doc.Components.SecuritySchemes[name].Value
			kind := s.Type
			if s.Scheme != "" {
				kind += " " + s.Scheme
			}
			v.Security = append(v.Security, securityView{Name: name, Kind: kind, Description: markdown(s.Description, 3)})
		}
	}

	byTag := map[string][]opView{}
	for _, p := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(p)
		for method, op := range item.Operations() {
			ov := operationView(doc, y, p, method, item, op)
			tag := "Other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			byTag[tag] = append(byTag[tag], ov)
		}
	}
	var tags []*openapi3.Tag
	known := map[string]bool{}
	for _, t := range doc.Tags {
		tags, known[t.Name] = append(tags, t), true
	}
	for _, name := range sortedKeys(byTag) {
		if !known[name] {
			tags = append(tags, &openapi3.Tag{Name: name})
		}
	}
	for _, t := range tags {
		ops := byTag[t.Name]
		if len(ops) == 0 {
			continue
		}
		sort.Slice(ops, func(i, j int) bool {
			if ops[i].Path != ops[j].Path {
				return ops[i].Path < ops[j].Path
			}
			return methodOrder[ops[i].Method] < methodOrder[ops[j].Method]
		})
		v.Tags = append(v.Tags, tagView{Name: t.Name, Anchor: "tag-" + anchor(t.Name), Description: markdown(t.Description, 2), Ops: ops})
	}

	if doc.Components != nil {
		for _, name := range sortedKeys(doc.Components.Responses) {
			r := doc.Components.Responses[name]
			if r == nil || r.Value == nil {
				continue
			}
			rv := responseItem(y, name, r.Value, y.get(y.root, "components", "responses", name, "content"))
			rv.Anchor = "response-" + anchor(name)
			v.Responses = append(v.Responses, rv)
		}
		for _, name := range sortedKeys(doc.Components.Schemas) {
			s := doc.Components.Schemas[name].Value
			sv := schemaView{Name: name, Anchor: "schema-" + anchor(name), Description: markdown(s.Description, 3)}
			if len(s.Properties) == 0 {
				sv.Type = typeHTML(&openapi3.SchemaRef{Value: s})
			}
			required := map[string]bool{}
			for _, r := range s.Required {
				required[r] = true
			}
			for _, pname := range propertyOrder(s) {
				ps := s.Properties[pname]
				desc := ""
				if ps.Value != nil {
					desc = ps.Value.Description
				}
				sv.Props = append(sv.Props, propView{Name: pname, Required: required[pname], Type: typeHTML(ps), Description: markdown(desc, 3)})
			}
			v.Schemas = append(v.Schemas, sv)
		}
	}

	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, v); err != nil {
		return nil, fmt.Errorf("docs: render: %w", err)
	}
	return buf.Bytes(), nil
}

func operationView(doc *openapi3.T, y source, p, method string, item *openapi3.PathItem, op *openapi3.Operation) opView {
	opNode := y.get(y.root, "paths", p, strings.ToLower(method))
	ov := opView{
		Anchor: "op-" + anchor(op.OperationID), Method: method, Path: p, Summary: op.Summary,
		Description: markdown(op.Description, 3), Auth: authText(doc, op),
	}
	if op.OperationID == "" {
		ov.Anchor = "op-" + anchor(method+" "+p)
	}
	params := append(append(openapi3.Parameters{}, item.Parameters...), op.Parameters...)
	for _, pr := range params {
		if pr == nil || pr.Value == nil {
			continue
		}
		pv := pr.Value
		ov.Params = append(ov.Params, paramView{
			Name: pv.Name, In: pv.In, Required: pv.Required, Type: typeHTML(pv.Schema), Description: markdown(pv.Description, 3),
		})
	}
	if op.RequestBody != nil && op.RequestBody.Value != nil {
		ov.Bodies = mediaViews(y, op.RequestBody.Value.Content, y.get(opNode, "requestBody", "content"))
	}
	if op.Responses != nil {
		codes := op.Responses.Keys()
		sort.Strings(codes)
		for _, code := range codes {
			rr := op.Responses.Value(code)
			if rr == nil || rr.Value == nil {
				continue
			}
			var rv responseView
			if rr.Ref != "" {
				// Common responses are listed once, with their examples.
				rv = responseItem(y, code, rr.Value, nil)
				rv.Ref = path.Base(rr.Ref)
				rv.Anchor = "response-" + anchor(rv.Ref)
			} else {
				rv = responseItem(y, code, rr.Value, y.get(opNode, "responses", code, "content"))
			}
			ov.Responses = append(ov.Responses, rv)
		}
	}
	return ov
}

func responseItem(y source, status string, r *openapi3.Response, contentNode *yaml.Node) responseView {
	rv := responseView{Status: status, Media: mediaViews(y, r.Content, contentNode), Headers: sortedKeys(r.Headers)}
	if r.Description != nil {
		rv.Description = markdown(*r.Description, 3)
	}
	return rv
}

func mediaViews(y source, content openapi3.Content, contentNode *yaml.Node) []mediaView {
	var out []mediaView
	for _, mt := range sortedKeys(content) {
		mv := mediaView{MediaType: mt, Type: typeHTML(content[mt].Schema)}
		mediaNode := y.get(contentNode, mt)
		if ex := y.get(mediaNode, "example"); ex != nil {
			mv.Examples = append(mv.Examples, exampleView{Text: exampleText(mt, ex)})
		}
		if exs := y.get(mediaNode, "examples"); exs != nil && exs.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(exs.Content); i += 2 {
				ex := y.resolve(exs.Content[i+1])
				label := exs.Content[i].Value
				if summary := y.get(ex, "summary"); summary != nil && summary.Value != "" {
					label = summary.Value
				}
				if value := y.get(ex, "value"); value != nil {
					mv.Examples = append(mv.Examples, exampleView{Name: label, Text: exampleText(mt, value)})
				}
			}
		}
		out = append(out, mv)
	}
	return out
}

// exampleText shows an example as it travels: a form as a form, else JSON,
// its keys in the order of the document.
func exampleText(mediaType string, n *yaml.Node) string {
	if mediaType == "application/x-www-form-urlencoded" && n.Kind == yaml.MappingNode {
		var pairs []string
		for i := 0; i+1 < len(n.Content); i += 2 {
			pairs = append(pairs, url.QueryEscape(n.Content[i].Value)+"="+url.QueryEscape(n.Content[i+1].Value))
		}
		return strings.Join(pairs, "&")
	}
	src, err := yaml.Marshal(n)
	if err == nil {
		var b []byte
		if b, err = openapi.YAMLToJSON(src); err == nil {
			return strings.TrimSpace(string(b))
		}
	}
	return n.Value
}

// source walks the YAML of the document; root is its top mapping.
type source struct{ root *yaml.Node }

// get follows keys through mappings, resolving local references ("$ref":
// "#/components/...") on the way; nil when a key is missing.
func (y source) get(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		n = y.resolve(n)
		if n == nil || n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
				break
			}
		}
		n = next
	}
	return y.resolve(n)
}

func (y source) resolve(n *yaml.Node) *yaml.Node {
	for range 8 { // references to references, within reason
		if n == nil || n.Kind != yaml.MappingNode {
			return n
		}
		var ref string
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "$ref" {
				ref = n.Content[i+1].Value
			}
		}
		pointer, ok := strings.CutPrefix(ref, "#/")
		if !ok {
			return n
		}
		var keys []string
		for _, k := range strings.Split(pointer, "/") {
			keys = append(keys, strings.ReplaceAll(strings.ReplaceAll(k, "~1", "/"), "~0", "~"))
		}
		n = y.get(y.root, keys...)
	}
	return n
}

// authText says how an operation authenticates: the document's default
// (Bearer) unless the operation overrides it.
func authText(doc *openapi3.T, op *openapi3.Operation) string {
	reqs := doc.Security
	if op.Security != nil {
		reqs = *op.Security
	}
	if len(reqs) == 0 {
		return "none (public)"
	}
	var alts []string
	for _, r := range reqs {
		if len(r) == 0 {
			alts = append(alts, "none")
			continue
		}
		var names []string
		for _, name := range sortedKeys(r) {
			label := name
			if doc.Components != nil {
				if s := doc.Components.SecuritySchemes[name]; s != nil && s.Value != nil {
					label += " (" + strings.TrimSpace(s.Value.Type+" "+s.Value.Scheme) + ")"
				}
			}
			names = append(names, label)
		}
		alts = append(alts, strings.Join(names, " + "))
	}
	return strings.Join(alts, " or ")
}

// typeHTML describes a schema in a few words, linking named schemas.
func typeHTML(ref *openapi3.SchemaRef) template.HTML {
	if ref == nil {
		return ""
	}
	if ref.Ref != "" {
		name := path.Base(ref.Ref)
		return template.HTML(`<a href="#schema-` + anchor(name) + `">` + template.HTMLEscapeString(name) + `</a>`)
	}
	s := ref.Value
	if s == nil {
		return ""
	}
	if len(s.OneOf) > 0 {
		var alts []string
		for _, o := range s.OneOf {
			alts = append(alts, string(typeHTML(o)))
		}
		return template.HTML(strings.Join(alts, " or "))
	}
	var b strings.Builder
	typ := strings.Join(s.Type.Slice(), " | ")
	if typ == "" {
		typ = "any"
	}
	if typ == "array" {
		b.WriteString("array of " + string(typeHTML(s.Items)))
	} else {
		b.WriteString(template.HTMLEscapeString(typ))
	}
	if s.Format != "" {
		b.WriteString(" (" + template.HTMLEscapeString(s.Format) + ")")
	}
	if s.Nullable {
		b.WriteString(" or null")
	}
	var notes []string
	if len(s.Enum) > 0 {
		var vals []string
		for _, e := range s.Enum {
			vals = append(vals, "<code>"+template.HTMLEscapeString(fmt.Sprint(e))+"</code>")
		}
		notes = append(notes, "one of "+strings.Join(vals, ", "))
	}
	if s.Min != nil || s.Max != nil {
		notes = append(notes, rangeText(s.Min, s.Max))
	}
	if s.MinLength > 0 || s.MaxLength != nil {
		var maxLen *float64
		if s.MaxLength != nil {
			m := float64(*s.MaxLength)
			maxLen = &m
		}
		var minLen *float64
		if s.MinLength > 0 {
			m := float64(s.MinLength)
			minLen = &m
		}
		notes = append(notes, rangeText(minLen, maxLen)+" characters")
	}
	if s.MaxItems != nil {
		notes = append(notes, "at most "+strconv.FormatUint(*s.MaxItems, 10)+" items")
	}
	if s.Pattern != "" {
		notes = append(notes, "pattern <code>"+template.HTMLEscapeString(s.Pattern)+"</code>")
	}
	if s.Default != nil {
		notes = append(notes, "default <code>"+template.HTMLEscapeString(fmt.Sprint(s.Default))+"</code>")
	}
	if len(notes) > 0 {
		b.WriteString("; " + strings.Join(notes, "; "))
	}
	return template.HTML(b.String())
}

func rangeText(lo, hi *float64) string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
	switch {
	case lo != nil && hi != nil:
		return f(*lo) + " to " + f(*hi)
	case lo != nil:
		return "at least " + f(*lo)
	default:
		return "at most " + f(*hi)
	}
}

// propertyOrder lists required properties first, in the order the schema
// requires them, then the others alphabetically.
func propertyOrder(s *openapi3.Schema) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range s.Required {
		if _, ok := s.Properties[r]; ok && !seen[r] {
			out, seen[r] = append(out, r), true
		}
	}
	for _, name := range sortedKeys(s.Properties) {
		if !seen[name] {
			out = append(out, name)
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// anchor turns a name into an HTML id fragment.
func anchor(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} {{.Version}}</title>
<style>
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;margin:0;background:#f6f7f9}
main{max-width:960px;margin:0 auto;padding:24px}
nav{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:12px 20px;margin:16px 0}
nav ul{margin:4px 0;padding-left:20px}
h1{margin:0 0 4px}
h2{border-bottom:2px solid #dde1e7;padding-bottom:4px;margin-top:40px}
code,pre{font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#eef0f3;border-radius:3px}
code{padding:1px 4px}
pre{padding:10px;overflow-x:auto}
pre code{padding:0;background:none}
.op{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:12px 20px;margin:16px 0}
.op h3{margin:4px 0;font-size:17px}
.method{display:inline-block;min-width:64px;text-align:center;border-radius:4px;color:#fff;font:bold 13px ui-monospace,monospace;padding:2px 6px;margin-right:8px}
.GET{background:#2f6fb5}.POST{background:#2e8b57}.DELETE{background:#b53a2f}.PUT,.PATCH{background:#b5862f}
.path{font:bold 15px ui-monospace,monospace}
.auth{color:#5b6472;font-size:13px}
table{border-collapse:collapse;width:100%;margin:8px 0}
th,td{text-align:left;vertical-align:top;border-top:1px solid #e6e8ec;padding:6px 8px;font-size:14px}
th{background:#f0f2f5}
td p{margin:0 0 4px}
.req{color:#b53a2f;font-size:12px}
.status{font:bold 14px ui-monospace,monospace}
details{margin:4px 0}
summary{cursor:pointer;color:#2f6fb5}
</style>
</head>
<body>
<main>
<header>
<h1>{{.Title}}</h1>
<p>Version {{.Version}} · OpenAPI document: <a href="/api-docs/openapi.yaml">YAML</a> · <a href="/api-docs/openapi.json">JSON</a> · <a href="/changelog">Changelog</a></p>
</header>
<nav>
<strong>Contents</strong>
<ul>
<li><a href="#conventions">Conventions</a></li>
{{range .Tags}}<li><a href="#{{.Anchor}}">{{.Name}}</a><ul>
{{range .Ops}}<li><a href="#{{.Anchor}}"><code>{{.Method}} {{.Path}}</code></a> {{.Summary}}</li>
{{end}}</ul></li>
{{end}}<li><a href="#responses">Common responses</a></li>
<li><a href="#schemas">Schemas</a></li>
</ul>
</nav>
<section id="conventions">
<h2>Conventions</h2>
{{.Intro}}
<h3>Servers</h3>
<ul>{{range .Servers}}<li><code>{{.URL}}</code> {{.Description}}</li>{{end}}</ul>
<h3>Security schemes</h3>
<ul>{{range .Security}}<li><code>{{.Name}}</code> ({{.Kind}}): {{.Description}}</li>{{end}}</ul>
</section>
{{range .Tags}}
<section id="{{.Anchor}}">
<h2>{{.Name}}</h2>
{{.Description}}
{{range .Ops}}
<article class="op" id="{{.Anchor}}">
<h3><span class="method {{.Method}}">{{.Method}}</span><span class="path">{{.Path}}</span></h3>
<p><strong>{{.Summary}}</strong> <span class="auth">Authentication: {{.Auth}}</span></p>
{{.Description}}
{{if .Params}}<h4>Parameters</h4>
<table><tr><th>Name</th><th>In</th><th>Type</th><th>Description</th></tr>
{{range .Params}}<tr><td><code>{{.Name}}</code>{{if .Required}} <span class="req">required</span>{{end}}</td><td>{{.In}}</td><td>{{.Type}}</td><td>{{.Description}}</td></tr>
{{end}}</table>{{end}}
{{if .Bodies}}<h4>Request body</h4>
{{range .Bodies}}<p><code>{{.MediaType}}</code>: {{.Type}}</p>
{{range .Examples}}<details><summary>Example{{if .Name}}: {{.Name}}{{end}}</summary><pre><code>{{.Text}}</code></pre></details>
{{end}}{{end}}{{end}}
<h4>Responses</h4>
<table><tr><th>Status</th><th>Description</th><th>Body</th></tr>
{{range .Responses}}<tr><td class="status">{{.Status}}</td><td>{{.Description}}{{if .Ref}}<p>Common response <a href="#{{.Anchor}}">{{.Ref}}</a></p>{{end}}{{if .Headers}}<p>Headers: {{range $i, $h := .Headers}}{{if $i}}, {{end}}<code>{{$h}}</code>{{end}}</p>{{end}}</td><td>{{range .Media}}<p><code>{{.MediaType}}</code>: {{.Type}}</p>{{range .Examples}}<details><summary>Example{{if .Name}}: {{.Name}}{{end}}</summary><pre><code>{{.Text}}</code></pre></details>{{end}}{{end}}</td></tr>
{{end}}</table>
</article>
{{end}}
</section>
{{end}}
<section id="responses">
<h2>Common responses</h2>
{{range .Responses}}
<article class="op" id="{{.Anchor}}">
<h3>{{.Status}}</h3>
{{.Description}}
{{if .Headers}}<p>Headers: {{range $i, $h := .Headers}}{{if $i}}, {{end}}<code>{{$h}}</code>{{end}}</p>{{end}}
{{range .Media}}<p><code>{{.MediaType}}</code>: {{.Type}}</p>
{{range .Examples}}<details><summary>Example{{if .Name}}: {{.Name}}{{end}}</summary><pre><code>{{.Text}}</code></pre></details>
{{end}}{{end}}
</article>
{{end}}
</section>
<section id="schemas">
<h2>Schemas</h2>
{{range .Schemas}}
<article class="op" id="{{.Anchor}}">
<h3>{{.Name}}</h3>
{{.Description}}
{{if .Type}}<p>{{.Type}}</p>{{end}}
{{if .Props}}<table><tr><th>Field</th><th>Type</th><th>Description</th></tr>
{{range .Props}}<tr><td><code>{{.Name}}</code>{{if .Required}} <span class="req">required</span>{{end}}</td><td>{{.Type}}</td><td>{{.Description}}</td></tr>
{{end}}</table>{{end}}
</article>
{{end}}
</section>
</main>
</body>
</html>
`))
