package paymentorder

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/identifier"
)

// Execution through the payment provider (seed 003 leaves it open: an
// order is approved, then "the bank" confirms it). An order is executed by
// ModuPay when all of these hold at its approval:
//
//   - its portfolio has an execution account (ExecutionAccount: the
//     organisation's account at the provider the money leaves from);
//   - it is in EUR;
//   - its beneficiary's accountNumber is an IBAN (bankCode then its BIC).
//
// Any other order (the seed's CDF accountNumber/bankCode, a portfolio
// without an execution account) is paid outside ModuPay and confirmed by
// PUT …/status, exactly as the seed documents.
//
// An executed order moves by itself: the poller creates the payout at the
// provider (idempotent by Execution.RequestID), the account holder
// authorises it at the bank (strong customer authentication:
// AUTHORIZATION_REQUIRED, with the bank's authorizationUrl, announced by
// payment_order.authorization_required), and the bank's final answer moves
// the order to COMPLETED or FAILED with actor "system", spending or
// releasing its funds in the same transaction. Nobody may confirm or fail
// it by hand meanwhile: the money is the bank's to move. A FAILED order
// retried and approved again is a new payout (a new request id).

// Provider names an execution provider.
const ProviderAiia = "AIIA"

// ExecutionAccount is a portfolio's account at the provider.
type ExecutionAccount struct {
	Provider  string `json:"provider"`
	AccountID string `json:"accountId"`
	// RedirectURL is where the account holder lands after authorising.
	RedirectURL string `json:"redirectUrl"`
}

// ExecState is where an execution stands.
type ExecState string

const (
	ExecQueued                ExecState = "QUEUED"                 // approved; the payout is being created
	ExecAuthorizationRequired ExecState = "AUTHORIZATION_REQUIRED" // the account holder must authorise it at the bank
	ExecSent                  ExecState = "SENT"                   // authorised; at the bank
	ExecExecuted              ExecState = "EXECUTED"               // the money left the account; the order is COMPLETED
	ExecFailed                ExecState = "FAILED"                 // refused, expired or failed; the order is FAILED
)

// Execution is an order's payout at the provider.
type Execution struct {
	Provider         string    `json:"provider"`
	AccountID        string    `json:"accountId"`
	RedirectURL      string    `json:"redirectUrl"`
	RequestID        string    `json:"requestId"`
	State            ExecState `json:"state"`
	PayoutID         string    `json:"payoutId,omitempty"`
	Code             string    `json:"code,omitempty"`
	AuthorizationURL string    `json:"authorizationUrl,omitempty"`
	FailureReason    string    `json:"failureReason,omitempty"`
	UpdatedAt        time.Time `json:"updatedAt"`
}

// ExecutionView is the execution on the wire (an extension of seed 003's
// PaymentOrder).
type ExecutionView struct {
	Provider          string    `json:"provider"`
	Status            ExecState `json:"status"`
	ProviderPaymentID string    `json:"providerPaymentId,omitempty"`
	ProviderStatus    string    `json:"providerStatus,omitempty"`
	AuthorizationURL  string    `json:"authorizationUrl,omitempty"`
	FailureReason     string    `json:"failureReason,omitempty"`
	UpdatedAt         string    `json:"updatedAt"`
}

func (e *Execution) view() *ExecutionView {
	if e == nil {
		return nil
	}
	v := &ExecutionView{Provider: e.Provider, Status: e.State, ProviderPaymentID: e.PayoutID, ProviderStatus: e.Code,
		FailureReason: e.FailureReason, UpdatedAt: FormatTime(e.UpdatedAt)}
	if e.State == ExecAuthorizationRequired {
		v.AuthorizationURL = e.AuthorizationURL
	}
	return v
}

// Payout is a payout to create at the provider.
type Payout struct {
	RequestID, AccountID string
	AmountMinor          int64
	Currency             string
	IBAN, Name, Address  string
	Message              string // the order's reference
	RedirectURL          string
}

// PayoutStatus is what the provider says of a payout.
type PayoutStatus struct {
	ID, Code         string
	State            ExecState // ExecAuthorizationRequired, ExecSent, ExecExecuted or ExecFailed
	AuthorizationURL string
	FailureReason    string
}

// Payouts is the payment provider, as orders need it (package aiiabank
// adapts Aiia's payouts).
type Payouts interface {
	Create(ctx context.Context, p Payout) (PayoutStatus, error)
	State(ctx context.Context, e Execution) (PayoutStatus, error)
}

var accountIDChars = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,100}$`)

// parseExecutionAccount reads executionAccount as sent: null removes it.
func parseExecutionAccount(raw json.RawMessage, currency string) (*ExecutionAccount, []FieldError) {
	if string(raw) == "null" {
		return nil, nil
	}
	var in ExecutionAccount
	if err := json.Unmarshal(raw, &in); err != nil {
		return nil, []FieldError{{Field: "executionAccount", Message: "executionAccount must be an object {provider, accountId, redirectUrl} or null"}}
	}
	var errs []FieldError
	if in.Provider == "" {
		in.Provider = ProviderAiia
	}
	if in.Provider != ProviderAiia {
		errs = append(errs, FieldError{Field: "executionAccount.provider", Message: "executionAccount.provider must be AIIA"})
	}
	if !accountIDChars.MatchString(in.AccountID) {
		errs = append(errs, FieldError{Field: "executionAccount.accountId", Message: "executionAccount.accountId must be the provider's account id (1 to 100 letters, digits and . _ : -)"})
	}
	if u, err := url.Parse(in.RedirectURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(in.RedirectURL) > 2000 {
		errs = append(errs, FieldError{Field: "executionAccount.redirectUrl", Message: "executionAccount.redirectUrl must be an absolute http(s) URL"})
	}
	if currency != "" && currency != "EUR" {
		errs = append(errs, FieldError{Field: "executionAccount", Message: "only a EUR portfolio can be executed through the provider (SEPA credit transfers)"})
	}
	return &in, errs
}

// executableIBAN is the beneficiary's IBAN when the order can be paid by
// SEPA credit transfer: a valid IBAN of a SEPA country, or one of the
// sandbox's test IBANs (which the real provider refuses: the order then
// fails).
func executableIBAN(o Order) (string, bool) {
	if o.Currency != "EUR" {
		return "", false
	}
	n := strings.ToUpper(strings.Join(strings.FieldsFunc(o.Beneficiary.AccountNumber, func(r rune) bool { return r == ' ' || r == '-' }), ""))
	if identifier.IsSandboxTestIBAN(n) {
		return n, true
	}
	iban, p := identifier.CheckIBAN(n)
	if p != nil || !identifier.IsSEPA(iban[:2]) {
		return "", false
	}
	return iban, true
}

// newExecution is the execution an order approved now starts, or nil when
// it is paid outside.
func newExecution(o Order, p Portfolio, now time.Time) *Execution {
	if p.Execution == nil {
		return nil
	}
	if _, ok := executableIBAN(o); !ok {
		return nil
	}
	return &Execution{Provider: p.Execution.Provider, AccountID: p.Execution.AccountID, RedirectURL: p.Execution.RedirectURL,
		RequestID: fmt.Sprintf("%s-%d", o.ID, retries(o)), State: ExecQueued, UpdatedAt: now}
}

// SystemActor is who records the provider's answers.
var SystemActor = event.Actor{ID: "system", Type: "system"}

// Follow moves an executed order on: it creates its payout at the
// provider (once: the request is idempotent), then reads the payout and
// applies what changed. It reports whether the order needs no more
// following.
func (s *Service) Follow(ctx context.Context, partnerID, orgID, id string) (bool, error) {
	final, err := s.follow(ctx, Tenant{PartnerID: partnerID, OrgID: orgID}, id)
	if errors.Is(err, ErrConflict) {
		// Someone (a duplicate message) changed it first: the next poll
		// reads what they did.
		return false, nil
	}
	return final, err
}

func (s *Service) follow(ctx context.Context, t Tenant, id string) (bool, error) {
	const op = "payment_order.follow"
	o, err := s.Store.GetOrder(ctx, t.PartnerID, t.OrgID, id)
	if err != nil {
		return false, apperr.Wrap(op, err)
	}
	if o.Status != StatusProcessing || o.Execution == nil || o.Execution.State == ExecExecuted || o.Execution.State == ExecFailed {
		return true, nil
	}
	if s.Payouts == nil {
		return false, apperr.E(op, apperr.Internal, "no payout provider is configured")
	}
	ex := *o.Execution
	var st PayoutStatus
	if ex.PayoutID == "" {
		iban, _ := executableIBAN(o)
		st, err = s.Payouts.Create(ctx, Payout{RequestID: ex.RequestID, AccountID: ex.AccountID, AmountMinor: o.AmountMinor, Currency: o.Currency,
			IBAN: iban, Name: o.Beneficiary.Name, Address: o.Beneficiary.Address, Message: o.Reference, RedirectURL: ex.RedirectURL})
		if err != nil && !apperr.Retryable(err) {
			// The provider refused the payout for good (its 4xx): the
			// order fails and its funds are released.
			return true, s.finish(ctx, op, t, o, PayoutStatus{State: ExecFailed, FailureReason: "the provider refused the payout: " + apperr.MessageOf(err)})
		}
	} else {
		st, err = s.Payouts.State(ctx, ex)
	}
	if err != nil {
		return false, apperr.Wrap(op, err)
	}
	if st.ID == "" {
		st.ID = ex.PayoutID
	}
	switch st.State {
	case ExecExecuted, ExecFailed:
		return true, s.finish(ctx, op, t, o, st)
	}
	if st.ID == ex.PayoutID && st.Code == ex.Code && st.State == ex.State {
		return false, nil
	}
	after := o
	after.Execution = &Execution{Provider: ex.Provider, AccountID: ex.AccountID, RedirectURL: ex.RedirectURL, RequestID: ex.RequestID,
		State: st.State, PayoutID: st.ID, Code: st.Code, AuthorizationURL: ex.AuthorizationURL, UpdatedAt: s.now()}
	if st.AuthorizationURL != "" {
		after.Execution.AuthorizationURL = st.AuthorizationURL
	}
	after.UpdatedAt, after.Version = after.Execution.UpdatedAt, o.Version+1
	var evs []event.Event
	if st.State == ExecAuthorizationRequired && ex.State != ExecAuthorizationRequired {
		ev, err := event.New(s.NewID("evt"), "payment_order.authorization_required", after.UpdatedAt, t.PartnerID, t.OrgID, SystemActor,
			map[string]any{"paymentOrderId": o.ID, "authorizationUrl": after.Execution.AuthorizationURL, "paymentOrder": after.View()},
			event.Change{ResourceType: "payment_order", ResourceID: o.ID, Action: "authorization_required",
				Before: event.Snapshot(map[string]any{"execution": ex.State}), After: event.Snapshot(map[string]any{"execution": st.State})})
		if err != nil {
			return false, apperr.Wrap(op, err)
		}
		evs = append(evs, ev)
	}
	return false, apperr.Wrap(op, s.Store.ChangeOrder(ctx, o, after, Move{}, evs...))
}

// finish records the provider's final answer: COMPLETED (funds spent) or
// FAILED (funds released), with actor "system".
func (s *Service) finish(ctx context.Context, op string, t Tenant, o Order, st PayoutStatus) error {
	to, notes := StatusCompleted, "Executed by the bank"
	if st.State == ExecFailed {
		to, notes = StatusFailed, st.FailureReason
		if notes == "" {
			notes = "The bank reports the payout failed (" + st.Code + ")"
		}
	}
	if st.Code != "" && st.State == ExecExecuted {
		notes += " (" + st.Code + ")"
	}
	step, _ := Step(StatusProcessing, to)
	now := s.now()
	ex := *o.Execution
	ex.State, ex.Code, ex.FailureReason, ex.UpdatedAt = st.State, st.Code, st.FailureReason, now
	if st.ID != "" {
		ex.PayoutID = st.ID
	}
	if to == StatusFailed && ex.FailureReason == "" {
		ex.FailureReason = notes
	}
	after, m := advance(o, step, SystemActor.ID, truncate(notes, maxNotes), now)
	after.Execution = &ex
	ev, err := s.statusEvent(now, t, SystemActor, o, after)
	if err != nil {
		return apperr.Wrap(op, err)
	}
	return s.Store.ChangeOrder(ctx, o, after, m, ev)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}
