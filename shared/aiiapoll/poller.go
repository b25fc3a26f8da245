// Package aiiapoll follows each started transfer to its end: the poller reads
// the transfer's state at the bank, applies it, and, while it is not final,
// sends itself the same message again with a growing delay. SQS's delays
// stop at 15 minutes, so longer waits are reached by re-delaying, never by
// sleeping. Duplicates and concurrent pollers apply a transition once (the
// intent's writes are conditional on its version).
package aiiapoll

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/metric"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/worker"
)

// Message is a poll request for one intent, or (Kind refund) one refund,
// or (Kind payment_order) one payment order executed through Aiia, or
// (Kind onboard_destination) the onboarding at Aiia of a department's
// payout account once its KYC is approved or its payout account moved.
type Message struct {
	Kind         string `json:"kind,omitempty"`
	PartnerID    string `json:"partner_id"`
	OrgID        string `json:"organization_id"`
	IntentID     string `json:"payment_intent_id,omitempty"`
	RefundID     string `json:"refund_id,omitempty"`
	OrderID      string `json:"payment_order_id,omitempty"`
	DepartmentID string `json:"department_id,omitempty"`
	Attempt      int    `json:"attempt"`
	// Since is when polling started; it stops after MaxPolling.
	Since time.Time `json:"since"`
}

// Schedule is the delay before poll n (n ≥ 1): seconds at first (the payer
// has just authorised), then minutes, then every 15 minutes. SEPA settles in
// 1 to 2 business days; MaxPolling covers 3 business days over a weekend.
func Schedule(n int) time.Duration {
	steps := []time.Duration{2 * time.Second, 3 * time.Second, 5 * time.Second, 10 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute}
	if n-1 < len(steps) {
		return steps[n-1]
	}
	return 15 * time.Minute
}

// MaxPolling bounds how long a refund or a payment order is followed
// before it is parked for an operator (3 business days, weekend included).
const MaxPolling = 5 * 24 * time.Hour

// PaymentHorizon bounds how long a payment is followed. The provider gives
// up on a payment it cannot follow after 6 days (UNKNOWN, see
// payment.ErrUnknownAtProvider), so this waits one more day for that
// answer; a payment still not final then is recorded as unknown by
// ModuPay itself (Stall): requires_action, its event, the same alarm.
const PaymentHorizon = 7 * 24 * time.Hour

// The kinds of poll message besides a payment intent's.
const (
	KindRefund       = "refund"
	KindPaymentOrder = "payment_order"
)

// Poller is the SQS handler.
type Poller struct {
	Poll func(ctx context.Context, partnerID, orgID, intentID string) (final bool, err error)
	// FollowRefund creates a refund at its provider and follows it to its
	// end, on the same schedule as payments (package refund).
	FollowRefund func(ctx context.Context, partnerID, orgID, refundID string) (final bool, err error)
	// FollowOrder creates an executed payment order's payout and follows
	// it to its end (package paymentorder).
	FollowOrder func(ctx context.Context, partnerID, orgID, orderID string) (final bool, err error)
	// Stall records a payment still not final after PaymentHorizon
	// (payment.Flow.Stall): nothing is known of it, and people must look.
	Stall func(ctx context.Context, partnerID, orgID, intentID string, after time.Duration) error
	// Onboard registers a department's payout account at Aiia (idempotent).
	Onboard func(ctx context.Context, partnerID, deptID string) error
	// Requeue sends the message again after delay (≤ 15 minutes).
	Requeue func(ctx context.Context, m Message, delay time.Duration) error
	Park    func(ctx context.Context, source, messageID, body, reason string) error
	Now     func() time.Time
	Log     *slog.Logger
}

// Handle polls each message's intent once. Transient failures (the bank or
// the table unavailable) are batch item failures: SQS redelivers after the
// visibility timeout. Permanent ones are parked with their reason.
func (p *Poller) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	return worker.Each(ctx, ev, "aiia-poll", p.Log, p.Park, p.handle), nil
}

func (p *Poller) handle(ctx context.Context, rec events.SQSMessage) error {
	const op = "aiiapoll.handle"
	var m Message
	if err := json.Unmarshal([]byte(rec.Body), &m); err == nil && m.Kind == "onboard_destination" && m.PartnerID != "" && m.DepartmentID != "" {
		// Transient failures come back through SQS; the onboarding is idempotent.
		return p.Onboard(ctx, m.PartnerID, m.DepartmentID)
	}
	if err := json.Unmarshal([]byte(rec.Body), &m); err != nil || m.PartnerID == "" || m.OrgID == "" {
		return apperr.E(op, apperr.Malformed, "not a poll message: "+rec.Body)
	}
	var what, id string
	var follow func(ctx context.Context, partnerID, orgID, id string) (bool, error)
	switch m.Kind {
	case "":
		what, follow, id = "payment intent", p.Poll, m.IntentID
	case KindRefund:
		what, follow, id = "refund", p.FollowRefund, m.RefundID
	case KindPaymentOrder:
		what, follow, id = "payment order", p.FollowOrder, m.OrderID
	}
	if follow == nil || id == "" {
		return apperr.E(op, apperr.Malformed, "not a poll message: "+rec.Body)
	}
	final, err := follow(ctx, m.PartnerID, m.OrgID, id)
	if errors.Is(err, payment.ErrUnknownAtProvider) {
		return p.unknown(ctx, what, id, err)
	}
	switch {
	case apperr.CodeOf(err) == apperr.NotFound:
		return apperr.E(op, apperr.NotFound, "unknown "+what+" "+id)
	case err != nil && !apperr.Retryable(err):
		return err
	case err != nil:
		// The bank or the table is unavailable: try again on the same
		// growing schedule rather than waiting out the queue's visibility
		// timeout; if even the re-send fails, SQS redelivers the message.
		p.Log.WarnContext(ctx, "poll failed, retrying later", slog.String("kind", what), slog.String("id", id), slog.String("error", err.Error()))
	case final:
		return nil
	}
	if m.Since.IsZero() {
		m.Since = p.Now()
	}
	if m.Kind == "" && p.Now().Sub(m.Since) > PaymentHorizon {
		err := p.Stall(ctx, m.PartnerID, m.OrgID, id, PaymentHorizon)
		if err == nil {
			err = fmt.Errorf("%w: payment intent %s of organisation %s: still not final after %s", payment.ErrUnknownAtProvider, id, m.OrgID, PaymentHorizon)
		}
		return p.unknown(ctx, what, id, err)
	}
	if m.Kind != "" && p.Now().Sub(m.Since) > MaxPolling {
		return apperr.E(op, apperr.Conflict, "the "+what+" "+id+" is still not final after "+MaxPolling.String()+": check it at its provider")
	}
	m.Attempt++
	return p.Requeue(ctx, m, Schedule(m.Attempt))
}

// unknown ends the following of a payment the provider lost track of, or
// that never became final: recorded on the intent (requires_action, its
// event), so nothing more to follow, but people must look — the metric
// raises the template's alarm. Any other error (the table unavailable
// while recording it) is the message's to retry.
func (p *Poller) unknown(ctx context.Context, what, id string, err error) error {
	if !errors.Is(err, payment.ErrUnknownAtProvider) {
		return err
	}
	p.Log.ErrorContext(ctx, "payment unknown at the provider: reconcile it against the organisation's statement",
		append([]any{slog.String("kind", what), slog.String("id", id), slog.String("error", err.Error())},
			metric.Count("PaymentsUnknownAtProvider", p.Now())...)...)
	return nil
}
