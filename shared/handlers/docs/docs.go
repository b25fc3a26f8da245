// Package docs serves the platform routes: the health check, the OpenAPI
// document (as an HTML page, YAML and JSON) and the changelog. They are public
// and make no data access.
package docs

import (
	"context"
	_ "embed"
	"net/http"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/httpapi"
	spec "github.com/modupay/modupay/shared/openapi/document"
)

//go:embed CHANGELOG.md
var changelog []byte

const (
	// cacheDocs lets browsers and proxies keep the documents five minutes: they
	// change only with a deployment.
	cacheDocs = "public, max-age=300"
	// pageCSP allows the page nothing but its own inline style: no script, no
	// image, no font, no frame, no connection.
	pageCSP = "default-src 'none'; style-src 'unsafe-inline'"
)

// Handlers holds the family's dependencies.
type Handlers struct {
	// Ready reports whether the function can serve requests; nil means always.
	Ready func(ctx context.Context) error
}

// Routes lists the family's routes, keyed as in template.yaml.
func (h *Handlers) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Key: "GET /health", Access: httpapi.Public, Handler: h.health},
		{Key: "GET /api-docs", Access: httpapi.Public, Handler: h.page},
		{Key: "GET /api-docs/openapi.yaml", Access: httpapi.Public, Handler: h.yaml},
		{Key: "GET /api-docs/openapi.json", Access: httpapi.Public, Handler: h.json},
		{Key: "GET /changelog", Access: httpapi.Public, Handler: h.changelog},
	}
}

// health answers 200 {"status":"ok"}, or 503 in the /v1 error shape when Ready
// fails (its cause is logged by the edge, never shown).
func (h *Handlers) health(ctx context.Context, _ *httpapi.Request) (*httpapi.Response, error) {
	if h.Ready != nil {
		if err := h.Ready(ctx); err != nil {
			e := apperr.E("docs.health", apperr.Unavailable, "the service is not ready, retry later")
			e.Err = err
			return nil, e
		}
	}
	return httpapi.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// page.html is the page rendered from the document, kept beside it:
// rendering needs the OpenAPI library, which validates the document and
// costs every cold start of this function more than its whole init without
// it. TestPageIsCurrent fails when the file no longer matches the document
// (go test ./shared/handlers/docs -update rewrites it).
//
//go:embed page.html
var pageHTML []byte

func (h *Handlers) page(context.Context, *httpapi.Request) (*httpapi.Response, error) {
	resp := document("text/html; charset=utf-8", pageHTML)
	resp.Header.Set("Content-Security-Policy", pageCSP)
	resp.Header.Set("Referrer-Policy", "no-referrer")
	return resp, nil
}

func (h *Handlers) yaml(context.Context, *httpapi.Request) (*httpapi.Response, error) {
	return document("application/yaml", spec.YAML()), nil
}

func (h *Handlers) json(context.Context, *httpapi.Request) (*httpapi.Response, error) {
	b, err := spec.JSON()
	if err != nil {
		return nil, apperr.Wrap("docs.json", err)
	}
	return document("application/json", b), nil
}

func (h *Handlers) changelog(context.Context, *httpapi.Request) (*httpapi.Response, error) {
	return document("text/markdown; charset=utf-8", changelog), nil
}

func document(contentType string, body []byte) *httpapi.Response {
	resp := httpapi.Raw(http.StatusOK, contentType, body)
	resp.Header.Set("Cache-Control", cacheDocs)
	return resp
}
