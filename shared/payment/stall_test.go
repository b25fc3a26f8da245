package payment_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/payment"
)

// intents is the one intent Stall reads; writes are recorded with their
// events. Any other method panics.
type intents struct {
	payment.TransferStore
	pi     payment.Intent
	writes []payment.Intent
	evs    []event.Event
}

func (s *intents) GetIntent(context.Context, string, string, string) (payment.Intent, error) {
	return s.pi, nil
}

func (s *intents) UpdateIntent(_ context.Context, pi payment.Intent, evs []event.Event) error {
	s.writes, s.evs = append(s.writes, pi), append(s.evs, evs...)
	return nil
}

// A transfer the provider never finished: requires_action with its event,
// never paid nor failed; an intent that moved on meanwhile is left alone.
func TestStallRecordsATransferNeverFinished(t *testing.T) {
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	s := &intents{pi: payment.Intent{ID: "pi-1", PartnerID: "p", OrgID: "o", Status: payment.IntentProcessing, AiiaStatus: "initiated", Amount: 42220, Version: 4}}
	n := 0
	f := &payment.Flow{Store: s, Now: func() time.Time { return now }, NewID: func(string) string { n++; return "evt-" + string(rune('0'+n)) }}
	if err := f.Stall(context.Background(), "p", "o", "pi-1", 7*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	if len(s.writes) != 1 || len(s.evs) != 1 {
		t.Fatalf("%d writes, %d events", len(s.writes), len(s.evs))
	}
	got := s.writes[0]
	if got.Status != payment.IntentRequiresAction || got.Version != 5 || got.CompletedAt != nil || got.FundsStatus != "" ||
		!strings.HasPrefix(got.FailureReason, payment.UnknownAtProvider+": the bank still reported this transfer as initiated after 7 days") {
		t.Fatalf("intent %+v", got)
	}
	if s.evs[0].Type != "payment_intent.status_changed" {
		t.Errorf("event %s", s.evs[0].Type)
	}
	for _, st := range []string{payment.IntentSucceeded, payment.IntentFailed, payment.IntentRequiresAction} {
		s.pi.Status, s.writes, s.evs = st, nil, nil
		if err := f.Stall(context.Background(), "p", "o", "pi-1", 7*24*time.Hour); err != nil || len(s.writes) != 0 {
			t.Errorf("a %s intent: %v, %d writes", st, err, len(s.writes))
		}
	}
}
