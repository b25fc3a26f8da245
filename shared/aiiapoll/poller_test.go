package aiiapoll

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/payment"
)

func TestScheduleGrowsAndStaysUnderSQSLimit(t *testing.T) {
	prev := time.Duration(0)
	for n := 1; n < 40; n++ {
		d := Schedule(n)
		if d < prev {
			t.Errorf("Schedule(%d) = %v shrinks from %v", n, d, prev)
		}
		if d > 15*time.Minute {
			t.Errorf("Schedule(%d) = %v exceeds SQS's 15-minute delay", n, d)
		}
		prev = d
	}
	if Schedule(1) > 5*time.Second {
		t.Errorf("the first poll waits %v: a payer who just authorised should see the result within seconds", Schedule(1))
	}
}

func TestPollerOutcomes(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	msg := func(since time.Time) string {
		b, _ := json.Marshal(Message{PartnerID: "p", OrgID: "o", IntentID: "pi-1", Attempt: 2, Since: since})
		return string(b)
	}
	refundMsg := func(since time.Time) string {
		b, _ := json.Marshal(Message{Kind: KindRefund, PartnerID: "p", OrgID: "o", RefundID: "rf-1", Attempt: 2, Since: since})
		return string(b)
	}
	tests := []struct {
		name        string
		body        string
		final       bool
		pollErr     error
		wantRequeue time.Duration // 0: none
		wantParked  bool
		wantRetry   bool
		requeueErr  error
		wantMetric  string // an embedded metric the log must carry
		wantStalled bool
		stallErr    error
	}{
		{name: "final: done", body: msg(now), final: true},
		{name: "not final: again later", body: msg(now), wantRequeue: Schedule(3)},
		{name: "first message gets its start time", body: msg(time.Time{}), wantRequeue: Schedule(3)},
		{name: "a payment after MaxPolling: still followed", body: msg(now.Add(-MaxPolling - time.Hour)), wantRequeue: Schedule(3)},
		// The provider gives up at 6 days (UNKNOWN); a payment still not
		// final a day later is recorded as unknown here: done, alarmed.
		{name: "a payment past its horizon: stalled, alarmed", body: msg(now.Add(-PaymentHorizon - time.Hour)), wantStalled: true,
			wantMetric: "PaymentsUnknownAtProvider"},
		{name: "the stall not recorded: SQS redelivers", body: msg(now.Add(-PaymentHorizon - time.Hour)), wantStalled: true,
			stallErr: apperr.Transient("x", errors.New("table down")), wantRetry: true},
		{name: "a refund past MaxPolling: parked for an operator", body: refundMsg(now.Add(-MaxPolling - time.Hour)), wantParked: true},
		{name: "bank unavailable: polled again later", body: msg(now), pollErr: apperr.Transient("x", errors.New("503")), wantRequeue: Schedule(3)},
		{name: "re-send fails too: SQS redelivers", body: msg(now), pollErr: apperr.Transient("x", errors.New("503")), requeueErr: apperr.Transient("q", errors.New("sqs down")), wantRequeue: Schedule(3), wantRetry: true},
		{name: "unknown intent: parked", body: msg(now), pollErr: apperr.E("x", apperr.NotFound, "no"), wantParked: true},
		{name: "not a poll message: parked", body: `{"hello":1}`, wantParked: true},
		// Recorded on the intent, said in the log's metric: neither parked
		// nor followed again.
		{name: "unknown at the provider: done, alarmed", body: msg(now), final: true,
			pollErr: fmt.Errorf("%w: pi-1", payment.ErrUnknownAtProvider), wantMetric: "PaymentsUnknownAtProvider"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var requeued time.Duration
			var requeuedMsg Message
			var logged bytes.Buffer
			parked, stalled := false, ""
			p := &Poller{
				Poll:         func(context.Context, string, string, string) (bool, error) { return tt.final, tt.pollErr },
				FollowRefund: func(context.Context, string, string, string) (bool, error) { return tt.final, tt.pollErr },
				Stall: func(_ context.Context, partner, org, id string, after time.Duration) error {
					stalled = fmt.Sprint(partner, org, id, after)
					return tt.stallErr
				},
				Requeue: func(_ context.Context, m Message, d time.Duration) error {
					requeued, requeuedMsg = d, m
					return tt.requeueErr
				},
				Park: func(context.Context, string, string, string, string) error { parked = true; return nil },
				Now:  func() time.Time { return now },
				Log:  slog.New(slog.NewJSONHandler(&logged, nil)),
			}
			resp, err := p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: tt.body}}})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(resp.BatchItemFailures) == 1; got != tt.wantRetry {
				t.Errorf("retry = %v, want %v", got, tt.wantRetry)
			}
			if parked != tt.wantParked {
				t.Errorf("parked = %v, want %v", parked, tt.wantParked)
			}
			if want := fmt.Sprint("p", "o", "pi-1", PaymentHorizon); (stalled == want) != tt.wantStalled || (stalled != "" && stalled != want) {
				t.Errorf("stalled %q, want %v", stalled, tt.wantStalled)
			}
			if requeued != tt.wantRequeue {
				t.Errorf("requeued after %v, want %v", requeued, tt.wantRequeue)
			}
			if tt.wantRequeue != 0 && (requeuedMsg.Attempt != 3 || requeuedMsg.Since.IsZero()) {
				t.Errorf("requeued message = %+v, want attempt 3 with its start time", requeuedMsg)
			}
			if tt.wantMetric != "" && !bytes.Contains(logged.Bytes(), []byte(`"Metrics":[{"Name":"`+tt.wantMetric+`","Unit":"Count"}]`)) {
				t.Errorf("the log carries no %s metric:\n%s", tt.wantMetric, logged.String())
			}
		})
	}
}

// Each kind of message reaches its own follower with its own id; a kind
// without its id, or an unknown kind, is parked.
func TestPollerRoutesEachKind(t *testing.T) {
	for _, tt := range []struct {
		body, want string
	}{
		{`{"partner_id":"p","organization_id":"o","payment_intent_id":"pi-1"}`, "intent pi-1"},
		{`{"kind":"refund","partner_id":"p","organization_id":"o","refund_id":"re-1"}`, "refund re-1"},
		{`{"kind":"payment_order","partner_id":"p","organization_id":"o","payment_order_id":"po-1"}`, "order po-1"},
		{`{"kind":"payment_order","partner_id":"p","organization_id":"o","refund_id":"re-1"}`, "parked"},
		{`{"kind":"refund","partner_id":"p","organization_id":"o","payment_order_id":"po-1"}`, "parked"},
		{`{"kind":"payout","partner_id":"p","organization_id":"o","payment_order_id":"po-1"}`, "parked"},
	} {
		got := ""
		follower := func(what string) func(context.Context, string, string, string) (bool, error) {
			return func(_ context.Context, partnerID, orgID, id string) (bool, error) {
				if partnerID != "p" || orgID != "o" {
					t.Errorf("%s: tenant %s/%s", tt.body, partnerID, orgID)
				}
				got = what + " " + id
				return true, nil
			}
		}
		p := &Poller{Poll: follower("intent"), FollowRefund: follower("refund"), FollowOrder: follower("order"),
			Requeue: func(context.Context, Message, time.Duration) error { t.Error("requeued"); return nil },
			Park:    func(context.Context, string, string, string, string) error { got = "parked"; return nil },
			Now:     time.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		if _, err := p.Handle(context.Background(), events.SQSEvent{Records: []events.SQSMessage{{MessageId: "m1", Body: tt.body}}}); err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("%s → %q, want %q", tt.body, got, tt.want)
		}
	}
}
