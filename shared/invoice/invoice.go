// Package invoice holds the rules of French invoices: their arithmetic (on
// integer cents, through package money), their numbering (FAC-YYYY-NNNNN per
// organisation, continuous, without gaps), their lifecycle and the overdue
// rule. It knows nothing of HTTP or DynamoDB.
package invoice

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
	_ "time/tzdata" // Lambda images need not carry a time zone database

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/money"
	"github.com/modupay/modupay/shared/organization"
)

// Statuses.
const (
	StatusDraft         = "draft"
	StatusIssued        = "issued"
	StatusPartiallyPaid = "partially_paid"
	StatusPaid          = "paid"
	StatusOverdue       = "overdue"
	StatusCancelled     = "cancelled"
)

// transitions is the lifecycle: draft → issued → partially_paid → paid;
// draft|issued → cancelled (issued only while nothing is paid);
// issued|partially_paid → overdue; an overdue invoice stays overdue while
// partly paid and becomes paid when settled. Refunds move paid or
// partially_paid back (see ApplyPayment).
var transitions = map[string]map[string]bool{
	StatusDraft:         {StatusIssued: true, StatusCancelled: true},
	StatusIssued:        {StatusPartiallyPaid: true, StatusPaid: true, StatusCancelled: true, StatusOverdue: true},
	StatusPartiallyPaid: {StatusPaid: true, StatusOverdue: true, StatusIssued: true},
	StatusOverdue:       {StatusPaid: true},
	// Refunds: a paid invoice can go back to partially paid, issued or overdue.
	StatusPaid: {StatusPartiallyPaid: true, StatusIssued: true, StatusOverdue: true},
}

// CanTransition says whether the lifecycle allows from → to.
func CanTransition(from, to string) bool { return transitions[from][to] }

// Paris is the calendar invoices' dates live in (due dates, issue dates, the
// year of the number, "overdue").
var Paris = mustLoad("Europe/Paris")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		// The time zone database is embedded (time/tzdata in the mains);
		// without it, fall back to a fixed CET offset rather than UTC.
		return time.FixedZone("CET", 3600)
	}
	return loc
}

// Today is the Paris calendar day of t, as YYYY-MM-DD.
func Today(t time.Time) string { return t.In(Paris).Format(time.DateOnly) }

// DefaultPaymentDays is the payment term when none is agreed: 30 days after
// the invoice (Code de commerce, L441-10).
const DefaultPaymentDays = 30

// DefaultDueDate is the due date of an invoice issued (or, for a draft,
// created) at t without one.
func DefaultDueDate(t time.Time) string {
	return t.In(Paris).AddDate(0, 0, DefaultPaymentDays).Format(time.DateOnly)
}

// Payer is who pays the invoice.
type Payer struct {
	// Type is individual (a consumer; the default when absent) or business:
	// a business buyer's invoice carries its SIREN (or, outside France, its
	// VAT number), its address, and the business-to-business mentions.
	Type    string                `json:"type,omitempty"`
	Name    string                `json:"name"`
	Email   string                `json:"email"`
	Address *organization.Address `json:"address,omitempty"`
	// SIREN and VATNumber identify a business buyer (French invoice
	// mentions; EN 16931 BT-47, BT-48).
	SIREN     string `json:"siren,omitempty"`
	VATNumber string `json:"vat_number,omitempty"`
	// ErasedAt is set once the payer's personal data was erased (GDPR
	// article 17, package datasubject): Name is ErasedName, Email a
	// non-deliverable placeholder, Address gone. Nothing changes it after.
	ErasedAt *time.Time `json:"erased_at,omitempty"`
}

// Payer types.
const (
	PayerIndividual = "individual"
	PayerBusiness   = "business"
)

// Business says whether the payer is a business (B2B).
func (p Payer) Business() bool { return p.Type == PayerBusiness }

// Operation categories, the e-invoicing reform's mention (CGI art. 242
// nonies A, from 1 September 2026): what the invoice is for.
const (
	OperationGoods    = "goods"
	OperationServices = "services"
	OperationMixed    = "mixed"
)

// ErasedName replaces an erased payer's name.
const ErasedName = "Anonymisé"

// EmailHash is how a payer's email is keyed (the payer index, erasure
// records, events about a data subject): the hex SHA-256 of the address
// trimmed and lower-cased, so "Jean.Dupont@Example.com " and
// "jean.dupont@example.com" are one data subject and no key holds the
// address itself.
func EmailHash(email string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email))))
	return hex.EncodeToString(sum[:])
}

// ErasedEmail is the placeholder an erased payer's email becomes: in the
// reserved .invalid domain (RFC 2606), so nothing can ever be sent to it,
// and distinct per data subject (12 hex digits of the hash) so that an
// organisation can still tell that two erased invoices had one payer.
func ErasedEmail(hash string) string { return "erased-" + hash[:12] + "@invalid" }

// Erase returns p with its personal data replaced (name, email) or
// removed (address), marked erased at t.
func (p Payer) Erase(t time.Time) Payer {
	at := t.UTC()
	return Payer{Name: ErasedName, Email: ErasedEmail(EmailHash(p.Email)), ErasedAt: &at}
}

// LineItem is one line, with its computed net amount.
type LineItem struct {
	Description string         `json:"description"`
	Quantity    money.Quantity `json:"quantity"`
	UnitPrice   int64          `json:"unit_price"`
	VATRate     money.Rate     `json:"vat_rate"`
	NetAmount   int64          `json:"net_amount"`
}

// VATLine is one rate's totals: net amount and VAT.
type VATLine struct {
	VATRate   money.Rate `json:"vat_rate"`
	NetAmount int64      `json:"net_amount"`
	VATAmount int64      `json:"vat_amount"`
}

// Seller is the organisation's identity as a French invoice must show it.
type Seller struct {
	Name      string               `json:"name"`
	LegalName string               `json:"legal_name"`
	SIRET     string               `json:"siret"`
	VATNumber string               `json:"vat_number,omitempty"`
	Address   organization.Address `json:"address,omitzero"`
	// Department is the régie or service that bills.
	Department string `json:"department"`
}

// BankDetails is where to pay by transfer: the department's default account.
type BankDetails struct {
	BankAccountID string `json:"bank_account_id"`
	IBAN          string `json:"iban"`
	BIC           string `json:"bic"`
	AccountName   string `json:"account_name"`
	BankName      string `json:"bank_name,omitempty"`
}

// Invoice is a French invoice. Amounts are integer cents of Currency.
type Invoice struct {
	ID            string     `json:"id"`
	PartnerID     string     `json:"-"`
	OrgID         string     `json:"organization_id"`
	DepartmentID  string     `json:"department_id"`
	InvoiceNumber string     `json:"invoice_number"`
	Status        string     `json:"status"`
	Currency      string     `json:"currency"`
	Payer         Payer      `json:"payer"`
	LineItems     []LineItem `json:"line_items"`
	VATBreakdown  []VATLine  `json:"vat_breakdown"`
	TotalNet      int64      `json:"total_excluding_vat"`
	TotalVAT      int64      `json:"total_vat"`
	TotalAmount   int64      `json:"total_amount"` // including VAT
	AmountPaid    int64      `json:"amount_paid"`
	AmountDue     int64      `json:"amount_due"`
	// AmountInLinks is the sum of the active payment links' amounts: a new
	// link may ask for at most AmountDue − AmountInLinks, so two links can
	// never be paid beyond the total. Kept by the link writes, not shown.
	AmountInLinks int64  `json:"-"`
	DueDate       string `json:"due_date"`
	// DueDateDefault: no due date was given, so it is the legal default
	// (DefaultPaymentDays after the issue, Code de commerce L441-10),
	// counted from the creation date while a draft and from the issue date
	// once issued. A due_date given by PATCH ends it.
	DueDateDefault bool   `json:"due_date_default,omitempty"`
	PaymentTerms   string `json:"payment_terms"`
	// OperationCategory is goods, services or mixed (required for a
	// business payer); ServiceDate the delivery or service date when it is
	// not the issue date; DeliveryAddress where goods go when not the
	// payer's address; VATOnDebits the seller's option to pay VAT on
	// invoicing rather than on payment (stated on the invoice);
	// VATExemptionReason the provision that exempts its lines at 0 % (CGI
	// art. 242 nonies A, I-13°; EN 16931 BT-120), required for a business
	// payer when a line is at 0 %.
	OperationCategory  string                `json:"operation_category,omitempty"`
	ServiceDate        string                `json:"service_date,omitempty"`
	DeliveryAddress    *organization.Address `json:"delivery_address,omitempty"`
	VATOnDebits        bool                  `json:"vat_on_debits,omitempty"`
	VATExemptionReason string                `json:"vat_exemption_reason,omitempty"`
	IssueDate          string                `json:"issue_date,omitempty"`
	Seller             Seller                `json:"seller"`
	BankAccount        *BankDetails          `json:"bank_account"`
	CreatedAt          time.Time             `json:"created_at"`
	UpdatedAt          time.Time             `json:"updated_at"`
	Version            int64                 `json:"-"`
	// DocumentsVersion is the version the invoice had when its documents
	// (PDF, Factur-X, CII) were rendered and kept, at its issue; 0: none
	// (a draft, or an invoice issued before documents were kept).
	DocumentsVersion int64 `json:"-"`
	// DocumentsLacked names what the invoice lacked at its issue for a
	// structured document (EN 16931: Factur-X, CII), which it then has not
	// (its PDFs it has): empty when it has one.
	DocumentsLacked []string `json:"-"`
	// CreditNotes are the credit notes (avoirs) of the issued invoice: its
	// cancellation's.
	CreditNotes []CreditNote `json:"credit_notes,omitempty"`
}

// OpenForPayment says whether the invoice can be paid (and get payment links).
func (inv Invoice) OpenForPayment() bool {
	return inv.Status == StatusIssued || inv.Status == StatusPartiallyPaid || inv.Status == StatusOverdue
}

// ApplyPayment is the one place amounts paid change, for payments (positive)
// and refunds (negative): amount_paid and amount_due move together, never
// past the total nor below zero, and the status follows — paid when fully
// paid, partially_paid in between (an overdue invoice stays overdue until
// settled), issued again when a refund takes everything back (overdue if its
// due date has passed). Callers commit the result in the same transaction as
// the payment or refund that caused it.
func ApplyPayment(inv Invoice, amount int64, today string) (Invoice, error) {
	const op = "invoice.apply_payment"
	if !inv.OpenForPayment() && inv.Status != StatusPaid {
		return inv, apperr.E(op, apperr.Conflict, "the invoice is "+inv.Status+": it takes no payment")
	}
	paid := inv.AmountPaid + amount
	if paid > inv.TotalAmount {
		return inv, apperr.E(op, apperr.Conflict, "the payment would take amount_paid above the invoice total")
	}
	if paid < 0 {
		return inv, apperr.E(op, apperr.Conflict, "the refund would take amount_paid below zero")
	}
	inv.AmountPaid, inv.AmountDue = paid, inv.TotalAmount-paid
	switch {
	case paid == inv.TotalAmount:
		inv.Status = StatusPaid
	case inv.DueDate < today:
		inv.Status = StatusOverdue // not settled and past due
	case paid == 0:
		inv.Status = StatusIssued // e.g. a full refund (seed 000: "revient à issued")
	default:
		inv.Status = StatusPartiallyPaid
	}
	return inv, nil
}

// Store persists invoices. Every change commits with its event.
type Store interface {
	// CreationContext reads, in one call, what a new invoice needs: the
	// seller, the department and the organisation's counter for the year.
	CreationContext(ctx context.Context, partnerID, orgID, deptID, year string) (CreationContext, error)
	// CreateInvoice writes the invoice and moves the counter from
	// inv's number − 1 to its number, in one transaction; ErrNumberTaken when
	// another invoice took the number first.
	CreateInvoice(ctx context.Context, inv Invoice, year string, number int64, ev event.Event) error
	GetInvoice(ctx context.Context, partnerID, orgID, invoiceID string) (Invoice, error)
	ListInvoices(ctx context.Context, partnerID, orgID string, q listing.Query, f Filter) (listing.Page[Invoice], error)
	CreditSeries
	// CancelWithCreditNote writes after, the cancelled invoice with its new
	// credit note, as UpdateInvoice does, and moves the year's credit note
	// counter from n's number − 1 to it by n's owner, the lease given back,
	// in one transaction; ErrNumberTaken when the counter moved since read or
	// the owner lost the lease.
	CancelWithCreditNote(ctx context.Context, before, after Invoice, n CreditNumber, ev event.Event) error
	// UpdateInvoice writes after on condition that the stored invoice is
	// still before (version and status); the overdue index follows the status.
	UpdateInvoice(ctx context.Context, before, after Invoice, ev event.Event) error
	// DueBefore lists open (issued or partially paid) invoices due before a
	// day, across every tenant, from the sparse due-date index.
	DueBefore(ctx context.Context, day string) ([]Invoice, error)
	GetDepartment(ctx context.Context, partnerID, deptID string) (department.Department, error)
	OrganizationExists(ctx context.Context, partnerID, orgID string) error
	GetOrganization(ctx context.Context, partnerID, orgID string) (organization.Organization, error)
	GetBankAccount(ctx context.Context, partnerID, deptID, accountID string) (department.BankAccount, error)
}

// CreationContext is what CreationContext reads.
type CreationContext struct {
	Org        organization.Organization
	Department *department.Department // nil when absent or not the organisation's
	LastNumber int64                  // the organisation's last invoice number of the year
}

// ErrNumberTaken is the store's answer when the counter moved between the
// read and the write; the service reads again and retries.
var ErrNumberTaken = apperr.E("invoice", apperr.Conflict, "invoice numbers were taken concurrently; retry")

// ErrCreated is the store's answer when the invoice's id already exists: an
// earlier attempt of the same creation committed and its answer was lost.
var ErrCreated = apperr.E("invoice", apperr.Conflict, "this invoice was already created")

// Filter narrows a list.
type Filter struct {
	Status       string
	DepartmentID string
	PayerEmail   string
	DueFrom      string
	DueTo        string
	CreatedFrom  time.Time
	CreatedTo    time.Time
}

// Empty says whether the filter selects everything.
func (f Filter) Empty() bool { return f == Filter{} }

// CreditNote is a credit note (avoir) of an issued invoice — what cancels
// it, in whole or in part, since an issued invoice is never deleted nor
// changed (CGI art. 272, 289): numbered in its own continuous series per
// organisation and calendar year (AV-YYYY-NNNNN, moved in the transaction
// that records it), its PDF kept, write-once, as the invoice's.
type CreditNote struct {
	Number    string `json:"number"`
	IssueDate string `json:"issue_date"`
	Amount    int64  `json:"amount"`
	Reason    string `json:"reason"`
	// RefundID is the refund that made it; none for a cancellation's.
	RefundID  string    `json:"refund_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}
