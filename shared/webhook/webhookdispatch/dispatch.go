package webhookdispatch

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/metric"
	"github.com/modupay/modupay/shared/netguard"
	"github.com/modupay/modupay/shared/webhook"
	"github.com/modupay/modupay/shared/worker"
)

// DefaultSchedule is the wait before attempts 2 to 5 after a retryable
// failure (seed 000: 5 attempts in all): 1 min, 15 min, 2 h, 12 h, each
// ±20 % (jitter spreads the retries of an outage). The last attempt comes
// about 14 h 16 min after the first.
var DefaultSchedule = []time.Duration{time.Minute, 15 * time.Minute, 2 * time.Hour, 12 * time.Hour}

// Timing of the dispatcher.
const (
	// DefaultTimeout bounds one POST: connection, TLS, headers and body.
	DefaultTimeout = 10 * time.Second
	// DefaultDisableAfter: a subscription whose attempts have all failed for
	// this long is disabled (every delivery of three days lost its five
	// attempts: the endpoint is gone or broken).
	DefaultDisableAfter = 72 * time.Hour
	// maxExcerpt is how much of a response body the log keeps; readLimit how
	// much is read at all (the rest is discarded with the connection).
	maxExcerpt = 1024
	readLimit  = 4096
	// maxSQSDelay is SQS's longest DelaySeconds; longer waits re-delay.
	maxSQSDelay = 15 * time.Minute
	UserAgent   = "ModuPay-Webhooks/1.0 (+https://docs.modupay.fr/webhooks)"
)

// Store is what the dispatcher needs from the table.
type Store interface {
	GetSubscription(ctx context.Context, partnerID, id string) (webhook.Subscription, error)
	// AcquireAttempt takes attempt m.Attempt of the delivery of (m's
	// subscription, m's event), creating the delivery on the first: it
	// succeeds only when the delivery is pending, its previous attempt is
	// finished (or the same attempt was taken and its lease expired, a
	// crashed dispatcher), and nobody holds it. It then holds a lease named
	// owner until leaseUntil. When it cannot, it returns acquired false and
	// the delivery as it is.
	AcquireAttempt(ctx context.Context, m webhook.Message, owner string, now, leaseUntil time.Time) (d webhook.Delivery, acquired bool, err error)
	// FinishAttempt records attempt a and the delivery's new status (and
	// the next attempt's time when pending), releasing the lease; it does
	// nothing (and says so with an apperr.Conflict) if the lease was lost.
	FinishAttempt(ctx context.Context, d webhook.Delivery, owner string, a webhook.Attempt, status string, next *time.Time, now time.Time) error
	// MarkFailing sets the subscription's failing_since if it is unset;
	// ClearFailing removes it.
	MarkFailing(ctx context.Context, partnerID, subID string, since time.Time) error
	ClearFailing(ctx context.Context, partnerID, subID string) error
	UpdateSubscription(ctx context.Context, s webhook.Subscription, ev event.Event) error
	Park(ctx context.Context, source, messageID, body, reason string) error
}

// Dispatcher is the webhook queue's handler.
type Dispatcher struct {
	Store Store
	// Client POSTs to endpoints; it must refuse private destinations and
	// follow no redirect (netguard.Policy.Client).
	Client *http.Client
	// Requeue sends m to the queue again after delay (≤ 15 minutes).
	Requeue      func(ctx context.Context, m webhook.Message, delay time.Duration) error
	Now          func() time.Time
	NewID        func(prefix string) string
	Log          *slog.Logger
	Schedule     []time.Duration // nil: DefaultSchedule
	Timeout      time.Duration   // the client's timeout (for the lease); 0: DefaultTimeout
	DisableAfter time.Duration   // 0: DefaultDisableAfter
	// Jitter spreads a delay; nil: ±20 % uniform.
	Jitter func(time.Duration) time.Duration
	// LoadRecord reads an event's record from the outbox, for a first
	// attempt whose payload was too large for a queue message.
	LoadRecord func(ctx context.Context, eventID string) (string, error)
}

// Handle delivers each message's attempt; the batch's messages are handled
// concurrently (each may wait for its endpoint up to the timeout).
func (d *Dispatcher) Handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	return worker.Parallel(ctx, ev, "webhooks", d.Log, d.Store.Park, d.handle), nil
}

func (d *Dispatcher) schedule() []time.Duration {
	if d.Schedule == nil {
		return DefaultSchedule
	}
	return d.Schedule
}

func (d *Dispatcher) timeout() time.Duration {
	if d.Timeout == 0 {
		return DefaultTimeout
	}
	return d.Timeout
}

func (d *Dispatcher) jitter(v time.Duration) time.Duration {
	if d.Jitter != nil {
		return d.Jitter(v)
	}
	return time.Duration(float64(v) * (0.8 + 0.4*rand.Float64()))
}

func (d *Dispatcher) handle(ctx context.Context, rec events.SQSMessage) error {
	const op = "webhook.dispatch"
	var m webhook.Message
	if err := json.Unmarshal([]byte(rec.Body), &m); err != nil || m.PartnerID == "" || m.SubscriptionID == "" || m.EventID == "" || m.Attempt < 1 {
		return apperr.E(op, apperr.Malformed, "not a webhook delivery message")
	}
	now := d.Now().UTC()
	if wait := m.NotBefore.Sub(now); wait > 0 {
		// Not due yet (waits beyond SQS's 15 minutes come back here until due).
		return d.Requeue(ctx, m, min(wait, maxSQSDelay))
	}
	if m.PayloadInOutbox && m.Payload == "" && m.Attempt == 1 {
		// Later attempts find the payload on the delivery.
		if d.LoadRecord == nil {
			return apperr.E(op, apperr.Malformed, "the payload of event "+m.EventID+" is in the outbox, and no outbox to read it from")
		}
		raw, err := d.LoadRecord(ctx, m.EventID)
		if err != nil {
			return err
		}
		var rec event.Record
		if err := json.Unmarshal([]byte(raw), &rec); err != nil || len(rec.Envelope) == 0 {
			return apperr.E(op, apperr.Malformed, "event "+m.EventID+" in the outbox has no envelope")
		}
		m.Payload = string(rec.Envelope)
	}
	sub, err := d.Store.GetSubscription(ctx, m.PartnerID, m.SubscriptionID)
	if apperr.CodeOf(err) == apperr.NotFound {
		d.Log.InfoContext(ctx, "subscription deleted; delivery dropped", slog.String("webhook_subscription_id", m.SubscriptionID), slog.String("event_id", m.EventID))
		return nil
	}
	if err != nil {
		return err
	}
	owner := d.NewID("lease")
	dl, acquired, err := d.Store.AcquireAttempt(ctx, m, owner, now, now.Add(d.timeout()+20*time.Second))
	if err != nil {
		return err
	}
	if !acquired {
		return d.notAcquired(ctx, m, dl, now)
	}
	test := dl.EventType == webhook.TypeTest
	var a webhook.Attempt
	var retryAfter time.Duration
	retryable, gone := false, false
	if sub.Status != webhook.StatusActive && !test {
		a = webhook.Attempt{Number: m.Attempt, AttemptedAt: now, Error: "not sent: the subscription is disabled", Manual: m.Manual}
	} else {
		a, retryAfter, retryable, gone = d.post(ctx, sub, dl, m.Attempt, now)
		a.Manual = m.Manual
	}
	status, next := webhook.DeliveryFailed, (*time.Time)(nil)
	switch {
	case a.Error == "" && a.StatusCode >= 200 && a.StatusCode < 300:
		status = webhook.DeliverySucceeded
	case retryable && !m.Manual && !test && m.Attempt <= len(d.schedule()):
		status = webhook.DeliveryPending
		// Shown as next_attempt_at: whole seconds like every timestamp,
		// rounded up so the wait is never shorter than the schedule's.
		t := now.Add(max(d.jitter(d.schedule()[m.Attempt-1]), retryAfter))
		if r := t.Truncate(time.Second); r.Before(t) {
			t = r.Add(time.Second)
		}
		next = &t
	}
	if err := d.Store.FinishAttempt(ctx, dl, owner, a, status, next, now); err != nil {
		if apperr.CodeOf(err) == apperr.Conflict {
			d.Log.WarnContext(ctx, "lease lost before the attempt was recorded", slog.String("delivery_id", dl.ID))
			return nil
		}
		return err
	}
	d.logAttempt(ctx, dl, a, status)
	if next != nil {
		nm := m
		nm.Attempt, nm.NotBefore, nm.Payload, nm.Manual = m.Attempt+1, *next, "", false
		if err := d.Requeue(ctx, nm, min(next.Sub(now), maxSQSDelay)); err != nil {
			return err // redelivered: the stale message resends the next attempt
		}
	}
	if test || (sub.Status != webhook.StatusActive) {
		return nil
	}
	return d.health(ctx, sub, status == webhook.DeliverySucceeded, gone, now)
}

// notAcquired handles a message whose attempt cannot be taken: a duplicate
// or a stale message (ack), another dispatcher on it (retry later), or the
// message of a finished attempt whose follow-up may not have been sent (a
// crash between recording the attempt and sending the next): send it again;
// the next attempt is taken once whatever the number of its messages.
func (d *Dispatcher) notAcquired(ctx context.Context, m webhook.Message, dl webhook.Delivery, now time.Time) error {
	switch {
	case dl.Status != webhook.DeliveryPending || dl.AttemptCount > m.Attempt:
		return nil
	case dl.AttemptCount == m.Attempt && dl.NextAttemptAt != nil && !dl.Leased(now):
		nm := m
		nm.Attempt, nm.NotBefore, nm.Payload, nm.Manual = m.Attempt+1, *dl.NextAttemptAt, "", false
		return d.Requeue(ctx, nm, min(max(dl.NextAttemptAt.Sub(now), 0), maxSQSDelay))
	case dl.Leased(now):
		return apperr.Transient("webhook.dispatch", errors.New("delivery "+dl.ID+" is being attempted by another dispatcher"))
	}
	return nil
}

// post makes one attempt.
func (d *Dispatcher) post(ctx context.Context, sub webhook.Subscription, dl webhook.Delivery, n int, now time.Time) (a webhook.Attempt, retryAfter time.Duration, retryable, gone bool) {
	a = webhook.Attempt{Number: n, AttemptedAt: now}
	body := []byte(dl.Payload)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.URL, bytes.NewReader(body))
	if err != nil {
		a.Error = "invalid endpoint URL"
		return a, 0, false, false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("X-Webhook-Event", dl.EventType)
	req.Header.Set("X-Webhook-Delivery", dl.ID)
	req.Header.Set("X-Webhook-Attempt", strconv.Itoa(n))
	for k, v := range webhook.Headers(sub.SigningSecrets(now), dl.EventID, now, body) {
		req.Header[http.CanonicalHeaderKey(k)] = []string{v}
	}
	start := time.Now()
	resp, err := d.Client.Do(req)
	if err != nil {
		a.LatencyMS = time.Since(start).Milliseconds()
		a.Error = describe(err)
		return a, 0, true, false
	}
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, readLimit))
	resp.Body.Close()
	a.LatencyMS = time.Since(start).Milliseconds()
	a.StatusCode = resp.StatusCode
	if len(excerpt) > maxExcerpt {
		excerpt = excerpt[:maxExcerpt]
	}
	a.ResponseExcerpt = strings.ToValidUTF8(string(excerpt), "\uFFFD")
	switch c := resp.StatusCode; {
	case c >= 200 && c < 300:
	case c == http.StatusRequestTimeout || c == http.StatusTooManyRequests || c >= 500:
		retryable = true
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			retryAfter = min(time.Duration(s)*time.Second, 24*time.Hour)
		}
	case c == http.StatusGone:
		gone = true
		a.Error = "410 Gone: the endpoint asked to stop deliveries"
	case c >= 300 && c < 400:
		a.Error = "redirects are not followed"
	}
	return a, retryAfter, retryable, gone
}

// describe turns a transport error into a line for the delivery log. The
// kinds are told by the errors' types, not their text, which the standard
// library does not promise.
func describe(err error) string {
	var ne net.Error
	var dns *net.DNSError
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout: no complete response within the delivery timeout"
	case netguard.IsRefused(err):
		return "destination refused: " + lastPart(err.Error())
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.As(err, &dns) && dns.IsNotFound:
		return "host does not resolve"
	case isTLS(err):
		return "TLS error: " + lastPart(err.Error())
	}
	return "network error: " + lastPart(err.Error())
}

// isTLS reports whether err is a failed TLS handshake: a certificate that
// does not verify (unknown authority, wrong host, expired), an endpoint that
// does not speak TLS, or an alert sent by the endpoint. crypto/tls has no
// exported type for a received alert; it reports one as a *net.OpError
// whose Op is "remote error".
func isTLS(err error) bool {
	var (
		verify    *tls.CertificateVerificationError
		header    tls.RecordHeaderError
		alert     tls.AlertError
		ech       *tls.ECHRejectionError
		authority x509.UnknownAuthorityError
		host      x509.HostnameError
		invalid   x509.CertificateInvalidError
		op        *net.OpError
	)
	return errors.As(err, &verify) || errors.As(err, &header) || errors.As(err, &alert) || errors.As(err, &ech) ||
		errors.As(err, &authority) || errors.As(err, &host) || errors.As(err, &invalid) ||
		(errors.As(err, &op) && op.Op == "remote error")
}

func lastPart(s string) string {
	if i := strings.LastIndex(s, ": "); i >= 0 && i+2 < len(s) {
		return s[i+2:]
	}
	return s
}

// health keeps the subscription's failure run: a success ends it, a failure
// starts it; a run longer than DisableAfter, or a 410, disables the
// subscription with a webhook_subscription.disabled event.
func (d *Dispatcher) health(ctx context.Context, sub webhook.Subscription, ok, gone bool, now time.Time) error {
	disableAfter := d.DisableAfter
	if disableAfter == 0 {
		disableAfter = DefaultDisableAfter
	}
	switch {
	case ok && sub.FailingSince != nil:
		return d.Store.ClearFailing(ctx, sub.PartnerID, sub.ID)
	case ok:
		return nil
	case gone:
		return d.disable(ctx, sub, webhook.ReasonGone, now)
	case sub.FailingSince == nil:
		return d.Store.MarkFailing(ctx, sub.PartnerID, sub.ID, now)
	case now.Sub(*sub.FailingSince) >= disableAfter:
		return d.disable(ctx, sub, webhook.ReasonFailing, now)
	}
	return nil
}

func (d *Dispatcher) disable(ctx context.Context, sub webhook.Subscription, reason string, now time.Time) error {
	after, ev, err := webhook.Disable(sub, reason, now, d.NewID)
	if err != nil {
		return err
	}
	err = d.Store.UpdateSubscription(ctx, after, ev)
	if apperr.CodeOf(err) == apperr.Conflict {
		return nil // changed meanwhile (by the partner, or another dispatcher disabled it)
	}
	if err == nil {
		d.Log.WarnContext(ctx, "webhook subscription disabled", slog.String("webhook_subscription_id", sub.ID), slog.String("reason", reason))
	}
	return err
}

// logAttempt writes one line per attempt; a delivery that ends failed is
// also a CloudWatch metric (embedded metric format), for the alarm.
func (d *Dispatcher) logAttempt(ctx context.Context, dl webhook.Delivery, a webhook.Attempt, status string) {
	attrs := []any{slog.String("delivery_id", dl.ID), slog.String("event_id", dl.EventID), slog.String("webhook_subscription_id", dl.SubscriptionID),
		slog.Int("attempt", a.Number), slog.Int("status_code", a.StatusCode), slog.Int64("latency_ms", a.LatencyMS), slog.String("status", status)}
	if a.Error != "" {
		attrs = append(attrs, slog.String("error", a.Error))
	}
	if status == webhook.DeliveryFailed {
		attrs = append(attrs, metric.Count("WebhookDeliveriesFailed", d.Now())...)
		d.Log.WarnContext(ctx, "webhook delivery failed", attrs...)
		return
	}
	d.Log.InfoContext(ctx, "webhook attempt", attrs...)
}
