package webhook

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/listing"
)

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
)

// Retention is how long a delivery and its attempts stay in the log.
const Retention = 30 * 24 * time.Hour

// MaxAttempts bounds the attempts a delivery may have, manual retries
// included (the automatic schedule makes len(Schedule)+1 of them).
const MaxAttempts = 20

// Delivery is one event sent to one subscription: its status and every
// attempt. Its id is derived from the pair, so however often the event is
// routed, the pair has one delivery.
type Delivery struct {
	ID             string          `json:"id"`
	SubscriptionID string          `json:"webhook_subscription_id"`
	EventID        string          `json:"event_id"`
	EventType      string          `json:"event_type"`
	OrganizationID string          `json:"organization_id,omitempty"`
	Status         string          `json:"status"`
	AttemptCount   int             `json:"attempt_count"`
	NextAttemptAt  *time.Time      `json:"next_attempt_at"`
	Attempts       []Attempt       `json:"attempts"`
	Payload        json.RawMessage `json:"payload"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`

	PartnerID string    `json:"-"`
	EventAt   time.Time `json:"-"`
	// LeaseUntil is set while a dispatcher holds the delivery.
	LeaseUntil *time.Time `json:"-"`
}

// Attempt is one POST: when, how long, and what came back.
type Attempt struct {
	Number      int       `json:"attempt"`
	AttemptedAt time.Time `json:"attempted_at"`
	// StatusCode is 0 when no response came (timeout, connection error).
	StatusCode      int    `json:"status_code"`
	LatencyMS       int64  `json:"latency_ms"`
	Error           string `json:"error,omitempty"`
	ResponseExcerpt string `json:"response_excerpt,omitempty"`
	Manual          bool   `json:"manual"`
}

// Leased says whether a dispatcher holds the delivery's lease at now.
func (d Delivery) Leased(now time.Time) bool {
	return d.LeaseUntil != nil && now.Before(*d.LeaseUntil)
}

// deliveryNS is the UUIDv5 namespace of delivery ids.
var deliveryNS = uuid.MustParse("6f1d2b8e-5f5c-4b8f-9a57-9c7f0f3b2e11")

// DeliveryID is the id of the delivery of event eventID to subscription subID.
func DeliveryID(subID, eventID string) string {
	return "whd-" + uuid.NewSHA1(deliveryNS, []byte(subID+"\x00"+eventID)).String()
}

// DeliveryFilter narrows the delivery log.
type DeliveryFilter struct {
	Status    string
	EventType string
	From, To  time.Time // creation time, inclusive; zero = open
}

// Validate checks the filter's values.
func (f DeliveryFilter) Validate() error {
	const op = "webhook.delivery_filter"
	switch f.Status {
	case "", DeliveryPending, DeliverySucceeded, DeliveryFailed:
	default:
		return apperr.Field(op, "status", `status must be "pending", "succeeded" or "failed"`)
	}
	if f.EventType != "" && !Deliverable(f.EventType) && f.EventType != TypeTest {
		return apperr.Field(op, "event_type", "unknown event type \""+f.EventType+"\"")
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		return apperr.Field(op, "created_to", "created_to is before created_from")
	}
	return nil
}

// ListDeliveries pages through a subscription's deliveries, newest first.
func (s *Service) ListDeliveries(ctx context.Context, partnerID, subID string, q listing.Query, f DeliveryFilter) (listing.Page[Delivery], error) {
	if err := f.Validate(); err != nil {
		return listing.Page[Delivery]{}, err
	}
	if _, err := s.Store.GetSubscription(ctx, partnerID, subID); err != nil {
		return listing.Page[Delivery]{}, err
	}
	return s.Store.ListDeliveries(ctx, partnerID, subID, q, f)
}

// GetDelivery returns one delivery of the partner.
func (s *Service) GetDelivery(ctx context.Context, partnerID, id string) (Delivery, error) {
	return s.Store.GetDelivery(ctx, partnerID, id)
}

// Test sends a signed ping to the subscription (whatever its events and
// status, so an endpoint can be checked before it is re-enabled). The
// delivery exists, pending, when this returns; the dispatcher makes one
// attempt, visible in the delivery log.
func (s *Service) Test(ctx context.Context, partnerID, subID string, actor event.Actor) (Delivery, error) {
	const op = "webhook.test"
	sub, err := s.Store.GetSubscription(ctx, partnerID, subID)
	if err != nil {
		return Delivery{}, err
	}
	now := s.Now().UTC()
	ev, err := event.New(s.NewID("evt"), TypeTest, now, partnerID, "", actor,
		map[string]any{"webhook_subscription_id": sub.ID, "message": "Test webhook from ModuPay: your endpoint is reachable and verifies the signature."},
		event.Change{ResourceType: "webhook_subscription", ResourceID: sub.ID, Action: "test", Before: event.Snapshot(nil), After: event.Snapshot(nil)})
	if err != nil {
		return Delivery{}, apperr.Wrap(op, err)
	}
	env, err := json.Marshal(ev)
	if err != nil {
		return Delivery{}, apperr.Wrap(op, err)
	}
	d := Delivery{ID: DeliveryID(sub.ID, ev.ID), SubscriptionID: sub.ID, EventID: ev.ID, EventType: TypeTest, Status: DeliveryPending,
		NextAttemptAt: &now, Attempts: []Attempt{}, Payload: env, CreatedAt: now, UpdatedAt: now, PartnerID: partnerID, EventAt: now}
	if err := s.Store.CreateDelivery(ctx, d, ev); err != nil {
		return Delivery{}, err
	}
	return d, nil
}

// Retry re-sends a failed delivery once, now ("Surveillez les webhooks non
// reçus"). Only failed deliveries are retried: a pending one is still on its
// schedule, and a succeeded one was received (re-sending it would break
// "delivered successfully at most once"). The subscription must be active.
func (s *Service) Retry(ctx context.Context, partnerID, id string, actor event.Actor) (Delivery, error) {
	const op = "webhook.retry"
	d, err := s.Store.GetDelivery(ctx, partnerID, id)
	if err != nil {
		return Delivery{}, err
	}
	if d.Status != DeliveryFailed {
		return Delivery{}, apperr.E(op, apperr.Conflict, "the delivery is "+d.Status+"; only failed deliveries can be retried")
	}
	if d.AttemptCount >= MaxAttempts {
		return Delivery{}, apperr.E(op, apperr.Conflict, "the delivery already had "+strconv.Itoa(d.AttemptCount)+" attempts, the most a delivery may have")
	}
	sub, err := s.Store.GetSubscription(ctx, partnerID, d.SubscriptionID)
	if err != nil {
		return Delivery{}, err
	}
	if sub.Status != StatusActive {
		return Delivery{}, apperr.E(op, apperr.Conflict, "the subscription is disabled; re-enable it (PATCH status \"active\") before retrying")
	}
	now := s.Now().UTC()
	before := d
	d.Status, d.NextAttemptAt, d.UpdatedAt = DeliveryPending, &now, now
	ev, err := event.New(s.NewID("evt"), TypeRetryRequested, now, partnerID, d.OrganizationID, actor,
		RetryRequest{DeliveryID: d.ID, SubscriptionID: d.SubscriptionID, EventID: d.EventID, Attempt: d.AttemptCount + 1},
		event.Change{ResourceType: "webhook_delivery", ResourceID: d.ID, Action: "retry",
			Before: event.Snapshot(map[string]any{"status": before.Status, "attempt_count": before.AttemptCount}),
			After:  event.Snapshot(map[string]any{"status": d.Status, "attempt_count": d.AttemptCount})})
	if err != nil {
		return Delivery{}, apperr.Wrap(op, err)
	}
	if err := s.Store.RequestRetry(ctx, d, ev); err != nil {
		return Delivery{}, err
	}
	return d, nil
}

// RetryRequest is the data of a TypeRetryRequested event: what the router
// needs to send the attempt to the dispatcher.
type RetryRequest struct {
	DeliveryID     string `json:"delivery_id"`
	SubscriptionID string `json:"webhook_subscription_id"`
	EventID        string `json:"event_id"`
	Attempt        int    `json:"attempt"`
}
