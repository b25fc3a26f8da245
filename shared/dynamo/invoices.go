package dynamo

import (
	"context"
	"errors"
	"hash/fnv"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/listing"
)

// Invoices stores invoices and their numbering counters (invoice.Store,
// with the department and organisation reads of their repositories).
type Invoices struct{ *base }

// An invoice is its own partition under its organisation; the organisation's
// list is GSI1 (by id: creation order). Open invoices (issued or partially
// paid) are also in GSI2, the sparse due-date index the overdue schedule
// reads: GSI2PK spreads them over dueShards partitions, GSI2SK is
// "<due_date>#<invoice id>", and both attributes are removed when the invoice
// leaves those statuses — so the index holds only what may become overdue.
// Numbers come from one counter per organisation and year, moved in the
// transaction that writes the invoice.
func invoicePK(partnerID, orgID, id string) string { return orgPK(partnerID, orgID) + "#I#" + id }
func orgInvoicesPK(partnerID, orgID string) string {
	return orgPK(partnerID, orgID) + "#INVS"
}
func invoiceSeqPK(partnerID, orgID, year string) string {
	return orgPK(partnerID, orgID) + "#INVSEQ#" + year
}

const (
	skInvoice  = "INV"
	skSeq      = "SEQ"
	attrGSI2PK = "GSI2PK"
	attrGSI2SK = "GSI2SK"
	indexGSI2  = "GSI2"
	dueShards  = 8
)

func dueShard(invoiceID string) string {
	h := fnv.New32a()
	h.Write([]byte(invoiceID))
	return "DUE#" + strconv.Itoa(int(h.Sum32()%dueShards))
}

type invoiceItem struct {
	head
	PartnerID string   `json:"partner_id"`
	Version   int64    `json:"version"`
	InLinks   int64    `json:"amount_in_links"`
	Documents int64    `json:"documents_version,omitempty"`
	Lacked    []string `json:"documents_lacked,omitempty"`
	invoice.Invoice
}

func toInvoiceItem(inv invoice.Invoice) invoiceItem {
	it := invoiceItem{head: head{PK: invoicePK(inv.PartnerID, inv.OrgID, inv.ID), SK: skInvoice, GSI1PK: orgInvoicesPK(inv.PartnerID, inv.OrgID), GSI1SK: inv.ID,
		Kind: "invoice"}, PartnerID: inv.PartnerID, Version: inv.Version, InLinks: inv.AmountInLinks, Documents: inv.DocumentsVersion,
		Lacked: inv.DocumentsLacked, Invoice: inv}
	if inv.Status == invoice.StatusIssued || inv.Status == invoice.StatusPartiallyPaid {
		it.GSI2PK, it.GSI2SK = dueShard(inv.ID), inv.DueDate+"#"+inv.ID
	}
	return it
}

func (it invoiceItem) invoice() invoice.Invoice {
	inv := it.Invoice
	inv.PartnerID, inv.Version, inv.AmountInLinks, inv.DocumentsVersion, inv.DocumentsLacked = it.PartnerID, it.Version, it.InLinks, it.Documents, it.Lacked
	return inv
}

// CreationContext reads the organisation, the department and the year's
// counter in one BatchGetItem.
func (s *Invoices) CreationContext(ctx context.Context, partnerID, orgID, deptID, year string) (invoice.CreationContext, error) {
	const op = "dynamo.invoice_creation_context"
	keys := []map[string]types.AttributeValue{key(orgPK(partnerID, orgID), skOrg), key(deptPK(partnerID, deptID), skDept), key(invoiceSeqPK(partnerID, orgID, year), skSeq)}
	in := &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}}
	var cc invoice.CreationContext
	foundOrg := false
	for len(in.RequestItems) > 0 {
		out, err := s.db.BatchGetItem(ctx, in)
		if err != nil {
			return cc, transient(op, err)
		}
		for _, raw := range out.Responses[s.table] {
			sk, _ := raw[attrSK].(*types.AttributeValueMemberS)
			switch {
			case sk == nil:
			case sk.Value == skOrg:
				var it orgItem
				if err := unmarshal(raw, &it); err != nil {
					return cc, apperr.Wrap(op, err)
				}
				cc.Org, foundOrg = it.organization(), true
			case sk.Value == skDept:
				var it deptItem
				if err := unmarshal(raw, &it); err != nil {
					return cc, apperr.Wrap(op, err)
				}
				if d := it.department(); d.OrgID == orgID {
					cc.Department = &d
				}
			case sk.Value == skSeq:
				if n, ok := raw["last"].(*types.AttributeValueMemberN); ok {
					last, err := strconv.ParseInt(n.Value, 10, 64)
					if err != nil {
						return cc, apperr.Wrap(op, err)
					}
					cc.LastNumber = last
				}
			}
		}
		in.RequestItems = out.UnprocessedKeys
	}
	if !foundOrg {
		return cc, apperr.OrganizationNotFound(op)
	}
	return cc, nil
}

// CreateInvoice moves the counter from number-1 to number and writes the
// invoice and its event, in one transaction.
func (s *Invoices) CreateInvoice(ctx context.Context, inv invoice.Invoice, year string, number int64, ev event.Event) error {
	const op = "dynamo.create_invoice"
	tx := s.tx()
	moveCounter(tx, key(invoiceSeqPK(inv.PartnerID, inv.OrgID, year), skSeq), "invoice_counter", number, "")
	tx.Put("invoice", toInvoiceItem(inv), ifNew)
	tx.indexPayer(invoice.Invoice{}, inv)
	tx.Events(ev)
	err := tx.Run(ctx)
	switch {
	case tx.Failed(err, "invoice"):
		// This invoice's id exists: an earlier attempt of this very
		// creation committed, its answer lost (the SDK retried it).
		return invoice.ErrCreated
	case tx.Failed(err, "counter"):
		return invoice.ErrNumberTaken
	case isTransactionConflict(err):
		return invoice.ErrNumberTaken // another creation holds the counter right now
	case err != nil:
		return transient(op, err)
	}
	return nil
}

// GetInvoice reads one invoice with the caller's tenant ids.
func (s *Invoices) GetInvoice(ctx context.Context, partnerID, orgID, id string) (invoice.Invoice, error) {
	const op = "dynamo.get_invoice"
	return getItem(ctx, s.base, op, invoicePK(partnerID, orgID, id), skInvoice, "invoice not found", invoiceItem.invoice)
}

// ListInvoices pages through an organisation's invoices. Without filters a
// page costs one Query (with the cursor) whatever the number of invoices;
// filters are applied to the items read, so a narrow filter reads further.
func (s *Invoices) ListInvoices(ctx context.Context, partnerID, orgID string, q listing.Query, f invoice.Filter) (listing.Page[invoice.Invoice], error) {
	const op = "dynamo.list_invoices"
	pk := orgInvoicesPK(partnerID, orgID)
	var keep func(map[string]types.AttributeValue) bool
	if !f.Empty() {
		keep = func(raw map[string]types.AttributeValue) bool {
			var it invoiceItem
			if unmarshal(raw, &it) != nil {
				return false
			}
			inv := it.Invoice
			return (f.Status == "" || inv.Status == f.Status) &&
				(f.DepartmentID == "" || inv.DepartmentID == f.DepartmentID) &&
				(f.PayerEmail == "" || strings.EqualFold(inv.Payer.Email, f.PayerEmail)) &&
				(f.DueFrom == "" || inv.DueDate >= f.DueFrom) && (f.DueTo == "" || inv.DueDate <= f.DueTo) &&
				(f.CreatedFrom.IsZero() || !inv.CreatedAt.Before(f.CreatedFrom)) && (f.CreatedTo.IsZero() || !inv.CreatedAt.After(f.CreatedTo))
		}
	}
	// No total: counting an organisation's invoices would read all of them.
	return listGSI1(ctx, s.base, op, pk, q, keep, false, invoiceItem.invoice)
}

// UpdateInvoice replaces the invoice on condition that it is still as read
// (version and status), with its event; the due-date index attributes follow
// the new status.
func (s *Invoices) UpdateInvoice(ctx context.Context, before, after invoice.Invoice, ev event.Event) error {
	const op = "dynamo.update_invoice"
	tx := s.tx()
	tx.Put("invoice", toInvoiceItem(after), cond{expr: "version = :v AND #status = :s", names: map[string]string{"#status": "status"},
		values: map[string]types.AttributeValue{":v": num(before.Version), ":s": str(before.Status)}})
	tx.indexPayer(before, after)
	tx.Events(ev)
	err := tx.Run(ctx)
	if tx.Failed(err, "invoice") || isTransactionConflict(err) {
		return apperr.E(op, apperr.Conflict, "the invoice was changed by another request; read it again and retry")
	}
	if err != nil {
		return transient(op, err)
	}
	return nil
}

// moveCounter adds to tx, as "counter", the move of a numbering counter
// from number − 1 to number (created at 1): the number is taken only if no
// one took it since it was read. With an owner, only by the holder of the
// counter's lease (a credit note series), which the move gives back.
func moveCounter(tx *txn, k map[string]types.AttributeValue, kind string, number int64, owner string) {
	c := cond{expr: "attribute_not_exists(#last)", names: map[string]string{"#last": "last"},
		values: map[string]types.AttributeValue{":n": num(number), ":kind": str(kind)}}
	if number != 1 {
		c.expr = "#last = :prev"
		c.values[":prev"] = num(number - 1)
	}
	update := "SET #last = :n, kind = :kind"
	if owner != "" {
		c.expr += " AND lease_owner = :o"
		c.values[":o"] = str(owner)
		update += " REMOVE lease_owner, lease_until"
	}
	tx.Update("counter", k, update, c)
}

// creditCounterKind is the kind of a credit note series' counter item.
const creditCounterKind = "credit_note_counter"

// creditSeqPK is the organisation's credit note counter for a year.
func creditSeqPK(partnerID, orgID, year string) string {
	return orgPK(partnerID, orgID) + "#CNSEQ#" + year
}

// AcquireCreditSeries takes the lease on the organisation's credit note
// series for the year, for owner until until (wall time), and answers the
// last number taken (0 when none yet): one conditional UpdateItem, that
// succeeds when no one holds the lease, it has expired, or owner holds it
// already. Held by another: invoice.ErrCreditSeriesBusy.
func (s *Invoices) AcquireCreditSeries(ctx context.Context, partnerID, orgID, year, owner string, until time.Time) (int64, error) {
	const op = "dynamo.acquire_credit_series"
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: key(creditSeqPK(partnerID, orgID, year), skSeq),
		UpdateExpression:          aws.String("SET lease_owner = :o, lease_until = :u, kind = :kind"),
		ConditionExpression:       aws.String("attribute_not_exists(lease_until) OR lease_until < :now OR lease_owner = :o"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":o": str(owner), ":u": num(until.UnixMilli()), ":now": num(time.Now().UnixMilli()), ":kind": str(creditCounterKind)},
		ReturnValues:              types.ReturnValueAllNew})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return 0, invoice.ErrCreditSeriesBusy
	}
	if err != nil {
		return 0, transient(op, err)
	}
	n, ok := out.Attributes["last"].(*types.AttributeValueMemberN)
	if !ok {
		return 0, nil
	}
	last, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		return 0, apperr.Wrap(op, err)
	}
	return last, nil
}

// ReleaseCreditSeries gives the lease back if owner still holds it (a
// maker that could not commit); a lease already taken over is left alone.
func (s *Invoices) ReleaseCreditSeries(ctx context.Context, partnerID, orgID, year, owner string) error {
	const op = "dynamo.release_credit_series"
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: key(creditSeqPK(partnerID, orgID, year), skSeq),
		UpdateExpression:          aws.String("REMOVE lease_owner, lease_until"),
		ConditionExpression:       aws.String("lease_owner = :o"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":o": str(owner)}})
	var ccf *types.ConditionalCheckFailedException
	if err != nil && !errors.As(err, &ccf) {
		return transient(op, err)
	}
	return nil
}

// CancelWithCreditNote writes the cancelled invoice and moves the credit
// note counter by its lease's owner, in one transaction (invoice.Store).
func (s *Invoices) CancelWithCreditNote(ctx context.Context, before, after invoice.Invoice, n invoice.CreditNumber, ev event.Event) error {
	const op = "dynamo.cancel_with_credit_note"
	tx := s.tx()
	moveCounter(tx, key(creditSeqPK(after.PartnerID, after.OrgID, n.Year), skSeq), creditCounterKind, n.Number, n.Owner)
	tx.Put("invoice", toInvoiceItem(after), cond{expr: "version = :v AND #status = :s", names: map[string]string{"#status": "status"},
		values: map[string]types.AttributeValue{":v": num(before.Version), ":s": str(before.Status)}})
	tx.indexPayer(before, after)
	tx.Events(ev)
	err := tx.Run(ctx)
	switch {
	case tx.Failed(err, "invoice"):
		return apperr.E(op, apperr.Conflict, "the invoice was changed by another request; read it again and retry")
	case tx.Failed(err, "counter"), isTransactionConflict(err):
		return invoice.ErrNumberTaken
	case err != nil:
		return transient(op, err)
	}
	return nil
}

// DueBefore reads the open invoices due before day from every shard of the
// sparse index: its reads grow with the number of such invoices only.
func (s *Invoices) DueBefore(ctx context.Context, day string) ([]invoice.Invoice, error) {
	return queryShards(ctx, s.base, "dynamo.due_before", "DUE#", day, invoiceItem.invoice)
}

// queryShards reads, from every partition of one family of the sparse index
// GSI2 (prefix + shard number), the items whose sort key is below upper.
func queryShards[I, T any](ctx context.Context, s *base, op, prefix, upper string, convert func(I) T) ([]T, error) {
	var out []T
	for shard := 0; shard < dueShards; shard++ {
		items, err := queryAll(ctx, s, op, &dynamodb.QueryInput{TableName: aws.String(s.table), IndexName: aws.String(indexGSI2),
			KeyConditionExpression:    aws.String("GSI2PK = :pk AND GSI2SK < :upper"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(prefix + strconv.Itoa(shard)), ":upper": str(upper)}}, convert)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
	}
	return out, nil
}

// SeedInvoices writes invoices directly, 25 to a BatchWriteItem call, without
// numbers' counters or events: it exists to load benchmark data (make bench
// measures lists and the overdue run over 100 000 invoices), never on a
// request path.
func (s *Invoices) SeedInvoices(ctx context.Context, invs []invoice.Invoice) error {
	const op = "dynamo.seed_invoices"
	for start := 0; start < len(invs); start += 25 {
		var reqs []types.WriteRequest
		for _, inv := range invs[start:min(start+25, len(invs))] {
			item, err := marshal(toInvoiceItem(inv))
			if err != nil {
				return apperr.Wrap(op, err)
			}
			reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		}
		pending := map[string][]types.WriteRequest{s.table: reqs}
		for len(pending) > 0 {
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return transient(op, err)
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}
