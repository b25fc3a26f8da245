package dynamo_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/audit/apicall"
	"github.com/modupay/modupay/shared/listing"
)

// The API call log on DynamoDB Local: one item per request whatever the
// redeliveries, newest first, filtered by client and dates, in one tenant.

var callT0 = time.Date(2026, 2, 28, 23, 0, 0, 0, time.UTC)

func call(i int, org, client string) apicall.Call {
	return apicall.Call{RequestID: fmt.Sprintf("req-%03d", i), Timestamp: callT0.Add(time.Duration(i) * time.Minute), PartnerID: "ptn", OrgID: org,
		Method: "GET", Route: "GET /v1/invoices/{invoice_id}", Status: 200, LatencyMS: int64(i), ClientID: client, UserType: "partner", IPAddress: "203.0.113.42"}
}

func callIDs(p listing.Page[apicall.Call]) []string {
	var out []string
	for _, c := range p.Items {
		out = append(out, c.RequestID[len("req-"):])
	}
	return out
}

func TestAPICallsWrittenOnceAndReadNewestFirst(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	var calls []apicall.Call
	for i := 0; i < 30; i++ {
		client := "alice"
		if i%3 == 0 {
			client = "bob"
		}
		calls = append(calls, call(i, "org-1", client))
	}
	calls = append(calls, call(100, "org-2", "alice"), call(101, "", "alice"))
	// The same call twice in one batch (a duplicate delivery) and again in
	// a later batch (a redelivery): one item.
	calls = append(calls, calls[0])
	for i, err := range s.PutAPICalls(ctx, calls) {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	for _, err := range s.PutAPICalls(ctx, calls[:3]) {
		if err != nil {
			t.Fatal(err)
		}
	}

	page, err := s.ListAPICalls(ctx, "ptn", "org-1", apicall.Query{Page: listing.Query{Page: 1, Size: 5}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := callIDs(page), []string{"029", "028", "027", "026", "025"}; !slices.Equal(got, want) {
		t.Errorf("first page = %v, want %v", got, want)
	}
	if page.Total != 30 {
		t.Errorf("total = %d, want 30 (the duplicates are one item each)", page.Total)
	}
	got := page.Items[0]
	want := calls[29]
	if !got.Timestamp.Equal(want.Timestamp) || got.Route != want.Route || got.Status != 200 || got.ClientID != "alice" ||
		got.PartnerID != "ptn" || got.OrgID != "org-1" || got.IPAddress != want.IPAddress || got.LatencyMS != 29 || got.Method != "GET" || got.UserType != "partner" {
		t.Errorf("call read back = %+v, want %+v", got, want)
	}

	// Walk by cursor: every call once, newest first.
	var all []string
	q := apicall.Query{Page: listing.Query{Page: 1, Size: 7}}
	for {
		p, err := s.ListAPICalls(ctx, "ptn", "org-1", q)
		if err != nil {
			t.Fatal(err)
		}
		if q.Page.Cursor != "" && p.Total != -1 {
			t.Errorf("a page by cursor counted total_items (%d): it must cost one Query", p.Total)
		}
		all = append(all, callIDs(p)...)
		if p.Next == "" {
			break
		}
		q.Page.Cursor = p.Next
	}
	if len(all) != 30 || all[0] != "029" || all[29] != "000" {
		t.Errorf("walk by cursor = %v", all)
	}

	// By client (GSI1) and by dates (an SK range); both together.
	p, err := s.ListAPICalls(ctx, "ptn", "org-1", apicall.Query{UserID: "bob", Page: listing.Query{Page: 1, Size: 50}})
	if err != nil {
		t.Fatal(err)
	}
	if got := callIDs(p); len(got) != 10 || got[0] != "027" || got[9] != "000" || p.Total != 10 {
		t.Errorf("bob's calls = %v (total %d)", got, p.Total)
	}
	from, to := callT0.Add(10*time.Minute), callT0.Add(14*time.Minute)
	p, err = s.ListAPICalls(ctx, "ptn", "org-1", apicall.Query{From: from, To: to, Page: listing.Query{Page: 1, Size: 50}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := callIDs(p), []string{"014", "013", "012", "011", "010"}; !slices.Equal(got, want) {
		t.Errorf("calls from %v to %v (inclusive) = %v, want %v", from, to, got, want)
	}
	p, err = s.ListAPICalls(ctx, "ptn", "org-1", apicall.Query{UserID: "bob", From: from, To: to, Page: listing.Query{Page: 1, Size: 50}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := callIDs(p), []string{"012"}; !slices.Equal(got, want) {
		t.Errorf("bob's calls in the range = %v, want %v", got, want)
	}

	// Tenants: another organisation, the partner's own calls, another partner.
	for _, tc := range []struct {
		partner, org string
		want         []string
	}{{"ptn", "org-2", []string{"100"}}, {"ptn", "", []string{"101"}}, {"other", "org-1", nil}} {
		p, err := s.ListAPICalls(ctx, tc.partner, tc.org, apicall.Query{Page: listing.Query{Page: 1, Size: 50}})
		if err != nil {
			t.Fatal(err)
		}
		if got := callIDs(p); !slices.Equal(got, tc.want) {
			t.Errorf("%s/%s calls = %v, want %v", tc.partner, tc.org, got, tc.want)
		}
	}
}

// A cursor is bound to its tenant and filters: another organisation's, one
// made with other dates or another client, or a forged one is refused.
func TestAPICallCursorsAreBoundToTenantAndFilters(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	var calls []apicall.Call
	for i := 0; i < 6; i++ {
		calls = append(calls, call(i, "org-1", "alice"), call(50+i, "org-2", "alice"))
	}
	for _, err := range s.PutAPICalls(ctx, calls) {
		if err != nil {
			t.Fatal(err)
		}
	}
	first, err := s.ListAPICalls(ctx, "ptn", "org-1", apicall.Query{Page: listing.Query{Page: 1, Size: 2}})
	if err != nil || first.Next == "" {
		t.Fatalf("first page: %+v, %v", first, err)
	}
	for name, tc := range map[string]struct {
		org string
		q   apicall.Query
	}{
		"another organisation": {"org-2", apicall.Query{}},
		"other dates":          {"org-1", apicall.Query{From: callT0}},
		"a client filter":      {"org-1", apicall.Query{UserID: "alice"}},
		"forged":               {"org-1", apicall.Query{}},
	} {
		tc.q.Page = listing.Query{Page: 1, Size: 2, Cursor: first.Next}
		if name == "forged" {
			tc.q.Page.Cursor = first.Next[:17] + "eyJQSyI6IkFQSUNBTEwjUCNwdG4jTyNvcmctMiJ9"
		}
		_, err := s.ListAPICalls(ctx, "ptn", tc.org, tc.q)
		if apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("%s: err = %v, want a refused cursor (%s)", name, err, apperr.Invalid)
		}
	}
}

// The TTL is one calendar year from the call, by the calendar: 28 February
// 2027 expires on 28 February 2028 (not the 27th, as 365 days would say
// across a leap day), and 29 February 2028 on 1 March 2029 (AddDate
// normalises the day that 2029 lacks).
func TestAPICallTTLIsOneCalendarYear(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	for _, tc := range []struct{ at, want time.Time }{
		{time.Date(2027, 2, 28, 23, 30, 0, 0, time.UTC), time.Date(2028, 2, 28, 23, 30, 0, 0, time.UTC)},
		{time.Date(2028, 2, 29, 12, 0, 0, 0, time.UTC), time.Date(2029, 3, 1, 12, 0, 0, 0, time.UTC)},
	} {
		c := call(0, "org-1", "alice")
		c.Timestamp = tc.at
		for _, err := range s.PutAPICalls(ctx, []apicall.Call{c}) {
			if err != nil {
				t.Fatal(err)
			}
		}
		out, err := s.RawDB().GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.Table()), Key: map[string]types.AttributeValue{
			"PK": &types.AttributeValueMemberS{Value: "APICALL#P#ptn#O#org-1"},
			"SK": &types.AttributeValueMemberS{Value: tc.at.Format("2006-01-02T15:04:05.000000000Z") + "#req-000"}}})
		if err != nil || out.Item == nil {
			t.Fatalf("item: %v, %v", out, err)
		}
		ttl, _ := strconv.ParseInt(out.Item["ttl"].(*types.AttributeValueMemberN).Value, 10, 64)
		if ttl != tc.want.Unix() {
			t.Errorf("call at %v: ttl = %v, want %v", tc.at, time.Unix(ttl, 0).UTC(), tc.want)
		}
		if kind := out.Item["kind"].(*types.AttributeValueMemberS).Value; kind != "api_call" {
			t.Errorf("kind = %q", kind)
		}
	}
}
