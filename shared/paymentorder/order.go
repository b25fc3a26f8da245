package paymentorder

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/modupay/modupay/shared/money"
)

// Order is a payment order as stored: the amount in minor units.
type Order struct {
	ID                string         `json:"id"`
	PartnerID         string         `json:"partnerId"`
	OrgID             string         `json:"orgId"`
	Reference         string         `json:"reference"`
	FundingType       FundingType    `json:"fundingType"`
	Status            Status         `json:"status"`
	AmountMinor       int64          `json:"amountMinor"`
	Currency          string         `json:"currency"`
	PortfolioID       string         `json:"portfolioId"`
	ContractReference string         `json:"contractReference,omitempty"`
	Description       string         `json:"description,omitempty"`
	Beneficiary       Beneficiary    `json:"beneficiary"`
	PaymentMethod     PaymentMethod  `json:"paymentMethod"`
	ExecutionDate     time.Time      `json:"executionDate"`
	CreatedBy         User           `json:"createdBy"`
	StatusHistory     []HistoryEntry `json:"statusHistory"`
	Approvals         []Approval     `json:"approvals,omitempty"`
	CreatedAt         time.Time      `json:"createdAt"`
	UpdatedAt         time.Time      `json:"updatedAt"`
	ProcessedAt       *time.Time     `json:"processedAt,omitempty"`
	CompletedAt       *time.Time     `json:"completedAt,omitempty"`
	// Execution is set when the order is paid through the payment
	// provider (execution.go); nil for an order paid outside.
	Execution *Execution `json:"execution,omitempty"`
	Version   int64      `json:"version"`
}

// User is seed 003's createdBy: the API client that created the order,
// with its name.
type User struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// HistoryEntry is one step of statusHistory: the status entered (or, for
// an approval that does not yet move the order, the status it stays in),
// when, who (an API client id, or "system") and the notes given.
type HistoryEntry struct {
	Status    Status    `json:"status"`
	Timestamp time.Time `json:"timestamp"`
	Actor     string    `json:"actor"`
	Notes     string    `json:"notes,omitempty"`
}

// Approval is one approval counted by the portfolio's maker-checker policy
// since the order last entered PENDING.
type Approval struct {
	By string    `json:"by"`
	At time.Time `json:"at"`
}

// Timestamps are written as seed 003 shows them: milliseconds, UTC, Z.
const timeLayout = "2006-01-02T15:04:05.000Z"

// FormatTime writes t as seed 003 does: 2025-11-10T08:00:00.000Z.
func FormatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func formatTimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return FormatTime(*t)
}

// View is an order in seed 003's wire format (PaymentOrder): camelCase,
// the amount a JSON number with the currency's decimals, times in
// milliseconds. Optional fields absent when empty.
type View struct {
	ID                string         `json:"id"`
	Reference         string         `json:"reference"`
	FundingType       FundingType    `json:"fundingType"`
	Status            Status         `json:"status"`
	Amount            json.Number    `json:"amount"`
	Currency          string         `json:"currency"`
	PortfolioID       string         `json:"portfolioId"`
	ContractReference string         `json:"contractReference,omitempty"`
	Description       string         `json:"description,omitempty"`
	Beneficiary       Beneficiary    `json:"beneficiary"`
	PaymentMethod     PaymentMethod  `json:"paymentMethod"`
	ExecutionDate     string         `json:"executionDate"`
	CreatedBy         User           `json:"createdBy"`
	StatusHistory     []HistoryView  `json:"statusHistory"`
	Approvals         []ApprovalView `json:"approvals,omitempty"`
	CreatedAt         string         `json:"createdAt"`
	UpdatedAt         string         `json:"updatedAt"`
	ProcessedAt       string         `json:"processedAt,omitempty"`
	CompletedAt       string         `json:"completedAt,omitempty"`
	Execution         *ExecutionView `json:"execution,omitempty"`
}

// HistoryView is a statusHistory entry on the wire.
type HistoryView struct {
	Status    Status `json:"status"`
	Timestamp string `json:"timestamp"`
	Actor     string `json:"actor"`
	Notes     string `json:"notes,omitempty"`
}

// ApprovalView is an approval on the wire (maker-checker, an extension).
type ApprovalView struct {
	By string `json:"by"`
	At string `json:"at"`
}

// Amount writes minor units of the order's currency as seed 003 does.
func Amount(minor int64, currency string) json.Number {
	n, err := money.FormatAmount(minor, currency)
	if err != nil {
		// Stored amounts were parsed in a known currency; an unknown one
		// would be a corrupt item: show the minor units rather than nothing.
		return json.Number(strconv.FormatInt(minor, 10))
	}
	return n
}

// View renders o.
func (o Order) View() View {
	v := View{ID: o.ID, Reference: o.Reference, FundingType: o.FundingType, Status: o.Status, Amount: Amount(o.AmountMinor, o.Currency),
		Currency: o.Currency, PortfolioID: o.PortfolioID, ContractReference: o.ContractReference, Description: o.Description,
		Beneficiary: o.Beneficiary, PaymentMethod: o.PaymentMethod, ExecutionDate: FormatTime(o.ExecutionDate), CreatedBy: o.CreatedBy,
		StatusHistory: make([]HistoryView, len(o.StatusHistory)), CreatedAt: FormatTime(o.CreatedAt), UpdatedAt: FormatTime(o.UpdatedAt),
		ProcessedAt: formatTimePtr(o.ProcessedAt), CompletedAt: formatTimePtr(o.CompletedAt), Execution: o.Execution.view()}
	for i, h := range o.StatusHistory {
		v.StatusHistory[i] = HistoryView{Status: h.Status, Timestamp: FormatTime(h.Timestamp), Actor: h.Actor, Notes: h.Notes}
	}
	for _, a := range o.Approvals {
		v.Approvals = append(v.Approvals, ApprovalView{By: a.By, At: FormatTime(a.At)})
	}
	return v
}

// StatusChange is the answer to PUT /payments/{id}/status (seed 003), with
// the maker-checker count as an extension when the portfolio asks for two
// approvals.
type StatusChange struct {
	ID                string `json:"id"`
	Reference         string `json:"reference"`
	Status            Status `json:"status"`
	PreviousStatus    Status `json:"previousStatus"`
	StatusChangedAt   string `json:"statusChangedAt"`
	Notes             string `json:"notes,omitempty"`
	Approvals         int    `json:"approvals,omitempty"`
	ApprovalsRequired int    `json:"approvalsRequired,omitempty"`
}

// Error is one of this family's errors (seed 003, "Codes d'erreur
// spécifiques", and the codes this API adds): the HTTP status, the code a
// client branches on, and the fields at fault when there are some.
type Error struct {
	Status  int
	Code    string
	Message string
	Details []FieldError
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// The family's codes beyond the input ones (input.go).
const (
	CodeInvalidStatusTransition = "INVALID_STATUS_TRANSITION"
	CodeNotModifiable           = "PAYMENT_NOT_MODIFIABLE"
	CodeOrderNotFound           = "PAYMENT_ORDER_NOT_FOUND"
	CodePortfolioNotFound       = "PORTFOLIO_NOT_FOUND"
	CodeReferenceExists         = "PAYMENT_REFERENCE_EXISTS"
	CodeInsufficientFunds       = "INSUFFICIENT_FUNDS"
	// Maker-checker (an extension): the creator may not approve, nor one
	// approver count twice.
	CodeApproverIsCreator = "APPROVER_IS_CREATOR"
	CodeAlreadyApproved   = "ALREADY_APPROVED"
	CodeForbidden         = "FORBIDDEN"
	CodeInvalidPortfolio  = "INVALID_PORTFOLIO_DATA"
)

func errNotFound() *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeOrderNotFound, Message: "payment order not found"}
}

func errPortfolioNotFound(field string) *Error {
	e := &Error{Status: http.StatusNotFound, Code: CodePortfolioNotFound, Message: "portfolio not found"}
	if field != "" {
		e.Details = []FieldError{{Field: field, Message: "no such portfolio in this organization"}}
	}
	return e
}

func errInsufficient(available int64, currency string) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: CodeInsufficientFunds,
		Message: "the portfolio's available funds (" + string(Amount(available, currency)) + " " + currency + ") do not cover the amount",
		Details: []FieldError{{Field: "amount", Message: "exceeds the portfolio's available funds"}}}
}
