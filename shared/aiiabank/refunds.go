package aiiabank

import (
	"context"
	"strings"
	"time"

	"github.com/modupay/modupay/shared/aiia"
	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/identifier"
	"github.com/modupay/modupay/shared/money"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/refund"
)

// Refunds is refund.Provider over Aiia: a SEPA payment is refunded through
// Aiia's refund of the original payment, to the account Aiia debited (the
// payer is never asked for an IBAN by ModuPay).
//
// Aiia pays the refund out only for a merchant with a Mastercard
// settlement account. Otherwise the refund waits for the organisation
// (requires_action), which pays the payer's account itself and confirms:
//
//	PAYMENT_RAILS_AVAILABLE    next_action pay_payer_account, with the
//	                           account Aiia names (GET …/payment-rails)
//	PAYMENT_RAILS_UNAVAILABLE  ModuPay opens Aiia's flow where the payer
//	                           connects the account to refund (POST
//	                           …/payment-rails, once per refund): next_action
//	                           collect_payer_account with its url, followed
//	                           until the payer connects one (then
//	                           pay_payer_account, event
//	                           refund.next_action_changed) or it closes
//
// Aiia refunds only a payment credited to the merchant: a payment that
// ended at PAYMENT_EXECUTED_DEBITED (funds_status debited) is read again
// until it is credited, and after CreditWait the organisation is asked to
// pay the refund itself.
type Refunds struct {
	Provider aiia.Provider
	// CollectRedirectURL is where the account collection flow sends the
	// payer back (the stack's /p/refund-account page); it must be one of
	// the redirect URLs registered at onboarding.
	CollectRedirectURL string
	// CreditWait is how long a debited payment's refund waits for the
	// credit (default DefaultCreditWait).
	CreditWait time.Duration
	Now        func() time.Time
}

// DefaultCreditWait covers a SEPA credit transfer's settlement (one to two
// business days) over a weekend.
const DefaultCreditWait = 72 * time.Hour

// CollectWindow is how long the payer has to connect the account to
// refund: the provider's default (ModuPay sends no expiry, so that a
// retried request carries the same body).
const CollectWindow = 48 * time.Hour

// Codes ModuPay records for a refund that is not at Aiia yet.
const (
	codeAwaitingCredit = "awaiting_credit" // the payment is debited, not yet credited
	codeNotCredited    = "not_credited"    // … and was still not after CreditWait
)

// Create asks Aiia for the refund. The request id is the refund's, so a
// repeated request (a poller that crashed before recording the answer)
// finds the same refund. Aiia takes a reason from its own list, not free
// text: ModuPay's refund id goes as clientAssignedReference, which
// reconciles Aiia's statements with ModuPay's refunds, and the partner's
// reason stays in ModuPay.
func (b Refunds) Create(ctx context.Context, r refund.Refund, pi payment.Intent) (refund.Execution, error) {
	if pi.FundsStatus == aiia.FundsDebited {
		credited, err := b.credited(ctx, pi)
		if err != nil {
			return refund.Execution{}, err
		}
		if !credited {
			return b.notCredited(r, pi), nil
		}
	}
	out, err := b.Provider.CreateRefund(ctx, pi.AiiaTransactionID, aiia.RefundInput{RequestID: r.ID, Amount: r.Amount, Reason: r.ID})
	if err != nil {
		return refund.Execution{}, err
	}
	return b.execution(ctx, out, r)
}

// credited reads the payment again: the credit may have come since.
func (b Refunds) credited(ctx context.Context, pi payment.Intent) (bool, error) {
	p, err := b.Provider.GetPayment(ctx, pi.AiiaTransactionID)
	if err != nil {
		return false, err
	}
	st, _ := aiia.MapPaymentStatus(p.Status)
	return st.Funds == aiia.FundsCredited, nil
}

// notCredited is the refund of a payment Aiia saw debited and not yet
// credited: pending (created again at the next poll) for CreditWait after
// the payment, then the organisation's to pay.
func (b Refunds) notCredited(r refund.Refund, pi payment.Intent) refund.Execution {
	wait := b.CreditWait
	if wait <= 0 {
		wait = DefaultCreditWait
	}
	since := pi.UpdatedAt
	if pi.CompletedAt != nil {
		since = *pi.CompletedAt
	}
	if b.now().Sub(since) < wait {
		return refund.Execution{Status: refund.StatusPending, Code: codeAwaitingCredit}
	}
	return refund.Execution{Status: refund.StatusRequiresAction, Code: codeNotCredited, NextAction: &refund.Action{Type: "pay_payer_account",
		Message: "Aiia refunds only payments credited to the organisation, and this one was reported debited from the payer, never credited: " +
			"check the organisation's account statement for the transfer, pay " + money.FormatEUR(r.Amount) +
			" back to the account it came from by SEPA credit transfer (reference " + r.ID + "), then confirm the refund (POST /v1/refunds/" + r.ID +
			"/confirm), or cancel it (POST /v1/refunds/" + r.ID + "/cancel)"}}
}

// State reads the refund at Aiia and maps its code with the one table in
// package aiia.
func (b Refunds) State(ctx context.Context, r refund.Refund, pi payment.Intent) (refund.Execution, error) {
	if r.ProviderID == "" {
		return b.Create(ctx, r, pi)
	}
	out, err := b.Provider.GetRefund(ctx, r.ProviderID)
	if err != nil {
		return refund.Execution{}, err
	}
	return b.execution(ctx, out, r)
}

// execution maps Aiia's answer; for a refund Aiia does not pay out, it
// finds the payer's account or opens the flow that asks for it. Next
// actions name the refund's own routes.
func (b Refunds) execution(ctx context.Context, out aiia.Refund, r refund.Refund) (refund.Execution, error) {
	status, final, _ := aiia.MapRefundStatus(out.Status)
	ex := refund.Execution{ProviderID: out.ID, Code: out.Status, Status: status, FailureReason: out.FailureReason}
	then := "then confirm the refund (POST /v1/refunds/" + r.ID + "/confirm), or cancel it (POST /v1/refunds/" + r.ID + "/cancel)"
	switch out.Status {
	case aiia.RefundPaymentRailsAvailable:
		acct, err := b.payerAccount(ctx, out.ID)
		if err != nil {
			return refund.Execution{}, err
		}
		if acct == nil {
			ex.NextAction = &refund.Action{Type: "collect_payer_account",
				Message: "Aiia cannot pay this refund out (no settlement account) and names no SEPA account of the payer: ask the payer for the account to refund, pay " +
					money.FormatEUR(r.Amount) + " into it by SEPA credit transfer (reference " + r.ID + "), " + then}
			break
		}
		ex.NextAction = &refund.Action{Type: "pay_payer_account", PayerAccount: acct,
			Message: "Aiia cannot pay this refund out (no settlement account): pay " + money.FormatEUR(r.Amount) + " by SEPA credit transfer to the payer's account " +
				identifier.MaskIBAN(acct.IBAN) + " (payer_account; reference " + r.ID + "), " + then}
	case aiia.RefundPaymentRailsUnavailable, aiia.RefundCapturingSourceAccount:
		ex.Awaiting = !final
		prev := r.NextAction
		if prev != nil && prev.ExpiresAt != nil {
			// The flow was opened: the payer has it until it closes.
			if b.now().Before(*prev.ExpiresAt) {
				ex.NextAction = prev
				break
			}
			ex.Awaiting = false
			ex.NextAction = &refund.Action{Type: "collect_payer_account", ExpiresAt: prev.ExpiresAt,
				Message: "the payer did not connect an account to refund before the link closed, and Aiia does not know the account the payment came from: " +
					"ask the payer for it, pay " + money.FormatEUR(r.Amount) + " into it by SEPA credit transfer (reference " + r.ID + "), " + then}
			break
		}
		if b.CollectRedirectURL == "" {
			// No public URL to send the payer back to: the flow cannot be
			// opened; the organisation asks the payer itself.
			ex.Awaiting = false
			ex.NextAction = &refund.Action{Type: "collect_payer_account",
				Message: "Aiia cannot pay this refund out (no settlement account) and does not know the account the payment came from: " +
					"ask the payer for it, pay " + money.FormatEUR(r.Amount) + " into it by SEPA credit transfer (reference " + r.ID + "), " + then}
			break
		}
		if out.Status == aiia.RefundCapturingSourceAccount {
			// A flow ModuPay did not record (a crash after opening it):
			// open it again, which answers the same flow.
			out.Status = aiia.RefundPaymentRailsUnavailable
		}
		url, err := b.Provider.CollectRefundAccount(ctx, out.ID, aiia.CollectInput{RequestID: "collect-" + r.ID, RedirectURL: b.CollectRedirectURL, Language: "fr"})
		if err != nil {
			return refund.Execution{}, err
		}
		closes := b.now().Add(CollectWindow).UTC().Truncate(time.Second)
		ex.NextAction = &refund.Action{Type: "collect_payer_account", URL: url, ExpiresAt: &closes,
			Message: "Aiia cannot pay this refund out (no settlement account) and does not know the account the payment came from: send the payer this link (url), " +
				"where they connect the account to refund before expires_at; the refund then names it (next_action pay_payer_account, event refund.next_action_changed)"}
	}
	return ex, nil
}

// payerAccount is the SEPA account Aiia names for a refund; nil when it
// names none a SEPA transfer can pay. A refusal (the refund moved on
// meanwhile) is nil too: the organisation is asked for what Aiia could
// not give.
func (b Refunds) payerAccount(ctx context.Context, refundID string) (*refund.PayerAccount, error) {
	rails, err := b.Provider.RefundSourceAccounts(ctx, refundID)
	if err != nil && apperr.Retryable(err) {
		return nil, err
	}
	for _, a := range rails {
		if a.SEPA() {
			return &refund.PayerAccount{IBAN: a.IBAN, AccountHolderName: strings.TrimSpace(a.AccountOwner)}, nil
		}
	}
	return nil, nil
}

func (b Refunds) now() time.Time {
	if b.Now != nil {
		return b.Now()
	}
	return time.Now()
}
