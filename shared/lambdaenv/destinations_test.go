package lambdaenv

import (
	"strings"
	"testing"
)

// POST /destinations is asked only outside production, where the setting
// says api or nothing; production is operator whatever the setting says,
// and refuses to start with api. A setting that is neither value is
// operator, and refused.
func TestDestinations(t *testing.T) {
	for _, tc := range []struct {
		stage, setting, want, refused string
	}{
		{"sandbox", "", DestinationsAPI, ""},
		{"sandbox", "api", DestinationsAPI, ""},
		{"sandbox", "operator", DestinationsOperator, ""},
		{"sandbox", "API", DestinationsOperator, "must be api or operator"},
		{"production", "", DestinationsOperator, ""},
		{"production", "operator", DestinationsOperator, ""},
		{"production", "api", DestinationsOperator, "refused in production"},
		{"production", "sandbox", DestinationsOperator, "must be api or operator"},
	} {
		c := Config{Stage: tc.stage, AiiaDestinations: tc.setting}
		if got := c.Destinations(); got != tc.want {
			t.Errorf("%s, %q: %s, want %s", tc.stage, tc.setting, got, tc.want)
		}
		err := c.aiiaReady()
		// Production without an Aiia account is refused for that reason too.
		if tc.refused == "" && err != nil && !strings.Contains(err.Error(), "Aiia is not configured for production") {
			t.Errorf("%s, %q: refused: %v", tc.stage, tc.setting, err)
		}
		if tc.refused != "" && (err == nil || !strings.Contains(err.Error(), tc.refused)) {
			t.Errorf("%s, %q: %v, want it refused: %s", tc.stage, tc.setting, err, tc.refused)
		}
	}
}

// The setting is read from the environment, spaces trimmed.
func TestDestinationsFromEnv(t *testing.T) {
	t.Setenv("MODUPAY_AIIA_DESTINATIONS", " operator\n")
	if got := ConfigFromEnv().AiiaDestinations; got != DestinationsOperator {
		t.Errorf("AiiaDestinations = %q", got)
	}
}
