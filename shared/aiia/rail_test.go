package aiia

import (
	"strings"
	"testing"
)

func TestReference(t *testing.T) {
	tests := []struct{ in, want string }{
		{"FAC-2026-00001", "FAC 2026 00001"},
		{"FAC/2026/00001", "FAC 2026 00001"},
		{"  fac--2026__7 ", "fac 2026 7"},
		{"Régie Été-2026-12", "Regie Ete 2026 12"},
		{"", ""},
		{"---", ""},
		{"ORGANISATION-LONGUE-2026-000123", "ION LONGUE 2026 000123"},
		{"AAAAAAAAAAAAAAAAAAAAAAAAAA-1", "AAAAAAAAAAAAAAAAAAAA 1"},
		{"€ 42 ✓", "42"},
	}
	for _, tt := range tests {
		got := Reference(tt.in)
		if got != tt.want {
			t.Errorf("Reference(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if !ValidReference(got) {
			t.Errorf("Reference(%q) = %q is not a valid reference", tt.in, got)
		}
	}
}

func TestEndToEndID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"pi-456def78-90ab-cdef-1234-567890abcdef", "pi456def7890abcdef1234567890abcdef"},
		{"pi-short", "pi-short"},
		{"a b_c", "abc"},
		{strings.Repeat("x", 50), strings.Repeat("x", 35)},
	}
	for _, tt := range tests {
		got := EndToEndID(tt.in)
		if got != tt.want {
			t.Errorf("EndToEndID(%q) = %q, want %q", tt.in, got, tt.want)
		}
		in := validPayment()
		in.EndToEndID = got
		if err := in.Validate(); err != nil {
			t.Errorf("EndToEndID(%q) = %q fails validation: %v", tt.in, got, err)
		}
	}
}

func TestAmounts(t *testing.T) {
	format := []struct {
		cents int64
		want  string
	}{{200, "2.00"}, {42220, "422.20"}, {5, "0.05"}, {-150, "-1.50"}, {100000000, "1000000.00"}}
	for _, tt := range format {
		if got := FormatAmount(tt.cents); got != tt.want {
			t.Errorf("FormatAmount(%d) = %q, want %q", tt.cents, got, tt.want)
		}
	}
	parse := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"422.2", 42220, true}, {"422.20", 42220, true}, {"2", 200, true}, {"0.05", 5, true},
		{"4.222e2", 42220, true}, {"1.005", 0, false}, {"abc", 0, false}, {"", 0, false},
		{"1e999999999", 0, false}, {"0.1", 10, true},
	}
	for _, tt := range parse {
		got, err := ParseAmount(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseAmount(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestParamOf(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Validation error occurred for the property: RedirectUrl", "redirect_url"},
		{"Validation error occurred for the property: EndToEndId", "end_to_end_id"},
		{"Validation error occurred for the property: EndUser.Email", "end_user.email"},
		{"Validation error occurred for the property: IBAN", "iban"},
		{"Validation error occurred for the property: DestinationId.", "destination_id"},
		{"something else", ""},
		{"Validation error occurred for the property: two words", ""},
	}
	for _, tt := range tests {
		if got := paramOf(tt.in); got != tt.want {
			t.Errorf("paramOf(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
