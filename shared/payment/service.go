package payment

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/pagetoken"
	"github.com/modupay/modupay/shared/validation"
)

// MinSEPAAmount is the smallest transfer Aiia's French SEPA rail takes (2 €).
const MinSEPAAmount = 200

// DefaultLinkLifetime applies when a link is created without expires_at.
const DefaultLinkLifetime = 30 * 24 * time.Hour

// MaxLinkLifetime bounds expires_at.
const MaxLinkLifetime = 365 * 24 * time.Hour

// Service runs the payment link and intent use cases.
type Service struct {
	Store Store
	Mode  validation.Mode
	// PageBaseURL is where the hosted payment page is served
	// (payment_page_url = PageBaseURL + "/p/" + token); when empty, the
	// request's own origin is used (CreateLinkInput.RequestOrigin).
	PageBaseURL string
	// Tokens seals the page's keys into its token (one read per render);
	// nil makes plain random tokens (looked up, two reads).
	Tokens *pagetoken.Sealer
	Now    func() time.Time
	NewID  func(prefix string) string
}

// CreateLinkInput is the body of POST /v1/payment_links (seed 000, step 3).
type CreateLinkInput struct {
	InvoiceID      string     `json:"invoice_id"`
	PaymentMethods []string   `json:"payment_methods"`
	ReturnURL      string     `json:"return_url"`
	ExpiresAt      *time.Time `json:"expires_at"`
	Amount         *int64     `json:"amount"`
	// RequestOrigin is the API origin the request came to (scheme://host),
	// set by the HTTP edge, used when no public base URL is configured.
	RequestOrigin string `json:"-"`
}

func (s *Service) validateMethods(op string, methods []string) error {
	if len(methods) == 0 {
		return apperr.Field(op, "payment_methods", "payment_methods must list at least one of sepa_credit, card")
	}
	seen := map[string]bool{}
	for _, m := range methods {
		switch {
		case m != MethodSEPA && m != MethodCard:
			return apperr.Field(op, "payment_methods", "unknown payment method "+m+": use sepa_credit or card")
		case seen[m]:
			return apperr.Field(op, "payment_methods", "payment method "+m+" is listed twice")
		case m == MethodCard && s.Mode.Strict:
			return &apperr.Error{Op: op, Code: apperr.Invalid, Param: "payment_methods",
				Message: "payment_method_unavailable: card payments are not available in production until a card provider is configured"}
		}
		seen[m] = true
	}
	return nil
}

// validReturnURL accepts https URLs, and http on the local machine in the
// sandbox (partners' development servers). It is optional (the guide's SDK
// samples send none): without it, the hosted page ends on its own
// confirmation, with no link back.
func (s *Service) validReturnURL(op, raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || len(raw) > 2000 || u.User != nil {
		return apperr.Field(op, "return_url", "return_url must be an absolute https URL")
	}
	local := u.Hostname() == "localhost" || u.Hostname() == "127.0.0.1"
	if u.Scheme != "https" && !(u.Scheme == "http" && local && !s.Mode.Strict) {
		return apperr.Field(op, "return_url", "return_url must be an https URL (http://localhost or 127.0.0.1 only in the sandbox)")
	}
	return nil
}

// newToken is the page URL's secret: 256 random bits.
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// CreateLink creates a link and its intent for an open invoice: the whole
// amount due, or a part of it.
func (s *Service) CreateLink(ctx context.Context, partnerID, orgID string, actor event.Actor, in CreateLinkInput) (Link, error) {
	const op = "payment_link.create"
	if strings.TrimSpace(in.InvoiceID) == "" {
		return Link{}, apperr.Field(op, "invoice_id", "invoice_id is required")
	}
	if err := s.validateMethods(op, in.PaymentMethods); err != nil {
		return Link{}, err
	}
	if err := s.validReturnURL(op, in.ReturnURL); err != nil {
		return Link{}, err
	}
	now := s.Now().UTC()
	expires := now.Add(DefaultLinkLifetime)
	if in.ExpiresAt != nil {
		expires = in.ExpiresAt.UTC()
		if !expires.After(now) {
			return Link{}, apperr.Field(op, "expires_at", "expires_at must be in the future")
		}
		if expires.After(now.Add(MaxLinkLifetime)) {
			return Link{}, apperr.Field(op, "expires_at", "expires_at may be at most one year ahead")
		}
	}
	inv, err := s.Store.GetInvoice(ctx, partnerID, orgID, in.InvoiceID)
	if apperr.CodeOf(err) == apperr.NotFound {
		// Another tenant's organisation is a 404, as on every route; an
		// unknown invoice of one's own organisation is a field error.
		if err := s.Store.OrganizationExists(ctx, partnerID, orgID); err != nil {
			return Link{}, apperr.Wrap(op, err)
		}
		return Link{}, apperr.Field(op, "invoice_id", "no such invoice in this organization")
	}
	if err != nil {
		return Link{}, apperr.Wrap(op, err)
	}
	if !inv.OpenForPayment() {
		return Link{}, apperr.E(op, apperr.Conflict, "the invoice is "+inv.Status+": only issued, partially paid or overdue invoices get payment links")
	}
	if inv.BankAccount == nil {
		return Link{}, apperr.E(op, apperr.Conflict, "the invoice has no bank account to be paid into")
	}
	if s.Mode.Strict { // the sandbox lets partners try links before KYC
		d, err := s.Store.GetDepartment(ctx, partnerID, inv.DepartmentID)
		if err != nil {
			return Link{}, apperr.Wrap(op, err)
		}
		if d.KYCStatus != department.KYCApproved {
			return Link{}, apperr.E(op, apperr.Conflict, "the department's KYC is "+d.KYCStatus+": payment links need it approved")
		}
	}
	// Active links reserve their amounts: together they never ask for more
	// than is due, so no two payments can exceed the invoice's total.
	available := inv.AmountDue - inv.AmountInLinks
	if available <= 0 {
		return Link{}, apperr.E(op, apperr.Conflict, "the amount due is already covered by active payment links: deactivate one first")
	}
	amount := available
	if in.Amount != nil {
		amount = *in.Amount
		if amount <= 0 || amount > available {
			return Link{}, apperr.Field(op, "amount", "amount must be between 1 and the amount due not covered by active links ("+strconv.FormatInt(available, 10)+")")
		}
	}
	if slices.Contains(in.PaymentMethods, MethodSEPA) && amount < MinSEPAAmount {
		return Link{}, apperr.Field(op, "amount", "a SEPA transfer through Aiia is at least 2,00 € (200)")
	}
	linkID, intentID := s.NewID("pl"), s.NewID("pi")
	token, err := newToken()
	if s.Tokens != nil {
		token, err = s.Tokens.Seal(pagetoken.Keys{PartnerID: partnerID, OrgID: orgID, LinkID: linkID, IntentID: intentID,
			InvoiceID: inv.ID, DeptID: inv.DepartmentID, AccountID: inv.BankAccount.BankAccountID})
	}
	if err != nil {
		return Link{}, apperr.Wrap(op, err)
	}
	base := s.PageBaseURL
	if base == "" {
		base = in.RequestOrigin
	}
	page := strings.TrimRight(base, "/") + "/p/" + token
	l := Link{ID: linkID, InvoiceID: inv.ID, Amount: amount, Currency: inv.Currency, Status: LinkActive,
		PaymentPageURL: page, QRCodeData: page, ExpiresAt: expires, CreatedAt: now,
		PartnerID: partnerID, OrgID: orgID, DepartmentID: inv.DepartmentID, BankAccountID: inv.BankAccount.BankAccountID,
		PaymentMethods: in.PaymentMethods, ReturnURL: in.ReturnURL, Token: token, Version: 1}
	pi := Intent{ID: intentID, InvoiceID: inv.ID, PaymentLinkID: l.ID, Amount: amount, Currency: inv.Currency, Status: IntentCreated,
		CreatedAt: now, UpdatedAt: now, PartnerID: partnerID, OrgID: orgID, Version: 1}
	l.PaymentIntentID = pi.ID
	ev, err := event.New(s.NewID("evt"), "payment_link.created", now, partnerID, orgID, actor,
		map[string]any{"payment_link_id": l.ID, "payment_link": l, "payment_intent": pi},
		event.Change{ResourceType: "payment_link", ResourceID: l.ID, Action: "created", Before: event.Snapshot(nil), After: event.Snapshot(l)})
	if err != nil {
		return Link{}, apperr.Wrap(op, err)
	}
	if err := s.Store.CreateLink(ctx, inv, l, pi, ev); err != nil {
		return Link{}, apperr.Wrap(op, err)
	}
	return l, nil
}

// GetLink returns one of the organisation's links.
func (s *Service) GetLink(ctx context.Context, partnerID, orgID, id string) (Link, error) {
	l, err := s.Store.GetLink(ctx, partnerID, orgID, id)
	return l, apperr.Wrap("payment_link.get", err)
}

// ListLinks pages through the organisation's links.
func (s *Service) ListLinks(ctx context.Context, partnerID, orgID string, q listing.Query, invoiceID, status string) (listing.Page[Link], error) {
	const op = "payment_link.list"
	if status != "" && status != LinkActive && status != LinkExpired && status != LinkCompleted && status != LinkDeactivated {
		return listing.Page[Link]{}, apperr.Field(op, "status", "status must be one of active, expired, completed, deactivated")
	}
	p, err := s.Store.ListLinks(ctx, partnerID, orgID, q, invoiceID, status)
	p, err = listing.OfOrganization(ctx, p, err, q, s.Store, partnerID, orgID)
	return p, apperr.Wrap(op, err)
}

// Deactivate ends an active link whose transfer has not started; its intent
// is cancelled. A link being paid (intent processing) waits for the bank.
func (s *Service) Deactivate(ctx context.Context, partnerID, orgID, id string, actor event.Actor) (Link, error) {
	return s.end(ctx, "payment_link.deactivate", partnerID, orgID, id, LinkDeactivated, "payment_link.deactivated", actor)
}

func (s *Service) end(ctx context.Context, op, partnerID, orgID, id, status, eventType string, actor event.Actor) (Link, error) {
	l, err := s.Store.GetLink(ctx, partnerID, orgID, id)
	if err != nil {
		return Link{}, apperr.Wrap(op, err)
	}
	if l.Status != LinkActive {
		return Link{}, apperr.E(op, apperr.Conflict, "the payment link is "+l.Status+": only an active link can end")
	}
	pi, err := s.Store.GetIntent(ctx, partnerID, orgID, l.PaymentIntentID)
	if err != nil {
		return Link{}, apperr.Wrap(op, err)
	}
	// A failed transfer leaves its intent as it is (final); an open intent is
	// cancelled with its link; a transfer under way must end first.
	if pi.Status != IntentFailed && !CanTransition(pi.Status, IntentCancelled) {
		return Link{}, apperr.E(op, apperr.Conflict, "a transfer is "+pi.Status+" on this link: it cannot end now")
	}
	now := s.Now().UTC()
	before := l
	l.Status, l.Version = status, l.Version+1
	linkEv, err := event.New(s.NewID("evt"), eventType, now, partnerID, orgID, actor,
		map[string]any{"payment_link_id": l.ID, "previous_status": before.Status, "current_status": l.Status, "payment_link": l},
		event.Change{ResourceType: "payment_link", ResourceID: l.ID, Action: "status_changed",
			Before: event.Snapshot(map[string]string{"status": before.Status}), After: event.Snapshot(map[string]string{"status": l.Status})})
	if err != nil {
		return Link{}, apperr.Wrap(op, err)
	}
	evs := []event.Event{linkEv}
	var cancelled *Intent
	if pi.Status != IntentFailed {
		prevIntent := pi
		pi.Status, pi.UpdatedAt, pi.Version = IntentCancelled, now, pi.Version+1
		piEv, err := IntentEvent(s.NewID("evt"), now, actor, prevIntent, pi)
		if err != nil {
			return Link{}, apperr.Wrap(op, err)
		}
		evs, cancelled = append(evs, piEv), &pi
	}
	if err := s.Store.EndLink(ctx, l, status, cancelled, evs); err != nil {
		return Link{}, apperr.Wrap(op, err)
	}
	return l, nil
}

// IntentEvent is payment_intent.status_changed, as seed 000 shows it.
func IntentEvent(id string, at time.Time, actor event.Actor, before, after Intent) (event.Event, error) {
	return event.New(id, "payment_intent.status_changed", at, after.PartnerID, after.OrgID, actor,
		map[string]any{"payment_intent_id": after.ID, "previous_status": before.Status, "current_status": after.Status, "payment_intent": after},
		event.Change{ResourceType: "payment_intent", ResourceID: after.ID, Action: "status_changed",
			Before: event.Snapshot(map[string]string{"status": before.Status}), After: event.Snapshot(map[string]string{"status": after.Status})})
}

// GetIntent returns one of the organisation's intents.
func (s *Service) GetIntent(ctx context.Context, partnerID, orgID, id string) (Intent, error) {
	pi, err := s.Store.GetIntent(ctx, partnerID, orgID, id)
	return pi, apperr.Wrap("payment_intent.get", err)
}

// ListIntents lists an invoice's intents; an invoice that is not the
// organisation's is NotFound.
func (s *Service) ListIntents(ctx context.Context, partnerID, orgID, invoiceID string) ([]Intent, error) {
	const op = "payment_intent.list"
	if invoiceID == "" {
		return nil, apperr.Field(op, "invoice_id", "invoice_id is required")
	}
	if _, err := s.Store.GetInvoice(ctx, partnerID, orgID, invoiceID); err != nil {
		return nil, apperr.Wrap(op, err)
	}
	pis, err := s.Store.ListIntents(ctx, partnerID, orgID, invoiceID)
	return pis, apperr.Wrap(op, err)
}

// ExpireLinks ends every active link past its expiry time (payment_link.expired,
// its open intent cancelled, its amount released). A link whose transfer is
// under way is left to the bank's answer. Idempotent and safe to run twice:
// each end is conditional on the link's version.
func (s *Service) ExpireLinks(ctx context.Context) (int, error) {
	const op = "payment_link.expire"
	links, err := s.Store.ExpiredLinks(ctx, s.Now())
	if err != nil {
		return 0, apperr.Wrap(op, err)
	}
	system := event.Actor{ID: "expiry-schedule", Type: "system"}
	n := 0
	for _, l := range links {
		if _, err := s.end(ctx, op, l.PartnerID, l.OrgID, l.ID, LinkExpired, "payment_link.expired", system); err != nil {
			if apperr.CodeOf(err) == apperr.Conflict {
				continue // under way, or changed since read
			}
			return n, err
		}
		n++
	}
	return n, nil
}
