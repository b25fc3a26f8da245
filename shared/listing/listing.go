// Package listing is the shape of a paginated read, shared by the HTTP edge,
// the services and the store without tying any of them to the others.
package listing

import "context"

// Query asks for one page: by number (seed 000's page/page_size) or, when
// Cursor is set, the page after the one that returned it.
type Query struct {
	Page   int
	Size   int
	Cursor string
	// NoTotal: the caller shows no total (the dashboard's pages), so a
	// store that would count the whole list for it skips that read and
	// answers Total -1. The API's lists count (total_items).
	NoTotal bool
}

// Page is one page of items. Next is the opaque cursor of the following page,
// empty on the last one. Total is the number of items in the whole list, or -1
// when it was not counted.
type Page[T any] struct {
	Items []T
	Next  string
	Total int
}

// Organizations says whether an organisation is the partner's (NotFound
// otherwise): the stores' OrganizationExists, one read of its key.
type Organizations interface {
	OrganizationExists(ctx context.Context, partnerID, orgID string) error
}

// OfOrganization is a page of an organisation's list as read (p, err),
// unless the page is an empty first page of an organisation that is not
// the partner's: an empty list and another tenant's organisation must not
// look alike, so that is the organisation's NotFound, as on every route.
// Only an empty first page pays the extra read.
func OfOrganization[T any](ctx context.Context, p Page[T], err error, q Query, orgs Organizations, partnerID, orgID string) (Page[T], error) {
	if err != nil || len(p.Items) > 0 || q.Cursor != "" {
		return p, err
	}
	return p, orgs.OrganizationExists(ctx, partnerID, orgID)
}
