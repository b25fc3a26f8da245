// Package apicall is the API call log (seed 000, "Données tracées": every
// API call, kept one year): one record per authenticated request, sent by the
// edge to the audit queue after the response and written by the audit writer.
package apicall

import (
	"context"
	"time"

	"github.com/modupay/modupay/shared/listing"
)

// Call is one request as the log keeps it.
type Call struct {
	RequestID string    `json:"request_id"`
	Timestamp time.Time `json:"timestamp"`
	PartnerID string    `json:"-"`
	OrgID     string    `json:"organization_id,omitempty"`
	Method    string    `json:"method"`
	Route     string    `json:"route"` // the route key, e.g. "GET /v1/invoices/{invoice_id}"
	Status    int       `json:"status"`
	LatencyMS int64     `json:"latency_ms"`
	ClientID  string    `json:"user_id"`
	UserType  string    `json:"user_type"` // partner, organization
	IPAddress string    `json:"ip_address,omitempty"`
}

// Query filters one tenant's calls; they come newest first.
type Query struct {
	UserID   string
	From, To time.Time
	Page     listing.Query
}

// Reader reads one tenant's calls (orgID "" is the partner's calls made
// without an organisation).
type Reader interface {
	ListAPICalls(ctx context.Context, partnerID, orgID string, q Query) (listing.Page[Call], error)
}
