// Package datasubject serves a payer's rights under the GDPR, per
// organisation: access (Export: everything held about one payer email),
// erasure (Erase: the payer's personal data anonymised on invoices,
// intents, refunds and links, while amounts, numbers, dates and statuses
// stay, as French accounting law keeps them for 10 years), and, in package
// invoice, rectification (invoice.Service.RectifyPayer). A payer is found
// through the payer index (its email's hash, invoice.EmailHash), never by
// reading every invoice. It knows nothing of HTTP or DynamoDB.
package datasubject

import (
	"context"
	"time"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/audit"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/refund"
)

// Bounds. An export page reads, per invoice, the invoice, its intents, each
// intent's refunds and link, and (with an audit reader) one page of audit
// entries per resource: about ten calls an invoice, so a page holds at most
// MaxExportPageSize invoices and the rest is reached by cursor. An erasure
// request anonymises at most MaxErasePerRequest invoices and says has_more;
// the caller repeats it until has_more is false (each call is idempotent
// and resumes where the last stopped, since an erased invoice leaves the
// payer index).
const (
	DefaultExportPageSize = 10
	MaxExportPageSize     = 25
	MaxErasePerRequest    = 100
	// MaxAuditPerResource bounds the audit entries exported per resource
	// (newest first); audit_logs_truncated says when a resource had more.
	MaxAuditPerResource = 100
	// MaxChunkItems is DynamoDB's limit on the items of one transaction: an
	// erasure is committed in chunks of at most this many writes, each with
	// its own event.
	MaxChunkItems = 100
	// MaxReasonLength bounds an erasure's reason.
	MaxReasonLength = 500
)

// EventErased is the event of an erasure chunk. It carries the email's hash,
// never the email, and the ids of what was anonymised; the audit trail
// records it (resource_type "data_subject", resource_id the hash). It is not
// sent to webhooks.
const EventErased = "data_subject.erased"

// Erasure is the record of a payer's last erasure in an organisation, kept
// under the payer index's partition (no personal data: the hash, when, why,
// who). It is what tells a repeated erasure (200, nothing changed) from an
// email the organisation never held (404).
type Erasure struct {
	PartnerID string    `json:"partner_id"`
	OrgID     string    `json:"organization_id"`
	EmailHash string    `json:"email_sha256"`
	ErasedAt  time.Time `json:"erased_at"`
	Reason    string    `json:"reason"`
	ActorID   string    `json:"user_id"`
}

// Chunk is one transaction of an erasure: invoices as read and anonymised
// (before, after), intents, refunds and links scrubbed (their versions
// already moved on by one), the erasure record and the event.
type Chunk struct {
	Invoices [][2]invoice.Invoice
	Intents  []payment.Intent
	Refunds  []refund.Refund
	Links    []payment.Link
	Record   *Erasure
	Event    event.Event
}

// Items is the number of writes the chunk commits.
func (c Chunk) Items() int {
	n := 2*len(c.Invoices) + len(c.Intents) + len(c.Refunds) + len(c.Links) + 1 // the event
	if c.Record != nil {
		n++
	}
	return n
}

// ErrChanged is the store's answer when something the erasure read changed
// before its chunk committed: nothing of that chunk was written.
var ErrChanged = apperr.E("datasubject.erase", apperr.Conflict,
	"the payer's invoices, payments or refunds changed during the erasure; send the same request again (it resumes where it stopped)")

// Store is what the rights need of the table.
type Store interface {
	OrganizationExists(ctx context.Context, partnerID, orgID string) error
	// PayerInvoices pages through the ids of the organisation's invoices of
	// the payer whose email hashes to hash, oldest first, counted.
	PayerInvoices(ctx context.Context, partnerID, orgID, hash string, q listing.Query) (listing.Page[string], error)
	// LastErasure is the payer's erasure record (NotFound: never erased).
	LastErasure(ctx context.Context, partnerID, orgID, hash string) (Erasure, error)
	GetInvoice(ctx context.Context, partnerID, orgID, invoiceID string) (invoice.Invoice, error)
	ListIntents(ctx context.Context, partnerID, orgID, invoiceID string) ([]payment.Intent, error)
	IntentRefunds(ctx context.Context, partnerID, orgID, intentID string) (payment.Intent, []refund.Refund, error)
	GetLink(ctx context.Context, partnerID, orgID, linkID string) (payment.Link, error)
	// ErasePayer commits one chunk in one transaction, each write
	// conditional on the version read: ErrChanged otherwise.
	ErasePayer(ctx context.Context, c Chunk) error
}

// Service runs the rights. Audit is optional: without a reader, exports
// answer "audit_logs": null (the trail is not readable in this
// deployment), never an empty list that would claim there is none.
type Service struct {
	Store Store
	Audit audit.Reader
	Now   func() time.Time
	NewID func(prefix string) string
}
