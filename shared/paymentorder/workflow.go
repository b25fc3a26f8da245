// Package paymentorder holds the rules of seed 003's payment orders
// (disbursements from financing portfolios) that need no store: the
// statuses, the workflow's transitions, who may make each one, and what
// each does to the portfolio's funds.
package paymentorder

import "github.com/modupay/modupay/shared/auth"

// Status is an order's status, in seed 003's spelling.
type Status string

const (
	StatusPending    Status = "PENDING"    // awaiting approval; may be modified
	StatusProcessing Status = "PROCESSING" // approved, at the bank
	StatusCompleted  Status = "COMPLETED"  // paid; final
	StatusFailed     Status = "FAILED"     // the bank refused it; may be retried or cancelled
	StatusCancelled  Status = "CANCELLED"  // final
)

// Statuses lists every status, in the seed's order.
var Statuses = []Status{StatusPending, StatusProcessing, StatusCompleted, StatusFailed, StatusCancelled}

// Valid reports whether s is one of Statuses.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Funds is what a transition does to the portfolio's funds, in the same
// transaction as the status change. A portfolio's funds are
// available + reserved + spent = funded: an order reserves its amount when
// approved, spends it when completed, and releases it when it fails after
// approval. Creation reserves nothing (it only checks the amount against
// what is available); a pending order cancelled held nothing.
type Funds int

const (
	FundsNone    Funds = iota
	FundsReserve       // available → reserved; refused when available < amount (INSUFFICIENT_FUNDS)
	FundsSpend         // reserved → spent
	FundsRelease       // reserved → available
)

// Transition is one step of the workflow.
type Transition struct {
	From, To Status
	// Name is the step in the seed's words (Approbation, Annulation, …).
	Name string
	// Action is what the actor's role must allow (auth's matrix).
	Action auth.Action
	// BySystem: the platform itself makes it (the bank's answer, through
	// the payment provider), with actor "system".
	BySystem bool
	Funds    Funds
}

// transitions is seed 003's workflow, exactly; nothing else is allowed.
//
// The seed's permission matrix names approve, cancel, modify, delete; it
// leaves the bank's confirmation and failure and the retry unassigned. They
// are given to the finance roles (admin, finance manager: the approve
// action) and, for confirmation and failure, to the system when the order
// is executed through the payment provider: whoever may release money may
// also record what the bank did with it, and a portfolio manager, who
// prepares orders, may not move one back to PENDING to have it approved
// again.
var transitions = []Transition{
	{From: StatusPending, To: StatusProcessing, Name: "approve", Action: auth.ActionPaymentOrdersApprove, Funds: FundsReserve},
	{From: StatusPending, To: StatusCancelled, Name: "cancel", Action: auth.ActionPaymentOrdersCancel},
	{From: StatusProcessing, To: StatusCompleted, Name: "confirm", Action: auth.ActionPaymentOrdersApprove, BySystem: true, Funds: FundsSpend},
	{From: StatusProcessing, To: StatusFailed, Name: "fail", Action: auth.ActionPaymentOrdersApprove, BySystem: true, Funds: FundsRelease},
	{From: StatusFailed, To: StatusPending, Name: "retry", Action: auth.ActionPaymentOrdersApprove},
	{From: StatusFailed, To: StatusCancelled, Name: "cancel", Action: auth.ActionPaymentOrdersCancel},
}

// Step is the transition from one status to another, and whether the
// workflow has it (INVALID_STATUS_TRANSITION otherwise).
func Step(from, to Status) (Transition, bool) {
	for _, t := range transitions {
		if t.From == from && t.To == to {
			return t, true
		}
	}
	return Transition{}, false
}

// Transitions lists the workflow's transitions (a copy).
func Transitions() []Transition { return append([]Transition(nil), transitions...) }

// Modifiable reports whether an order in s may be changed by PUT (seed 003:
// only while PENDING; PAYMENT_NOT_MODIFIABLE otherwise).
func Modifiable(s Status) bool { return s == StatusPending }

// Deletable reports whether an order in s may be deleted (seed 003: only
// while PENDING or FAILED — it then holds no funds; PAYMENT_NOT_MODIFIABLE
// otherwise).
func Deletable(s Status) bool { return s == StatusPending || s == StatusFailed }

// Final reports whether nothing can follow s.
func Final(s Status) bool { return s == StatusCompleted || s == StatusCancelled }
