// Package backoff holds the wait every retry loop of the services and the
// provider client uses between attempts.
package backoff

import (
	"context"
	"time"
)

// Sleep waits d, or until ctx ends (its error then); a d of zero or less
// waits nothing and answers whether ctx has ended.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
