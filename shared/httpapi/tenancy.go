package httpapi

import (
	"fmt"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/event"
)

// Tenant is the partner and organisation a request acts for. Stores put both
// in every key, so a lookup with another tenant's ids simply finds nothing.
// OrgID is empty only on OrgOfResource routes called by a partner token
// without X-Entity-Id: the resource may then be any of the partner's
// organisations' (its own id names it, its stored organisation is checked).
type Tenant struct {
	PartnerID string
	OrgID     string
}

// Tenancy says where an authenticated route finds the organisation it acts
// on. Every Bearer route declares one (New refuses a route without), and the
// edge resolves it once, before the handler runs, into Request.Tenant:
// handlers never read X-Entity-Id or build a scope of their own.
type Tenancy int

const (
	tenancyUnset Tenancy = iota
	// PartnerLevel: the partner's own resources (organisation list and
	// creation, partner branding, webhook subscriptions). Organisation tokens
	// are refused with 403.
	PartnerLevel
	// OrgInPath: /v1/organizations/{org_id}/…
	OrgInPath
	// OrgInEntity: the X-Entity-Id header, which a partner token must send.
	OrgInEntity
	// OrgOfResource: a resource reached by its own id (/v1/departments/{dept_id}).
	// A partner token reaches any of its organisations' (narrowed to
	// X-Entity-Id when sent); an organisation token its own organisation's.
	OrgOfResource
)

func (t Tenancy) String() string {
	switch t {
	case PartnerLevel:
		return "partner"
	case OrgInPath:
		return "org_in_path"
	case OrgInEntity:
		return "org_in_entity"
	case OrgOfResource:
		return "org_of_resource"
	}
	return fmt.Sprintf("tenancy(%d)", int(t))
}

// errOrgNotFound is the one answer to an organisation the caller may not
// reach: the same as for an organisation that does not exist, so ids leak
// nothing.
func errOrgNotFound() error {
	return apperr.OrganizationNotFound("http.tenant")
}

// resolveTenant is the tenancy rule, in one place:
//
//   - An organisation-scoped principal is bound to its own organisation. An
//     X-Entity-Id or an {org_id} naming any other organisation — a sibling of
//     the same partner included — is answered exactly like an organisation
//     that does not exist (404), on every route, whatever the role.
//   - A partner principal may act on any of its organisations; the partner id
//     comes from its token and is part of every key, so another partner's ids
//     find nothing (404 again).
func resolveTenant(r *Request, t Tenancy) (Tenant, error) {
	const op = "http.tenant"
	p := r.Principal
	entity := r.Header.Get("X-Entity-Id")
	if p.Scope == auth.ScopeOrganization {
		if entity != "" && entity != p.OrgID {
			return Tenant{}, errOrgNotFound()
		}
		own := Tenant{PartnerID: p.PartnerID, OrgID: p.OrgID}
		switch t {
		case PartnerLevel:
			return Tenant{}, apperr.E("http.scope", apperr.Forbidden, "this route needs a partner token (scope \"partner\")")
		case OrgInPath:
			if r.PathParams["org_id"] != p.OrgID {
				return Tenant{}, errOrgNotFound()
			}
		}
		return own, nil
	}
	switch t {
	case PartnerLevel:
		return Tenant{PartnerID: p.PartnerID}, nil
	case OrgInPath:
		org := r.PathParams["org_id"]
		if entity != "" && entity != org {
			return Tenant{}, &apperr.Error{Op: op, Code: apperr.Malformed, Param: "X-Entity-Id",
				Message: "X-Entity-Id names another organization than the path"}
		}
		return Tenant{PartnerID: p.PartnerID, OrgID: org}, nil
	case OrgInEntity:
		if entity == "" {
			return Tenant{}, &apperr.Error{Op: op, Code: apperr.Malformed, Param: "X-Entity-Id",
				Message: "the X-Entity-Id header must name the organization a partner token acts on"}
		}
		return Tenant{PartnerID: p.PartnerID, OrgID: entity}, nil
	case OrgOfResource:
		return Tenant{PartnerID: p.PartnerID, OrgID: entity}, nil
	}
	return Tenant{}, apperr.Wrap(op, fmt.Errorf("route %s declares no tenancy", r.RouteKey))
}

// authorize applies the role matrix: partner tokens act with every right on
// their own organisations, organisation tokens with their role's.
func authorize(p *auth.Principal, a auth.Action) error {
	if auth.Allowed(*p, a) {
		return nil
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
