package aiiasandbox

import (
	"errors"
	"time"

	"github.com/modupay/modupay/shared/identifier"
)

// Every status code the sandbox can report (Aiia's PaymentStatusCode and
// refund codes); the force hooks accept exactly these.
var (
	paymentCodes = []string{
		"PREPARING", "AUTHORIZING", "PROVIDER_PROCESSING", "PENDING", "INITIATED",
		"PAYMENT_EXECUTED_DEBITED", "PAYMENT_EXECUTED_CREDITED", "FORWARD_SETTLEMENT_INITIATED",
		"CANCELLED", "FAILED", "AUTHORIZATION_FLOW_INCOMPLETE", "UNKNOWN",
	}
	refundCodes = []string{
		"PREPARING", "PENDING", "CAPTURING_SOURCE_ACCOUNT", "PAYMENT_EXECUTED_DEBITED",
		"PAYMENT_RAILS_AVAILABLE", "PAYMENT_RAILS_UNAVAILABLE", "FAILED",
	}
)

// outcome is what the payer chose on the authorisation page.
type outcome int

const (
	undecided outcome = iota
	succeeds
	insufficientFunds
	accountBlocked
	refused
	debitedOnly // succeeds, the bank never confirming the credit
	lost        // the provider loses track of it after INITIATED
)

// outcomeFor is the result the payer's IBAN drives: the integration
// guide's test IBANs (shared/identifier.SandboxTestIBANs); any other IBAN
// succeeds.
func outcomeFor(iban string) outcome {
	switch identifier.SandboxTestIBANs[iban] {
	case "insufficient_funds":
		return insufficientFunds
	case "account_blocked":
		return accountBlocked
	case "success_debited_only":
		return debitedOnly
	case "unknown":
		return lost
	}
	return succeeds
}

// Failure details. Aiia documents status.details{code, reason} without a
// list of codes; these codes are the sandbox's.
var failureDetails = map[outcome]details{
	insufficientFunds: {Code: "INSUFFICIENT_FUNDS", Reason: "fonds insuffisants"},
	accountBlocked:    {Code: "ACCOUNT_BLOCKED", Reason: "compte bloqué"},
	refused:           {Code: "CANCELLED_BY_PAYER", Reason: "refusé par le payeur"},
}

type details struct {
	Code   string `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
}

type event struct {
	Event     string `json:"event"`
	Timestamp string `json:"timestamp"`
	at        time.Time
}

type status struct {
	Code        string   `json:"code"`
	LastUpdated string   `json:"lastUpdated"`
	Events      []event  `json:"events"`
	Details     *details `json:"details,omitempty"`
}

// forced is a status set through the test hook; it holds from At on.
type forced struct {
	Code, Reason, DetailsCode string
	At                        time.Time
}

type payment struct {
	ID, DestinationID       string
	Amount                  int64
	Currency                string
	Reference, EndToEndID   string
	RedirectURL, ProviderID string
	ClientAssignedReference string
	EndUserID, PayerEmail   string
	Created                 time.Time
	Opened                  time.Time // the authorisation page was first shown
	Decided                 time.Time // the payer submitted the page
	Outcome                 outcome
	PayerIBAN               string
	Forced                  *forced
	Refunds                 []string // its refunds' ids, oldest first
	UnavailableReads        int      // status reads answered 503 (the …0128 test IBAN)
}

// unavailableReads is how many status reads after the payer's
// authorisation the bank answers 503 for a payment from the …0128 test IBAN.
const unavailableReads = 3

// errRefused stops an Update whose change is refused (the answer is set aside).
var errRefused = errors.New("aiiasandbox: refused")

// keepFor is when the deployed store may drop a record it must keep for
// d: storage time, on the wall clock whatever Options.Now says (a record
// of a test whose clock is in the past must not be swept at once).
func keepFor(d time.Duration) time.Time { return time.Now().Add(d) }

// step is one status change on a timeline.
type step struct {
	code string
	at   time.Time
	det  *details
}

// steps is the payment's whole timeline, past and future, computed from
// its timestamps and the delays.
func (p *payment) steps(o Options) []step {
	st := []step{{code: "PREPARING", at: p.Created}}
	if !p.Opened.IsZero() {
		st = append(st, step{code: "AUTHORIZING", at: p.Opened})
	}
	switch p.Outcome {
	case undecided:
		st = append(st, step{code: "AUTHORIZATION_FLOW_INCOMPLETE", at: p.Created.Add(o.FlowTTL),
			det: &details{Code: "FLOW_EXPIRED", Reason: "le lien d'autorisation a expiré"}})
	case refused:
		d := failureDetails[refused]
		st = append(st, step{code: "CANCELLED", at: p.Decided, det: &d})
	case insufficientFunds, accountBlocked:
		d := failureDetails[p.Outcome]
		st = append(st,
			step{code: "PROVIDER_PROCESSING", at: p.Decided},
			step{code: "FAILED", at: p.Decided.Add(o.AuthorizeDelay), det: &d})
	case succeeds:
		initiated := p.Decided.Add(o.AuthorizeDelay)
		st = append(st,
			step{code: "PROVIDER_PROCESSING", at: p.Decided},
			step{code: "INITIATED", at: initiated},
			// Straight to CREDITED: DEBITED is final too (the provider stops
			// following a payment there), so a bank that confirms the
			// credit is one that never reports DEBITED on the way.
			step{code: "PAYMENT_EXECUTED_CREDITED", at: initiated.Add(o.SettleDelay)})
	case debitedOnly:
		initiated := p.Decided.Add(o.AuthorizeDelay)
		st = append(st,
			step{code: "PROVIDER_PROCESSING", at: p.Decided},
			step{code: "INITIATED", at: initiated},
			step{code: "PAYMENT_EXECUTED_DEBITED", at: initiated.Add(o.SettleDelay / 2)})
	case lost:
		initiated := p.Decided.Add(o.AuthorizeDelay)
		st = append(st,
			step{code: "PROVIDER_PROCESSING", at: p.Decided},
			step{code: "INITIATED", at: initiated},
			step{code: "UNKNOWN", at: initiated.Add(o.SettleDelay / 2),
				det: &details{Code: "STATUS_UNAVAILABLE", Reason: "la banque ne donne plus l'état du virement"}})
	}
	return withForced(st, p.Forced)
}

// withForced cuts a timeline at a forced status, which then holds.
func withForced(st []step, f *forced) []step {
	if f == nil {
		return st
	}
	var out []step
	for _, s := range st {
		if s.at.After(f.At) {
			break
		}
		out = append(out, s)
	}
	s := step{code: f.Code, at: f.At}
	if f.Reason != "" || f.DetailsCode != "" {
		s.det = &details{Code: f.DetailsCode, Reason: f.Reason}
	}
	return append(out, s)
}

// statusAt is the status object at now: the steps reached so far.
func statusAt(st []step, now time.Time) status {
	var s status
	for _, x := range st {
		if x.at.After(now) {
			break
		}
		s.Code, s.LastUpdated, s.Details = x.code, stamp(x.at), x.det
		s.Events = append(s.Events, event{Event: x.code, Timestamp: stamp(x.at), at: x.at})
	}
	return s
}

func (p *payment) current(o Options) status { return statusAt(p.steps(o), o.Now()) }

// decidable says whether the payer can still use the authorisation page.
func (p *payment) decidable(o Options) bool {
	return p.Outcome == undecided && p.Forced == nil && o.Now().Before(p.Created.Add(o.FlowTTL))
}

// output is AcceptPaymentOutput.
func (p *payment) output(o Options) map[string]any {
	out := map[string]any{
		"paymentId":     p.ID,
		"destinationId": p.DestinationID,
		"paymentRail":   "FrenchSepaCreditTransfer",
		"amount":        amount(p.Amount),
		"currency":      p.Currency,
		"createdDate":   stamp(p.Created),
		"status":        p.current(o),
		"reference":     p.Reference,
		"providerId":    p.ProviderID,
	}
	if p.EndToEndID != "" {
		out["endToEndId"] = p.EndToEndID
	}
	if p.ClientAssignedReference != "" {
		out["clientAssignedReference"] = p.ClientAssignedReference
	}
	if p.EndUserID != "" {
		out["endUser"] = map[string]string{"id": p.EndUserID}
	}
	if p.PayerIBAN != "" {
		out["preselectedSource"] = map[string]string{"maskedAccountNumber": identifier.MaskIBAN(p.PayerIBAN)}
	}
	return out
}

type refund struct {
	ID, PaymentID           string
	PayerIBAN               string // the refunded payment's: drives the outcome
	Amount                  int64
	Currency, Reason        string
	ClientAssignedReference string
	Created                 time.Time
	Forced                  *forced
	// Collect is the account collection flow opened on a refund whose
	// payer's account is unknown (POST /refunds/{id}/payment-rails), the
	// latest one; Collected is what the payer connected on it.
	Collect   *collect
	Collected *collected
}

type collect struct {
	RedirectURL, Language string
	Created, Expires      time.Time
}

type collected struct {
	IBAN, Owner string
	At          time.Time
}

// steps is the refund's timeline: executed from the settlement account,
// unless the refunded payment's test IBAN says otherwise or the sandbox
// has no settlement account (Options.NoSettlementAccount).
func (r *refund) steps(o Options) []step {
	st := []step{{code: "PREPARING", at: r.Created}}
	switch outcome := identifier.SandboxTestIBANs[r.PayerIBAN]; {
	case outcome == "success_refund_fails":
		st = append(st, step{code: "PENDING", at: r.Created.Add(o.RefundDelay / 2)},
			step{code: "FAILED", at: r.Created.Add(o.RefundDelay), det: &details{Code: "ACCOUNT_CLOSED", Reason: "compte du payeur clôturé"}})
	case outcome == "success_refund_account_unknown":
		// The payer's bank did not report the account: the merchant opens
		// a flow where the payer connects one; while it is open the refund
		// is CAPTURING_SOURCE_ACCOUNT, and unavailable again if it expires
		// unused.
		st = append(st, step{code: "PAYMENT_RAILS_UNAVAILABLE", at: r.Created.Add(o.RefundDelay / 2)})
		if c := r.Collect; c != nil {
			st = append(st, step{code: "CAPTURING_SOURCE_ACCOUNT", at: c.Created})
			if r.Collected != nil {
				st = append(st, step{code: "PAYMENT_RAILS_AVAILABLE", at: r.Collected.At})
			} else {
				st = append(st, step{code: "PAYMENT_RAILS_UNAVAILABLE", at: c.Expires})
			}
		}
	case outcome == "success_refund_requires_action" || o.NoSettlementAccount:
		st = append(st, step{code: "PAYMENT_RAILS_AVAILABLE", at: r.Created.Add(o.RefundDelay / 2)})
	default:
		st = append(st, step{code: "PENDING", at: r.Created.Add(o.RefundDelay / 2)},
			step{code: "PAYMENT_EXECUTED_DEBITED", at: r.Created.Add(o.RefundDelay)})
	}
	return withForced(st, r.Forced)
}

func (r *refund) current(o Options) status { return statusAt(r.steps(o), o.Now()) }

func (r *refund) output(o Options) map[string]any {
	out := map[string]any{
		"refundId":    r.ID,
		"paymentId":   r.PaymentID,
		"createdDate": stamp(r.Created),
		"amount":      amount(r.Amount),
		"currency":    r.Currency,
		"reason":      r.Reason,
		"status":      r.current(o),
	}
	if r.ClientAssignedReference != "" {
		out["clientAssignedReference"] = r.ClientAssignedReference
	}
	return out
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
