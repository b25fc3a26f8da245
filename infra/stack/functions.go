package stack

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Event source types of AWS::Serverless::Function events the local runtime emulates.
const (
	EventHTTPAPI    = "HttpApi"
	EventSQS        = "SQS"
	EventDynamoDB   = "DynamoDB"
	EventSchedule   = "Schedule"
	EventScheduleV2 = "ScheduleV2"
)

// ReportBatchItemFailures is the FunctionResponseTypes value enabling partial batch responses.
const ReportBatchItemFailures = "ReportBatchItemFailures"

// Function is an AWS::Serverless::Function with the parts the local runtime needs.
type Function struct {
	LogicalID string
	// Timeout is the function's Timeout, else Globals.Function.Timeout, else
	// Lambda's default of 3 seconds.
	Timeout time.Duration
	// Environment is the function's own Environment.Variables, unresolved
	// (its secrets). Locally every function shares one process, which gets
	// the union of them all (Template.Environment).
	Environment map[string]any
	// Events in name order. Exactly one of the pointers is set for the types
	// above; other types (REST Api, S3, SNS...) keep only Name and Type.
	Events []Event
}

// Event is one entry of a function's Events.
type Event struct {
	Name     string
	Type     string
	HTTP     *HTTPEvent
	SQS      *SQSEvent
	Stream   *StreamEvent
	Schedule *ScheduleEvent
}

// HTTPEvent is an HttpApi route. An event without Path and Method is the
// API's $default route (Path "" and Method "ANY").
type HTTPEvent struct {
	Path   string // e.g. /v1/organizations/{org_id}
	Method string // upper case, "ANY" for any method
}

// RouteKey is the route key API Gateway puts in the event: "GET /health", or "$default".
func (h HTTPEvent) RouteKey() string {
	if h.Path == "" {
		return "$default"
	}
	return h.Method + " " + h.Path
}

// SQSEvent is an SQS event source mapping.
type SQSEvent struct {
	Queue                 string // logical id of the AWS::SQS::Queue
	BatchSize             int    // default 10
	FunctionResponseTypes []string
	Enabled               bool
}

// ReportsBatchItemFailures tells whether the function returns partial batch failures.
func (e SQSEvent) ReportsBatchItemFailures() bool {
	return contains(e.FunctionResponseTypes, ReportBatchItemFailures)
}

// StreamEvent is a DynamoDB stream event source mapping.
type StreamEvent struct {
	Table                      string // logical id of the AWS::DynamoDB::Table
	BatchSize                  int    // default 100
	StartingPosition           string // TRIM_HORIZON or LATEST
	MaximumRetryAttempts       int    // -1 (the default) retries until the record expires
	MaximumRecordAgeInSeconds  int    // -1 (the default): until the record expires
	BisectBatchOnFunctionError bool
	FunctionResponseTypes      []string
	// FilterPatterns are the FilterCriteria.Filters[].Pattern JSON documents;
	// a record is delivered if any matches (none: every record).
	FilterPatterns []string
	// OnFailureQueue is the logical id of the SQS queue of
	// DestinationConfig.OnFailure, empty when there is none (other destination
	// types have no local counterpart and are ignored).
	OnFailureQueue string
	Enabled        bool
}

// ReportsBatchItemFailures tells whether the function returns partial batch failures.
func (e StreamEvent) ReportsBatchItemFailures() bool {
	return contains(e.FunctionResponseTypes, ReportBatchItemFailures)
}

// ScheduleEvent is a Schedule (EventBridge rule) or ScheduleV2 (EventBridge Scheduler) event.
type ScheduleEvent struct {
	Expression string // rate(...) or cron(...)
	Input      string // JSON text, empty when absent
	V2         bool   // ScheduleV2
	Enabled    bool
}

// Functions returns every AWS::Serverless::Function with its events, in file order.
func (t *Template) Functions() ([]Function, error) {
	globalTimeout := 3 * time.Second
	if v, ok := asMap(t.Globals["Function"])["Timeout"]; ok {
		n, err := intValue(v)
		if err != nil {
			return nil, fmt.Errorf("Globals.Function.Timeout: %w", err)
		}
		globalTimeout = time.Duration(n) * time.Second
	}
	var out []Function
	for _, r := range t.ResourcesOfType("AWS::Serverless::Function") {
		f := Function{
			LogicalID:   r.LogicalID,
			Timeout:     globalTimeout,
			Environment: asMap(asMap(r.Properties["Environment"])["Variables"]),
		}
		if v, ok := r.Properties["Timeout"]; ok {
			n, err := intValue(v)
			if err != nil {
				return nil, fmt.Errorf("function %s Timeout: %w", r.LogicalID, err)
			}
			f.Timeout = time.Duration(n) * time.Second
		}
		events := asMap(r.Properties["Events"])
		names := make([]string, 0, len(events))
		for name := range events {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			ev, err := t.parseEvent(name, asMap(events[name]))
			if err != nil {
				return nil, fmt.Errorf("function %s event %s: %w", r.LogicalID, name, err)
			}
			f.Events = append(f.Events, ev)
		}
		out = append(out, f)
	}
	return out, nil
}

func (t *Template) parseEvent(name string, raw map[string]any) (Event, error) {
	ev := Event{Name: name, Type: str(raw["Type"])}
	p := asMap(raw["Properties"])
	var err error
	switch ev.Type {
	case EventHTTPAPI:
		h := &HTTPEvent{}
		if h.Path, err = literal(p, "Path", ""); err != nil {
			return ev, err
		}
		if h.Method, err = literal(p, "Method", ""); err != nil {
			return ev, err
		}
		h.Method = strings.ToUpper(h.Method)
		switch {
		case h.Path == "" && h.Method == "":
			h.Method = "ANY"
		case h.Path == "" || h.Method == "":
			return ev, fmt.Errorf("HttpApi needs both Path and Method (or neither, for $default)")
		case h.Method == "X-AMAZON-APIGATEWAY-ANY-METHOD":
			h.Method = "ANY"
		}
		if h.Path != "" && !strings.HasPrefix(h.Path, "/") {
			return ev, fmt.Errorf("HttpApi Path %q must start with /", h.Path)
		}
		ev.HTTP = h
	case EventSQS:
		s := &SQSEvent{}
		res, att, ok := getAttTarget(p["Queue"])
		if !ok || att != "Arn" {
			return ev, fmt.Errorf("SQS Queue must be !GetAtt <Queue>.Arn of a queue in the template")
		}
		if r, ok := t.Resources[res]; !ok || r.Type != "AWS::SQS::Queue" {
			return ev, fmt.Errorf("SQS Queue %s is not an AWS::SQS::Queue of the template", res)
		}
		s.Queue = res
		if s.BatchSize, err = intProp(p, "BatchSize", 10); err != nil {
			return ev, err
		}
		if s.FunctionResponseTypes, err = stringList(p["FunctionResponseTypes"]); err != nil {
			return ev, fmt.Errorf("FunctionResponseTypes: %w", err)
		}
		if s.Enabled, err = boolProp(p, "Enabled", true); err != nil {
			return ev, err
		}
		ev.SQS = s
	case EventDynamoDB:
		s := &StreamEvent{}
		res, att, ok := getAttTarget(p["Stream"])
		if !ok || att != "StreamArn" {
			return ev, fmt.Errorf("DynamoDB Stream must be !GetAtt <Table>.StreamArn of a table in the template")
		}
		if r, ok := t.Resources[res]; !ok || r.Type != "AWS::DynamoDB::Table" {
			return ev, fmt.Errorf("DynamoDB Stream %s is not an AWS::DynamoDB::Table of the template", res)
		}
		s.Table = res
		if s.BatchSize, err = intProp(p, "BatchSize", 100); err != nil {
			return ev, err
		}
		if s.StartingPosition, err = literal(p, "StartingPosition", "LATEST"); err != nil {
			return ev, err
		}
		if s.StartingPosition != "TRIM_HORIZON" && s.StartingPosition != "LATEST" {
			return ev, fmt.Errorf("StartingPosition %q: want TRIM_HORIZON or LATEST", s.StartingPosition)
		}
		if s.MaximumRetryAttempts, err = intProp(p, "MaximumRetryAttempts", -1); err != nil {
			return ev, err
		}
		if s.MaximumRecordAgeInSeconds, err = intProp(p, "MaximumRecordAgeInSeconds", -1); err != nil {
			return ev, err
		}
		if s.BisectBatchOnFunctionError, err = boolProp(p, "BisectBatchOnFunctionError", false); err != nil {
			return ev, err
		}
		if s.FunctionResponseTypes, err = stringList(p["FunctionResponseTypes"]); err != nil {
			return ev, fmt.Errorf("FunctionResponseTypes: %w", err)
		}
		for i, f := range asList(asMap(p["FilterCriteria"])["Filters"]) {
			pattern, ok := asMap(f)["Pattern"].(string)
			if !ok {
				return ev, fmt.Errorf("FilterCriteria.Filters[%d].Pattern must be a JSON string", i)
			}
			s.FilterPatterns = append(s.FilterPatterns, pattern)
		}
		if of := asMap(asMap(p["DestinationConfig"])["OnFailure"]); of != nil {
			res, att, ok := getAttTarget(of["Destination"])
			if ok && att == "Arn" && t.Resources[res].Type == "AWS::SQS::Queue" {
				s.OnFailureQueue = res
			}
		}
		if s.Enabled, err = boolProp(p, "Enabled", true); err != nil {
			return ev, err
		}
		ev.Stream = s
	case EventSchedule, EventScheduleV2:
		s := &ScheduleEvent{V2: ev.Type == EventScheduleV2}
		key := "Schedule"
		if s.V2 {
			key = "ScheduleExpression"
		}
		if s.Expression, err = literal(p, key, ""); err != nil {
			return ev, err
		}
		if s.Expression == "" {
			return ev, fmt.Errorf("%s has no %s", ev.Type, key)
		}
		if s.Input, err = literal(p, "Input", ""); err != nil {
			return ev, err
		}
		if s.V2 {
			state, err := literal(p, "State", "ENABLED")
			if err != nil {
				return ev, err
			}
			s.Enabled = state == "ENABLED"
		} else if s.Enabled, err = boolProp(p, "Enabled", true); err != nil {
			return ev, err
		}
		ev.Schedule = s
	}
	return ev, nil
}

// literal reads a string property that must not be an intrinsic: the local
// runtime needs it before anything is resolved.
func literal(p map[string]any, key, def string) (string, error) {
	v, ok := p[key]
	if !ok || v == nil {
		return def, nil
	}
	s, err := scalarString(v)
	if err != nil {
		return "", fmt.Errorf("%s must be a literal value locally, got %v", key, v)
	}
	return s, nil
}

func intProp(p map[string]any, key string, def int) (int, error) {
	v, ok := p[key]
	if !ok || v == nil {
		return def, nil
	}
	n, err := intValue(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", key, err)
	}
	return n, nil
}

func boolProp(p map[string]any, key string, def bool) (bool, error) {
	v, ok := p[key]
	if !ok || v == nil {
		return def, nil
	}
	switch b := v.(type) {
	case bool:
		return b, nil
	case string:
		return strconv.ParseBool(b)
	}
	return false, fmt.Errorf("%s must be a literal boolean locally, got %v", key, v)
}

func intValue(v any) (int, error) {
	switch n := v.(type) {
	case int:
		return n, nil
	case float64:
		if n == float64(int(n)) {
			return int(n), nil
		}
	case string:
		return strconv.Atoi(n)
	}
	return 0, fmt.Errorf("want a literal integer, got %v", v)
}

func stringList(v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("want a list, got %v", v)
	}
	out := make([]string, 0, len(l))
	for _, e := range l {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("want strings, got %v", e)
		}
		out = append(out, s)
	}
	return out, nil
}

func contains(l []string, s string) bool { return slices.Contains(l, s) }
