package auth

import (
	"go/ast"
	"go/parser"
	"go/token"
	"strconv"
	"testing"
)

// TestAllowedCellByCell writes the matrix out again, cell by cell: changing
// who may do what means changing both the matrix and this table. The
// existing routes' cells are what the handlers allowed before the matrix
// existed; the next families' are decided here (roles.go says why).
func TestAllowedCellByCell(t *testing.T) {
	const y, n = true, false
	cases := []struct {
		action                                  Action
		name                                    string // the wire name, which docs and logs show
		admin, finance, portfolio, analyst, ptn bool
	}{
		{ActionOrganizationsList, "organizations.list", n, n, n, n, y},
		{ActionOrganizationsCreate, "organizations.create", n, n, n, n, y},
		{ActionOrganizationsRead, "organizations.read", y, y, y, y, y},
		{ActionOrganizationsWrite, "organizations.write", y, n, n, n, y},
		{ActionDepartmentsRead, "departments.read", y, y, y, y, y},
		{ActionDepartmentsWrite, "departments.write", y, n, n, n, y},
		{ActionBankAccountsRead, "bank_accounts.read", y, y, y, y, y},
		{ActionBankAccountsWrite, "bank_accounts.write", y, n, n, n, y},
		{ActionKYCRead, "kyc.read", y, y, y, y, y},
		{ActionKYCWrite, "kyc.write", y, n, n, n, y},
		{ActionBrandingRead, "branding.read", y, y, y, y, y},
		{ActionBrandingWrite, "branding.write", y, n, n, n, y},
		{ActionPartnerBrandingRead, "partner_branding.read", n, n, n, n, y},
		{ActionPartnerBrandingWrite, "partner_branding.write", n, n, n, n, y},
		{ActionAPIClientsManage, "api_clients.manage", y, n, n, n, y},
		{ActionInvoicesRead, "invoices.read", y, y, y, y, y},
		{ActionInvoicesWrite, "invoices.write", y, y, n, n, y},
		{ActionPaymentLinksRead, "payment_links.read", y, y, y, y, y},
		{ActionPaymentLinksWrite, "payment_links.write", y, y, n, n, y},
		{ActionPaymentIntentsRead, "payment_intents.read", y, y, y, y, y},
		{ActionPaymentIntentsResolve, "payment_intents.resolve", y, y, n, n, y},
		{ActionInvoicesRectifyPayer, "invoices.rectify_payer", y, y, n, n, y},
		{ActionDataSubjectsExport, "data_subjects.export", y, n, n, n, y},
		{ActionDataSubjectsErase, "data_subjects.erase", y, n, n, n, y},
		{ActionWebhooksRead, "webhooks.read", n, n, n, n, y},
		{ActionWebhooksWrite, "webhooks.write", n, n, n, n, y},
		{ActionDashboardUse, "dashboard.use", y, y, y, y, y},
		{ActionRefundsRead, "refunds.read", y, y, y, y, y},
		{ActionRefundsCreate, "refunds.create", y, y, n, n, y},
		{ActionAuditRead, "audit.read", y, y, n, y, y},
		{ActionPaymentOrdersRead, "payment_orders.read", y, y, y, y, y},
		{ActionPaymentOrdersCreate, "payment_orders.create", y, y, y, n, y},
		{ActionPaymentOrdersUpdate, "payment_orders.update", y, y, y, n, y},
		{ActionPaymentOrdersApprove, "payment_orders.approve", y, y, n, n, y},
		{ActionPaymentOrdersCancel, "payment_orders.cancel", y, y, n, n, y},
		{ActionPaymentOrdersDelete, "payment_orders.delete", y, y, n, n, y},
		{ActionPortfoliosRead, "portfolios.read", y, y, y, y, y},
		{ActionPortfoliosWrite, "portfolios.write", y, y, n, n, y},
		{ActionPortfoliosFund, "portfolios.fund", y, y, n, n, y},
	}
	partner := Principal{ClientID: "cli-p", PartnerID: "ptn-1", Scope: ScopePartner}
	org := func(r Role) Principal {
		return Principal{ClientID: "cli-o", PartnerID: "ptn-1", OrgID: "org-1", Scope: ScopeOrganization, Role: r}
	}
	seen := map[Action]bool{}
	for _, c := range cases {
		if string(c.action) != c.name {
			t.Errorf("%s: the constant is %q", c.name, c.action)
		}
		if seen[c.action] {
			t.Errorf("%s: two rows", c.action)
		}
		seen[c.action] = true
		for _, cell := range []struct {
			who  string
			p    Principal
			want bool
		}{
			{"admin", org(RoleAdmin), c.admin},
			{"finance_manager", org(RoleFinanceManager), c.finance},
			{"portfolio_manager", org(RolePortfolioManager), c.portfolio},
			{"analyst", org(RoleAnalyst), c.analyst},
			{"partner", partner, c.ptn},
		} {
			if got := Allowed(cell.p, c.action); got != cell.want {
				t.Errorf("Allowed(%s, %s) = %v, want %v", cell.who, c.action, got, cell.want)
			}
		}
	}
	// A limited portfolio manager has the role's rights; its portfolios are
	// the services' business.
	limited := org(RolePortfolioManager)
	limited.PortfolioLimited = true
	if !Allowed(limited, ActionPaymentOrdersUpdate) || Allowed(limited, ActionPaymentOrdersApprove) {
		t.Error("a limited portfolio manager has not its role's rights")
	}
	for _, a := range Actions() {
		if !seen[a] {
			t.Errorf("%s is in the matrix but not in this table", a)
		}
	}
}

// TestMatrixNamesEveryAction: every Action constant declared in roles.go has
// a row (a route declaring it would otherwise be refused to everyone), and
// every row is a declared constant.
func TestMatrixNamesEveryAction(t *testing.T) {
	declared := actionConstants(t)
	if len(declared) == 0 {
		t.Fatal("no Action constant found in roles.go")
	}
	for name, a := range declared {
		if !a.Valid() {
			t.Errorf("%s (%q) has no row in the matrix", name, a)
		}
	}
	values := map[Action]bool{}
	for _, a := range declared {
		if values[a] {
			t.Errorf("two constants have the value %q", a)
		}
		values[a] = true
	}
	for _, a := range Actions() {
		if !values[a] {
			t.Errorf("the matrix row %q is no declared Action constant", a)
		}
	}
	for _, roles := range matrix {
		for _, r := range roles {
			if !r.Valid() {
				t.Errorf("the matrix names the unknown role %q", r)
			}
		}
	}
}

// actionConstants reads roles.go's constants of type Action.
func actionConstants(t *testing.T) map[string]Action {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "roles.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]Action{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			if id, ok := vs.Type.(*ast.Ident); !ok || id.Name != "Action" {
				continue
			}
			for i, name := range vs.Names {
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("%s: not a string literal", name.Name)
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				out[name.Name] = Action(v)
			}
		}
	}
	return out
}

func TestAllowedRefusesTheUnknown(t *testing.T) {
	partner := Principal{ClientID: "cli-p", PartnerID: "ptn-1", Scope: ScopePartner}
	admin := Principal{ClientID: "cli-o", PartnerID: "ptn-1", OrgID: "org-1", Scope: ScopeOrganization, Role: RoleAdmin}
	cases := []struct {
		name string
		p    Principal
		a    Action
	}{
		{"partner, unknown action", partner, "invoices.delete"},
		{"partner, empty action", partner, ""},
		{"admin, unknown action", admin, "invoices.delete"},
		{"admin, action of another case", admin, "Invoices.Read"},
		{"admin, empty action", admin, ""},
		{"unknown role", Principal{Scope: ScopeOrganization, OrgID: "org-1", Role: "owner"}, ActionInvoicesRead},
		{"organisation without a role", Principal{Scope: ScopeOrganization, OrgID: "org-1"}, ActionInvoicesRead},
		{"no scope", Principal{Role: RoleAdmin}, ActionInvoicesRead},
		{"unknown scope", Principal{Scope: "root", Role: RoleAdmin}, ActionInvoicesRead},
	}
	for _, c := range cases {
		if Allowed(c.p, c.a) {
			t.Errorf("%s: Allowed(%+v, %q) = true, want false", c.name, c.p, c.a)
		}
	}
	if Action("invoices.delete").Valid() || Action("").Valid() {
		t.Error("an unknown action is Valid")
	}
}

func TestRolesAreTheValidRoles(t *testing.T) {
	got := Roles()
	want := []Role{RoleAdmin, RoleFinanceManager, RolePortfolioManager, RoleAnalyst}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] || !got[i].Valid() {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
}
