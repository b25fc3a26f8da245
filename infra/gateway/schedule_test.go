package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modupay/modupay/infra/gateway"
	"github.com/modupay/modupay/infra/stack"
	"github.com/modupay/modupay/shared/wiring"
)

func TestScheduleExpressions(t *testing.T) {
	h := func(context.Context, events.EventBridgeEvent) error { return nil }
	for expr, want := range map[string]time.Duration{
		"rate(1 minute)":       time.Minute,
		"rate(5 minutes)":      5 * time.Minute,
		"rate(1 hour)":         time.Hour,
		"rate(2 days)":         48 * time.Hour,
		"cron(0/15 * * * ? *)": 15 * time.Minute,
		"cron(0 */2 * * ? *)":  2 * time.Hour,
		"cron(30 3 * * ? *)":   24 * time.Hour,
		"rate(1 minutes)":      0,
		"rate(5 minute)":       0,
		"rate(0 minutes)":      0,
		"every 5 minutes":      0,
		"cron(0 12 * * ?)":     0,
		"rate(10 seconds)":     0,
	} {
		s, err := gateway.NewSchedule(gateway.ScheduleConfig{FunctionID: "F", EventName: "E", Handler: h, Expression: expr, Log: quiet})
		if want == 0 {
			if err == nil {
				t.Errorf("%s: accepted", expr)
			}
			continue
		}
		if err != nil || s.Interval() != want {
			t.Errorf("%s: interval %v (%v), want %v", expr, s.Interval(), err, want)
		}
	}
}

func TestScheduleFiring(t *testing.T) {
	tpl, err := stack.Parse([]byte(`
Resources:
  Cleaner:
    Type: AWS::Serverless::Function
    Properties:
      Timeout: 2
      Events:
        Every:
          Type: Schedule
          Properties:
            Schedule: rate(1 minute)
            Input: '{"job":"purge"}'
        Nightly:
          Type: ScheduleV2
          Properties:
            ScheduleExpression: cron(0 3 * * ? *)
            State: DISABLED
`))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var got []events.EventBridgeEvent
	fail := false
	app := toyApp{"Cleaner": wiring.Function{LogicalID: "Cleaner", Schedule: func(_ context.Context, ev events.EventBridgeEvent) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, ev)
		if fail {
			return errors.New("purge failed")
		}
		return nil
	}}}
	res := &stack.Resources{Region: "eu-west-3", AccountID: stack.LocalAccountID, ByID: map[string]stack.Physical{}}
	g, err := gateway.New(tpl, res, app, gateway.Options{Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g)
	defer srv.Close()

	post := func(path string) (int, map[string]any) {
		resp, err := http.Post(srv.URL+path, "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	status, out := post("/_local/schedules/Cleaner?event=Every")
	eq(t, "status", status, 200)
	eq(t, "result", out, map[string]any{"function": "Cleaner", "event": "Every", "error": nil})
	mu.Lock()
	ev := got[0]
	fail = true
	mu.Unlock()
	eq(t, "version", ev.Version, "0")
	eq(t, "detail-type", ev.DetailType, "Scheduled Event")
	eq(t, "source", ev.Source, "aws.events")
	eq(t, "account", ev.AccountID, stack.LocalAccountID)
	eq(t, "region", ev.Region, "eu-west-3")
	eq(t, "detail", string(ev.Detail), `{"job":"purge"}`)
	if ev.ID == "" || len(ev.Resources) != 1 || !strings.Contains(ev.Resources[0], ":rule/Cleaner-Every") || time.Since(ev.Time) > time.Minute {
		t.Errorf("event = %+v", ev)
	}

	status, out = post("/_local/schedules/Cleaner?event=Nightly")
	eq(t, "failing status", status, 502)
	eq(t, "failing error", out["error"], "purge failed")
	mu.Lock()
	ev = got[1]
	mu.Unlock()
	eq(t, "v2 source", ev.Source, "aws.scheduler")
	eq(t, "v2 detail", string(ev.Detail), `{}`)

	status, _ = post("/_local/schedules/Nope")
	eq(t, "unknown schedule", status, 404)
}
