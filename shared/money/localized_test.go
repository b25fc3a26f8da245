package money

import (
	"encoding/json"
	"testing"
)

func TestRatesAndQuantitiesAsPagesWriteThem(t *testing.T) {
	for _, c := range []struct{ rate, fr, en string }{{"5.5", "5,5\u00a0%", "5.5%"}, {"20", "20\u00a0%", "20%"}, {"2.1", "2,1\u00a0%", "2.1%"}} {
		r, err := ParseRate(json.Number(c.rate))
		if err != nil {
			t.Fatal(err)
		}
		if r.Percent("fr") != c.fr || r.Percent("en") != c.en {
			t.Errorf("%s: %q / %q, want %q / %q", c.rate, r.Percent("fr"), r.Percent("en"), c.fr, c.en)
		}
	}
	q, err := ParseQuantity("1.5")
	if err != nil {
		t.Fatal(err)
	}
	if q.Localized("fr") != "1,5" || q.Localized("en") != "1.5" {
		t.Errorf("1.5: %q / %q", q.Localized("fr"), q.Localized("en"))
	}
}
