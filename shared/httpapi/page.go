package httpapi

import (
	"fmt"
	"strconv"

	"github.com/modupay/modupay/shared/listing"

	"github.com/modupay/modupay/shared/apperr"
)

// PageRequest is a list request: seed 000's page/page_size, or an opaque
// cursor from a previous page's next_cursor (which wins when both are given).
// Page numbers cost reads proportional to page × page_size; the cursor costs
// one page whatever the list's length, so large lists should be walked with it.
type PageRequest = listing.Query

const (
	DefaultPageSize = 20
	MaxPageSize     = 100
	MaxPageDepth    = 10000
)

// Pagination is the "pagination" object of list responses. TotalItems and
// TotalPages are given for lists of bounded size and are null otherwise.
type Pagination struct {
	Page       int     `json:"page"`
	PageSize   int     `json:"page_size"`
	TotalItems *int    `json:"total_items"`
	TotalPages *int    `json:"total_pages"`
	HasMore    bool    `json:"has_more"`
	NextCursor *string `json:"next_cursor"`
}

// List is the shape of every /v1 list response.
type List[T any] struct {
	Data       []T        `json:"data"`
	Pagination Pagination `json:"pagination"`
}

// PageParams reads page, page_size and cursor from the query string.
func (r *Request) PageParams() (PageRequest, error) {
	const op = "http.page"
	p := PageRequest{Page: 1, Size: DefaultPageSize, Cursor: r.Query.Get("cursor")}
	if v := r.Query.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			return p, apperr.Field(op, "page", "page must be an integer from 1 to 10000")
		}
		p.Page = n
	}
	if v := r.Query.Get("page_size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxPageSize {
			return p, apperr.Field(op, "page_size", "page_size must be an integer from 1 to 100")
		}
		p.Size = n
	}
	// Page numbers are walked from the start; past this depth the cursor is
	// the only way on (like a search engine's result window).
	if p.Cursor == "" && p.Page*p.Size > MaxPageDepth {
		return p, apperr.Field(op, "page", fmt.Sprintf("page × page_size may not exceed %d; follow next_cursor to go further", MaxPageDepth))
	}
	return p, nil
}

// NewList renders a page of items, converted by render, as a list response.
func NewList[T, W any](req PageRequest, page listing.Page[T], render func(T) W) List[W] {
	out := List[W]{Data: make([]W, 0, len(page.Items)), Pagination: NewPagination(req, page.Total, page.Next)}
	for _, it := range page.Items {
		out.Data = append(out.Data, render(it))
	}
	return out
}

// NewPagination fills the pagination object; total < 0 means unknown.
func NewPagination(req PageRequest, total int, next string) Pagination {
	pg := Pagination{Page: req.Page, PageSize: req.Size, HasMore: next != ""}
	if next != "" {
		pg.NextCursor = &next
	}
	if total >= 0 {
		pages := (total + req.Size - 1) / req.Size
		pg.TotalItems, pg.TotalPages = &total, &pages
	}
	return pg
}
