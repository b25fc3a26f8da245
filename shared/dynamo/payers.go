package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/datasubject"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/listing"
)

// The payer index: one organisation's invoices of one payer, found by Query
// rather than by reading every invoice (the GDPR routes, package
// datasubject). A payer is a partition under its organisation, keyed by the
// hash of the email (invoice.EmailHash), never the address itself:
//
//	PK=P#<partner>#O#<org>#PAYER#<sha256>, SK=I#<invoice_id>   one per invoice
//	PK=P#<partner>#O#<org>#PAYER#<sha256>, SK=ERASED            the last erasure
//
// An invoice's entry is written in the transaction that creates the invoice
// or changes its payer's email (the entry moves to the new hash), and
// deleted in the transaction that erases the payer: the index holds exactly
// the invoices whose payer still has personal data. Invoices created before
// the index existed are added by `operator payer-index-backfill`.
func payerPK(partnerID, orgID, hash string) string {
	return orgPK(partnerID, orgID) + "#PAYER#" + hash
}

const (
	pfxPayerInvoice = "I#"
	skErased        = "ERASED"
)

type payerEntryItem struct {
	head
	InvoiceID string `json:"invoice_id"`
}

func toPayerEntryItem(inv invoice.Invoice) payerEntryItem {
	return payerEntryItem{head: head{PK: payerPK(inv.PartnerID, inv.OrgID, invoice.EmailHash(inv.Payer.Email)), SK: pfxPayerInvoice + inv.ID,
		Kind: "payer_index"}, InvoiceID: inv.ID}
}

// indexed says whether inv belongs in the payer index.
func indexed(inv invoice.Invoice) bool {
	return inv.ID != "" && inv.Payer.Email != "" && inv.Payer.ErasedAt == nil
}

// indexPayer adds to the transaction the payer index's change from before
// (zero for a new invoice) to after: nothing when the indexed payer stays
// the same, else the old entry's deletion and the new one's put.
func (t *txn) indexPayer(before, after invoice.Invoice) {
	if indexed(before) && indexed(after) && invoice.EmailHash(before.Payer.Email) == invoice.EmailHash(after.Payer.Email) {
		return
	}
	if indexed(before) {
		it := toPayerEntryItem(before)
		t.Delete("payer_index_old", key(it.PK, it.SK), cond{})
	}
	if indexed(after) {
		t.Put("payer_index", toPayerEntryItem(after), cond{})
	}
}

// PayerInvoices pages through the ids of the organisation's invoices whose
// payer's email hashes to hash, oldest first; the total is counted (the
// partition holds one payer's invoices only). Cursors are bound to the
// partition, so to the tenant and the payer.
func (s *Invoices) PayerInvoices(ctx context.Context, partnerID, orgID, hash string, q listing.Query) (listing.Page[string], error) {
	const op = "dynamo.payer_invoices"
	pk := payerPK(partnerID, orgID, hash)
	items, next, total, err := s.queryPage(ctx, dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("PK = :pk AND begins_with(SK, :i)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":i": str(pfxPayerInvoice)},
	}, attrPK, pk, q, nil, true)
	if err != nil {
		return listing.Page[string]{}, err
	}
	page := listing.Page[string]{Items: make([]string, 0, len(items)), Next: next, Total: total}
	for _, raw := range items {
		var it payerEntryItem
		if err := unmarshal(raw, &it); err != nil {
			return page, apperr.Wrap(op, err)
		}
		page.Items = append(page.Items, it.InvoiceID)
	}
	return page, nil
}

// IndexPayers adds the payer index entries of invoices written before the
// index existed (the operator's backfill): one conditional put each, so an
// entry already there — written since by the invoice's own transaction —
// is left alone, and running it twice changes nothing. Invoices whose payer
// was erased, or without an email, have no entry. It returns how many it
// added.
func (s *Invoices) IndexPayers(ctx context.Context, invs []invoice.Invoice) (int, error) {
	const op = "dynamo.index_payers"
	added := 0
	for _, inv := range invs {
		if !indexed(inv) {
			continue
		}
		item, err := marshal(toPayerEntryItem(inv))
		if err != nil {
			return added, apperr.Wrap(op, err)
		}
		_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: item, ConditionExpression: aws.String("attribute_not_exists(PK)")})
		switch {
		case checkFailed(err):
		case err != nil:
			return added, transient(op, err)
		default:
			added++
		}
	}
	return added, nil
}

type erasureItem struct {
	head
	datasubject.Erasure
}

// LastErasure reads the record of the payer's last erasure; NotFound when
// the payer was never erased in that organisation.
func (s *Invoices) LastErasure(ctx context.Context, partnerID, orgID, hash string) (datasubject.Erasure, error) {
	return getItem(ctx, s.base, "dynamo.last_erasure", payerPK(partnerID, orgID, hash), skErased, "no erasure of this payer",
		func(it erasureItem) datasubject.Erasure { return it.Erasure })
}

// ErasePayer commits one chunk of an erasure (datasubject.Chunk): each
// scrubbed intent, refund and link on condition of its version; each
// anonymised invoice on condition of the version read, with its payer
// index entry removed; the erasure record; the event — one transaction, at
// most datasubject.MaxChunkItems items. A concurrent change of any of them
// cancels the whole chunk.
func (s *Invoices) ErasePayer(ctx context.Context, c datasubject.Chunk) error {
	const op = "dynamo.erase_payer"
	tx := s.tx()
	for _, pi := range c.Intents {
		tx.putIntent("intent", pi)
	}
	for _, r := range c.Refunds {
		tx.putRefund("refund", r)
	}
	for _, l := range c.Links {
		tx.Put("link", toLinkItem(l), cond{expr: "version = :v", values: map[string]types.AttributeValue{":v": num(l.Version - 1)}})
	}
	for _, pair := range c.Invoices {
		before, after := pair[0], pair[1]
		tx.Put("invoice", toInvoiceItem(after), cond{expr: "version = :v", values: map[string]types.AttributeValue{":v": num(before.Version)}})
		tx.indexPayer(before, after)
	}
	if c.Record != nil {
		tx.Put("erasure", erasureItem{head: head{PK: payerPK(c.Record.PartnerID, c.Record.OrgID, c.Record.EmailHash), SK: skErased, Kind: "payer_erasure"},
			Erasure: *c.Record}, cond{})
	}
	tx.Events(c.Event)
	err := tx.Run(ctx)
	if tx.Failed(err, "invoice", "intent", "refund", "link") || isTransactionConflict(err) {
		return datasubject.ErrChanged
	}
	if err != nil {
		return transient(op, err)
	}
	return nil
}
