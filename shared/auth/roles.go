package auth

import (
	"maps"
	"slices"
)

// Action is one thing an authenticated request does, named
// "<family>.<verb>". Every authenticated route declares the action it
// performs, and the edge asks Allowed once per request, after tenancy is
// resolved and before the handler runs: no handler checks a role.
type Action string

// The actions of the API's routes, by family.
const (
	// Organisations. Creating and listing them is the partner's business: an
	// organisation token neither sees its siblings nor makes new ones.
	ActionOrganizationsList   Action = "organizations.list"
	ActionOrganizationsCreate Action = "organizations.create"
	ActionOrganizationsRead   Action = "organizations.read"
	ActionOrganizationsWrite  Action = "organizations.write"

	// The organisation's structure: departments, their payout bank accounts
	// and their KYC.
	ActionDepartmentsRead   Action = "departments.read"
	ActionDepartmentsWrite  Action = "departments.write"
	ActionBankAccountsRead  Action = "bank_accounts.read"
	ActionBankAccountsWrite Action = "bank_accounts.write"
	ActionKYCRead           Action = "kyc.read"
	ActionKYCWrite          Action = "kyc.write"

	// White label: the organisation's override, and the partner's own.
	ActionBrandingRead         Action = "branding.read"
	ActionBrandingWrite        Action = "branding.write"
	ActionPartnerBrandingRead  Action = "partner_branding.read"
	ActionPartnerBrandingWrite Action = "partner_branding.write"

	// The organisation's API clients: creating, listing and revoking them.
	ActionAPIClientsManage Action = "api_clients.manage"

	// Invoicing and collection.
	ActionInvoicesRead       Action = "invoices.read"
	ActionInvoicesWrite      Action = "invoices.write"
	ActionPaymentLinksRead   Action = "payment_links.read"
	ActionPaymentLinksWrite  Action = "payment_links.write"
	ActionPaymentIntentsRead Action = "payment_intents.read"
	// Recording how a transfer the bank lost track of ended (received or
	// not): it pays the invoice, like confirming a refund moves money.
	ActionPaymentIntentsResolve Action = "payment_intents.resolve"
	// Correcting a payer's contact details on an invoice of any status.
	ActionInvoicesRectifyPayer Action = "invoices.rectify_payer"

	// A payer's rights under the GDPR, per organisation: reading all that is
	// held about an email, and erasing it.
	ActionDataSubjectsExport Action = "data_subjects.export"
	ActionDataSubjectsErase  Action = "data_subjects.erase"

	// Webhook subscriptions and their deliveries belong to the partner.
	ActionWebhooksRead  Action = "webhooks.read"
	ActionWebhooksWrite Action = "webhooks.write"
	// The partner dashboard's own pages that show no tenant data: the home
	// page (who is signed in) and signing out. Its other pages and forms
	// declare the API action whose service they call.
	ActionDashboardUse Action = "dashboard.use"

	// Families to come, decided here so that their routes only name them.
	ActionRefundsRead          Action = "refunds.read"
	ActionRefundsCreate        Action = "refunds.create"
	ActionAuditRead            Action = "audit.read"
	ActionPaymentOrdersRead    Action = "payment_orders.read"
	ActionPaymentOrdersCreate  Action = "payment_orders.create"
	ActionPaymentOrdersUpdate  Action = "payment_orders.update"
	ActionPaymentOrdersApprove Action = "payment_orders.approve"
	ActionPaymentOrdersCancel  Action = "payment_orders.cancel"
	ActionPaymentOrdersDelete  Action = "payment_orders.delete"
	ActionPortfoliosRead       Action = "portfolios.read"
	ActionPortfoliosWrite      Action = "portfolios.write"
	ActionPortfoliosFund       Action = "portfolios.fund"
)

// Shorthands for the matrix rows.
var (
	everyRole      = []Role{RoleAdmin, RoleFinanceManager, RolePortfolioManager, RoleAnalyst}
	adminOnly      = []Role{RoleAdmin}
	finance        = []Role{RoleAdmin, RoleFinanceManager}
	partnerOnly    = []Role{}
	orderPreparers = []Role{RoleAdmin, RoleFinanceManager, RolePortfolioManager}
)

// matrix is the role rule, in one place: for each action, the organisation
// roles that may do it. A partner token may do every action on its own
// organisations (Allowed); an action with no role is the partner's alone.
// An action missing from the matrix is refused to everyone.
//
// Reads are open to every role, writes are not: the role an API client gets
// is the least its integration needs.
var matrix = map[Action][]Role{
	ActionOrganizationsList:   partnerOnly,
	ActionOrganizationsCreate: partnerOnly,
	ActionOrganizationsRead:   everyRole,
	ActionOrganizationsWrite:  adminOnly,

	// Who is paid, and where the money goes (payout accounts, KYC), is the
	// organisation admin's alone.
	ActionDepartmentsRead:   everyRole,
	ActionDepartmentsWrite:  adminOnly,
	ActionBankAccountsRead:  everyRole,
	ActionBankAccountsWrite: adminOnly,
	ActionKYCRead:           everyRole,
	ActionKYCWrite:          adminOnly,

	ActionBrandingRead:         everyRole,
	ActionBrandingWrite:        adminOnly,
	ActionPartnerBrandingRead:  partnerOnly,
	ActionPartnerBrandingWrite: partnerOnly,

	// Listing clients is kept to admins too: the list says which roles
	// exist and which portfolios each client reaches.
	ActionAPIClientsManage: adminOnly,

	ActionInvoicesRead:          everyRole,
	ActionInvoicesWrite:         finance,
	ActionPaymentLinksRead:      everyRole,
	ActionPaymentLinksWrite:     finance,
	ActionPaymentIntentsRead:    everyRole,
	ActionPaymentIntentsResolve: finance,
	// The finance roles write invoices, so they fix a payer's contact
	// details too; every rectification is audited with before and after.
	ActionInvoicesRectifyPayer: finance,

	// Answering a payer's access or erasure request is the organisation's
	// decision as data controller, and both reach every invoice of the
	// payer at once (an export copies them all out, an erasure cannot be
	// undone): the admin's alone, like the organisation's other
	// irreversible settings.
	ActionDataSubjectsExport: adminOnly,
	ActionDataSubjectsErase:  adminOnly,

	ActionWebhooksRead:  partnerOnly,
	ActionWebhooksWrite: partnerOnly,
	// Whoever may sign in may see who it is and sign out.
	ActionDashboardUse: everyRole,

	// A refund sends money out of the organisation: the finance roles only,
	// like approving a payment order. An analyst observes; a portfolio
	// manager runs portfolios, not the collection side.
	ActionRefundsRead:   everyRole,
	ActionRefundsCreate: finance,

	// The audit trail is read by those who answer for the organisation's
	// controls: admins, finance managers, and analysts, whose work
	// (reconciliation, internal control) is reading it — they cannot change
	// anything it records. Portfolio managers may not: the trail spans the
	// whole organisation (bank accounts, API clients, every portfolio's
	// orders), while their rights stop at their own portfolios.
	ActionAuditRead: {RoleAdmin, RoleFinanceManager, RoleAnalyst},

	// Seed 003's matrix. A portfolio manager prepares orders (create,
	// update) — limited to its portfolios when its client is, which the
	// payment-order service enforces; approving, cancelling and deleting
	// are the finance roles', so whoever prepares an order does not also
	// release it.
	ActionPaymentOrdersRead:    everyRole,
	ActionPaymentOrdersCreate:  orderPreparers,
	ActionPaymentOrdersUpdate:  orderPreparers,
	ActionPaymentOrdersApprove: finance,
	ActionPaymentOrdersCancel:  finance,
	ActionPaymentOrdersDelete:  finance,

	// Portfolios hold the money orders are paid from: reading them is
	// everyone's (a limited portfolio manager sees its own, the service
	// filters), creating, changing and funding them the finance roles'.
	ActionPortfoliosRead:  everyRole,
	ActionPortfoliosWrite: finance,
	ActionPortfoliosFund:  finance,
}

// Valid reports whether a is an action of the matrix.
func (a Action) Valid() bool {
	_, ok := matrix[a]
	return ok
}

// Allowed reports whether p may do a. A partner principal may do every
// action (on its own organisations: tenancy is checked before, not here); an
// organisation principal may do what the matrix gives its role. An unknown
// action, scope or role is refused.
func Allowed(p Principal, a Action) bool {
	roles, ok := matrix[a]
	if !ok {
		return false
	}
	switch p.Scope {
	case ScopePartner:
		return true
	case ScopeOrganization:
		return slices.Contains(roles, p.Role)
	}
	return false
}

// Actions lists every action of the matrix, sorted (so by family).
func Actions() []Action {
	return slices.Sorted(maps.Keys(matrix))
}

// Roles lists the organisation roles, from the most to the least rights.
func Roles() []Role {
	return []Role{RoleAdmin, RoleFinanceManager, RolePortfolioManager, RoleAnalyst}
}
