// Package lambdart runs a function's real binary against a stand-in of the
// Lambda runtime and extensions APIs, to check what only the deployed
// runtime exercises.
package lambdart

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/lambdaenv"
)

const (
	jwtKeys = "lambdart:bGFtYmRhcnQtb25seS1zaWduaW5nLWtleS0zMi1ieXRlcyE"
	jwtKid  = "lambdart"
	// sendDelay is how long the stand-in SQS takes to answer SendMessage: a
	// response that waited for it would show it.
	sendDelay = 300 * time.Millisecond
)

// moments records when each thing happened, by name.
type moments struct {
	mu sync.Mutex
	at map[string][]time.Time
	// the call log message received
	body string
}

// mark records that name happened now and returns how often it has.
func (m *moments) mark(name string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.at[name] = append(m.at[name], time.Now())
	return len(m.at[name])
}

func (m *moments) String() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return fmt.Sprint(m.at)
}

func (m *moments) get(name string, i int) (time.Time, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.at[name]) <= i {
		return time.Time{}, false
	}
	return m.at[name][i], true
}

// An authenticated request's API call is sent after the runtime has posted
// the response (which is not delayed by the send) and before the
// function's internal extension asks for its next event, so Lambda does not
// freeze the environment with the call unsent.
func TestCallLogIsSentAfterTheResponseBeforeTheNextEvent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a function binary")
	}
	bin := filepath.Join(t.TempDir(), "bootstrap")
	build := exec.Command("go", "build", "-tags", "lambda.norpc", "-o", bin, "../../functions/audit")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}

	m := &moments{at: map[string][]time.Time{}}
	// The AWS services the function calls: DynamoDB answers "nothing"
	// (the revocation list is empty), SQS records the message.
	aws := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		target := r.Header.Get("X-Amz-Target")
		switch {
		case strings.HasPrefix(target, "DynamoDB_20120810."):
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			_, _ = w.Write([]byte(`{}`))
		case target == "AmazonSQS.SendMessage":
			m.mark("send-start")
			var in struct{ MessageBody string }
			_ = json.Unmarshal(b, &in)
			time.Sleep(sendDelay)
			sum := md5.Sum([]byte(in.MessageBody))
			m.mu.Lock()
			m.body = in.MessageBody
			m.mu.Unlock()
			w.Header().Set("Content-Type", "application/x-amz-json-1.0")
			_, _ = fmt.Fprintf(w, `{"MessageId":"m-1","MD5OfMessageBody":%q}`, hex.EncodeToString(sum[:]))
			m.mark("send-done")
		default:
			http.Error(w, "unexpected call "+target, http.StatusBadRequest)
		}
	}))
	defer aws.Close()

	// The request: an authenticated GET with a bad filter, answered 422 by
	// the handler before any read of the trail.
	ring, err := auth.ParseKeyring(jwtKeys, jwtKid)
	if err != nil {
		t.Fatal(err)
	}
	iss := &auth.Issuer{Keys: ring, Issuer: "modupay-sandbox", Audience: lambdaenv.Audience, TTL: time.Hour, Now: time.Now, NewID: func() string { return "tok-lambdart" }}
	tok, _, err := iss.Issue(auth.Principal{ClientID: "client-lambdart", PartnerID: "ptn-lambdart", Scope: auth.ScopePartner})
	if err != nil {
		t.Fatal(err)
	}
	ev, _ := json.Marshal(events.APIGatewayV2HTTPRequest{Version: "2.0", RouteKey: "GET /v1/audit_logs", RawPath: "/v1/audit_logs",
		RawQueryString: "status=paid", QueryStringParameters: map[string]string{"status": "paid"},
		Headers: map[string]string{"authorization": "Bearer " + tok},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-lambdart", RouteKey: "GET /v1/audit_logs",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/v1/audit_logs", SourceIP: "203.0.113.9"}}})

	invoked := make(chan struct{})
	var once sync.Once
	var response []byte
	runtime := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/2020-01-01/extension/register":
			m.mark("register")
			w.Header().Set("Lambda-Extension-Identifier", "ext-lambdart")
			_, _ = w.Write([]byte(`{}`))
		case r.URL.Path == "/2020-01-01/extension/event/next":
			if m.mark("extension-next") == 1 {
				select {
				case <-invoked:
					_ = json.NewEncoder(w).Encode(map[string]any{"eventType": "INVOKE", "deadlineMs": time.Now().Add(10 * time.Second).UnixMilli(), "requestId": "inv-1"})
				case <-r.Context().Done():
				}
				return
			}
			<-r.Context().Done() // the next invocation never comes
		case r.URL.Path == "/2018-06-01/runtime/invocation/next":
			m.mark("runtime-next")
			first := false
			once.Do(func() { first = true })
			if !first {
				<-r.Context().Done()
				return
			}
			m.mark("invoke")
			close(invoked)
			w.Header().Set("Lambda-Runtime-Aws-Request-Id", "inv-1")
			w.Header().Set("Lambda-Runtime-Deadline-Ms", fmt.Sprint(time.Now().Add(10*time.Second).UnixMilli()))
			w.Header().Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:eu-west-3:123456789012:function:AuditFunction")
			_, _ = w.Write(ev)
		case r.URL.Path == "/2018-06-01/runtime/invocation/inv-1/response":
			b, _ := io.ReadAll(r.Body)
			m.mu.Lock()
			response = b
			m.mu.Unlock()
			m.mark("response")
			w.WriteHeader(http.StatusAccepted)
		default:
			b, _ := io.ReadAll(r.Body)
			t.Errorf("runtime API: unexpected %s %s %s", r.Method, r.URL.Path, b)
			w.WriteHeader(http.StatusBadRequest)
		}
	}))
	defer runtime.Close()

	cmd := exec.Command(bin)
	cmd.Env = []string{
		"AWS_LAMBDA_RUNTIME_API=" + strings.TrimPrefix(runtime.URL, "http://"), "AWS_REGION=eu-west-3",
		"AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
		"MODUPAY_STAGE=sandbox", "MODUPAY_TABLE=lambdart", "MODUPAY_AUDIT_QUEUE_URL=" + aws.URL + "/123456789012/audit",
		"MODUPAY_JWT_KEYS=" + jwtKeys, "MODUPAY_JWT_ACTIVE_KID=" + jwtKid, "MODUPAY_LOCAL=1",
		"MODUPAY_DYNAMODB_ENDPOINT=" + aws.URL, "MODUPAY_SQS_ENDPOINT=" + aws.URL,
	}
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, ok := m.get("extension-next", 1); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the extension never asked for its next event after the invocation; moments %v\nfunction output:\n%s", m, out)
		}
		time.Sleep(5 * time.Millisecond)
	}
	reg, _ := m.get("register", 0)
	firstRuntimeNext, _ := m.get("runtime-next", 0)
	invoke, _ := m.get("invoke", 0)
	resp, okResp := m.get("response", 0)
	sendStart, okSend := m.get("send-start", 0)
	sendDone, _ := m.get("send-done", 0)
	extNext, _ := m.get("extension-next", 1)
	switch {
	case reg.IsZero() || !reg.Before(firstRuntimeNext):
		t.Errorf("the extension registered at %v, after the runtime's first next at %v (too late: init is over)", reg, firstRuntimeNext)
	case !okResp || !okSend:
		t.Fatalf("response posted %v, call sent %v\nfunction output:\n%s", okResp, okSend, out)
	case resp.Sub(invoke) >= sendDelay:
		t.Errorf("the response took %s: it waited for the call log's send", resp.Sub(invoke))
	case sendDone.Before(resp) && sendStart.Before(resp):
		t.Errorf("the call was sent before the response was posted")
	case extNext.Before(sendDone):
		t.Errorf("the extension asked for its next event at %v, before the send ended at %v", extNext, sendDone)
	}
	var r events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(response, &r); err != nil || r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("response %s %v", response, err)
	}
	m.mu.Lock()
	body := m.body
	m.mu.Unlock()
	var msg struct {
		Kind      string `json:"kind"`
		PartnerID string `json:"partner_id"`
		Route     string `json:"route"`
		Status    int    `json:"status"`
		RequestID string `json:"request_id"`
	}
	if err := json.Unmarshal([]byte(body), &msg); err != nil || msg.Kind != "api_call" || msg.PartnerID != "ptn-lambdart" ||
		msg.Route != "GET /v1/audit_logs" || msg.Status != http.StatusUnprocessableEntity || msg.RequestID != "req-lambdart" {
		t.Errorf("call log message %s (%v)", body, err)
	}
}
