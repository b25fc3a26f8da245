package invoice

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/mail"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/backoff"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/idempotency"
	"github.com/modupay/modupay/shared/identifier"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/money"
	"github.com/modupay/modupay/shared/organization"
	"github.com/modupay/modupay/shared/validation"
)

// MaxLineItems bounds an invoice's lines, and MaxDescriptionBytes their
// descriptions' UTF-8 bytes together. An invoice is one DynamoDB item, and
// items are at most 400 KB: 200 lines of 500 characters fit with the rest
// of the invoice when the characters take at most 3 bytes (every Latin,
// Greek, Cyrillic or CJK letter and €); 4-byte characters (emoji) are
// refused past that sum, naming the line where it is reached.
const (
	MaxLineItems        = 200
	MaxDescriptionBytes = 300_000
)

// LineItemInput is a line as partners send it; numbers are read exactly.
type LineItemInput struct {
	Description string `json:"description"`
	Quantity    Number `json:"quantity"`
	UnitPrice   Number `json:"unit_price"`
	VATRate     Number `json:"vat_rate"`
}

// Number is a JSON number kept as its exact text. Unlike json.Number it
// refuses a string ("125"): amounts and quantities are numbers on the wire.
type Number string

// UnmarshalJSON accepts a JSON number only.
func (n *Number) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || !(b[0] == '-' || (b[0] >= '0' && b[0] <= '9')) {
		kind := "string"
		switch {
		case len(b) > 0 && (b[0] == 't' || b[0] == 'f'):
			kind = "bool"
		case len(b) > 0 && b[0] == 'n':
			kind = "null"
		case len(b) > 0 && (b[0] == '[' || b[0] == '{'):
			kind = "object"
		}
		return &json.UnmarshalTypeError{Value: kind, Type: reflect.TypeOf(float64(0))}
	}
	*n = Number(b)
	return nil
}

// CreateInput is the body of POST /v1/invoices (seed 000, step 1).
type CreateInput struct {
	DepartmentID      string                `json:"department_id"`
	Payer             *Payer                `json:"payer"`
	LineItems         []LineItemInput       `json:"line_items"`
	DueDate           string                `json:"due_date"`
	PaymentTerms      string                `json:"payment_terms"`
	OperationCategory string                `json:"operation_category"`
	ServiceDate       string                `json:"service_date"`
	DeliveryAddress   *organization.Address `json:"delivery_address"`
	VATOnDebits       bool                  `json:"vat_on_debits"`
	// VATExemptionReason: see Invoice.
	VATExemptionReason string `json:"vat_exemption_reason"`
}

// UpdateInput is a PATCH of a draft: absent fields stay as they are.
type UpdateInput struct {
	Payer             *Payer                `json:"payer"`
	LineItems         *[]LineItemInput      `json:"line_items"`
	DueDate           *string               `json:"due_date"`
	PaymentTerms      *string               `json:"payment_terms"`
	OperationCategory *string               `json:"operation_category"`
	ServiceDate       *string               `json:"service_date"`
	DeliveryAddress   *organization.Address `json:"delivery_address"`
	VATOnDebits       *bool                 `json:"vat_on_debits"`
	// VATExemptionReason: "" removes it.
	VATExemptionReason *string `json:"vat_exemption_reason"`
}

// Service runs the invoice use cases.
type Service struct {
	Store Store
	Now   func() time.Time
	NewID func(prefix string) string
	// Sleep waits between attempts at an invoice number and returns early
	// with ctx's error when ctx ends; nil is a timer. Tests replace it.
	Sleep func(ctx context.Context, d time.Duration) error
	// NumberBudget bounds, in wall time, how long a creation keeps trying
	// for a number under contention; 0 is DefaultNumberBudget.
	NumberBudget time.Duration
	// Documents renders and keeps an invoice's documents at its issue (nil:
	// none are kept).
	Documents DocumentKeeper
}

// DocumentKeeper renders an issued invoice's documents and keeps them,
// write-once, under its DocumentsVersion (package documents): a document
// never changes after issue, whatever the invoice's later payments or a
// rectified payer. A keep retried for the same invoice and version writes
// nothing new. It answers what the invoice lacks for a structured document
// (EN 16931) when it cannot have one — a private payer without a postal
// address: its PDFs are kept, its Factur-X and CII are not.
type DocumentKeeper interface {
	Keep(ctx context.Context, inv Invoice) (lacked []string, err error)
	// KeepCredit renders and keeps the credit note cn of the issued
	// invoice orig, write-once under cn's number.
	KeepCredit(ctx context.Context, orig Invoice, cn CreditNote) error
}

func validatePayer(op string, p *Payer) error {
	if p == nil {
		return apperr.Field(op, "payer", "payer is required")
	}
	return validatePayerAt(op, "payer.", p)
}

// validatePayerAt checks a payer whose fields are named prefix+field on the
// wire ("payer." in an invoice, "" in a rectification).
func validatePayerAt(op, prefix string, p *Payer) error {
	if p.ErasedAt != nil {
		// Only an erasure sets it (package datasubject); a payer sent with
		// it would be hidden from the payer index and the GDPR routes.
		return apperr.Field(op, prefix+"erased_at", prefix+"erased_at is set by an erasure only; leave it out")
	}
	p.Name, p.Email = strings.TrimSpace(p.Name), strings.TrimSpace(p.Email)
	if p.Name == "" || utf8.RuneCountInString(p.Name) > 140 {
		return apperr.Field(op, prefix+"name", prefix+"name must be 1 to 140 characters")
	}
	if p.Email == "" {
		return apperr.Field(op, prefix+"email", prefix+"email is required")
	}
	if a, err := mail.ParseAddress(p.Email); err != nil || a.Address != p.Email || len(p.Email) > 254 {
		return apperr.Field(op, prefix+"email", prefix+"email must be an email address like jean.dupont@example.com")
	}
	if p.Address != nil {
		if err := p.Address.Validate(op, prefix+"address", &validation.Collector{Mode: validation.Mode{Strict: true}}); err != nil {
			return err
		}
	}
	switch p.Type {
	case "", PayerIndividual, PayerBusiness:
	default:
		return apperr.Field(op, prefix+"type", prefix+"type must be individual or business")
	}
	if p.SIREN != "" {
		siren, prob := identifier.CheckSIREN(p.SIREN)
		if prob != nil {
			return apperr.Field(op, prefix+"siren", prefix+"siren: "+prob.Message)
		}
		p.SIREN = siren
	}
	if p.VATNumber != "" {
		v := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(p.VATNumber), " ", ""))
		if strings.HasPrefix(v, "FR") {
			fr, prob := identifier.CheckFrenchVAT(v)
			if prob != nil {
				return apperr.Field(op, prefix+"vat_number", prefix+"vat_number: "+prob.Message)
			}
			if p.SIREN != "" && !identifier.VATMatchesSIREN(fr, p.SIREN) {
				return apperr.Field(op, prefix+"vat_number", prefix+"vat_number is not the VAT number of SIREN "+p.SIREN)
			}
			v = fr
		} else if !euVAT.MatchString(v) {
			return apperr.Field(op, prefix+"vat_number", prefix+"vat_number must be an EU VAT number: 2-letter country code then 2 to 13 letters or digits")
		}
		p.VATNumber = v
	}
	if p.Business() {
		// A business buyer is identified (SIREN in France, else its VAT
		// number) and located: French invoice mentions, EN 16931 BR-10.
		switch {
		case p.SIREN == "" && p.VATNumber == "":
			return apperr.Field(op, prefix+"siren", "a business payer needs its siren (or, outside France, its vat_number)")
		case p.Address == nil:
			return apperr.Field(op, prefix+"address", "a business payer needs its address")
		}
	} else if p.SIREN != "" || p.VATNumber != "" {
		return apperr.Field(op, prefix+"type", prefix+"type must be business for a payer with a siren or a vat_number")
	}
	return nil
}

var euVAT = regexp.MustCompile(`^[A-Z]{2}[A-Z0-9]{2,13}$`)

// legal checks the invoice-level mentions against its payer: a business
// payer's invoice states its operation category (the e-invoicing reform).
func legal(op string, inv *Invoice) error {
	switch inv.OperationCategory {
	case "":
		if inv.Payer.Business() {
			return apperr.Field(op, "operation_category", "operation_category (goods, services or mixed) is required for a business payer")
		}
	case OperationGoods, OperationServices, OperationMixed:
	default:
		return apperr.Field(op, "operation_category", "operation_category must be goods, services or mixed")
	}
	if inv.ServiceDate != "" {
		if err := validDate(op, "service_date", inv.ServiceDate); err != nil {
			return err
		}
	}
	if inv.DeliveryAddress != nil {
		if err := inv.DeliveryAddress.Validate(op, "delivery_address", &validation.Collector{Mode: validation.Mode{Strict: true}}); err != nil {
			return err
		}
	}
	return exemption(op, inv)
}

// MaxExemptionReason is the longest vat_exemption_reason, in characters.
const MaxExemptionReason = 200

// exemption checks the VAT exemption reason against the lines: it states
// why lines at 0 % are exempt, so it needs one; a business payer's invoice
// with a line at 0 % must state it (CGI art. 242 nonies A, I-13°), as its
// EN 16931 document must (BR-E-10). A private payer's may leave it to the
// generic "Exonération de TVA".
func exemption(op string, inv *Invoice) error {
	if utf8.RuneCountInString(inv.VATExemptionReason) > MaxExemptionReason {
		return apperr.Field(op, "vat_exemption_reason", fmt.Sprintf("vat_exemption_reason is longer than %d characters", MaxExemptionReason))
	}
	exempt := slices.ContainsFunc(inv.LineItems, func(li LineItem) bool { return li.VATRate == 0 })
	switch {
	case inv.VATExemptionReason != "" && !exempt:
		return apperr.Field(op, "vat_exemption_reason", "vat_exemption_reason states why lines at 0 % VAT are exempt; this invoice has none")
	case inv.VATExemptionReason == "" && exempt && inv.Payer.Business():
		return apperr.Field(op, "vat_exemption_reason", "vat_exemption_reason is required for a business payer when a line is at 0 % VAT: "+
			"the provision that exempts it, e.g. \"Exonération de TVA, article 262 ter I du CGI\" or \"TVA non applicable, art. 293 B du CGI\"")
	}
	return nil
}

// lines checks the lines and computes every amount.
func lines(op string, in []LineItemInput) ([]LineItem, money.Totals, error) {
	if len(in) == 0 {
		return nil, money.Totals{}, apperr.Field(op, "line_items", "at least one line item is required")
	}
	if len(in) > MaxLineItems {
		return nil, money.Totals{}, apperr.Field(op, "line_items", fmt.Sprintf("at most %d line items (an invoice is stored as one item of at most 400 KB)", MaxLineItems))
	}
	out := make([]LineItem, len(in))
	calc := make([]money.Line, len(in))
	textBytes := 0
	for i, l := range in {
		param := fmt.Sprintf("line_items[%d]", i)
		d := strings.TrimSpace(l.Description)
		if d == "" || utf8.RuneCountInString(d) > 500 {
			return nil, money.Totals{}, apperr.Field(op, param+".description", "description must be 1 to 500 characters")
		}
		if textBytes += len(d); textBytes > MaxDescriptionBytes {
			return nil, money.Totals{}, apperr.Field(op, param+".description", fmt.Sprintf(
				"the descriptions reach %d bytes of UTF-8 text at this line; an invoice holds at most %d (500 characters on each of 200 lines fit when no character takes 4 bytes, as emoji do)",
				textBytes, MaxDescriptionBytes))
		}
		if l.Quantity == "" {
			return nil, money.Totals{}, apperr.Field(op, param+".quantity", "quantity is required")
		}
		q, err := money.ParseQuantity(json.Number(l.Quantity))
		if err != nil {
			return nil, money.Totals{}, apperr.Field(op, param+".quantity", err.Error())
		}
		price, err := strconv.ParseInt(string(l.UnitPrice), 10, 64)
		if err != nil || price <= 0 || price > money.MaxAmount {
			return nil, money.Totals{}, apperr.Field(op, param+".unit_price", "unit_price must be a positive whole number of cents (e.g. 320 for 3,20 €)")
		}
		if l.VATRate == "" {
			return nil, money.Totals{}, apperr.Field(op, param+".vat_rate", "vat_rate is required")
		}
		r, err := money.ParseRate(json.Number(l.VATRate))
		if err != nil {
			return nil, money.Totals{}, apperr.Field(op, param+".vat_rate", err.Error())
		}
		out[i] = LineItem{Description: d, Quantity: q, UnitPrice: price, VATRate: r}
		calc[i] = money.Line{Quantity: q, UnitPrice: price, Rate: r}
	}
	t, err := money.Compute(calc)
	if err != nil {
		var le *money.LineError
		if errors.As(err, &le) {
			return nil, money.Totals{}, apperr.Field(op, fmt.Sprintf("line_items[%d].%s", le.Index, le.Field), le.Message)
		}
		return nil, money.Totals{}, apperr.Field(op, "line_items", err.Error())
	}
	for i := range out {
		out[i].NetAmount = t.LineNet[i]
	}
	return out, t, nil
}

func applyTotals(inv *Invoice, items []LineItem, t money.Totals) {
	inv.LineItems = items
	inv.VATBreakdown = make([]VATLine, len(t.ByRate))
	for i, r := range t.ByRate {
		inv.VATBreakdown[i] = VATLine{VATRate: r.Rate, NetAmount: r.NetAmount, VATAmount: r.VATAmount}
	}
	inv.TotalNet, inv.TotalVAT, inv.TotalAmount = t.Net, t.VAT, t.Gross
	inv.AmountDue = t.Gross - inv.AmountPaid
}

func validDate(op, param, d string) error {
	if _, err := time.Parse(time.DateOnly, d); err != nil {
		return apperr.Field(op, param, param+" must be a date YYYY-MM-DD")
	}
	return nil
}

func validTerms(op, terms string) error {
	if utf8.RuneCountInString(terms) > 500 {
		return apperr.Field(op, "payment_terms", "payment_terms is longer than 500 characters")
	}
	return nil
}

// numberAttempts bounds the retries of a creation that lost the race for a
// number. Most rounds have a winner, but concurrent transactions on one
// counter can also all be cancelled, so the bound is generous and the
// jittered wait grows.
const numberAttempts = 60

// A creation that keeps losing the race for a number answers 503 before the
// function's 10 s timeout, which API Gateway would turn into a bare 500 that
// partners cannot tell from a bug. The loop, its reads and writes included,
// ends numberReserve before the request's deadline (what is left answers and
// records the response), or after DefaultNumberBudget when the request has
// no deadline.
const (
	DefaultNumberBudget = 8 * time.Second
	numberReserve       = 1500 * time.Millisecond
)

// numbersBusy is the message of that 503. Nothing was written, unless the
// budget cut short a transaction that the table had already applied; then
// the invoice exists, with its number, and a retry makes another.
const numbersBusy = "too many invoices are being created at once for this organization; retry"

// NumberBackoff is the jittered wait before attempt+1 of a writer that lost
// the race for a number: growing with the attempts, so that contenders
// spread out, up to 200 ms.
func NumberBackoff(attempt int) time.Duration {
	return time.Duration(rand.IntN(min(10*attempt, 200))+1) * time.Millisecond
}

// Create makes a draft with the organisation's next number: the counter and
// the invoice are written in one transaction, so numbers are continuous,
// without gaps or duplicates, however many invoices are created at once.
func (s *Service) Create(ctx context.Context, partnerID, orgID string, actor event.Actor, in CreateInput) (Invoice, error) {
	const op = "invoice.create"
	if strings.TrimSpace(in.DepartmentID) == "" {
		return Invoice{}, apperr.Field(op, "department_id", "department_id is required")
	}
	if err := validatePayer(op, in.Payer); err != nil {
		return Invoice{}, err
	}
	items, totals, err := lines(op, in.LineItems)
	if err != nil {
		return Invoice{}, err
	}
	defaultDue := in.DueDate == ""
	if !defaultDue {
		if err := validDate(op, "due_date", in.DueDate); err != nil {
			return Invoice{}, err
		}
	}
	if err := validTerms(op, in.PaymentTerms); err != nil {
		return Invoice{}, err
	}
	in.VATExemptionReason = strings.TrimSpace(in.VATExemptionReason)
	if err := legal(op, &Invoice{Payer: *in.Payer, OperationCategory: in.OperationCategory, ServiceDate: in.ServiceDate, DeliveryAddress: in.DeliveryAddress,
		VATExemptionReason: in.VATExemptionReason, LineItems: items}); err != nil {
		return Invoice{}, err
	}
	// The budget is wall time, like the function's timeout: s.Now is the
	// business clock, which tests hold still.
	deadline := time.Now().Add(cmp.Or(s.NumberBudget, DefaultNumberBudget))
	if dl, ok := ctx.Deadline(); ok && dl.Add(-numberReserve).Before(deadline) {
		deadline = dl.Add(-numberReserve)
	}
	bctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	// outOfTime is the loop's error for err: the 503 above when the budget
	// ended the loop, a retryable error when the request itself ended.
	outOfTime := func(attempt int, err error) error {
		switch {
		case ctx.Err() != nil:
			return apperr.Transient(op, err)
		case bctx.Err() != nil:
			return &apperr.Error{Op: op, Code: apperr.Unavailable, Message: numbersBusy,
				Err: fmt.Errorf("no number within the budget after %d attempts: %w", attempt, err)}
		}
		return apperr.Wrap(op, err)
	}
	sleep := s.Sleep
	if sleep == nil {
		sleep = backoff.Sleep
	}
	// With an Idempotency-Key, the id its first attempt took: a retry of a
	// creation whose transaction committed unseen finds that invoice
	// (ErrCreated) instead of taking a second number.
	id := idempotency.ReservedID(ctx, func() string { return s.NewID("inv") })
	for attempt := 1; ; attempt++ {
		now := s.Now().UTC()
		year := strconv.Itoa(now.In(Paris).Year())
		cc, err := s.Store.CreationContext(bctx, partnerID, orgID, in.DepartmentID, year)
		if err != nil {
			return Invoice{}, outOfTime(attempt, err)
		}
		if cc.Department == nil {
			return Invoice{}, apperr.Field(op, "department_id", "no such department in this organization")
		}
		inv := Invoice{ID: id, PartnerID: partnerID, OrgID: orgID, DepartmentID: cc.Department.ID, Status: StatusDraft, Currency: "EUR",
			Payer: *in.Payer, DueDate: in.DueDate, DueDateDefault: defaultDue, PaymentTerms: strings.TrimSpace(in.PaymentTerms),
			OperationCategory: in.OperationCategory, ServiceDate: in.ServiceDate, DeliveryAddress: in.DeliveryAddress, VATOnDebits: in.VATOnDebits,
			VATExemptionReason: in.VATExemptionReason,
			Seller:             seller(cc.Org, cc.Department.Name), CreatedAt: now, UpdatedAt: now, Version: 1}
		if defaultDue {
			inv.DueDate = DefaultDueDate(now)
		}
		applyTotals(&inv, items, totals)
		if inv.BankAccount, err = s.bankDetails(bctx, *cc.Department); err != nil {
			return Invoice{}, outOfTime(attempt, err)
		}
		number := cc.LastNumber + 1
		inv.InvoiceNumber = fmt.Sprintf("FAC-%s-%05d", year, number)
		ev, err := event.New(s.NewID("evt"), "invoice.created", now, partnerID, orgID, actor,
			map[string]any{"invoice_id": inv.ID, "invoice": inv},
			event.Change{ResourceType: "invoice", ResourceID: inv.ID, Action: "created", Before: event.Snapshot(nil), After: event.Snapshot(inv)})
		if err != nil {
			return Invoice{}, apperr.Wrap(op, err)
		}
		err = s.Store.CreateInvoice(bctx, inv, year, number, ev)
		if errors.Is(err, ErrCreated) {
			// An earlier attempt committed (its answer lost): that invoice,
			// with the number it took, is this creation's result.
			return s.created(ctx, op, partnerID, orgID, id, err)
		}
		if errors.Is(err, ErrNumberTaken) {
			wait := NumberBackoff(attempt)
			if attempt >= numberAttempts || time.Now().Add(wait).After(deadline) {
				return Invoice{}, &apperr.Error{Op: op, Code: apperr.Unavailable, Message: numbersBusy,
					Err: fmt.Errorf("no number after %d attempts: %w", attempt, err)}
			}
			if serr := sleep(bctx, wait); serr != nil {
				return Invoice{}, outOfTime(attempt, errors.Join(err, serr))
			}
			continue
		}
		if err != nil {
			// The budget may have cut short a transaction the table
			// applied: if the invoice exists, the creation succeeded.
			if got, gerr := s.Store.GetInvoice(ctx, partnerID, orgID, id); gerr == nil {
				return got, nil
			}
			return Invoice{}, outOfTime(attempt, err)
		}
		return inv, nil
	}
}

// created reads the invoice an earlier attempt of this creation committed.
func (s *Service) created(ctx context.Context, op, partnerID, orgID, id string, cause error) (Invoice, error) {
	got, err := s.Store.GetInvoice(ctx, partnerID, orgID, id)
	if err != nil {
		return Invoice{}, apperr.Wrap(op, errors.Join(cause, err))
	}
	return got, nil
}

func seller(o organization.Organization, dept string) Seller {
	return Seller{Name: o.Name, LegalName: o.LegalName, SIRET: o.SIRET, VATNumber: o.VATNumber, Address: o.Address, Department: dept}
}

// bankDetails is the department's payout account, nil when it has none: the
// default once it is verified, the last verified account until then, so a
// default added a moment ago is not on the invoice before it is checked.
func (s *Service) bankDetails(ctx context.Context, d department.Department) (*BankDetails, error) {
	if d.PayoutAccountID == "" {
		return nil, nil
	}
	a, err := s.Store.GetBankAccount(ctx, d.PartnerID, d.ID, d.PayoutAccountID)
	if err != nil {
		return nil, err
	}
	return &BankDetails{BankAccountID: a.ID, IBAN: a.IBAN, BIC: a.BIC, AccountName: a.AccountName, BankName: a.BankName}, nil
}

// Get returns one of the organisation's invoices.
func (s *Service) Get(ctx context.Context, partnerID, orgID, id string) (Invoice, error) {
	inv, err := s.Store.GetInvoice(ctx, partnerID, orgID, id)
	return inv, apperr.Wrap("invoice.get", err)
}

// List pages through the organisation's invoices, newest last.
func (s *Service) List(ctx context.Context, partnerID, orgID string, q listing.Query, f Filter) (listing.Page[Invoice], error) {
	const op = "invoice.list"
	if f.Status != "" && transitions[f.Status] == nil && f.Status != StatusCancelled {
		return listing.Page[Invoice]{}, apperr.Field(op, "status", "status must be one of draft, issued, partially_paid, paid, overdue, cancelled")
	}
	p, err := s.Store.ListInvoices(ctx, partnerID, orgID, q, f)
	p, err = listing.OfOrganization(ctx, p, err, q, s.Store, partnerID, orgID)
	return p, apperr.Wrap(op, err)
}

// Update edits a draft; anything else is a 409 giving the current status.
func (s *Service) Update(ctx context.Context, partnerID, orgID, id string, actor event.Actor, in UpdateInput) (Invoice, error) {
	const op = "invoice.update"
	if in.Payer == nil && in.LineItems == nil && in.DueDate == nil && in.PaymentTerms == nil && in.OperationCategory == nil &&
		in.ServiceDate == nil && in.DeliveryAddress == nil && in.VATOnDebits == nil && in.VATExemptionReason == nil {
		return Invoice{}, apperr.E(op, apperr.Malformed, "nothing to update: send at least one of payer, line_items, due_date, payment_terms, operation_category, service_date, delivery_address, vat_on_debits, vat_exemption_reason")
	}
	before, err := s.Get(ctx, partnerID, orgID, id)
	if err != nil {
		return Invoice{}, err
	}
	if before.Status != StatusDraft {
		return Invoice{}, apperr.E(op, apperr.Conflict, "only draft invoices can be edited; this one is "+before.Status)
	}
	after := before
	if in.Payer != nil {
		if err := validatePayer(op, in.Payer); err != nil {
			return Invoice{}, err
		}
		after.Payer = *in.Payer
	}
	if in.LineItems != nil {
		items, totals, err := lines(op, *in.LineItems)
		if err != nil {
			return Invoice{}, err
		}
		applyTotals(&after, items, totals)
	}
	if in.DueDate != nil {
		if err := validDate(op, "due_date", *in.DueDate); err != nil {
			return Invoice{}, err
		}
		after.DueDate, after.DueDateDefault = *in.DueDate, false
	}
	if in.PaymentTerms != nil {
		if err := validTerms(op, *in.PaymentTerms); err != nil {
			return Invoice{}, err
		}
		after.PaymentTerms = strings.TrimSpace(*in.PaymentTerms)
	}
	if in.OperationCategory != nil {
		after.OperationCategory = *in.OperationCategory
	}
	if in.ServiceDate != nil {
		after.ServiceDate = *in.ServiceDate
	}
	if in.DeliveryAddress != nil {
		after.DeliveryAddress = in.DeliveryAddress
	}
	if in.VATOnDebits != nil {
		after.VATOnDebits = *in.VATOnDebits
	}
	if in.VATExemptionReason != nil {
		after.VATExemptionReason = strings.TrimSpace(*in.VATExemptionReason)
	}
	if err := legal(op, &after); err != nil {
		return Invoice{}, err
	}
	now := s.Now().UTC()
	after.UpdatedAt, after.Version = now, before.Version+1
	ev, err := event.New(s.NewID("evt"), "invoice.updated", now, partnerID, orgID, actor,
		map[string]any{"invoice_id": id, "invoice": after},
		event.Change{ResourceType: "invoice", ResourceID: id, Action: "updated", Before: event.Snapshot(before), After: event.Snapshot(after)})
	if err != nil {
		return Invoice{}, apperr.Wrap(op, err)
	}
	return after, apperr.Wrap(op, s.Store.UpdateInvoice(ctx, before, after, ev))
}

// Issue makes a draft payable: it must be due today or later (Paris), and
// its department must have an account to be paid into.
func (s *Service) Issue(ctx context.Context, partnerID, orgID, id string, actor event.Actor) (Invoice, error) {
	const op = "invoice.issue"
	before, err := s.Get(ctx, partnerID, orgID, id)
	if err != nil {
		return Invoice{}, err
	}
	if !CanTransition(before.Status, StatusIssued) || before.Status != StatusDraft {
		return Invoice{}, apperr.E(op, apperr.Conflict, "only a draft can be issued; this invoice is "+before.Status)
	}
	now := s.Now().UTC()
	today := Today(now)
	due := before.DueDate
	if before.DueDateDefault {
		// The legal default runs from the issue.
		due = DefaultDueDate(now)
	}
	if due < today {
		return Invoice{}, apperr.Field(op, "due_date", "due_date "+due+" is in the past (today is "+today+" in Paris): edit the draft first")
	}
	after := before
	after.DueDate = due
	if after.Seller.Address.Line1 == "" {
		// Created before the organisation had its address: the invoice
		// takes it now, or cannot be issued (a French invoice shows it).
		o, err := s.Store.GetOrganization(ctx, partnerID, orgID)
		if err != nil {
			return Invoice{}, apperr.Wrap(op, err)
		}
		if missing := o.Requirements(); len(missing) > 0 {
			return Invoice{}, &apperr.Error{Op: op, Code: apperr.Conflict, Param: missing[0],
				Message: "the organization lacks " + strings.Join(missing, ", ") + ", which an invoice must show: set it with PATCH /v1/organizations/" + orgID + ", then issue"}
		}
		after.Seller = seller(o, before.Seller.Department)
	}
	d, err := s.Store.GetDepartment(ctx, partnerID, before.DepartmentID)
	if err != nil {
		return Invoice{}, apperr.Wrap(op, err)
	}
	if after.BankAccount, err = s.bankDetails(ctx, d); err != nil {
		return Invoice{}, apperr.Wrap(op, err)
	}
	if after.BankAccount == nil {
		return Invoice{}, apperr.E(op, apperr.Conflict, "the department has no bank account to be paid into: add one before issuing")
	}
	after.Status, after.IssueDate, after.UpdatedAt, after.Version = StatusIssued, today, now, before.Version+1
	if s.Documents != nil {
		// Kept before the issue commits: an issued invoice always has its
		// documents. A transition that then fails leaves objects no invoice
		// names (its version never committed), harmless.
		after.DocumentsVersion = after.Version
		if after.DocumentsLacked, err = s.Documents.Keep(ctx, after); err != nil {
			return Invoice{}, apperr.Wrap(op, err)
		}
	}
	return s.transition(ctx, op, before, after, actor)
}

// Cancel cancels a draft, or an issued invoice on which nothing is paid.
func (s *Service) Cancel(ctx context.Context, partnerID, orgID, id string, actor event.Actor) (Invoice, error) {
	const op = "invoice.cancel"
	before, err := s.Get(ctx, partnerID, orgID, id)
	if err != nil {
		return Invoice{}, err
	}
	if !CanTransition(before.Status, StatusCancelled) {
		return Invoice{}, apperr.E(op, apperr.Conflict, "this invoice is "+before.Status+": only drafts and issued invoices can be cancelled")
	}
	if before.AmountPaid > 0 {
		return Invoice{}, apperr.E(op, apperr.Conflict, "payments were received on this invoice: refund them before cancelling")
	}
	if before.AmountInLinks > 0 {
		return Invoice{}, apperr.E(op, apperr.Conflict, "active payment links are open on this invoice: deactivate them before cancelling")
	}
	after := before
	now := s.Now().UTC()
	after.Status, after.UpdatedAt, after.Version = StatusCancelled, now, before.Version+1
	if before.Status == StatusDraft || s.Documents == nil || before.DocumentsVersion == 0 {
		return s.transition(ctx, op, before, after, actor)
	}
	return s.cancelIssued(ctx, op, before, after, actor)
}

// cancelIssued cancels an issued invoice with its credit note: the next
// number of the organisation's credit note series for the year (held for
// this cancellation while it renders: TakeCreditNumber), its documents
// rendered and kept, then the cancellation and the counter in one
// transaction. A number lost meanwhile (the lease expired and another took
// it) is taken again and the note rendered anew; what was kept under the
// lost number, no transaction names: harmless.
func (s *Service) cancelIssued(ctx context.Context, op string, before, after Invoice, actor event.Actor) (Invoice, error) {
	sleep := s.Sleep
	if sleep == nil {
		sleep = backoff.Sleep
	}
	now := after.UpdatedAt
	owner := s.NewID("cnl")
	for attempt := 1; ; attempt++ {
		n, err := TakeCreditNumber(ctx, s.Store, before.PartnerID, before.OrgID, now, owner, sleep)
		if err != nil {
			return Invoice{}, apperr.Wrap(op, err)
		}
		cn := CreditNote{Number: n.Note(), IssueDate: Today(now), Amount: before.TotalAmount,
			Reason: "Annulation de la facture " + before.InvoiceNumber, CreatedAt: now}
		after.CreditNotes = append(slices.Clone(before.CreditNotes), cn)
		err = s.Documents.KeepCredit(ctx, before, cn)
		var ev event.Event
		if err == nil {
			ev, err = StatusEvent(s.NewID("evt"), now, actor, before, after)
		}
		if err == nil {
			err = s.Store.CancelWithCreditNote(ctx, before, after, n, ev)
		}
		if err == nil {
			return after, nil
		}
		ReleaseCreditNumber(ctx, s.Store, before.PartnerID, before.OrgID, n)
		if errors.Is(err, ErrNumberTaken) && attempt < numberAttempts {
			if serr := sleep(ctx, NumberBackoff(attempt)); serr != nil {
				return Invoice{}, apperr.Transient(op, errors.Join(err, serr))
			}
			continue
		}
		if errors.Is(err, ErrNumberTaken) {
			return Invoice{}, &apperr.Error{Op: op, Code: apperr.Unavailable,
				Message: "too many credit notes are being made at once for this organization; retry", Err: err}
		}
		return Invoice{}, apperr.Wrap(op, err)
	}
}

func (s *Service) transition(ctx context.Context, op string, before, after Invoice, actor event.Actor) (Invoice, error) {
	ev, err := StatusEvent(s.NewID("evt"), after.UpdatedAt, actor, before, after)
	if err != nil {
		return Invoice{}, apperr.Wrap(op, err)
	}
	return after, apperr.Wrap(op, s.Store.UpdateInvoice(ctx, before, after, ev))
}

// StatusEvent is invoice.status_changed, as seed 000 shows it.
func StatusEvent(id string, at time.Time, actor event.Actor, before, after Invoice) (event.Event, error) {
	return event.New(id, "invoice.status_changed", at, after.PartnerID, after.OrgID, actor,
		map[string]any{"invoice_id": after.ID, "previous_status": before.Status, "current_status": after.Status, "invoice": after},
		event.Change{ResourceType: "invoice", ResourceID: after.ID, Action: "status_changed",
			Before: event.Snapshot(map[string]string{"status": before.Status}), After: event.Snapshot(map[string]string{"status": after.Status})})
}

// OverdueBatch is how many due invoices one read of the index brings.
const OverdueBatch = 100

// MarkOverdue marks every issued or partially paid invoice whose due date is
// before today (Paris) as overdue, with invoice.status_changed. It reads only
// the sparse index of open invoices by due date, so its cost follows the
// number of invoices it marks. It is idempotent and safe to run twice at once:
// each change is conditional on the invoice being as read, and an invoice
// that changed meanwhile is left to the next run.
func (s *Service) MarkOverdue(ctx context.Context) (marked int, err error) {
	const op = "invoice.mark_overdue"
	now := s.Now().UTC()
	today := Today(now)
	due, err := s.Store.DueBefore(ctx, today)
	if err != nil {
		return 0, apperr.Wrap(op, err)
	}
	system := event.Actor{ID: "overdue-schedule", Type: "system"}
	for _, before := range due {
		if before.Status != StatusIssued && before.Status != StatusPartiallyPaid {
			continue
		}
		after := before
		after.Status, after.UpdatedAt, after.Version = StatusOverdue, now, before.Version+1
		if _, err := s.transition(ctx, op, before, after, system); err != nil {
			if apperr.CodeOf(err) == apperr.Conflict {
				continue // changed since read: the next run sees it as it is now
			}
			return marked, err
		}
		marked++
	}
	return marked, nil
}

// RectifyInput is the body of PATCH /v1/invoices/{invoice_id}/payer: the
// payer's contact details as they should have been (GDPR article 16).
// Absent fields stay as they are.
type RectifyInput struct {
	Name    *string               `json:"name"`
	Email   *string               `json:"email"`
	Address *organization.Address `json:"address"`
}

// RectifyPayer corrects the payer's contact details of an invoice in any
// status, issued, paid and cancelled ones included: the right to
// rectification covers every record held, and an invoice's number, lines,
// amounts, dates and status are not touched. The change is its own event,
// invoice.payer_rectified, whose audit entry holds the payer before and
// after (masked by the audit writer); it is not sent to webhooks, which
// would copy the personal data to the partner's endpoints. A payer whose
// data was erased cannot be rectified (409): there is nothing left to
// correct, and writing a name back would undo the erasure.
func (s *Service) RectifyPayer(ctx context.Context, partnerID, orgID, id string, actor event.Actor, in RectifyInput) (Invoice, error) {
	const op = "invoice.rectify_payer"
	if in.Name == nil && in.Email == nil && in.Address == nil {
		return Invoice{}, apperr.E(op, apperr.Malformed, "nothing to rectify: send at least one of name, email, address")
	}
	before, err := s.Get(ctx, partnerID, orgID, id)
	if err != nil {
		return Invoice{}, err
	}
	if before.Payer.ErasedAt != nil {
		return Invoice{}, apperr.E(op, apperr.Conflict, "the payer's personal data on this invoice was erased: there is nothing to rectify")
	}
	p := before.Payer
	if in.Name != nil {
		p.Name = *in.Name
	}
	if in.Email != nil {
		p.Email = *in.Email
	}
	if in.Address != nil {
		a := *in.Address
		p.Address = &a
	}
	if err := validatePayerAt(op, "", &p); err != nil {
		return Invoice{}, err
	}
	if reflect.DeepEqual(p, before.Payer) {
		return before, nil // nothing changes: no write, no event
	}
	now := s.Now().UTC()
	after := before
	after.Payer, after.UpdatedAt, after.Version = p, now, before.Version+1
	ev, err := event.New(s.NewID("evt"), "invoice.payer_rectified", now, partnerID, orgID, actor,
		map[string]any{"invoice_id": id, "invoice": after},
		event.Change{ResourceType: "invoice", ResourceID: id, Action: "payer_rectified",
			Before: event.Snapshot(map[string]any{"payer": before.Payer}), After: event.Snapshot(map[string]any{"payer": after.Payer})})
	if err != nil {
		return Invoice{}, apperr.Wrap(op, err)
	}
	return after, apperr.Wrap(op, s.Store.UpdateInvoice(ctx, before, after, ev))
}
