// Package department holds the rules of an organisation's departments
// (régies and services): their bank accounts, with exactly one default per
// department, and their KYC. It knows nothing of HTTP or DynamoDB.
package department

import (
	"context"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/validation"
)

// Department is a régie or service of an organisation. It is found by its id
// under the partner (a partner token needs no X-Entity-Id for it, as in the
// integration guide); an organisation token reaches only its own.
type Department struct {
	ID          string `json:"id"`
	PartnerID   string `json:"-"`
	OrgID       string `json:"organization_id"`
	Name        string `json:"name"`
	Code        string `json:"code"`
	Description string `json:"description"`
	Status      string `json:"status"`
	KYCStatus   string `json:"kyc_status"`
	// DefaultAccountID is the department's default bank account; empty until
	// its first account. It is the only record of which account is default, so
	// "exactly one default" holds by construction.
	DefaultAccountID string `json:"default_bank_account_id"`
	// PayoutAccountID is the account payments are made to: invoices' bank
	// details, new payment links and the payee onboarded at Aiia. It is the
	// default once the default is verified, and until then the last verified
	// account (see NextPayout), so a new default cannot redirect money before
	// it is checked. Empty until the first account.
	PayoutAccountID string    `json:"payout_bank_account_id"`
	CreatedAt       time.Time `json:"created_at"`
	UpdatedAt       time.Time `json:"updated_at"`
	Version         int64     `json:"-"`
}

// Scope is who asks: the partner, and the organisation when the token is an
// organisation's (empty for partner tokens, which reach all their organisations).
type Scope struct {
	PartnerID string
	OrgID     string
}

// Owns says whether the scope may see d; callers answer NotFound when not.
func (s Scope) Owns(d Department) bool {
	return d.PartnerID == s.PartnerID && (s.OrgID == "" || s.OrgID == d.OrgID)
}

// CreateInput is the body of POST /v1/organizations/{org_id}/departments.
type CreateInput struct {
	Name        string `json:"name"`
	Code        string `json:"code"`
	Description string `json:"description"`
}

// UpdateInput is a PATCH of a department.
type UpdateInput struct {
	Name        *string `json:"name"`
	Code        *string `json:"code"`
	Description *string `json:"description"`
}

var codeFormat = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$`)

func validName(op, name string) error {
	if name == "" || utf8.RuneCountInString(name) > 200 {
		return apperr.Field(op, "name", "name must be 1 to 200 characters")
	}
	return nil
}

// normaliseCode upper-cases a department code: codes are compared without
// case, so "reg-eau-001" and "REG-EAU-001" cannot both exist.
func normaliseCode(op, code string) (string, error) {
	code = strings.TrimSpace(code)
	if !codeFormat.MatchString(code) {
		return "", apperr.Field(op, "code", "code must be 1 to 40 letters, digits, '.', '_' or '-', starting with a letter or digit")
	}
	return strings.ToUpper(code), nil
}

func validDescription(op, d string) error {
	if utf8.RuneCountInString(d) > 1000 {
		return apperr.Field(op, "description", "description is longer than 1000 characters")
	}
	return nil
}

// ErrChanged is what a store answers when a department changed between the
// read and the conditional write (another account created or made default at
// the same moment); the service reads again and retries a few times.
var ErrChanged = apperr.E("department", apperr.Conflict, "the department was changed by another request at the same time; retry")

// Store persists departments, accounts and KYC. Every multi-item change is one
// transaction with its event.
type Store interface {
	// CreateDepartment fails with NotFound when the organisation is not the
	// partner's and with Conflict when the code is taken in the organisation.
	CreateDepartment(ctx context.Context, d Department, ev event.Event) error
	GetDepartment(ctx context.Context, partnerID, deptID string) (Department, error)
	ListDepartments(ctx context.Context, partnerID, orgID string, q listing.Query) (listing.Page[Department], error)
	// UpdateDepartment is conditional on the version read; a code change moves
	// the code's uniqueness claim in the same transaction.
	UpdateDepartment(ctx context.Context, before, after Department, ev event.Event) error
	OrganizationExists(ctx context.Context, partnerID, orgID string) error
	OrganizationType(ctx context.Context, partnerID, orgID string) (string, error)

	// CreateBankAccount and UpdateBankAccount write the account with the
	// department as the write leaves it (default and payout accounts, next
	// version), conditional on the department's version read (ErrChanged
	// otherwise), and the events, in one transaction.
	CreateBankAccount(ctx context.Context, before, after Department, a BankAccount, evs []event.Event) error
	GetBankAccount(ctx context.Context, partnerID, deptID, accountID string) (BankAccount, error)
	// GetDepartmentAccount, ListDepartmentAccounts and GetDepartmentKYC read
	// the department with what is asked of it in one call each.
	GetDepartmentAccount(ctx context.Context, partnerID, deptID, accountID string) (Department, BankAccount, error)
	ListDepartmentAccounts(ctx context.Context, partnerID, deptID string) (Department, []BankAccount, error)
	GetDepartmentKYC(ctx context.Context, partnerID, deptID string) (Department, *KYC, error)
	UpdateBankAccount(ctx context.Context, before, after Department, a BankAccount, evs []event.Event) error
	// DeleteBankAccount is conditional on the account being neither the
	// default nor the payout account, and without active payment links.
	DeleteBankAccount(ctx context.Context, d Department, a BankAccount, ev event.Event) error

	PutKYCDocument(ctx context.Context, doc Document, ev event.Event) error
	GetKYCDocument(ctx context.Context, partnerID, deptID, docID string) (Document, error)
	// SubmitKYC records a submission (and its decision, when the sandbox
	// decides at once) on condition that the KYC is in the status read.
	// An approval verifies the account the RIB shows and makes it the payout
	// account (v), in the same transaction.
	SubmitKYC(ctx context.Context, d Department, before, after KYC, v *Verification, evs []event.Event) error
}

// Service runs the department use cases.
type Service struct {
	Store Store
	Mode  validation.Mode
	Now   func() time.Time
	NewID func(prefix string) string
}

// Create adds a department to an organisation, with department.created.
func (s *Service) Create(ctx context.Context, partnerID, orgID string, actor event.Actor, in CreateInput) (Department, error) {
	const op = "department.create"
	in.Name, in.Description = strings.TrimSpace(in.Name), strings.TrimSpace(in.Description)
	if err := validName(op, in.Name); err != nil {
		return Department{}, err
	}
	code, err := normaliseCode(op, in.Code)
	if err != nil {
		return Department{}, err
	}
	if err := validDescription(op, in.Description); err != nil {
		return Department{}, err
	}
	now := s.Now().UTC()
	d := Department{ID: s.NewID("dept"), PartnerID: partnerID, OrgID: orgID, Name: in.Name, Code: code, Description: in.Description,
		Status: "active", KYCStatus: KYCNotSubmitted, CreatedAt: now, UpdatedAt: now, Version: 1}
	ev, err := event.New(s.NewID("evt"), "department.created", now, partnerID, orgID, actor,
		map[string]any{"department_id": d.ID, "department": d},
		event.Change{ResourceType: "department", ResourceID: d.ID, Action: "created", Before: event.Snapshot(nil), After: event.Snapshot(d)})
	if err != nil {
		return Department{}, apperr.Wrap(op, err)
	}
	return d, apperr.Wrap(op, s.Store.CreateDepartment(ctx, d, ev))
}

// Get returns a department the scope owns; any other is NotFound.
func (s *Service) Get(ctx context.Context, sc Scope, deptID string) (Department, error) {
	const op = "department.get"
	d, err := s.Store.GetDepartment(ctx, sc.PartnerID, deptID)
	if err != nil {
		return Department{}, apperr.Wrap(op, err)
	}
	if !sc.Owns(d) {
		return Department{}, apperr.E(op, apperr.NotFound, "department not found")
	}
	return d, nil
}

// List pages through an organisation's departments; an organisation that is
// not the partner's is NotFound, not an empty list.
func (s *Service) List(ctx context.Context, partnerID, orgID string, q listing.Query) (listing.Page[Department], error) {
	const op = "department.list"
	p, err := s.Store.ListDepartments(ctx, partnerID, orgID, q)
	p, err = listing.OfOrganization(ctx, p, err, q, s.Store, partnerID, orgID)
	return p, apperr.Wrap(op, err)
}

// Update applies a PATCH, with department.updated.
func (s *Service) Update(ctx context.Context, sc Scope, deptID string, actor event.Actor, in UpdateInput) (Department, error) {
	const op = "department.update"
	if in.Name == nil && in.Code == nil && in.Description == nil {
		return Department{}, apperr.E(op, apperr.Malformed, "nothing to update: send at least one of name, code, description")
	}
	before, err := s.Get(ctx, sc, deptID)
	if err != nil {
		return Department{}, err
	}
	after := before
	if in.Name != nil {
		after.Name = strings.TrimSpace(*in.Name)
		if err := validName(op, after.Name); err != nil {
			return Department{}, err
		}
	}
	if in.Code != nil {
		if after.Code, err = normaliseCode(op, *in.Code); err != nil {
			return Department{}, err
		}
	}
	if in.Description != nil {
		after.Description = strings.TrimSpace(*in.Description)
		if err := validDescription(op, after.Description); err != nil {
			return Department{}, err
		}
	}
	now := s.Now().UTC()
	after.UpdatedAt, after.Version = now, before.Version+1
	ev, err := event.New(s.NewID("evt"), "department.updated", now, sc.PartnerID, before.OrgID, actor,
		map[string]any{"department_id": deptID, "department": after},
		event.Change{ResourceType: "department", ResourceID: deptID, Action: "updated", Before: event.Snapshot(before), After: event.Snapshot(after)})
	if err != nil {
		return Department{}, apperr.Wrap(op, err)
	}
	return after, apperr.Wrap(op, s.Store.UpdateDepartment(ctx, before, after, ev))
}
