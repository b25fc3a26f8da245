package webhook

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/event"
)

// The Standard Webhooks specification's published vector: a receiver's
// library verifies what we send only if this reproduces exactly.
func TestStandardSignatureMatchesTheSpecificationVector(t *testing.T) {
	got := StandardSignature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))
	if want := "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="; got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
}

// The seed's scheme, computed independently (python3 -c 'import hmac,hashlib;
// print(hmac.new(b"whsec_K8W5m3n2k4J9p7Q1r6T8v5Y2z4", b"{}", hashlib.sha256).hexdigest())').
func TestSignatureIsTheSeedsScheme(t *testing.T) {
	got := Signature("whsec_K8W5m3n2k4J9p7Q1r6T8v5Y2z4", []byte("{}"))
	if want := "sha256=892df7dce492e6b27f0decf66f6aea596b2a0b71300573654e2566c0698fe249"; got != want {
		t.Errorf("signature %s, want %s", got, want)
	}
}

func TestRotationOverlap(t *testing.T) {
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	until := now.Add(time.Hour)
	s := Subscription{Secrets: []Secret{{Value: "whsec_new"}, {Value: "whsec_old", ExpiresAt: &until}}}
	if got := s.SigningSecrets(now); len(got) != 2 || got[0] != "whsec_new" || got[1] != "whsec_old" {
		t.Fatalf("secrets during the overlap = %v", got)
	}
	body := []byte(`{"event_id":"evt-1"}`)
	h := Headers(s.SigningSecrets(now), "evt-1", now, body)
	if h["X-Webhook-Signature"] != Signature("whsec_old", body) {
		t.Error("during the overlap X-Webhook-Signature must keep the previous secret")
	}
	if sigs := strings.Fields(h["webhook-signature"]); len(sigs) != 2 || sigs[0] != StandardSignature("whsec_new", "evt-1", now, body) || sigs[1] != StandardSignature("whsec_old", "evt-1", now, body) {
		t.Errorf("webhook-signature = %q, want both", h["webhook-signature"])
	}
	after := until
	if got := s.SigningSecrets(after); len(got) != 1 || got[0] != "whsec_new" {
		t.Fatalf("secrets after the overlap = %v", got)
	}
	if h := Headers(s.SigningSecrets(after), "evt-1", after, body); h["X-Webhook-Signature"] != Signature("whsec_new", body) || h["webhook-timestamp"] != "1795258800" {
		t.Errorf("after the overlap: %v", h)
	}
}

func TestWants(t *testing.T) {
	created := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	later := created.Add(time.Minute)
	base := Subscription{Status: StatusActive, Events: []string{"invoice.created"}, CreatedAt: created}
	tests := []struct {
		name string
		sub  func(Subscription) Subscription
		typ  string
		org  string
		at   time.Time
		want bool
	}{
		{"listed type", nil, "invoice.created", "o1", later, true},
		{"other type", nil, "invoice.status_changed", "o1", later, false},
		{"star", func(s Subscription) Subscription { s.Events = []string{All}; return s }, "kyc.status_changed", "o1", later, true},
		{"star excludes the module's own events", func(s Subscription) Subscription { s.Events = []string{All}; return s }, TypeRetryRequested, "", later, false},
		{"disabled", func(s Subscription) Subscription { s.Status = StatusDisabled; return s }, "invoice.created", "o1", later, false},
		{"narrowed, same org", func(s Subscription) Subscription { s.OrganizationIDs = []string{"o1"}; return s }, "invoice.created", "o1", later, true},
		{"narrowed, other org", func(s Subscription) Subscription { s.OrganizationIDs = []string{"o1"}; return s }, "invoice.created", "o2", later, false},
		{"event older than the subscription", nil, "invoice.created", "o1", created.Add(-time.Second), false},
	}
	for _, tt := range tests {
		s := base
		if tt.sub != nil {
			s = tt.sub(s)
		}
		if got := s.Wants(tt.typ, tt.org, tt.at); got != tt.want {
			t.Errorf("%s: Wants = %v", tt.name, got)
		}
	}
}

func TestFanout(t *testing.T) {
	at := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	env, _ := json.Marshal(map[string]any{"event_id": "evt-1", "data": map[string]any{"webhook_subscription_id": "whsub-2"}})
	subs := []Subscription{
		{ID: "whsub-1", Status: StatusActive, Events: []string{All}, CreatedAt: at},
		{ID: "whsub-2", Status: StatusActive, Events: []string{"invoice.created"}, CreatedAt: at},
		{ID: "whsub-3", Status: StatusDisabled, Events: []string{All}, CreatedAt: at},
	}
	rec := event.Record{EventID: "evt-1", Type: "invoice.status_changed", PartnerID: "p", OrgID: "o", Timestamp: at, Envelope: env}
	if got := Fanout(rec, subs); len(got) != 1 || got[0].SubscriptionID != "whsub-1" || got[0].Attempt != 1 || got[0].Payload != string(env) {
		t.Errorf("fan-out = %+v", got)
	}
	rec.Type = TypeTest
	if got := Fanout(rec, nil); len(got) != 1 || got[0].SubscriptionID != "whsub-2" {
		t.Errorf("a test ping goes to its subscription only: %+v", got)
	}
	retry, _ := json.Marshal(map[string]any{"data": RetryRequest{DeliveryID: "whd-1", SubscriptionID: "whsub-1", EventID: "evt-0", Attempt: 6}})
	rec = event.Record{EventID: "evt-9", Type: TypeRetryRequested, PartnerID: "p", Timestamp: at, Envelope: retry}
	if got := Fanout(rec, subs); len(got) != 1 || got[0].EventID != "evt-0" || got[0].Attempt != 6 || !got[0].Manual {
		t.Errorf("a retry request = %+v", got)
	}
	rec.Type = "webhook_subscription.created"
	if got := Fanout(rec, subs); len(got) != 0 {
		t.Errorf("subscription changes are audit only: %+v", got)
	}
}

func TestDeliveryIDIsThePairs(t *testing.T) {
	a, b := DeliveryID("whsub-1", "evt-1"), DeliveryID("whsub-1", "evt-1")
	if a != b || !strings.HasPrefix(a, "whd-") || a == DeliveryID("whsub-2", "evt-1") || a == DeliveryID("whsub-1", "evt-2") {
		t.Errorf("delivery ids %s %s", a, b)
	}
}
