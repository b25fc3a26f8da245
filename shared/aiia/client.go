package aiia

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/modupay/modupay/shared/apperr"
)

// Wire shapes. Field names are the spec's (Latest.yaml) except for
// destinations, which the spec does not cover (see CreateDestination).
// Amounts are JSON numbers in major units (euros), written and read exactly.

// PaymentRequest is POST /payments for the FrenchSepaCreditTransfer rail
// (CreateAcceptPaymentBaseInput + the rail's fields; the spec sets
// additionalProperties: false, so nothing else may be sent).
type PaymentRequest struct {
	PaymentRail   string      `json:"paymentRail"`
	DestinationID string      `json:"destinationId"`
	RedirectURL   string      `json:"redirectUrl"`
	Amount        json.Number `json:"amount"`
	Currency      string      `json:"currency"`
	Reference     string      `json:"reference"`
	EndToEndID    string      `json:"endToEndId,omitempty"`
	EndUser       *EndUser    `json:"endUser,omitempty"`
}

// EndUser is the payer as Aiia knows it ("required when the tenant is
// unlicensed"): its stable id and its email; the rest (name, phone, date
// of birth, address) is optional in the spec and not sent.
type EndUser struct {
	ID       string `json:"id,omitempty"`
	FullName string `json:"fullName,omitempty"`
	Email    string `json:"email,omitempty"`
}

// PaymentCreated is CreateAcceptPaymentOutput.
type PaymentCreated struct {
	PaymentID string `json:"paymentId"`
	FlowURL   string `json:"flowUrl"`
}

// StatusDetails is status.details: why a payment or refund failed.
type StatusDetails struct {
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// StatusEvent is one entry of status.events.
type StatusEvent struct {
	Event     string    `json:"event"`
	Timestamp Timestamp `json:"timestamp"`
}

// Status is the status object of a payment or refund.
type Status struct {
	Code        string         `json:"code"`
	LastUpdated Timestamp      `json:"lastUpdated"`
	Events      []StatusEvent  `json:"events,omitempty"`
	Details     *StatusDetails `json:"details,omitempty"`
}

// PaymentOutput is AcceptPaymentOutput, as far as ModuPay reads it (the
// answer has more; unknown fields are ignored).
type PaymentOutput struct {
	PaymentID     string      `json:"paymentId"`
	DestinationID string      `json:"destinationId,omitempty"`
	PaymentRail   string      `json:"paymentRail,omitempty"`
	Amount        json.Number `json:"amount"`
	Currency      string      `json:"currency"`
	CreatedDate   Timestamp   `json:"createdDate"`
	Status        Status      `json:"status"`
	Reference     string      `json:"reference,omitempty"`
	EndToEndID    string      `json:"endToEndId,omitempty"`
	ProviderID    string      `json:"providerId,omitempty"`
}

// RefundRequest is POST /payments/{id}/refunds.
type RefundRequest struct {
	Amount                  json.Number `json:"amount"`
	Currency                string      `json:"currency"`
	Reason                  string      `json:"reason"`
	ClientAssignedReference string      `json:"clientAssignedReference,omitempty"`
}

// RefundCreated is the answer to POST /payments/{id}/refunds.
type RefundCreated struct {
	RefundID string `json:"refundId"`
}

// RefundOutput is GET /refunds/{id}.
type RefundOutput struct {
	RefundID                string      `json:"refundId"`
	PaymentID               string      `json:"paymentId"`
	CreatedDate             Timestamp   `json:"createdDate"`
	Amount                  json.Number `json:"amount"`
	Currency                string      `json:"currency"`
	Reason                  string      `json:"reason,omitempty"`
	Status                  Status      `json:"status"`
	ClientAssignedReference string      `json:"clientAssignedReference,omitempty"`
}

// DestinationRequest is POST /destinations. Not in the public spec: Aiia
// onboards payees "manually while in pilot" and references them by a uuid
// destinationId; this route and shape (IBAN, optional BIC, holder name) are
// ModuPay's choice, served by the local sandbox, to be replaced by the real
// onboarding API or procedure when Mastercard provides it.
type DestinationRequest struct {
	Name string `json:"name"`
	IBAN string `json:"iban"`
	BIC  string `json:"bic,omitempty"`
}

// DestinationCreated is the answer to POST /destinations.
type DestinationCreated struct {
	DestinationID string `json:"destinationId"`
}

// CreateDestination onboards a payee account (see DestinationRequest).
func (c *Client) CreateDestination(ctx context.Context, in DestinationInput) (Destination, error) {
	const op = "aiia.destinations.create"
	if err := in.Validate(); err != nil {
		return Destination{}, err
	}
	req := DestinationRequest{
		Name: strings.TrimSpace(in.Name),
		IBAN: NormalizeIBAN(in.IBAN),
		BIC:  strings.ToUpper(strings.TrimSpace(in.BIC)),
	}
	var out DestinationCreated
	if err := c.call(ctx, op, "POST", "/destinations", req, in.RequestID, &out); err != nil {
		return Destination{}, err
	}
	if out.DestinationID == "" {
		return Destination{}, malformed(op, "no destinationId")
	}
	return Destination{ID: out.DestinationID}, nil
}

// CreatePayment starts a FrenchSepaCreditTransfer. Aiia's answer has no
// status: a new payment is PREPARING by the spec's definition ("request
// captured, ready for the payer to authorise"), so Status says so.
func (c *Client) CreatePayment(ctx context.Context, in PaymentInput) (Payment, error) {
	const op = "aiia.payments.create"
	if err := in.Validate(); err != nil {
		return Payment{}, err
	}
	req := PaymentRequest{
		PaymentRail:   RailFrenchSCT,
		DestinationID: in.DestinationID,
		RedirectURL:   in.RedirectURL,
		Amount:        json.Number(FormatAmount(in.Amount)),
		Currency:      in.Currency,
		Reference:     in.Reference,
		EndToEndID:    in.EndToEndID,
	}
	req.EndUser = &EndUser{ID: in.EndUserID, Email: in.PayerEmail}
	var out PaymentCreated
	if err := c.call(ctx, op, "POST", "/payments", req, in.RequestID, &out); err != nil {
		return Payment{}, err
	}
	if out.PaymentID == "" {
		return Payment{}, malformed(op, "no paymentId")
	}
	return Payment{
		ID:        out.PaymentID,
		Status:    PaymentPreparing,
		FlowURL:   out.FlowURL,
		Amount:    in.Amount,
		Currency:  in.Currency,
		UpdatedAt: c.now().UTC(),
	}, nil
}

// GetPayment reads a payment's status.
func (c *Client) GetPayment(ctx context.Context, id string) (Payment, error) {
	const op = "aiia.payments.get"
	if strings.TrimSpace(id) == "" {
		return Payment{}, apperr.Field(op, "payment_id", "the Aiia payment id is required")
	}
	var out PaymentOutput
	if err := c.call(ctx, op, "GET", "/payments/"+url.PathEscape(id), nil, "", &out); err != nil {
		return Payment{}, err
	}
	if out.PaymentID == "" || out.Status.Code == "" {
		return Payment{}, malformed(op, "no paymentId or status.code")
	}
	amount, err := ParseAmount(out.Amount.String())
	if err != nil {
		return Payment{}, malformed(op, err.Error())
	}
	return Payment{
		ID:            out.PaymentID,
		Status:        out.Status.Code,
		Amount:        amount,
		Currency:      out.Currency,
		FailureReason: failureReason(out.Status.Details),
		UpdatedAt:     out.Status.LastUpdated.Time,
	}, nil
}

// CreateRefund asks Aiia to refund (part of) a payment. Reason is sent when
// it is one of RefundReasons; other text goes to clientAssignedReference
// (at most 128 characters) with reason ORDER_CANCELLED. Aiia's answer has
// no status: a new refund is PREPARING.
func (c *Client) CreateRefund(ctx context.Context, paymentID string, in RefundInput) (Refund, error) {
	const op = "aiia.refunds.create"
	if strings.TrimSpace(paymentID) == "" {
		return Refund{}, apperr.Field(op, "payment_id", "the Aiia payment id is required")
	}
	if err := in.Validate(); err != nil {
		return Refund{}, err
	}
	req := RefundRequest{Amount: json.Number(FormatAmount(in.Amount)), Currency: Currency, Reason: defaultRefundReason}
	if r := strings.TrimSpace(in.Reason); isRefundReason(r) {
		req.Reason = r
	} else if r != "" {
		req.ClientAssignedReference = truncateRunes(r, refundClientReferenceMaxLength)
	}
	var out RefundCreated
	if err := c.call(ctx, op, "POST", "/payments/"+url.PathEscape(paymentID)+"/refunds", req, in.RequestID, &out); err != nil {
		return Refund{}, err
	}
	if out.RefundID == "" {
		return Refund{}, malformed(op, "no refundId")
	}
	return Refund{ID: out.RefundID, PaymentID: paymentID, Status: RefundPreparing, Amount: in.Amount}, nil
}

// GetRefund reads a refund's status.
func (c *Client) GetRefund(ctx context.Context, id string) (Refund, error) {
	const op = "aiia.refunds.get"
	if strings.TrimSpace(id) == "" {
		return Refund{}, apperr.Field(op, "refund_id", "the Aiia refund id is required")
	}
	var out RefundOutput
	if err := c.call(ctx, op, "GET", "/refunds/"+url.PathEscape(id), nil, "", &out); err != nil {
		return Refund{}, err
	}
	if out.RefundID == "" || out.Status.Code == "" {
		return Refund{}, malformed(op, "no refundId or status.code")
	}
	amount, err := ParseAmount(out.Amount.String())
	if err != nil {
		return Refund{}, malformed(op, err.Error())
	}
	return Refund{
		ID:            out.RefundID,
		PaymentID:     out.PaymentID,
		Status:        out.Status.Code,
		Amount:        amount,
		FailureReason: failureReason(out.Status.Details),
	}, nil
}

// Timestamp reads Aiia's date-times leniently: RFC 3339 with or without a
// zone (UTC assumed), null or "" as zero. A status must never become
// unreadable because of a date's format.
type Timestamp struct{ time.Time }

// UnmarshalJSON implements json.Unmarshaler.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	var s string
	if string(b) == "null" || json.Unmarshal(b, &s) != nil || s == "" {
		t.Time = time.Time{}
		return nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v.UTC()
			return nil
		}
	}
	t.Time = time.Time{}
	return nil
}

// MarshalJSON implements json.Marshaler (RFC 3339, UTC).
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format(time.RFC3339Nano))
}

func failureReason(d *StatusDetails) string {
	if d == nil {
		return ""
	}
	if d.Reason != "" {
		return d.Reason
	}
	return d.Code
}

func malformed(op, what string) error {
	return apperr.Transient(op, fmt.Errorf("malformed answer from aiia: %w", errors.New(what)))
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
