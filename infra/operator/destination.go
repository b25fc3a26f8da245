package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/dynamo"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/identifier"
	"github.com/modupay/modupay/shared/wiring"
)

// EventDestinationRecorded is the audit trail's entry of a destination id
// recorded (or replaced) by an operator. It is not in the webhook catalogue:
// partners are never sent it.
const EventDestinationRecorded = "bank_account.destination_recorded"

// maxDestinationID bounds a destination id (the provider's are far shorter).
const maxDestinationID = 100

// aiiaDestination lists a department's bank accounts with their Aiia
// destination ids, or records the id the provider gave at the merchant's
// onboarding on one of them (where MODUPAY_AIIA_DESTINATIONS is operator,
// production's way: docs/aiia.md, "Destinations").
//
//	go run ./infra/operator aiia-destination -table T -partner P -department D
//	go run ./infra/operator aiia-destination -table T -partner P -department D \
//	    -account ba-… -destination-id DEST -reviewer NAME [-replace]
//
// The list is one Query on the department's partition. Recording is one
// transaction: the id on the account, on condition that the account exists
// and is verified and that its id is still the one read, and the
// bank_account.destination_recorded event (the audit trail, as kyc-decide
// and bank-account-decide record theirs). A different id already recorded
// is replaced only with -replace; the same id again changes nothing.
func aiiaDestination(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("aiia-destination", flag.ContinueOnError)
	sf := newStoreFlags(fs)
	partner := fs.String("partner", "", "partner id")
	dept := fs.String("department", "", "department id")
	account := fs.String("account", "", "bank account id (with -destination-id: record it; without: list the accounts)")
	dest := fs.String("destination-id", "", "the account's destination id, as the provider gave it at onboarding")
	reviewer := fs.String("reviewer", "", "who records it (the audit trail)")
	replace := fs.Bool("replace", false, "replace a different destination id already recorded")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *sf.table == "" || *partner == "" || *dept == "" {
		return errors.New("-table, -partner and -department are required")
	}
	ctx := context.Background()
	awsCfg, err := wiring.AWSConfig(ctx, *sf.region, *sf.endpoint != "")
	if err != nil {
		return err
	}
	db := wiring.NewDynamoDB(awsCfg, *sf.endpoint)
	store := dynamo.New(db, *sf.table, time.Now)
	if *account == "" && *dest == "" {
		if *replace || *reviewer != "" {
			return errors.New("-replace and -reviewer go with -account and -destination-id")
		}
		return listDestinations(ctx, store, *partner, *dept, out)
	}
	if *account == "" || *dest == "" || strings.TrimSpace(*reviewer) == "" {
		return errors.New("recording a destination needs -account, -destination-id and -reviewer")
	}
	if err := checkDestinationID(*dest); err != nil {
		return err
	}
	r := destinationRecord{partner: *partner, dept: *dept, account: *account, dest: *dest, replace: *replace,
		actor: event.Actor{ID: strings.TrimSpace(*reviewer), Type: "operator"}}
	ev, err := r.record(ctx, db, store, *sf.table, time.Now().UTC(), wiring.NewID)
	if err != nil {
		return err
	}
	if ev == nil {
		fmt.Fprintf(out, "bank account %s of %s already has destination %s: nothing changed\n", *account, *dept, *dest)
		return nil
	}
	fmt.Fprintf(out, "bank account %s of %s: destination %s recorded (audit event %s)\n", *account, *dept, *dest, ev.ID)
	return nil
}

// checkDestinationID refuses what cannot be a provider's id: empty, longer
// than maxDestinationID characters, or with whitespace or any character
// that does not print (control, format, invalid UTF-8).
func checkDestinationID(id string) error {
	switch {
	case id == "":
		return errors.New("-destination-id is empty")
	case !utf8.ValidString(id):
		return errors.New("-destination-id is not valid UTF-8")
	case utf8.RuneCountInString(id) > maxDestinationID:
		return fmt.Errorf("-destination-id is longer than %d characters", maxDestinationID)
	}
	for _, c := range id {
		if unicode.IsSpace(c) || !unicode.IsPrint(c) {
			return fmt.Errorf("-destination-id %s contains whitespace or a control character (%U)", strconv.Quote(id), c)
		}
	}
	return nil
}

// listDestinations prints the department's accounts: id, status, whether
// it is the payout account, the masked IBAN and the destination id.
func listDestinations(ctx context.Context, store *dynamo.Store, partner, dept string, out io.Writer) error {
	d, accounts, err := store.ListDepartmentAccounts(ctx, partner, dept)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "department %s (organisation %s), KYC %s\n", d.ID, d.OrgID, orNone(d.KYCStatus))
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ACCOUNT\tSTATUS\tPAYOUT\tIBAN\tDESTINATION")
	for _, a := range accounts {
		payout := "no"
		if a.ID == d.PayoutAccountID {
			payout = "yes"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", a.ID, a.Status, payout, identifier.MaskIBAN(a.IBAN), orNone(a.AiiaDestinationID))
	}
	if len(accounts) == 0 {
		fmt.Fprintln(w, "(no bank account)")
	}
	return w.Flush()
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// destinationRecord is an operator's recording of one account's id.
type destinationRecord struct {
	partner, dept, account, dest string
	replace                      bool
	actor                        event.Actor
}

// transactor is the one DynamoDB call a record makes.
type transactor interface {
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// record checks the account as read (it exists in the department, is
// verified, has no other id unless replacing) and writes. A nil event:
// the id was already the account's.
func (r destinationRecord) record(ctx context.Context, db transactor, store *dynamo.Store, table string, now time.Time, newID func(string) string) (*event.Event, error) {
	_, a, err := store.GetDepartmentAccount(ctx, r.partner, r.dept, r.account)
	if err != nil {
		return nil, fmt.Errorf("partner %s, department %s, bank account %s: %w", r.partner, r.dept, r.account, err)
	}
	switch {
	case a.Status != department.AccountVerified:
		return nil, fmt.Errorf("bank account %s is %s: only a verified account is paid into, so only a verified account gets a destination id (bank-account-decide first)", a.ID, a.Status)
	case a.AiiaDestinationID == r.dest:
		return nil, nil
	case a.AiiaDestinationID != "" && !r.replace:
		return nil, fmt.Errorf("bank account %s already has destination %s: pass -replace to replace it with %s", a.ID, a.AiiaDestinationID, r.dest)
	}
	ev, err := r.write(ctx, db, table, a.OrgID, a.AiiaDestinationID, now, newID)
	if err != nil {
		return nil, err
	}
	return &ev, nil
}

// write records r.dest on the account whose id read was prev ("" none),
// with its event, in one transaction whose condition is what was checked:
// the account exists (in this partner's department: its key), is verified
// (or "active", the status of accounts older than verification, which
// reads as verified), and still has prev.
func (r destinationRecord) write(ctx context.Context, db transactor, table, orgID, prev string, now time.Time, newID func(string) string) (event.Event, error) {
	before := map[string]any{"aiia_destination_id": nil}
	if prev != "" {
		before["aiia_destination_id"] = prev
	}
	data := map[string]any{"department_id": r.dept, "bank_account_id": r.account, "aiia_destination_id": r.dest}
	if prev != "" {
		data["previous_aiia_destination_id"] = prev
	}
	ev, err := event.New(newID("evt"), EventDestinationRecorded, now, r.partner, orgID, r.actor, data,
		event.Change{ResourceType: "bank_account", ResourceID: r.account, Action: "destination_recorded",
			Before: event.Snapshot(before), After: event.Snapshot(map[string]any{"aiia_destination_id": r.dest})})
	if err != nil {
		return event.Event{}, err
	}
	outbox, err := outboxItem(ev)
	if err != nil {
		return event.Event{}, err
	}
	cond := "attribute_exists(PK) AND (#status = :verified OR #status = :legacy) AND "
	vals := map[string]types.AttributeValue{":d": s(r.dest), ":verified": s(department.AccountVerified), ":legacy": s("active")}
	if prev == "" {
		cond += "(attribute_not_exists(aiia_destination_id) OR aiia_destination_id = :none)"
		vals[":none"] = s("")
	} else {
		cond += "aiia_destination_id = :prev"
		vals[":prev"] = s(prev)
	}
	_, err = db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Update: &types.Update{TableName: aws.String(table),
			Key:                       map[string]types.AttributeValue{"PK": s("P#" + r.partner + "#D#" + r.dept), "SK": s("BA#" + r.account)},
			UpdateExpression:          aws.String("SET aiia_destination_id = :d"),
			ConditionExpression:       aws.String(cond),
			ExpressionAttributeNames:  map[string]string{"#status": "status"},
			ExpressionAttributeValues: vals}},
		{Put: &types.Put{TableName: aws.String(table), Item: outbox, ConditionExpression: aws.String("attribute_not_exists(PK)")}},
	}})
	var tce *types.TransactionCanceledException
	if errors.As(err, &tce) && len(tce.CancellationReasons) > 0 && aws.ToString(tce.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
		return event.Event{}, fmt.Errorf("bank account %s of department %s changed while recording (it is gone, no longer verified, or its destination id was recorded meanwhile): nothing was written; list the accounts and run the command again", r.account, r.dept)
	}
	if err != nil {
		return event.Event{}, fmt.Errorf("recording the destination of bank account %s: %w", r.account, err)
	}
	return ev, nil
}

// eventRetention is the outbox's: the stream carries the event to the
// audit trail, which keeps its own copy (shared/dynamo's eventRetention).
const eventRetention = 7 * 24 * time.Hour

// outboxItem is ev as shared/dynamo writes an event item (events.go): the
// table's stream passes INSERTs of kind "event" to the router, which sends
// the record to the audit writer. A small record only: this event's is a
// few hundred bytes, far below the size that splits it into parts.
func outboxItem(ev event.Event) (map[string]types.AttributeValue, error) {
	rec, err := ev.Record()
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	if len(b) > 100_000 {
		return nil, fmt.Errorf("event %s: a record of %d bytes", ev.ID, len(b))
	}
	it := map[string]types.AttributeValue{"PK": s("EVENT#" + ev.ID), "SK": s("EVENT"), "kind": s(dynamo.KindEvent),
		"ttl":      &types.AttributeValueMemberN{Value: strconv.FormatInt(ev.Timestamp.Add(eventRetention).Unix(), 10)},
		"event_id": s(ev.ID), "event_type": s(ev.Type), "partner_id": s(ev.PartnerID), "record": s(string(b))}
	if ev.OrganizationID != "" {
		it["organization_id"] = s(ev.OrganizationID)
	}
	return it, nil
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
