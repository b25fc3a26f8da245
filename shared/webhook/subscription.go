package webhook

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/listing"
)

// Subscription statuses.
const (
	StatusActive   = "active"
	StatusDisabled = "disabled"
)

// Reasons a subscription was disabled by the service rather than the partner.
const (
	ReasonFailing = "failing" // every attempt failed for the dispatcher's DisableAfter
	ReasonGone    = "gone"    // the endpoint answered 410 Gone
)

// Limits.
const (
	// MaxSubscriptions per partner (a counter item enforces it in the
	// creation's transaction).
	MaxSubscriptions = 20
	// MaxOrganizations a subscription may be narrowed to.
	MaxOrganizations = 50
	maxDescription   = 500
	// DefaultOverlap is how long the previous secret keeps signing after a
	// rotation, unless the request says otherwise (0 to 7 days).
	DefaultOverlap = 24 * time.Hour
	MaxOverlap     = 7 * 24 * time.Hour
)

// Subscription is a partner's endpoint and the events it receives. It
// belongs to the partner; OrganizationIDs, when set, narrow it to the events
// of those organisations.
type Subscription struct {
	ID              string   `json:"id"`
	URL             string   `json:"url"`
	Events          []string `json:"events"`
	OrganizationIDs []string `json:"organization_ids"`
	Description     string   `json:"description"`
	Status          string   `json:"status"`
	DisabledReason  string   `json:"disabled_reason,omitempty"`
	// Secret is returned by the creation and the rotation only.
	Secret string `json:"secret,omitempty"`
	// PreviousSecretExpiresAt is when the secret replaced by the last
	// rotation stops signing (absent when there is none).
	PreviousSecretExpiresAt *time.Time `json:"previous_secret_expires_at,omitempty"`
	// FailingSince is the first failed attempt of the current run of
	// failures (absent once an attempt succeeds).
	FailingSince *time.Time `json:"failing_since,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`

	PartnerID string `json:"-"`
	// Secrets are the signing secrets: the current one, then the previous
	// one while its overlap lasts.
	Secrets []Secret `json:"-"`
	Version int64    `json:"-"`
}

// Secret is one signing secret; ExpiresAt is set on a replaced secret.
type Secret struct {
	Value     string     `json:"value"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
}

// SigningSecrets are the secrets valid at now, the newest first.
func (s Subscription) SigningSecrets(now time.Time) []string {
	out := make([]string, 0, len(s.Secrets))
	for _, sec := range s.Secrets {
		if sec.ExpiresAt == nil || now.Before(*sec.ExpiresAt) {
			out = append(out, sec.Value)
		}
	}
	return out
}

// Wants says whether the subscription receives an event of type t about
// organisation org, committed at at. Events committed before the
// subscription existed are not sent to it.
func (s Subscription) Wants(t, org string, at time.Time) bool {
	if s.Status != StatusActive || !Deliverable(t) || at.Before(s.CreatedAt) {
		return false
	}
	if !slices.Contains(s.Events, All) && !slices.Contains(s.Events, t) {
		return false
	}
	return len(s.OrganizationIDs) == 0 || slices.Contains(s.OrganizationIDs, org)
}

// public is the subscription as the API shows it after creation: no secret.
func (s Subscription) public(now time.Time) Subscription {
	s.Secret = ""
	s.PreviousSecretExpiresAt = nil
	for _, sec := range s.Secrets[min(1, len(s.Secrets)):] {
		if sec.ExpiresAt != nil && now.Before(*sec.ExpiresAt) {
			s.PreviousSecretExpiresAt = sec.ExpiresAt
		}
	}
	return s
}

// CreateInput is the body of POST /v1/webhook_subscriptions (seed 000).
type CreateInput struct {
	URL             string   `json:"url"`
	Events          []string `json:"events"`
	Description     string   `json:"description"`
	OrganizationIDs []string `json:"organization_ids"`
}

// UpdateInput is the body of PATCH /v1/webhook_subscriptions/{id}: absent
// fields are left as they are.
type UpdateInput struct {
	URL             *string   `json:"url"`
	Events          *[]string `json:"events"`
	Description     *string   `json:"description"`
	OrganizationIDs *[]string `json:"organization_ids"`
	Status          *string   `json:"status"`
}

// RotateInput is the optional body of POST …/rotate_secret.
type RotateInput struct {
	// PreviousSecretExpiresIn is the overlap in seconds (default 86400).
	PreviousSecretExpiresIn *int64 `json:"previous_secret_expires_in"`
}

// Store persists subscriptions and deliveries. Every method takes the partner
// id, which is part of every key.
type Store interface {
	// CreateSubscription writes s with its event, counting it against
	// MaxSubscriptions and checking that each of its organisations is the
	// partner's (apperr.Invalid naming organization_ids[i] otherwise).
	CreateSubscription(ctx context.Context, s Subscription, ev event.Event) error
	GetSubscription(ctx context.Context, partnerID, id string) (Subscription, error)
	// ListSubscriptions returns every subscription of the partner (at most
	// MaxSubscriptions), in creation order.
	ListSubscriptions(ctx context.Context, partnerID string) ([]Subscription, error)
	// UpdateSubscription replaces s if its version is still s.Version-1,
	// checking its organisations like the creation.
	UpdateSubscription(ctx context.Context, s Subscription, ev event.Event) error
	DeleteSubscription(ctx context.Context, s Subscription, ev event.Event) error

	GetDelivery(ctx context.Context, partnerID, id string) (Delivery, error)
	ListDeliveries(ctx context.Context, partnerID, subscriptionID string, q listing.Query, f DeliveryFilter) (listing.Page[Delivery], error)
	// CreateDelivery writes a pending delivery (the test ping's) with its event.
	CreateDelivery(ctx context.Context, d Delivery, ev event.Event) error
	// RequestRetry moves a failed delivery back to pending, with its event,
	// on condition that it is still failed after d.AttemptCount attempts.
	RequestRetry(ctx context.Context, d Delivery, ev event.Event) error
}

// Service holds the subscription rules.
type Service struct {
	Store Store
	// CheckURL refuses endpoint URLs the delivery policy refuses (scheme,
	// credentials, addresses that resolve to private networks…), with a
	// message for the partner.
	CheckURL func(ctx context.Context, raw string) error
	Now      func() time.Time
	NewID    func(prefix string) string
}

func (s *Service) validateURL(ctx context.Context, op, raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", apperr.Field(op, "url", "url is required")
	}
	if err := s.CheckURL(ctx, raw); err != nil {
		return "", apperr.Field(op, "url", "url "+err.Error())
	}
	return raw, nil
}

func validateEvents(op string, events []string) ([]string, error) {
	if len(events) == 0 {
		return nil, apperr.Field(op, "events", `events must list at least one event type, or "*"`)
	}
	out := make([]string, 0, len(events))
	for i, e := range events {
		if e != All && !Deliverable(e) {
			return nil, apperr.Field(op, "events["+strconv.Itoa(i)+"]", "unknown event type \""+e+"\" (see the event catalogue, or use \"*\")")
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

func validateOrgs(op string, orgs []string) ([]string, error) {
	if len(orgs) > MaxOrganizations {
		return nil, apperr.Field(op, "organization_ids", "at most "+strconv.Itoa(MaxOrganizations)+" organizations")
	}
	out := make([]string, 0, len(orgs))
	for i, o := range orgs {
		if strings.TrimSpace(o) == "" {
			return nil, apperr.Field(op, "organization_ids["+strconv.Itoa(i)+"]", "must be an organization id")
		}
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	return out, nil
}

func validateDescription(op, d string) (string, error) {
	d = strings.TrimSpace(d)
	if utf8.RuneCountInString(d) > maxDescription {
		return "", apperr.Field(op, "description", "description is longer than 500 characters")
	}
	return d, nil
}

// Create makes an active subscription with a fresh secret, shown in this
// response only.
func (s *Service) Create(ctx context.Context, partnerID string, actor event.Actor, in CreateInput) (Subscription, error) {
	const op = "webhook.create"
	u, err := s.validateURL(ctx, op, in.URL)
	if err != nil {
		return Subscription{}, err
	}
	events, err := validateEvents(op, in.Events)
	if err != nil {
		return Subscription{}, err
	}
	desc, err := validateDescription(op, in.Description)
	if err != nil {
		return Subscription{}, err
	}
	orgs, err := validateOrgs(op, in.OrganizationIDs)
	if err != nil {
		return Subscription{}, err
	}
	secret, err := NewSecret()
	if err != nil {
		return Subscription{}, apperr.Wrap(op, err)
	}
	now := s.Now().UTC()
	sub := Subscription{ID: s.NewID("whsub"), URL: u, Events: events, OrganizationIDs: orgs, Description: desc,
		Status: StatusActive, CreatedAt: now, UpdatedAt: now, PartnerID: partnerID, Secrets: []Secret{{Value: secret}}, Version: 1}
	return s.commit(ctx, op, "webhook_subscription.created", "create", now, actor, Subscription{}, sub, secret, s.Store.CreateSubscription)
}

// commit writes a change with its event and answers the subscription as the
// API shows it, with the new secret when the change made one.
func (s *Service) commit(ctx context.Context, op, typ, action string, now time.Time, actor event.Actor, before, after Subscription, secret string,
	write func(context.Context, Subscription, event.Event) error) (Subscription, error) {
	ev, err := s.event(op, typ, now, actor, before.public(now), after.public(now), action)
	if err != nil {
		return Subscription{}, err
	}
	if err := write(ctx, after, ev); err != nil {
		return Subscription{}, err
	}
	out := after.public(now)
	out.Secret = secret
	return out, nil
}

func (s *Service) event(op, typ string, at time.Time, actor event.Actor, before, after Subscription, action string) (event.Event, error) {
	ev, err := subscriptionEvent(s.NewID, typ, at, actor, before, after, action)
	if err != nil {
		return event.Event{}, apperr.Wrap(op, err)
	}
	return ev, nil
}

// Disable returns sub disabled by the system for reason (ReasonGone,
// ReasonFailing) at now, with its TypeDisabled event: the partner's other
// subscriptions that ask for it receive it.
func Disable(sub Subscription, reason string, now time.Time, newID func(string) string) (Subscription, event.Event, error) {
	after := sub
	after.Status, after.DisabledReason, after.UpdatedAt, after.Version = StatusDisabled, reason, now, sub.Version+1
	ev, err := subscriptionEvent(newID, TypeDisabled, now, event.Actor{ID: "system", Type: "system"}, sub.public(now), after.public(now), "disable")
	if err != nil {
		return Subscription{}, event.Event{}, err
	}
	return after, ev, nil
}

// subscriptionEvent builds a subscription's audit event (never delivered as a
// webhook, except TypeDisabled); secrets never appear in it.
func subscriptionEvent(newID func(string) string, typ string, at time.Time, actor event.Actor, before, after Subscription, action string) (event.Event, error) {
	id := after.ID
	var b any
	if before.ID != "" {
		b = before
		id = before.ID
	}
	var a any
	if after.ID != "" {
		a = after
	}
	partner := after.PartnerID
	if partner == "" {
		partner = before.PartnerID
	}
	data := map[string]any{"webhook_subscription_id": id, "webhook_subscription": a}
	if typ == TypeDisabled {
		data["previous_status"], data["current_status"] = before.Status, after.Status
	}
	return event.New(newID("evt"), typ, at, partner, "", actor, data,
		event.Change{ResourceType: "webhook_subscription", ResourceID: id, Action: action, Before: event.Snapshot(b), After: event.Snapshot(a)})
}

// Get returns a subscription of the partner (never its secret).
func (s *Service) Get(ctx context.Context, partnerID, id string) (Subscription, error) {
	sub, err := s.Store.GetSubscription(ctx, partnerID, id)
	if err != nil {
		return Subscription{}, err
	}
	return sub.public(s.Now()), nil
}

// List returns the partner's subscriptions.
func (s *Service) List(ctx context.Context, partnerID string) ([]Subscription, error) {
	subs, err := s.Store.ListSubscriptions(ctx, partnerID)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	for i := range subs {
		subs[i] = subs[i].public(now)
	}
	return subs, nil
}

// Update changes the fields given. Setting status "active" re-enables a
// disabled subscription and forgets its failures; "disabled" stops its
// deliveries (attempts due later fail with "subscription disabled").
func (s *Service) Update(ctx context.Context, partnerID, id string, actor event.Actor, in UpdateInput) (Subscription, error) {
	const op = "webhook.update"
	before, err := s.Store.GetSubscription(ctx, partnerID, id)
	if err != nil {
		return Subscription{}, err
	}
	after := before
	if in.URL != nil {
		if after.URL, err = s.validateURL(ctx, op, *in.URL); err != nil {
			return Subscription{}, err
		}
	}
	if in.Events != nil {
		if after.Events, err = validateEvents(op, *in.Events); err != nil {
			return Subscription{}, err
		}
	}
	if in.Description != nil {
		if after.Description, err = validateDescription(op, *in.Description); err != nil {
			return Subscription{}, err
		}
	}
	if in.OrganizationIDs != nil {
		if after.OrganizationIDs, err = validateOrgs(op, *in.OrganizationIDs); err != nil {
			return Subscription{}, err
		}
	}
	if in.Status != nil {
		switch *in.Status {
		case StatusActive:
			if before.Status != StatusActive {
				after.Status, after.DisabledReason, after.FailingSince = StatusActive, "", nil
			}
		case StatusDisabled:
			if before.Status != StatusDisabled {
				after.Status, after.DisabledReason = StatusDisabled, ""
			}
		default:
			return Subscription{}, apperr.Field(op, "status", `status must be "active" or "disabled"`)
		}
	}
	now := s.Now().UTC()
	after.UpdatedAt = now
	after.Version = before.Version + 1
	return s.commit(ctx, op, "webhook_subscription.updated", "update", now, actor, before, after, "", s.Store.UpdateSubscription)
}

// Delete removes a subscription. Deliveries already queued for it are
// dropped by the dispatcher; its delivery log expires with its retention.
func (s *Service) Delete(ctx context.Context, partnerID, id string, actor event.Actor) error {
	const op = "webhook.delete"
	sub, err := s.Store.GetSubscription(ctx, partnerID, id)
	if err != nil {
		return err
	}
	now := s.Now().UTC()
	ev, err := s.event(op, "webhook_subscription.deleted", now, actor, sub.public(now), Subscription{}, "delete")
	if err != nil {
		return err
	}
	return s.Store.DeleteSubscription(ctx, sub, ev)
}

// RotateSecret issues a new secret. The current one becomes the previous
// secret and keeps signing until the overlap ends (default 24 h, at most 7
// days, 0 to stop it at once); a secret replaced earlier is dropped.
func (s *Service) RotateSecret(ctx context.Context, partnerID, id string, actor event.Actor, in RotateInput) (Subscription, error) {
	const op = "webhook.rotate_secret"
	overlap := DefaultOverlap
	if in.PreviousSecretExpiresIn != nil {
		o := time.Duration(*in.PreviousSecretExpiresIn) * time.Second
		if *in.PreviousSecretExpiresIn < 0 || o > MaxOverlap {
			return Subscription{}, apperr.Field(op, "previous_secret_expires_in", "must be between 0 and 604800 seconds")
		}
		overlap = o
	}
	before, err := s.Store.GetSubscription(ctx, partnerID, id)
	if err != nil {
		return Subscription{}, err
	}
	secret, err := NewSecret()
	if err != nil {
		return Subscription{}, apperr.Wrap(op, err)
	}
	now := s.Now().UTC()
	after := before
	expires := now.Add(overlap)
	after.Secrets = []Secret{{Value: secret}}
	if overlap > 0 && len(before.Secrets) > 0 {
		after.Secrets = append(after.Secrets, Secret{Value: before.Secrets[0].Value, ExpiresAt: &expires})
	}
	after.UpdatedAt = now
	after.Version = before.Version + 1
	return s.commit(ctx, op, "webhook_subscription.secret_rotated", "rotate_secret", now, actor, before, after, secret, s.Store.UpdateSubscription)
}
