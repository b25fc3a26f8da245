// Package payment holds payment links and payment intents: a link is what a
// payer opens (an unguessable page URL, a QR code); its intent follows the
// payment from the method's choice to the bank's final answer. It knows
// nothing of HTTP, DynamoDB or Aiia.
package payment

import (
	"context"
	"time"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/listing"
)

// Link statuses.
const (
	LinkActive      = "active"
	LinkExpired     = "expired"
	LinkCompleted   = "completed"
	LinkDeactivated = "deactivated"
)

// Intent statuses: created → pending (method chosen) → processing (transfer
// initiated at Aiia) → succeeded | failed | requires_action (the provider
// lost track of the transfer: the organisation reconciles it against its
// statement); cancelled when its link ends first; partially_refunded |
// refunded later.
const (
	IntentCreated           = "created"
	IntentPending           = "pending"
	IntentProcessing        = "processing"
	IntentSucceeded         = "succeeded"
	IntentFailed            = "failed"
	IntentRequiresAction    = "requires_action"
	IntentCancelled         = "cancelled" // the guide's spelling of every status (1.7.0; "canceled" before, never in production)
	IntentPartiallyRefunded = "partially_refunded"
	IntentRefunded          = "refunded"
)

var intentTransitions = map[string]map[string]bool{
	IntentCreated:    {IntentPending: true, IntentCancelled: true},
	IntentPending:    {IntentProcessing: true, IntentPending: true, IntentCancelled: true, IntentFailed: true},
	IntentProcessing: {IntentSucceeded: true, IntentFailed: true, IntentRequiresAction: true},
	// The organisation records how a transfer the bank lost track of ended
	// (Flow.Resolve).
	IntentRequiresAction:    {IntentSucceeded: true, IntentFailed: true},
	IntentSucceeded:         {IntentPartiallyRefunded: true, IntentRefunded: true},
	IntentPartiallyRefunded: {IntentPartiallyRefunded: true, IntentRefunded: true},
}

// CanTransition says whether an intent may go from → to.
func CanTransition(from, to string) bool { return intentTransitions[from][to] }

// Methods a link may offer.
const (
	MethodSEPA = "sepa_credit"
	MethodCard = "card"
)

// Link is a payment link, in seed 000's wire shape.
type Link struct {
	ID              string    `json:"id"`
	InvoiceID       string    `json:"invoice_id"`
	PaymentIntentID string    `json:"payment_intent_id"`
	Amount          int64     `json:"amount"`
	Currency        string    `json:"currency"`
	Status          string    `json:"status"`
	PaymentPageURL  string    `json:"payment_page_url"`
	QRCodeData      string    `json:"qr_code_data"`
	ExpiresAt       time.Time `json:"expires_at"`
	CreatedAt       time.Time `json:"created_at"`

	PartnerID      string   `json:"-"`
	OrgID          string   `json:"-"`
	DepartmentID   string   `json:"-"`
	BankAccountID  string   `json:"-"`
	PaymentMethods []string `json:"-"`
	ReturnURL      string   `json:"-"`
	// Token is the page URL's secret (sealed keys, or 256 random bits for
	// plain tokens): no id appears in clear, so knowing an id opens nothing.
	Token   string `json:"-"`
	Version int64  `json:"-"`
}

// Intent is a payment intent, with the fields of seed 000's webhooks.
type Intent struct {
	ID                    string `json:"id"`
	InvoiceID             string `json:"invoice_id"`
	PaymentLinkID         string `json:"payment_link_id"`
	Amount                int64  `json:"amount"`
	Currency              string `json:"currency"`
	Status                string `json:"status"`
	SelectedPaymentMethod string `json:"selected_payment_method"`
	AiiaTransactionID     string `json:"aiia_transaction_id"`
	AiiaStatus            string `json:"aiia_status"`
	// FundsStatus is how far the bank saw a succeeded transfer's money go:
	// debited (from the payer) or credited (to the payee); omitted before
	// success and for cards.
	FundsStatus    string     `json:"funds_status,omitempty"`
	FailureReason  string     `json:"failure_reason"`
	RefundedAmount int64      `json:"refunded_amount"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	CompletedAt    *time.Time `json:"completed_at"`

	PartnerID string `json:"-"`
	OrgID     string `json:"-"`
	Version   int64  `json:"-"`
	// RefundReserved is the sum of the amounts of its refunds that hold
	// theirs (pending, requires_action, succeeded): never above Amount
	// (package refund). RefundIDs are its refunds, oldest first.
	RefundReserved int64    `json:"-"`
	RefundIDs      []string `json:"-"`
	// CardChargeID is the card processor's charge, for a card payment (what
	// a card refund refers to).
	CardChargeID string `json:"-"`
}

// Store persists links and intents; each change commits with its events.
type Store interface {
	// CreateLink writes the link, its intent, its token lookup and the
	// account's active-link count in one transaction, on condition that the
	// invoice is still as read (status and version).
	CreateLink(ctx context.Context, inv invoice.Invoice, l Link, pi Intent, ev event.Event) error
	GetLink(ctx context.Context, partnerID, orgID, linkID string) (Link, error)
	ListLinks(ctx context.Context, partnerID, orgID string, q listing.Query, invoiceID, status string) (listing.Page[Link], error)
	// EndLink moves an active link to status (deactivated, expired) and, when
	// given, its intent to cancelled, releasing the account and the invoice's
	// reserved amount, in one transaction.
	EndLink(ctx context.Context, l Link, status string, cancelled *Intent, evs []event.Event) error
	GetIntent(ctx context.Context, partnerID, orgID, intentID string) (Intent, error)
	ListIntents(ctx context.Context, partnerID, orgID, invoiceID string) ([]Intent, error)
	GetInvoice(ctx context.Context, partnerID, orgID, invoiceID string) (invoice.Invoice, error)
	GetDepartment(ctx context.Context, partnerID, deptID string) (department.Department, error)
	OrganizationExists(ctx context.Context, partnerID, orgID string) error
	// ExpiredLinks lists active links whose expiry time has passed, from a
	// sparse index of active links (reads follow the links it returns).
	ExpiredLinks(ctx context.Context, now time.Time) ([]Link, error)
}

// ErrLinkChanged is a store's answer when a link or intent changed between
// read and write.
var ErrLinkChanged = apperr.E("payment", apperr.Conflict, "the payment link changed at the same time; read it again")
