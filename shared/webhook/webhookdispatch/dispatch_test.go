package webhookdispatch

import (
	"testing"
	"time"
)

// The production schedule: 5 attempts in all, the last about 14 h after the
// first; jitter stays within ±20 %.
func TestDefaultScheduleAndJitter(t *testing.T) {
	if len(DefaultSchedule)+1 != 5 {
		t.Fatalf("%d attempts in all, want the seed's 5", len(DefaultSchedule)+1)
	}
	var total time.Duration
	for i, d := range DefaultSchedule {
		if i > 0 && d <= DefaultSchedule[i-1] {
			t.Errorf("delay %d (%s) does not grow", i, d)
		}
		total += d
	}
	if total != 14*time.Hour+16*time.Minute {
		t.Errorf("last attempt %s after the first", total)
	}
	d := &Dispatcher{}
	for range 1000 {
		if j := d.jitter(time.Hour); j < 48*time.Minute || j > 72*time.Minute {
			t.Fatalf("jitter %s outside ±20 %%", j)
		}
	}
}
