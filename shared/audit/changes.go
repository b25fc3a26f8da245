package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/modupay/modupay/shared/identifier"
)

// Retention is seed 000's "7 ans" for change entries, by the calendar: an
// entry of 29 February 2024 expires on 1 March 2031, not 7×365 days later.
func Retention(at time.Time) time.Time { return at.AddDate(7, 0, 0) }

// MaxChangesBytes bounds an entry's changes. A DynamoDB item holds at most
// 400 KB and each entry is written five times (the entry and its four index
// copies, see Reader), so changes larger than this are replaced by a note of
// their size and the fields they touched.
const MaxChangesBytes = 64 << 10

// bookkeeping fields change on every update and say nothing an auditor
// needs: they never appear in changes.
var bookkeeping = map[string]bool{"updated_at": true, "version": true}

// Changes builds an entry's {before, after} from the event's snapshots: only
// the top-level fields whose values differ, secrets removed, personal data
// masked (see Mask). A creation (before null) keeps every field of after; a
// deletion (after null) every field of before.
func Changes(before, after json.RawMessage) json.RawMessage {
	b, a := object(before), object(after)
	var outB, outA map[string]any
	switch {
	case b == nil && a == nil:
	case b == nil:
		outA = a
	case a == nil:
		outB = b
	default:
		outB, outA = map[string]any{}, map[string]any{}
		for k, bv := range b {
			if av, ok := a[k]; !ok || !sameJSON(av, bv) {
				outB[k] = bv
			}
		}
		for k, av := range a {
			if bv, ok := b[k]; !ok || !sameJSON(av, bv) {
				outA[k] = av
			}
		}
	}
	for k := range bookkeeping {
		delete(outB, k)
		delete(outA, k)
	}
	out, _ := json.Marshal(map[string]any{"before": maskValue(false, nullable(outB)), "after": maskValue(false, nullable(outA))})
	if len(out) > MaxChangesBytes {
		fields := map[string]bool{}
		for k := range outB {
			fields[k] = true
		}
		for k := range outA {
			fields[k] = true
		}
		names := make([]string, 0, len(fields))
		for k := range fields {
			names = append(names, k)
		}
		out, _ = json.Marshal(map[string]any{"before": nil, "after": nil,
			"truncated": fmt.Sprintf("changes of %d bytes exceed the %d an entry keeps; fields changed: %s", len(out), MaxChangesBytes, strings.Join(sorted(names), ", "))})
	}
	return out
}

func object(raw json.RawMessage) map[string]any {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

func nullable(m map[string]any) any {
	if m == nil {
		return nil
	}
	return m
}

func sameJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func sorted(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

// Secret reports whether a field holds a secret: such a field never reaches
// the audit trail, whatever its value (not even masked).
func Secret(field string) bool {
	f := strings.ToLower(field)
	switch f {
	case "secret", "client_secret", "secret_hash", "password", "token", "access_token", "refresh_token", "csrf",
		"private_key", "signing_key", "card_number", "cvc", "card_cvc":
		return true
	}
	for _, suffix := range []string{"_secret", "_secret_hash", "_password", "_token", "_private_key"} {
		if strings.HasSuffix(f, suffix) {
			return true
		}
	}
	return false
}

// people are the objects that describe a natural person.
var people = map[string]bool{"payer": true, "representative": true, "contact": true, "beneficiary": true, "holder": true}

// Mask returns the value an audit entry keeps for field; person says the
// field is inside a natural person's object (payer, representative,
// contact, beneficiary or holder, at any depth: payer.address.line1 too):
//
//	secrets (see Secret)                      removed
//	iban, *_iban                              country, check digits and last 4: FR76•••••••••••••••••••0123
//	email, *_email                            first letter and domain: j•••@example.com
//	phone, *_phone                            last 2 digits: ••••••••89
//	accountNumber, account_number             an IBAN as above, else the last 4: ••••••7777
//	address (a string) in a person's object   •••
//	account_name, holder_name, first_name,    initials: J••• D•••
//	  last_name; in a person's object also
//	  name, line1, line2
//	date_of_birth in a person's object        ••••-••-••
//	payment_page_url                          the page, without its token
//
// Company names (an organisation's, a department's) are not personal data
// and stay as they are.
func Mask(person bool, field string, v string) string {
	f := strings.ToLower(field)
	switch {
	case f == "iban" || strings.HasSuffix(f, "_iban"):
		return identifier.MaskIBAN(v)
	case f == "email" || strings.HasSuffix(f, "_email"):
		return maskEmail(v)
	case f == "phone" || strings.HasSuffix(f, "_phone"):
		return maskTail(v, 2)
	case f == "accountnumber" || f == "account_number":
		// A beneficiary's account (seed 003): an IBAN masked as one, any
		// other account number to its last 4 characters.
		if _, p := identifier.CheckIBAN(v); p == nil {
			return identifier.MaskIBAN(v)
		}
		return maskTail(v, 4)
	case person && f == "address":
		return "•••"
	case f == "account_name" || f == "holder_name" || f == "first_name" || f == "last_name":
		return maskName(v)
	case person && (f == "name" || f == "line1" || f == "line2"):
		return maskName(v)
	case person && f == "date_of_birth":
		return "••••-••-••"
	case f == "payment_page_url":
		if i := strings.LastIndex(v, "/"); i >= 0 {
			return v[:i+1] + "•••"
		}
		return "•••"
	}
	return v
}

func maskValue(person bool, v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			if Secret(k) {
				continue
			}
			if s, ok := x.(string); ok {
				out[k] = Mask(person, k, s)
				continue
			}
			out[k] = maskValue(person || people[strings.ToLower(k)], x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = maskValue(person, x)
		}
		return out
	}
	return v
}

func maskEmail(v string) string {
	at := strings.LastIndex(v, "@")
	if at <= 0 {
		return strings.Repeat("•", len([]rune(v)))
	}
	r := []rune(v[:at])
	return string(r[0]) + "•••" + v[at:]
}

func maskTail(v string, keep int) string {
	r := []rune(v)
	if len(r) <= keep*2 {
		return strings.Repeat("•", len(r))
	}
	return strings.Repeat("•", len(r)-keep) + string(r[len(r)-keep:])
}

func maskName(v string) string {
	words := strings.Fields(v)
	for i, w := range words {
		r := []rune(w)
		words[i] = string(r[0]) + "•••"
	}
	return strings.Join(words, " ")
}
