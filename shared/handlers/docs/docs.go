// Package docs serves the platform routes: the health check, the OpenAPI
// document (as an HTML page, YAML and JSON) and the changelog. They are public
// and make no data access.
package docs

import (
	"context"
	_ "embed"
	"net/http"
	"sync"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/openapi"
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

// renderedPage is built once per container from the embedded document.
var renderedPage = sync.OnceValues(func() ([]byte, error) {
	doc, err := openapi.Load()
	if err != nil {
		return nil, err
	}
	return renderPage(doc, openapi.YAML())
})

func (h *Handlers) page(context.Context, *httpapi.Request) (*httpapi.Response, error) {
	b, err := renderedPage()
	if err != nil {
		return nil, apperr.Wrap("docs.page", err)
	}
	resp := document("text/html; charset=utf-8", b)
	resp.Header.Set("Content-Security-Policy", pageCSP)
	resp.Header.Set("Referrer-Policy", "no-referrer")
	return resp, nil
}

func (h *Handlers) yaml(context.Context, *httpapi.Request) (*httpapi.Response, error) {
	return document("application/yaml", openapi.YAML()), nil
}

func (h *Handlers) json(context.Context, *httpapi.Request) (*httpapi.Response, error) {
	b, err := openapi.JSON()
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
