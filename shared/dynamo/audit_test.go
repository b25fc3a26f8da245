package dynamo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/modupay/modupay/infra/stacktest"
	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/audit"
	"github.com/modupay/modupay/shared/dynamo"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/wiring"
)

// The audit trail on DynamoDB Local: one entry per event whatever the
// redeliveries, and every filter of GET /v1/audit_logs read from its own
// partition, newest first, within one tenant.

var auditT0 = time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)

func auditEntry(i int, org, typ, res, action, user string) audit.Entry {
	return audit.Entry{ID: fmt.Sprintf("log-evt-%03d", i), Timestamp: auditT0.Add(time.Duration(i) * time.Minute), PartnerID: "ptn", OrganizationID: org,
		EventType: typ + "." + action, ResourceType: typ, ResourceID: res, Action: action, UserID: user, UserType: "partner",
		Changes: json.RawMessage(`{"before":null,"after":{"n":` + fmt.Sprint(i) + `}}`)}
}

// seedTrail writes 12 entries in org-1 (invoices inv-a and inv-b by two
// users, an organisation) and 3 in org-2, returned by id.
func seedTrail(t *testing.T, s *dynamo.Store) {
	t.Helper()
	ctx := context.Background()
	var es []audit.Entry
	for i := 0; i < 12; i++ {
		switch {
		case i%3 == 0:
			es = append(es, auditEntry(i, "org-1", "invoice", "inv-a", map[bool]string{true: "created", false: "status_changed"}[i == 0], "alice"))
		case i%3 == 1:
			es = append(es, auditEntry(i, "org-1", "invoice", "inv-b", "status_changed", "bob"))
		default:
			es = append(es, auditEntry(i, "org-1", "organization", "org-1", "updated", "alice"))
		}
	}
	for i := 100; i < 103; i++ {
		es = append(es, auditEntry(i, "org-2", "invoice", "inv-z", "created", "alice"))
	}
	for _, e := range es {
		if err := s.PutAuditEntry(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
}

func ids(p listing.Page[audit.Entry]) []string {
	var out []string
	for _, e := range p.Items {
		out = append(out, e.ID[len("log-evt-"):])
	}
	return out
}

func TestAuditFiltersReadTheirPartitionNewestFirst(t *testing.T) {
	s, _ := newStore(t)
	seedTrail(t, s)
	ctx := context.Background()
	page := listing.Query{Page: 1, Size: 20}
	for _, tc := range []struct {
		name  string
		q     audit.Query
		want  string
		total int
	}{
		{"everything", audit.Query{}, "[011 010 009 008 007 006 005 004 003 002 001 000]", 12},
		{"resource type", audit.Query{ResourceType: "organization"}, "[011 008 005 002]", 4},
		{"resource", audit.Query{ResourceID: "inv-a"}, "[009 006 003 000]", 4},
		{"resource of the right type", audit.Query{ResourceType: "invoice", ResourceID: "inv-a"}, "[009 006 003 000]", -1},
		{"resource of another type", audit.Query{ResourceType: "organization", ResourceID: "inv-a"}, "[]", -1},
		{"action", audit.Query{Action: "created"}, "[000]", 1},
		{"user", audit.Query{UserID: "bob"}, "[010 007 004 001]", 4},
		{"user and type", audit.Query{UserID: "alice", ResourceType: "invoice"}, "[009 006 003 000]", -1},
		{"user and action", audit.Query{UserID: "alice", Action: "updated"}, "[011 008 005 002]", -1},
		{"from", audit.Query{From: auditT0.Add(9 * time.Minute)}, "[011 010 009]", 3},
		{"to, inclusive", audit.Query{To: auditT0.Add(2 * time.Minute)}, "[002 001 000]", 3},
		{"range of one type", audit.Query{ResourceType: "invoice", From: auditT0.Add(3 * time.Minute), To: auditT0.Add(7 * time.Minute)}, "[007 006 004 003]", 4},
		{"an action nobody did", audit.Query{Action: "deleted"}, "[]", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.q.Page = page
			p, err := s.ListEntries(ctx, "ptn", "org-1", tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(ids(p)); got != tc.want || p.Total != tc.total || p.Next != "" {
				t.Errorf("got %s total %d next %q, want %s total %d", got, p.Total, p.Next, tc.want, tc.total)
			}
		})
	}
	// The other organisation and the partner's own trail see none of it.
	if p, _ := s.ListEntries(ctx, "ptn", "org-2", audit.Query{Page: page}); fmt.Sprint(ids(p)) != "[102 101 100]" {
		t.Errorf("org-2's trail: %v", ids(p))
	}
	if p, _ := s.ListEntries(ctx, "ptn", "org-2", audit.Query{ResourceID: "inv-a", Page: page}); len(p.Items) != 0 {
		t.Errorf("org-2 reads org-1's invoice: %v", ids(p))
	}
	if p, _ := s.ListEntries(ctx, "other", "org-1", audit.Query{Page: page}); len(p.Items) != 0 {
		t.Errorf("another partner reads org-1: %v", ids(p))
	}
	if p, _ := s.ListEntries(ctx, "ptn", "", audit.Query{Page: page}); len(p.Items) != 0 {
		t.Errorf("the partner level holds organisation entries: %v", ids(p))
	}
}

// Pages by cursor walk the whole filtered trail once, and a cursor is
// bound to its partition: another tenant's, or another filter's, is refused.
func TestAuditCursor(t *testing.T) {
	s, _ := newStore(t)
	seedTrail(t, s)
	ctx := context.Background()
	var all []string
	cursor := ""
	var first string
	for i := 0; i < 10; i++ {
		p, err := s.ListEntries(ctx, "ptn", "org-1", audit.Query{ResourceType: "invoice", Page: listing.Query{Page: 1, Size: 3, Cursor: cursor}})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, ids(p)...)
		if i == 0 {
			first = p.Next
			if p.Total != 8 {
				t.Errorf("first page: total %d, want 8", p.Total)
			}
		} else if p.Total != -1 {
			t.Errorf("page %d by cursor: total %d, want it not counted again", i+1, p.Total)
		}
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	if fmt.Sprint(all) != "[010 009 007 006 004 003 001 000]" {
		t.Errorf("walked %v", all)
	}
	for _, tc := range []struct {
		name, partner, org string
		q                  audit.Query
	}{
		{"another organisation", "ptn", "org-2", audit.Query{ResourceType: "invoice"}},
		{"another partner", "other", "org-1", audit.Query{ResourceType: "invoice"}},
		{"another filter", "ptn", "org-1", audit.Query{ResourceType: "organization"}},
	} {
		tc.q.Page = listing.Query{Page: 1, Size: 3, Cursor: first}
		if _, err := s.ListEntries(ctx, tc.partner, tc.org, tc.q); apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("%s with org-1's cursor: %v, want invalid cursor", tc.name, err)
		}
	}
	if _, err := s.ListEntries(ctx, "ptn", "org-1", audit.Query{Page: listing.Query{Page: 1, Size: 3, Cursor: "not-a-cursor"}}); apperr.CodeOf(err) != apperr.Invalid {
		t.Errorf("forged cursor: %v", err)
	}
}

// One entry per event: the same entry written again, even concurrently,
// leaves one entry and one copy per filter; the entry keeps seven calendar
// years.
func TestAuditEntryWrittenOnce(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	e := auditEntry(1, "org-1", "invoice", "inv-a", "created", "alice")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.PutAuditEntry(ctx, e)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("a redelivery: %v", err)
		}
	}
	for _, q := range []audit.Query{{}, {ResourceType: "invoice"}, {ResourceID: "inv-a"}, {Action: "created"}, {UserID: "alice"}} {
		q.Page = listing.Query{Page: 1, Size: 20}
		if p, err := s.ListEntries(ctx, "ptn", "org-1", q); err != nil || len(p.Items) != 1 || p.Total != 1 {
			t.Errorf("%+v: %d entries, total %d, %v", q, len(p.Items), p.Total, err)
		}
	}
	if n, _ := s.CountAuditEntries(ctx, "ptn", "org-1"); n != 1 {
		t.Errorf("%d entries in the trail, want 1", n)
	}
}

// total_items is counted up to 1 000 entries, and null beyond.
func TestAuditTotalIsBounded(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	put := func(from, to int) {
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		for i := from; i < to; i++ {
			wg.Add(1)
			sem <- struct{}{}
			go func(i int) {
				defer wg.Done()
				defer func() { <-sem }()
				if err := s.PutAuditEntry(ctx, auditEntry(i, "org-1", "invoice", fmt.Sprintf("inv-%d", i), "created", "alice")); err != nil {
					t.Error(err)
				}
			}(i)
		}
		wg.Wait()
	}
	put(0, 1000)
	p, err := s.ListEntries(ctx, "ptn", "org-1", audit.Query{Page: listing.Query{Page: 1, Size: 5}})
	if err != nil || p.Total != 1000 || len(p.Items) != 5 {
		t.Fatalf("1 000 entries: total %d, %d items, %v", p.Total, len(p.Items), err)
	}
	put(1000, 1001)
	if p, err := s.ListEntries(ctx, "ptn", "org-1", audit.Query{Page: listing.Query{Page: 1, Size: 5}}); err != nil || p.Total != -1 || p.Next == "" {
		t.Errorf("1 001 entries: total %d, next %q, %v; want an unknown total", p.Total, p.Next, err)
	}
	if p, err := s.ListEntries(ctx, "ptn", "org-1", audit.Query{ResourceID: "inv-1000", Page: listing.Query{Page: 1, Size: 5}}); err != nil || p.Total != 1 {
		t.Errorf("one resource among 1 001: total %d, %v", p.Total, err)
	}
}

// countingDB counts Query calls.
type countingDB struct {
	dynamo.DB
	queries atomic.Int64
}

func (c *countingDB) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.queries.Add(1)
	return c.DB.Query(ctx, in, opts...)
}

// Two filters at once read page_size entries of the most selective
// partition per page, whatever they find: a user with 300 entries of
// another kind costs one Query per page, not a read of the whole history;
// and a cursor of other dates is refused, not sent to DynamoDB.
func TestAuditTwoFiltersCostOnePagePerPage(t *testing.T) {
	st := stacktest.New(t)
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion(st.Config.Region),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	if err != nil {
		t.Fatal(err)
	}
	db := &countingDB{DB: wiring.NewDynamoDB(awsCfg, st.Config.DynamoDBEndpoint)}
	s := dynamo.New(db, st.Config.Table, time.Now)
	ctx := context.Background()
	var es []audit.Entry
	for i := 0; i < 2; i++ {
		es = append(es, auditEntry(i, "org-1", "invoice", fmt.Sprintf("inv-%d", i), "created", "alice"))
	}
	for i := 2; i < 302; i++ {
		es = append(es, auditEntry(i, "org-1", "organization", "org-1", "updated", "alice"))
	}
	for _, e := range es {
		if err := s.PutAuditEntry(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	q := audit.Query{UserID: "alice", ResourceType: "invoice", Page: listing.Query{Page: 1, Size: 20}}
	db.queries.Store(0)
	first, err := s.ListEntries(ctx, "ptn", "org-1", q)
	if err != nil || len(first.Items) != 0 || first.Next == "" || db.queries.Load() != 1 {
		t.Fatalf("first page: %d entries, next %q, %d queries, %v; want an empty page, a cursor, one query", len(first.Items), first.Next, db.queries.Load(), err)
	}
	var found []string
	pages := 0
	for q.Page.Cursor = first.Next; q.Page.Cursor != ""; pages++ {
		p, err := s.ListEntries(ctx, "ptn", "org-1", q)
		if err != nil {
			t.Fatal(err)
		}
		found = append(found, ids(p)...)
		q.Page.Cursor = p.Next
		if pages > 20 {
			t.Fatal("the walk does not end")
		}
	}
	if fmt.Sprint(found) != "[001 000]" || db.queries.Load() != int64(pages)+1 || pages > 15 {
		t.Errorf("walk found %v in %d pages and %d queries", found, pages+1, db.queries.Load())
	}
	if _, err := s.ListEntries(ctx, "ptn", "org-1", audit.Query{UserID: "alice", ResourceType: "invoice", Page: listing.Query{Page: 2, Size: 20}}); apperr.CodeOf(err) != apperr.Invalid {
		t.Errorf("page 2 with two filters: %v, want refused", err)
	}
	// A cursor of the unbounded trail, replayed with dates it lies outside.
	whole, _ := s.ListEntries(ctx, "ptn", "org-1", audit.Query{Page: listing.Query{Page: 1, Size: 5}})
	for _, dates := range []audit.Query{{To: auditT0}, {From: auditT0.Add(400 * time.Minute)}} {
		dates.Page = listing.Query{Page: 1, Size: 5, Cursor: whole.Next}
		if _, err := s.ListEntries(ctx, "ptn", "org-1", dates); apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("cursor outside %v–%v: %v, want refused", dates.From, dates.To, err)
		}
	}
}
