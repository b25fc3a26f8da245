package dynamo

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/webhook"
)

// Webhooks stores webhook subscriptions and deliveries (webhook.Store and,
// with Parked, the dispatcher's webhookdispatch.Store).
type Webhooks struct{ *base }

// Subscriptions live in their partner's partition (PK PARTNER#<p>, SK
// WHSUB#<id>), next to a counter item (SK WHSUBS) that bounds their number:
// the router reads a partner's subscriptions with one query. A delivery is
// its own partition (P#<p>#WHD#<id>, the id derived from the subscription
// and the event), listed per subscription in GSI1 by creation time; it
// expires with the log's retention (TTL).
func subSK(id string) string { return "WHSUB#" + id }
func deliveryPK(partnerID, id string) string {
	return "P#" + partnerID + "#WHD#" + id
}
func subDeliveriesPK(partnerID, subID string) string {
	return "P#" + partnerID + "#WHSUB#" + subID + "#WHD"
}

const (
	skSubCounter = "WHSUBS"
	skDelivery   = "WHD"
)

type subItem struct {
	head
	PartnerID string           `json:"partner_id"`
	Secrets   []webhook.Secret `json:"secrets"`
	Version   int64            `json:"version"`
	webhook.Subscription
}

func toSubItem(s webhook.Subscription) subItem {
	s.Secret, s.PreviousSecretExpiresAt = "", nil
	return subItem{head: head{PK: partnerPK(s.PartnerID), SK: subSK(s.ID), Kind: "webhook_subscription"}, PartnerID: s.PartnerID,
		Secrets: s.Secrets, Version: s.Version, Subscription: s}
}

func (it subItem) subscription() webhook.Subscription {
	s := it.Subscription
	s.PartnerID, s.Secrets, s.Version = it.PartnerID, it.Secrets, it.Version
	if s.Events == nil {
		s.Events = []string{}
	}
	if s.OrganizationIDs == nil {
		s.OrganizationIDs = []string{}
	}
	return s
}

// CreateSubscription writes the subscription, counts it (at most
// webhook.MaxSubscriptions), checks each organisation it is narrowed to, and
// publishes its event, in one transaction.
func (s *Webhooks) CreateSubscription(ctx context.Context, sub webhook.Subscription, ev event.Event) error {
	const op = "dynamo.create_subscription"
	tx := s.tx()
	tx.Put("subscription", toSubItem(sub), ifNew)
	tx.Update("counter", key(partnerPK(sub.PartnerID), skSubCounter), "ADD #n :one",
		cond{expr: "attribute_not_exists(#n) OR #n < :max", names: map[string]string{"#n": "count"},
			values: map[string]types.AttributeValue{":one": num(1), ":max": num(webhook.MaxSubscriptions)}})
	return commitSubscription(ctx, op, tx, sub, ev, "counter",
		"a partner may have at most "+strconv.Itoa(webhook.MaxSubscriptions)+" webhook subscriptions; delete one first")
}

// commitSubscription adds a check that each organisation of sub is the
// partner's and ev to tx, and commits it; a failed condition on the item
// named conflict is a Conflict with msg, one on an organisation a 422
// naming it.
func commitSubscription(ctx context.Context, op string, tx *txn, sub webhook.Subscription, ev event.Event, conflict, msg string) error {
	for i, org := range sub.OrganizationIDs {
		tx.checkOrganization(orgParam(i), sub.PartnerID, org)
	}
	tx.Events(ev)
	err := tx.Run(ctx)
	switch {
	case err == nil:
		return nil
	case tx.Failed(err, conflict):
		return apperr.E(op, apperr.Conflict, msg)
	}
	for i := range sub.OrganizationIDs {
		if tx.Failed(err, orgParam(i)) {
			return apperr.Field(op, orgParam(i), "organization not found")
		}
	}
	return transient(op, err)
}

func orgParam(i int) string { return "organization_ids[" + strconv.Itoa(i) + "]" }

// GetSubscription reads one subscription of the partner.
func (s *Webhooks) GetSubscription(ctx context.Context, partnerID, id string) (webhook.Subscription, error) {
	return getItem(ctx, s.base, "dynamo.get_subscription", partnerPK(partnerID), subSK(id), "webhook subscription not found", subItem.subscription)
}

// ListSubscriptions reads every subscription of the partner: one query.
func (s *Webhooks) ListSubscriptions(ctx context.Context, partnerID string) ([]webhook.Subscription, error) {
	return queryAll(ctx, s.base, "dynamo.list_subscriptions", &dynamodb.QueryInput{TableName: aws.String(s.table),
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :sk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(partnerPK(partnerID)), ":sk": str("WHSUB#")},
	}, subItem.subscription)
}

// subscriptionFields are what an update sets (or removes when empty). The
// failure run (failing_since) belongs to the dispatcher and is left alone,
// except when a re-enabled subscription forgets it.
var subscriptionFields = []string{"url", "events", "organization_ids", "description", "status", "disabled_reason", "secrets", "updated_at", "version"}

// UpdateSubscription replaces the subscription's fields on condition that its
// version is the one it was read at, checking its organisations, with its event.
func (s *Webhooks) UpdateSubscription(ctx context.Context, sub webhook.Subscription, ev event.Event) error {
	const op = "dynamo.update_subscription"
	item, err := marshal(toSubItem(sub))
	if err != nil {
		return apperr.Wrap(op, err)
	}
	names := map[string]string{}
	values := map[string]types.AttributeValue{":prev": num(sub.Version - 1)}
	var set, remove []string
	for i, f := range subscriptionFields {
		n := "#f" + strconv.Itoa(i)
		names[n] = f
		if v, ok := item[f]; ok {
			values[":v"+strconv.Itoa(i)] = v
			set = append(set, n+" = :v"+strconv.Itoa(i))
		} else {
			remove = append(remove, n)
		}
	}
	if sub.Status == webhook.StatusActive && sub.FailingSince == nil {
		names["#fs"] = "failing_since"
		remove = append(remove, "#fs")
	}
	expr := "SET " + strings.Join(set, ", ")
	if len(remove) > 0 {
		expr += " REMOVE " + strings.Join(remove, ", ")
	}
	names["#version"] = "version"
	tx := s.tx()
	tx.Update("subscription", key(partnerPK(sub.PartnerID), subSK(sub.ID)), expr, cond{expr: "#version = :prev", names: names, values: values})
	return commitSubscription(ctx, op, tx, sub, ev, "subscription", "the webhook subscription changed meanwhile; read it again")
}

// DeleteSubscription removes the subscription and uncounts it, with its event.
func (s *Webhooks) DeleteSubscription(ctx context.Context, sub webhook.Subscription, ev event.Event) error {
	const op = "dynamo.delete_subscription"
	tx := s.tx()
	tx.Delete("subscription", key(partnerPK(sub.PartnerID), subSK(sub.ID)), ifExists)
	tx.Update("counter", key(partnerPK(sub.PartnerID), skSubCounter), "ADD #n :minus",
		cond{names: map[string]string{"#n": "count"}, values: map[string]types.AttributeValue{":minus": num(-1)}})
	tx.Events(ev)
	err := tx.Run(ctx)
	if tx.Failed(err, "subscription") {
		return apperr.E(op, apperr.NotFound, "webhook subscription not found")
	}
	if err != nil {
		return transient(op, err)
	}
	return nil
}

// MarkFailing starts the subscription's failure run, unless one is running.
func (s *Webhooks) MarkFailing(ctx context.Context, partnerID, subID string, since time.Time) error {
	return s.failing(ctx, partnerID, subID, "SET failing_since = :t", "attribute_exists(PK) AND attribute_not_exists(failing_since)",
		map[string]types.AttributeValue{":t": str(since.UTC().Format(time.RFC3339Nano))})
}

// ClearFailing ends the subscription's failure run.
func (s *Webhooks) ClearFailing(ctx context.Context, partnerID, subID string) error {
	return s.failing(ctx, partnerID, subID, "REMOVE failing_since", "attribute_exists(failing_since)", nil)
}

func (s *Webhooks) failing(ctx context.Context, partnerID, subID, update, cond string, values map[string]types.AttributeValue) error {
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: key(partnerPK(partnerID), subSK(subID)),
		UpdateExpression: aws.String(update), ConditionExpression: aws.String(cond), ExpressionAttributeValues: values})
	if err == nil || checkFailed(err) {
		return nil // already in that state, or deleted meanwhile
	}
	return transient("dynamo.subscription_failing", err)
}

// deliveryItem is one delivery. lease_until is a sortable time string, so
// the acquisition's condition compares it with now.
type deliveryItem struct {
	head
	ID             string            `json:"id"`
	PartnerID      string            `json:"partner_id"`
	SubscriptionID string            `json:"webhook_subscription_id"`
	EventID        string            `json:"event_id"`
	EventType      string            `json:"event_type"`
	OrgID          string            `json:"organization_id,omitempty"`
	EventAt        time.Time         `json:"event_at"`
	Status         string            `json:"status"`
	AttemptCount   int               `json:"attempt_count"`
	NextAttemptAt  *time.Time        `json:"next_attempt_at,omitempty"`
	Attempts       []webhook.Attempt `json:"attempts"`
	Payload        string            `json:"payload"`
	LeaseUntil     string            `json:"lease_until,omitempty"`
	LeaseOwner     string            `json:"lease_owner,omitempty"`
	CreatedAt      time.Time         `json:"created_at"`
	UpdatedAt      time.Time         `json:"updated_at"`
}

func deliveryGSI1SK(created time.Time, id string) string {
	return created.UTC().Format(sortableTime) + "#" + id
}

func toDeliveryItem(d webhook.Delivery) deliveryItem {
	if d.Attempts == nil {
		d.Attempts = []webhook.Attempt{}
	}
	return deliveryItem{head: head{PK: deliveryPK(d.PartnerID, d.ID), SK: skDelivery,
		GSI1PK: subDeliveriesPK(d.PartnerID, d.SubscriptionID), GSI1SK: deliveryGSI1SK(d.CreatedAt, d.ID),
		Kind: "webhook_delivery", TTL: d.CreatedAt.Add(webhook.Retention).Unix()}, ID: d.ID, PartnerID: d.PartnerID,
		SubscriptionID: d.SubscriptionID, EventID: d.EventID, EventType: d.EventType, OrgID: d.OrganizationID, EventAt: d.EventAt,
		Status: d.Status, AttemptCount: d.AttemptCount, NextAttemptAt: d.NextAttemptAt, Attempts: d.Attempts, Payload: string(d.Payload),
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

func (it deliveryItem) delivery() webhook.Delivery {
	d := webhook.Delivery{ID: it.ID, SubscriptionID: it.SubscriptionID, EventID: it.EventID, EventType: it.EventType,
		OrganizationID: it.OrgID, Status: it.Status, AttemptCount: it.AttemptCount, NextAttemptAt: it.NextAttemptAt,
		Attempts: it.Attempts, Payload: json.RawMessage(it.Payload), CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt,
		PartnerID: it.PartnerID, EventAt: it.EventAt}
	if d.Attempts == nil {
		d.Attempts = []webhook.Attempt{}
	}
	if d.Status != webhook.DeliveryPending {
		d.NextAttemptAt = nil
	}
	if t, err := time.Parse(sortableTime, it.LeaseUntil); err == nil && it.LeaseUntil != "" {
		d.LeaseUntil = &t
	}
	return d
}

// GetDelivery reads one delivery of the partner.
func (s *Webhooks) GetDelivery(ctx context.Context, partnerID, id string) (webhook.Delivery, error) {
	return getItem(ctx, s.base, "dynamo.get_delivery", deliveryPK(partnerID, id), skDelivery, "webhook delivery not found", deliveryItem.delivery)
}

// ListDeliveries pages through a subscription's deliveries, newest first;
// the dates bound the index's sort key, status and event type filter what
// is read.
func (s *Webhooks) ListDeliveries(ctx context.Context, partnerID, subID string, q listing.Query, f webhook.DeliveryFilter) (listing.Page[webhook.Delivery], error) {
	const op = "dynamo.list_deliveries"
	pk := subDeliveriesPK(partnerID, subID)
	cond := "GSI1PK = :pk"
	values := map[string]types.AttributeValue{":pk": str(pk)}
	lo, hi := "", "~"
	if !f.From.IsZero() {
		lo = f.From.UTC().Format(sortableTime)
	}
	if !f.To.IsZero() {
		hi = f.To.UTC().Format(sortableTime) + "#~"
	}
	if lo != "" || hi != "~" {
		cond += " AND GSI1SK BETWEEN :lo AND :hi"
		values[":lo"], values[":hi"] = str(lo), str(hi)
	}
	var keep func(map[string]types.AttributeValue) bool
	if f.Status != "" || f.EventType != "" {
		keep = func(raw map[string]types.AttributeValue) bool {
			st, _ := raw["status"].(*types.AttributeValueMemberS)
			et, _ := raw["event_type"].(*types.AttributeValueMemberS)
			return (f.Status == "" || (st != nil && st.Value == f.Status)) && (f.EventType == "" || (et != nil && et.Value == f.EventType))
		}
	}
	items, next, _, err := s.queryPage(ctx, dynamodb.QueryInput{IndexName: aws.String(indexGSI1), KeyConditionExpression: aws.String(cond),
		ExpressionAttributeValues: values, ScanIndexForward: aws.Bool(false)}, attrGSI1PK, pk, q, keep, false)
	if err != nil {
		return listing.Page[webhook.Delivery]{}, err
	}
	page := listing.Page[webhook.Delivery]{Items: make([]webhook.Delivery, 0, len(items)), Next: next, Total: -1}
	for _, raw := range items {
		var it deliveryItem
		if err := unmarshal(raw, &it); err != nil {
			return page, apperr.Wrap(op, err)
		}
		page.Items = append(page.Items, it.delivery())
	}
	return page, nil
}

// CreateDelivery writes a new pending delivery with its event.
func (s *Webhooks) CreateDelivery(ctx context.Context, d webhook.Delivery, ev event.Event) error {
	const op = "dynamo.create_delivery"
	tx := s.tx()
	tx.Put("delivery", toDeliveryItem(d), ifNew)
	tx.Events(ev)
	err := tx.Run(ctx)
	if tx.Failed(err, "delivery") {
		return apperr.E(op, apperr.Conflict, "the delivery exists already")
	}
	if err != nil {
		return transient(op, err)
	}
	return nil
}

// RequestRetry moves a failed delivery back to pending, with its event.
func (s *Webhooks) RequestRetry(ctx context.Context, d webhook.Delivery, ev event.Event) error {
	const op = "dynamo.request_retry"
	next, err := attributevalue.Marshal(d.NextAttemptAt)
	if err != nil {
		return apperr.Wrap(op, err)
	}
	tx := s.tx()
	tx.Update("delivery", key(deliveryPK(d.PartnerID, d.ID), skDelivery), "SET #st = :pending, next_attempt_at = :next, updated_at = :now",
		cond{expr: "#st = :failed AND attempt_count = :n", names: map[string]string{"#st": "status"},
			values: map[string]types.AttributeValue{":pending": str(webhook.DeliveryPending), ":failed": str(webhook.DeliveryFailed),
				":next": next, ":now": str(d.UpdatedAt.UTC().Format(time.RFC3339Nano)), ":n": num(int64(d.AttemptCount))}})
	tx.Events(ev)
	err = tx.Run(ctx)
	if tx.Failed(err, "delivery") {
		return apperr.E(op, apperr.Conflict, "the delivery changed meanwhile (another retry?); read it again")
	}
	if err != nil {
		return transient(op, err)
	}
	return nil
}

// AcquireAttempt takes attempt m.Attempt of its delivery (see
// webhookdispatch.Store): one conditional UpdateItem, which also creates the
// delivery on its first attempt.
func (s *Webhooks) AcquireAttempt(ctx context.Context, m webhook.Message, owner string, now, leaseUntil time.Time) (webhook.Delivery, bool, error) {
	const op = "dynamo.acquire_attempt"
	id := webhook.DeliveryID(m.SubscriptionID, m.EventID)
	k := key(deliveryPK(m.PartnerID, id), skDelivery)
	ts := func(t time.Time) types.AttributeValue { return str(t.UTC().Format(time.RFC3339Nano)) }
	values := map[string]types.AttributeValue{
		":pending": str(webhook.DeliveryPending), ":n": num(int64(m.Attempt)), ":prev": num(int64(m.Attempt - 1)),
		":lease": str(leaseUntil.UTC().Format(sortableTime)), ":now_s": str(now.UTC().Format(sortableTime)), ":owner": str(owner),
		":now": ts(now), ":kind": str("webhook_delivery"), ":id": str(id), ":p": str(m.PartnerID), ":sub": str(m.SubscriptionID),
		":ev": str(m.EventID), ":et": str(m.EventType), ":at": ts(m.EventAt), ":payload": str(m.Payload),
		":empty": &types.AttributeValueMemberL{Value: []types.AttributeValue{}},
		":g1pk":  str(subDeliveriesPK(m.PartnerID, m.SubscriptionID)), ":g1sk": str(deliveryGSI1SK(now, id)),
		":ttl": num(now.Add(webhook.Retention).Unix()),
	}
	set := []string{"#st = if_not_exists(#st, :pending)", "attempt_count = :n", "lease_until = :lease", "lease_owner = :owner", "updated_at = :now",
		"kind = if_not_exists(kind, :kind)", "id = if_not_exists(id, :id)", "partner_id = if_not_exists(partner_id, :p)",
		"webhook_subscription_id = if_not_exists(webhook_subscription_id, :sub)", "event_id = if_not_exists(event_id, :ev)",
		"event_type = if_not_exists(event_type, :et)", "event_at = if_not_exists(event_at, :at)", "payload = if_not_exists(payload, :payload)",
		"attempts = if_not_exists(attempts, :empty)", "created_at = if_not_exists(created_at, :now)",
		"GSI1PK = if_not_exists(GSI1PK, :g1pk)", "GSI1SK = if_not_exists(GSI1SK, :g1sk)", "#ttl = if_not_exists(#ttl, :ttl)"}
	if m.OrgID != "" {
		values[":org"] = str(m.OrgID)
		set = append(set, "organization_id = if_not_exists(organization_id, :org)")
	}
	cond := "#st = :pending AND ((attempt_count = :prev AND attribute_not_exists(lease_until)) OR (attempt_count = :n AND lease_until < :now_s))"
	if m.Attempt == 1 {
		cond = "attribute_not_exists(PK) OR (" + cond + ")"
	}
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: k,
		UpdateExpression: aws.String("SET " + strings.Join(set, ", ")), ConditionExpression: aws.String(cond),
		ExpressionAttributeNames:  map[string]string{"#st": "status", "#ttl": attrTTL},
		ExpressionAttributeValues: values, ReturnValues: types.ReturnValueAllNew})
	if err == nil {
		var it deliveryItem
		if err := unmarshal(out.Attributes, &it); err != nil {
			return webhook.Delivery{}, false, apperr.Wrap(op, err)
		}
		return it.delivery(), true, nil
	}
	if !checkFailed(err) {
		return webhook.Delivery{}, false, transient(op, err)
	}
	got, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return webhook.Delivery{}, false, transient(op, err)
	}
	if got.Item == nil {
		return webhook.Delivery{}, false, nil
	}
	var it deliveryItem
	if err := unmarshal(got.Item, &it); err != nil {
		return webhook.Delivery{}, false, apperr.Wrap(op, err)
	}
	return it.delivery(), false, nil
}

// FinishAttempt appends the attempt, sets the status (and the next
// attempt's time) and releases the lease, if the lease is still owner's.
func (s *Webhooks) FinishAttempt(ctx context.Context, d webhook.Delivery, owner string, a webhook.Attempt, status string, next *time.Time, now time.Time) error {
	const op = "dynamo.finish_attempt"
	att, err := marshal(a)
	if err != nil {
		return apperr.Wrap(op, err)
	}
	values := map[string]types.AttributeValue{":st": str(status), ":a": &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberM{Value: att}}},
		":now": str(now.UTC().Format(time.RFC3339Nano)), ":owner": str(owner)}
	expr := "SET #st = :st, attempts = list_append(attempts, :a), updated_at = :now"
	remove := " REMOVE lease_until, lease_owner"
	if next != nil {
		values[":next"] = str(next.UTC().Format(time.RFC3339Nano))
		expr += ", next_attempt_at = :next"
	} else {
		remove += ", next_attempt_at"
	}
	_, err = s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: key(deliveryPK(d.PartnerID, d.ID), skDelivery),
		UpdateExpression: aws.String(expr + remove), ConditionExpression: aws.String("lease_owner = :owner"),
		ExpressionAttributeNames: map[string]string{"#st": "status"}, ExpressionAttributeValues: values})
	if checkFailed(err) {
		return apperr.E(op, apperr.Conflict, "the delivery's lease was lost")
	}
	if err != nil {
		return transient(op, err)
	}
	return nil
}
