// Package organization holds the rules of the organisations a partner runs:
// French companies and public entities. It knows nothing of HTTP or DynamoDB.
package organization

import (
	"context"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/listing"
)

// Types of organisation.
const (
	TypeCompany      = "company"
	TypePublicEntity = "public_entity"
)

// Address is a postal address.
type Address struct {
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	PostalCode string `json:"postal_code"`
	City       string `json:"city"`
	Country    string `json:"country"`
}

// Organization is a partner's customer. PartnerID is part of every key of its
// data, so it is never visible to another partner.
type Organization struct {
	ID        string    `json:"id"`
	PartnerID string    `json:"-"`
	Type      string    `json:"type"`
	Name      string    `json:"name"`
	LegalName string    `json:"legal_name"`
	SIRET     string    `json:"siret"`
	SIREN     string    `json:"siren"`
	VATNumber string    `json:"vat_number,omitempty"`
	Address   Address   `json:"address"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// CreateInput is what a partner sends to create an organisation.
type CreateInput struct {
	Type      string   `json:"type"`
	Name      string   `json:"name"`
	LegalName string   `json:"legal_name"`
	SIRET     string   `json:"siret"`
	VATNumber string   `json:"vat_number"`
	Address   *Address `json:"address"`
}

var (
	digits14   = regexp.MustCompile(`^[0-9]{14}$`)
	vatFormat  = regexp.MustCompile(`^FR[0-9A-HJ-NP-Z]{2}[0-9]{9}$`)
	postalFR   = regexp.MustCompile(`^[0-9]{5}$`)
	countryISO = regexp.MustCompile(`^[A-Z]{2}$`)
)

const maxName = 200

// Validate checks the input's shape and normalises it (spaces removed from
// identifiers, upper-cased codes). Checksums of SIRET and VAT numbers are the
// identifier validation's job, not a format check's.
func (in *CreateInput) Validate() error {
	const op = "organization.validate"
	in.Type = strings.TrimSpace(in.Type)
	in.Name = strings.TrimSpace(in.Name)
	in.LegalName = strings.TrimSpace(in.LegalName)
	in.SIRET = strings.ReplaceAll(strings.TrimSpace(in.SIRET), " ", "")
	in.VATNumber = strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(in.VATNumber), " ", ""))
	switch {
	case in.Type != TypeCompany && in.Type != TypePublicEntity:
		return apperr.Field(op, "type", `type must be "company" or "public_entity"`)
	case in.Name == "":
		return apperr.Field(op, "name", "name is required")
	case utf8.RuneCountInString(in.Name) > maxName:
		return apperr.Field(op, "name", "name is longer than 200 characters")
	case utf8.RuneCountInString(in.LegalName) > maxName:
		return apperr.Field(op, "legal_name", "legal_name is longer than 200 characters")
	case !digits14.MatchString(in.SIRET):
		return apperr.Field(op, "siret", "siret must be 14 digits")
	case in.VATNumber != "" && !vatFormat.MatchString(in.VATNumber):
		return apperr.Field(op, "vat_number", "vat_number must be a French VAT number: FR, a 2-character key and the 9-digit SIREN")
	case in.VATNumber != "" && in.VATNumber[4:] != in.SIRET[:9]:
		return apperr.Field(op, "vat_number", "vat_number must end with the SIREN of the siret")
	}
	if in.Address == nil {
		return apperr.Field(op, "address", "address is required")
	}
	a := in.Address
	a.Line1, a.City = strings.TrimSpace(a.Line1), strings.TrimSpace(a.City)
	a.PostalCode = strings.TrimSpace(a.PostalCode)
	a.Country = strings.ToUpper(strings.TrimSpace(a.Country))
	switch {
	case a.Line1 == "":
		return apperr.Field(op, "address.line1", "address.line1 is required")
	case a.City == "":
		return apperr.Field(op, "address.city", "address.city is required")
	case !countryISO.MatchString(a.Country):
		return apperr.Field(op, "address.country", "address.country must be an ISO 3166-1 alpha-2 code")
	case a.Country == "FR" && !postalFR.MatchString(a.PostalCode):
		return apperr.Field(op, "address.postal_code", "address.postal_code must be 5 digits in France")
	case a.PostalCode == "":
		return apperr.Field(op, "address.postal_code", "address.postal_code is required")
	}
	return nil
}

// Store persists organisations. Create commits the organisation and its event
// in one transaction.
type Store interface {
	CreateOrganization(ctx context.Context, org Organization, ev event.Event) error
	GetOrganization(ctx context.Context, partnerID, orgID string) (Organization, error)
	ListOrganizations(ctx context.Context, partnerID string, q listing.Query, f Filter) (listing.Page[Organization], error)
}

// Filter narrows a list.
type Filter struct {
	Type string
	Name string // case-insensitive substring of name
}

// Service runs the organisation use cases.
type Service struct {
	Store Store
	Now   func() time.Time
	NewID func(prefix string) string
}

// Create validates and stores a new organisation with its organization.created event.
func (s *Service) Create(ctx context.Context, partnerID string, actor event.Actor, in CreateInput) (Organization, error) {
	const op = "organization.create"
	if err := in.Validate(); err != nil {
		return Organization{}, err
	}
	now := s.Now().UTC()
	org := Organization{
		ID: s.NewID("org"), PartnerID: partnerID, Type: in.Type, Name: in.Name, LegalName: in.LegalName,
		SIRET: in.SIRET, SIREN: in.SIRET[:9], VATNumber: in.VATNumber, Address: *in.Address,
		Status: "active", CreatedAt: now, UpdatedAt: now,
	}
	if org.LegalName == "" {
		org.LegalName = org.Name
	}
	ev, err := event.New(s.NewID("evt"), "organization.created", now, partnerID, org.ID, actor,
		map[string]any{"organization_id": org.ID, "organization": org},
		event.Change{ResourceType: "organization", ResourceID: org.ID, Action: "created", Before: event.Snapshot(nil), After: event.Snapshot(org)})
	if err != nil {
		return Organization{}, apperr.Wrap(op, err)
	}
	if err := s.Store.CreateOrganization(ctx, org, ev); err != nil {
		return Organization{}, apperr.Wrap(op, err)
	}
	return org, nil
}

// Get returns one of the partner's organisations; another partner's is NotFound.
func (s *Service) Get(ctx context.Context, partnerID, orgID string) (Organization, error) {
	org, err := s.Store.GetOrganization(ctx, partnerID, orgID)
	return org, apperr.Wrap("organization.get", err)
}

// List pages through the partner's organisations, oldest first.
func (s *Service) List(ctx context.Context, partnerID string, q listing.Query, f Filter) (listing.Page[Organization], error) {
	const op = "organization.list"
	if f.Type != "" && f.Type != TypeCompany && f.Type != TypePublicEntity {
		return listing.Page[Organization]{}, apperr.Field(op, "type", `type must be "company" or "public_entity"`)
	}
	p, err := s.Store.ListOrganizations(ctx, partnerID, q, f)
	return p, apperr.Wrap(op, err)
}
