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

// Organizations says whether an organisation is the partner's.
type Organizations interface {
	OrganizationExists(ctx context.Context, partnerID, orgID string) error
}

// Service reads the trail for GET /v1/audit_logs.
type Service struct {
	Trail Reader
	Orgs  Organizations
}

// List reads a page of the trail. An empty first page of an organisation's
// trail must not hide that the organisation is not the caller's: it is a
// 404 then, as on every route (one more read, only when the page is empty).
func (s *Service) List(ctx context.Context, partnerID, orgID string, q Query) (listing.Page[Entry], error) {
	p, err := s.Trail.ListEntries(ctx, partnerID, orgID, q)
	if err != nil {
		return p, err
	}
	if len(p.Items) == 0 && q.Page.Cursor == "" && orgID != "" {
		if err := s.Orgs.OrganizationExists(ctx, partnerID, orgID); err != nil {
			return listing.Page[Entry]{}, err
		}
	}
	return p, nil
}
