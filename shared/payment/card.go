package payment

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/event"
)

// Card is what the payer types on the page. It is never stored nor logged:
// it goes to the card provider and is dropped.
type Card struct {
	Number, ExpMonth, ExpYear, CVC string
}

// CardResult is the provider's answer to a charge.
type CardResult struct {
	ID            string
	Approved      bool
	DeclineReason string
}

// CardProvider charges cards. No card processor is configured for
// production; the sandbox has a simulator (SandboxCards).
type CardProvider interface {
	Charge(ctx context.Context, requestID string, amount int64, currency string, c Card) (CardResult, error)
	// Refund gives back (part of) a charge; idempotent on requestID.
	Refund(ctx context.Context, requestID, chargeID string, amount int64, currency string) (CardRefundResult, error)
}

// CardRefundResult is the provider's answer to a refund: card processors
// answer at once.
type CardRefundResult struct {
	ID            string
	Succeeded     bool
	FailureReason string
}

// SandboxCards simulates a card processor with documented test numbers;
// every other number is refused, so no real card data is ever taken.
type SandboxCards struct{ NewID func(prefix string) string }

// Sandbox test cards.
const (
	TestCardApproved          = "4242424242424242"
	TestCardDeclined          = "4000000000000002"
	TestCardInsufficientFunds = "4000000000009995"
)

// Charge decides by the test number.
func (s SandboxCards) Charge(_ context.Context, requestID string, amount int64, currency string, c Card) (CardResult, error) {
	res := CardResult{ID: s.NewID("card")}
	switch c.Number {
	case TestCardApproved:
		res.Approved = true
	case TestCardDeclined:
		res.DeclineReason = "carte refusée (card_declined)"
	case TestCardInsufficientFunds:
		res.DeclineReason = "fonds insuffisants (insufficient_funds)"
	default:
		return CardResult{}, apperr.Field("card.charge", "card_number", "the sandbox takes only its test cards: 4242 4242 4242 4242 (approved), 4000 0000 0000 0002 (declined), 4000 0000 0000 9995 (insufficient funds)")
	}
	return res, nil
}

// Refund succeeds at once in the sandbox, for any charge it made.
func (s SandboxCards) Refund(_ context.Context, requestID, chargeID string, amount int64, currency string) (CardRefundResult, error) {
	if chargeID == "" {
		return CardRefundResult{}, apperr.E("card.refund", apperr.Invalid, "no card charge to refund")
	}
	return CardRefundResult{ID: "cardrf-" + requestID, Succeeded: true}, nil
}

// checkCard validates what the payer typed, naming the field.
func checkCard(c *Card, now time.Time) error {
	const op = "card.validate"
	c.Number = strings.Join(strings.Fields(c.Number), "")
	if len(c.Number) < 12 || len(c.Number) > 19 || !luhn(c.Number) {
		return apperr.Field(op, "card_number", "the card number is not valid")
	}
	m, err1 := strconv.Atoi(c.ExpMonth)
	y, err2 := strconv.Atoi(c.ExpYear)
	if y < 100 {
		y += 2000
	}
	if err1 != nil || err2 != nil || m < 1 || m > 12 || time.Date(y, time.Month(m)+1, 1, 0, 0, 0, 0, time.UTC).Before(now) {
		return apperr.Field(op, "card_expiry", "the card has expired or its expiry date is not valid")
	}
	if len(c.CVC) < 3 || len(c.CVC) > 4 || strings.Trim(c.CVC, "0123456789") != "" {
		return apperr.Field(op, "card_cvc", "the security code is 3 or 4 digits")
	}
	return nil
}

func luhn(s string) bool {
	sum := 0
	for i := range len(s) {
		d := int(s[len(s)-1-i] - '0')
		if d < 0 || d > 9 {
			return false
		}
		if i%2 == 1 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// PayByCard charges the card now and settles or fails the intent at once:
// the simulator (and card processors) answer synchronously.
func (f *Flow) PayByCard(ctx context.Context, token string, c Card) (Intent, error) {
	const op = "payment_page.pay_card"
	if f.Cards == nil {
		return Intent{}, &apperr.Error{Op: op, Code: apperr.Invalid, Param: "method",
			Message: "payment_method_unavailable: card payments are not available until a card provider is configured"}
	}
	p, err := f.Open(ctx, token)
	if err != nil {
		return Intent{}, err
	}
	now := f.Now().UTC()
	if err := checkOpen(op, p, now); err != nil {
		return Intent{}, err
	}
	if !contains(p.Link.PaymentMethods, MethodCard) {
		return Intent{}, apperr.Field(op, "method", "this link does not offer card payment")
	}
	if err := checkCard(&c, now); err != nil {
		return Intent{}, err
	}
	pi, err := f.choose(ctx, op, p.Intent, MethodCard, now)
	if err != nil {
		return Intent{}, err
	}
	res, err := f.Cards.Charge(ctx, pi.ID+"-v"+strconv.FormatInt(pi.Version, 10), pi.Amount, pi.Currency, c)
	if err != nil {
		return Intent{}, apperr.Wrap(op, err)
	}
	before := pi
	pi.AiiaTransactionID = "" // not an Aiia payment
	pi.CardChargeID = res.ID
	pi.UpdatedAt, pi.Version = f.Now().UTC(), pi.Version+1
	pi.Status, pi.CompletedAt = IntentProcessing, nil
	if !res.Approved {
		pi.Status, pi.FailureReason, pi.CompletedAt = IntentFailed, res.DeclineReason, &pi.UpdatedAt
		ev, err := IntentEvent(f.NewID("evt"), pi.UpdatedAt, payer, before, pi)
		if err != nil {
			return Intent{}, apperr.Wrap(op, err)
		}
		return pi, apperr.Wrap(op, f.Store.UpdateIntent(ctx, pi, []event.Event{ev}))
	}
	return f.settle(ctx, op, p.Link.PartnerID, p.Link.OrgID, before, pi, event.Actor{ID: "card-sandbox", Type: "system"})
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
