package httpapi

import (
	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/event"
)

// Tenant is the partner and organisation a request acts for. Stores put both
// in every key, so a lookup with another tenant's ids simply finds nothing.
type Tenant struct {
	PartnerID string
	OrgID     string
}

// EntityOrg resolves the organisation of an organisation-level route that
// takes it from the X-Entity-Id header: a partner token must name it; an
// organisation token acts on its own, and naming another is answered exactly
// like an organisation that does not exist (404), so ids leak nothing.
func (r *Request) EntityOrg() (Tenant, error) {
	const op = "http.tenant"
	p := r.Principal
	entity := r.Header.Get("X-Entity-Id")
	if p.Scope == auth.ScopeOrganization {
		if entity != "" && entity != p.OrgID {
			return Tenant{}, apperr.E(op, apperr.NotFound, "organization not found")
		}
		return Tenant{PartnerID: p.PartnerID, OrgID: p.OrgID}, nil
	}
	if entity == "" {
		return Tenant{}, &apperr.Error{Op: op, Code: apperr.Malformed, Param: "X-Entity-Id",
			Message: "the X-Entity-Id header must name the organization a partner token acts on"}
	}
	return Tenant{PartnerID: p.PartnerID, OrgID: entity}, nil
}

// PathOrg resolves the organisation named in the path (/v1/organizations/{org_id}/...),
// with the same rule: an organisation token reaches only its own.
func (r *Request) PathOrg(param string) (Tenant, error) {
	const op = "http.tenant"
	p := r.Principal
	org := r.PathParams[param]
	ent := r.Header.Get("X-Entity-Id")
	if p.Scope == auth.ScopeOrganization && (org != p.OrgID || (ent != "" && ent != p.OrgID)) {
		return Tenant{}, apperr.E(op, apperr.NotFound, "organization not found")
	}
	if ent != "" && ent != org {
		return Tenant{}, &apperr.Error{Op: op, Code: apperr.Malformed, Param: "X-Entity-Id",
			Message: "X-Entity-Id names another organization than the path"}
	}
	return Tenant{PartnerID: p.PartnerID, OrgID: org}, nil
}

// RequirePartner refuses organisation tokens on partner-level routes.
func (r *Request) RequirePartner() error {
	if r.Principal.Scope != auth.ScopePartner {
		return apperr.E("http.scope", apperr.Forbidden, "this route needs a partner token (scope \"partner\")")
	}
	return nil
}

// RequireRole refuses organisation tokens whose role is not listed. Partner
// tokens act with every right on their own organisations.
func (r *Request) RequireRole(roles ...auth.Role) error {
	p := r.Principal
	if p.Scope == auth.ScopePartner {
		return nil
	}
	for _, role := range roles {
		if p.Role == role {
			return nil
		}
	}
	return apperr.E("http.role", apperr.Forbidden, "the role \""+string(p.Role)+"\" may not do this")
}

// Actor is who the audit trail and events say acted: the API client, its
// scope, the caller's address and the request id that ties them to the logs.
func (r *Request) Actor() event.Actor {
	a := event.Actor{IPAddress: r.SourceIP, RequestID: r.RequestID, Type: "system", ID: "system"}
	if p := r.Principal; p != nil {
		a.ID, a.Type = p.ClientID, string(p.Scope)
	}
	return a
}
