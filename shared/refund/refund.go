// Package refund gives money back to a payer: total, partial or several
// partial refunds of a succeeded payment intent, executed by the provider
// that took the payment (Aiia for SEPA transfers, the card processor for
// cards), never more in total than was received. It knows nothing of HTTP,
// DynamoDB or Aiia: the store and the provider are interfaces.
//
// The rule that matters: for every intent, the amounts of its refunds that
// have not failed never exceed the intent's amount. The intent holds a
// reserved refund amount; a refund is accepted by one transaction that
// raises it on condition that it stays within the amount (and writes the
// refund and its event), so fifty concurrent requests accept exactly as
// many as fit. A failed or cancelled refund releases its amount; a succeeded
// one moves it to refunded_amount and takes it off the invoice's
// amount_paid, in one transaction with its events.
//
// Nothing is sent to the provider while the API request runs: the
// committed refund.created event sends the refund to the poll queue, whose
// poller creates it at the provider (idempotent on the refund's id) and
// follows it to its end.
package refund

import (
	"context"
	"time"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/payment"
)

// Refund statuses: pending → succeeded | failed | requires_action;
// requires_action → succeeded (the organisation confirms it paid the payer
// itself) | cancelled.
const (
	StatusPending        = "pending"
	StatusRequiresAction = "requires_action"
	StatusSucceeded      = "succeeded"
	StatusFailed         = "failed"
	StatusCancelled      = "cancelled" // the guide's spelling of every status (1.7.0; "canceled" before, never in production)
)

// Statuses lists every refund status, in lifecycle order.
var Statuses = []string{StatusPending, StatusRequiresAction, StatusSucceeded, StatusFailed, StatusCancelled}

// MaxPerIntent bounds the refunds of one intent (any status): the intent
// keeps their ids, which is how its refunds are listed in one read.
const MaxPerIntent = 50

// MaxReasonLength is the longest reason accepted, in characters.
const MaxReasonLength = 500

// Refund is a refund, in seed 000's wire shape (id, amount, status, reason,
// created_at, completed_at) with what a partner needs besides.
type Refund struct {
	ID              string     `json:"id"`
	PaymentIntentID string     `json:"payment_intent_id"`
	InvoiceID       string     `json:"invoice_id"`
	Amount          int64      `json:"amount"`
	Currency        string     `json:"currency"`
	Status          string     `json:"status"`
	Reason          string     `json:"reason"`
	Method          string     `json:"payment_method"`
	FailureReason   string     `json:"failure_reason"`
	NextAction      *Action    `json:"next_action"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
	CompletedAt     *time.Time `json:"completed_at"`
	// CreditNoteNumber is the credit note (avoir) its success made on the
	// invoice (invoice.CreditNotes), when the invoice keeps documents.
	CreditNoteNumber string `json:"credit_note_number,omitempty"`

	PartnerID string `json:"-"`
	OrgID     string `json:"-"`
	// ProviderID is the provider's refund id, once the poller created it.
	ProviderID string `json:"-"`
	// ProviderCode is the provider's last status code (for the logs).
	ProviderCode string `json:"-"`
	// Awaiting is a refund in requires_action that the provider still
	// moves (the payer is connecting the account to refund): it is
	// followed until the account is known or the flow closes.
	Awaiting bool  `json:"-"`
	Version  int64 `json:"-"`
}

// Action is what a refund in requires_action waits for.
type Action struct {
	// Type: pay_payer_account (the provider cannot pay the refund out; the
	// organisation pays the payer's account, PayerAccount when the
	// provider named it) or collect_payer_account (the provider does not
	// know the account: URL, while it is open, is where the payer
	// connects it; otherwise the organisation asks the payer).
	Type    string `json:"type"`
	Message string `json:"message"`
	// PayerAccount is the account to pay the refund into, as the provider
	// reported it (the account the payment came from, or the one the
	// payer connected).
	PayerAccount *PayerAccount `json:"payer_account,omitempty"`
	// URL is the provider's page where the payer connects the account to
	// refund: the partner sends it to the payer. ExpiresAt is when it
	// closes.
	URL       string     `json:"url,omitempty"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// PayerAccount is a payer's bank account, to pay a refund into.
type PayerAccount struct {
	IBAN              string `json:"iban"`
	AccountHolderName string `json:"account_holder_name,omitempty"`
}

// Final reports whether the refund's status is final.
func (r Refund) Final() bool {
	return r.Status == StatusSucceeded || r.Status == StatusFailed || r.Status == StatusCancelled
}

// Holds reports whether the refund holds its amount on the intent.
func (r Refund) Holds() bool { return r.Status != StatusFailed && r.Status != StatusCancelled }

// CreateInput is the body of POST /v1/refunds (seed 000, "Remboursements").
// Without amount, everything still refundable is refunded.
type CreateInput struct {
	PaymentIntentID string `json:"payment_intent_id"`
	Amount          *int64 `json:"amount"`
	Reason          string `json:"reason"`
}

// Filter narrows GET /v1/refunds.
type Filter struct {
	Status          string
	PaymentIntentID string
	CreatedFrom     time.Time
	CreatedTo       time.Time
}

// Keep reports whether r passes the filter.
func (f Filter) Keep(r Refund) bool {
	return (f.Status == "" || r.Status == f.Status) &&
		(f.PaymentIntentID == "" || r.PaymentIntentID == f.PaymentIntentID) &&
		(f.CreatedFrom.IsZero() || !r.CreatedAt.Before(f.CreatedFrom)) &&
		(f.CreatedTo.IsZero() || !r.CreatedAt.After(f.CreatedTo))
}

// Store persists refunds; every change commits with its events.
type Store interface {
	GetIntent(ctx context.Context, partnerID, orgID, intentID string) (payment.Intent, error)
	GetInvoice(ctx context.Context, partnerID, orgID, invoiceID string) (invoice.Invoice, error)
	// CreateRefund writes the refund and its event and raises the intent's
	// reserved refund amount by the refund's, on condition that the intent
	// is still refundable (succeeded or partially refunded), that the
	// reservation stays within the intent's amount and that the intent has
	// fewer than MaxPerIntent refunds: ErrNotRefundable otherwise.
	// The reservation's bound is pi.Amount (an intent's amount never changes).
	CreateRefund(ctx context.Context, pi payment.Intent, r Refund, ev event.Event) error
	GetRefund(ctx context.Context, partnerID, orgID, refundID string) (Refund, error)
	// ListRefunds pages through the organisation's refunds, oldest first.
	ListRefunds(ctx context.Context, partnerID, orgID string, q listing.Query, f Filter) (listing.Page[Refund], error)
	// OrganizationExists is NotFound unless the organisation is the
	// partner's (an empty list says nothing of another tenant's).
	OrganizationExists(ctx context.Context, partnerID, orgID string) error
	// IntentRefunds reads an intent's refunds (at most MaxPerIntent), oldest
	// first, with the intent.
	IntentRefunds(ctx context.Context, partnerID, orgID, intentID string) (payment.Intent, []Refund, error)
	// UpdateRefund writes the refund on condition of its version, with its
	// events (the provider's id, a status that changes nothing else).
	UpdateRefund(ctx context.Context, r Refund, evs []event.Event) error
	// ReleaseRefund writes a failed or cancelled refund and gives its amount
	// back to the intent's reservation, in one transaction.
	ReleaseRefund(ctx context.Context, r Refund, evs []event.Event) error
	// SettleRefund writes a succeeded refund, the intent (refunded amount
	// and status) and the invoice (amount paid and status, its new credit
	// note), each conditional on the version read, in one transaction with
	// the events; with credit, it also moves the organisation's credit note
	// counter of the year to the credit note's number by the lease's owner
	// (invoice.ErrNumberTaken when another took it first).
	SettleRefund(ctx context.Context, r Refund, pi payment.Intent, inv invoice.Invoice, credit *invoice.CreditNumber, evs []event.Event) error
	// The organisations' credit note series (invoice.TakeCreditNumber).
	invoice.CreditSeries
}

// ErrNotRefundable is the store's answer when the intent's condition fails:
// it changed since read (another refund took the amount, or it is not
// refundable); the service reads it again to say why.
var ErrNotRefundable = apperr.E("refund", apperr.Conflict, "the payment intent changed at the same time")

// ErrRefundChanged is the store's answer when the refund itself changed
// between read and write: another follower (a duplicate poll message) or
// the organisation moved it first.
var ErrRefundChanged = apperr.E("refund", apperr.Conflict, "the refund changed at the same time; read it again")

// Execution is a refund as the provider reports it, in ModuPay's terms.
type Execution struct {
	ProviderID    string
	Code          string // the provider's own code (for the logs)
	Status        string // pending, succeeded, failed, requires_action
	FailureReason string
	NextAction    *Action
	// Awaiting: requires_action, but the provider may still move it (see
	// Refund.Awaiting). A pending execution without ProviderID is one
	// the provider could not start yet: it is created again later.
	Awaiting bool
}

// Provider executes refunds: Aiia for SEPA transfers, the card processor
// for cards. Create is idempotent on the refund's id.
type Provider interface {
	Create(ctx context.Context, r Refund, pi payment.Intent) (Execution, error)
	State(ctx context.Context, r Refund, pi payment.Intent) (Execution, error)
}
