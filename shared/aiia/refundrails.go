package aiia

import (
	"context"
	"net/url"
	"strings"
	"time"

	"github.com/modupay/modupay/shared/apperr"
)

// Refunds without a settlement account. The provider pays a refund out
// itself only for a merchant with a Mastercard settlement account; for any
// other, the refund stops at one of two codes and the merchant pays it:
//
//	PAYMENT_RAILS_AVAILABLE    GET /refunds/{id}/payment-rails names the
//	                           account the payer paid from
//	PAYMENT_RAILS_UNAVAILABLE  the bank did not report it: POST
//	                           /refunds/{id}/payment-rails {redirectUrl,
//	                           language, expiryDate} gives a flowUrl where
//	                           the payer connects the account to refund
//	                           (CAPTURING_SOURCE_ACCOUNT meanwhile), after
//	                           which the refund is PAYMENT_RAILS_AVAILABLE

// SourceAccount is one rail of a refund's payer account, as GET
// /refunds/{id}/payment-rails gives it (SourceAccountRails…Output: the SEPA
// rails carry an IBAN, some an owner's name).
type SourceAccount struct {
	PaymentRail  string `json:"paymentRail"`
	IBAN         string `json:"iban,omitempty"`
	AccountOwner string `json:"accountOwner,omitempty"`
}

// SEPA reports whether the rail is one a SEPA credit transfer can pay into
// (it carries an IBAN).
func (a SourceAccount) SEPA() bool {
	return strings.Contains(a.PaymentRail, "SepaCreditTransfer") && strings.TrimSpace(a.IBAN) != ""
}

// CollectInput asks the payer for the account to refund. RequestID makes
// a retry return the same flow; Language is ISO 639-1 (default the
// browser's); ExpiresAt is at most MaxCollectWindow away (zero: the
// provider's 48 hours).
type CollectInput struct {
	RequestID   string
	RedirectURL string
	Language    string
	ExpiresAt   time.Time
}

// MaxCollectWindow is the longest an account collection flow may live
// (the provider's maximum, unless onboarding configured another).
const MaxCollectWindow = 7 * 24 * time.Hour

// CollectRequest is POST /refunds/{id}/payment-rails
// (RefundAccountCollectionFlowInput).
type CollectRequest struct {
	RedirectURL string `json:"redirectUrl"`
	Language    string `json:"language,omitempty"`
	ExpiryDate  string `json:"expiryDate,omitempty"`
}

// CollectOutput is its answer (RefundAccountCollectionFlowOutput).
type CollectOutput struct {
	FlowURL string `json:"flowUrl"`
}

// Validate checks an account collection request.
func (in CollectInput) Validate(now time.Time) error {
	const op = "aiia.refunds.collect_account"
	switch {
	case strings.TrimSpace(in.RequestID) == "":
		return apperr.Field(op, "request_id", "a request id is required so retries open one flow")
	case !absoluteHTTPURL(in.RedirectURL):
		return apperr.Field(op, "redirect_url", "the redirect URL must be an absolute http(s) URL")
	case len(in.Language) != 0 && len(in.Language) != 2:
		return apperr.Field(op, "language", "the language is a two-letter ISO 639-1 code")
	case !in.ExpiresAt.IsZero() && !in.ExpiresAt.After(now):
		return apperr.Field(op, "expires_at", "the flow's expiry must be in the future")
	case !in.ExpiresAt.IsZero() && in.ExpiresAt.Sub(now) > MaxCollectWindow:
		return apperr.Field(op, "expires_at", "the flow may live at most a week")
	}
	return nil
}

// RefundSourceAccounts reads the account a refund is to be paid into: only
// for a refund at PAYMENT_RAILS_AVAILABLE (the provider answers 400
// otherwise).
func (c *Client) RefundSourceAccounts(ctx context.Context, refundID string) ([]SourceAccount, error) {
	const op = "aiia.refunds.payment_rails"
	if strings.TrimSpace(refundID) == "" {
		return nil, apperr.Field(op, "refund_id", "the Aiia refund id is required")
	}
	var out []SourceAccount
	if err := c.call(ctx, op, "GET", "/refunds/"+url.PathEscape(refundID)+"/payment-rails", nil, "", &out); err != nil {
		return nil, err
	}
	for i := range out {
		out[i].IBAN = NormalizeIBAN(out[i].IBAN)
		if out[i].PaymentRail == "" {
			return nil, malformed(op, "a payment rail without paymentRail")
		}
	}
	return out, nil
}

// CollectRefundAccount opens the flow where the payer connects the account
// to refund, for a refund at PAYMENT_RAILS_UNAVAILABLE, and returns its URL
// (to send to the payer).
func (c *Client) CollectRefundAccount(ctx context.Context, refundID string, in CollectInput) (string, error) {
	const op = "aiia.refunds.collect_account"
	if strings.TrimSpace(refundID) == "" {
		return "", apperr.Field(op, "refund_id", "the Aiia refund id is required")
	}
	if err := in.Validate(c.now()); err != nil {
		return "", err
	}
	req := CollectRequest{RedirectURL: in.RedirectURL, Language: in.Language}
	if !in.ExpiresAt.IsZero() {
		req.ExpiryDate = in.ExpiresAt.UTC().Format(time.RFC3339)
	}
	var out CollectOutput
	if err := c.call(ctx, op, "POST", "/refunds/"+url.PathEscape(refundID)+"/payment-rails", req, in.RequestID, &out); err != nil {
		return "", err
	}
	if !absoluteHTTPURL(out.FlowURL) {
		return "", malformed(op, "no flowUrl")
	}
	return out.FlowURL, nil
}
