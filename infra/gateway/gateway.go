package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/modupay/modupay/infra/stack"
	"github.com/modupay/modupay/shared/wiring"
)

// Functions finds a template function's handlers by logical id; *wiring.App is one.
type Functions interface {
	Function(logicalID string) (wiring.Function, bool)
}

// Options configure a Gateway built from the template.
type Options struct {
	DynamoDBEndpoint string
	SQSEndpoint      string
	Identity
	Log *slog.Logger

	// SQSWaitTimeSeconds is the long-poll duration (default 20, as Lambda).
	SQSWaitTimeSeconds int32
	// StreamPollInterval is the pause after an empty GetRecords (default 250 ms).
	StreamPollInterval time.Duration
}

// Gateway is everything AWS does around the functions of one template.
type Gateway struct {
	API       *API
	SQS       []*SQSMapping
	Streams   []*StreamMapping
	Schedules map[string][]*Schedule // by function logical id, in event name order

	log     *slog.Logger
	wg      sync.WaitGroup
	started bool
}

// New builds the gateway of tpl over the provisioned resources. Every
// AWS::Serverless::Function of the template must be found in fns with the
// handler its events need: a missing one is an error naming it.
func New(tpl *stack.Template, res *stack.Resources, fns Functions, opts Options) (*Gateway, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Region == "" {
		opts.Region = res.Region
	}
	if opts.AccountID == "" {
		opts.AccountID = res.AccountID
	}
	opts.Identity = opts.Identity.withDefaults()
	tfns, err := tpl.Functions()
	if err != nil {
		return nil, err
	}
	g := &Gateway{Schedules: map[string][]*Schedule{}, log: opts.Log}
	var routes []Route
	var sqsClient, streamsClient = lazySQS(opts.SQSEndpoint), lazyStreams(opts.DynamoDBEndpoint)

	for _, tf := range tfns {
		fn, ok := fns.Function(tf.LogicalID)
		if !ok {
			return nil, fmt.Errorf("function %s of the template is not provided by the app", tf.LogicalID)
		}
		for _, ev := range tf.Events {
			need := func(have bool, kind string) error {
				if !have {
					return fmt.Errorf("function %s: event %s (%s) needs a %s handler, the app's function has none", tf.LogicalID, ev.Name, ev.Type, kind)
				}
				return nil
			}
			switch {
			case ev.HTTP != nil:
				if err := need(fn.HTTP != nil, "HTTP"); err != nil {
					return nil, err
				}
				routes = append(routes, Route{Method: ev.HTTP.Method, Path: ev.HTTP.Path, FunctionID: tf.LogicalID, Handler: fn.HTTP, Timeout: tf.Timeout})
			case ev.SQS != nil:
				if err := need(fn.SQS != nil, "SQS"); err != nil {
					return nil, err
				}
				q, ok := res.ByID[ev.SQS.Queue]
				if !ok {
					return nil, fmt.Errorf("function %s event %s: queue %s was not provisioned", tf.LogicalID, ev.Name, ev.SQS.Queue)
				}
				if !ev.SQS.Enabled {
					opts.Log.Info("SQS event source disabled in the template", "function", tf.LogicalID, "event", ev.Name)
					continue
				}
				m, err := NewSQSMapping(SQSConfig{
					FunctionID: tf.LogicalID, Handler: fn.SQS, Timeout: tf.Timeout,
					QueueURL: q.URL, QueueARN: q.ARN, BatchSize: ev.SQS.BatchSize,
					ReportBatchItemFailures: ev.SQS.ReportsBatchItemFailures(),
					Client:                  sqsClient(), Identity: opts.Identity,
					WaitTimeSeconds: opts.SQSWaitTimeSeconds, Log: opts.Log,
				})
				if err != nil {
					return nil, err
				}
				g.SQS = append(g.SQS, m)
			case ev.Stream != nil:
				if err := need(fn.Stream != nil, "stream"); err != nil {
					return nil, err
				}
				t, ok := res.ByID[ev.Stream.Table]
				if !ok {
					return nil, fmt.Errorf("function %s event %s: table %s was not provisioned", tf.LogicalID, ev.Name, ev.Stream.Table)
				}
				if !ev.Stream.Enabled {
					opts.Log.Info("DynamoDB event source disabled in the template", "function", tf.LogicalID, "event", ev.Name)
					continue
				}
				cfg := StreamConfig{
					FunctionID: tf.LogicalID, Handler: fn.Stream, Timeout: tf.Timeout,
					StreamARN: t.StreamARN, BatchSize: ev.Stream.BatchSize, StartingPosition: ev.Stream.StartingPosition,
					MaximumRetryAttempts:       ev.Stream.MaximumRetryAttempts,
					MaximumRecordAge:           time.Duration(ev.Stream.MaximumRecordAgeInSeconds) * time.Second,
					BisectBatchOnFunctionError: ev.Stream.BisectBatchOnFunctionError,
					ReportBatchItemFailures:    ev.Stream.ReportsBatchItemFailures(),
					FilterPatterns:             ev.Stream.FilterPatterns,
					Client:                     streamsClient(), Identity: opts.Identity,
					PollInterval: opts.StreamPollInterval, Log: opts.Log,
				}
				if ev.Stream.OnFailureQueue != "" {
					q, ok := res.ByID[ev.Stream.OnFailureQueue]
					if !ok {
						return nil, fmt.Errorf("function %s event %s: on-failure queue %s was not provisioned", tf.LogicalID, ev.Name, ev.Stream.OnFailureQueue)
					}
					cfg.OnFailureQueueURL, cfg.OnFailure = q.URL, sqsClient()
				}
				m, err := NewStreamMapping(cfg)
				if err != nil {
					return nil, err
				}
				g.Streams = append(g.Streams, m)
			case ev.Schedule != nil:
				if err := need(fn.Schedule != nil, "schedule"); err != nil {
					return nil, err
				}
				s, err := NewSchedule(ScheduleConfig{
					FunctionID: tf.LogicalID, EventName: ev.Name, Handler: fn.Schedule, Timeout: tf.Timeout,
					Expression: ev.Schedule.Expression, Input: ev.Schedule.Input, V2: ev.Schedule.V2, Enabled: ev.Schedule.Enabled,
					Identity: opts.Identity, Log: opts.Log,
				})
				if err != nil {
					return nil, err
				}
				g.Schedules[tf.LogicalID] = append(g.Schedules[tf.LogicalID], s)
			default:
				opts.Log.Warn("event type not emulated locally", "function", tf.LogicalID, "event", ev.Name, "type", ev.Type)
			}
		}
	}
	g.API, err = NewAPI(routes, APIOptions{Identity: opts.Identity, Log: opts.Log})
	if err != nil {
		return nil, err
	}
	return g, nil
}

// lazySQS and lazyStreams build one client on first use, so a template
// without queues or streams needs no endpoint for them.
func lazySQS(endpoint string) func() SQSClient {
	var once sync.Once
	var c SQSClient
	return func() SQSClient {
		once.Do(func() { c = stack.NewSQSClient(endpoint) })
		return c
	}
}

func lazyStreams(endpoint string) func() StreamsAPI {
	var once sync.Once
	var c StreamsAPI
	return func() StreamsAPI {
		once.Do(func() { c = stack.NewStreamsClient(endpoint) })
		return c
	}
}

// SQSClient is what the gateway uses of SQS: polling and on-failure sends.
type SQSClient interface {
	SQSAPI
	SQSSender
}

// Start runs the SQS pollers, stream readers and schedules in the background
// until ctx is done; Wait waits for them to stop. Call it once.
func (g *Gateway) Start(ctx context.Context) {
	if g.started {
		return
	}
	g.started = true
	run := func(name string, f func(context.Context) error) {
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			if err := f(ctx); err != nil {
				g.log.Error("event source stopped", "source", name, "err", err)
			}
		}()
	}
	for _, m := range g.SQS {
		run("sqs:"+m.cfg.FunctionID, m.Run)
	}
	for _, m := range g.Streams {
		run("stream:"+m.cfg.FunctionID, m.Run)
	}
	for id, ss := range g.Schedules {
		for _, s := range ss {
			run("schedule:"+id, s.Run)
		}
	}
}

// Wait returns once everything Start started has stopped.
func (g *Gateway) Wait() { g.wg.Wait() }

// ServeHTTP serves the HTTP API, plus the local-only route
// POST /_local/schedules/{LogicalId}[?event=Name] firing a function's schedule
// now: 200 {"function":..,"event":..,"error":null} when the handler returned
// nil, 502 with the error otherwise.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/_local/schedules/"); ok && r.Method == http.MethodPost {
		g.fireSchedule(w, r, rest)
		return
	}
	g.API.ServeHTTP(w, r)
}

func (g *Gateway) fireSchedule(w http.ResponseWriter, r *http.Request, functionID string) {
	ss := g.Schedules[functionID]
	if want := r.URL.Query().Get("event"); want != "" {
		var match []*Schedule
		for _, s := range ss {
			if s.cfg.EventName == want {
				match = append(match, s)
			}
		}
		ss = match
	}
	if len(ss) == 0 {
		ids := make([]string, 0, len(g.Schedules))
		for id := range g.Schedules {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "no such schedule", "schedules": ids})
		return
	}
	s := ss[0]
	err := s.Fire(r.Context())
	out := map[string]any{"function": functionID, "event": s.cfg.EventName, "error": nil}
	status := http.StatusOK
	if err != nil {
		out["error"] = err.Error()
		status = http.StatusBadGateway
	}
	writeJSON(w, status, out)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
