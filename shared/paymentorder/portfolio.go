package paymentorder

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/modupay/modupay/shared/money"
)

// Portfolio is the money orders are paid from. Seed 003 refers to
// portfolios (portfolioId, PORTFOLIO_NOT_FOUND, INSUFFICIENT_FUNDS) without
// specifying them; they are designed here in the same wire style.
//
// Its funds always satisfy Funded = Available + Reserved + Spent: a
// funding adds to Funded and Available; an approved order moves its amount
// from Available to Reserved; a completed one from Reserved to Spent; a
// failed one back from Reserved to Available. Every change is made in the
// transaction of the change that causes it.
//
// Counts holds how many live (not deleted) orders of the portfolio are in
// each status and funding type ("PENDING#CREDIT"), moved in the same
// transactions: list totals are sums of them, never a count of the orders.
type Portfolio struct {
	ID             string         `json:"id"`
	PartnerID      string         `json:"partnerId"`
	OrgID          string         `json:"orgId"`
	Name           string         `json:"name"`
	Currency       string         `json:"currency"`
	FundingTypes   []FundingType  `json:"fundingTypes"`
	AvailableMinor int64          `json:"available"`
	ReservedMinor  int64          `json:"reserved"`
	SpentMinor     int64          `json:"spent"`
	FundedMinor    int64          `json:"funded"`
	Approval       ApprovalPolicy `json:"approvalPolicy"`
	// Execution is the account orders are paid from through the payment
	// provider (execution.go); nil: orders are paid outside and confirmed.
	Execution *ExecutionAccount `json:"executionAccount,omitempty"`
	Counts    map[string]int64  `json:"counts"`
	CreatedAt time.Time         `json:"createdAt"`
	UpdatedAt time.Time         `json:"updatedAt"`
	Version   int64             `json:"version"`
}

// ApprovalPolicy is the portfolio's maker-checker setting (an extension;
// off by default, so seed 003's flows work unchanged). DistinctApprover:
// an order's approver may not be its creator. DualAboveMinor, when
// positive: an order above this amount needs two approvals by two distinct
// clients before it moves to PROCESSING.
type ApprovalPolicy struct {
	DistinctApprover bool  `json:"distinctApprover"`
	DualAboveMinor   int64 `json:"dualAboveMinor,omitempty"`
}

// ApprovalsRequired is how many approvals an order of amount needs.
func (p ApprovalPolicy) ApprovalsRequired(amount int64) int {
	if p.DualAboveMinor > 0 && amount > p.DualAboveMinor {
		return 2
	}
	return 1
}

// CountKey is the key of Counts for a status and funding type.
func CountKey(s Status, f FundingType) string { return string(s) + "#" + string(f) }

// NewCounts is every count at zero.
func NewCounts() map[string]int64 {
	c := map[string]int64{}
	for _, s := range Statuses {
		for _, f := range FundingTypes {
			c[CountKey(s, f)] = 0
		}
	}
	return c
}

// Count is how many of the portfolio's orders match status and funding
// type ("" for any).
func (p Portfolio) Count(s Status, f FundingType) int64 {
	var n int64
	for _, st := range Statuses {
		for _, ft := range FundingTypes {
			if (s == "" || s == st) && (f == "" || f == ft) {
				n += p.Counts[CountKey(st, ft)]
			}
		}
	}
	return n
}

// Allows reports whether the portfolio finances orders of type f.
func (p Portfolio) Allows(f FundingType) bool {
	for _, t := range p.FundingTypes {
		if t == f {
			return true
		}
	}
	return false
}

// PortfolioView is a portfolio on the wire.
type PortfolioView struct {
	ID             string             `json:"id"`
	Name           string             `json:"name"`
	Currency       string             `json:"currency"`
	FundingTypes   []FundingType      `json:"fundingTypes"`
	AvailableFunds json.Number        `json:"availableFunds"`
	ReservedFunds  json.Number        `json:"reservedFunds"`
	SpentFunds     json.Number        `json:"spentFunds"`
	TotalFunded    json.Number        `json:"totalFunded"`
	ApprovalPolicy ApprovalPolicyView `json:"approvalPolicy"`
	// ExecutionAccount is null when orders are paid outside ModuPay.
	ExecutionAccount *ExecutionAccount `json:"executionAccount"`
	Managers         []User            `json:"managers,omitempty"`
	CreatedAt        string            `json:"createdAt"`
	UpdatedAt        string            `json:"updatedAt"`
}

// ApprovalPolicyView is the policy on the wire: the threshold in the
// portfolio's currency, null when off.
type ApprovalPolicyView struct {
	DistinctApprover  bool         `json:"distinctApprover"`
	DualApprovalAbove *json.Number `json:"dualApprovalAbove"`
}

// View renders p.
func (p Portfolio) View() PortfolioView {
	v := PortfolioView{ID: p.ID, Name: p.Name, Currency: p.Currency, FundingTypes: p.FundingTypes,
		AvailableFunds: Amount(p.AvailableMinor, p.Currency), ReservedFunds: Amount(p.ReservedMinor, p.Currency),
		SpentFunds: Amount(p.SpentMinor, p.Currency), TotalFunded: Amount(p.FundedMinor, p.Currency),
		ApprovalPolicy: ApprovalPolicyView{DistinctApprover: p.Approval.DistinctApprover}, ExecutionAccount: p.Execution,
		CreatedAt: FormatTime(p.CreatedAt), UpdatedAt: FormatTime(p.UpdatedAt)}
	if p.Approval.DualAboveMinor > 0 {
		n := Amount(p.Approval.DualAboveMinor, p.Currency)
		v.ApprovalPolicy.DualApprovalAbove = &n
	}
	return v
}

// Funding is money added to a portfolio (POST /v1/portfolios/{id}/fundings).
type Funding struct {
	ID          string    `json:"id"`
	PortfolioID string    `json:"portfolioId"`
	AmountMinor int64     `json:"amountMinor"`
	Currency    string    `json:"currency"`
	Reference   string    `json:"reference,omitempty"`
	Notes       string    `json:"notes,omitempty"`
	CreatedBy   User      `json:"createdBy"`
	CreatedAt   time.Time `json:"createdAt"`
}

// FundingView is a funding on the wire, with the portfolio after it.
type FundingView struct {
	ID          string        `json:"id"`
	PortfolioID string        `json:"portfolioId"`
	Amount      json.Number   `json:"amount"`
	Currency    string        `json:"currency"`
	Reference   string        `json:"reference,omitempty"`
	Notes       string        `json:"notes,omitempty"`
	CreatedBy   User          `json:"createdBy"`
	CreatedAt   string        `json:"createdAt"`
	Portfolio   PortfolioView `json:"portfolio"`
}

// PortfolioInput is POST /v1/portfolios and PATCH /v1/portfolios/{id}: on
// PATCH every field is optional and currency cannot change (its amounts are
// in it).
type PortfolioInput struct {
	Name           *string              `json:"name"`
	Currency       *string              `json:"currency"`
	FundingTypes   []string             `json:"fundingTypes"`
	ApprovalPolicy *ApprovalPolicyInput `json:"approvalPolicy"`
	// ExecutionAccount as sent: absent leaves it, null removes it.
	ExecutionAccount json.RawMessage `json:"executionAccount"`
}

// ApprovalPolicyInput is the maker-checker setting as sent: an absent
// field is left as it is, a null dualApprovalAbove turns the second
// approval off.
type ApprovalPolicyInput struct {
	DistinctApprover  *bool          `json:"distinctApprover"`
	DualApprovalAbove OptionalNumber `json:"dualApprovalAbove"`
}

// OptionalNumber is a JSON number that may be absent (Set false), null
// (Set, Raw "") or a number kept as sent (RawNumber).
type OptionalNumber struct {
	Set bool
	Raw RawNumber
}

// UnmarshalJSON is called for null too, which tells null from absent.
func (n *OptionalNumber) UnmarshalJSON(b []byte) error {
	n.Set = true
	return n.Raw.UnmarshalJSON(b)
}

// FundingInput is POST /v1/portfolios/{id}/fundings.
type FundingInput struct {
	Amount    RawNumber `json:"amount"`
	Currency  string    `json:"currency"`
	Reference string    `json:"reference"`
	Notes     string    `json:"notes"`
}

func inputError(code string, errs []FieldError) error {
	if len(errs) == 0 {
		return nil
	}
	return &Error{Status: http.StatusBadRequest, Code: code, Message: errs[0].Message, Details: errs}
}

// apply checks in and applies it to p (a new portfolio when create).
func (in PortfolioInput) apply(p *Portfolio, create bool) error {
	var errs []FieldError
	bad := func(field, format string, args ...any) {
		errs = append(errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	switch {
	case in.Name != nil:
		name := strings.TrimSpace(*in.Name)
		if name == "" || utf8.RuneCountInString(name) > maxName || strings.ContainsAny(name, "\x00\r\n\t") || !utf8.ValidString(name) {
			bad("name", "name must be 1 to %d characters on one line", maxName)
		}
		p.Name = name
	case create:
		bad("name", "name is required")
	}
	switch {
	case in.Currency != nil && !create:
		if *in.Currency != p.Currency {
			bad("currency", "currency cannot change: the portfolio's amounts are in %s", p.Currency)
		}
	case in.Currency != nil:
		if _, ok := money.MinorUnits(*in.Currency); !ok {
			bad("currency", "currency must be an ISO 4217 code such as EUR, USD, CDF or XAF")
		}
		p.Currency = *in.Currency
	case create:
		bad("currency", "currency is required")
	}
	switch {
	case in.FundingTypes != nil:
		seen := map[FundingType]bool{}
		p.FundingTypes = nil
		for _, t := range in.FundingTypes {
			f := FundingType(t)
			if !f.Valid() {
				bad("fundingTypes", "each funding type must be CREDIT, LEASING or INVESTMENT")
				break
			}
			if !seen[f] {
				seen[f] = true
				p.FundingTypes = append(p.FundingTypes, f)
			}
		}
		if len(p.FundingTypes) == 0 && len(errs) == 0 {
			bad("fundingTypes", "fundingTypes must name at least one of CREDIT, LEASING, INVESTMENT")
		}
	case create:
		p.FundingTypes = append([]FundingType(nil), FundingTypes...)
	}
	if a := in.ApprovalPolicy; a != nil {
		if a.DistinctApprover != nil {
			p.Approval.DistinctApprover = *a.DistinctApprover
		}
		switch {
		case !a.DualApprovalAbove.Set:
		case a.DualApprovalAbove.Raw == "":
			p.Approval.DualAboveMinor = 0
		case p.Currency == "":
		default:
			v, err := money.ParseAmount(json.Number(a.DualApprovalAbove.Raw), p.Currency)
			if err != nil {
				bad("approvalPolicy.dualApprovalAbove", "%s", strings.Replace(err.Error(), "amount", "dualApprovalAbove", 1))
			}
			p.Approval.DualAboveMinor = v
		}
	}
	if in.ExecutionAccount != nil {
		acc, bad := parseExecutionAccount(in.ExecutionAccount, p.Currency)
		errs = append(errs, bad...)
		p.Execution = acc
	}
	return inputError(CodeInvalidPortfolio, errs)
}

// check validates a funding of p.
func (in FundingInput) check(p Portfolio) (int64, error) {
	var errs []FieldError
	if in.Currency != "" && in.Currency != p.Currency {
		errs = append(errs, FieldError{Field: "currency", Message: "currency must be the portfolio's, " + p.Currency})
	}
	var v int64
	if in.Amount == "" {
		errs = append(errs, FieldError{Field: "amount", Message: "amount is required"})
	} else if n, err := money.ParseAmount(json.Number(in.Amount), p.Currency); err != nil {
		errs = append(errs, FieldError{Field: "amount", Message: err.Error()})
	} else {
		v = n
	}
	if len(in.Reference) > maxReference || (in.Reference != "" && !referenceChars.MatchString(in.Reference)) {
		errs = append(errs, FieldError{Field: "reference", Message: fmt.Sprintf("reference must be at most %d letters, digits and . _ / -", maxReference)})
	}
	if utf8.RuneCountInString(in.Notes) > maxDescription || !utf8.ValidString(in.Notes) {
		errs = append(errs, FieldError{Field: "notes", Message: fmt.Sprintf("notes must be at most %d characters", maxDescription)})
	}
	code := CodeInvalidPortfolio
	if len(errs) == 1 && errs[0].Field == "amount" {
		code = CodeInvalidAmount
	}
	return v, inputError(code, errs)
}
