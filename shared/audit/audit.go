// Package audit keeps the audit trail: one entry per domain event, written by
// the audit writer (auditwriter) from the audit queue, idempotently.
package audit

import (
	"encoding/json"
	"time"
)

// Entry is one audit log line, in seed 000's shape.
type Entry struct {
	ID             string          `json:"id"`
	Timestamp      time.Time       `json:"timestamp"`
	PartnerID      string          `json:"-"`
	OrganizationID string          `json:"organization_id,omitempty"`
	EventType      string          `json:"event_type"`
	ResourceType   string          `json:"resource_type"`
	ResourceID     string          `json:"resource_id"`
	Action         string          `json:"action"`
	UserID         string          `json:"user_id"`
	UserType       string          `json:"user_type"`
	IPAddress      string          `json:"ip_address,omitempty"`
	RequestID      string          `json:"request_id,omitempty"`
	Changes        json.RawMessage `json:"changes"`
}
