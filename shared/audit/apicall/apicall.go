// Package apicall is the API call log (seed 000, "Données tracées": every
// API call, kept one year): one record per authenticated request, sent by the
// edge to the audit queue after the response and written by the audit writer.
package apicall

import (
	"context"
	"errors"
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

// Kind marks an API call on the audit queue, whose other messages (event
// records, which have no "kind") become change entries.
const Kind = "api_call"

// Message is a call as it travels on the audit queue: the call, its
// partner (which the call's JSON leaves out) and Kind. A few hundred bytes,
// far under SQS's 256 KB: every field is bounded by the edge (route keys
// are the template's, ids and addresses are short).
type Message struct {
	Kind      string `json:"kind"`
	PartnerID string `json:"partner_id"`
	Call
}

// NewMessage wraps c for the audit queue.
func NewMessage(c Call) Message { return Message{Kind: Kind, PartnerID: c.PartnerID, Call: c} }

// Unwrap returns the call the message carries, its partner set.
func (m Message) Unwrap() Call {
	c := m.Call
	c.PartnerID = m.PartnerID
	return c
}

// Validate says what a call lacks to be kept: it is keyed by its tenant,
// time and request id.
func (c Call) Validate() error {
	switch {
	case c.PartnerID == "":
		return errors.New("api call lacks partner_id")
	case c.RequestID == "":
		return errors.New("api call lacks request_id")
	case c.Timestamp.IsZero():
		return errors.New("api call lacks timestamp")
	case c.Method == "" || c.Route == "":
		return errors.New("api call lacks method or route")
	}
	return nil
}

// Retention is how long a call made at t is kept: one calendar year (seed
// 000, "Appel API (tous) — 1 an"), by the calendar, not 365 days.
func Retention(t time.Time) time.Time { return t.UTC().AddDate(1, 0, 0) }
