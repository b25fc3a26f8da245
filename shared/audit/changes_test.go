package audit

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestChangesKeepOnlyWhatChanged(t *testing.T) {
	for _, tc := range []struct {
		name, before, after, want string
	}{
		{"created: every field of after", `null`, `{"id":"inv-1","status":"draft","total_amount":42200}`,
			`{"after":{"id":"inv-1","status":"draft","total_amount":42200},"before":null}`},
		{"status changed: the seed's shape", `{"id":"inv-1","status":"draft","total_amount":42200,"updated_at":"a","version":1}`,
			`{"id":"inv-1","status":"issued","total_amount":42200,"updated_at":"b","version":2}`,
			`{"after":{"status":"issued"},"before":{"status":"draft"}}`},
		{"nested object compared whole", `{"payer":{"name":"Jean Dupont","email":"jean@example.com"},"n":1}`,
			`{"payer":{"name":"Jean Dupont","email":"jd@example.org"},"n":1}`,
			`{"after":{"payer":{"email":"j•••@example.org","name":"J••• D•••"}},"before":{"payer":{"email":"j•••@example.com","name":"J••• D•••"}}}`},
		{"field added and removed", `{"a":1,"gone":"x"}`, `{"a":1,"new":"y"}`, `{"after":{"new":"y"},"before":{"gone":"x"}}`},
		{"deleted: every field of before", `{"id":"ba-1","iban":"FR7630006000011234567890189"}`, `null`,
			`{"after":null,"before":{"iban":"FR76•••••••••••••••••••0189","id":"ba-1"}}`},
		{"nothing changed but bookkeeping", `{"a":1,"updated_at":"x"}`, `{"a":1,"updated_at":"y"}`, `{"after":{},"before":{}}`},
		{"neither side", ``, `null`, `{"after":null,"before":null}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(Changes(json.RawMessage(tc.before), json.RawMessage(tc.after))); got != tc.want {
				t.Errorf("Changes(%s, %s)\n got %s\nwant %s", tc.before, tc.after, got, tc.want)
			}
		})
	}
}

func TestChangesNeverHoldSecrets(t *testing.T) {
	after := `{"id":"whsub-1","secret":"whsec_abc","client_secret":"s3cr3t","secret_hash":"h","api_client":{"client_secret_hash":"h2","role":"admin"},` +
		`"access_token":"eyJ","csrf":"c","card_number":"4242424242424242","password":"p","signing_key":"k"}`
	got := string(Changes(json.RawMessage(`null`), json.RawMessage(after)))
	for _, leak := range []string{"whsec_abc", "s3cr3t", `"h"`, "h2", "eyJ", `"c"`, "4242", `"p"`, `"k"`} {
		if strings.Contains(got, leak) {
			t.Errorf("changes hold %s: %s", leak, got)
		}
	}
	if want := `{"after":{"api_client":{"role":"admin"},"id":"whsub-1"},"before":null}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestMask(t *testing.T) {
	for _, tc := range []struct {
		person      bool
		field, v, w string
	}{
		{false, "iban", "FR76 3000 6000 0112 3456 7890 189", "FR76•••••••••••••••••••0189"},
		{false, "payer_iban", "FR7612345678901234567890123", "FR76•••••••••••••••••••0123"},
		{false, "email", "jean.dupont@example.com", "j•••@example.com"},
		{false, "payer_email", "x@y.fr", "x•••@y.fr"},
		{false, "email", "not-an-email", "••••••••••••"},
		{false, "phone", "+33612345689", "••••••••••89"},
		{false, "account_name", "Jean Dupont", "J••• D•••"},
		{false, "first_name", "Élodie", "É•••"},
		{true, "name", "Jean Dupont", "J••• D•••"},
		{true, "line1", "15 rue de la Paix", "1••• r••• d••• l••• P•••"},
		{true, "date_of_birth", "1980-05-17", "••••-••-••"},
		{true, "postal_code", "69002", "69002"},
		{false, "name", "Régie des Eaux de Lyon", "Régie des Eaux de Lyon"}, // a company's name
		{false, "line1", "1 rue A", "1 rue A"},                              // an organisation's address
		{false, "payment_page_url", "https://pay.modupay.fr/p/tok_secret", "https://pay.modupay.fr/p/•••"},
		{false, "status", "paid", "paid"},
		// Seed 003's beneficiary (camelCase): its account, its address.
		{true, "accountNumber", "5555666777", "••••••6777"},
		{true, "accountNumber", "FR7630006000011234567890189", "FR76•••••••••••••••••••0189"},
		{true, "address", "123 Avenue de la République, Kinshasa", "•••"},
		{false, "bankCode", "BDC003", "BDC003"},
	} {
		if got := Mask(tc.person, tc.field, tc.v); got != tc.w {
			t.Errorf("Mask(%v, %q, %q) = %q, want %q", tc.person, tc.field, tc.v, got, tc.w)
		}
	}
}

// A person's object is masked at any depth: the payer's address too, and
// in lists.
func TestChangesMaskPeopleAtAnyDepth(t *testing.T) {
	after := `{"payer":{"name":"Jean Dupont","address":{"line1":"15 rue de la Paix","city":"Lyon"}},"representatives":[{"first_name":"Marie","last_name":"Curie"}],"name":"ACME SAS"}`
	got := string(Changes(json.RawMessage(`null`), json.RawMessage(after)))
	want := `{"after":{"name":"ACME SAS","payer":{"address":{"city":"Lyon","line1":"1••• r••• d••• l••• P•••"},"name":"J••• D•••"},"representatives":[{"first_name":"M•••","last_name":"C•••"}]},"before":null}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// Changes above the bound are replaced by a note of their size and fields,
// so an entry and its copies always fit a DynamoDB item.
func TestChangesAreBounded(t *testing.T) {
	big := strings.Repeat("x", MaxChangesBytes)
	got := Changes(json.RawMessage(`{"a":"small"}`), json.RawMessage(`{"a":"`+big+`","b":1}`))
	if len(got) > 1024 || !strings.Contains(string(got), "fields changed: a, b") || !strings.Contains(string(got), `"truncated"`) {
		t.Errorf("oversized changes: %d bytes, %.200s", len(got), got)
	}
	// Just under the bound stays whole.
	fit := strings.Repeat("y", MaxChangesBytes-100)
	if got := Changes(json.RawMessage(`null`), json.RawMessage(`{"a":"`+fit+`"}`)); strings.Contains(string(got), "truncated") {
		t.Error("changes under the bound were truncated")
	}
}

func TestRetentionIsByTheCalendar(t *testing.T) {
	for _, tc := range []struct{ at, want string }{
		{"2024-02-01T10:30:15Z", "2031-02-01T10:30:15Z"},
		{"2024-02-29T12:00:00Z", "2031-03-01T12:00:00Z"}, // no 29 February in 2031
	} {
		at, _ := time.Parse(time.RFC3339, tc.at)
		if got := Retention(at).Format(time.RFC3339); got != tc.want {
			t.Errorf("Retention(%s) = %s, want %s", tc.at, got, tc.want)
		}
	}
	// 7×365 days would fall short by the leap days in between.
	at, _ := time.Parse(time.RFC3339, "2024-02-01T00:00:00Z")
	if d := Retention(at).Sub(at); d == 7*365*24*time.Hour {
		t.Errorf("retention is 7×365 days")
	}
}
