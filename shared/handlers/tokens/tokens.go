// Package tokens serves the auth family: the token endpoint and the
// organisation-scoped API clients. It translates HTTP to the credential
// service and back; the rules live in the service.
package tokens

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/credential"
	"github.com/modupay/modupay/shared/httpapi"
)

// Handlers holds the family's dependencies.
type Handlers struct {
	Credentials *credential.Service
}

// Routes lists the family's routes, keyed as in template.yaml.
func (h *Handlers) Routes() []httpapi.Route {
	return []httpapi.Route{
		{Key: "POST /v1/auth/token", Access: httpapi.Public, Handler: h.token,
			Consumes: []string{"application/json", "application/x-www-form-urlencoded"}},
		{Key: "POST /v1/organizations/{org_id}/api_clients", Tenancy: httpapi.OrgInPath, Action: auth.ActionAPIClientsManage, Handler: h.create, Redact: []string{"client_secret"}},
		{Key: "GET /v1/organizations/{org_id}/api_clients", Tenancy: httpapi.OrgInPath, Action: auth.ActionAPIClientsManage, Handler: h.list},
		{Key: "DELETE /v1/organizations/{org_id}/api_clients/{client_id}", Tenancy: httpapi.OrgInPath, Action: auth.ActionAPIClientsManage, Handler: h.revoke},
	}
}

// oauthError is RFC 6749 §5.2's error body, plus the request id.
type oauthError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
	RequestID   string `json:"request_id"`
}

func (h *Handlers) token(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	treq, oerr := parseTokenRequest(r.Header.Get("Content-Type"), r.Body, r.Header.Get("Authorization"))
	if oerr == nil {
		tok, err := h.Credentials.Token(ctx, treq.TokenRequest, r.SourceIP)
		if err == nil {
			r.Identify(tok.Principal) // the API call log keeps issued tokens under the client's tenant
			resp, err := httpapi.JSON(http.StatusOK, tok)
			if err != nil {
				return nil, err
			}
			resp.Header.Set("Pragma", "no-cache")
			return resp, nil
		}
		if !errors.As(err, &oerr) {
			return nil, err
		}
	}
	b, _ := json.Marshal(oauthError{Error: oerr.Code, Description: oerr.Description, RequestID: r.RequestID})
	status := oauthStatus(oerr.Code)
	resp := httpapi.Raw(status, "application/json", b)
	if len(oerr.RateLimits) > 0 {
		httpapi.SetRateLimitHeaders(resp.Header, status == http.StatusTooManyRequests, oerr.RateLimits...)
	}
	if status == http.StatusUnauthorized && (treq.usedBasic || strings.HasPrefix(strings.ToLower(r.Header.Get("Authorization")), "basic")) {
		resp.Header.Set("WWW-Authenticate", `Basic realm="modupay"`)
	}
	return resp, nil
}

// createdClient is the creation response: the only time the secret is shown.
type createdClient struct {
	credential.PublicClient
	ClientSecret string `json:"client_secret"`
}

func (h *Handlers) create(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	var in credential.CreateInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	c, err := h.Credentials.CreateClient(ctx, t.PartnerID, t.OrgID, r.Actor(), in)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusCreated, createdClient{PublicClient: credential.Public(c.Client), ClientSecret: c.Secret})
}

func (h *Handlers) list(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	q, err := r.PageParams()
	if err != nil {
		return nil, err
	}
	page, err := h.Credentials.List(ctx, t.PartnerID, t.OrgID, q)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, httpapi.NewList(q, page, credential.Public))
}

func (h *Handlers) revoke(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	c, err := h.Credentials.Revoke(ctx, t.PartnerID, t.OrgID, r.PathParams["client_id"], r.Actor())
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, credential.Public(c))
}
