package invoice

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/backoff"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/idempotency"
	"github.com/modupay/modupay/shared/organization"
)

// raceStore is a counter that other creations keep moving: CreateInvoice
// answers ErrNumberTaken for the first `taken` attempts (all of them when
// taken < 0), then succeeds. Only the two calls of Create are served.
type raceStore struct {
	Store
	mu       sync.Mutex
	taken    int
	last     int64
	attempts int
	slow     bool // reads wait for their context to end, as a table under heavy load
}

func (s *raceStore) CreationContext(ctx context.Context, partnerID, orgID, deptID, _ string) (CreationContext, error) {
	if s.slow {
		<-ctx.Done()
		return CreationContext{}, apperr.Transient("store", ctx.Err())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return CreationContext{
		Org:        organization.Organization{ID: orgID, PartnerID: partnerID, Name: "Mairie de Lyon"},
		Department: &department.Department{ID: deptID, PartnerID: partnerID, OrgID: orgID, Name: "Régie de l'Eau"},
		LastNumber: s.last,
	}, nil
}

func (s *raceStore) CreateInvoice(_ context.Context, _ Invoice, _ string, number int64, _ event.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts++
	if s.taken < 0 || s.attempts <= s.taken {
		s.last++ // someone else got number
		return ErrNumberTaken
	}
	if number != s.last+1 {
		return fmt.Errorf("number %d after %d", number, s.last)
	}
	s.last = number
	return nil
}

func createInput() CreateInput {
	return CreateInput{
		DepartmentID: "dept-1",
		Payer:        &Payer{Name: "Jean Dupont", Email: "jean.dupont@example.com"},
		LineItems:    []LineItemInput{{Description: "Consommation eau", Quantity: "1", UnitPrice: "320", VATRate: "5.5"}},
		DueDate:      "2030-03-31",
	}
}

func newRaceService(st *raceStore) *Service {
	n := 0
	return &Service{
		Store: st,
		Now:   func() time.Time { return time.Date(2030, 1, 15, 9, 0, 0, 0, time.UTC) },
		NewID: func(prefix string) string { n++; return fmt.Sprintf("%s-%d", prefix, n) },
	}
}

func TestCreateRetriesALostNumber(t *testing.T) {
	st := &raceStore{taken: 3}
	svc := newRaceService(st)
	var waits []time.Duration
	svc.Sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	inv, err := svc.Create(context.Background(), "ptn-1", "org-1", event.Actor{}, createInput())
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if got, want := inv.InvoiceNumber, "FAC-2030-00004"; got != want {
		t.Errorf("number %s, want %s", got, want)
	}
	if got, want := len(waits), 3; got != want {
		t.Errorf("%d waits, want %d (one before each retry)", got, want)
	}
	for i, w := range waits {
		if limit := time.Duration(min(10*(i+1), 200)) * time.Millisecond; w <= 0 || w > limit {
			t.Errorf("wait %d is %v, want within (0, %v]", i+1, w, limit)
		}
	}
}

// A counter that never stops moving: each bound ends the loop with a 503
// that the partner may retry, never a function timeout.
func TestCreateGivesUpWithUnavailable(t *testing.T) {
	cases := []struct {
		name     string
		budget   time.Duration
		deadline time.Duration // of the request's context; 0 = none
		sleep    bool          // the real, ctx-aware timer rather than no wait at all
		slow     bool          // the table's reads never answer in time
		attempts int           // exact number of attempts, when known
		within   time.Duration // the call returns within this
	}{
		{name: "attempts run out", budget: time.Hour, attempts: numberAttempts, within: 5 * time.Second},
		{name: "the budget runs out", budget: 150 * time.Millisecond, sleep: true, within: 150*time.Millisecond + time.Second},
		{name: "the request's deadline less the reserve comes first", budget: time.Hour, deadline: numberReserve + 150*time.Millisecond, sleep: true, within: 150*time.Millisecond + time.Second},
		{name: "a read outlasts the budget", budget: 150 * time.Millisecond, slow: true, within: 150*time.Millisecond + time.Second},
		{name: "a read outlasts the request's deadline less the reserve", budget: time.Hour, deadline: numberReserve + 150*time.Millisecond, slow: true, within: 150*time.Millisecond + time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := &raceStore{taken: -1, slow: c.slow}
			svc := newRaceService(st)
			svc.NumberBudget = c.budget
			if !c.sleep {
				svc.Sleep = func(context.Context, time.Duration) error { return nil }
			}
			ctx := context.Background()
			if c.deadline > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, c.deadline)
				defer cancel()
			}
			start := time.Now()
			_, err := svc.Create(ctx, "ptn-1", "org-1", event.Actor{}, createInput())
			elapsed := time.Since(start)
			if got := apperr.CodeOf(err); got != apperr.Unavailable {
				t.Fatalf("error %v: code %s, want %s", err, got, apperr.Unavailable)
			}
			if ae, _ := apperr.As(err); ae.Message != numbersBusy {
				t.Errorf("message %q, want %q", ae.Message, numbersBusy)
			}
			var cause error = ErrNumberTaken
			if c.slow {
				cause = context.DeadlineExceeded
			}
			if !errors.Is(err, cause) {
				t.Errorf("error %v does not keep its cause %v", err, cause)
			}
			if c.attempts > 0 && st.attempts != c.attempts {
				t.Errorf("%d attempts, want %d", st.attempts, c.attempts)
			}
			if elapsed > c.within {
				t.Errorf("gave up after %v, want within %v", elapsed, c.within)
			}
			if ctx.Err() != nil {
				t.Errorf("the request's context ended (%v) before the answer: the reserve was not kept", ctx.Err())
			}
		})
	}
}

// A request whose context ends while it waits stops at once.
func TestCreateStopsWaitingWhenTheRequestEnds(t *testing.T) {
	st := &raceStore{taken: -1}
	svc := newRaceService(st)
	ctx, cancel := context.WithCancel(context.Background())
	svc.Sleep = func(ctx context.Context, d time.Duration) error {
		cancel()
		return backoff.Sleep(ctx, time.Hour)
	}
	start := time.Now()
	_, err := svc.Create(ctx, "ptn-1", "org-1", event.Actor{}, createInput())
	if got := apperr.CodeOf(err); got != apperr.Unavailable || !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v: code %s, want %s caused by context.Canceled", err, got, apperr.Unavailable)
	}
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("returned after %v", elapsed)
	}
	if st.attempts != 1 {
		t.Errorf("%d attempts after the request ended, want 1", st.attempts)
	}
}

// unseenStore commits its first creation and answers it with an error, as
// a transaction whose answer the request's deadline cut; it then holds the
// ids it committed, so a creation under one of them is ErrCreated.
type unseenStore struct {
	raceStore
	committed map[string]Invoice
}

func (s *unseenStore) CreateInvoice(_ context.Context, inv Invoice, _ string, number int64, _ event.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.committed[inv.ID]; ok {
		return ErrCreated
	}
	if number != s.last+1 {
		return ErrNumberTaken
	}
	s.last = number
	s.committed[inv.ID] = inv
	if len(s.committed) == 1 {
		return apperr.Transient("store", context.DeadlineExceeded)
	}
	return nil
}

func (s *unseenStore) GetInvoice(_ context.Context, _, _, id string) (Invoice, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Before the retry, the read misses the write (still in flight).
	if inv, ok := s.committed[id]; ok && s.attempts > 0 {
		return inv, nil
	}
	return Invoice{}, apperr.E("store", apperr.NotFound, "invoice not found")
}

// A creation whose transaction committed unseen fails (a 503 to retry);
// the client's retry with its Idempotency-Key writes under the id the key
// reserved and finds that invoice: one invoice, one number, whatever the
// retry's timing. Without a key, a retry is another creation.
func TestARetriedCreationFindsTheInvoiceItsFirstAttemptCommitted(t *testing.T) {
	st := &unseenStore{committed: map[string]Invoice{}}
	svc := newRaceService(&st.raceStore)
	svc.Store = st
	ctx, res := idempotency.WithReservation(context.Background(), "")
	if _, err := svc.Create(ctx, "ptn-1", "org-1", event.Actor{}, createInput()); err == nil {
		t.Fatal("the first attempt's answer was cut: want an error")
	}
	reserved := res.ID()
	if reserved == "" {
		t.Fatal("the creation reserved no id")
	}
	st.attempts = 1 // from now on the store answers reads of what it committed
	retryCtx, _ := idempotency.WithReservation(context.Background(), reserved)
	inv, err := svc.Create(retryCtx, "ptn-1", "org-1", event.Actor{}, createInput())
	if err != nil {
		t.Fatal(err)
	}
	if inv.ID != reserved || inv.InvoiceNumber != "FAC-2030-00001" || len(st.committed) != 1 {
		t.Errorf("the retry made %s %s; %d invoices committed, want the first one alone", inv.ID, inv.InvoiceNumber, len(st.committed))
	}
}
