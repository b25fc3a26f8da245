// Package openapi holds the OpenAPI 3.0 document of the routes served today
// (openapi.yaml, embedded) and a validator that checks a response against it,
// so that tests catch any drift between the code and what partners are told.
//
// The document is OpenAPI 3.0.3 rather than 3.1 because kin-openapi, the
// validator used here, validates 3.0 documents.
package openapi

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
	"gopkg.in/yaml.v3"
)

//go:embed openapi.yaml
var spec []byte

// YAML returns the document as written (a copy: callers may keep or modify it).
func YAML() []byte { return bytes.Clone(spec) }

var specJSON = sync.OnceValues(func() ([]byte, error) { return YAMLToJSON(spec) })

// JSON returns the document converted to indented JSON, keys in the order the
// YAML gives them. The conversion runs once; each call returns a copy.
func JSON() ([]byte, error) {
	b, err := specJSON()
	if err != nil {
		return nil, err
	}
	return bytes.Clone(b), nil
}

// Load parses the document and validates it with kin-openapi (structure,
// references, and every example against its schema). Each call returns a new
// document, which the caller owns.
func Load() (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("openapi: load: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("openapi: validate: %w", err)
	}
	return doc, nil
}

// Validator checks responses against the document.
type Validator struct {
	router routers.Router
	routes []string
}

// NewValidator loads the document and indexes its operations by path. Servers
// are ignored: a route is matched on its path alone, whichever host (local
// stack, sandbox, production, a test server) answered. kin-openapi's legacy
// router is used: its gorillamux router would add github.com/gorilla/mux to
// the module for no gain here.
func NewValidator() (*Validator, error) {
	doc, err := Load()
	if err != nil {
		return nil, err
	}
	registerTextDecoders()
	doc.Servers = nil // the legacy router then matches the request path as is
	router, err := legacy.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("openapi: router: %w", err)
	}
	return &Validator{router: router, routes: routeKeys(doc)}, nil
}

// ValidateResponse checks one exchange: the request (method, path, raw query,
// headers) finds the documented operation, and the response's status, headers
// and body must match it. An undocumented route or status is an error. Requests
// themselves are not validated: tests send invalid ones on purpose.
func (v *Validator) ValidateResponse(method, path string, query string, reqHeader http.Header, status int, respHeader http.Header, body []byte) error {
	if reqHeader == nil {
		reqHeader = http.Header{}
	}
	if respHeader == nil {
		respHeader = http.Header{}
	}
	req := &http.Request{
		Method: strings.ToUpper(method),
		URL:    &url.URL{Path: path, RawQuery: query},
		Header: reqHeader,
		Host:   "localhost",
	}
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("openapi: %s %s is not documented: %w", req.Method, path, err)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 status,
		Header:                 respHeader,
		// Formats (date-time) are checked too. Errors name the field and the
		// reason without echoing the schema or the value (a value may be a
		// client secret).
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
			SchemaValidationOptions: []openapi3.SchemaValidationOption{
				openapi3.EnableFormatValidation(), openapi3.DisableSchemaErrorDetails(),
			},
		},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("openapi: %s %s answered %d: %w", req.Method, path, status, err)
	}
	return nil
}

// Routes lists every documented operation as "METHOD /path", sorted: the
// route keys of template.yaml and of the handlers.
func (v *Validator) Routes() []string { return append([]string(nil), v.routes...) }

func routeKeys(doc *openapi3.T) []string {
	var keys []string
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			keys = append(keys, method+" "+path)
		}
	}
	sort.Strings(keys)
	return keys
}

var registerOnce sync.Once

// registerTextDecoders lets openapi3filter read the HTML and Markdown bodies of
// the documentation routes as plain strings. kin-openapi keeps body decoders
// in a process-wide registry; only media types it has no decoder for are added.
func registerTextDecoders() {
	registerOnce.Do(func() {
		for _, mt := range []string{"text/html", "text/markdown"} {
			if openapi3filter.RegisteredBodyDecoder(mt) == nil {
				openapi3filter.RegisterBodyDecoder(mt, openapi3filter.PlainBodyDecoder)
			}
		}
	})
}

// YAMLToJSON converts one YAML document to indented JSON node by node, so that
// keys keep the order of the YAML (a generic map would sort them) and every key
// stays a string. JSON uses it; the HTML page uses it for the examples.
func YAMLToJSON(src []byte) ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, fmt.Errorf("openapi: yaml: %w", err)
	}
	var compact bytes.Buffer
	if err := writeJSON(&compact, &root); err != nil {
		return nil, fmt.Errorf("openapi: yaml to json: %w", err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		return nil, fmt.Errorf("openapi: yaml to json: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func writeJSON(w *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return fmt.Errorf("line %d: expected one document", n.Line)
		}
		return writeJSON(w, n.Content[0])
	case yaml.AliasNode:
		return writeJSON(w, n.Alias)
	case yaml.MappingNode:
		w.WriteByte('{')
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
				return fmt.Errorf("line %d: keys must be plain scalars", k.Line)
			}
			if seen[k.Value] {
				return fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
			}
			seen[k.Value] = true
			if i > 0 {
				w.WriteByte(',')
			}
			if err := writeScalar(w, k.Value); err != nil {
				return err
			}
			w.WriteByte(':')
			if err := writeJSON(w, v); err != nil {
				return err
			}
		}
		w.WriteByte('}')
		return nil
	case yaml.SequenceNode:
		w.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				w.WriteByte(',')
			}
			if err := writeJSON(w, c); err != nil {
				return err
			}
		}
		w.WriteByte(']')
		return nil
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str", "!!timestamp", "!!binary":
			return writeScalar(w, n.Value)
		case "!!null":
			w.WriteString("null")
			return nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			return fmt.Errorf("line %d: %s has no JSON form", n.Line, n.Value)
		}
		return writeScalar(w, v)
	}
	return fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// writeScalar writes v as JSON, leaving <, > and & as they are: the document's
// prose ("Bearer <access_token>") stays readable.
func writeScalar(w *bytes.Buffer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	w.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	return nil
}
