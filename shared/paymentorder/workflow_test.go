package paymentorder

import (
	"slices"
	"testing"

	"github.com/modupay/modupay/shared/auth"
)

// Every ordered pair of statuses, against seed 003's list of transitions:
// exactly six are allowed, each with its action and its effect on funds.
func TestStepIsExactlyTheSeedsWorkflow(t *testing.T) {
	type want struct {
		action   auth.Action
		bySystem bool
		funds    Funds
	}
	allowed := map[[2]Status]want{
		{StatusPending, StatusProcessing}:   {auth.ActionPaymentOrdersApprove, false, FundsReserve},
		{StatusPending, StatusCancelled}:    {auth.ActionPaymentOrdersCancel, false, FundsNone},
		{StatusProcessing, StatusCompleted}: {auth.ActionPaymentOrdersApprove, true, FundsSpend},
		{StatusProcessing, StatusFailed}:    {auth.ActionPaymentOrdersApprove, true, FundsRelease},
		{StatusFailed, StatusPending}:       {auth.ActionPaymentOrdersApprove, false, FundsNone},
		{StatusFailed, StatusCancelled}:     {auth.ActionPaymentOrdersCancel, false, FundsNone},
	}
	n := 0
	for _, from := range Statuses {
		for _, to := range Statuses {
			tr, ok := Step(from, to)
			w, want := allowed[[2]Status{from, to}]
			switch {
			case ok != want:
				t.Errorf("%s → %s: allowed %v, want %v", from, to, ok, want)
			case ok:
				n++
				if tr.Action != w.action || tr.BySystem != w.bySystem || tr.Funds != w.funds || tr.From != from || tr.To != to {
					t.Errorf("%s → %s: %+v, want %+v", from, to, tr, w)
				}
				if !tr.Action.Valid() {
					t.Errorf("%s → %s: action %s is not in the role matrix", from, to, tr.Action)
				}
			}
		}
	}
	if n != len(allowed) || len(Transitions()) != len(allowed) {
		t.Errorf("%d transitions found, %d listed, want %d", n, len(Transitions()), len(allowed))
	}
	if _, ok := Step("DRAFT", StatusPending); ok {
		t.Error("an unknown status has a transition")
	}
}

// Funds balance over every path of the workflow: what is reserved is
// spent or released exactly once, and a cancelled or retried order holds
// nothing.
func TestFundsBalanceOnEveryPath(t *testing.T) {
	var walk func(s Status, reserved int, path string, depth int)
	walk = func(s Status, reserved int, path string, depth int) {
		if reserved < 0 || reserved > 1 {
			t.Fatalf("%s: reserved %d", path, reserved)
		}
		if (s == StatusPending || s == StatusFailed || s == StatusCancelled) && reserved != 0 {
			t.Errorf("%s: an order %s holds funds", path, s)
		}
		if s == StatusProcessing && reserved != 1 {
			t.Errorf("%s: an order at the bank holds no funds", path)
		}
		if depth == 6 {
			return
		}
		for _, tr := range Transitions() {
			if tr.From != s {
				continue
			}
			r := reserved
			switch tr.Funds {
			case FundsReserve:
				r++
			case FundsSpend, FundsRelease:
				r--
			}
			walk(tr.To, r, path+" → "+string(tr.To), depth+1)
		}
	}
	walk(StatusPending, 0, string(StatusPending), 0)
}

func TestModifiableDeletableFinal(t *testing.T) {
	for _, s := range Statuses {
		if got := Modifiable(s); got != (s == StatusPending) {
			t.Errorf("Modifiable(%s) = %v", s, got)
		}
		if got := Deletable(s); got != (s == StatusPending || s == StatusFailed) {
			t.Errorf("Deletable(%s) = %v", s, got)
		}
		final := true
		for _, tr := range Transitions() {
			if tr.From == s {
				final = false
			}
		}
		if Final(s) != final {
			t.Errorf("Final(%s) = %v, but it has transitions: %v", s, Final(s), !final)
		}
		if !s.Valid() {
			t.Errorf("%s not valid", s)
		}
	}
	if Status("pending").Valid() {
		t.Error("statuses are upper case")
	}
}

// The status route admits at its edge the roles of the approve action
// (handlers/paymentorders): every transition's action must admit exactly
// those roles, or a role allowed to cancel (say) would be refused there.
func TestTransitionActionsAdmitTheSameRoles(t *testing.T) {
	admits := func(a auth.Action) []auth.Role {
		var out []auth.Role
		for _, r := range auth.Roles() {
			if auth.Allowed(auth.Principal{ClientID: "c", PartnerID: "p", OrgID: "o", Scope: auth.ScopeOrganization, Role: r}, a) {
				out = append(out, r)
			}
		}
		return out
	}
	want := admits(auth.ActionPaymentOrdersApprove)
	for _, tr := range Transitions() {
		if got := admits(tr.Action); !slices.Equal(got, want) {
			t.Errorf("%s (%s → %s) admits %v; the status route admits %v", tr.Name, tr.From, tr.To, got, want)
		}
	}
}
