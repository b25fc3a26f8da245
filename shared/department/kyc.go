package department

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/event"
)

// KYC statuses: not_submitted → pending → approved | rejected; a rejected
// KYC can be submitted again.
const (
	KYCNotSubmitted = "not_submitted"
	KYCPending      = "pending"
	KYCApproved     = "approved"
	KYCRejected     = "rejected"
)

// Document types a régie's KYC uses.
const (
	DocRegisseurAppointment = "regisseur_appointment" // arrêté de nomination du régisseur (public entities)
	DocKbisExtract          = "kbis_extract"          // extrait Kbis of less than 3 months (companies)
	DocRIB                  = "rib"                   // relevé d'identité bancaire: the IBAN belongs to the organisation
	DocIdentity             = "identity_document"     // the representative's identity document
)

var documentTypes = map[string]bool{DocRegisseurAppointment: true, DocKbisExtract: true, DocRIB: true, DocIdentity: true}

// Roles of the person who answers for the department.
var representativeRoles = map[string]map[string]bool{
	"public_entity": {"regisseur": true, "regisseur_suppleant": true, "ordonnateur": true},
	"company":       {"legal_representative": true, "authorized_signatory": true},
}

// MaxDocumentBytes bounds an uploaded document. Documents are sent as base64
// in a JSON body and kept in the table, whose items are at most 400 KB: 256
// KiB of file leaves room for the rest. A scanned A4 page as a compressed PDF
// or JPEG fits; larger files must be compressed before upload.
const MaxDocumentBytes = 256 << 10

// Document is an uploaded KYC document. Content never leaves the API again.
type Document struct {
	ID           string    `json:"id"`
	PartnerID    string    `json:"-"`
	DepartmentID string    `json:"department_id"`
	OrgID        string    `json:"organization_id"`
	Type         string    `json:"type"`
	FileName     string    `json:"file_name"`
	ContentType  string    `json:"content_type"`
	Size         int       `json:"size"`
	SHA256       string    `json:"sha256"`
	Content      []byte    `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
}

// UploadInput is the body of POST /v1/departments/{dept_id}/kyc/documents.
type UploadInput struct {
	Type          string `json:"type"`
	FileName      string `json:"file_name"`
	ContentType   string `json:"content_type"`
	ContentBase64 string `json:"content_base64"`
}

// magic numbers of the accepted file types: the declared type must be what
// the bytes are.
var magic = map[string][]byte{
	"application/pdf": []byte("%PDF-"),
	"image/jpeg":      {0xFF, 0xD8, 0xFF},
	"image/png":       {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'},
}

// Representative is the person who answers for the department: its régisseur
// (public entities) or legal representative (companies).
type Representative struct {
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name"`
	Role        string `json:"role"`
	DateOfBirth string `json:"date_of_birth"`
}

// DocumentRef points at an uploaded document.
type DocumentRef struct {
	Type       string `json:"type"`
	DocumentID string `json:"document_id"`
}

// Reason is why a KYC was rejected.
type Reason struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// KYC is a department's know-your-customer file.
type KYC struct {
	DepartmentID     string          `json:"department_id"`
	OrgID            string          `json:"organization_id"`
	Status           string          `json:"status"`
	Representative   *Representative `json:"representative"`
	Documents        []DocumentRef   `json:"documents"`
	BankAccountID    string          `json:"bank_account_id,omitempty"`
	SubmittedAt      *time.Time      `json:"submitted_at"`
	DecidedAt        *time.Time      `json:"decided_at"`
	RejectionReasons []Reason        `json:"rejection_reasons"`
	Version          int64           `json:"-"`
}

// SubmitInput is the body of POST /v1/departments/{dept_id}/kyc.
type SubmitInput struct {
	Representative *Representative `json:"representative"`
	Documents      []DocumentRef   `json:"documents"`
	BankAccountID  string          `json:"bank_account_id"`
}

// KYCRequiredFields are the submission's required fields, named in the 422 a
// body without them gets (the integration guide's step 6 sends a bank account).
var KYCRequiredFields = []string{"representative", "documents"}

// Sandbox decisions are deterministic, driven by the representative's last name:
// these values are documented test values.
const (
	SandboxRejectName  = "REJECT"  // rejected, reason document_unreadable
	SandboxPendingName = "PENDING" // stays pending
)

// UploadDocument stores a KYC document of a department the scope owns.
func (s *Service) UploadDocument(ctx context.Context, sc Scope, deptID string, actor event.Actor, in UploadInput) (Document, error) {
	const op = "kyc.upload"
	d, err := s.Get(ctx, sc, deptID)
	if err != nil {
		return Document{}, err
	}
	if !documentTypes[in.Type] {
		return Document{}, apperr.Field(op, "type", "type must be one of regisseur_appointment, kbis_extract, rib, identity_document")
	}
	in.FileName = strings.TrimSpace(in.FileName)
	if in.FileName == "" || utf8.RuneCountInString(in.FileName) > 200 || strings.ContainsAny(in.FileName, "/\\\x00") {
		return Document{}, apperr.Field(op, "file_name", "file_name must be 1 to 200 characters, without path separators")
	}
	sig, ok := magic[in.ContentType]
	if !ok {
		return Document{}, apperr.Field(op, "content_type", "content_type must be application/pdf, image/jpeg or image/png")
	}
	if in.ContentBase64 == "" {
		return Document{}, apperr.Field(op, "content_base64", "content_base64 is required")
	}
	if base64.StdEncoding.DecodedLen(len(in.ContentBase64)) > MaxDocumentBytes+3 {
		return Document{}, apperr.Field(op, "content_base64", fmt.Sprintf("the document is larger than %d KiB", MaxDocumentBytes>>10))
	}
	content, err := base64.StdEncoding.DecodeString(in.ContentBase64)
	if err != nil {
		return Document{}, apperr.Field(op, "content_base64", "content_base64 is not valid base64 (standard alphabet, padded)")
	}
	if len(content) > MaxDocumentBytes {
		return Document{}, apperr.Field(op, "content_base64", fmt.Sprintf("the document is larger than %d KiB", MaxDocumentBytes>>10))
	}
	if !bytes.HasPrefix(content, sig) {
		return Document{}, apperr.Field(op, "content_base64", "the content is not a "+in.ContentType+" file")
	}
	sum := sha256.Sum256(content)
	now := s.Now().UTC()
	doc := Document{ID: s.NewID("doc"), PartnerID: sc.PartnerID, DepartmentID: d.ID, OrgID: d.OrgID, Type: in.Type, FileName: in.FileName,
		ContentType: in.ContentType, Size: len(content), SHA256: hex.EncodeToString(sum[:]), Content: content, CreatedAt: now}
	ev, err := event.New(s.NewID("evt"), "kyc_document.uploaded", now, sc.PartnerID, d.OrgID, actor,
		map[string]any{"department_id": d.ID, "document": doc},
		event.Change{ResourceType: "kyc_document", ResourceID: doc.ID, Action: "created", Before: event.Snapshot(nil), After: event.Snapshot(doc)})
	if err != nil {
		return Document{}, apperr.Wrap(op, err)
	}
	return doc, apperr.Wrap(op, s.Store.PutKYCDocument(ctx, doc, ev))
}

// GetKYC returns a department's KYC (not_submitted when there is none): one read.
func (s *Service) GetKYC(ctx context.Context, sc Scope, deptID string) (KYC, error) {
	_, k, err := s.departmentKYC(ctx, sc, deptID)
	return k, err
}

func (s *Service) departmentKYC(ctx context.Context, sc Scope, deptID string) (Department, KYC, error) {
	const op = "kyc.get"
	d, k, err := s.Store.GetDepartmentKYC(ctx, sc.PartnerID, deptID)
	if err != nil {
		return Department{}, KYC{}, apperr.Wrap(op, err)
	}
	if !sc.Owns(d) {
		return Department{}, KYC{}, apperr.E(op, apperr.NotFound, "department not found")
	}
	if k == nil {
		return d, KYC{DepartmentID: d.ID, OrgID: d.OrgID, Status: KYCNotSubmitted, Documents: []DocumentRef{}, RejectionReasons: []Reason{}}, nil
	}
	return d, *k, nil
}

// SubmitKYC checks a submission, records it (pending) and, in the sandbox,
// decides it at once: each transition emits kyc.status_changed, in the same
// transaction as the change.
func (s *Service) SubmitKYC(ctx context.Context, sc Scope, deptID string, actor event.Actor, in SubmitInput) (KYC, error) {
	const op = "kyc.submit"
	d, before, err := s.departmentKYC(ctx, sc, deptID)
	if err != nil {
		return KYC{}, err
	}
	switch before.Status {
	case KYCPending:
		return KYC{}, apperr.E(op, apperr.Conflict, "a KYC submission is already pending review")
	case KYCApproved:
		return KYC{}, apperr.E(op, apperr.Conflict, "the department's KYC is already approved")
	}
	orgType, err := s.Store.OrganizationType(ctx, sc.PartnerID, d.OrgID)
	if err != nil {
		return KYC{}, apperr.Wrap(op, err)
	}
	if err := validateRepresentative(op, in.Representative, orgType, s.Now()); err != nil {
		return KYC{}, err
	}
	if err := s.checkDocuments(ctx, op, sc, d, orgType, in.Documents); err != nil {
		return KYC{}, err
	}
	accountID := in.BankAccountID
	if accountID == "" {
		accountID = d.DefaultAccountID
	}
	if accountID == "" {
		return KYC{}, apperr.E(op, apperr.Conflict, "the department has no bank account: add one before submitting its KYC (the RIB proves it)")
	}
	if _, err := s.Store.GetBankAccount(ctx, sc.PartnerID, d.ID, accountID); err != nil {
		if apperr.CodeOf(err) == apperr.NotFound {
			return KYC{}, apperr.Field(op, "bank_account_id", "no such bank account in this department")
		}
		return KYC{}, apperr.Wrap(op, err)
	}

	now := s.Now().UTC()
	after := KYC{DepartmentID: d.ID, OrgID: d.OrgID, Status: KYCPending, Representative: in.Representative, Documents: in.Documents,
		BankAccountID: accountID, SubmittedAt: &now, RejectionReasons: []Reason{}, Version: before.Version + 1}
	evs := []event.Event{}
	ev, err := s.statusEvent(sc, d, actor, before, after, now)
	if err != nil {
		return KYC{}, apperr.Wrap(op, err)
	}
	evs = append(evs, ev)
	if !s.Mode.Strict { // the sandbox decides at once, deterministically
		pending := after
		switch strings.ToUpper(strings.TrimSpace(in.Representative.LastName)) {
		case SandboxPendingName:
		case SandboxRejectName:
			after.Status, after.DecidedAt = KYCRejected, &now
			after.RejectionReasons = []Reason{{Code: "document_unreadable", Message: "sandbox: the representative's last name is REJECT, so the KYC is rejected"}}
		default:
			after.Status, after.DecidedAt = KYCApproved, &now
		}
		if after.Status != KYCPending {
			ev, err := s.statusEvent(sc, d, event.Actor{ID: "sandbox-kyc-review", Type: "system"}, pending, after, now)
			if err != nil {
				return KYC{}, apperr.Wrap(op, err)
			}
			evs = append(evs, ev)
		}
	}
	var v *Verification
	if after.Status == KYCApproved {
		if v, err = s.verifyRIBAccount(ctx, d, after, event.Actor{ID: "sandbox-kyc-review", Type: "system"}, now); err != nil {
			return KYC{}, apperr.Wrap(op, err)
		}
		if v != nil {
			evs = append(evs, v.Events...)
		}
	}
	return after, apperr.Wrap(op, s.Store.SubmitKYC(ctx, d, before, after, v, evs))
}

// Verification is what a KYC approval does to the account its RIB shows: the
// account verified (from pending_verification) and made the department's
// payout account. The store writes both conditional on the versions read.
type Verification struct {
	Before     BankAccount
	Account    BankAccount // as the approval leaves it
	Department Department  // as the approval leaves it: payout account, next version
	Events     []event.Event
}

// verifyRIBAccount is the Verification of an approved KYC: the account the
// submission named (the default at the time, unless bank_account_id said
// otherwise), or the default if that account is gone. A rejected account is
// never made payable; the default chosen since, if another, stays pending.
func (s *Service) verifyRIBAccount(ctx context.Context, d Department, k KYC, actor event.Actor, now time.Time) (*Verification, error) {
	id := k.BankAccountID
	a, err := s.Store.GetBankAccount(ctx, d.PartnerID, d.ID, id)
	if apperr.CodeOf(err) == apperr.NotFound && d.DefaultAccountID != "" && d.DefaultAccountID != id {
		a, err = s.Store.GetBankAccount(ctx, d.PartnerID, d.ID, d.DefaultAccountID)
	}
	if apperr.CodeOf(err) == apperr.NotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if a.Status == AccountRejected {
		return nil, nil
	}
	v := &Verification{Before: a, Account: a}
	var evs []event.Event
	if a.Status != AccountVerified {
		v.Account.Status, v.Account.UpdatedAt, v.Account.Version = AccountVerified, now, a.Version+1
		v.Account.IsDefault = d.DefaultAccountID == a.ID
		ev, err := s.accountStatusEvent(d, a, v.Account, nil, actor, now)
		if err != nil {
			return nil, err
		}
		evs = append(evs, ev)
	}
	p := Payout{DefaultID: d.DefaultAccountID, PayoutID: a.ID}
	pevs, err := s.payoutEvents(d, p, actor, now)
	if err != nil {
		return nil, err
	}
	v.Department = withPayout(d, p)
	v.Events = append(evs, pevs...)
	return v, nil
}

func (s *Service) statusEvent(sc Scope, d Department, actor event.Actor, before, after KYC, at time.Time) (event.Event, error) {
	return event.New(s.NewID("evt"), "kyc.status_changed", at, sc.PartnerID, d.OrgID, actor,
		map[string]any{"department_id": d.ID, "previous_status": before.Status, "current_status": after.Status, "kyc": after},
		event.Change{ResourceType: "kyc", ResourceID: d.ID, Action: "status_changed",
			Before: event.Snapshot(map[string]string{"status": before.Status}), After: event.Snapshot(map[string]string{"status": after.Status})})
}

func validateRepresentative(op string, r *Representative, orgType string, now time.Time) error {
	if r == nil {
		return apperr.Field(op, "representative", "representative is required")
	}
	r.FirstName, r.LastName = strings.TrimSpace(r.FirstName), strings.TrimSpace(r.LastName)
	switch {
	case r.FirstName == "" || utf8.RuneCountInString(r.FirstName) > 100:
		return apperr.Field(op, "representative.first_name", "representative.first_name must be 1 to 100 characters")
	case r.LastName == "" || utf8.RuneCountInString(r.LastName) > 100:
		return apperr.Field(op, "representative.last_name", "representative.last_name must be 1 to 100 characters")
	case !representativeRoles[orgType][r.Role]:
		roles := "regisseur, regisseur_suppleant, ordonnateur"
		if orgType == "company" {
			roles = "legal_representative, authorized_signatory"
		}
		return apperr.Field(op, "representative.role", "representative.role must be one of "+roles+" for a "+orgType)
	}
	dob, err := time.Parse("2006-01-02", r.DateOfBirth)
	if err != nil {
		return apperr.Field(op, "representative.date_of_birth", "representative.date_of_birth must be a date YYYY-MM-DD")
	}
	if age := now.Sub(dob).Hours() / 24 / 365.25; age < 18 || age > 120 {
		return apperr.Field(op, "representative.date_of_birth", "the representative must be an adult (18 to 120 years old)")
	}
	return nil
}

// checkDocuments requires, for every organisation, the RIB and the
// representative's identity document, and the appointment act of the
// régisseur (public entities) or a Kbis extract (companies); each reference
// must be a document uploaded for this department, of the type it claims.
func (s *Service) checkDocuments(ctx context.Context, op string, sc Scope, d Department, orgType string, refs []DocumentRef) error {
	if len(refs) == 0 {
		return apperr.Field(op, "documents", "documents is required")
	}
	if len(refs) > 10 {
		return apperr.Field(op, "documents", "at most 10 documents")
	}
	have := map[string]bool{}
	for i, ref := range refs {
		param := fmt.Sprintf("documents[%d]", i)
		if !documentTypes[ref.Type] {
			return apperr.Field(op, param+".type", "type must be one of regisseur_appointment, kbis_extract, rib, identity_document")
		}
		doc, err := s.Store.GetKYCDocument(ctx, sc.PartnerID, d.ID, ref.DocumentID)
		if apperr.CodeOf(err) == apperr.NotFound {
			return apperr.Field(op, param+".document_id", "no such document uploaded for this department")
		}
		if err != nil {
			return apperr.Wrap(op, err)
		}
		if doc.Type != ref.Type {
			return apperr.Field(op, param+".type", "the document "+ref.DocumentID+" was uploaded as "+doc.Type)
		}
		have[ref.Type] = true
	}
	need := []string{DocRIB, DocIdentity, DocKbisExtract}
	if orgType == "public_entity" {
		need[2] = DocRegisseurAppointment
	}
	for _, t := range need {
		if !have[t] {
			return apperr.Field(op, "documents", "a document of type "+t+" is required for a "+orgType)
		}
	}
	return nil
}

// DecideKYC records a reviewer's decision on a pending KYC (production
// reviews; the sandbox decides at submission): approved, or rejected with
// reasons. The decision and its kyc.status_changed commit together.
func (s *Service) DecideKYC(ctx context.Context, partnerID, deptID string, approve bool, reasons []Reason, reviewer event.Actor) (KYC, error) {
	const op = "kyc.decide"
	d, before, err := s.departmentKYC(ctx, Scope{PartnerID: partnerID}, deptID)
	if err != nil {
		return KYC{}, err
	}
	if before.Status != KYCPending {
		return KYC{}, apperr.E(op, apperr.Conflict, "only a pending KYC can be decided; this one is "+before.Status)
	}
	if !approve && len(reasons) == 0 {
		return KYC{}, apperr.Field(op, "reasons", "a rejection needs at least one reason")
	}
	now := s.Now().UTC()
	after := before
	after.DecidedAt, after.Version = &now, before.Version+1
	after.Status, after.RejectionReasons = KYCApproved, []Reason{}
	if !approve {
		after.Status, after.RejectionReasons = KYCRejected, reasons
	}
	ev, err := s.statusEvent(Scope{PartnerID: partnerID}, d, reviewer, before, after, now)
	if err != nil {
		return KYC{}, apperr.Wrap(op, err)
	}
	evs := []event.Event{ev}
	var v *Verification
	if approve {
		if v, err = s.verifyRIBAccount(ctx, d, after, reviewer, now); err != nil {
			return KYC{}, apperr.Wrap(op, err)
		}
		if v != nil {
			evs = append(evs, v.Events...)
		}
	}
	return after, apperr.Wrap(op, s.Store.SubmitKYC(ctx, d, before, after, v, evs))
}
