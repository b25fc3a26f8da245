package dynamo

import (
	"context"
	"crypto/subtle"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/branding"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/pagetoken"
	"github.com/modupay/modupay/shared/payment"
)

// Payments stores payment links, their intents and page tokens
// (payment.Store and payment.TransferStore, with the invoice, department and
// organisation reads of their repositories).
type Payments struct{ *base }

// Links and intents are their own partitions under their organisation; the
// organisation's links are GSI1, an invoice's intents another GSI1
// partition. The page token is a lookup item (PK PAYTOKEN#<token>) that the
// public payment page reads in one call, kept in step with its link's status
// by the same transactions.
func linkPK(partnerID, orgID, id string) string   { return orgPK(partnerID, orgID) + "#PL#" + id }
func intentPK(partnerID, orgID, id string) string { return orgPK(partnerID, orgID) + "#PI#" + id }
func orgLinksPK(partnerID, orgID string) string   { return orgPK(partnerID, orgID) + "#PLS" }
func invoiceIntentsPK(partnerID, orgID, invoiceID string) string {
	return invoicePK(partnerID, orgID, invoiceID) + "#PIS"
}
func tokenPK(token string) string { return "PAYTOKEN#" + token }

const (
	skLink   = "PL"
	skIntent = "PI"
	skToken  = "TOKEN"
)

type linkItem struct {
	head
	PartnerID      string   `json:"partner_id"`
	OrgID          string   `json:"organization_id"`
	DepartmentID   string   `json:"department_id"`
	BankAccountID  string   `json:"bank_account_id"`
	PaymentMethods []string `json:"payment_methods"`
	ReturnURL      string   `json:"return_url"`
	Token          string   `json:"token"`
	Version        int64    `json:"version"`
	payment.Link
}

// Active links are also in the sparse index GSI2 by expiry time (spread
// over the same number of partitions as due invoices), for the schedule
// that expires them; the attributes go when the link ends.
func toLinkItem(l payment.Link) linkItem {
	it := linkItem{head: head{PK: linkPK(l.PartnerID, l.OrgID, l.ID), SK: skLink, GSI1PK: orgLinksPK(l.PartnerID, l.OrgID), GSI1SK: l.ID,
		Kind: "payment_link"}, PartnerID: l.PartnerID, OrgID: l.OrgID, DepartmentID: l.DepartmentID, BankAccountID: l.BankAccountID,
		PaymentMethods: l.PaymentMethods, ReturnURL: l.ReturnURL, Token: l.Token, Version: l.Version, Link: l}
	if l.Status == payment.LinkActive {
		it.GSI2PK = "LINKEXP#" + dueShard(l.ID)[len("DUE#"):]
		it.GSI2SK = l.ExpiresAt.UTC().Format(sortableTime) + "#" + l.ID
	}
	return it
}

// ExpiredLinks reads the active links whose expiry time has passed, from
// every partition of the sparse index.
func (s *Payments) ExpiredLinks(ctx context.Context, now time.Time) ([]payment.Link, error) {
	return queryShards(ctx, s.base, "dynamo.expired_links", "LINKEXP#", now.UTC().Format(sortableTime), linkItem.link)
}

func (it linkItem) link() payment.Link {
	l := it.Link
	l.PartnerID, l.OrgID, l.DepartmentID, l.BankAccountID = it.PartnerID, it.OrgID, it.DepartmentID, it.BankAccountID
	l.PaymentMethods, l.ReturnURL, l.Token, l.Version = it.PaymentMethods, it.ReturnURL, it.Token, it.Version
	return l
}

type intentItem struct {
	head
	PartnerID string `json:"partner_id"`
	OrgID     string `json:"organization_id"`
	Version   int64  `json:"version"`
	// The refunds' reservation and list (see Refunds), and the card charge.
	RefundReserved int64    `json:"refund_reserved"`
	RefundIDs      []string `json:"refund_ids,omitempty"`
	CardChargeID   string   `json:"card_charge_id,omitempty"`
	payment.Intent
}

func toIntentItem(pi payment.Intent) intentItem {
	return intentItem{head: head{PK: intentPK(pi.PartnerID, pi.OrgID, pi.ID), SK: skIntent, GSI1PK: invoiceIntentsPK(pi.PartnerID, pi.OrgID, pi.InvoiceID), GSI1SK: pi.ID,
		Kind: "payment_intent"}, PartnerID: pi.PartnerID, OrgID: pi.OrgID, Version: pi.Version,
		RefundReserved: pi.RefundReserved, RefundIDs: pi.RefundIDs, CardChargeID: pi.CardChargeID, Intent: pi}
}

func (it intentItem) intent() payment.Intent {
	pi := it.Intent
	pi.PartnerID, pi.OrgID, pi.Version = it.PartnerID, it.OrgID, it.Version
	pi.RefundReserved, pi.RefundIDs, pi.CardChargeID = it.RefundReserved, it.RefundIDs, it.CardChargeID
	return pi
}

// tokenItem is what the public page needs to find its link.
type tokenItem struct {
	head
	PartnerID string `json:"partner_id"`
	OrgID     string `json:"organization_id"`
	LinkID    string `json:"payment_link_id"`
	InvoiceID string `json:"invoice_id"`
	IntentID  string `json:"payment_intent_id"`
	DeptID    string `json:"department_id"`
	AccountID string `json:"bank_account_id"`
	Status    string `json:"status"`
}

// CreateLink writes the link, its intent and its page token, counts the link
// on the bank account it pays into, and checks that the invoice is still as
// read — one transaction, with the event.
func (s *Payments) CreateLink(ctx context.Context, inv invoice.Invoice, l payment.Link, pi payment.Intent, ev event.Event) error {
	const op = "dynamo.create_payment_link"
	tx := s.tx()
	// The invoice, as read, reserves the link's amount.
	tx.Update("invoice", key(invoicePK(inv.PartnerID, inv.OrgID, inv.ID), skInvoice), "SET amount_in_links = :in, version = :next",
		cond{expr: "version = :v AND #status = :s", names: map[string]string{"#status": "status"},
			values: map[string]types.AttributeValue{":v": num(inv.Version), ":s": str(inv.Status), ":next": num(inv.Version + 1), ":in": num(inv.AmountInLinks + l.Amount)}})
	tx.Update("account", key(deptPK(l.PartnerID, l.DepartmentID), pfxBA+l.BankAccountID), "ADD active_links :one",
		cond{expr: "attribute_exists(PK)", values: map[string]types.AttributeValue{":one": num(1)}})
	tx.Put("link", toLinkItem(l), ifNew)
	tx.Put("intent", toIntentItem(pi), ifNew)
	tx.Put("token", tokenItem{head: head{PK: tokenPK(l.Token), SK: skToken, Kind: "payment_token"}, PartnerID: l.PartnerID, OrgID: l.OrgID,
		LinkID: l.ID, InvoiceID: l.InvoiceID, IntentID: l.PaymentIntentID, DeptID: l.DepartmentID, AccountID: l.BankAccountID, Status: l.Status}, ifNew)
	tx.Events(ev)
	err := tx.Run(ctx)
	switch {
	case tx.Failed(err, "invoice") || isTransactionConflict(err):
		return apperr.E(op, apperr.Conflict, "the invoice changed at the same time; read it again and retry")
	case tx.Failed(err, "account"):
		return apperr.E(op, apperr.Conflict, "the invoice's bank account no longer exists")
	case err != nil:
		return transient(op, err)
	}
	return nil
}

// GetLink reads one link with the caller's tenant ids.
func (s *Payments) GetLink(ctx context.Context, partnerID, orgID, id string) (payment.Link, error) {
	return getItem(ctx, s.base, "dynamo.get_payment_link", linkPK(partnerID, orgID, id), skLink, "payment link not found", linkItem.link)
}

// ListLinks pages through an organisation's links (filters on what is read).
func (s *Payments) ListLinks(ctx context.Context, partnerID, orgID string, q listing.Query, invoiceID, status string) (listing.Page[payment.Link], error) {
	var keep func(map[string]types.AttributeValue) bool
	if invoiceID != "" || status != "" {
		keep = func(raw map[string]types.AttributeValue) bool {
			inv, _ := raw["invoice_id"].(*types.AttributeValueMemberS)
			st, _ := raw["status"].(*types.AttributeValueMemberS)
			return (invoiceID == "" || (inv != nil && inv.Value == invoiceID)) && (status == "" || (st != nil && st.Value == status))
		}
	}
	return listGSI1(ctx, s.base, "dynamo.list_payment_links", orgLinksPK(partnerID, orgID), q, keep, false, linkItem.link)
}

// EndLink moves the link (conditional on its version) and its intent
// (conditional on theirs) to their end states, releases the account, and
// updates the page token, with the events.
func (s *Payments) EndLink(ctx context.Context, l payment.Link, status string, cancelled *payment.Intent, evs []event.Event) error {
	const op = "dynamo.end_payment_link"
	tx := s.tx()
	tx.Put("link", toLinkItem(l), cond{expr: "version = :v", values: map[string]types.AttributeValue{":v": num(l.Version - 1)}})
	if cancelled != nil {
		tx.putIntent("intent", *cancelled)
	} else {
		// Not cancelled: the intent must have failed already.
		tx.ConditionCheck("intent", key(intentPK(l.PartnerID, l.OrgID, l.PaymentIntentID), skIntent),
			cond{expr: "#status = :failed", names: map[string]string{"#status": "status"},
				values: map[string]types.AttributeValue{":failed": str(payment.IntentFailed)}})
	}
	tx.Update("account", key(deptPK(l.PartnerID, l.DepartmentID), pfxBA+l.BankAccountID), "ADD active_links :minus",
		cond{values: map[string]types.AttributeValue{":minus": num(-1)}})
	tx.Update("token", key(tokenPK(l.Token), skToken), "SET #status = :s",
		cond{names: map[string]string{"#status": "status"}, values: map[string]types.AttributeValue{":s": str(status)}})
	// The invoice releases the link's reserved amount; its version moves so
	// that writers of the whole invoice read it again.
	tx.Update("invoice", key(invoicePK(l.PartnerID, l.OrgID, l.InvoiceID), skInvoice), "SET amount_in_links = amount_in_links - :amt, version = version + :one",
		cond{values: map[string]types.AttributeValue{":amt": num(l.Amount), ":one": num(1)}})
	tx.Events(evs...)
	err := tx.Run(ctx)
	if tx.Failed(err, "link", "intent") || isTransactionConflict(err) {
		return payment.ErrLinkChanged
	}
	if err != nil {
		return transient(op, err)
	}
	return nil
}

// GetIntent reads one intent with the caller's tenant ids.
func (s *Payments) GetIntent(ctx context.Context, partnerID, orgID, id string) (payment.Intent, error) {
	return getItem(ctx, s.base, "dynamo.get_payment_intent", intentPK(partnerID, orgID, id), skIntent, "payment intent not found", intentItem.intent)
}

// ListIntents lists an invoice's intents (an invoice has a handful).
func (s *Payments) ListIntents(ctx context.Context, partnerID, orgID, invoiceID string) ([]payment.Intent, error) {
	return queryAll(ctx, s.base, "dynamo.list_payment_intents", &dynamodb.QueryInput{TableName: aws.String(s.table), IndexName: aws.String(indexGSI1),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(invoiceIntentsPK(partnerID, orgID, invoiceID))}}, intentItem.intent)
}

// PageByToken reads a page token and what the page shows — the link, its
// intent, the invoice and the account paid into — in two calls: the token
// (which names them all), then one BatchGetItem.
func (s *Payments) PageByToken(ctx context.Context, token string) (payment.Page, error) {
	const op = "dynamo.page_by_token"
	var p payment.Page
	if token == "" || len(token) > 100 {
		return p, apperr.E(op, apperr.NotFound, "payment page not found")
	}
	tk, err := getItem(ctx, s.base, op, tokenPK(token), skToken, "payment page not found", func(t tokenItem) tokenItem { return t })
	if err != nil {
		return p, err
	}
	return s.PageByKeys(ctx, pagetoken.Keys{PartnerID: tk.PartnerID, OrgID: tk.OrgID, LinkID: tk.LinkID, IntentID: tk.IntentID,
		InvoiceID: tk.InvoiceID, DeptID: tk.DeptID, AccountID: tk.AccountID}, token)
}

// PageByKeys reads what the page shows — the link, its intent, the invoice,
// the account paid into, the partner and the brandings — in one BatchGetItem,
// and checks that the link's token is the one asked for (constant time).
func (s *Payments) PageByKeys(ctx context.Context, k pagetoken.Keys, token string) (payment.Page, error) {
	const op = "dynamo.page_by_keys"
	var p payment.Page
	tk := tokenItem{PartnerID: k.PartnerID, OrgID: k.OrgID, LinkID: k.LinkID, IntentID: k.IntentID, InvoiceID: k.InvoiceID, DeptID: k.DeptID, AccountID: k.AccountID}
	keys := []map[string]types.AttributeValue{
		key(linkPK(tk.PartnerID, tk.OrgID, tk.LinkID), skLink),
		key(intentPK(tk.PartnerID, tk.OrgID, tk.IntentID), skIntent),
		key(invoicePK(tk.PartnerID, tk.OrgID, tk.InvoiceID), skInvoice),
		key(deptPK(tk.PartnerID, tk.DeptID), pfxBA+tk.AccountID),
		// The white label, in the same call: the partner (its name), its
		// branding and the organisation's (either may be absent).
		key(partnerPK(tk.PartnerID), skPartner),
		key(brandingPK(tk.PartnerID, ""), skBranding),
		key(brandingPK(tk.PartnerID, tk.OrgID), skBranding),
	}
	const required = 4 // link, intent, invoice, account
	var partnerName string
	var partnerBrand, orgBrand branding.Branding
	in := &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}}
	found := 0
	for len(in.RequestItems) > 0 {
		out, err := s.db.BatchGetItem(ctx, in)
		if err != nil {
			return p, transient(op, err)
		}
		for _, raw := range out.Responses[s.table] {
			sk, _ := raw[attrSK].(*types.AttributeValueMemberS)
			if sk == nil {
				continue
			}
			pk, _ := raw[attrPK].(*types.AttributeValueMemberS)
			switch {
			case sk.Value == skPartner:
				if n, ok := raw["name"].(*types.AttributeValueMemberS); ok {
					partnerName = n.Value
				}
				continue
			case sk.Value == skBranding:
				var it brandingItem
				if err := unmarshal(raw, &it); err != nil {
					return p, apperr.Wrap(op, err)
				}
				if pk != nil && pk.Value == partnerPK(tk.PartnerID) {
					partnerBrand = it.Branding
				} else {
					orgBrand = it.Branding
				}
				continue
			}
			found++
			switch {
			case sk.Value == skLink:
				var it linkItem
				err = unmarshal(raw, &it)
				p.Link = it.link()
			case sk.Value == skIntent:
				var it intentItem
				err = unmarshal(raw, &it)
				p.Intent = it.intent()
			case sk.Value == skInvoice:
				var it invoiceItem
				err = unmarshal(raw, &it)
				p.Invoice = it.invoice()
			default:
				var it accountItem
				err = unmarshal(raw, &it)
				p.Account = it.account()
			}
			if err != nil {
				return p, apperr.Wrap(op, err)
			}
		}
		in.RequestItems = out.UnprocessedKeys
	}
	if found != required {
		if p.Link.ID == "" {
			return p, apperr.E(op, apperr.NotFound, "payment page not found")
		}
		return p, apperr.E(op, apperr.Internal, "payment page of link "+tk.LinkID+" is missing part of its data")
	}
	if subtle.ConstantTimeCompare([]byte(p.Link.Token), []byte(token)) != 1 {
		return payment.Page{}, apperr.E(op, apperr.NotFound, "payment page not found")
	}
	p.Brand = branding.Resolve(partnerName, partnerBrand, orgBrand)
	return p, nil
}

// SetDestination keeps the account's Aiia destination id.
func (s *Departments) SetDestination(ctx context.Context, a department.BankAccount, destinationID string) error {
	const op = "dynamo.set_destination"
	_, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(s.table), Key: key(deptPK(a.PartnerID, a.DepartmentID), pfxBA+a.ID),
		UpdateExpression: aws.String("SET aiia_destination_id = :d"), ConditionExpression: aws.String("attribute_exists(PK)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":d": str(destinationID)}})
	if err != nil {
		return transient(op, err)
	}
	return nil
}

// putIntent adds the write of pi on condition that the stored intent is
// the version before pi's.
func (t *txn) putIntent(name string, pi payment.Intent) {
	t.Put(name, toIntentItem(pi), cond{expr: "version = :v", values: map[string]types.AttributeValue{":v": num(pi.Version - 1)}})
}

// UpdateIntent writes the intent on condition of the version it was read at,
// with its events (none for a change that is not a transition).
func (s *Payments) UpdateIntent(ctx context.Context, pi payment.Intent, evs []event.Event) error {
	const op = "dynamo.update_payment_intent"
	tx := s.tx()
	tx.putIntent("intent", pi)
	tx.Events(evs...)
	err := tx.Run(ctx)
	if tx.Failed(err, "intent") || isTransactionConflict(err) {
		return payment.ErrLinkChanged
	}
	if err != nil {
		return transient(op, err)
	}
	return nil
}

// SettleIntent commits a succeeded payment: the intent, the invoice that
// takes it, the completed link and its page, the released account — one
// transaction, each conditional on the version read, so a payment is applied
// once however often the poller runs.
func (s *Payments) SettleIntent(ctx context.Context, pi payment.Intent, l payment.Link, inv invoice.Invoice, evs []event.Event) error {
	const op = "dynamo.settle_payment_intent"
	tx := s.tx()
	tx.putIntent("intent", pi)
	tx.Put("invoice", toInvoiceItem(inv), cond{expr: "version = :v", values: map[string]types.AttributeValue{":v": num(inv.Version - 1)}})
	tx.Put("link", toLinkItem(l), cond{expr: "version = :v", values: map[string]types.AttributeValue{":v": num(l.Version - 1)}})
	tx.Update("token", key(tokenPK(l.Token), skToken), "SET #status = :s",
		cond{names: map[string]string{"#status": "status"}, values: map[string]types.AttributeValue{":s": str(l.Status)}})
	tx.Update("account", key(deptPK(l.PartnerID, l.DepartmentID), pfxBA+l.BankAccountID), "ADD active_links :minus",
		cond{values: map[string]types.AttributeValue{":minus": num(-1)}})
	tx.Events(evs...)
	err := tx.Run(ctx)
	// Any failed condition, a reused event id included, means another
	// run settled or changed one of them first.
	if tx.Failed(err, "intent", "invoice", "link", "event") || isTransactionConflict(err) {
		return payment.ErrLinkChanged
	}
	if err != nil {
		return transient(op, err)
	}
	return nil
}
