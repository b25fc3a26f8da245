package payment

import (
	"context"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/apperr"
)

func TestCheckCard(t *testing.T) {
	now := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		card      Card
		wantParam string
	}{
		{"test card with spaces", Card{Number: "4242 4242 4242 4242", ExpMonth: "12", ExpYear: "2030", CVC: "123"}, ""},
		{"two-digit year", Card{Number: TestCardApproved, ExpMonth: "01", ExpYear: "27", CVC: "1234"}, ""},
		{"expires this month", Card{Number: TestCardApproved, ExpMonth: "11", ExpYear: "2026", CVC: "123"}, ""},
		{"expired last month", Card{Number: TestCardApproved, ExpMonth: "10", ExpYear: "2026", CVC: "123"}, "card_expiry"},
		{"month 13", Card{Number: TestCardApproved, ExpMonth: "13", ExpYear: "2030", CVC: "123"}, "card_expiry"},
		{"Luhn fails", Card{Number: "4242424242424241", ExpMonth: "12", ExpYear: "2030", CVC: "123"}, "card_number"},
		{"letters", Card{Number: "4242abcd42424242", ExpMonth: "12", ExpYear: "2030", CVC: "123"}, "card_number"},
		{"too short", Card{Number: "42", ExpMonth: "12", ExpYear: "2030", CVC: "123"}, "card_number"},
		{"CVC letters", Card{Number: TestCardApproved, ExpMonth: "12", ExpYear: "2030", CVC: "12a"}, "card_cvc"},
		{"CVC too short", Card{Number: TestCardApproved, ExpMonth: "12", ExpYear: "2030", CVC: "12"}, "card_cvc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.card
			err := checkCard(&c, now)
			if tt.wantParam == "" {
				if err != nil {
					t.Fatalf("checkCard = %v", err)
				}
				return
			}
			if ae, ok := apperr.As(err); !ok || ae.Param != tt.wantParam {
				t.Fatalf("checkCard = %v, want an error on %s", err, tt.wantParam)
			}
		})
	}
}

func TestSandboxCards(t *testing.T) {
	s := SandboxCards{NewID: func(p string) string { return p + "-1" }}
	for number, approved := range map[string]bool{TestCardApproved: true, TestCardDeclined: false, TestCardInsufficientFunds: false} {
		res, err := s.Charge(context.Background(), "r", 100, "EUR", Card{Number: number})
		if err != nil || res.Approved != approved || (!approved && res.DeclineReason == "") {
			t.Errorf("%s: %+v, %v", number, res, err)
		}
	}
	if _, err := s.Charge(context.Background(), "r", 100, "EUR", Card{Number: "5555555555554444"}); apperr.CodeOf(err) != apperr.Invalid {
		t.Errorf("a real card number must be refused in the sandbox: %v", err)
	}
}
