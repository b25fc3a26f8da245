package audit

import (
	"context"
	"net/url"
	"regexp"
	"time"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/audit/apicall"
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

// Service reads the trail for GET /v1/audit_logs: the change entries, and
// the API call log for resource_type=api_call.
type Service struct {
	Trail Reader
	Calls apicall.Reader
	Orgs  Organizations
}

// List reads a page of the trail. An empty first page of an organisation's
// trail must not hide that the organisation is not the caller's: it is a
// 404 then, as on every route (one more read, only when the page is empty).
func (s *Service) List(ctx context.Context, partnerID, orgID string, q Query) (listing.Page[Entry], error) {
	p, err := s.Trail.ListEntries(ctx, partnerID, orgID, q)
	return checked(ctx, s, partnerID, orgID, q.Page, p, err)
}

// ListCalls reads a page of the API call log. An organisation's log is
// read only once the organisation is found to be the caller's (one GetItem
// more on every page): a request that named an organisation that is not
// the caller's is logged under the caller's partner and the id it named,
// so that log is not empty, yet it is no organisation of the caller's and
// answers 404 as on every route. Those calls stay in the table, for the
// operator; the partner never reads them.
func (s *Service) ListCalls(ctx context.Context, partnerID, orgID string, q apicall.Query) (listing.Page[apicall.Call], error) {
	if orgID != "" {
		if err := s.Orgs.OrganizationExists(ctx, partnerID, orgID); err != nil {
			return listing.Page[apicall.Call]{}, err
		}
	}
	return s.Calls.ListAPICalls(ctx, partnerID, orgID, q)
}

func checked[T any](ctx context.Context, s *Service, partnerID, orgID string, page listing.Query, p listing.Page[T], err error) (listing.Page[T], error) {
	if err != nil {
		return p, err
	}
	if len(p.Items) == 0 && page.Cursor == "" && orgID != "" {
		if err := s.Orgs.OrganizationExists(ctx, partnerID, orgID); err != nil {
			return listing.Page[T]{}, err
		}
	}
	return p, nil
}

// The filters' forms: names (resource types, actions) and ids.
var (
	filterName = regexp.MustCompile(`^[a-z][a-z0-9_.]{0,63}$`)
	filterID   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,199}$`)
)

// QueryOf reads a trail's filters from query parameters — resource_type,
// resource_id, action, user_id, from_date, to_date — as GET /v1/audit_logs
// and the dashboard's trail take them; each wrong one is a 422 naming it.
// The API call log (resource_type api_call) takes only user_id and the
// dates. Paging is the caller's.
func QueryOf(op string, v url.Values) (Query, error) {
	q := Query{ResourceType: v.Get("resource_type"), ResourceID: v.Get("resource_id"), Action: v.Get("action"), UserID: v.Get("user_id")}
	for _, f := range []struct {
		param, v string
		re       *regexp.Regexp
		what     string
	}{
		{"resource_type", q.ResourceType, filterName, "a resource type such as invoice"},
		{"action", q.Action, filterName, "an action such as created or status_changed"},
		{"resource_id", q.ResourceID, filterID, "a resource id"},
		{"user_id", q.UserID, filterID, "an API client id"},
	} {
		if f.v != "" && !f.re.MatchString(f.v) {
			return Query{}, apperr.Field(op, f.param, f.param+" must be "+f.what)
		}
	}
	if q.ResourceType == apicall.Kind {
		for _, f := range []struct{ param, v string }{{"resource_id", q.ResourceID}, {"action", q.Action}} {
			if f.v != "" {
				return Query{}, apperr.Field(op, f.param, f.param+" does not filter the API call log; with resource_type="+apicall.Kind+" the filters are user_id, from_date and to_date")
			}
		}
	}
	var err error
	if q.From, err = filterDate(op, "from_date", v.Get("from_date"), false); err != nil {
		return Query{}, err
	}
	if q.To, err = filterDate(op, "to_date", v.Get("to_date"), true); err != nil {
		return Query{}, err
	}
	if !q.From.IsZero() && !q.To.IsZero() && q.To.Before(q.From) {
		return Query{}, apperr.Field(op, "to_date", "to_date is before from_date")
	}
	return q, nil
}

// filterDate reads an RFC 3339 date-time, or a calendar day (UTC): a day as
// from_date starts at its midnight, as to_date includes the whole day.
func filterDate(op, param, v string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if d, err := time.Parse(time.DateOnly, v); err == nil {
		if end {
			return d.Add(24*time.Hour - time.Nanosecond), nil
		}
		return d, nil
	}
	return time.Time{}, apperr.Field(op, param, param+" must be an RFC 3339 date-time (2024-02-01T00:00:00Z) or a day (2024-02-01)")
}
