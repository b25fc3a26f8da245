package datasubject

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/refund"
)

// EraseInput is the body of POST …/data_subjects/erase.
type EraseInput struct {
	Email  string `json:"email"`
	Reason string `json:"reason"`
}

// ErasureResult says what one erasure request did.
type ErasureResult struct {
	EmailHash                string    `json:"email_sha256"`
	ErasedAt                 time.Time `json:"erased_at"`
	InvoicesAnonymized       int       `json:"invoices_anonymized"`
	PaymentIntentsAnonymized int       `json:"payment_intents_anonymized"`
	RefundsAnonymized        int       `json:"refunds_anonymized"`
	PaymentLinksAnonymized   int       `json:"payment_links_anonymized"`
	// HasMore: the payer has more invoices than one request erases; send
	// the same request again.
	HasMore bool `json:"has_more"`
}

// scrubber replaces a payer's name and email where they appear in free
// text that the erasure keeps (refund reasons, payment terms, line
// descriptions, a link's return URL, an intent's failure reason).
type scrubber struct {
	name  *regexp.Regexp // nil when the name is too short to find safely
	email *regexp.Regexp // the address, raw or as a URL's query escapes it
	repl  string
}

func newScrubber(p invoice.Payer) scrubber {
	s := scrubber{repl: invoice.ErasedEmail(invoice.EmailHash(p.Email))}
	if e := strings.TrimSpace(p.Email); e != "" {
		s.email = regexp.MustCompile(`(?i)` + regexp.QuoteMeta(e) + `|` + regexp.QuoteMeta(url.QueryEscape(e)))
	}
	if n := strings.TrimSpace(p.Name); utf8.RuneCountInString(n) >= 3 {
		s.name = regexp.MustCompile(`(?i)\b` + regexp.QuoteMeta(n) + `\b`)
	}
	return s
}

func (s scrubber) text(t string) string {
	if t == "" {
		return t
	}
	if s.email != nil {
		t = s.email.ReplaceAllStringFunc(t, func(m string) string {
			if strings.Contains(m, "%") {
				return url.QueryEscape(s.repl) // as it was found: escaped
			}
			return s.repl
		})
	}
	if s.name != nil {
		t = s.name.ReplaceAllLiteralString(t, invoice.ErasedName)
	}
	return t
}

// anonymize is the invoice with its payer erased at now: name, email and
// address gone, the same words scrubbed from its free text; amounts,
// number, dates, status, seller and lines' figures unchanged.
func anonymize(inv invoice.Invoice, sc scrubber, now time.Time) invoice.Invoice {
	after := inv
	after.Payer = inv.Payer.Erase(now)
	after.PaymentTerms = sc.text(inv.PaymentTerms)
	after.LineItems = make([]invoice.LineItem, len(inv.LineItems))
	for i, l := range inv.LineItems {
		l.Description = sc.text(l.Description)
		after.LineItems[i] = l
	}
	after.UpdatedAt, after.Version = now, inv.Version+1
	return after
}

// unit is one invoice's share of an erasure. Its payments' writes go before
// the invoice's (which also removes it from the payer index), so an
// erasure interrupted between chunks leaves the invoice in the index and
// the next request finds it again.
type unit struct {
	intents []payment.Intent
	refunds []refund.Refund
	links   []payment.Link
	invoice [2]invoice.Invoice
}

// Erase anonymises the payer's personal data on the organisation's
// invoices (up to MaxErasePerRequest per request), their intents, refunds
// and links, and records it: each chunk of at most MaxChunkItems writes is
// one transaction with its data_subject.erased event. Refused with 409 while
// one of those payments is processing at the bank or a refund is pending
// (both end on their own within the poller's 5 days): the settlement would
// otherwise race the erasure. A repeated erasure finds nothing left and
// answers 200 with zero counts; an email never held is a 404 on email.
func (s *Service) Erase(ctx context.Context, partnerID, orgID string, actor event.Actor, in EraseInput) (ErasureResult, error) {
	const op = "datasubject.erase"
	email, err := checkEmail(op, "email", in.Email)
	if err != nil {
		return ErasureResult{}, err
	}
	reason := strings.TrimSpace(in.Reason)
	if reason == "" || utf8.RuneCountInString(reason) > MaxReasonLength {
		return ErasureResult{}, apperr.Field(op, "reason", "reason must be 1 to 500 characters (why the payer's data is erased, e.g. \"demande RGPD du 2 février 2024\")")
	}
	hash := invoice.EmailHash(email)
	page, err := s.Store.PayerInvoices(ctx, partnerID, orgID, hash, listing.Query{Page: 1, Size: MaxErasePerRequest})
	if err != nil {
		return ErasureResult{}, apperr.Wrap(op, err)
	}
	if len(page.Items) == 0 {
		rec, err := s.Store.LastErasure(ctx, partnerID, orgID, hash)
		switch {
		case err == nil:
			return ErasureResult{EmailHash: hash, ErasedAt: rec.ErasedAt}, nil
		case apperr.CodeOf(err) != apperr.NotFound:
			return ErasureResult{}, apperr.Wrap(op, err)
		}
		return ErasureResult{}, s.unknown(ctx, op, partnerID, orgID)
	}
	now := s.Now().UTC()
	res := ErasureResult{EmailHash: hash, ErasedAt: now, HasMore: page.Next != ""}
	// Read everything first: a payment in flight refuses the whole request
	// before anything is written.
	var units []unit
	for _, id := range page.Items {
		inv, err := s.Store.GetInvoice(ctx, partnerID, orgID, id)
		if apperr.CodeOf(err) == apperr.NotFound {
			continue
		}
		if err != nil {
			return ErasureResult{}, apperr.Wrap(op, err)
		}
		u, err := s.plan(ctx, op, inv, now)
		if err != nil {
			return ErasureResult{}, err
		}
		units = append(units, u)
	}
	record := &Erasure{PartnerID: partnerID, OrgID: orgID, EmailHash: hash, ErasedAt: now, Reason: reason, ActorID: actor.ID}
	var c Chunk
	flush := func() error {
		if len(c.Invoices)+len(c.Intents)+len(c.Refunds)+len(c.Links) == 0 {
			return nil
		}
		c.Record = record
		ev, err := s.event(partnerID, orgID, actor, hash, reason, now, c)
		if err != nil {
			return apperr.Wrap(op, err)
		}
		c.Event = ev
		if err := s.Store.ErasePayer(ctx, c); err != nil {
			return apperr.Wrap(op, err)
		}
		res.InvoicesAnonymized += len(c.Invoices)
		res.PaymentIntentsAnonymized += len(c.Intents)
		res.RefundsAnonymized += len(c.Refunds)
		res.PaymentLinksAnonymized += len(c.Links)
		c = Chunk{}
		return nil
	}
	// fits says whether n more writes fit the chunk beside its event and
	// its erasure record.
	fits := func(n int) bool { return c.Items()+1+n <= MaxChunkItems }
	add := func(n int, put func()) error {
		if !fits(n) {
			if err := flush(); err != nil {
				return err
			}
		}
		put()
		return nil
	}
	for _, u := range units {
		for _, pi := range u.intents {
			if err := add(1, func() { c.Intents = append(c.Intents, pi) }); err != nil {
				return res, err
			}
		}
		for _, r := range u.refunds {
			if err := add(1, func() { c.Refunds = append(c.Refunds, r) }); err != nil {
				return res, err
			}
		}
		for _, l := range u.links {
			if err := add(1, func() { c.Links = append(c.Links, l) }); err != nil {
				return res, err
			}
		}
		if err := add(2, func() { c.Invoices = append(c.Invoices, u.invoice) }); err != nil {
			return res, err
		}
	}
	return res, flush()
}

// plan reads one invoice's payments and decides its writes.
func (s *Service) plan(ctx context.Context, op string, inv invoice.Invoice, now time.Time) (unit, error) {
	sc := newScrubber(inv.Payer)
	u := unit{invoice: [2]invoice.Invoice{inv, anonymize(inv, sc, now)}}
	intents, err := s.Store.ListIntents(ctx, inv.PartnerID, inv.OrgID, inv.ID)
	if err != nil {
		return u, apperr.Wrap(op, err)
	}
	for _, pi := range intents {
		if pi.Status == payment.IntentProcessing {
			return u, apperr.E(op, apperr.Conflict, "payment intent "+pi.ID+" of invoice "+inv.InvoiceNumber+
				" is processing at the bank: erase once it has ended (at most 5 days), so that its settlement does not race the erasure")
		}
		if pi.Status == payment.IntentRequiresAction {
			return u, apperr.E(op, apperr.Conflict, "payment intent "+pi.ID+" of invoice "+inv.InvoiceNumber+
				" is requires_action (its bank status is unknown): erase once it is reconciled")
		}
		if fr := sc.text(pi.FailureReason); fr != pi.FailureReason {
			after := pi
			after.FailureReason, after.UpdatedAt, after.Version = fr, now, pi.Version+1
			u.intents = append(u.intents, after)
		}
		_, refunds, err := s.Store.IntentRefunds(ctx, inv.PartnerID, inv.OrgID, pi.ID)
		if err != nil {
			return u, apperr.Wrap(op, err)
		}
		for _, r := range refunds {
			switch r.Status {
			case refund.StatusPending:
				return u, apperr.E(op, apperr.Conflict, "refund "+r.ID+" of invoice "+inv.InvoiceNumber+
					" is pending at the bank: erase once it has ended, so that its completion does not race the erasure")
			case refund.StatusRequiresAction:
				return u, apperr.E(op, apperr.Conflict, "refund "+r.ID+" of invoice "+inv.InvoiceNumber+
					" waits for the organization (it may name the payer's account): confirm or cancel it, then erase")
			}
			after := r
			after.Reason, after.FailureReason = sc.text(r.Reason), sc.text(r.FailureReason)
			if after.Reason != r.Reason || after.FailureReason != r.FailureReason {
				after.UpdatedAt, after.Version = now, r.Version+1
				u.refunds = append(u.refunds, after)
			}
		}
		if pi.PaymentLinkID == "" {
			continue
		}
		l, err := s.Store.GetLink(ctx, inv.PartnerID, inv.OrgID, pi.PaymentLinkID)
		if apperr.CodeOf(err) == apperr.NotFound {
			continue
		}
		if err != nil {
			return u, apperr.Wrap(op, err)
		}
		if ru := sc.text(l.ReturnURL); ru != l.ReturnURL {
			after := l
			after.ReturnURL, after.Version = ru, l.Version+1
			u.links = append(u.links, after)
		}
	}
	return u, nil
}

// event is the chunk's data_subject.erased: the hash and the ids, never a
// name or an email.
func (s *Service) event(partnerID, orgID string, actor event.Actor, hash, reason string, now time.Time, c Chunk) (event.Event, error) {
	ids := func(n int, id func(int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = id(i)
		}
		return out
	}
	data := map[string]any{
		"email_sha256":       hash,
		"reason":             reason,
		"invoice_ids":        ids(len(c.Invoices), func(i int) string { return c.Invoices[i][1].ID }),
		"payment_intent_ids": ids(len(c.Intents), func(i int) string { return c.Intents[i].ID }),
		"refund_ids":         ids(len(c.Refunds), func(i int) string { return c.Refunds[i].ID }),
		"payment_link_ids":   ids(len(c.Links), func(i int) string { return c.Links[i].ID }),
	}
	return event.New(s.NewID("evt"), EventErased, now, partnerID, orgID, actor, data,
		event.Change{ResourceType: "data_subject", ResourceID: hash, Action: "erased", Before: event.Snapshot(nil), After: event.Snapshot(data)})
}
