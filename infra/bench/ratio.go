package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/modupay/modupay/shared/httpapi"
)

// ratioBudget is the overhead a single-item route may add to its own
// DynamoDB calls, at p50: the route through the local gateway (HTTP,
// authentication, validation, JSON, logging) over the same calls issued
// directly with the SDK.
const ratioBudget = 1.3

// tracer keeps the DynamoDB calls each request made (the operations'
// inputs, as the SDK received them), by request id, so the bench can issue
// the same calls directly.
type tracer struct {
	mu    sync.Mutex
	calls map[string][]any
	inSDK map[string]time.Duration // time spent in those calls, SDK included
}

func newTracer() *tracer {
	return &tracer{calls: map[string][]any{}, inSDK: map[string]time.Duration{}}
}

func (t *tracer) middleware(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("bench-trace",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			id := httpapi.RequestIDFrom(ctx)
			if id == "" {
				return next.HandleInitialize(ctx, in)
			}
			call := shallowCopy(in.Parameters)
			start := time.Now()
			out, md, err := next.HandleInitialize(ctx, in)
			took := time.Since(start)
			t.mu.Lock()
			t.calls[id] = append(t.calls[id], call)
			t.inSDK[id] += took
			t.mu.Unlock()
			return out, md, err
		}), middleware.Before)
}

// shallowCopy copies the input struct a pointer points to: callers may
// reuse an input after the call (a batch read sets RequestItems to the
// unprocessed keys and calls again), which must not change what was traced.
func shallowCopy(p any) any {
	v := reflect.ValueOf(p)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return p
	}
	c := reflect.New(v.Elem().Type())
	c.Elem().Set(v.Elem())
	return c.Interface()
}

// take returns and forgets the calls of one request.
func (t *tracer) take(id string) ([]any, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c, d := t.calls[id], t.inSDK[id]
	delete(t.calls, id)
	delete(t.inSDK, id)
	return c, d
}

// forget drops what requests outside a measured scenario left.
func (t *tracer) forget() {
	t.mu.Lock()
	clear(t.calls)
	clear(t.inSDK)
	t.mu.Unlock()
}

// floor issues a request's DynamoDB calls again, directly with the SDK:
// reads on the table itself (the same items), writes on a shadow table of
// the same keys and indexes (the same items, whose conditions hold there as
// they held on the table: new ids are new in both). Items a write checks or
// updates are copied to the shadow first, outside the timing.
type floor struct {
	db            *dynamodb.Client
	table, shadow string
}

// errNotReplayable marks a request whose writes cannot be issued twice with
// the same outcome (an update conditioned on the version the request
// itself moved): its route has no floor.
var errNotReplayable = errors.New("its writes depend on the state the request changed")

func newFloor(ctx context.Context, db *dynamodb.Client, table string) (*floor, error) {
	d, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return nil, err
	}
	t := d.Table
	in := &dynamodb.CreateTableInput{TableName: aws.String(table + "-floor"), AttributeDefinitions: t.AttributeDefinitions,
		KeySchema: t.KeySchema, BillingMode: types.BillingModePayPerRequest}
	for _, g := range t.GlobalSecondaryIndexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection})
	}
	for _, l := range t.LocalSecondaryIndexes {
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, types.LocalSecondaryIndex{IndexName: l.IndexName, KeySchema: l.KeySchema, Projection: l.Projection})
	}
	if _, err := db.CreateTable(ctx, in); err != nil {
		return nil, fmt.Errorf("floor table: %w", err)
	}
	return &floor{db: db, table: table, shadow: *in.TableName}, nil
}

// onlyReads: calls that can be issued any number of times.
func onlyReads(calls []any) bool {
	for _, c := range calls {
		switch c.(type) {
		case *dynamodb.GetItemInput, *dynamodb.BatchGetItemInput, *dynamodb.QueryInput, *dynamodb.TransactGetItemsInput:
		default:
			return false
		}
	}
	return len(calls) > 0
}

// replay prepares the calls (untimed), then issues them one after the
// other and returns how long that took.
func (f *floor) replay(ctx context.Context, calls []any) (time.Duration, error) {
	run := make([]func() error, 0, len(calls))
	for _, c := range calls {
		fn, err := f.prepare(ctx, c)
		if err != nil {
			return 0, err
		}
		run = append(run, fn)
	}
	start := time.Now()
	for _, fn := range run {
		if err := fn(); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

func (f *floor) prepare(ctx context.Context, call any) (func() error, error) {
	db := f.db
	switch in := call.(type) {
	case *dynamodb.GetItemInput:
		return func() error { _, err := db.GetItem(ctx, in); return err }, nil
	case *dynamodb.BatchGetItemInput:
		return func() error { _, err := db.BatchGetItem(ctx, in); return err }, nil
	case *dynamodb.QueryInput:
		return func() error { _, err := db.Query(ctx, in); return err }, nil
	case *dynamodb.TransactGetItemsInput:
		return func() error { _, err := db.TransactGetItems(ctx, in); return err }, nil
	case *dynamodb.PutItemInput:
		cp := *in
		cp.TableName = aws.String(f.shadow)
		return func() error { _, err := db.PutItem(ctx, &cp); return notReplayable(err) }, nil
	case *dynamodb.UpdateItemInput:
		if err := f.copyItem(ctx, in.Key); err != nil {
			return nil, err
		}
		cp := *in
		cp.TableName = aws.String(f.shadow)
		return func() error { _, err := db.UpdateItem(ctx, &cp); return notReplayable(err) }, nil
	case *dynamodb.TransactWriteItemsInput:
		cp := dynamodb.TransactWriteItemsInput{TransactItems: make([]types.TransactWriteItem, len(in.TransactItems))}
		shadow := aws.String(f.shadow)
		for i, it := range in.TransactItems {
			var key map[string]types.AttributeValue // an item the write reads: copied first
			switch {
			case it.Put != nil:
				p := *it.Put
				p.TableName, cp.TransactItems[i].Put = shadow, &p
			case it.ConditionCheck != nil:
				c := *it.ConditionCheck
				c.TableName, cp.TransactItems[i].ConditionCheck, key = shadow, &c, c.Key
			case it.Update != nil:
				u := *it.Update
				u.TableName, cp.TransactItems[i].Update, key = shadow, &u, u.Key
			case it.Delete != nil:
				d := *it.Delete
				d.TableName, cp.TransactItems[i].Delete, key = shadow, &d, d.Key
			}
			if key != nil {
				if err := f.copyItem(ctx, key); err != nil {
					return nil, err
				}
			}
		}
		return func() error { _, err := db.TransactWriteItems(ctx, &cp); return notReplayable(err) }, nil
	}
	return nil, fmt.Errorf("the floor cannot issue a %T", call)
}

func notReplayable(err error) error {
	var tc *types.TransactionCanceledException
	var cc *types.ConditionalCheckFailedException
	if errors.As(err, &tc) || errors.As(err, &cc) {
		return fmt.Errorf("%w (%v)", errNotReplayable, err)
	}
	return err
}

// copyItem puts the table's item of key in the shadow table (nothing when
// the table has none).
func (f *floor) copyItem(ctx context.Context, key map[string]types.AttributeValue) error {
	out, err := f.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(f.table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		return err
	}
	_, err = f.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(f.shadow), Item: out.Item})
	return err
}

// ratio is a route's latency over its floor's.
func ratio(route, floor time.Duration) float64 {
	if floor <= 0 {
		return 0
	}
	return float64(route) / float64(floor)
}

func (r row) ratioP50() float64 { return ratio(r.p50, r.floorP50) }
func (r row) ratioP95() float64 { return ratio(r.p95, r.floorP95) }

// overRatio: a single-item route beyond the budget at p50, or one whose
// floor could not be measured.
func (r row) overRatio() bool {
	return r.single && (r.floorErr != "" || r.floorP50 == 0 || r.ratioP50() > ratioBudget)
}

// reportRatios prints each route beside its floor and says whether every
// single-item route is within the budget.
func reportRatios(w io.Writer, rows []row) (failed bool) {
	fmt.Fprintf(w, "\nOverhead ratio — each route beside the same DynamoDB calls issued directly with the SDK, interleaved request by\n"+
		"request (reads on the same items; writes on a copy of the table's keys and indexes). Budget for single-item routes: p50 ≤ %.1f\n\n", ratioBudget)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "route\tcalls\troute p50\tSDK p50\tratio p50\troute p95\tSDK p95\tratio p95\thandler p50\tits calls p50\t")
	for _, r := range rows {
		if r.floorP50 == 0 && r.floorErr == "" {
			continue
		}
		verdict := ""
		if r.single {
			verdict = "  within budget"
			if r.overRatio() {
				verdict, failed = "  OVER BUDGET", true
			}
		}
		if r.floorErr != "" {
			fmt.Fprintf(tw, "%s\t%d\t%s\t—\t—\t%s\t—\t—\t%s (no floor: %s)\n", r.name, r.dynamoMedian, ms(r.p50), ms(r.p95), verdict, r.floorErr)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%.2f\t%s\t%s\t%.2f\t%s\t%s\t%s\n", r.name, r.dynamoMedian, ms(r.p50), ms(r.floorP50), r.ratioP50(),
			ms(r.p95), ms(r.floorP95), r.ratioP95(), ms(r.handlerP50), ms(r.sdkP50), verdict)
	}
	tw.Flush()
	return failed
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// routeResult is one route in the bench's JSON result file.
type routeResult struct {
	Route         string  `json:"route"`
	Requests      int     `json:"requests"`
	DynamoDBCalls int64   `json:"dynamodb_calls"`
	P50Ms         float64 `json:"p50_ms"`
	P95Ms         float64 `json:"p95_ms"`
	SDKP50Ms      float64 `json:"sdk_p50_ms,omitempty"`
	SDKP95Ms      float64 `json:"sdk_p95_ms,omitempty"`
	RatioP50      float64 `json:"ratio_p50,omitempty"`
	RatioP95      float64 `json:"ratio_p95,omitempty"`
	SingleItem    bool    `json:"single_item"`
	NoFloor       string  `json:"no_floor,omitempty"`
}

type benchResult struct {
	Machine    string        `json:"machine"`
	Date       string        `json:"date"`
	RatioLimit float64       `json:"ratio_budget_p50"`
	Routes     []routeResult `json:"routes"`
	Flows      *flowFigures  `json:"flows,omitempty"`
}

func toMs(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func routeResults(n int, rows []row) []routeResult {
	out := make([]routeResult, 0, len(rows))
	for _, r := range rows {
		out = append(out, routeResult{Route: r.name, Requests: n, DynamoDBCalls: r.dynamoMedian, P50Ms: toMs(r.p50), P95Ms: toMs(r.p95),
			SDKP50Ms: toMs(r.floorP50), SDKP95Ms: toMs(r.floorP95), RatioP50: round2(r.ratioP50()), RatioP95: round2(r.ratioP95()),
			SingleItem: r.single, NoFloor: r.floorErr})
	}
	return out
}

func round2(f float64) float64 { return float64(int(f*100+0.5)) / 100 }

// writeResults writes the JSON result file and the chart into dir.
func writeResults(dir string, res benchResult) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// A run of one section keeps the other section's last figures.
	var prev benchResult
	if b, err := os.ReadFile(filepath.Join(dir, "bench.json")); err == nil && json.Unmarshal(b, &prev) == nil {
		if res.Routes == nil {
			res.Routes = prev.Routes
		}
		if res.Flows == nil {
			res.Flows = prev.Flows
		}
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "bench.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	return writeChart(filepath.Join(dir, "routes.png"), res.Routes)
}
