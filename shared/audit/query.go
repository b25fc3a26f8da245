package audit

import (
	"context"
	"time"

	"github.com/modupay/modupay/shared/listing"
)

// Query is GET /v1/audit_logs' filters (seed 000, "Consultation des logs").
// Empty strings and zero times do not filter. Entries come newest first.
type Query struct {
	ResourceType string
	ResourceID   string
	Action       string
	UserID       string
	From, To     time.Time // inclusive bounds on Timestamp
	Page         listing.Query
}

// Reader reads one tenant's trail: an organisation's (orgID set) or the
// partner's own entries (orgID ""). A page costs O(page size) whatever the
// tenant's history.
//
// Keys (one table; tenant is P#<partner>#O#<org>, or P#<partner> for
// partner-level entries; SK=<sortable time>#<entry id> everywhere):
//
//	AUDIT#<tenant>                                   every entry
//	AUDIT#<tenant>#RT#<resource_type>                copy, per resource type
//	AUDIT#<tenant>#R#<resource_id>                   copy, per resource (ids are unique across types)
//	AUDIT#<tenant>#A#<action>                        copy, per action
//	AUDIT#<tenant>#U#<user_id>                       copy, per actor
//
// The writer puts the entry and its copies in one conditional transaction
// (attribute_not_exists on each), so a redelivered event writes nothing.
type Reader interface {
	ListEntries(ctx context.Context, partnerID, orgID string, q Query) (listing.Page[Entry], error)
}
