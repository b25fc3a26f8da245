package aiia

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/modupay/modupay/shared/apperr"
)

// Payouts: money sent from an organisation's own bank account (a payment
// order's disbursement). Mastercard Open Finance Pay's Accept Payments API
// (Gen C) only collects; the one outbound product documented is Aiia's
// "Payments: Payouts" (Gen A, its Postman collection and sample app), where
// the account holder authorises every payout at its bank (PSD2 strong
// customer authentication):
//
//	POST /v2/accounts/{accountId}/payments                {payment, redirectUrl} → paymentId
//	POST /v2/accounts/{accountId}/payment-authorizations  {paymentIds, redirectUrl} → authorizationUrl
//	GET  /v2/accounts/{accountId}/payments/{paymentId}    status {paymentStatusCode, terminal}
//
// The account is one the organisation connected (Aiia's connect flow); its
// calls need that connection's user token. This client sends its own
// bearer token, which the local sandbox accepts: a deployment needs the
// organisation's connection first (not served yet; see docs/api.md).
//
// Gen A's full status list is not published. What is known: "Created" is a
// payout not yet authorised, and every status carries terminal. So a
// payout is final exactly when terminal is true, successful when its code
// is one of payoutSucceeded, and failed otherwise.
type PayoutProvider interface {
	// CreatePayout creates the payout and asks for its authorisation;
	// both requests are idempotent by in.RequestID.
	CreatePayout(ctx context.Context, in PayoutInput) (Payout, error)
	// GetPayout reads a payout's status.
	GetPayout(ctx context.Context, accountID, id string) (Payout, error)
}

var _ PayoutProvider = (*Client)(nil)

// PayoutInput is a payout to create. Amount is in cents (EUR only);
// Message travels with the transfer to the beneficiary (the order's
// reference).
type PayoutInput struct {
	RequestID   string
	AccountID   string
	Amount      int64
	Currency    string
	IBAN        string
	Name        string
	Address     string // optional
	Message     string
	RedirectURL string // where the account holder lands after authorising
}

// Payout is a payout as Aiia reports it. AuthorizationURL is only known
// from CreatePayout.
type Payout struct {
	ID               string
	AccountID        string
	Status           string
	Terminal         bool
	AuthorizationURL string
	FailureReason    string
}

// Payout status codes the client knows by name.
const (
	PayoutCreated  = "Created"  // awaiting the account holder's authorisation
	PayoutExecuted = "Executed" // sent from the account: success, final
)

// payoutSucceeded are the terminal codes that mean the money left the
// account; any other terminal code is a failure.
var payoutSucceeded = map[string]bool{PayoutExecuted: true, "Completed": true, "Booked": true}

// PayoutState is what a payout's status means to ModuPay.
type PayoutState string

const (
	PayoutAwaitingAuthorization PayoutState = "awaiting_authorization"
	PayoutPending               PayoutState = "pending"
	PayoutSucceeded             PayoutState = "succeeded"
	PayoutFailed                PayoutState = "failed"
)

// State maps the payout's status (see PayoutProvider).
func (p Payout) State() PayoutState {
	switch {
	case p.Terminal && payoutSucceeded[p.Status]:
		return PayoutSucceeded
	case p.Terminal:
		return PayoutFailed
	case p.Status == PayoutCreated:
		return PayoutAwaitingAuthorization
	}
	return PayoutPending
}

// Wire shapes of the payout routes.
type (
	payoutAmount struct {
		Value    json.Number `json:"value"`
		Currency string      `json:"currency"`
	}
	payoutDestination struct {
		IBAN    *payoutIBAN `json:"iban"`
		Name    string      `json:"name"`
		Address string      `json:"address,omitempty"`
	}
	payoutIBAN struct {
		IBANNumber string `json:"ibanNumber"`
	}
	// PayoutRequest is POST /v2/accounts/{accountId}/payments.
	PayoutRequest struct {
		Payment struct {
			Amount          payoutAmount      `json:"amount"`
			Destination     payoutDestination `json:"destination"`
			Message         string            `json:"message"`
			TransactionText string            `json:"transactionText"`
		} `json:"payment"`
		RedirectURL string `json:"redirectUrl"`
	}
	// PayoutAuthorizationRequest is POST …/payment-authorizations.
	PayoutAuthorizationRequest struct {
		PaymentIDs  []string `json:"paymentIds"`
		RedirectURL string   `json:"redirectUrl"`
		Culture     string   `json:"culture,omitempty"`
	}
	// PayoutOutput is GET …/payments/{paymentId}, as far as ModuPay reads it.
	PayoutOutput struct {
		PaymentID string `json:"paymentId"`
		ID        string `json:"id"`
		Status    struct {
			PaymentStatusCode string         `json:"paymentStatusCode"`
			Terminal          bool           `json:"terminal"`
			Details           *StatusDetails `json:"details,omitempty"`
		} `json:"status"`
	}
)

// maxPayoutMessage bounds the message (SEPA's remittance information).
const maxPayoutMessage = 140

// Validate checks a payout before it is sent.
func (in PayoutInput) Validate() error {
	const op = "aiia.payouts.create"
	switch {
	case strings.TrimSpace(in.RequestID) == "":
		return apperr.Field(op, "request_id", "a request id is required so retries cannot pay twice")
	case strings.TrimSpace(in.AccountID) == "":
		return apperr.Field(op, "account_id", "the account to pay from is required")
	case in.Currency != Currency:
		return apperr.Field(op, "currency", "payouts through Aiia are in EUR only")
	case in.Amount <= 0:
		return apperr.Field(op, "amount", "the amount must be positive")
	case !ibanShape(NormalizeIBAN(in.IBAN)):
		return apperr.Field(op, "iban", "the beneficiary's IBAN is not valid")
	case strings.TrimSpace(in.Name) == "" || utf8.RuneCountInString(in.Name) > 140:
		return apperr.Field(op, "name", "the beneficiary's name must be 1 to 140 characters")
	case strings.TrimSpace(in.Message) == "" || utf8.RuneCountInString(in.Message) > maxPayoutMessage:
		return apperr.Field(op, "message", "the message must be 1 to 140 characters")
	case !absoluteHTTPURL(in.RedirectURL):
		return apperr.Field(op, "redirect_url", "the redirect URL must be an absolute http(s) URL")
	}
	return nil
}

func accountPath(accountID string) string { return "/v2/accounts/" + url.PathEscape(accountID) }

// CreatePayout creates the payout, then its authorisation. A retry with
// the same RequestID finds both again (the authorisation's request id is
// derived from it), so a crash between the two never pays twice.
func (c *Client) CreatePayout(ctx context.Context, in PayoutInput) (Payout, error) {
	const op = "aiia.payouts.create"
	if err := in.Validate(); err != nil {
		return Payout{}, err
	}
	var req PayoutRequest
	req.Payment.Amount = payoutAmount{Value: json.Number(FormatAmount(in.Amount)), Currency: in.Currency}
	req.Payment.Destination = payoutDestination{IBAN: &payoutIBAN{IBANNumber: NormalizeIBAN(in.IBAN)}, Name: in.Name, Address: in.Address}
	req.Payment.Message, req.Payment.TransactionText = in.Message, truncateRunes(in.Message, 35)
	req.RedirectURL = in.RedirectURL
	var created struct {
		PaymentID string `json:"paymentId"`
	}
	if err := c.call(ctx, op, "POST", accountPath(in.AccountID)+"/payments", req, in.RequestID, &created); err != nil {
		return Payout{}, err
	}
	if created.PaymentID == "" {
		return Payout{}, malformed(op, "no paymentId")
	}
	var auth struct {
		AuthorizationID  string `json:"authorizationId"`
		AuthorizationURL string `json:"authorizationUrl"`
	}
	ar := PayoutAuthorizationRequest{PaymentIDs: []string{created.PaymentID}, RedirectURL: in.RedirectURL, Culture: "fr-FR"}
	if err := c.call(ctx, op, "POST", accountPath(in.AccountID)+"/payment-authorizations", ar, in.RequestID+"-authorization", &auth); err != nil {
		return Payout{}, err
	}
	if !absoluteHTTPURL(auth.AuthorizationURL) {
		return Payout{}, malformed(op, "no authorizationUrl")
	}
	return Payout{ID: created.PaymentID, AccountID: in.AccountID, Status: PayoutCreated, AuthorizationURL: auth.AuthorizationURL}, nil
}

// GetPayout reads a payout's status.
func (c *Client) GetPayout(ctx context.Context, accountID, id string) (Payout, error) {
	const op = "aiia.payouts.get"
	if strings.TrimSpace(accountID) == "" || strings.TrimSpace(id) == "" {
		return Payout{}, apperr.Field(op, "payout_id", "the account and the payout id are required")
	}
	var out PayoutOutput
	if err := c.call(ctx, op, "GET", accountPath(accountID)+"/payments/"+url.PathEscape(id), nil, "", &out); err != nil {
		return Payout{}, err
	}
	if out.Status.PaymentStatusCode == "" {
		return Payout{}, malformed(op, "no status.paymentStatusCode")
	}
	return Payout{ID: id, AccountID: accountID, Status: out.Status.PaymentStatusCode, Terminal: out.Status.Terminal,
		FailureReason: failureReason(out.Status.Details)}, nil
}
