package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/uuid"

	"github.com/modupay/modupay/shared/wiring"
)

// ScheduleConfig describes one Schedule or ScheduleV2 event of a function.
type ScheduleConfig struct {
	FunctionID string
	EventName  string // the event's name under Events
	Handler    wiring.ScheduleHandler
	Timeout    time.Duration

	Expression string // rate(...) or cron(...)
	Input      string // JSON text; empty for none
	V2         bool   // EventBridge Scheduler rather than an EventBridge rule
	Enabled    bool   // false: fires only on demand (Fire)

	Identity
	Log *slog.Logger
}

// Schedule fires a function's scheduled event at the expression's rate.
// rate() is exact; cron() is approximated by a fixed interval (its finest
// repeating field), which is logged.
type Schedule struct {
	cfg      ScheduleConfig
	interval time.Duration
	input    json.RawMessage
}

var rateRe = regexp.MustCompile(`^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$`)

// NewSchedule parses the expression and the input.
func NewSchedule(cfg ScheduleConfig) (*Schedule, error) {
	if cfg.Handler == nil {
		return nil, fmt.Errorf("schedule %s of %s: no schedule handler", cfg.EventName, cfg.FunctionID)
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	cfg.Identity = cfg.Identity.withDefaults()
	cfg.Log = cfg.Log.With("schedule", cfg.EventName, "function", cfg.FunctionID)
	s := &Schedule{cfg: cfg}
	var err error
	if s.interval, err = parseScheduleExpression(cfg.Expression, cfg.Log); err != nil {
		return nil, fmt.Errorf("schedule %s of %s: %w", cfg.EventName, cfg.FunctionID, err)
	}
	if cfg.Input != "" {
		if !json.Valid([]byte(cfg.Input)) {
			return nil, fmt.Errorf("schedule %s of %s: Input is not valid JSON", cfg.EventName, cfg.FunctionID)
		}
		s.input = json.RawMessage(cfg.Input)
	}
	return s, nil
}

// Interval is the time between two firings.
func (s *Schedule) Interval() time.Duration { return s.interval }

func parseScheduleExpression(expr string, log *slog.Logger) (time.Duration, error) {
	expr = strings.TrimSpace(expr)
	if m := rateRe.FindStringSubmatch(expr); m != nil {
		n, err := strconv.Atoi(m[1])
		if err != nil || n < 1 {
			return 0, fmt.Errorf("%q: the value must be a positive integer", expr)
		}
		unit := m[2]
		// EventBridge wants the singular for 1 and the plural otherwise.
		if (n == 1) != !strings.HasSuffix(unit, "s") {
			return 0, fmt.Errorf("%q: use %q for 1 and the plural otherwise", expr, strings.TrimSuffix(unit, "s"))
		}
		d := map[string]time.Duration{"minute": time.Minute, "hour": time.Hour, "day": 24 * time.Hour}[strings.TrimSuffix(unit, "s")]
		return time.Duration(n) * d, nil
	}
	if strings.HasPrefix(expr, "cron(") && strings.HasSuffix(expr, ")") {
		fields := strings.Fields(expr[len("cron(") : len(expr)-1])
		if len(fields) != 6 {
			return 0, fmt.Errorf("%q: cron wants 6 fields (minutes hours day-of-month month day-of-week year)", expr)
		}
		d := cronApprox(fields[0], fields[1])
		log.Info("cron schedule approximated by a fixed interval locally", "expression", expr, "every", d)
		return d, nil
	}
	return 0, fmt.Errorf("%q: want rate(N unit) or cron(...)", expr)
}

// cronApprox picks the finest repetition of the minutes and hours fields.
func cronApprox(minutes, hours string) time.Duration {
	step := func(f string) (int, bool) {
		if f == "*" {
			return 1, true
		}
		if _, s, ok := strings.Cut(f, "/"); ok {
			n, err := strconv.Atoi(s)
			return n, err == nil && n > 0
		}
		return 0, false
	}
	if n, ok := step(minutes); ok {
		return time.Duration(n) * time.Minute
	}
	if n, ok := step(hours); ok {
		return time.Duration(n) * time.Hour
	}
	return 24 * time.Hour
}

// Event builds the event one firing delivers. With an Input that is itself an
// EventBridge event (it has "detail-type"), that is the event, as AWS passes
// Input verbatim; any other Input becomes the detail.
func (s *Schedule) Event(now time.Time) (events.EventBridgeEvent, error) {
	name := s.cfg.FunctionID + "-" + s.cfg.EventName
	ev := events.EventBridgeEvent{
		Version:    "0",
		ID:         uuid.NewString(),
		DetailType: "Scheduled Event",
		Source:     "aws.events",
		AccountID:  s.cfg.AccountID,
		Time:       now.UTC().Truncate(time.Second),
		Region:     s.cfg.Region,
		Resources:  []string{"arn:aws:events:" + s.cfg.Region + ":" + s.cfg.AccountID + ":rule/" + name},
		Detail:     json.RawMessage("{}"),
	}
	if s.cfg.V2 {
		ev.Source = "aws.scheduler"
		ev.Resources = []string{"arn:aws:scheduler:" + s.cfg.Region + ":" + s.cfg.AccountID + ":schedule/default/" + name}
	}
	if s.input == nil {
		return ev, nil
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(s.input, &probe) == nil && probe["detail-type"] != nil {
		var full events.EventBridgeEvent
		if err := json.Unmarshal(s.input, &full); err != nil {
			return ev, fmt.Errorf("schedule %s Input as an EventBridge event: %w", name, err)
		}
		return full, nil
	}
	ev.Detail = s.input
	return ev, nil
}

// Fire invokes the function once, now, and returns its error.
func (s *Schedule) Fire(ctx context.Context) error {
	ev, err := s.Event(time.Now())
	if err != nil {
		return err
	}
	_, err = call(ctx, s.cfg.FunctionARN(s.cfg.FunctionID), s.cfg.Timeout, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.cfg.Handler(ctx, ev)
	})
	if err != nil {
		logInvokeError(s.cfg.Log, "scheduled invocation failed", s.cfg.FunctionID, err)
	}
	return err
}

// Run fires at every interval until ctx is done (never when not Enabled).
// Lambda's retries of a failed asynchronous invocation (two by default) are
// not emulated: the error is logged and the next firing comes at its time.
func (s *Schedule) Run(ctx context.Context) error {
	if !s.cfg.Enabled {
		s.cfg.Log.Info("schedule disabled: fires only on demand")
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			_ = s.Fire(context.WithoutCancel(ctx))
		}
	}
}
