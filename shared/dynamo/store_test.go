package dynamo_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/modupay/modupay/infra/engines/enginetest"
	"github.com/modupay/modupay/infra/stacktest"
	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/audit"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/credential"
	"github.com/modupay/modupay/shared/dynamo"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/idempotency"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/organization"
	"github.com/modupay/modupay/shared/wiring"
)

func TestMain(m *testing.M) { enginetest.Main(m) }

func newStore(t *testing.T) (*dynamo.Store, *stacktest.Clock) {
	t.Helper()
	st := stacktest.New(t)
	awsCfg, err := awsconfig.LoadDefaultConfig(context.Background(), awsconfig.WithRegion(st.Config.Region),
		awsconfig.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("local", "local", "")))
	if err != nil {
		t.Fatal(err)
	}
	clk := stacktest.NewClock(time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC))
	return dynamo.New(wiring.NewDynamoDB(awsCfg, st.Config.DynamoDBEndpoint), st.Config.Table, clk.Now), clk
}

func mustOrg(t *testing.T, s *dynamo.Store, partner, id, name string) organization.Organization {
	t.Helper()
	org := organization.Organization{ID: id, PartnerID: partner, Type: organization.TypeCompany, Name: name, SIRET: "73282932000074", SIREN: "732829320",
		Address: organization.Address{Line1: "1 rue", PostalCode: "75001", City: "Paris", Country: "FR"}, Status: "active"}
	ev, err := event.New("evt-"+id, "organization.created", time.Now(), partner, id, event.Actor{ID: "c", Type: "partner"}, map[string]string{"organization_id": id}, event.Change{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateOrganization(context.Background(), org, ev); err != nil {
		t.Fatalf("CreateOrganization(%s): %v", id, err)
	}
	return org
}

func TestOrganizationsAreTenantScoped(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	mustOrg(t, s, "partner-a", "org-1", "Alpha")
	if _, err := s.GetOrganization(ctx, "partner-a", "org-1"); err != nil {
		t.Fatalf("own organisation: %v", err)
	}
	_, err := s.GetOrganization(ctx, "partner-b", "org-1")
	if got, want := apperr.CodeOf(err), apperr.NotFound; got != want {
		t.Fatalf("other partner's organisation: code %s, want %s", got, want)
	}
	// The same event id twice must fail the whole transaction: nothing half-written.
	org := organization.Organization{ID: "org-2", PartnerID: "partner-a", Name: "Beta"}
	ev, _ := event.New("evt-org-1", "organization.created", time.Now(), "partner-a", "org-2", event.Actor{}, nil, event.Change{})
	if err := s.CreateOrganization(ctx, org, ev); err == nil {
		t.Fatal("reused event id: want the transaction to fail")
	}
	if _, err := s.GetOrganization(ctx, "partner-a", "org-2"); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("organisation written although its event failed: %v", err)
	}
}

func TestListPagesWithCursorAndNumbers(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	for i := 0; i < 7; i++ {
		mustOrg(t, s, "partner-a", fmt.Sprintf("org-%02d", i), fmt.Sprintf("Org %d", i))
	}
	mustOrg(t, s, "partner-b", "org-zz", "Other")

	var seen []string
	q := listing.Query{Page: 1, Size: 3}
	for pages := 0; ; pages++ {
		p, err := s.ListOrganizations(ctx, "partner-a", q, organization.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := p.Total, 7; got != want {
			t.Fatalf("total = %d, want %d", got, want)
		}
		for _, o := range p.Items {
			seen = append(seen, o.ID)
		}
		if p.Next == "" {
			break
		}
		if pages > 5 {
			t.Fatal("cursor never ends")
		}
		q.Cursor = p.Next
	}
	if got, want := fmt.Sprint(seen), "[org-00 org-01 org-02 org-03 org-04 org-05 org-06]"; got != want {
		t.Fatalf("walked %s, want %s", got, want)
	}
	p3, err := s.ListOrganizations(ctx, "partner-a", listing.Query{Page: 3, Size: 3}, organization.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p3.Items) != 1 || p3.Items[0].ID != "org-06" || p3.Next != "" {
		t.Fatalf("page 3 = %+v, want only org-06 and no next", p3)
	}
	// A cursor from partner-a's list is refused on partner-b's list.
	first, _ := s.ListOrganizations(ctx, "partner-a", listing.Query{Page: 1, Size: 3}, organization.Filter{})
	_, err = s.ListOrganizations(ctx, "partner-b", listing.Query{Page: 1, Size: 3, Cursor: first.Next}, organization.Filter{})
	if ae, ok := apperr.As(err); !ok || ae.Param != "cursor" {
		t.Fatalf("foreign cursor: err = %v, want a 422 on cursor", err)
	}
	// Filters.
	f, err := s.ListOrganizations(ctx, "partner-a", listing.Query{Page: 1, Size: 10}, organization.Filter{Name: "ORG 3"})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Items) != 1 || f.Items[0].ID != "org-03" || f.Total != -1 {
		t.Fatalf("name filter = %+v, want org-03 with an unknown total", f)
	}
}

func TestIdempotencyBeginIsExclusive(t *testing.T) {
	s, clk := newStore(t)
	ctx := context.Background()
	rec := idempotency.Record{Scope: "cli-1", Key: "k-1", Fingerprint: "fp", LockedUntil: clk.Now().Add(30 * time.Second), ExpiresAt: clk.Now().Add(24 * time.Hour)}
	const n = 16
	var wg sync.WaitGroup
	winners := make(chan int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := rec
			holder, err := s.Begin(ctx, &r)
			if err != nil {
				t.Errorf("Begin: %v", err)
				return
			}
			if holder == nil {
				winners <- i
			} else if holder.Completed || holder.Fingerprint != "fp" {
				t.Errorf("holder = %+v, want the in-progress claim", holder)
			}
		}(i)
	}
	wg.Wait()
	close(winners)
	if got := len(winners); got != 1 {
		t.Fatalf("%d concurrent Begins won, want exactly 1", got)
	}
	// Completed: every later Begin gets the stored response.
	rec.Completed, rec.Status, rec.Body = true, 201, []byte(`{"id":"x"}`)
	if err := s.Complete(ctx, rec); err != nil {
		t.Fatal(err)
	}
	holder, err := s.Begin(ctx, &rec)
	if err != nil || holder == nil || !holder.Completed || holder.Status != 201 || string(holder.Body) != `{"id":"x"}` {
		t.Fatalf("after Complete: holder = %+v, err = %v", holder, err)
	}
	// A crashed request's claim can be taken over once its lock lapses, not before.
	other := rec
	other.Key, other.Completed = "k-2", false
	if h, _ := s.Begin(ctx, &other); h != nil {
		t.Fatal("fresh key: want the claim")
	}
	if h, _ := s.Begin(ctx, &other); h == nil {
		t.Fatal("claim held: want the holder")
	}
	clk.Advance(31 * time.Second)
	other.LockedUntil = clk.Now().Add(30 * time.Second)
	if h, err := s.Begin(ctx, &other); h != nil || err != nil {
		t.Fatalf("lapsed claim: holder = %+v, err = %v; want it taken over", h, err)
	}
	// Released claims can be claimed again at once.
	if err := s.Release(ctx, other.Scope, other.Key); err != nil {
		t.Fatal(err)
	}
	if h, _ := s.Begin(ctx, &other); h != nil {
		t.Fatal("after Release: want the claim")
	}
	// Keys are scoped to the client.
	foreign := rec
	foreign.Scope = "cli-2"
	if h, _ := s.Begin(ctx, &foreign); h != nil {
		t.Fatal("another client's identical key must be independent")
	}
}

func TestRevocationAndClients(t *testing.T) {
	s, clk := newStore(t)
	ctx := context.Background()
	mustOrg(t, s, "partner-a", "org-1", "Alpha")
	c := credential.Client{ID: "cli-1", PartnerID: "partner-a", OrgID: "org-1", Scope: auth.ScopeOrganization, Role: auth.RoleAnalyst,
		SecretHash: auth.HashSecret("s"), Status: credential.StatusActive, CreatedAt: clk.Now()}
	ev := func(id string) event.Event {
		e, _ := event.New(id, "api_client.created", clk.Now(), "partner-a", "org-1", event.Actor{}, nil, event.Change{})
		return e
	}
	if err := s.CreateClient(ctx, c, ev("evt-1")); err != nil {
		t.Fatal(err)
	}
	other := c
	other.ID, other.PartnerID = "cli-2", "partner-b"
	if err := s.CreateClient(ctx, other, ev("evt-2")); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("client under another partner's organisation: err = %v, want not found", err)
	}
	cache := dynamo.NewRevocationCache(s)
	if revoked, err := cache.Revoked(ctx, "cli-1", clk.Now()); err != nil || revoked {
		t.Fatalf("before revocation: revoked = %v, err = %v", revoked, err)
	}
	if _, err := s.RevokeClient(ctx, "partner-b", "org-1", "cli-1", clk.Now(), func(credential.Client) (event.Event, error) { return ev("evt-3"), nil }); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("revocation by another partner: err = %v, want not found", err)
	}
	got, err := s.RevokeClient(ctx, "partner-a", "org-1", "cli-1", clk.Now(), func(credential.Client) (event.Event, error) { return ev("evt-4"), nil })
	if err != nil || got.Status != credential.StatusRevoked {
		t.Fatalf("revoke: %+v, %v", got, err)
	}
	// Within the refresh bound the cache may still say no; after it, yes.
	clk.Advance(dynamo.RevocationRefresh)
	if revoked, err := cache.Revoked(ctx, "cli-1", clk.Now()); err != nil || !revoked {
		t.Fatalf("after the refresh bound: revoked = %v, err = %v, want true", revoked, err)
	}
	stored, err := s.GetClient(ctx, "cli-1")
	if err != nil || stored.Status != credential.StatusRevoked {
		t.Fatalf("stored client = %+v, %v", stored, err)
	}
}

func TestAuditEntriesAreWrittenOnce(t *testing.T) {
	s, clk := newStore(t)
	ctx := context.Background()
	e := audit.Entry{ID: "log-evt-1", Timestamp: clk.Now(), PartnerID: "partner-a", OrganizationID: "org-1", EventType: "organization.created",
		ResourceType: "organization", ResourceID: "org-1", Action: "created", UserID: "c", UserType: "partner", Changes: []byte(`{"before":null,"after":{}}`)}
	for i := 0; i < 3; i++ {
		if err := s.PutAuditEntry(ctx, e); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	n, err := s.CountAuditEntries(ctx, "partner-a", "org-1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := n, 1; got != want {
		t.Fatalf("audit entries = %d, want %d", got, want)
	}
}

// A list asked for no total (the dashboard's pages) skips the COUNT the
// API's total_items costs, and pages the same items; page 2 by number too.
func TestListsWithoutTotal(t *testing.T) {
	s, _ := newStore(t)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		mustOrg(t, s, "partner-a", fmt.Sprintf("org-%02d", i), fmt.Sprintf("Org %d", i))
	}
	for _, page := range []int{1, 2} {
		counted, err := s.ListOrganizations(ctx, "partner-a", listing.Query{Page: page, Size: 3}, organization.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		plain, err := s.ListOrganizations(ctx, "partner-a", listing.Query{Page: page, Size: 3, NoTotal: true}, organization.Filter{})
		if err != nil {
			t.Fatal(err)
		}
		if counted.Total != 5 || plain.Total != -1 {
			t.Errorf("page %d: totals %d and %d, want 5 counted and -1 not", page, counted.Total, plain.Total)
		}
		names := func(p listing.Page[organization.Organization]) (out []string) {
			for _, o := range p.Items {
				out = append(out, o.ID)
			}
			return out
		}
		if fmt.Sprint(names(counted)) != fmt.Sprint(names(plain)) || counted.Next != plain.Next || len(plain.Items) == 0 {
			t.Errorf("page %d: %v next %q without the total, %v next %q with it", page, names(plain), plain.Next, names(counted), counted.Next)
		}
	}
	seedTrail(t, s)
	counted, err := s.ListEntries(ctx, "ptn", "org-1", audit.Query{Page: listing.Query{Page: 1, Size: 3}})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := s.ListEntries(ctx, "ptn", "org-1", audit.Query{Page: listing.Query{Page: 1, Size: 3, NoTotal: true}})
	if err != nil {
		t.Fatal(err)
	}
	if counted.Total <= 0 || plain.Total != -1 || len(plain.Items) != 3 || plain.Next == "" {
		t.Errorf("the trail's first page: total %d counted, %d not (%d items, next %q)", counted.Total, plain.Total, len(plain.Items), plain.Next)
	}
}
