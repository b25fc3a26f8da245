package auth

import "time"

// Scope is the level a token acts at: a whole partner, or one organisation of
// a partner.
type Scope string

// The two token scopes.
const (
	ScopePartner      Scope = "partner"
	ScopeOrganization Scope = "organization"
)

// Valid reports whether s is one of the defined scopes.
func (s Scope) Valid() bool {
	return s == ScopePartner || s == ScopeOrganization
}

// Role is what an organisation-scoped client may do inside its organisation.
// Partner-scoped principals have no role.
type Role string

// The organisation roles.
const (
	RoleAdmin            Role = "admin"
	RoleFinanceManager   Role = "finance_manager"
	RolePortfolioManager Role = "portfolio_manager"
	RoleAnalyst          Role = "analyst"
)

// Valid reports whether r is one of the defined roles. The empty role is not
// valid (partner principals have no role, and do not ask).
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleFinanceManager, RolePortfolioManager, RoleAnalyst:
		return true
	}
	return false
}

// Principal is who a verified token speaks for. Partner tokens have OrgID ""
// and Role "".
//
// The shape rules, enforced both by Issuer.Issue and by Verifier.Verify, are:
// ClientID and PartnerID are non-empty; Scope is ScopePartner or
// ScopeOrganization; a partner principal has no OrgID, Role or
// PortfolioLimited; an organisation principal has an OrgID and a valid Role;
// PortfolioLimited is only set for RolePortfolioManager.
type Principal struct {
	ClientID  string
	PartnerID string
	OrgID     string
	Scope     Scope
	Role      Role
	// PortfolioLimited: a portfolio_manager limited to some portfolios. The
	// list is on the client's record (credential.Client.PortfolioIDs), read
	// by the routes that serve portfolios, so no token grows with it.
	PortfolioLimited bool
	TokenID          string // jti
	IssuedAt         time.Time
	ExpiresAt        time.Time
}

// checkShape validates the identity fields of a principal (everything except
// TokenID and the times). It returns a short reason, or "" when the shape is
// valid. The reasons name the JWT claim involved so that Verify can report them
// as they are.
func checkShape(clientID, partnerID, orgID string, scope Scope, role Role, pfl bool) string {
	switch {
	case clientID == "":
		return "missing claim sub"
	case partnerID == "":
		return "missing claim pid"
	case scope == "":
		return "missing claim scope"
	case !scope.Valid():
		return "invalid scope"
	}
	if scope == ScopePartner {
		switch {
		case orgID != "":
			return "partner scope with oid"
		case role != "":
			return "partner scope with role"
		case pfl:
			return "partner scope with pfl"
		}
		return ""
	}
	switch {
	case orgID == "":
		return "missing claim oid"
	case role == "":
		return "missing claim role"
	case !role.Valid():
		return "invalid role"
	case pfl && role != RolePortfolioManager:
		return "pfl without portfolio_manager role"
	}
	return ""
}
