package credential

import (
	"strings"
	"testing"

	"github.com/modupay/modupay/shared/apperr"
)

func TestCreateInputValidate(t *testing.T) {
	tests := []struct {
		name      string
		in        CreateInput
		wantParam string
	}{
		{name: "admin", in: CreateInput{Role: "admin"}},
		{name: "finance manager with a name", in: CreateInput{Role: "finance_manager", Name: "Comptabilité"}},
		{name: "portfolio manager limited", in: CreateInput{Role: "portfolio_manager", PortfolioIDs: []string{"portfolio-456", "pf:2"}}},
		{name: "analyst", in: CreateInput{Role: "analyst"}},
		{name: "no role", in: CreateInput{}, wantParam: "role"},
		{name: "unknown role", in: CreateInput{Role: "owner"}, wantParam: "role"},
		{name: "role in capitals", in: CreateInput{Role: "ADMIN"}, wantParam: "role"},
		{name: "portfolios on an analyst", in: CreateInput{Role: "analyst", PortfolioIDs: []string{"p"}}, wantParam: "portfolio_ids"},
		{name: "empty portfolio id", in: CreateInput{Role: "portfolio_manager", PortfolioIDs: []string{""}}, wantParam: "portfolio_ids"},
		{name: "portfolio id with a slash", in: CreateInput{Role: "portfolio_manager", PortfolioIDs: []string{"a/b"}}, wantParam: "portfolio_ids"},
		{name: "101 portfolios", in: CreateInput{Role: "portfolio_manager", PortfolioIDs: make([]string, 101)}, wantParam: "portfolio_ids"},
		{name: "100 accented characters", in: CreateInput{Role: "admin", Name: strings.Repeat("é", 100)}},
		{name: "101 characters", in: CreateInput{Role: "admin", Name: strings.Repeat("a", 101)}, wantParam: "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.in.Validate()
			if tt.wantParam == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if ae, ok := apperr.As(err); !ok || ae.Param != tt.wantParam {
				t.Fatalf("Validate() = %v, want a validation error on %s", err, tt.wantParam)
			}
		})
	}
}

func TestPublicNeverShowsTheSecret(t *testing.T) {
	p := Public(Client{ID: "cli-1", SecretHash: "sha256:abc", Status: StatusActive})
	if p.PortfolioIDs == nil {
		t.Error("portfolio_ids must be an array, not null")
	}
	if strings.Contains(strings.ToLower(strings.Join([]string{p.ClientID, p.Name, p.Role, p.Status}, " ")), "sha256") {
		t.Error("the secret hash leaked into the public view")
	}
}
