package dynamo

import (
	"context"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/refund"
)

// Refunds stores refunds (refund.Store, with the intent and invoice reads
// of their repositories).
//
// A refund is its own partition under its organisation, in the
// organisation's refund list (GSI1, by id: creation order). The intent it
// refunds keeps the reservation (refund_reserved, the amounts of its
// refunds that hold theirs) and the list of its refunds' ids, so the
// invariant "refunds never exceed the payment" is one condition on one
// item, and an intent's refunds are read with it, without an index.
type Refunds struct{ *base }

func refundPK(partnerID, orgID, id string) string { return orgPK(partnerID, orgID) + "#RF#" + id }
func orgRefundsPK(partnerID, orgID string) string { return orgPK(partnerID, orgID) + "#RFS" }

const skRefund = "RF"

type refundItem struct {
	head
	PartnerID    string `json:"partner_id"`
	OrgID        string `json:"organization_id"`
	ProviderID   string `json:"provider_refund_id,omitempty"`
	ProviderCode string `json:"provider_status,omitempty"`
	Awaiting     bool   `json:"awaiting_provider,omitempty"`
	Version      int64  `json:"version"`
	refund.Refund
}

func toRefundItem(r refund.Refund) refundItem {
	return refundItem{head: head{PK: refundPK(r.PartnerID, r.OrgID, r.ID), SK: skRefund, GSI1PK: orgRefundsPK(r.PartnerID, r.OrgID), GSI1SK: r.ID,
		Kind: "refund"}, PartnerID: r.PartnerID, OrgID: r.OrgID, ProviderID: r.ProviderID, ProviderCode: r.ProviderCode, Awaiting: r.Awaiting, Version: r.Version, Refund: r}
}

func (it refundItem) refund() refund.Refund {
	r := it.Refund
	r.PartnerID, r.OrgID, r.ProviderID, r.ProviderCode, r.Awaiting, r.Version = it.PartnerID, it.OrgID, it.ProviderID, it.ProviderCode, it.Awaiting, it.Version
	return r
}

// putRefund adds the write of r on condition that the stored refund is the
// version before r's.
func (t *txn) putRefund(name string, r refund.Refund) {
	t.Put(name, toRefundItem(r), cond{expr: "version = :v", values: map[string]types.AttributeValue{":v": num(r.Version - 1)}})
}

// CreateRefund writes the refund and its event and reserves its amount on
// the intent, in one transaction. The intent's condition is the invariant
// itself — refundable status, reservation + amount ≤ the intent's amount,
// fewer than refund.MaxPerIntent refunds — not the version read, so
// concurrent refunds of one intent do not refuse each other while they fit.
// The bound is the stored amount (pi.Amount must be it), and an intent paid
// before refunds existed, without refund_reserved, is bounded by it too.
// The intent's version moves, so a writer holding an older read (a settle)
// reads it again rather than overwriting the reservation.
func (s *Refunds) CreateRefund(ctx context.Context, pi payment.Intent, r refund.Refund, ev event.Event) error {
	const op = "dynamo.create_refund"
	tx := s.tx()
	tx.Put("refund", toRefundItem(r), ifNew)
	tx.Update("intent", key(intentPK(pi.PartnerID, pi.OrgID, pi.ID), skIntent),
		"SET refund_reserved = if_not_exists(refund_reserved, :zero) + :amount, refund_ids = list_append(if_not_exists(refund_ids, :none), :id), version = version + :one",
		cond{expr: "attribute_exists(PK) AND #status IN (:succeeded, :partial, :refunded) AND #amount = :total" +
			" AND ((attribute_not_exists(refund_reserved) AND #amount >= :amount) OR refund_reserved <= :limit)" +
			" AND (attribute_not_exists(refund_ids) OR size(refund_ids) < :max)",
			names: map[string]string{"#status": "status", "#amount": "amount"},
			values: map[string]types.AttributeValue{
				":zero": num(0), ":amount": num(r.Amount), ":one": num(1), ":limit": num(pi.Amount - r.Amount), ":total": num(pi.Amount),
				":none":      &types.AttributeValueMemberL{Value: []types.AttributeValue{}},
				":id":        &types.AttributeValueMemberL{Value: []types.AttributeValue{str(r.ID)}},
				":max":       num(refund.MaxPerIntent),
				":succeeded": str(payment.IntentSucceeded), ":partial": str(payment.IntentPartiallyRefunded), ":refunded": str(payment.IntentRefunded),
			}})
	tx.Events(ev)
	err := tx.Run(ctx)
	if tx.Failed(err, "intent") || isTransactionConflict(err) {
		return refund.ErrNotRefundable
	}
	if tx.Failed(err, "refund", "event") {
		return apperr.E(op, apperr.Conflict, "refund "+r.ID+" exists already")
	}
	if err != nil {
		return transient(op, err)
	}
	return nil
}

// GetRefund reads one refund with the caller's tenant ids.
func (s *Refunds) GetRefund(ctx context.Context, partnerID, orgID, id string) (refund.Refund, error) {
	return getItem(ctx, s.base, "dynamo.get_refund", refundPK(partnerID, orgID, id), skRefund, "refund not found", refundItem.refund)
}

// ListRefunds pages through the organisation's refunds, oldest first. A
// page costs one Query without filters; filters apply to the items read.
// No total: the list grows without bound, and counting it would read all
// of it (as for invoices).
func (s *Refunds) ListRefunds(ctx context.Context, partnerID, orgID string, q listing.Query, f refund.Filter) (listing.Page[refund.Refund], error) {
	const op = "dynamo.list_refunds"
	var keep func(map[string]types.AttributeValue) bool
	if f != (refund.Filter{}) {
		keep = func(raw map[string]types.AttributeValue) bool {
			var it refundItem
			return unmarshal(raw, &it) == nil && f.Keep(it.refund())
		}
	}
	return listGSI1(ctx, s.base, op, orgRefundsPK(partnerID, orgID), q, keep, false, refundItem.refund)
}

// IntentRefunds reads the intent, then its refunds in one BatchGetItem
// (they are at most refund.MaxPerIntent), oldest first.
func (s *Refunds) IntentRefunds(ctx context.Context, partnerID, orgID, intentID string) (payment.Intent, []refund.Refund, error) {
	const op = "dynamo.intent_refunds"
	pi, err := getItem(ctx, s.base, op, intentPK(partnerID, orgID, intentID), skIntent, "payment intent not found", intentItem.intent)
	if err != nil || len(pi.RefundIDs) == 0 {
		return pi, []refund.Refund{}, err
	}
	keys := make([]map[string]types.AttributeValue, len(pi.RefundIDs))
	for i, id := range pi.RefundIDs {
		keys[i] = key(refundPK(partnerID, orgID, id), skRefund)
	}
	// Strongly consistent: a refund committed with the intent that names it
	// is in the answer (an eventually consistent read may miss it).
	in := &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}}
	byID := make(map[string]refund.Refund, len(keys))
	for len(in.RequestItems) > 0 {
		out, err := s.db.BatchGetItem(ctx, in)
		if err != nil {
			return pi, nil, transient(op, err)
		}
		for _, raw := range out.Responses[s.table] {
			var it refundItem
			if err := unmarshal(raw, &it); err != nil {
				return pi, nil, apperr.Wrap(op, err)
			}
			byID[it.ID] = it.refund()
		}
		in.RequestItems = out.UnprocessedKeys // rare; read what is left
	}
	rs := make([]refund.Refund, 0, len(byID))
	for _, id := range pi.RefundIDs {
		if r, ok := byID[id]; ok {
			rs = append(rs, r)
		}
	}
	if len(rs) != len(pi.RefundIDs) {
		return pi, nil, apperr.Wrap(op, errMissingRefunds(len(pi.RefundIDs)-len(rs)))
	}
	return pi, rs, nil
}

type errMissingRefunds int

func (e errMissingRefunds) Error() string {
	return strconv.Itoa(int(e)) + " refunds named by the intent were not found"
}

// UpdateRefund writes the refund on condition of its version, with its events.
func (s *Refunds) UpdateRefund(ctx context.Context, r refund.Refund, evs []event.Event) error {
	const op = "dynamo.update_refund"
	tx := s.tx()
	tx.putRefund("refund", r)
	tx.Events(evs...)
	err := tx.Run(ctx)
	if tx.Failed(err, "refund") || isTransactionConflict(err) {
		return refund.ErrRefundChanged
	}
	if err != nil {
		return transient(op, err)
	}
	return nil
}

// ReleaseRefund writes a refund that ended without money moving (failed,
// cancelled) and gives its amount back to the intent's reservation, in one
// transaction: the refund's version condition makes the release happen once.
func (s *Refunds) ReleaseRefund(ctx context.Context, r refund.Refund, evs []event.Event) error {
	const op = "dynamo.release_refund"
	tx := s.tx()
	tx.putRefund("refund", r)
	tx.Update("intent", key(intentPK(r.PartnerID, r.OrgID, r.PaymentIntentID), skIntent),
		"SET refund_reserved = refund_reserved - :amount, version = version + :one",
		cond{expr: "refund_reserved >= :amount", values: map[string]types.AttributeValue{":amount": num(r.Amount), ":one": num(1)}})
	tx.Events(evs...)
	err := tx.Run(ctx)
	if tx.Failed(err, "refund") || isTransactionConflict(err) {
		return refund.ErrRefundChanged
	}
	if tx.Failed(err, "intent") {
		// The reservation is below this refund's amount: never written so.
		return apperr.Wrap(op, errReservation(r.PaymentIntentID))
	}
	if err != nil {
		return transient(op, err)
	}
	return nil
}

type errReservation string

func (e errReservation) Error() string {
	return "payment intent " + string(e) + " reserves less than the refund it releases"
}

// SettleRefund writes a succeeded refund, the intent (refunded amount and
// status; the reservation is unchanged: a succeeded refund keeps holding
// its amount) and the invoice (amount paid, status, the due-date index, its
// new credit note), each conditional on the version read, with the events
// and — for a credit note — the move of the year's credit note counter, in
// one transaction.
func (s *Refunds) SettleRefund(ctx context.Context, r refund.Refund, pi payment.Intent, inv invoice.Invoice, credit *invoice.CreditNumber, evs []event.Event) error {
	const op = "dynamo.settle_refund"
	tx := s.tx()
	if credit != nil {
		moveCounter(tx, key(creditSeqPK(inv.PartnerID, inv.OrgID, credit.Year), skSeq), creditCounterKind, credit.Number, credit.Owner)
	}
	tx.putRefund("refund", r)
	tx.putIntent("intent", pi)
	tx.Put("invoice", toInvoiceItem(inv), cond{expr: "version = :v", values: map[string]types.AttributeValue{":v": num(inv.Version - 1)}})
	tx.Events(evs...)
	err := tx.Run(ctx)
	switch {
	case tx.Failed(err, "refund", "event"):
		return refund.ErrRefundChanged
	case tx.Failed(err, "counter"):
		return invoice.ErrNumberTaken
	case tx.Failed(err, "intent", "invoice") || isTransactionConflict(err):
		return refund.ErrChanged
	case err != nil:
		return transient(op, err)
	}
	return nil
}
