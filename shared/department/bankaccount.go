package department

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/identifier"
	"github.com/modupay/modupay/shared/validation"
)

// BankAccount is an account payments to a department are made to.
type BankAccount struct {
	ID           string `json:"id"`
	PartnerID    string `json:"-"`
	DepartmentID string `json:"department_id"`
	OrgID        string `json:"organization_id"`
	IBAN         string `json:"iban"`
	BIC          string `json:"bic"`
	// AccountName is the account holder's name exactly as the bank holds it:
	// payers' banks compare it with the IBAN's holder (Verification of Payee).
	AccountName string `json:"account_name"`
	BankName    string `json:"bank_name"`
	// IsDefault is derived from the department's default account, never stored.
	IsDefault bool `json:"is_default"`
	// SandboxTestIBAN marks one of the integration guide's test IBANs.
	SandboxTestIBAN bool `json:"-"`
	// AiiaDestinationID is the account as a payee onboarded at Aiia.
	AiiaDestinationID string `json:"-"`
	// ActiveLinks counts the active payment links paying into the account; a
	// payment link's creation and end change it in their own transactions,
	// and an account is deleted only when it is zero.
	ActiveLinks int64 `json:"-"`
	// Status is the account's verification: pending_verification, verified
	// or rejected (see AccountVerified). Only a verified account becomes the
	// department's payout account.
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Version   int64     `json:"-"`
}

// Masked is the account as lists show it: the IBAN hidden but for its last 4.
func (a BankAccount) Masked() BankAccount {
	a.IBAN = identifier.MaskIBAN(a.IBAN)
	return a
}

// CreateAccountInput is the body of POST /v1/departments/{dept_id}/bank_accounts (seed 000, step 5).
type CreateAccountInput struct {
	IBAN        string `json:"iban"`
	BIC         string `json:"bic"`
	AccountName string `json:"account_name"`
	BankName    string `json:"bank_name"`
	IsDefault   *bool  `json:"is_default"`
}

// UpdateAccountInput renames an account or makes it the default.
type UpdateAccountInput struct {
	AccountName *string `json:"account_name"`
	BankName    *string `json:"bank_name"`
	IsDefault   *bool   `json:"is_default"`
}

// AccountResult is an account as a write left it, with the sandbox's warnings.
type AccountResult struct {
	BankAccount
	Warnings []validation.Warning `json:"warnings,omitempty"`
}

// maxAttempts bounds the retries of a write that lost a race on the
// department (another account created or made default at the same moment).
const maxAttempts = 5

func validAccountName(op, name string) error {
	// SEPA credit transfers carry at most 70 characters of creditor name.
	if name == "" || utf8.RuneCountInString(name) > 70 {
		return apperr.Field(op, "account_name", "account_name (the holder's name) must be 1 to 70 characters")
	}
	return nil
}

func validBankName(op, name string) error {
	if utf8.RuneCountInString(name) > 100 {
		return apperr.Field(op, "bank_name", "bank_name is longer than 100 characters")
	}
	return nil
}

// checkIBAN validates an IBAN for a SEPA credit transfer. Only the
// integration guide's three sandbox test IBANs may fail mod-97, and only in
// the sandbox; every other IBAN must pass, in every stage.
func checkIBAN(op string, c *validation.Collector, raw string) (iban string, test bool, err error) {
	norm := strings.ToUpper(strings.Join(strings.Fields(raw), ""))
	if identifier.IsSandboxTestIBAN(norm) {
		if c.Mode.Strict {
			return "", false, apperr.Field(op, "iban", "this is a sandbox test IBAN (it fails the ISO 13616 mod-97 check); production accepts only real IBANs")
		}
		c.Warn("iban", "sandbox_test_iban", "sandbox test IBAN (simulated outcome: "+identifier.SandboxTestIBANs[norm]+"); it fails the mod-97 check and production refuses it")
		return norm, true, nil
	}
	iban, p := identifier.CheckIBAN(raw)
	if p != nil {
		return "", false, apperr.Field(op, "iban", p.Message)
	}
	if !identifier.IsSEPA(iban[:2]) {
		return "", false, apperr.Field(op, "iban", "the IBAN's country ("+iban[:2]+") is not in the SEPA scheme")
	}
	return iban, false, nil
}

func checkBIC(op, raw, iban string) (string, error) {
	bic, p := identifier.CheckBIC(raw)
	if p != nil {
		return "", apperr.Field(op, "bic", p.Message)
	}
	if !identifier.BICMatchesIBAN(bic, iban) {
		return "", apperr.Field(op, "bic", "the BIC's country ("+bic[4:6]+") does not match the IBAN's ("+iban[:2]+")")
	}
	return bic, nil
}

// CreateAccount adds an account. The first account of a department becomes
// its default whatever is_default says; is_default true moves the default.
func (s *Service) CreateAccount(ctx context.Context, sc Scope, deptID string, actor event.Actor, in CreateAccountInput) (AccountResult, error) {
	const op = "bank_account.create"
	c := &validation.Collector{Mode: s.Mode}
	if strings.TrimSpace(in.IBAN) == "" {
		return AccountResult{}, apperr.Field(op, "iban", "iban is required")
	}
	iban, test, err := checkIBAN(op, c, in.IBAN)
	if err != nil {
		return AccountResult{}, err
	}
	if strings.TrimSpace(in.BIC) == "" {
		return AccountResult{}, apperr.Field(op, "bic", "bic is required")
	}
	bic, err := checkBIC(op, in.BIC, iban)
	if err != nil {
		return AccountResult{}, err
	}
	in.AccountName, in.BankName = strings.TrimSpace(in.AccountName), strings.TrimSpace(in.BankName)
	if err := validAccountName(op, in.AccountName); err != nil {
		return AccountResult{}, err
	}
	if err := validBankName(op, in.BankName); err != nil {
		return AccountResult{}, err
	}
	id := s.NewID("ba")
	for attempt := 1; ; attempt++ {
		d, err := s.Get(ctx, sc, deptID)
		if err != nil {
			return AccountResult{}, err
		}
		now := s.Now().UTC()
		a := BankAccount{ID: id, PartnerID: sc.PartnerID, DepartmentID: d.ID, OrgID: d.OrgID, IBAN: iban, BIC: bic,
			AccountName: in.AccountName, BankName: in.BankName, SandboxTestIBAN: test, Status: AccountPendingVerification,
			CreatedAt: now, UpdatedAt: now, Version: 1}
		makeDefault := d.DefaultAccountID == "" || (in.IsDefault != nil && *in.IsDefault)
		a.IsDefault = makeDefault
		created, err := event.New(s.NewID("evt"), "bank_account.created", now, sc.PartnerID, d.OrgID, actor,
			map[string]any{"department_id": d.ID, "bank_account": a.Masked()},
			event.Change{ResourceType: "bank_account", ResourceID: a.ID, Action: "created", Before: event.Snapshot(nil), After: event.Snapshot(a.Masked())})
		if err != nil {
			return AccountResult{}, apperr.Wrap(op, err)
		}
		evs, err := s.accountWrite(d, &a, true, makeDefault, actor, now, created)
		if err != nil {
			return AccountResult{}, apperr.Wrap(op, err)
		}
		err = s.Store.CreateBankAccount(ctx, d, withPayout(d, NextPayout(d, a, makeDefault)), a, evs)
		if errors.Is(err, ErrChanged) && attempt < maxAttempts {
			continue // the department changed under us: read it again
		}
		if err != nil {
			return AccountResult{}, apperr.Wrap(op, err)
		}
		return AccountResult{BankAccount: a, Warnings: c.Warnings}, nil
	}
}

// accountWrite completes the events of a write that adds an account or makes
// it the default: first the write's own event, then the sandbox's
// verification when it decides at once (bank_account.status_changed; review
// asks for it), then the moves of the default and payout accounts. It
// updates a's status.
func (s *Service) accountWrite(d Department, a *BankAccount, review, makeDefault bool, actor event.Actor, at time.Time, own event.Event) ([]event.Event, error) {
	evs := []event.Event{own}
	if review {
		reviewed, sevs, err := s.review(d, *a, at)
		if err != nil {
			return nil, err
		}
		*a = reviewed
		evs = append(evs, sevs...)
	}
	pevs, err := s.payoutEvents(d, NextPayout(d, *a, makeDefault), actor, at)
	if err != nil {
		return nil, err
	}
	return append(evs, pevs...), nil
}

// GetAccount returns one account of a department the scope owns (IBAN in
// full): one read.
func (s *Service) GetAccount(ctx context.Context, sc Scope, deptID, accountID string) (BankAccount, error) {
	const op = "bank_account.get"
	d, a, err := s.Store.GetDepartmentAccount(ctx, sc.PartnerID, deptID, accountID)
	if err != nil {
		return BankAccount{}, apperr.Wrap(op, err)
	}
	if !sc.Owns(d) {
		return BankAccount{}, apperr.E(op, apperr.NotFound, "department not found")
	}
	a.IsDefault = d.DefaultAccountID == a.ID
	return a, nil
}

// ListAccounts lists a department's accounts, IBANs masked, oldest first: one read.
func (s *Service) ListAccounts(ctx context.Context, sc Scope, deptID string) ([]BankAccount, error) {
	const op = "bank_account.list"
	d, as, err := s.Store.ListDepartmentAccounts(ctx, sc.PartnerID, deptID)
	if err != nil {
		return nil, apperr.Wrap(op, err)
	}
	if !sc.Owns(d) {
		return nil, apperr.E(op, apperr.NotFound, "department not found")
	}
	for i := range as {
		as[i].IsDefault = as[i].ID == d.DefaultAccountID
		as[i] = as[i].Masked()
	}
	return as, nil
}

// UpdateAccount renames an account or makes it the default. is_default false
// is refused: a department always has a default, so one chooses which.
func (s *Service) UpdateAccount(ctx context.Context, sc Scope, deptID, accountID string, actor event.Actor, in UpdateAccountInput) (BankAccount, error) {
	const op = "bank_account.update"
	if in.AccountName == nil && in.BankName == nil && in.IsDefault == nil {
		return BankAccount{}, apperr.E(op, apperr.Malformed, "nothing to update: send at least one of account_name, bank_name, is_default")
	}
	if in.IsDefault != nil && !*in.IsDefault {
		return BankAccount{}, apperr.Field(op, "is_default", "a department always has exactly one default account: make another account the default instead")
	}
	for attempt := 1; ; attempt++ {
		d, err := s.Get(ctx, sc, deptID)
		if err != nil {
			return BankAccount{}, err
		}
		before, err := s.Store.GetBankAccount(ctx, sc.PartnerID, d.ID, accountID)
		if err != nil {
			return BankAccount{}, apperr.Wrap(op, err)
		}
		before.IsDefault = d.DefaultAccountID == before.ID
		after := before
		if in.AccountName != nil {
			after.AccountName = strings.TrimSpace(*in.AccountName)
			if err := validAccountName(op, after.AccountName); err != nil {
				return BankAccount{}, err
			}
		}
		if in.BankName != nil {
			after.BankName = strings.TrimSpace(*in.BankName)
			if err := validBankName(op, after.BankName); err != nil {
				return BankAccount{}, err
			}
		}
		makeDefault := in.IsDefault != nil && !before.IsDefault
		if makeDefault && before.Status == AccountRejected {
			return BankAccount{}, apperr.E(op, apperr.Conflict, "this account's verification was rejected: it cannot become the default (add the account again with the holder's exact name)")
		}
		after.IsDefault = before.IsDefault || makeDefault
		now := s.Now().UTC()
		after.UpdatedAt, after.Version = now, before.Version+1
		updated, err := event.New(s.NewID("evt"), "bank_account.updated", now, sc.PartnerID, d.OrgID, actor,
			map[string]any{"department_id": d.ID, "bank_account": after.Masked()},
			event.Change{ResourceType: "bank_account", ResourceID: accountID, Action: "updated", Before: event.Snapshot(before.Masked()), After: event.Snapshot(after.Masked())})
		if err != nil {
			return BankAccount{}, apperr.Wrap(op, err)
		}
		// A rename of the default does not review it again: only a new
		// default is looked at (makeDefault).
		evs := []event.Event{updated}
		if makeDefault {
			if evs, err = s.accountWrite(d, &after, true, makeDefault, actor, now, updated); err != nil {
				return BankAccount{}, apperr.Wrap(op, err)
			}
		}
		err = s.Store.UpdateBankAccount(ctx, d, withPayout(d, NextPayout(d, after, makeDefault)), after, evs)
		if errors.Is(err, ErrChanged) && attempt < maxAttempts {
			continue
		}
		return after, apperr.Wrap(op, err)
	}
}

// DeleteAccount removes an account that is neither the default (a department
// keeps one; the last account is always the default) nor paid into by an
// active payment link.
func (s *Service) DeleteAccount(ctx context.Context, sc Scope, deptID, accountID string, actor event.Actor) error {
	const op = "bank_account.delete"
	d, err := s.Get(ctx, sc, deptID)
	if err != nil {
		return err
	}
	a, err := s.Store.GetBankAccount(ctx, sc.PartnerID, d.ID, accountID)
	if err != nil {
		return apperr.Wrap(op, err)
	}
	if d.DefaultAccountID == a.ID {
		return apperr.E(op, apperr.Conflict, "this is the department's default account: make another account the default before deleting it (a department with accounts always has a default)")
	}
	if d.PayoutAccountID == a.ID {
		return apperr.E(op, apperr.Conflict, "payments are made to this account (payout_bank_account_id) until the department's default is verified: it cannot be deleted before then")
	}
	if a.ActiveLinks > 0 {
		return apperr.E(op, apperr.Conflict, "active payment links pay into this account: deactivate them or let them end first")
	}
	now := s.Now().UTC()
	ev, err := event.New(s.NewID("evt"), "bank_account.deleted", now, sc.PartnerID, d.OrgID, actor,
		map[string]any{"department_id": d.ID, "bank_account_id": a.ID},
		event.Change{ResourceType: "bank_account", ResourceID: a.ID, Action: "deleted", Before: event.Snapshot(a.Masked()), After: event.Snapshot(nil)})
	if err != nil {
		return apperr.Wrap(op, err)
	}
	return apperr.Wrap(op, s.Store.DeleteBankAccount(ctx, d, a, ev))
}
