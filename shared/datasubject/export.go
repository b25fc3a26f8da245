package datasubject

import (
	"context"
	"net/mail"
	"strings"
	"time"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/audit"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/refund"
)

// Export is everything the organisation holds about one payer, one page of
// the payer's invoices at a time (with their intents, refunds and links).
type Export struct {
	EmailHash      string    `json:"email_sha256"`
	OrganizationID string    `json:"organization_id"`
	ExportedAt     time.Time `json:"exported_at"`
	// ErasedAt is the payer's last erasure in the organisation, if any.
	ErasedAt       *time.Time        `json:"erased_at"`
	Invoices       []invoice.Invoice `json:"invoices"`
	PaymentIntents []payment.Intent  `json:"payment_intents"`
	Refunds        []refund.Refund   `json:"refunds"`
	PaymentLinks   []payment.Link    `json:"payment_links"`
	// AuditLogs are the audit entries about those resources and about the
	// payer's erasures (at most MaxAuditPerResource each, newest first);
	// null when this deployment has no audit reader.
	AuditLogs      []audit.Entry `json:"audit_logs"`
	AuditTruncated bool          `json:"audit_logs_truncated"`

	Next  string `json:"-"`
	Total int    `json:"-"`
}

// checkEmail validates the email a right is asked for: an address, as
// invoices' payers are (422 on param otherwise).
func checkEmail(op, param, email string) (string, error) {
	e := strings.TrimSpace(email)
	if e == "" {
		return "", apperr.Field(op, param, param+" is required")
	}
	if a, err := mail.ParseAddress(e); err != nil || a.Address != e || len(e) > 254 {
		return "", apperr.Field(op, param, param+" must be an email address like jean.dupont@example.com")
	}
	return e, nil
}

// unknown is the answer for an email the organisation holds nothing about
// (and never erased): 404 naming email. An organisation that is not the
// caller's (or does not exist) is the organisation's 404, as on every route.
func (s *Service) unknown(ctx context.Context, op, partnerID, orgID string) error {
	if err := s.Store.OrganizationExists(ctx, partnerID, orgID); err != nil {
		return apperr.Wrap(op, err)
	}
	return &apperr.Error{Op: op, Code: apperr.NotFound, Param: "email", Message: "this organization holds no invoice of a payer with this email"}
}

// Export reads one page of what the organisation holds about the payer of
// email (case-insensitive). A payer erased since holds nothing: the answer
// is 200 with empty lists and erased_at; an email never seen is a 404.
func (s *Service) Export(ctx context.Context, partnerID, orgID, email string, q listing.Query) (Export, error) {
	const op = "datasubject.export"
	e, err := checkEmail(op, "email", email)
	if err != nil {
		return Export{}, err
	}
	if q.Size > MaxExportPageSize {
		return Export{}, apperr.Field(op, "page_size", "page_size must be an integer from 1 to 25 (each invoice brings its payments, refunds and audit entries)")
	}
	hash := invoice.EmailHash(e)
	page, err := s.Store.PayerInvoices(ctx, partnerID, orgID, hash, q)
	if err != nil {
		return Export{}, apperr.Wrap(op, err)
	}
	out := Export{EmailHash: hash, OrganizationID: orgID, ExportedAt: s.Now().UTC(), Invoices: []invoice.Invoice{},
		PaymentIntents: []payment.Intent{}, Refunds: []refund.Refund{}, PaymentLinks: []payment.Link{}, Next: page.Next, Total: page.Total}
	if s.Audit != nil {
		out.AuditLogs = []audit.Entry{}
	}
	rec, err := s.Store.LastErasure(ctx, partnerID, orgID, hash)
	switch {
	case err == nil:
		at := rec.ErasedAt
		out.ErasedAt = &at
	case apperr.CodeOf(err) != apperr.NotFound:
		return Export{}, apperr.Wrap(op, err)
	}
	if len(page.Items) == 0 && q.Cursor == "" && out.ErasedAt == nil {
		return Export{}, s.unknown(ctx, op, partnerID, orgID)
	}
	type resource struct{ typ, id string }
	// The erasures of this payer are audited under the email's hash.
	resources := []resource{{"data_subject", hash}}
	for _, id := range page.Items {
		inv, err := s.Store.GetInvoice(ctx, partnerID, orgID, id)
		if apperr.CodeOf(err) == apperr.NotFound {
			continue // an index entry left by an interrupted write: nothing to export
		}
		if err != nil {
			return Export{}, apperr.Wrap(op, err)
		}
		out.Invoices = append(out.Invoices, inv)
		resources = append(resources, resource{"invoice", inv.ID})
		intents, err := s.Store.ListIntents(ctx, partnerID, orgID, inv.ID)
		if err != nil {
			return Export{}, apperr.Wrap(op, err)
		}
		for _, pi := range intents {
			out.PaymentIntents = append(out.PaymentIntents, pi)
			resources = append(resources, resource{"payment_intent", pi.ID})
			_, refunds, err := s.Store.IntentRefunds(ctx, partnerID, orgID, pi.ID)
			if err != nil {
				return Export{}, apperr.Wrap(op, err)
			}
			for _, r := range refunds {
				out.Refunds = append(out.Refunds, r)
				resources = append(resources, resource{"refund", r.ID})
			}
			if pi.PaymentLinkID == "" {
				continue
			}
			l, err := s.Store.GetLink(ctx, partnerID, orgID, pi.PaymentLinkID)
			if apperr.CodeOf(err) == apperr.NotFound {
				continue
			}
			if err != nil {
				return Export{}, apperr.Wrap(op, err)
			}
			out.PaymentLinks = append(out.PaymentLinks, l)
			resources = append(resources, resource{"payment_link", l.ID})
		}
	}
	if s.Audit == nil {
		return out, nil
	}
	for _, r := range resources {
		p, err := s.Audit.ListEntries(ctx, partnerID, orgID, audit.Query{ResourceType: r.typ, ResourceID: r.id,
			Page: listing.Query{Page: 1, Size: MaxAuditPerResource}})
		if err != nil {
			return Export{}, apperr.Wrap(op, err)
		}
		for _, e := range p.Items {
			// Whole seconds, as GET /v1/audit_logs shows them.
			e.Timestamp = e.Timestamp.UTC().Truncate(time.Second)
			out.AuditLogs = append(out.AuditLogs, e)
		}
		if p.Next != "" {
			out.AuditTruncated = true
		}
	}
	return out, nil
}
