// Package scheduler is the scheduled function: each run does every periodic
// job. Jobs are idempotent and safe to run concurrently (EventBridge may
// deliver a schedule twice), and a failing job fails the run so EventBridge
// retries it.
package scheduler

import (
	"context"
	"errors"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
)

// Job is one periodic job; it returns how many things it changed.
type Job struct {
	Name string
	Run  func(context.Context) (int, error)
}

// Scheduler runs the jobs.
type Scheduler struct {
	Jobs []Job
	Log  *slog.Logger
}

// Handle is the EventBridge (Scheduler) handler.
func (s *Scheduler) Handle(ctx context.Context, ev events.EventBridgeEvent) error {
	var errs []error
	for _, j := range s.Jobs {
		n, err := j.Run(ctx)
		if err != nil {
			s.Log.ErrorContext(ctx, "scheduled job failed", slog.String("job", j.Name), slog.String("event_id", ev.ID), slog.String("error", err.Error()))
			errs = append(errs, err)
			continue
		}
		s.Log.InfoContext(ctx, "scheduled job done", slog.String("job", j.Name), slog.String("event_id", ev.ID), slog.Int("changed", n))
	}
	return errors.Join(errs...)
}
