// Package listing is the shape of a paginated read, shared by the HTTP edge,
// the services and the store without tying any of them to the others.
package listing

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
