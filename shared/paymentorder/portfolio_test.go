package paymentorder

import (
	"encoding/json"
	"strings"
	"testing"
)

// A PATCH of approvalPolicy leaves what it does not name: an absent
// dualApprovalAbove keeps the threshold, null removes it.
func TestApprovalPolicyPatch(t *testing.T) {
	p := Portfolio{Currency: "EUR", FundingTypes: []FundingType{FundingCredit}, Approval: ApprovalPolicy{DistinctApprover: true, DualAboveMinor: 5000}}
	for _, c := range []struct {
		body string
		want ApprovalPolicy
	}{
		{`{"approvalPolicy":{"distinctApprover":false}}`, ApprovalPolicy{DistinctApprover: false, DualAboveMinor: 5000}},
		{`{"approvalPolicy":{"dualApprovalAbove":null}}`, ApprovalPolicy{DistinctApprover: true}},
		{`{"approvalPolicy":{"dualApprovalAbove":120.50}}`, ApprovalPolicy{DistinctApprover: true, DualAboveMinor: 12050}},
		{`{"name":"x"}`, ApprovalPolicy{DistinctApprover: true, DualAboveMinor: 5000}},
	} {
		var in PortfolioInput
		if err := json.Unmarshal([]byte(c.body), &in); err != nil {
			t.Fatal(err)
		}
		q := p
		if err := in.apply(&q, false); err != nil {
			t.Fatalf("%s: %v", c.body, err)
		}
		if q.Approval != c.want {
			t.Errorf("%s: %+v, want %+v", c.body, q.Approval, c.want)
		}
	}
}

func TestPortfolioInputErrors(t *testing.T) {
	for _, c := range []struct {
		body   string
		create bool
		field  string
	}{
		{`{"currency":"EUR"}`, true, "name"},
		{`{"name":"A"}`, true, "currency"},
		{`{"name":"A","currency":"ZZZ"}`, true, "currency"},
		{`{"name":"A","currency":"EUR","fundingTypes":[]}`, true, "fundingTypes"},
		{`{"name":"A","currency":"EUR","fundingTypes":["GRANT"]}`, true, "fundingTypes"},
		{`{"name":"A","currency":"XAF","approvalPolicy":{"dualApprovalAbove":10.5}}`, true, "approvalPolicy.dualApprovalAbove"},
		{`{"currency":"USD"}`, false, "currency"},
		{`{"name":"  "}`, false, "name"},
	} {
		var in PortfolioInput
		if err := json.Unmarshal([]byte(c.body), &in); err != nil {
			t.Fatal(err)
		}
		p := Portfolio{}
		if !c.create {
			p = Portfolio{Name: "P", Currency: "EUR", FundingTypes: FundingTypes}
		}
		err := in.apply(&p, c.create)
		e, ok := err.(*Error)
		if !ok || e.Code != CodeInvalidPortfolio || len(e.Details) == 0 || e.Details[0].Field != c.field {
			t.Errorf("%s: %v, want INVALID_PORTFOLIO_DATA naming %s", c.body, err, c.field)
		}
	}
}

// Counts add up by status and funding type; a new portfolio has every
// pair at zero.
func TestPortfolioCount(t *testing.T) {
	p := Portfolio{Counts: NewCounts()}
	if len(p.Counts) != len(Statuses)*len(FundingTypes) {
		t.Fatalf("NewCounts has %d keys", len(p.Counts))
	}
	p.Counts[CountKey(StatusPending, FundingCredit)] = 2
	p.Counts[CountKey(StatusPending, FundingLeasing)] = 3
	p.Counts[CountKey(StatusCompleted, FundingCredit)] = 5
	for _, c := range []struct {
		s    Status
		f    FundingType
		want int64
	}{{"", "", 10}, {StatusPending, "", 5}, {"", FundingCredit, 7}, {StatusCompleted, FundingLeasing, 0}, {StatusCompleted, FundingCredit, 5}} {
		if got := p.Count(c.s, c.f); got != c.want {
			t.Errorf("Count(%q, %q) = %d, want %d", c.s, c.f, got, c.want)
		}
	}
}

// Amounts and times are written as seed 003 shows them.
func TestViewFormat(t *testing.T) {
	o := Order{AmountMinor: 750000000, Currency: "CDF"}
	b, _ := json.Marshal(o.View())
	if !json.Valid(b) || !strings.Contains(string(b), `"amount":7500000.00`) || !strings.Contains(string(b), `"executionDate":"0001-01-01T00:00:00.000Z"`) {
		t.Errorf("view: %s", b)
	}
	x := Order{AmountMinor: 1500, Currency: "XAF"}
	if b, _ := json.Marshal(x.View()); !strings.Contains(string(b), `"amount":1500,`) {
		t.Errorf("XAF view: %s", b)
	}
}
