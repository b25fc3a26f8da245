package department

import (
	"testing"
	"time"
)

func TestKYCRetainedUntil(t *testing.T) {
	for _, c := range []struct {
		name         string
		closed, want time.Time
	}{
		{"a plain day", time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC), time.Date(2031, 12, 1, 9, 30, 0, 0, time.UTC)},
		{"29 February: 1 March five years on", time.Date(2028, 2, 29, 0, 0, 0, 0, time.UTC), time.Date(2033, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"Paris time is kept as the instant it is", time.Date(2026, 1, 1, 0, 30, 0, 0, time.FixedZone("CET", 3600)), time.Date(2030, 12, 31, 23, 30, 0, 0, time.UTC)},
	} {
		if got := KYCRetainedUntil(c.closed); !got.Equal(c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}
