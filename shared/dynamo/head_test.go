package dynamo

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/shared/audit"
	"github.com/modupay/modupay/shared/credential"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/organization"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/webhook"
)

// Every item keeps the header attributes it had before they were gathered
// in one embedded type: existing items, the indexes (sparse by absence)
// and the stream's filter on kind depend on them.
func TestItemHeaders(t *testing.T) {
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	ev, err := event.New("evt-1", "organization.created", at, "p", "o", event.Actor{}, nil, event.Change{})
	if err != nil {
		t.Fatal(err)
	}
	evItem, _, err := newEventItems(ev)
	if err != nil {
		t.Fatal(err)
	}
	header := []string{attrPK, attrSK, attrGSI1PK, attrGSI1SK, attrGSI2PK, attrGSI2SK, "kind", attrTTL}
	cases := []struct {
		name string
		item any
		want string // the header attributes present, with their values
	}{
		{"event", evItem, fmt.Sprintf("PK=EVENT#evt-1 SK=EVENT kind=event ttl=%d", at.Add(eventRetention).Unix())},
		{"organization", toOrgItem(organization.Organization{ID: "o", PartnerID: "p"}),
			"PK=P#p#O#o SK=ORG GSI1PK=P#p#ORGS GSI1SK=o kind=organization"},
		{"open invoice: in the due-date index", toInvoiceItem(invoice.Invoice{ID: "i", PartnerID: "p", OrgID: "o", Status: invoice.StatusIssued, DueDate: "2026-12-01"}),
			"PK=P#p#O#o#I#i SK=INV GSI1PK=P#p#O#o#INVS GSI1SK=i GSI2PK=" + dueShard("i") + " GSI2SK=2026-12-01#i kind=invoice"},
		{"draft invoice: not in it", toInvoiceItem(invoice.Invoice{ID: "i", PartnerID: "p", OrgID: "o", Status: "draft"}),
			"PK=P#p#O#o#I#i SK=INV GSI1PK=P#p#O#o#INVS GSI1SK=i kind=invoice"},
		{"active link: in the expiry index", toLinkItem(payment.Link{ID: "l", PartnerID: "p", OrgID: "o", Status: payment.LinkActive, ExpiresAt: at}),
			"PK=P#p#O#o#PL#l SK=PL GSI1PK=P#p#O#o#PLS GSI1SK=l GSI2PK=LINKEXP#" + dueShard("l")[len("DUE#"):] + " GSI2SK=2026-11-21T10:00:00.000000000Z#l kind=payment_link"},
		{"expired link: not in it", toLinkItem(payment.Link{ID: "l", PartnerID: "p", OrgID: "o", Status: payment.LinkExpired}),
			"PK=P#p#O#o#PL#l SK=PL GSI1PK=P#p#O#o#PLS GSI1SK=l kind=payment_link"},
		{"intent", toIntentItem(payment.Intent{ID: "pi", PartnerID: "p", OrgID: "o", InvoiceID: "i"}),
			"PK=P#p#O#o#PI#pi SK=PI GSI1PK=P#p#O#o#I#i#PIS GSI1SK=pi kind=payment_intent"},
		{"partner client: in no list", toClientItem(credential.Client{ID: "c", PartnerID: "p"}), "PK=CLIENT#c SK=CLIENT kind=client"},
		{"organisation client: in its organisation's", toClientItem(credential.Client{ID: "c", PartnerID: "p", OrgID: "o"}),
			"PK=CLIENT#c SK=CLIENT GSI1PK=P#p#O#o#CLIENTS GSI1SK=c kind=client"},
		{"revocation: no kind", revocationItem{head: head{PK: pkRevocations, SK: "s", TTL: 42}}, "PK=REVOCATIONS SK=s ttl=42"},
		{"idempotency record: no kind", idemItem{head: head{PK: idemPK("c", "k"), SK: skIdem, TTL: 42}}, "PK=" + idemPK("c", "k") + " SK=IDEM ttl=42"},
		{"audit entry", auditItem{head: head{PK: auditPK("p", "o"), SK: "s", TTL: 42, Kind: "audit"}, Entry: audit.Entry{ID: "e"}},
			"PK=AUDIT#P#p#O#o SK=s kind=audit ttl=42"},
		{"subscription", toSubItem(webhook.Subscription{ID: "s", PartnerID: "p"}), "PK=PARTNER#p SK=WHSUB#s kind=webhook_subscription"},
		{"delivery", toDeliveryItem(webhook.Delivery{ID: "d", PartnerID: "p", SubscriptionID: "s", CreatedAt: at}),
			fmt.Sprintf("PK=P#p#WHD#d SK=WHD GSI1PK=P#p#WHSUB#s#WHD GSI1SK=2026-11-21T10:00:00.000000000Z#d kind=webhook_delivery ttl=%d", at.Add(webhook.Retention).Unix())},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := marshal(tc.item)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, a := range header {
				switch v := m[a].(type) {
				case nil:
				case *types.AttributeValueMemberS:
					got = append(got, a+"="+v.Value)
				case *types.AttributeValueMemberN:
					got = append(got, a+"="+v.Value)
				default:
					t.Errorf("%s is a %T, want a string or a number", a, v)
				}
			}
			if got, want := fmt.Sprint(got), "["+tc.want+"]"; got != want {
				t.Errorf("header = %s\nwant     %s", got, want)
			}
			// And it reads back.
			var back head
			if err := unmarshal(m, &back); err != nil || back.PK == "" || back.SK == "" {
				t.Errorf("read back: %+v, %v", back, err)
			}
		})
	}
}

// A record too large for one item is cut into parts under the item limit,
// never inside a character, and joined back exactly.
func TestLargeEventRecordsAreCutIntoParts(t *testing.T) {
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	for _, n := range []int{10, 200_000, 700_000} {
		ev, err := event.New("evt-big", "invoice.updated", at, "p", "o", event.Actor{}, map[string]string{"text": strings.Repeat("é€", n/5)}, event.Change{})
		if err != nil {
			t.Fatal(err)
		}
		it, parts, err := newEventItems(ev)
		if err != nil {
			t.Fatal(err)
		}
		rec, _ := ev.Record()
		whole, _ := json.Marshal(rec)
		joined := it.Record
		for i, p := range parts {
			if len(p.Chunk) > maxRecordPart || !utf8.ValidString(p.Chunk) || p.PK != it.PK || p.SK != fmt.Sprintf("PART#%03d", i) || p.Kind != KindEventPart || p.TTL != it.TTL {
				t.Fatalf("%d: part %d: %d bytes, valid %v, keys %s %s %s", n, i, len(p.Chunk), utf8.ValidString(p.Chunk), p.PK, p.SK, p.Kind)
			}
			joined += p.Chunk
		}
		if joined != string(whole) || (len(whole) > maxInlineRecord) != (len(parts) > 0) || it.Parts != len(parts) {
			t.Fatalf("%d bytes: %d parts, joined back %v", len(whole), len(parts), joined == string(whole))
		}
	}
}
