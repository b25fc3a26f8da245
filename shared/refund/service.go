package refund

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/backoff"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/validation"
)

// Service runs the refund use cases.
type Service struct {
	Store Store
	// Methods are the payment methods whose payments can be refunded
	// (payment.MethodSEPA, payment.MethodCard where a card processor is
	// configured); another is payment_method_unavailable.
	Methods []string
	// Providers execute refunds, by the intent's payment method; only the
	// follower (the poller) needs them.
	Providers map[string]Provider
	Now       func() time.Time
	NewID     func(prefix string) string
	// Sleep waits between attempts when the intent is changed by a
	// concurrent request (nil: time.Sleep); it honours ctx.
	Sleep func(ctx context.Context, d time.Duration) error
	// Credits, when set, keeps the credit note (avoir) a succeeded refund
	// makes on an invoice that keeps documents (documents.Keeper): every
	// function that settles refunds has it.
	Credits CreditKeeper
}

// CreditKeeper renders and keeps a credit note's documents
// (documents.Keeper).
type CreditKeeper interface {
	KeepCredit(ctx context.Context, orig invoice.Invoice, cn invoice.CreditNote) error
}

// MethodsFor are the payment methods refunded in a mode: SEPA transfers
// always; cards where a card processor is configured — the sandbox's
// simulator; none in production yet (as for card payments).
func MethodsFor(mode validation.Mode) []string {
	if mode.Strict {
		return []string{payment.MethodSEPA}
	}
	return []string{payment.MethodSEPA, payment.MethodCard}
}

// attempts bounds how often a refund is tried again when the intent
// changed between read and write (another refund, a concurrent settle).
const attempts = 8

func (s *Service) sleep(ctx context.Context, d time.Duration) error {
	if s.Sleep != nil {
		return s.Sleep(ctx, d)
	}
	return backoff.Sleep(ctx, d)
}

// Refundable is what is left to refund on an intent: its amount less the
// refunds that hold theirs (pending, requires_action, succeeded).
func Refundable(pi payment.Intent) int64 { return max(pi.Amount-pi.RefundReserved, 0) }

func refundableStatus(status string) bool {
	return status == payment.IntentSucceeded || status == payment.IntentPartiallyRefunded || status == payment.IntentRefunded
}

// Create accepts a refund of a succeeded intent: the amount asked, or all
// that is still refundable. It reads the intent once and commits the
// refund, its reservation on the intent and refund.created in one
// transaction; the provider is asked by the poller, after the commit.
func (s *Service) Create(ctx context.Context, partnerID, orgID string, actor event.Actor, in CreateInput) (Refund, error) {
	const op = "refund.create"
	in.PaymentIntentID = strings.TrimSpace(in.PaymentIntentID)
	if in.PaymentIntentID == "" {
		return Refund{}, apperr.Field(op, "payment_intent_id", "payment_intent_id is required")
	}
	if in.Amount != nil && *in.Amount <= 0 {
		return Refund{}, apperr.Field(op, "amount", "amount must be a positive number of cents")
	}
	if n := utf8.RuneCountInString(in.Reason); n > MaxReasonLength {
		return Refund{}, apperr.Field(op, "reason", "reason must be at most "+strconv.Itoa(MaxReasonLength)+" characters (it has "+strconv.Itoa(n)+")")
	}
	if !utf8.ValidString(in.Reason) || strings.ContainsFunc(in.Reason, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' }) {
		return Refund{}, apperr.Field(op, "reason", "reason must be text without control characters")
	}
	for attempt := 1; ; attempt++ {
		pi, err := s.Store.GetIntent(ctx, partnerID, orgID, in.PaymentIntentID)
		if err != nil {
			return Refund{}, apperr.Wrap(op, err)
		}
		r, ev, err := s.accept(op, pi, actor, in)
		if err != nil {
			return Refund{}, err
		}
		err = s.Store.CreateRefund(ctx, pi, r, ev)
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, ErrNotRefundable) || attempt == attempts {
			return Refund{}, apperr.Wrap(op, err)
		}
		// The intent changed since read: read it again, which says whether
		// the refund still fits. A short, growing pause spreads a burst.
		if err := s.sleep(ctx, time.Duration(attempt*attempt)*3*time.Millisecond); err != nil {
			return Refund{}, apperr.Wrap(op, err)
		}
	}
}

// accept checks a refund against the intent as read and builds it.
func (s *Service) accept(op string, pi payment.Intent, actor event.Actor, in CreateInput) (Refund, event.Event, error) {
	if !refundableStatus(pi.Status) {
		return Refund{}, event.Event{}, apperr.E(op, apperr.Conflict, "the payment intent is "+pi.Status+": only a succeeded payment can be refunded")
	}
	if !slices.Contains(s.Methods, pi.SelectedPaymentMethod) {
		return Refund{}, event.Event{}, &apperr.Error{Op: op, Code: apperr.Invalid, Param: "payment_intent_id",
			Message: "payment_method_unavailable: refunds of " + pi.SelectedPaymentMethod + " payments are not available until their provider is configured"}
	}
	left := Refundable(pi)
	amount := left
	if in.Amount != nil {
		amount = *in.Amount
		if amount > left {
			return Refund{}, event.Event{}, apperr.Field(op, "amount", "amount is above what is refundable: "+strconv.FormatInt(left, 10)+
				" of "+strconv.FormatInt(pi.Amount, 10)+" (refunds pending or succeeded hold the rest)")
		}
	}
	if amount <= 0 {
		return Refund{}, event.Event{}, apperr.E(op, apperr.Conflict, "nothing is left to refund on this payment: refundable 0 of "+
			strconv.FormatInt(pi.Amount, 10)+" (refunds pending or succeeded hold it all)")
	}
	if len(pi.RefundIDs) >= MaxPerIntent {
		return Refund{}, event.Event{}, apperr.E(op, apperr.Conflict, "this payment already has "+strconv.Itoa(MaxPerIntent)+" refunds, the most one payment may have")
	}
	now := s.Now().UTC()
	r := Refund{ID: s.NewID("ref"), PaymentIntentID: pi.ID, InvoiceID: pi.InvoiceID, Amount: amount, Currency: pi.Currency,
		Status: StatusPending, Reason: in.Reason, Method: pi.SelectedPaymentMethod, CreatedAt: now, UpdatedAt: now,
		PartnerID: pi.PartnerID, OrgID: pi.OrgID, Version: 1}
	ev, err := event.New(s.NewID("evt"), "refund.created", now, pi.PartnerID, pi.OrgID, actor,
		map[string]any{"refund_id": r.ID, "payment_intent_id": pi.ID, "refund": r},
		event.Change{ResourceType: "refund", ResourceID: r.ID, Action: "created", Before: event.Snapshot(nil), After: event.Snapshot(r)})
	if err != nil {
		return Refund{}, event.Event{}, apperr.Wrap(op, err)
	}
	return r, ev, nil
}

// Get returns one of the organisation's refunds.
func (s *Service) Get(ctx context.Context, partnerID, orgID, id string) (Refund, error) {
	r, err := s.Store.GetRefund(ctx, partnerID, orgID, id)
	return r, apperr.Wrap("refund.get", err)
}

// ListForIntent lists an intent's refunds, oldest first (seed 000, "Suivi
// des remboursements"); another organisation's intent is NotFound.
func (s *Service) ListForIntent(ctx context.Context, partnerID, orgID, intentID string) ([]Refund, error) {
	_, rs, err := s.Store.IntentRefunds(ctx, partnerID, orgID, intentID)
	return rs, apperr.Wrap("refund.list_for_intent", err)
}

// IntentWithRefunds reads an intent and its refunds, oldest first (one
// intent read and one batch), as the dashboard's payment page shows them;
// another organisation's intent is NotFound.
func (s *Service) IntentWithRefunds(ctx context.Context, partnerID, orgID, intentID string) (payment.Intent, []Refund, error) {
	pi, rs, err := s.Store.IntentRefunds(ctx, partnerID, orgID, intentID)
	return pi, rs, apperr.Wrap("refund.list_for_intent", err)
}

// List pages through the organisation's refunds (one Query; a second when
// the first page is empty). Narrowed to one intent, it reads that intent's
// refunds (one intent read and one batch).
func (s *Service) List(ctx context.Context, partnerID, orgID string, q listing.Query, f Filter) (listing.Page[Refund], error) {
	const op = "refund.list"
	if f.Status != "" && !validStatus(f.Status) {
		return listing.Page[Refund]{}, apperr.Field(op, "status", "status must be one of "+strings.Join(Statuses, ", "))
	}
	if !f.CreatedFrom.IsZero() && !f.CreatedTo.IsZero() && f.CreatedTo.Before(f.CreatedFrom) {
		return listing.Page[Refund]{}, apperr.Field(op, "created_to", "created_to is before created_from")
	}
	if f.PaymentIntentID != "" {
		_, rs, err := s.Store.IntentRefunds(ctx, partnerID, orgID, f.PaymentIntentID)
		if err != nil {
			return listing.Page[Refund]{}, apperr.Wrap(op, err)
		}
		return pageOf(rs, q, f)
	}
	p, err := s.Store.ListRefunds(ctx, partnerID, orgID, q, f)
	p, err = listing.OfOrganization(ctx, p, err, q, s.Store, partnerID, orgID)
	return p, apperr.Wrap(op, err)
}

func validStatus(s string) bool {
	for _, v := range Statuses {
		if v == s {
			return true
		}
	}
	return false
}

// pageOf pages an intent's refunds (at most MaxPerIntent, already in
// memory); the cursor is the last id of the page.
func pageOf(rs []Refund, q listing.Query, f Filter) (listing.Page[Refund], error) {
	var kept []Refund
	for _, r := range rs {
		if f.Keep(r) {
			kept = append(kept, r)
		}
	}
	start := 0
	if q.Cursor != "" {
		// The cursor is a refund of this intent (found among all of them,
		// so a refund that left the filter since still marks the place);
		// anything else is not a cursor of this list, as for other lists.
		at := slices.IndexFunc(rs, func(r Refund) bool { return r.ID == q.Cursor })
		if at < 0 {
			return listing.Page[Refund]{}, apperr.Field("refund.list", "cursor", "cursor is not one this list returned")
		}
		for _, r := range rs[:at+1] {
			if f.Keep(r) {
				start++
			}
		}
	} else if q.Page > 1 {
		start = min((q.Page-1)*q.Size, len(kept))
	}
	end := min(start+q.Size, len(kept))
	p := listing.Page[Refund]{Items: kept[start:end], Total: len(kept)}
	if end < len(kept) && end > start {
		p.Next = kept[end-1].ID
	}
	return p, nil
}

// Follow moves a refund on: it asks the provider to execute it (once: the
// request is idempotent on the refund's id) and then reads its state,
// applying what changed. It reports whether the refund needs no more
// following (final, or waiting for the organisation's action).
func (s *Service) Follow(ctx context.Context, partnerID, orgID, id string) (bool, error) {
	final, err := s.follow(ctx, partnerID, orgID, id)
	if errors.Is(err, ErrRefundChanged) {
		// Another follower (a duplicate message) moved it first: the next
		// poll reads what it did.
		return false, nil
	}
	return final, err
}

func (s *Service) follow(ctx context.Context, partnerID, orgID, id string) (bool, error) {
	const op = "refund.follow"
	r, err := s.Store.GetRefund(ctx, partnerID, orgID, id)
	if err != nil {
		return false, apperr.Wrap(op, err)
	}
	if r.Final() || (r.Status == StatusRequiresAction && !r.Awaiting) {
		return true, nil
	}
	pi, err := s.Store.GetIntent(ctx, partnerID, orgID, r.PaymentIntentID)
	if err != nil {
		return false, apperr.Wrap(op, err)
	}
	prov := s.Providers[r.Method]
	if prov == nil {
		return true, s.release(ctx, op, r, StatusFailed, "payment_method_unavailable: no refund provider for "+r.Method, systemActor(r.Method))
	}
	var ex Execution
	if r.ProviderID == "" {
		ex, err = prov.Create(ctx, r, pi)
		if err != nil && !apperr.Retryable(err) {
			// The provider refused the refund for good (its 4xx): it fails,
			// and its amount is released.
			return true, s.release(ctx, op, r, StatusFailed, "the provider refused the refund: "+apperr.MessageOf(err), systemActor(r.Method))
		}
		if err != nil {
			return false, apperr.Wrap(op, err)
		}
		if ex.Status == StatusPending && ex.ProviderID != "" {
			// Record the provider's id first: a crash now still follows the
			// same refund. Then read its state once, for providers that
			// answer at once.
			r.ProviderID, r.ProviderCode, r.UpdatedAt, r.Version = ex.ProviderID, ex.Code, s.Now().UTC(), r.Version+1
			if err := s.Store.UpdateRefund(ctx, r, nil); err != nil {
				return false, apperr.Wrap(op, err)
			}
			if ex, err = prov.State(ctx, r, pi); err != nil {
				return false, apperr.Wrap(op, err)
			}
		}
	} else if ex, err = prov.State(ctx, r, pi); err != nil {
		return false, apperr.Wrap(op, err)
	}
	if ex.ProviderID == "" {
		ex.ProviderID = r.ProviderID
	}
	return s.apply(ctx, op, r, ex, systemActor(r.Method))
}

func systemActor(method string) event.Actor {
	if method == payment.MethodCard {
		return event.Actor{ID: "card-provider", Type: "system"}
	}
	return event.Actor{ID: "aiia", Type: "system"}
}

// apply writes what the provider reported.
func (s *Service) apply(ctx context.Context, op string, r Refund, ex Execution, actor event.Actor) (bool, error) {
	now := s.Now().UTC()
	switch ex.Status {
	case StatusSucceeded:
		r.ProviderID, r.ProviderCode = ex.ProviderID, ex.Code
		return true, s.settle(ctx, op, r, actor)
	case StatusFailed:
		r.ProviderID, r.ProviderCode = ex.ProviderID, ex.Code
		reason := ex.FailureReason
		if reason == "" {
			reason = "the provider reports the refund failed (" + ex.Code + ")"
		}
		return true, s.release(ctx, op, r, StatusFailed, reason, actor)
	case StatusRequiresAction:
		before := r
		if r.Status == StatusRequiresAction && r.Awaiting == ex.Awaiting && r.ProviderCode == ex.Code && sameAction(r.NextAction, ex.NextAction) {
			return !ex.Awaiting, nil
		}
		r.Status, r.NextAction, r.Awaiting, r.ProviderID, r.ProviderCode, r.UpdatedAt, r.Version = StatusRequiresAction, ex.NextAction, ex.Awaiting, ex.ProviderID, ex.Code, now, r.Version+1
		var ev event.Event
		var err error
		switch {
		case before.Status != StatusRequiresAction:
			ev, err = StatusEvent(s.NewID("evt"), now, actor, before, r)
		case sameAction(before.NextAction, r.NextAction):
			// The provider's code moved, not what the organisation must do.
			return !ex.Awaiting, apperr.Wrap(op, s.Store.UpdateRefund(ctx, r, nil))
		default:
			ev, err = ActionEvent(s.NewID("evt"), now, actor, before, r)
		}
		if err != nil {
			return false, apperr.Wrap(op, err)
		}
		return !ex.Awaiting, apperr.Wrap(op, s.Store.UpdateRefund(ctx, r, []event.Event{ev}))
	}
	if ex.ProviderID == r.ProviderID && ex.Code == r.ProviderCode {
		return false, nil
	}
	r.ProviderID, r.ProviderCode, r.UpdatedAt, r.Version = ex.ProviderID, ex.Code, now, r.Version+1
	return false, apperr.Wrap(op, s.Store.UpdateRefund(ctx, r, nil))
}

// StatusEvent is refund.status_changed, in the shape of the other
// status_changed events of seed 000.
func StatusEvent(id string, at time.Time, actor event.Actor, before, after Refund) (event.Event, error) {
	return event.New(id, "refund.status_changed", at, after.PartnerID, after.OrgID, actor,
		map[string]any{"refund_id": after.ID, "payment_intent_id": after.PaymentIntentID, "previous_status": before.Status,
			"current_status": after.Status, "refund": after},
		event.Change{ResourceType: "refund", ResourceID: after.ID, Action: "status_changed",
			Before: event.Snapshot(map[string]string{"status": before.Status}), After: event.Snapshot(map[string]string{"status": after.Status})})
}

// ActionEvent is refund.next_action_changed: a refund still in
// requires_action waits for something else (the payer connected the
// account to refund, or the flow to collect it closed unused).
func ActionEvent(id string, at time.Time, actor event.Actor, before, after Refund) (event.Event, error) {
	kind := func(a *Action) string {
		if a == nil {
			return ""
		}
		return a.Type
	}
	return event.New(id, "refund.next_action_changed", at, after.PartnerID, after.OrgID, actor,
		map[string]any{"refund_id": after.ID, "payment_intent_id": after.PaymentIntentID, "previous_next_action_type": kind(before.NextAction),
			"next_action_type": kind(after.NextAction), "refund": after},
		event.Change{ResourceType: "refund", ResourceID: after.ID, Action: "next_action_changed",
			Before: event.Snapshot(map[string]string{"next_action": kind(before.NextAction)}), After: event.Snapshot(map[string]string{"next_action": kind(after.NextAction)})})
}

// sameAction compares two next actions by value.
func sameAction(a, b *Action) bool {
	switch {
	case a == nil || b == nil:
		return a == b
	case (a.PayerAccount == nil) != (b.PayerAccount == nil) || (a.PayerAccount != nil && *a.PayerAccount != *b.PayerAccount):
		return false
	case (a.ExpiresAt == nil) != (b.ExpiresAt == nil) || (a.ExpiresAt != nil && !a.ExpiresAt.Equal(*b.ExpiresAt)):
		return false
	}
	return a.Type == b.Type && a.Message == b.Message && a.URL == b.URL
}

// release ends a refund without money moving (failed, cancelled): its
// amount goes back to what the intent can refund.
func (s *Service) release(ctx context.Context, op string, r Refund, status, reason string, actor event.Actor) error {
	now := s.Now().UTC()
	before := r
	r.Status, r.FailureReason, r.NextAction, r.Awaiting, r.UpdatedAt, r.CompletedAt, r.Version = status, reason, nil, false, now, &now, r.Version+1
	ev, err := StatusEvent(s.NewID("evt"), now, actor, before, r)
	if err != nil {
		return apperr.Wrap(op, err)
	}
	return apperr.Wrap(op, s.Store.ReleaseRefund(ctx, r, []event.Event{ev}))
}

// settle commits a succeeded refund: the intent's refunded amount and
// status, the invoice's amount paid (invoice.ApplyPayment of the negative
// amount) and status, with their events, in one transaction conditional
// on each version read; a concurrent change is read again.
//
// On an invoice that keeps documents, the refund makes its credit note
// (avoir) in the same transaction: the next number of the organisation's
// credit note series for the year (held while it renders, the counter
// moved with the rest), for the amount refunded, its documents kept first.
// A number lost meanwhile (the hold expired and another took it) is taken
// again and the note rendered anew, within numberAttempts.
func (s *Service) settle(ctx context.Context, op string, r Refund, actor event.Actor) error {
	changed, taken := 0, 0
	owner := s.NewID("cnl")
	for {
		err := s.settleOnce(ctx, op, r, actor, owner)
		var wait time.Duration
		switch {
		case errors.Is(err, ErrChanged) && changed+1 < attempts:
			changed++
			wait = time.Duration(changed*changed) * 3 * time.Millisecond
		case errors.Is(err, invoice.ErrNumberTaken) && taken+1 < numberAttempts:
			taken++
			wait = invoice.NumberBackoff(taken)
		case errors.Is(err, invoice.ErrNumberTaken):
			return &apperr.Error{Op: op, Code: apperr.Unavailable,
				Message: "too many credit notes are being made at once for this organization; retry", Err: err}
		default:
			return err
		}
		if err := s.sleep(ctx, wait); err != nil {
			return apperr.Wrap(op, err)
		}
	}
}

// numberAttempts bounds the tries of a settle whose credit note keeps
// losing its number to others: one winner a round, so as many as the
// refunds and cancellations settling at once in one organisation.
const numberAttempts = 30

// creditNote makes the credit note of a refund settling now on inv: its
// number (the organisation's series for the year, held for owner:
// invoice.TakeCreditNumber), its documents kept. None when the invoice
// keeps no documents (issued before they were kept) or the service keeps
// none. The caller commits with the number or releases it.
func (s *Service) creditNote(ctx context.Context, r Refund, inv invoice.Invoice, now time.Time, owner string) (*invoice.CreditNote, *invoice.CreditNumber, error) {
	if s.Credits == nil || inv.DocumentsVersion == 0 {
		return nil, nil, nil
	}
	n, err := invoice.TakeCreditNumber(ctx, s.Store, r.PartnerID, r.OrgID, now, owner, s.Sleep)
	if err != nil {
		return nil, nil, err
	}
	reason := "Remboursement de la facture " + inv.InvoiceNumber
	if r.Reason != "" {
		reason += " : " + r.Reason
	}
	cn := &invoice.CreditNote{Number: n.Note(), IssueDate: invoice.Today(now), Amount: r.Amount,
		Reason: reason, RefundID: r.ID, CreatedAt: now}
	if err := s.Credits.KeepCredit(ctx, inv, *cn); err != nil {
		invoice.ReleaseCreditNumber(ctx, s.Store, r.PartnerID, r.OrgID, n)
		return nil, nil, err
	}
	return cn, &n, nil
}

// ErrChanged is the store's answer when the intent or the invoice changed
// between read and write in SettleRefund.
var ErrChanged = apperr.E("refund", apperr.Conflict, "the payment intent or its invoice changed at the same time")

func (s *Service) settleOnce(ctx context.Context, op string, r Refund, actor event.Actor, owner string) error {
	pi, err := s.Store.GetIntent(ctx, r.PartnerID, r.OrgID, r.PaymentIntentID)
	if err != nil {
		return apperr.Wrap(op, err)
	}
	inv, err := s.Store.GetInvoice(ctx, r.PartnerID, r.OrgID, pi.InvoiceID)
	if err != nil {
		return apperr.Wrap(op, err)
	}
	now := s.Now().UTC()
	before := r
	r.Status, r.NextAction, r.Awaiting, r.UpdatedAt, r.CompletedAt, r.Version = StatusSucceeded, nil, false, now, &now, r.Version+1
	piBefore := pi
	pi.RefundedAmount += r.Amount
	if pi.RefundedAmount > pi.Amount {
		return apperr.E(op, apperr.Conflict, "refunds would exceed the payment: refunded "+strconv.FormatInt(pi.RefundedAmount, 10)+" of "+strconv.FormatInt(pi.Amount, 10))
	}
	pi.Status = payment.IntentPartiallyRefunded
	if pi.RefundedAmount == pi.Amount {
		pi.Status = payment.IntentRefunded
	}
	pi.UpdatedAt, pi.Version = now, pi.Version+1
	refunded, err := invoice.ApplyPayment(inv, -r.Amount, invoice.Today(now))
	if err != nil {
		return apperr.Wrap(op, err)
	}
	refunded.UpdatedAt, refunded.Version = now, inv.Version+1
	cn, number, err := s.creditNote(ctx, r, inv, now, owner)
	if err != nil {
		return apperr.Wrap(op, err)
	}
	// A settle that does not commit gives the series back to the next.
	committed := false
	defer func() {
		if number != nil && !committed {
			invoice.ReleaseCreditNumber(ctx, s.Store, r.PartnerID, r.OrgID, *number)
		}
	}()
	if cn != nil {
		refunded.CreditNotes = append(slices.Clone(inv.CreditNotes), *cn)
		r.CreditNoteNumber = cn.Number
	}
	rEv, err := StatusEvent(s.NewID("evt"), now, actor, before, r)
	if err != nil {
		return apperr.Wrap(op, err)
	}
	evs := []event.Event{rEv}
	if pi.Status != piBefore.Status {
		piEv, err := payment.IntentEvent(s.NewID("evt"), now, actor, piBefore, pi)
		if err != nil {
			return apperr.Wrap(op, err)
		}
		evs = append(evs, piEv)
	}
	if refunded.Status != inv.Status {
		invEv, err := invoice.StatusEvent(s.NewID("evt"), now, actor, inv, refunded)
		if err != nil {
			return apperr.Wrap(op, err)
		}
		evs = append(evs, invEv)
	}
	err = s.Store.SettleRefund(ctx, r, pi, refunded, number, evs)
	committed = err == nil
	return apperr.Wrap(op, err)
}

// Confirm records that the organisation paid a refund in requires_action
// itself (the provider could not): it succeeds, with the same effects as a
// refund the provider executed.
func (s *Service) Confirm(ctx context.Context, partnerID, orgID, id string, actor event.Actor) (Refund, error) {
	const op = "refund.confirm"
	r, err := s.waiting(ctx, op, partnerID, orgID, id)
	if err != nil {
		return Refund{}, err
	}
	if err := s.settle(ctx, op, r, actor); err != nil {
		return Refund{}, err
	}
	return s.Get(ctx, partnerID, orgID, id)
}

// Cancel ends a refund in requires_action without paying it: its amount
// can be refunded again.
func (s *Service) Cancel(ctx context.Context, partnerID, orgID, id string, actor event.Actor) (Refund, error) {
	const op = "refund.cancel"
	r, err := s.waiting(ctx, op, partnerID, orgID, id)
	if err != nil {
		return Refund{}, err
	}
	if err := s.release(ctx, op, r, StatusCancelled, "cancelled by the organization", actor); err != nil {
		return Refund{}, err
	}
	return s.Get(ctx, partnerID, orgID, id)
}

func (s *Service) waiting(ctx context.Context, op, partnerID, orgID, id string) (Refund, error) {
	r, err := s.Store.GetRefund(ctx, partnerID, orgID, id)
	if err != nil {
		return Refund{}, apperr.Wrap(op, err)
	}
	if r.Status != StatusRequiresAction {
		return Refund{}, apperr.E(op, apperr.Conflict, "the refund is "+r.Status+": only a refund in requires_action waits for the organization")
	}
	return r, nil
}
