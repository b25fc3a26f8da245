package payment

import (
	"context"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/event"
)

// Outcomes the organisation records for a transfer the provider lost
// track of (POST /v1/payment_intents/{intent_id}/resolve).
const (
	ResolvedReceived = "received"     // the amount reached the organisation's account
	ResolvedNotFound = "not_received" // it did not: the payer may pay again
)

// ResolveInput is the body of POST /v1/payment_intents/{intent_id}/resolve.
type ResolveInput struct {
	Outcome string `json:"outcome"`
}

// Resolve records what the organisation found on its account statement for
// an intent in requires_action (the provider lost track of the transfer,
// or never said how it ended): received, the intent succeeds and pays its
// invoice exactly as a transfer the bank confirmed (funds_status credited:
// the money was seen on the account), with its link completed; not
// received, the intent fails (the link can then be deactivated and
// another made, as after any failed transfer). One transaction each,
// conditional on the version read: two resolutions at once record one.
// Only an intent in requires_action is resolved (409 otherwise), never an
// intent the bank may still decide.
func (f *Flow) Resolve(ctx context.Context, partnerID, orgID, intentID string, in ResolveInput, actor event.Actor) (Intent, error) {
	const op = "payment_intent.resolve"
	if in.Outcome != ResolvedReceived && in.Outcome != ResolvedNotFound {
		return Intent{}, apperr.Field(op, "outcome", "outcome must be "+ResolvedReceived+" (the transfer reached the account) or "+
			ResolvedNotFound+" (it did not)")
	}
	pi, err := f.Store.GetIntent(ctx, partnerID, orgID, intentID)
	if err != nil {
		return Intent{}, apperr.Wrap(op, err)
	}
	if pi.Status != IntentRequiresAction {
		return Intent{}, apperr.E(op, apperr.Conflict, "the payment intent is "+pi.Status+
			": only a payment intent in requires_action is resolved by the organization")
	}
	before := pi
	now := f.Now().UTC()
	pi.UpdatedAt, pi.Version = now, pi.Version+1
	if in.Outcome == ResolvedReceived {
		pi.FailureReason, pi.FundsStatus = "", "credited" // aiia.FundsCredited: seen on the account
		return f.settle(ctx, op, partnerID, orgID, before, pi, actor)
	}
	pi.Status, pi.CompletedAt = IntentFailed, &now
	pi.FailureReason = UnknownAtProvider + ": the organization found no such transfer on its account"
	ev, err := IntentEvent(f.NewID("evt"), now, actor, before, pi)
	if err != nil {
		return Intent{}, apperr.Wrap(op, err)
	}
	if err := f.Store.UpdateIntent(ctx, pi, []event.Event{ev}); err != nil {
		return Intent{}, apperr.Wrap(op, err)
	}
	return pi, nil
}
