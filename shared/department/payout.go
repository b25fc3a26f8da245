package department

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/event"
)

// Bank account statuses: whether ModuPay has checked that the account belongs
// to the organisation, and so whether money may be paid into it.
//
//	pending_verification → verified | rejected
//
// Before the department's KYC is approved, every account is
// pending_verification: the KYC's RIB is its proof, and the KYC's approval
// verifies the account the RIB shows. Once the KYC is approved, an account
// added (or a pending one made the default) is verified on its own: at once
// and deterministically in the sandbox (see SandboxAccountStatus), by an
// operator in production (DecideAccount).
const (
	AccountPendingVerification = "pending_verification"
	AccountVerified            = "verified"
	AccountRejected            = "rejected"
)

// Sandbox markers in an account's account_name, compared without case: they
// are documented test values, as the KYC's REJECT and PENDING last names are.
const (
	SandboxAccountRejectMarker  = "REJECT"  // rejected, reason account_holder_mismatch
	SandboxAccountPendingMarker = "PENDING" // stays pending_verification, for an operator
)

// SandboxAccountStatus is the sandbox's verification of an account: rejected
// when its holder name contains REJECT, left pending when it contains PENDING
// (REJECT wins when both appear), verified otherwise.
func SandboxAccountStatus(accountName string) string {
	name := strings.ToUpper(accountName)
	switch {
	case strings.Contains(name, SandboxAccountRejectMarker):
		return AccountRejected
	case strings.Contains(name, SandboxAccountPendingMarker):
		return AccountPendingVerification
	}
	return AccountVerified
}

// Payout is which accounts a department's money concerns: the default the
// organisation chose, and the payout account, which payments are made to
// (invoices' bank details, payment links, the payee onboarded at Aiia).
type Payout struct {
	DefaultID string
	PayoutID  string
}

// NextPayout decides the department's default and payout accounts after a
// write that may make a the default (makeDefault) or change its status. a is
// the account as the write leaves it.
//
// The payout account moves only to a verified account that is the default:
// a new default that is not yet verified is recorded as the default, and
// payments keep going to the last verified one until it is. Before the KYC
// is approved the payout account is the default, as it always was: the KYC,
// whose RIB proves the account, has not been decided, and production refuses
// payment links until it is.
func NextPayout(d Department, a BankAccount, makeDefault bool) Payout {
	p := Payout{DefaultID: d.DefaultAccountID, PayoutID: d.PayoutAccountID}
	if makeDefault || p.DefaultID == "" {
		p.DefaultID = a.ID
	}
	switch {
	case d.KYCStatus != KYCApproved:
		p.PayoutID = p.DefaultID
	case p.DefaultID == a.ID && a.Status == AccountVerified:
		p.PayoutID = a.ID
	}
	return p
}

// reviewedStatus is an account's status once the sandbox has looked at it:
// the sandbox decides accounts of KYC-approved departments at once; before
// the KYC, and in production, the account stays as it is.
func (s *Service) reviewedStatus(d Department, a BankAccount) string {
	if s.Mode.Strict || d.KYCStatus != KYCApproved || a.Status != AccountPendingVerification {
		return a.Status
	}
	return SandboxAccountStatus(a.AccountName)
}

var sandboxReviewer = event.Actor{ID: "sandbox-bank-account-review", Type: "system"}

// payoutEvents are the events of a change of the department's default or
// payout account: bank_account.default_changed when the default moves (with
// both defaults and the payout account), bank_account.payout_changed when
// the account payments go to moves. A department's first account is its
// default and payout account from its creation on: bank_account.created
// (is_default true) says so, and nothing moved.
func (s *Service) payoutEvents(d Department, p Payout, actor event.Actor, at time.Time) ([]event.Event, error) {
	var evs []event.Event
	if d.DefaultAccountID == "" {
		return nil, nil
	}
	if p.DefaultID != d.DefaultAccountID {
		ev, err := event.New(s.NewID("evt"), "bank_account.default_changed", at, d.PartnerID, d.OrgID, actor,
			map[string]any{"department_id": d.ID, "previous_default_bank_account_id": d.DefaultAccountID,
				"default_bank_account_id": p.DefaultID, "payout_bank_account_id": p.PayoutID},
			event.Change{ResourceType: "department", ResourceID: d.ID, Action: "default_changed",
				Before: event.Snapshot(map[string]string{"default_bank_account_id": d.DefaultAccountID, "payout_bank_account_id": d.PayoutAccountID}),
				After:  event.Snapshot(map[string]string{"default_bank_account_id": p.DefaultID, "payout_bank_account_id": p.PayoutID})})
		if err != nil {
			return nil, err
		}
		evs = append(evs, ev)
	}
	if p.PayoutID != d.PayoutAccountID {
		ev, err := event.New(s.NewID("evt"), "bank_account.payout_changed", at, d.PartnerID, d.OrgID, actor,
			map[string]any{"department_id": d.ID, "previous_payout_bank_account_id": d.PayoutAccountID,
				"payout_bank_account_id": p.PayoutID, "default_bank_account_id": p.DefaultID},
			event.Change{ResourceType: "department", ResourceID: d.ID, Action: "payout_changed",
				Before: event.Snapshot(map[string]string{"payout_bank_account_id": d.PayoutAccountID}),
				After:  event.Snapshot(map[string]string{"payout_bank_account_id": p.PayoutID})})
		if err != nil {
			return nil, err
		}
		evs = append(evs, ev)
	}
	return evs, nil
}

// accountStatusEvent is bank_account.status_changed: a verification decision.
func (s *Service) accountStatusEvent(d Department, before, after BankAccount, reason *Reason, actor event.Actor, at time.Time) (event.Event, error) {
	data := map[string]any{"department_id": d.ID, "bank_account_id": after.ID, "previous_status": before.Status,
		"current_status": after.Status, "bank_account": after.Masked()}
	if reason != nil {
		data["rejection_reason"] = reason
	}
	return event.New(s.NewID("evt"), "bank_account.status_changed", at, d.PartnerID, d.OrgID, actor, data,
		event.Change{ResourceType: "bank_account", ResourceID: after.ID, Action: "status_changed",
			Before: event.Snapshot(map[string]string{"status": before.Status}), After: event.Snapshot(map[string]string{"status": after.Status})})
}

// sandboxRejection is the reason the sandbox gives for a REJECT account.
var sandboxRejection = Reason{Code: "account_holder_mismatch", Message: "sandbox: the account_name contains REJECT, so the account is rejected"}

// review applies the sandbox's decision to a pending account (nothing in
// production or before the KYC) and returns the account and the status
// event, if any.
func (s *Service) review(d Department, a BankAccount, at time.Time) (BankAccount, []event.Event, error) {
	st := s.reviewedStatus(d, a)
	if st == a.Status {
		return a, nil, nil
	}
	before := a
	a.Status = st
	var reason *Reason
	if st == AccountRejected {
		reason = &sandboxRejection
	}
	ev, err := s.accountStatusEvent(d, before, a, reason, sandboxReviewer, at)
	if err != nil {
		return BankAccount{}, nil, err
	}
	return a, []event.Event{ev}, nil
}

// DecideAccount records an operator's decision on an account pending
// verification (production; the sandbox decides at once): verified, or
// rejected with a reason. When the verified account is the department's
// default it becomes the payout account in the same transaction, with
// bank_account.status_changed and bank_account.payout_changed. Accounts of a
// department whose KYC is not approved wait for the KYC, whose RIB is their proof.
func (s *Service) DecideAccount(ctx context.Context, partnerID, deptID, accountID string, approve bool, reason *Reason, reviewer event.Actor) (BankAccount, error) {
	const op = "bank_account.decide"
	if !approve && (reason == nil || reason.Code == "") {
		return BankAccount{}, apperr.Field(op, "reason", "a rejection needs a reason")
	}
	for attempt := 1; ; attempt++ {
		d, before, err := s.Store.GetDepartmentAccount(ctx, partnerID, deptID, accountID)
		if err != nil {
			return BankAccount{}, apperr.Wrap(op, err)
		}
		if d.KYCStatus != KYCApproved {
			return BankAccount{}, apperr.E(op, apperr.Conflict, "the department's KYC is "+d.KYCStatus+": its decision verifies the account its RIB shows")
		}
		if before.Status != AccountPendingVerification {
			return BankAccount{}, apperr.E(op, apperr.Conflict, "only an account pending verification can be decided; this one is "+before.Status)
		}
		now := s.Now().UTC()
		after := before
		after.Status, after.UpdatedAt, after.Version = AccountVerified, now, before.Version+1
		if !approve {
			after.Status = AccountRejected
		} else {
			reason = nil
		}
		p := NextPayout(d, after, false)
		after.IsDefault = p.DefaultID == after.ID
		ev, err := s.accountStatusEvent(d, before, after, reason, reviewer, now)
		if err != nil {
			return BankAccount{}, apperr.Wrap(op, err)
		}
		pevs, err := s.payoutEvents(d, p, reviewer, now)
		if err != nil {
			return BankAccount{}, apperr.Wrap(op, err)
		}
		err = s.Store.UpdateBankAccount(ctx, d, withPayout(d, p), after, append([]event.Event{ev}, pevs...))
		if errors.Is(err, ErrChanged) && attempt < maxAttempts {
			continue
		}
		return after, apperr.Wrap(op, err)
	}
}

// withPayout is the department as a write leaves it: its default and payout
// accounts, and the next version (every account write takes one, so writes
// deciding the default or the payout account serialise).
func withPayout(d Department, p Payout) Department {
	d.DefaultAccountID, d.PayoutAccountID, d.Version = p.DefaultID, p.PayoutID, d.Version+1
	return d
}
