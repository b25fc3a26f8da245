package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
)

// Archive keeps change entries where neither the table's point-in-time
// recovery (35 days) nor the audit DLQ (14 days) reaches: seven years of
// write-once objects (deployed, an S3 bucket in Object Lock compliance
// mode; locally a directory). The audit writer appends every change entry
// it writes; API calls are not archived (one year, in the table).
type Archive interface {
	// Append stores body under key once. Appending a key that exists
	// already is a success that changes nothing (a redelivered entry), so
	// the writer may append again whenever it is unsure.
	Append(ctx context.Context, key string, body []byte) error
}

// safeSegment is what an archive key's parts may be: ids as the platform
// makes them (no "/", nothing a path or an S3 console would read twice).
var safeSegment = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.:@-]{0,199}$`)

// ArchiveKey is where e is archived:
// audit/<partner>/<organisation, or _partner>/<yyyy>/<mm>/<dd>/<entry id>.json,
// the date the entry's (UTC). One tenant's year or day is one prefix, which
// is how an auditor or a retention rule asks for it.
func ArchiveKey(e Entry) (string, error) {
	org := e.OrganizationID
	if org == "" {
		org = "_partner"
	}
	for _, s := range []string{e.PartnerID, org, e.ID} {
		if !safeSegment.MatchString(s) {
			return "", fmt.Errorf("audit entry %q cannot be archived: %q is not a safe key segment", e.ID, s)
		}
	}
	t := e.Timestamp.UTC()
	return fmt.Sprintf("audit/%s/%s/%04d/%02d/%02d/%s.json", e.PartnerID, org, t.Year(), int(t.Month()), t.Day(), e.ID), nil
}

// ArchiveBody is the archived form of e: the entry as the API shows it,
// plus its partner (the API leaves it out: the caller knows it; an archive
// read years later does not).
func ArchiveBody(e Entry) ([]byte, error) {
	return json.Marshal(struct {
		PartnerID string `json:"partner_id"`
		Entry
	}{e.PartnerID, e})
}
