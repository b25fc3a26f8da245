// Package organization holds the rules of the organisations a partner runs:
// French companies and public entities. It knows nothing of HTTP or DynamoDB.
package organization

import (
	"context"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/identifier"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/validation"
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
	ID        string `json:"id"`
	PartnerID string `json:"-"`
	Type      string `json:"type"`
	Name      string `json:"name"`
	LegalName string `json:"legal_name"`
	SIRET     string `json:"siret"`
	SIREN     string `json:"siren"`
	VATNumber string `json:"vat_number,omitempty"`
	// Address may be missing (the guide's SDK sample creates organisations
	// with type, name and SIRET only); Requirements then names it, and an
	// invoice cannot be issued until it is set (a French invoice shows the
	// seller's address).
	Address   Address   `json:"address,omitzero"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// Version increments on every change; updates are conditional on it.
	Version int64 `json:"-"`
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

const maxName = 200

// Validate checks the input and normalises it (spaces removed from
// identifiers, upper-cased codes). Identifier checksums go through the
// collector: warnings in the sandbox, errors in production.
func (in *CreateInput) Validate(c *validation.Collector) error {
	const op = "organization.validate"
	in.Type = strings.TrimSpace(in.Type)
	in.Name = strings.TrimSpace(in.Name)
	in.LegalName = strings.TrimSpace(in.LegalName)
	switch {
	case in.Type != TypeCompany && in.Type != TypePublicEntity:
		return apperr.Field(op, "type", `type must be "company" or "public_entity"`)
	case in.Name == "":
		return apperr.Field(op, "name", "name is required")
	case utf8.RuneCountInString(in.Name) > maxName:
		return apperr.Field(op, "name", "name is longer than 200 characters")
	case utf8.RuneCountInString(in.LegalName) > maxName:
		return apperr.Field(op, "legal_name", "legal_name is longer than 200 characters")
	case strings.TrimSpace(in.SIRET) == "":
		return apperr.Field(op, "siret", "siret is required")
	}
	siret, p := identifier.CheckSIRET(in.SIRET)
	if err := c.Apply(op, "siret", p); err != nil {
		return err
	}
	in.SIRET = siret
	if in.Type == TypePublicEntity && siret != "" && siret[0] != '1' && siret[0] != '2' {
		// French public bodies' SIRENs begin with 1 or 2.
		c.Warn("siret", "unusual_for_type", "the SIREN of a public entity normally begins with 1 or 2")
	}
	if err := validateVAT(op, c, &in.VATNumber, siret); err != nil {
		return err
	}
	if in.Address == nil {
		return nil // Requirements names it; invoices are issued once it is set
	}
	return in.Address.Validate(op, "address", c)
}

// Requirements lists what the organisation lacks to issue invoices (the
// mentions a French invoice must carry), by field name; none: ready.
func (o Organization) Requirements() []string {
	var missing []string
	if o.Address.Line1 == "" {
		missing = append(missing, "address")
	}
	return missing
}

// MarshalJSON writes the organisation with its requirements (never stored:
// the store encodes items by their fields).
func (o Organization) MarshalJSON() ([]byte, error) { return Result{Organization: o}.MarshalJSON() }

func validateVAT(op string, c *validation.Collector, vat *string, siret string) error {
	if strings.TrimSpace(*vat) == "" {
		*vat = ""
		return nil
	}
	v, p := identifier.CheckFrenchVAT(*vat)
	if err := c.Apply(op, "vat_number", p); err != nil {
		return err
	}
	if !identifier.VATMatchesSIREN(v, identifier.SIRENOf(siret)) {
		return apperr.Field(op, "vat_number", "vat_number must end with the SIREN of the siret ("+identifier.SIRENOf(siret)+")")
	}
	*vat = v
	return nil
}

// Validate checks and normalises an address; prefix is its JSON path.
func (a *Address) Validate(op, prefix string, c *validation.Collector) error {
	a.Line1, a.Line2, a.City = strings.TrimSpace(a.Line1), strings.TrimSpace(a.Line2), strings.TrimSpace(a.City)
	switch {
	case a.Line1 == "":
		return apperr.Field(op, prefix+".line1", prefix+".line1 is required")
	case utf8.RuneCountInString(a.Line1) > 200 || utf8.RuneCountInString(a.Line2) > 200:
		return apperr.Field(op, prefix+".line1", "address lines are at most 200 characters")
	case a.City == "":
		return apperr.Field(op, prefix+".city", prefix+".city is required")
	}
	country, p := identifier.CheckCountry(a.Country)
	if p != nil {
		return apperr.Field(op, prefix+".country", prefix+".country must be an ISO 3166-1 alpha-2 code")
	}
	a.Country = country
	if country == "FR" {
		pc, p := identifier.CheckFrenchPostalCode(a.PostalCode)
		if p != nil {
			return apperr.Field(op, prefix+".postal_code", prefix+".postal_code: "+p.Message)
		}
		a.PostalCode = pc
	} else if a.PostalCode = strings.TrimSpace(a.PostalCode); a.PostalCode == "" || len(a.PostalCode) > 16 {
		return apperr.Field(op, prefix+".postal_code", prefix+".postal_code is required (at most 16 characters)")
	}
	return nil
}

// Store persists organisations. Create commits the organisation and its event
// in one transaction.
type Store interface {
	CreateOrganization(ctx context.Context, org Organization, ev event.Event) error
	GetOrganization(ctx context.Context, partnerID, orgID string) (Organization, error)
	ListOrganizations(ctx context.Context, partnerID string, q listing.Query, f Filter) (listing.Page[Organization], error)
	// UpdateOrganization writes org on condition that its stored version is
	// org.Version-1 (Conflict otherwise), with its event, in one transaction.
	UpdateOrganization(ctx context.Context, org Organization, ev event.Event) error
}

// Filter narrows a list.
type Filter struct {
	Type string
	Name string // case-insensitive substring of name
}

// Service runs the organisation use cases.
type Service struct {
	Store Store
	Mode  validation.Mode
	Now   func() time.Time
	NewID func(prefix string) string
}

// Result is an organisation as a write left it, with the sandbox's warnings.
type Result struct {
	Organization
	Warnings []validation.Warning `json:"warnings,omitempty"`
}

// MarshalJSON writes the organisation, its requirements and the warnings
// (Organization's MarshalJSON, promoted, would otherwise hide Warnings).
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Organization
	return json.Marshal(struct {
		plain
		Requirements []string             `json:"requirements,omitempty"`
		Warnings     []validation.Warning `json:"warnings,omitempty"`
	}{plain(r.Organization), r.Requirements(), r.Warnings})
}

// Create validates and stores a new organisation with its organization.created event.
func (s *Service) Create(ctx context.Context, partnerID string, actor event.Actor, in CreateInput) (Result, error) {
	const op = "organization.create"
	c := &validation.Collector{Mode: s.Mode}
	if err := in.Validate(c); err != nil {
		return Result{}, err
	}
	now := s.Now().UTC()
	org := Organization{
		ID: s.NewID("org"), PartnerID: partnerID, Type: in.Type, Name: in.Name, LegalName: in.LegalName,
		SIRET: in.SIRET, SIREN: identifier.SIRENOf(in.SIRET), VATNumber: in.VATNumber,
		Status: "active", CreatedAt: now, UpdatedAt: now, Version: 1,
	}
	if org.LegalName == "" {
		org.LegalName = org.Name
	}
	if in.Address != nil {
		org.Address = *in.Address
	}
	ev, err := event.New(s.NewID("evt"), "organization.created", now, partnerID, org.ID, actor,
		map[string]any{"organization_id": org.ID, "organization": org},
		event.Change{ResourceType: "organization", ResourceID: org.ID, Action: "created", Before: event.Snapshot(nil), After: event.Snapshot(org)})
	if err != nil {
		return Result{}, apperr.Wrap(op, err)
	}
	if err := s.Store.CreateOrganization(ctx, org, ev); err != nil {
		return Result{}, apperr.Wrap(op, err)
	}
	return Result{Organization: org, Warnings: c.Warnings}, nil
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

// UpdateInput is a PATCH: absent fields are left as they are. The SIRET and the
// type are not editable: another SIRET is another legal entity, which is
// another organisation.
type UpdateInput struct {
	Name      *string  `json:"name"`
	LegalName *string  `json:"legal_name"`
	VATNumber *string  `json:"vat_number"`
	Address   *Address `json:"address"`
}

// Update applies a PATCH, with organization.updated, conditional on the
// version read (a concurrent update makes this one a 409, never a lost write).
func (s *Service) Update(ctx context.Context, partnerID, orgID string, actor event.Actor, in UpdateInput) (Result, error) {
	const op = "organization.update"
	if in.Name == nil && in.LegalName == nil && in.VATNumber == nil && in.Address == nil {
		return Result{}, apperr.E(op, apperr.Malformed, "nothing to update: send at least one of name, legal_name, vat_number, address")
	}
	before, err := s.Store.GetOrganization(ctx, partnerID, orgID)
	if err != nil {
		return Result{}, apperr.Wrap(op, err)
	}
	after := before
	c := &validation.Collector{Mode: s.Mode}
	if in.Name != nil {
		after.Name = strings.TrimSpace(*in.Name)
		if after.Name == "" || utf8.RuneCountInString(after.Name) > maxName {
			return Result{}, apperr.Field(op, "name", "name must be 1 to 200 characters")
		}
	}
	if in.LegalName != nil {
		after.LegalName = strings.TrimSpace(*in.LegalName)
		if after.LegalName == "" || utf8.RuneCountInString(after.LegalName) > maxName {
			return Result{}, apperr.Field(op, "legal_name", "legal_name must be 1 to 200 characters")
		}
	}
	if in.VATNumber != nil {
		after.VATNumber = *in.VATNumber
		if err := validateVAT(op, c, &after.VATNumber, after.SIRET); err != nil {
			return Result{}, err
		}
	}
	if in.Address != nil {
		a := *in.Address
		if err := a.Validate(op, "address", c); err != nil {
			return Result{}, err
		}
		after.Address = a
	}
	now := s.Now().UTC()
	after.UpdatedAt, after.Version = now, before.Version+1
	ev, err := event.New(s.NewID("evt"), "organization.updated", now, partnerID, orgID, actor,
		map[string]any{"organization_id": orgID, "organization": after},
		event.Change{ResourceType: "organization", ResourceID: orgID, Action: "updated", Before: event.Snapshot(before), After: event.Snapshot(after)})
	if err != nil {
		return Result{}, apperr.Wrap(op, err)
	}
	if err := s.Store.UpdateOrganization(ctx, after, ev); err != nil {
		return Result{}, apperr.Wrap(op, err)
	}
	return Result{Organization: after, Warnings: c.Warnings}, nil
}
