package aiia

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzParseAmount: any amount a provider answer can carry is read exactly
// or refused, never with a panic or a rounding; a read amount prints back
// to a number that reads the same.
func FuzzParseAmount(f *testing.F) {
	for _, s := range []string{"123.45", "123.4", "123", "1.2345e2", "0.001", "-5.00", "1e999999999", "9223372036854775807", "NaN", "", "1/3", "0x10", "12.3456789012345678901234567890"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cents, err := ParseAmount(s)
		if err != nil {
			return
		}
		if !json.Valid([]byte(s)) || strings.ContainsAny(s, "\"[{tfn") {
			t.Fatalf("%q read as %d: it is no JSON number", s, cents)
		}
		back, err := ParseAmount(FormatAmount(cents))
		if err != nil || back != cents {
			t.Fatalf("%q → %d → %q → %d, %v", s, cents, FormatAmount(cents), back, err)
		}
	})
}
