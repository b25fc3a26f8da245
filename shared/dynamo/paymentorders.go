package dynamo

import (
	"context"
	"slices"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/paymentorder"
)

// PaymentOrders stores seed 003's payment orders and the portfolios they
// are paid from (paymentorder.Store).
//
// A portfolio is its own partition under its organisation (its fundings
// are items of that partition); the organisation's portfolios are GSI1. An
// order is its own partition; the organisation's orders are GSI1 and, by
// status, GSI2 (the order item itself: a status change moves it between
// GSI2 partitions with no other write). The immutable filters — portfolio,
// funding type, contract reference — are index items written with the
// order and deleted with it, one partition per value, holding those three
// fields. References come from one counter per organisation and year; a
// client-supplied reference holds an item of its own, so it is unique.
type PaymentOrders struct{ *base }

func portfolioPK(partnerID, orgID, id string) string { return orgPK(partnerID, orgID) + "#PF#" + id }
func orgPortfoliosPK(partnerID, orgID string) string { return orgPK(partnerID, orgID) + "#PFS" }
func orderPK(partnerID, orgID, id string) string     { return orgPK(partnerID, orgID) + "#PO#" + id }
func orgOrdersPK(partnerID, orgID string) string     { return orgPK(partnerID, orgID) + "#POS" }
func orgOrdersByStatusPK(partnerID, orgID string, s paymentorder.Status) string {
	return orgOrdersPK(partnerID, orgID) + "#" + string(s)
}

// orderIndexPK is the partition of one filter value: "PF" portfolio, "FT"
// funding type, "CR" contract reference.
func orderIndexPK(partnerID, orgID, filter, value string) string {
	return orgPK(partnerID, orgID) + "#POX#" + filter + "#" + value
}
func orderRefPK(partnerID, orgID, ref string) string {
	return orgPK(partnerID, orgID) + "#POREF#" + ref
}
func orderSeqPK(partnerID, orgID, year string) string {
	return orgPK(partnerID, orgID) + "#POSEQ#" + year
}

const (
	skPortfolio  = "PF"
	skOrder      = "PO"
	skOrderRef   = "REF"
	fundingSKPre = "FUND#"
)

// marshalValue is one attribute value, marshalled as items are (json tags).
func marshalValue(v any) (types.AttributeValue, error) {
	return attributevalue.MarshalWithOptions(v, func(o *attributevalue.EncoderOptions) { o.TagKey = "json" })
}

type portfolioItem struct {
	head
	paymentorder.Portfolio
}

func toPortfolioItem(p paymentorder.Portfolio) portfolioItem {
	return portfolioItem{head: head{PK: portfolioPK(p.PartnerID, p.OrgID, p.ID), SK: skPortfolio,
		GSI1PK: orgPortfoliosPK(p.PartnerID, p.OrgID), GSI1SK: p.ID, Kind: "portfolio"}, Portfolio: p}
}

func (it portfolioItem) portfolio() paymentorder.Portfolio { return it.Portfolio }

type orderItem struct {
	head
	paymentorder.Order
}

func toOrderItem(o paymentorder.Order) orderItem {
	return orderItem{head: head{PK: orderPK(o.PartnerID, o.OrgID, o.ID), SK: skOrder, GSI1PK: orgOrdersPK(o.PartnerID, o.OrgID), GSI1SK: o.ID,
		GSI2PK: orgOrdersByStatusPK(o.PartnerID, o.OrgID, o.Status), GSI2SK: o.ID, Kind: "payment_order"}, Order: o}
}

func (it orderItem) order() paymentorder.Order { return it.Order }

// orderIndexItem is an order in one filter partition: the order's id and
// its immutable filter fields.
type orderIndexItem struct {
	head
	OrderID           string `json:"orderId"`
	PortfolioID       string `json:"portfolioId"`
	FundingType       string `json:"fundingType"`
	ContractReference string `json:"contractReference,omitempty"`
}

func orderIndexItems(o paymentorder.Order) []orderIndexItem {
	mk := func(filter, value string) orderIndexItem {
		return orderIndexItem{head: head{PK: orderIndexPK(o.PartnerID, o.OrgID, filter, value), SK: o.ID, Kind: "payment_order_index"},
			OrderID: o.ID, PortfolioID: o.PortfolioID, FundingType: string(o.FundingType), ContractReference: o.ContractReference}
	}
	out := []orderIndexItem{mk("PF", o.PortfolioID), mk("FT", string(o.FundingType))}
	if o.ContractReference != "" {
		out = append(out, mk("CR", o.ContractReference))
	}
	return out
}

// CreatePortfolio writes a new portfolio and its event, on condition the
// organisation is the partner's.
func (s *PaymentOrders) CreatePortfolio(ctx context.Context, p paymentorder.Portfolio, ev event.Event) error {
	const op = "dynamo.create_portfolio"
	tx := s.tx()
	tx.ConditionCheck("organization", key(orgPK(p.PartnerID, p.OrgID), skOrg), ifExists)
	tx.Update("count", key(orgPortfoliosPK(p.PartnerID, p.OrgID), skSeq), "SET #n = if_not_exists(#n, :zero) + :one, kind = :kind",
		cond{expr: "attribute_not_exists(#n) OR #n < :max", names: map[string]string{"#n": "n"}, values: map[string]types.AttributeValue{
			":zero": num(0), ":one": num(1), ":max": num(paymentorder.MaxPortfolios), ":kind": str("portfolio_counter")}})
	tx.Put("portfolio", toPortfolioItem(p), ifNew)
	tx.Events(ev)
	err := tx.Run(ctx)
	switch {
	case tx.Failed(err, "organization"):
		return apperr.OrganizationNotFound(op)
	case tx.Failed(err, "count"):
		return paymentorder.ErrTooMany
	case isTransactionConflict(err):
		return apperr.Transient(op, err)
	case err != nil:
		return transient(op, err)
	}
	return nil
}

// CheckOrganization is NotFound unless the organisation is the partner's.
func (s *PaymentOrders) CheckOrganization(ctx context.Context, partnerID, orgID string) error {
	return s.organizationExists(ctx, partnerID, orgID)
}

// GetPortfolio reads one portfolio with the caller's tenant ids.
func (s *PaymentOrders) GetPortfolio(ctx context.Context, partnerID, orgID, id string) (paymentorder.Portfolio, error) {
	return getItem(ctx, s.base, "dynamo.get_portfolio", portfolioPK(partnerID, orgID, id), skPortfolio, "portfolio not found", portfolioItem.portfolio)
}

// AllPortfolios reads the organisation's portfolios, oldest first.
func (s *PaymentOrders) AllPortfolios(ctx context.Context, partnerID, orgID string) ([]paymentorder.Portfolio, error) {
	return queryAll(ctx, s.base, "dynamo.all_portfolios", &dynamodb.QueryInput{TableName: aws.String(s.table), IndexName: aws.String(indexGSI1),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(orgPortfoliosPK(partnerID, orgID))}}, portfolioItem.portfolio)
}

// UpdatePortfolio sets the portfolio's settings on condition its version
// is still the one read. The funds and counts are left as they are: orders
// move them concurrently without changing the version.
func (s *PaymentOrders) UpdatePortfolio(ctx context.Context, before, after paymentorder.Portfolio, ev event.Event) error {
	const op = "dynamo.update_portfolio"
	types_, err := marshalValue(after.FundingTypes)
	if err != nil {
		return apperr.Wrap(op, err)
	}
	policy, err := marshalValue(after.Approval)
	if err != nil {
		return apperr.Wrap(op, err)
	}
	at, err := marshalValue(after.UpdatedAt)
	if err != nil {
		return apperr.Wrap(op, err)
	}
	values := map[string]types.AttributeValue{":name": str(after.Name), ":types": types_, ":policy": policy, ":at": at,
		":nv": num(after.Version), ":v": num(before.Version)}
	update := "SET #name = :name, fundingTypes = :types, approvalPolicy = :policy, updatedAt = :at, version = :nv"
	if after.Execution != nil {
		if values[":exec"], err = marshalValue(after.Execution); err != nil {
			return apperr.Wrap(op, err)
		}
		update += ", executionAccount = :exec"
	} else {
		update += " REMOVE executionAccount"
	}
	tx := s.tx()
	tx.Update("portfolio", key(portfolioPK(after.PartnerID, after.OrgID, after.ID), skPortfolio), update,
		cond{expr: "version = :v", names: map[string]string{"#name": "name"}, values: values})
	tx.Events(ev)
	err = tx.Run(ctx)
	if tx.Failed(err, "portfolio") || isTransactionConflict(err) {
		return paymentorder.ErrConflict
	}
	if err != nil {
		return transient(op, err)
	}
	return nil
}

// maxFunded bounds a portfolio's total funding, far below int64's range,
// so no sum of its amounts can overflow.
const maxFunded = 1_000 * 1_000_000_000_000_000

// FundPortfolio adds the funding's amount to the portfolio's available and
// funded amounts and records the funding, with its event, in one
// transaction; it returns the portfolio as it then is (one more read).
func (s *PaymentOrders) FundPortfolio(ctx context.Context, p paymentorder.Portfolio, f paymentorder.Funding, ev event.Event) (paymentorder.Portfolio, error) {
	const op = "dynamo.fund_portfolio"
	pk := portfolioPK(p.PartnerID, p.OrgID, p.ID)
	at, err := marshalValue(f.CreatedAt)
	if err != nil {
		return paymentorder.Portfolio{}, apperr.Wrap(op, err)
	}
	tx := s.tx()
	tx.Update("portfolio", key(pk, skPortfolio), "SET available = available + :a, funded = funded + :a, updatedAt = :at",
		cond{expr: "attribute_exists(PK) AND funded <= :max", values: map[string]types.AttributeValue{
			":a": num(f.AmountMinor), ":at": at, ":max": num(maxFunded - f.AmountMinor)}})
	tx.Put("funding", struct {
		head
		paymentorder.Funding
	}{head{PK: pk, SK: fundingSKPre + f.ID, Kind: "portfolio_funding"}, f}, ifNew)
	tx.Events(ev)
	err = tx.Run(ctx)
	switch {
	case tx.Failed(err, "portfolio"):
		return paymentorder.Portfolio{}, &apperr.Error{Op: op, Code: apperr.Invalid, Param: "amount", Message: "the portfolio cannot hold more funds"}
	case isTransactionConflict(err):
		return paymentorder.Portfolio{}, apperr.Transient(op, err)
	case err != nil:
		return paymentorder.Portfolio{}, transient(op, err)
	}
	// The funding is committed: the answer must say so even if the table
	// cannot be read again now (a retry with the same Idempotency-Key
	// would otherwise be a second funding). The portfolio read again, or
	// else the one read before with this funding applied.
	after := p
	after.AvailableMinor, after.FundedMinor, after.UpdatedAt = p.AvailableMinor+f.AmountMinor, p.FundedMinor+f.AmountMinor, f.CreatedAt
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(pk, skPortfolio), ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return after, nil
	}
	var it portfolioItem
	if err := unmarshal(out.Item, &it); err != nil {
		return after, nil
	}
	return it.Portfolio, nil
}

// FundingContext reads the portfolio and the calling client in one
// BatchGetItem.
func (s *PaymentOrders) FundingContext(ctx context.Context, partnerID, orgID, portfolioID, clientID string) (paymentorder.Portfolio, paymentorder.ClientInfo, error) {
	const op = "dynamo.funding_context"
	cc, err := s.readContext(ctx, key(portfolioPK(partnerID, orgID, portfolioID), skPortfolio), key(clientPK(clientID), skClient))
	switch {
	case err != nil:
		return paymentorder.Portfolio{}, cc.Client, apperr.Wrap(op, err)
	case cc.Portfolio == nil:
		return paymentorder.Portfolio{}, cc.Client, apperr.E(op, apperr.NotFound, "portfolio not found")
	}
	return *cc.Portfolio, cc.Client, nil
}

// PortfolioManagers lists the organisation's active portfolio-manager
// clients limited to the portfolio (one Query of the organisation's
// clients).
func (s *PaymentOrders) PortfolioManagers(ctx context.Context, partnerID, orgID, portfolioID string) ([]paymentorder.User, error) {
	clients, err := queryAll(ctx, s.base, "dynamo.portfolio_managers", &dynamodb.QueryInput{TableName: aws.String(s.table), IndexName: aws.String(indexGSI1),
		KeyConditionExpression:    aws.String("GSI1PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(orgClientsPK(partnerID, orgID))}},
		func(it clientItem) clientItem { return it })
	if err != nil {
		return nil, err
	}
	out := []paymentorder.User{}
	for _, c := range clients {
		if auth.Role(c.Role) == auth.RolePortfolioManager && c.Status == "active" && slices.Contains(c.PortfolioIDs, portfolioID) {
			out = append(out, paymentorder.User{ID: c.ClientID, Name: c.Name})
		}
	}
	return out, nil
}

func clientInfo(it clientItem) paymentorder.ClientInfo {
	name := it.Name
	if name == "" {
		name = it.ClientID
	}
	return paymentorder.ClientInfo{Name: name, Portfolios: it.PortfolioIDs}
}

// ClientInfo reads a client's name and portfolios.
func (s *PaymentOrders) ClientInfo(ctx context.Context, clientID string) (paymentorder.ClientInfo, error) {
	return getItem(ctx, s.base, "dynamo.client_info", clientPK(clientID), skClient, "client not found", clientInfo)
}

// OrderCreationContext reads the portfolio, the year's counter and the
// calling client in one BatchGetItem.
func (s *PaymentOrders) OrderCreationContext(ctx context.Context, partnerID, orgID, portfolioID, year, clientID string) (paymentorder.CreationContext, error) {
	cc, err := s.readContext(ctx, key(portfolioPK(partnerID, orgID, portfolioID), skPortfolio),
		key(orderSeqPK(partnerID, orgID, year), skSeq), key(clientPK(clientID), skClient))
	return cc, apperr.Wrap("dynamo.order_creation_context", err)
}

// readContext reads, in one BatchGetItem, what keys name among a
// portfolio, a reference counter and an API client.
func (s *PaymentOrders) readContext(ctx context.Context, keys ...map[string]types.AttributeValue) (paymentorder.CreationContext, error) {
	var cc paymentorder.CreationContext
	err := s.batchGet(ctx, keys, func(raw map[string]types.AttributeValue) error {
		sk, _ := raw[attrSK].(*types.AttributeValueMemberS)
		switch {
		case sk == nil:
		case sk.Value == skPortfolio:
			var it portfolioItem
			if err := unmarshal(raw, &it); err != nil {
				return err
			}
			cc.Portfolio = &it.Portfolio
		case sk.Value == skSeq:
			if n, ok := raw["last"].(*types.AttributeValueMemberN); ok {
				last, err := strconv.ParseInt(n.Value, 10, 64)
				if err != nil {
					return err
				}
				cc.LastNumber = last
			}
		case sk.Value == skClient:
			var it clientItem
			if err := unmarshal(raw, &it); err != nil {
				return err
			}
			cc.Client = clientInfo(it)
		}
		return nil
	})
	return cc, err
}

// batchGet reads keys (at most 100) consistently, unprocessed keys
// included, and hands each item found to each.
func (s *base) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, each func(map[string]types.AttributeValue) error) error {
	const op = "dynamo.batch_get"
	in := &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{s.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}}
	for len(in.RequestItems) > 0 {
		out, err := s.db.BatchGetItem(ctx, in)
		if err != nil {
			return transient(op, err)
		}
		for _, raw := range out.Responses[s.table] {
			if err := each(raw); err != nil {
				return apperr.Wrap(op, err)
			}
		}
		in.RequestItems = out.UnprocessedKeys
	}
	return nil
}

// portfolioMove is the update of the portfolio for a change of its order:
// funds moved, counts moved from one (status, type) to another (either key
// "" for none), on condition available covers cover.
func portfolioMove(tx *txn, partnerID, orgID, portfolioID string, m paymentorder.Move, from, to string) {
	var sets []string
	c := cond{names: map[string]string{}, values: map[string]types.AttributeValue{}}
	for _, f := range []struct {
		attr string
		d    int64
	}{{"available", m.Available}, {"reserved", m.Reserved}, {"spent", m.Spent}} {
		if f.d != 0 {
			p := ":d" + f.attr
			sets = append(sets, f.attr+" = "+f.attr+" + "+p)
			c.values[p] = num(f.d)
		}
	}
	if from != to {
		c.values[":one"] = num(1)
		if from != "" {
			c.names["#from"] = from
			sets = append(sets, "counts.#from = counts.#from - :one")
		}
		if to != "" {
			c.names["#to"] = to
			sets = append(sets, "counts.#to = counts.#to + :one")
		}
	}
	c.expr = "attribute_exists(PK)"
	if m.Cover > 0 {
		c.expr += " AND available >= :cover"
		c.values[":cover"] = num(m.Cover)
	}
	k := key(portfolioPK(partnerID, orgID, portfolioID), skPortfolio)
	if len(sets) == 0 {
		if m.Cover > 0 {
			tx.ConditionCheck("portfolio", k, c)
		}
		return
	}
	update := "SET "
	for i, s := range sets {
		if i > 0 {
			update += ", "
		}
		update += s
	}
	tx.Update("portfolio", k, update, c)
}

// CreateOrder writes the order, its index items, the counter or the
// reference, the portfolio's counts and the event in one transaction.
func (s *PaymentOrders) CreateOrder(ctx context.Context, o paymentorder.Order, year string, number int64, ev event.Event) error {
	const op = "dynamo.create_order"
	tx := s.tx()
	if number > 0 {
		counter := cond{expr: "attribute_not_exists(PK)", names: map[string]string{"#last": "last"},
			values: map[string]types.AttributeValue{":n": num(number), ":kind": str("payment_order_counter")}}
		if number != 1 {
			counter.expr = "#last = :prev"
			counter.values[":prev"] = num(number - 1)
		}
		tx.Update("counter", key(orderSeqPK(o.PartnerID, o.OrgID, year), skSeq), "SET #last = :n, kind = :kind", counter)
	} else {
		tx.Put("reference", map[string]types.AttributeValue{attrPK: str(orderRefPK(o.PartnerID, o.OrgID, o.Reference)), attrSK: str(skOrderRef),
			"kind": str("payment_order_reference"), "orderId": str(o.ID)}, ifNew)
	}
	tx.Put("order", toOrderItem(o), ifNew)
	for _, it := range orderIndexItems(o) {
		tx.Put("index", it, ifNew)
	}
	portfolioMove(tx, o.PartnerID, o.OrgID, o.PortfolioID, paymentorder.Move{Cover: o.AmountMinor}, "", paymentorder.CountKey(o.Status, o.FundingType))
	tx.Events(ev)
	err := tx.Run(ctx)
	switch {
	case err == nil:
		return nil
	case tx.Failed(err, "reference"):
		return paymentorder.ErrReferenceTaken
	case tx.Failed(err, "portfolio"):
		return paymentorder.ErrFunds
	case tx.Failed(err, "counter"), isTransactionConflict(err):
		return paymentorder.ErrConflict
	}
	return transient(op, err)
}

// GetOrder reads one order with the caller's tenant ids.
func (s *PaymentOrders) GetOrder(ctx context.Context, partnerID, orgID, id string) (paymentorder.Order, error) {
	return getItem(ctx, s.base, "dynamo.get_order", orderPK(partnerID, orgID, id), skOrder, "payment order not found", orderItem.order)
}

// ChangeOrder replaces the order on condition its version is the one read,
// with the portfolio's move and the event.
func (s *PaymentOrders) ChangeOrder(ctx context.Context, before, after paymentorder.Order, m paymentorder.Move, evs ...event.Event) error {
	const op = "dynamo.change_order"
	tx := s.tx()
	tx.Put("order", toOrderItem(after), cond{expr: "version = :v", values: map[string]types.AttributeValue{":v": num(before.Version)}})
	portfolioMove(tx, after.PartnerID, after.OrgID, after.PortfolioID, m,
		paymentorder.CountKey(before.Status, before.FundingType), paymentorder.CountKey(after.Status, after.FundingType))
	tx.Events(evs...)
	err := tx.Run(ctx)
	switch {
	case err == nil:
		return nil
	case tx.Failed(err, "order"), isTransactionConflict(err):
		return paymentorder.ErrConflict
	case tx.Failed(err, "portfolio"):
		return paymentorder.ErrFunds
	}
	return transient(op, err)
}

// DeleteOrder deletes the order and its index items on condition it is
// still as read, takes it out of the portfolio's counts, and writes the
// event. A client-supplied reference stays taken.
func (s *PaymentOrders) DeleteOrder(ctx context.Context, o paymentorder.Order, ev event.Event) error {
	const op = "dynamo.delete_order"
	tx := s.tx()
	tx.Delete("order", key(orderPK(o.PartnerID, o.OrgID, o.ID), skOrder), cond{expr: "version = :v", values: map[string]types.AttributeValue{":v": num(o.Version)}})
	for _, it := range orderIndexItems(o) {
		tx.Delete("index", key(it.PK, it.SK), cond{})
	}
	portfolioMove(tx, o.PartnerID, o.OrgID, o.PortfolioID, paymentorder.Move{}, paymentorder.CountKey(o.Status, o.FundingType), "")
	tx.Events(ev)
	err := tx.Run(ctx)
	switch {
	case err == nil:
		return nil
	case tx.Failed(err, "order"), isTransactionConflict(err):
		return paymentorder.ErrConflict
	}
	return transient(op, err)
}

// ListOrders reads one page of orders, newest first, by the most selective
// partition the filters allow:
//
//   - contractReference: the contract's index partition, read whole (a
//     contract has few orders), its orders read by BatchGetItem, counted
//     exactly (Total);
//   - status: the organisation's status partition of GSI2 (the orders
//     themselves);
//   - portfolioId, else fundingType: that index partition, then the page's
//     orders by BatchGetItem;
//   - none: the organisation's orders (GSI1).
//
// The other filters are applied to what is read. Page n reads n pages from
// the start (seed 003 pages by number). Total is -1 except by contract: the
// service sums the portfolios' counts.
func (s *PaymentOrders) ListOrders(ctx context.Context, partnerID, orgID string, page, limit int, f paymentorder.Filter) (paymentorder.OrderPage, error) {
	const op = "dynamo.list_orders"
	q := listing.Query{Page: page, Size: limit}
	matchIndex := func(it orderIndexItem) bool {
		return (f.PortfolioID == "" || it.PortfolioID == f.PortfolioID) && (f.FundingType == "" || it.FundingType == string(f.FundingType)) &&
			(f.ContractReference == "" || it.ContractReference == f.ContractReference) &&
			(f.Portfolios == nil || slices.Contains(f.Portfolios, it.PortfolioID))
	}
	matchOrder := func(o paymentorder.Order) bool {
		return (f.Status == "" || o.Status == f.Status) && matchIndex(orderIndexItem{PortfolioID: o.PortfolioID,
			FundingType: string(o.FundingType), ContractReference: o.ContractReference})
	}
	newestFirst := func(in dynamodb.QueryInput) dynamodb.QueryInput {
		in.ScanIndexForward = aws.Bool(false)
		return in
	}
	if f.ContractReference != "" {
		pk := orderIndexPK(partnerID, orgID, "CR", f.ContractReference)
		ptrs, err := queryAll(ctx, s.base, op, &dynamodb.QueryInput{TableName: aws.String(s.table), ScanIndexForward: aws.Bool(false),
			KeyConditionExpression: aws.String("PK = :pk"), ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)}},
			func(it orderIndexItem) orderIndexItem { return it })
		if err != nil {
			return paymentorder.OrderPage{}, err
		}
		var ids []string
		for _, p := range ptrs {
			if matchIndex(p) {
				ids = append(ids, p.OrderID)
			}
		}
		orders, err := s.ordersByID(ctx, partnerID, orgID, ids)
		if err != nil {
			return paymentorder.OrderPage{}, err
		}
		orders = slices.DeleteFunc(orders, func(o paymentorder.Order) bool { return !matchOrder(o) })
		from := min((page-1)*limit, len(orders))
		return paymentorder.OrderPage{Orders: orders[from:min(from+limit, len(orders))], Total: int64(len(orders))}, nil
	}
	keepOrder := func(raw map[string]types.AttributeValue) bool {
		var it orderItem
		return unmarshal(raw, &it) == nil && matchOrder(it.Order)
	}
	if f.Status != "" || (f.PortfolioID == "" && f.FundingType == "") {
		in, pk := dynamodb.QueryInput{IndexName: aws.String(indexGSI1), KeyConditionExpression: aws.String("GSI1PK = :pk")}, orgOrdersPK(partnerID, orgID)
		attr := attrGSI1PK
		if f.Status != "" {
			in, pk = dynamodb.QueryInput{IndexName: aws.String(indexGSI2), KeyConditionExpression: aws.String("GSI2PK = :pk")}, orgOrdersByStatusPK(partnerID, orgID, f.Status)
			attr = attrGSI2PK
		}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":pk": str(pk)}
		items, _, _, err := s.queryPage(ctx, newestFirst(in), attr, pk, q, keepOrder, false)
		if err != nil {
			return paymentorder.OrderPage{}, err
		}
		out := paymentorder.OrderPage{Orders: make([]paymentorder.Order, 0, len(items)), Total: -1}
		for _, raw := range items {
			var it orderItem
			if err := unmarshal(raw, &it); err != nil {
				return out, apperr.Wrap(op, err)
			}
			out.Orders = append(out.Orders, it.Order)
		}
		return out, nil
	}
	pk := orderIndexPK(partnerID, orgID, "FT", string(f.FundingType))
	if f.PortfolioID != "" {
		pk = orderIndexPK(partnerID, orgID, "PF", f.PortfolioID)
	}
	items, _, _, err := s.queryPage(ctx, newestFirst(dynamodb.QueryInput{KeyConditionExpression: aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)}}), attrPK, pk, q,
		func(raw map[string]types.AttributeValue) bool {
			var it orderIndexItem
			return unmarshal(raw, &it) == nil && matchIndex(it)
		}, false)
	if err != nil {
		return paymentorder.OrderPage{}, err
	}
	ids := make([]string, 0, len(items))
	for _, raw := range items {
		var it orderIndexItem
		if err := unmarshal(raw, &it); err != nil {
			return paymentorder.OrderPage{}, apperr.Wrap(op, err)
		}
		ids = append(ids, it.OrderID)
	}
	orders, err := s.ordersByID(ctx, partnerID, orgID, ids)
	return paymentorder.OrderPage{Orders: orders, Total: -1}, err
}

// ordersByID reads orders by BatchGetItem, 100 at a time, in the order of
// ids; an order deleted meanwhile is left out.
func (s *PaymentOrders) ordersByID(ctx context.Context, partnerID, orgID string, ids []string) ([]paymentorder.Order, error) {
	byID := make(map[string]paymentorder.Order, len(ids))
	for chunk := range slices.Chunk(ids, 100) {
		keys := make([]map[string]types.AttributeValue, len(chunk))
		for i, id := range chunk {
			keys[i] = key(orderPK(partnerID, orgID, id), skOrder)
		}
		err := s.batchGet(ctx, keys, func(raw map[string]types.AttributeValue) error {
			var it orderItem
			if err := unmarshal(raw, &it); err != nil {
				return err
			}
			byID[it.ID] = it.Order
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	out := make([]paymentorder.Order, 0, len(ids))
	for _, id := range ids {
		if o, ok := byID[id]; ok {
			out = append(out, o)
		}
	}
	return out, nil
}
