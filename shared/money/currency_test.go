package money

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestParseAmount(t *testing.T) {
	for _, tc := range []struct {
		in, currency string
		want         int64
		err          error
		decimals     bool // an *AmountDecimalsError
	}{
		{"7500000.00", "CDF", 750000000, nil, false}, // seed 003's sample
		{"5000000", "CDF", 500000000, nil, false},
		{"0.01", "EUR", 1, nil, false},
		{"12.500", "EUR", 1250, nil, false}, // trailing zeros are not decimals
		{"1.5e3", "EUR", 150000, nil, false},
		{"1e-2", "EUR", 1, nil, false},
		{"1500", "XAF", 1500, nil, false},
		{"1500.0", "XAF", 1500, nil, false},
		{"1.234", "TND", 1234, nil, false},
		{"0.1", "EUR", 10, nil, false},
		{"0.3", "EUR", 30, nil, false}, // no float64: 0.1+0.2 questions never arise
		{"10000000000000", "EUR", MaxAmountMinor, nil, false},
		{"10000000000000.01", "EUR", 0, ErrAmountTooLarge, false},
		{"1e30", "EUR", 0, ErrAmountTooLarge, false},
		{"1.001", "EUR", 0, nil, true},
		{"1500.5", "XAF", 0, nil, true},
		{"1.2345", "TND", 0, nil, true},
		{"1e-3", "EUR", 0, nil, true},
		{"0", "EUR", 0, ErrAmountNotPositive, false},
		{"0.00", "EUR", 0, ErrAmountNotPositive, false},
		{"-5", "EUR", 0, ErrAmountNotPositive, false},
		{"-0.01", "EUR", 0, ErrAmountNotPositive, false},
		{"", "EUR", 0, ErrAmountSyntax, false},
		{"1,5", "EUR", 0, ErrAmountSyntax, false},
		{"+1", "EUR", 0, ErrAmountSyntax, false},
		{"01", "EUR", 0, ErrAmountSyntax, false},
		{".5", "EUR", 0, ErrAmountSyntax, false},
		{"NaN", "EUR", 0, ErrAmountSyntax, false},
		{"100", "ZZZ", 0, ErrUnknownCurrency, false},
		{"100", "eur", 0, ErrUnknownCurrency, false},
	} {
		got, err := ParseAmount(json.Number(tc.in), tc.currency)
		var de *AmountDecimalsError
		switch {
		case tc.decimals:
			if !errors.As(err, &de) || de.Currency != tc.currency {
				t.Errorf("ParseAmount(%q, %s) = %d, %v; want a decimals error", tc.in, tc.currency, got, err)
			}
		case tc.err != nil:
			if !errors.Is(err, tc.err) {
				t.Errorf("ParseAmount(%q, %s) = %d, %v; want %v", tc.in, tc.currency, got, err, tc.err)
			}
		default:
			if err != nil || got != tc.want {
				t.Errorf("ParseAmount(%q, %s) = %d, %v; want %d", tc.in, tc.currency, got, err, tc.want)
			}
		}
	}
}

func TestAmountDecimalsMessage(t *testing.T) {
	_, err := ParseAmount("1.5", "XAF")
	if err == nil || err.Error() != "amount must be a whole number of XAF (it has no decimals)" {
		t.Errorf("XAF: %v", err)
	}
	_, err = ParseAmount("1.005", "EUR")
	if err == nil || err.Error() != "amount must have at most 2 decimals in EUR" {
		t.Errorf("EUR: %v", err)
	}
}

func TestFormatAmount(t *testing.T) {
	for _, tc := range []struct {
		minor    int64
		currency string
		want     string
	}{
		{750000000, "CDF", "7500000.00"},
		{1, "EUR", "0.01"},
		{1250, "EUR", "12.50"},
		{1500, "XAF", "1500"},
		{1234, "TND", "1.234"},
		{5, "KWD", "0.005"},
		{-1250, "EUR", "-12.50"},
		{0, "EUR", "0.00"},
	} {
		got, err := FormatAmount(tc.minor, tc.currency)
		if err != nil || string(got) != tc.want {
			t.Errorf("FormatAmount(%d, %s) = %q, %v; want %s", tc.minor, tc.currency, got, err, tc.want)
		}
	}
	if _, err := FormatAmount(1, "ZZZ"); !errors.Is(err, ErrUnknownCurrency) {
		t.Errorf("unknown currency: %v", err)
	}
}

// Every amount a currency can hold reads back as itself.
func FuzzAmountRoundTrip(f *testing.F) {
	f.Add(int64(750000000), "CDF")
	f.Add(int64(1), "TND")
	f.Add(int64(1500), "XAF")
	f.Fuzz(func(t *testing.T, minor int64, currency string) {
		if minor <= 0 || minor > MaxAmountMinor {
			return
		}
		if _, ok := MinorUnits(currency); !ok {
			return
		}
		s, err := FormatAmount(minor, currency)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseAmount(s, currency)
		if err != nil || back != minor {
			t.Fatalf("%d %s → %s → %d, %v", minor, currency, s, back, err)
		}
	})
}
