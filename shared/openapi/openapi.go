// Package openapi holds the OpenAPI 3.0 document of the routes served today
// (openapi.yaml, embedded) and a validator that checks a response against it,
// so that tests catch any drift between the code and what partners are told.
//
// The document is OpenAPI 3.0.3 rather than 3.1 because kin-openapi, the
// validator used here, validates 3.0 documents.
package openapi

import (
	"context"
	_ "embed"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/modupay/modupay/shared/openapi/document"
)

// spec is the document (package document holds it, without the validator,
// for the function that serves it).
var spec = document.YAML()

// YAML returns the document as written (a copy: callers may keep or modify it).
func YAML() []byte { return document.YAML() }

// JSON returns the document converted to indented JSON (document.JSON).
func JSON() ([]byte, error) { return document.JSON() }

// YAMLToJSON converts a YAML document to indented JSON (document.YAMLToJSON).
func YAMLToJSON(src []byte) ([]byte, error) { return document.YAMLToJSON(src) }

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
