package payment

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/branding"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/metric"
	"github.com/modupay/modupay/shared/pagetoken"
)

// Bank is the open-banking provider as the payment flow needs it (Aiia's
// adapter implements it). Every call is idempotent on the request ids given.
type Bank interface {
	// Destination onboards the account (once; the id is kept on the
	// account), or answers ErrNotOnboarded where destination ids are
	// recorded by an operator (aiiabank.MerchantOnboarding).
	Destination(ctx context.Context, a department.BankAccount) (string, error)
	// StartTransfer starts the payer's transfer and returns its id and the
	// bank authorisation URL the payer is sent to.
	StartTransfer(ctx context.Context, r TransferRequest) (Transfer, error)
	// TransferState reads the transfer's current state: the only truth.
	TransferState(ctx context.Context, id string) (TransferState, error)
}

// TransferRequest is a transfer to start.
type TransferRequest struct {
	RequestID, DestinationID string
	Amount                   int64
	Currency, InvoiceNumber  string
	IntentID, RedirectURL    string
	PayerEmail               string
	// PayerID is the payer's stable pseudonym at the provider (PayerID):
	// Aiia's endUser.id, required for an unlicensed tenant.
	PayerID string
}

// PayerID is the payer's stable id at the payment provider: the same for
// every invoice of one organisation to one email address, different across
// organisations (a payer is not linked from one merchant to another), and
// never the address itself — "payer_" and 32 hex digits of SHA-256 over
// the partner, the organisation and the address's invoice.EmailHash. An
// invoice without an email is its own payer.
func PayerID(inv invoice.Invoice) string {
	who := "invoice:" + inv.ID
	if strings.TrimSpace(inv.Payer.Email) != "" {
		who = "email:" + invoice.EmailHash(inv.Payer.Email)
	}
	sum := sha256.Sum256([]byte(inv.PartnerID + "\x00" + inv.OrgID + "\x00" + who))
	return "payer_" + hex.EncodeToString(sum[:16])
}

// Transfer is a started transfer.
type Transfer struct{ ID, FlowURL string }

// TransferState is a transfer's state in ModuPay's terms.
type TransferState struct {
	Code          string // the provider's own code, for the logs
	AiiaStatus    string // initiated, authorized, settled, rejected
	IntentStatus  string // processing, succeeded, failed, requires_action
	Funds         string // a success's funds_status: debited, credited
	Final         bool
	FailureReason string
}

// Page is what the hosted payment page shows and needs: one read.
type Page struct {
	Link    Link
	Intent  Intent
	Invoice invoice.Invoice
	Account department.BankAccount
	// Brand is the white label the payer sees: the organisation's branding
	// over the partner's over defaults.
	Brand branding.Branding
}

// TransferStore is the storage the payment flow needs beyond links.
type TransferStore interface {
	PageByToken(ctx context.Context, token string) (Page, error)
	// PageByKeys reads the page of a token whose keys it carries, in one
	// call, and checks that the link's token is this one.
	PageByKeys(ctx context.Context, k pagetoken.Keys, token string) (Page, error)
	SetDestination(ctx context.Context, a department.BankAccount, destinationID string) error
	// UpdateIntent writes the intent (conditional on its version) with its events.
	UpdateIntent(ctx context.Context, pi Intent, evs []event.Event) error
	// SettleIntent writes a succeeded intent, the invoice it pays (through
	// invoice.ApplyPayment), its completed link and the released account, in
	// one transaction, each conditional on the version read.
	SettleIntent(ctx context.Context, pi Intent, l Link, inv invoice.Invoice, evs []event.Event) error
	GetLink(ctx context.Context, partnerID, orgID, linkID string) (Link, error)
	GetIntent(ctx context.Context, partnerID, orgID, intentID string) (Intent, error)
	GetInvoice(ctx context.Context, partnerID, orgID, invoiceID string) (invoice.Invoice, error)
	GetDepartment(ctx context.Context, partnerID, deptID string) (department.Department, error)
	GetBankAccount(ctx context.Context, partnerID, deptID, accountID string) (department.BankAccount, error)
}

// Flow runs the payer's side: choosing a method, starting the transfer, and
// applying what the bank reports.
type Flow struct {
	Store TransferStore
	Bank  Bank
	// Tokens opens sealed page tokens (see Service.Tokens).
	Tokens *pagetoken.Sealer
	// Cards charges cards; nil where no card provider is configured
	// (production today), which makes card payments unavailable.
	Cards CardProvider
	Now   func() time.Time
	NewID func(prefix string) string
	// Log tells operators of accounts awaiting their destination id (nil:
	// slog's default).
	Log *slog.Logger
}

var payer = event.Actor{ID: "payer", Type: "payer"}

// Open reads the page of a token; an unknown token is NotFound. A sealed
// token is read in one call; any other (older keys, plain tokens) is looked up.
func (f *Flow) Open(ctx context.Context, token string) (Page, error) {
	if f.Tokens != nil {
		if k, ok := f.Tokens.Open(token); ok {
			p, err := f.Store.PageByKeys(ctx, k, token)
			return p, apperr.Wrap("payment_page.open", err)
		}
	}
	p, err := f.Store.PageByToken(ctx, token)
	return p, apperr.Wrap("payment_page.open", err)
}

// PayBySEPA records the payer's choice (intent pending), starts the transfer
// at the bank (intent processing, aiia_status initiated) and returns where to
// send the payer. A retry of the same step reuses the same request ids, so
// the bank starts one transfer, however often the payer clicks.
func (f *Flow) PayBySEPA(ctx context.Context, token, returnURL string) (string, error) {
	const op = "payment_page.pay"
	p, err := f.Open(ctx, token)
	if err != nil {
		return "", err
	}
	now := f.Now().UTC()
	if err := checkOpen(op, p, now); err != nil {
		return "", err
	}
	// The payee first: an account not onboarded at the provider (and that
	// ModuPay cannot onboard by itself) is refused before anything is
	// written.
	dest, err := f.destination(ctx, op, p.Account)
	if err != nil {
		return "", err
	}
	pi, err := f.choose(ctx, op, p.Intent, MethodSEPA, now)
	if err != nil {
		return "", err
	}
	tr, err := f.Bank.StartTransfer(ctx, TransferRequest{RequestID: pi.ID + "-v" + strconv.FormatInt(pi.Version, 10), DestinationID: dest,
		Amount: pi.Amount, Currency: pi.Currency, InvoiceNumber: p.Invoice.InvoiceNumber, IntentID: pi.ID,
		RedirectURL: returnURL, PayerEmail: p.Invoice.Payer.Email, PayerID: PayerID(p.Invoice)})
	if err != nil {
		return "", apperr.Wrap(op, err)
	}
	before := pi
	pi.Status, pi.AiiaTransactionID, pi.AiiaStatus, pi.UpdatedAt, pi.Version = IntentProcessing, tr.ID, "initiated", f.Now().UTC(), pi.Version+1
	ev, err := IntentEvent(f.NewID("evt"), pi.UpdatedAt, payer, before, pi)
	if err != nil {
		return "", apperr.Wrap(op, err)
	}
	// The event of this change (processing) is what sends the intent to the
	// status poller: committed means polled.
	if err := f.Store.UpdateIntent(ctx, pi, []event.Event{ev}); err != nil {
		return "", apperr.Wrap(op, err)
	}
	return tr.FlowURL, nil
}

// Onboard registers the department's payout account at the bank as a payee
// (Aiia's destination) and keeps its id on the account. It runs when the
// department's KYC is approved and when its payout account moves; a payment
// also onboards an account that is not yet (same request id, so never
// twice). Only a verified payout account of a KYC-approved department is
// onboarded: a default still pending verification never is. Where an
// operator records destination ids (ErrNotOnboarded), the bank is not
// asked: a warning with the DestinationsAwaited metric names the account to
// onboard, and the message is done.
func (f *Flow) Onboard(ctx context.Context, partnerID, deptID string) error {
	const op = "payment.onboard_destination"
	d, err := f.Store.GetDepartment(ctx, partnerID, deptID)
	if err != nil {
		return apperr.Wrap(op, err)
	}
	if d.PayoutAccountID == "" || d.KYCStatus != department.KYCApproved {
		return nil
	}
	a, err := f.Store.GetBankAccount(ctx, partnerID, deptID, d.PayoutAccountID)
	if err != nil {
		return apperr.Wrap(op, err)
	}
	if a.AiiaDestinationID != "" || a.Status != department.AccountVerified {
		return nil
	}
	dest, err := f.Bank.Destination(ctx, a)
	if errors.Is(err, ErrNotOnboarded) {
		f.log().WarnContext(ctx, "bank account awaits its Aiia destination id: onboard it at the provider, then record it with `operator aiia-destination`",
			append(accountAttrs(a), metric.Count(DestinationsAwaited, f.Now())...)...)
		return nil
	}
	if err != nil {
		return apperr.Wrap(op, err)
	}
	if dest == "" {
		return apperr.Wrap(op, errors.New("the bank returned an empty destination id"))
	}
	return apperr.Wrap(op, f.Store.SetDestination(ctx, a, dest))
}

// UnknownAtProvider names, in the intent's failure_reason, a transfer the
// provider lost track of (Aiia's UNKNOWN).
const UnknownAtProvider = "payment_unknown_at_provider"

// ErrUnknownAtProvider is Poll's answer, with final, when the transfer
// ended unknown at the provider: recorded (the intent requires_action), to
// be reconciled by people.
var ErrUnknownAtProvider = errors.New(UnknownAtProvider)

// checkOpen says whether a page can still be paid.
func checkOpen(op string, p Page, now time.Time) error {
	switch {
	case p.Link.Status != LinkActive:
		return apperr.E(op, apperr.Conflict, "this payment link is "+p.Link.Status)
	case !now.Before(p.Link.ExpiresAt):
		return apperr.E(op, apperr.Conflict, "this payment link has expired")
	case p.Intent.Status == IntentProcessing || p.Intent.Status == IntentSucceeded:
		return apperr.E(op, apperr.Conflict, "this payment is already "+p.Intent.Status)
	case p.Intent.Status != IntentCreated && p.Intent.Status != IntentPending:
		return apperr.E(op, apperr.Conflict, "this payment is "+p.Intent.Status)
	}
	return nil
}

// choose records the payer's method: created → pending (or the method
// changes while pending), with its event.
func (f *Flow) choose(ctx context.Context, op string, pi Intent, method string, now time.Time) (Intent, error) {
	if pi.Status == IntentPending && pi.SelectedPaymentMethod == method {
		return pi, nil
	}
	before := pi
	pi.Status, pi.SelectedPaymentMethod, pi.UpdatedAt, pi.Version = IntentPending, method, now, pi.Version+1
	ev, err := IntentEvent(f.NewID("evt"), now, payer, before, pi)
	if err != nil {
		return Intent{}, apperr.Wrap(op, err)
	}
	if err := f.Store.UpdateIntent(ctx, pi, []event.Event{ev}); err != nil {
		return Intent{}, apperr.Wrap(op, err)
	}
	return pi, nil
}

// Poll reads the bank's state of an intent's transfer and applies it. It
// returns whether the intent reached a final status. Applying is conditional
// on the intent's version, so duplicate or concurrent polls change it once.
func (f *Flow) Poll(ctx context.Context, partnerID, orgID, intentID string) (bool, error) {
	const op = "payment_intent.poll"
	pi, err := f.Store.GetIntent(ctx, partnerID, orgID, intentID)
	if err != nil {
		return false, apperr.Wrap(op, err)
	}
	if pi.Status != IntentProcessing {
		return true, nil // final already (or never started): nothing to follow
	}
	st, err := f.Bank.TransferState(ctx, pi.AiiaTransactionID)
	if err != nil {
		return false, apperr.Wrap(op, err)
	}
	if st.AiiaStatus == "" {
		st.AiiaStatus = pi.AiiaStatus // a code the table cannot place: keep what we knew
	}
	now := f.Now().UTC()
	before := pi
	switch {
	case !st.Final && st.AiiaStatus == pi.AiiaStatus:
		return false, nil
	case !st.Final:
		pi.AiiaStatus, pi.UpdatedAt, pi.Version = st.AiiaStatus, now, pi.Version+1
		// Same status, new aiia_status: the change is recorded, no transition event.
		return false, apperr.Wrap(op, f.Store.UpdateIntent(ctx, pi, nil))
	case st.IntentStatus == IntentFailed:
		pi.Status, pi.AiiaStatus, pi.FailureReason, pi.UpdatedAt, pi.CompletedAt, pi.Version = IntentFailed, st.AiiaStatus, st.FailureReason, now, &now, pi.Version+1
		ev, err := IntentEvent(f.NewID("evt"), now, event.Actor{ID: "aiia", Type: "system"}, before, pi)
		if err != nil {
			return false, apperr.Wrap(op, err)
		}
		return true, apperr.Wrap(op, f.Store.UpdateIntent(ctx, pi, []event.Event{ev}))
	case st.IntentStatus == IntentRequiresAction:
		// The provider lost track of the transfer and will say no more:
		// never assumed paid nor failed. The intent waits, its event tells
		// the partner, and Poll answers ErrUnknownAtProvider (final) so that
		// the poller raises the alarm; the invoice is unchanged.
		pi.AiiaStatus = st.AiiaStatus
		if err := f.unknown(ctx, op, pi, "the bank's status of this transfer ("+st.Code+") can no longer be read"); err != nil {
			return false, err
		}
		return true, fmt.Errorf("%w: payment intent %s (transfer %s) of organisation %s: %s", ErrUnknownAtProvider, pi.ID, pi.AiiaTransactionID, orgID, st.Code)
	}
	// Succeeded: the invoice takes the payment in the same transaction.
	pi.Status, pi.AiiaStatus, pi.FundsStatus = IntentSucceeded, st.AiiaStatus, st.Funds
	pi.UpdatedAt, pi.Version = now, pi.Version+1
	_, err = f.settle(ctx, op, partnerID, orgID, before, pi, event.Actor{ID: "aiia", Type: "system"})
	return err == nil, err
}

// Stall records a transfer still not final after the poller's horizon
// (it was followed for after): the provider never said how it ended, so
// it is treated as unknown — requires_action, its event, never assumed
// paid nor failed. An intent no longer processing is left alone.
func (f *Flow) Stall(ctx context.Context, partnerID, orgID, intentID string, after time.Duration) error {
	const op = "payment_intent.stall"
	pi, err := f.Store.GetIntent(ctx, partnerID, orgID, intentID)
	if err != nil {
		return apperr.Wrap(op, err)
	}
	if pi.Status != IntentProcessing {
		return nil
	}
	return f.unknown(ctx, op, pi, "the bank still reported this transfer as "+pi.AiiaStatus+" after "+strconv.Itoa(int(after.Hours()/24))+" days")
}

// unknown moves a processing intent to requires_action with its event:
// why says what is not known of the transfer.
func (f *Flow) unknown(ctx context.Context, op string, pi Intent, why string) error {
	before := pi
	now := f.Now().UTC()
	pi.Status, pi.UpdatedAt, pi.Version = IntentRequiresAction, now, pi.Version+1
	pi.FailureReason = UnknownAtProvider + ": " + why + "; check the account statement for the amount and the invoice number"
	ev, err := IntentEvent(f.NewID("evt"), now, event.Actor{ID: "aiia", Type: "system"}, before, pi)
	if err != nil {
		return apperr.Wrap(op, err)
	}
	return apperr.Wrap(op, f.Store.UpdateIntent(ctx, pi, []event.Event{ev}))
}

// settle commits a succeeded payment: the intent, the invoice paying it
// (invoice.ApplyPayment, which never exceeds the total), the completed link,
// in one transaction conditional on each version read.
func (f *Flow) settle(ctx context.Context, op, partnerID, orgID string, before, pi Intent, system event.Actor) (Intent, error) {
	now := pi.UpdatedAt
	pi.Status, pi.CompletedAt = IntentSucceeded, &now
	l, err := f.Store.GetLink(ctx, partnerID, orgID, pi.PaymentLinkID)
	if err != nil {
		return Intent{}, apperr.Wrap(op, err)
	}
	inv, err := f.Store.GetInvoice(ctx, partnerID, orgID, pi.InvoiceID)
	if err != nil {
		return Intent{}, apperr.Wrap(op, err)
	}
	paid, err := invoice.ApplyPayment(inv, pi.Amount, invoice.Today(now))
	if err != nil {
		return Intent{}, apperr.Wrap(op, err) // over-payment: parked by the poller with this reason
	}
	paid.UpdatedAt, paid.Version, paid.AmountInLinks = now, inv.Version+1, max(inv.AmountInLinks-l.Amount, 0)
	linkBefore := l
	l.Status, l.Version = LinkCompleted, l.Version+1
	piEv, err := IntentEvent(f.NewID("evt"), now, system, before, pi)
	if err != nil {
		return Intent{}, apperr.Wrap(op, err)
	}
	evs := []event.Event{piEv}
	if paid.Status != inv.Status {
		invEv, err := invoice.StatusEvent(f.NewID("evt"), now, system, inv, paid)
		if err != nil {
			return Intent{}, apperr.Wrap(op, err)
		}
		evs = append(evs, invEv)
	}
	linkEv, err := event.New(f.NewID("evt"), "payment_link.completed", now, partnerID, orgID, system,
		map[string]any{"payment_link_id": l.ID, "previous_status": linkBefore.Status, "current_status": l.Status, "payment_link": l},
		event.Change{ResourceType: "payment_link", ResourceID: l.ID, Action: "status_changed",
			Before: event.Snapshot(map[string]string{"status": linkBefore.Status}), After: event.Snapshot(map[string]string{"status": l.Status})})
	if err != nil {
		return Intent{}, apperr.Wrap(op, err)
	}
	evs = append(evs, linkEv)
	return pi, apperr.Wrap(op, f.Store.SettleIntent(ctx, pi, l, paid, evs))
}
