// Package webhook is the partners' webhooks: subscriptions (an endpoint, the
// events it wants, a signing secret), and the delivery of every committed
// event to every subscription that wants it, signed, retried on a schedule,
// logged attempt by attempt and replayable. It knows nothing of HTTP,
// Lambda or DynamoDB: the store is an interface, and the consumer of the
// webhook queue that POSTs to endpoints is package webhookdispatch.
//
// The path of an event: a service commits a change and its event in one
// transaction (package event); the table's stream carries the event to the
// router, which sends one message per (event, subscription) to the webhook
// queue (Fanout); the dispatcher (webhookdispatch) takes the delivery's lease,
// POSTs the payload, records the attempt and, on a retryable failure, sends
// itself the next attempt with a delay.
package webhook

import "slices"

// Catalogue is every event type a subscription may ask for, besides "*".
var Catalogue = []string{
	"invoice.created",
	"invoice.status_changed",
	"payment_link.created",
	"payment_link.expired",
	"payment_intent.status_changed",
	"refund.created",
	"refund.status_changed",
	// A refund in requires_action waits for something else: the payer
	// connected the account to refund (next_action pay_payer_account), or
	// the flow to collect it closed unused.
	"refund.next_action_changed",
	"organization.created",
	"department.created",
	"bank_account.created",
	// The default account moved; the payout account (the account payments
	// go to) moved; an account's verification was decided.
	"bank_account.default_changed",
	"bank_account.payout_changed",
	"bank_account.status_changed",
	"kyc.status_changed",
	// Seed 003's payment orders and their portfolios.
	"payment_order.created",
	"payment_order.updated",
	"payment_order.status_changed",
	// The first of two approvals under a maker-checker policy: the order
	// stays PENDING.
	"payment_order.approval_recorded",
	// An order executed through Aiia waits for its account holder's
	// authorisation at the bank (data.authorizationUrl).
	"payment_order.authorization_required",
	"payment_order.deleted",
	"portfolio.created",
	"portfolio.updated",
	"portfolio.funded",
	// A subscription disabled after failing continuously (or answering 410):
	// delivered to the partner's other subscriptions that ask for it.
	"webhook_subscription.disabled",
}

// Event types of the webhook module itself.
const (
	// TypeTest is the signed ping POST /v1/webhook_subscriptions/{id}/test
	// sends, to that subscription only, whatever its events.
	TypeTest = "webhook_subscription.test"
	// TypeRetryRequested records a manual retry (audit) and carries it to
	// the dispatcher through the outbox; it is never delivered as a webhook.
	TypeRetryRequested = "webhook_delivery.retry_requested"
	TypeDisabled       = "webhook_subscription.disabled"
	// All matches every type of the catalogue, present and future.
	All = "*"
)

// Deliverable says whether events of type t go to subscriptions at all.
func Deliverable(t string) bool { return slices.Contains(Catalogue, t) }
