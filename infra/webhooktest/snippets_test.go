package webhooktest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

const secret = "whsec_K8W5m3n2k4J9p7Q1r6T8v5Y2z4"

// sign is the guide's scheme: "sha256=" + hex HMAC-SHA256 of the raw body,
// keyed with the secret string.
func sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

var client = &http.Client{Timeout: 10 * time.Second}

// deliver POSTs body to r with the given signature header (none when
// signature is nil) and returns the status and response text.
func deliver(r *Receiver, body []byte, signature *string, webhookID string) (int, string, error) {
	req, err := http.NewRequest(http.MethodPost, r.URL, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	if signature != nil {
		req.Header.Set("X-Webhook-Signature", *signature)
	}
	if webhookID != "" {
		req.Header.Set("webhook-id", webhookID)
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("%s: POST: %w\n%s", r.Lang, err, r.Stderr())
	}
	defer res.Body.Close()
	text, err := io.ReadAll(res.Body)
	return res.StatusCode, string(text), err
}

func post(t *testing.T, r *Receiver, body []byte, signature *string, webhookID string) (int, string) {
	t.Helper()
	status, text, err := deliver(r, body, signature, webhookID)
	if err != nil {
		t.Fatal(err)
	}
	return status, text
}

func TestSnippets(t *testing.T) {
	for _, lang := range Langs {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			r := StartSnippet(t, lang, secret)
			if !strings.HasPrefix(r.URL, "http://127.0.0.1:") || !strings.HasSuffix(r.URL, "/webhooks/payment-api") {
				t.Fatalf("URL = %q", r.URL)
			}

			ascii := []byte(`{"event_id":"evt_ascii","event_type":"invoice.paid","timestamp":"2025-01-02T03:04:05Z","data":{"amount":1250}}`)
			accents := []byte(`{"event_id":"evt_utf8","event_type":"organization.updated","timestamp":"2025-01-02T03:04:05Z","data":{"name":"Équipe €"}}`)
			good := sign(secret, ascii)
			// Same length, one hex digit off.
			last := good[len(good)-1]
			flip := byte('0')
			if last == '0' {
				flip = '1'
			}
			wrong := good[:len(good)-1] + string(flip)
			otherSecret := sign("whsec_not_the_secret", ascii)
			short := good[:len(good)-2]
			upper := "sha256=" + strings.ToUpper(strings.TrimPrefix(good, "sha256="))
			accentsSig := sign(secret, accents)

			// A signature of another length: Python compares and says no;
			// Node's timingSafeEqual throws, which Express turns into a 500.
			shortStatus := map[string]int{"python": 401, "node": 500}[lang]

			cases := []struct {
				name      string
				body      []byte
				signature *string
				webhookID string
				want      Verification
				text      string
			}{
				{"valid", ascii, &good, "wh_1", Verification{Verified: true, Status: 200, EventID: "evt_ascii", WebhookID: "wh_1"}, "OK"},
				{"non-ASCII body", accents, &accentsSig, "wh_2", Verification{Verified: true, Status: 200, EventID: "evt_utf8", WebhookID: "wh_2"}, "OK"},
				{"wrong signature, same length", ascii, &wrong, "wh_3", Verification{Status: 401, WebhookID: "wh_3"}, "Invalid signature"},
				{"other secret", ascii, &otherSecret, "", Verification{Status: 401}, "Invalid signature"},
				{"upper-case hex", ascii, &upper, "", Verification{Status: 401}, "Invalid signature"},
				{"signature of another length", ascii, &short, "wh_4", Verification{Status: shortStatus, WebhookID: "wh_4"}, ""},
				// No header: compare_digest(str, None) raises, Buffer.from(undefined) throws.
				{"no signature header", ascii, nil, "", Verification{Status: 500}, ""},
				// Signed for another body: the raw bytes are what count.
				{"body changed after signing", accents, &good, "", Verification{Status: 401}, "Invalid signature"},
			}
			for i, c := range cases {
				status, text := post(t, r, c.body, c.signature, c.webhookID)
				got := r.Wait(i+1, 10*time.Second)
				if len(got) != i+1 {
					t.Fatalf("%s: %d verifications after %d requests\n%s", c.name, len(got), i+1, r.Stderr())
				}
				if got[i] != c.want {
					t.Errorf("%s: verification = %+v, want %+v", c.name, got[i], c.want)
				}
				if status != c.want.Status {
					t.Errorf("%s: HTTP status = %d, want %d", c.name, status, c.want.Status)
				}
				if c.text != "" && text != c.text {
					t.Errorf("%s: response = %q, want %q", c.name, text, c.text)
				}
			}
			if n := len(r.Verifications()); n != len(cases) {
				t.Errorf("Verifications() has %d, want %d", n, len(cases))
			}
		})
	}
}

// Deliveries arrive concurrently; every one is judged and recorded once.
func TestSnippetsConcurrent(t *testing.T) {
	for _, lang := range Langs {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			r := StartSnippet(t, lang, secret)
			const n = 20
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					body := fmt.Appendf(nil, `{"event_id":"evt_%02d","data":{"note":"réf. n°%d"}}`, i, i)
					sig := sign(secret, body)
					if status, _, err := deliver(r, body, &sig, fmt.Sprintf("wh_%02d", i)); err != nil || status != 200 {
						t.Errorf("delivery %d: status %d, %v", i, status, err)
					}
					_ = r.Verifications()
				})
			}
			wg.Wait()
			got := r.Wait(n, 10*time.Second)
			if len(got) != n {
				t.Fatalf("%d verifications, want %d\n%s", len(got), n, r.Stderr())
			}
			ids := map[string]bool{}
			for _, v := range got {
				if !v.Verified || v.Status != 200 || v.EventID == "" || v.WebhookID != "wh_"+strings.TrimPrefix(v.EventID, "evt_") {
					t.Errorf("verification %+v", v)
				}
				ids[v.EventID] = true
			}
			if len(ids) != n {
				t.Errorf("%d distinct events, want %d", len(ids), n)
			}
		})
	}
}

// Wait gives up at its timeout with what it has.
func TestWaitTimeout(t *testing.T) {
	r := StartSnippet(t, "python", secret)
	start := time.Now()
	if got := r.Wait(1, 200*time.Millisecond); len(got) != 0 {
		t.Fatalf("Wait = %+v, want none", got)
	}
	if d := time.Since(start); d < 200*time.Millisecond || d > 5*time.Second {
		t.Fatalf("Wait returned after %v", d)
	}
}

// fatalTB records Fatal/Skip instead of ending the real test.
type fatalTB struct {
	testing.TB
	mu       sync.Mutex
	fatal    string
	skipped  bool
	cleanups []func()
}

func (f *fatalTB) Helper() {}
func (f *fatalTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.fatal = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}
func (f *fatalTB) Fatal(args ...any) { f.Fatalf("%s", fmt.Sprint(args...)) }
func (f *fatalTB) Skip(args ...any) {
	f.mu.Lock()
	f.skipped = true
	f.mu.Unlock()
	runtime.Goexit()
}
func (f *fatalTB) Skipf(string, ...any) { f.Skip() }
func (f *fatalTB) SkipNow()             { f.Skip() }
func (f *fatalTB) Cleanup(fn func())    { f.cleanups = append(f.cleanups, fn) }

// A missing interpreter fails the test; it is never a skip.
func TestMissingInterpreterFails(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, lang := range Langs {
		f := &fatalTB{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			StartSnippet(f, lang, secret)
		}()
		<-done
		for _, fn := range f.cleanups {
			fn()
		}
		if f.skipped || !strings.Contains(f.fatal, map[string]string{"python": "python3", "node": "node"}[lang]) {
			t.Errorf("%s: fatal %q, skipped %v", lang, f.fatal, f.skipped)
		}
	}
}
