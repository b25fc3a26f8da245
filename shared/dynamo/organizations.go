package dynamo

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/organization"
)

// Organisation keys: the item is its own partition, under its partner, so
// everything an organisation owns can later live beside it; the partner's list
// is GSI1, ordered by id (time-ordered ids, so by creation).
func orgPK(partnerID, orgID string) string { return "P#" + partnerID + "#O#" + orgID }
func orgListPK(partnerID string) string    { return "P#" + partnerID + "#ORGS" }

const skOrg = "ORG"

// Organizations stores organisations (organization.Store) and answers the
// other aggregates' questions about one: does it exist, of which type.
type Organizations struct{ *base }

type orgItem struct {
	head
	PartnerID string `json:"partner_id"`
	// NameLower serves the case-insensitive name filter.
	NameLower string `json:"name_lower"`
	Version   int64  `json:"version"`
	organization.Organization
}

func toOrgItem(org organization.Organization) orgItem {
	return orgItem{head: head{PK: orgPK(org.PartnerID, org.ID), SK: skOrg, GSI1PK: orgListPK(org.PartnerID), GSI1SK: org.ID,
		Kind: "organization"}, PartnerID: org.PartnerID, NameLower: strings.ToLower(org.Name), Version: org.Version, Organization: org}
}

func (it orgItem) organization() organization.Organization {
	o := it.Organization
	o.PartnerID, o.Version = it.PartnerID, it.Version
	return o
}

// CreateOrganization writes the organisation and its event in one transaction.
func (s *Organizations) CreateOrganization(ctx context.Context, org organization.Organization, ev event.Event) error {
	const op = "dynamo.create_organization"
	tx := s.tx()
	tx.Put("organization", toOrgItem(org), ifNew)
	tx.Events(ev)
	err := tx.Run(ctx)
	if tx.Failed(err, "organization") {
		return apperr.E(op, apperr.Conflict, "an organization with this id already exists")
	}
	if err != nil {
		return transient(op, err)
	}
	return nil
}

// GetOrganization reads one organisation with the caller's partner id.
func (s *Organizations) GetOrganization(ctx context.Context, partnerID, orgID string) (organization.Organization, error) {
	return getItem(ctx, s.base, "dynamo.get_organization", orgPK(partnerID, orgID), skOrg, "organization not found", orgItem.organization)
}

// ListOrganizations pages through a partner's organisations.
func (s *Organizations) ListOrganizations(ctx context.Context, partnerID string, q listing.Query, f organization.Filter) (listing.Page[organization.Organization], error) {
	const op = "dynamo.list_organizations"
	pk := orgListPK(partnerID)
	var keep func(map[string]types.AttributeValue) bool
	if f.Type != "" || f.Name != "" {
		name := strings.ToLower(f.Name)
		keep = func(it map[string]types.AttributeValue) bool {
			t, _ := it["type"].(*types.AttributeValueMemberS)
			n, _ := it["name_lower"].(*types.AttributeValueMemberS)
			return (f.Type == "" || (t != nil && t.Value == f.Type)) && (name == "" || (n != nil && strings.Contains(n.Value, name)))
		}
	}
	return listGSI1(ctx, s.base, op, pk, q, keep, true, orgItem.organization)
}

// checkOrganization adds the check that makes a write under an
// organisation fail unless that organisation is the partner's.
func (t *txn) checkOrganization(name, partnerID, orgID string) {
	t.ConditionCheck(name, key(orgPK(partnerID, orgID), skOrg), ifExists)
}

// OrganizationExists reads only the key of the organisation: NotFound unless
// it is the partner's.
func (s *Organizations) OrganizationExists(ctx context.Context, partnerID, orgID string) error {
	return s.organizationExists(ctx, partnerID, orgID)
}

// organizationExists is OrganizationExists for every repository that must
// tell "absent" from "not the partner's organisation".
func (s *base) organizationExists(ctx context.Context, partnerID, orgID string) error {
	const op = "dynamo.organization_exists"
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(s.table), Key: key(orgPK(partnerID, orgID), skOrg),
		ProjectionExpression: aws.String("PK")})
	if err != nil {
		return transient(op, err)
	}
	if out.Item == nil {
		return apperr.OrganizationNotFound(op)
	}
	return nil
}

// UpdateOrganization replaces the organisation on condition that nobody
// changed it since it was read (version), with its event.
func (s *Organizations) UpdateOrganization(ctx context.Context, org organization.Organization, ev event.Event) error {
	const op = "dynamo.update_organization"
	tx := s.tx()
	tx.Put("organization", toOrgItem(org), cond{expr: "version = :prev", values: map[string]types.AttributeValue{":prev": num(org.Version - 1)}})
	tx.Events(ev)
	err := tx.Run(ctx)
	if tx.Failed(err, "organization") {
		return apperr.E(op, apperr.Conflict, "the organization was changed by another request; read it again and retry")
	}
	if err != nil {
		return transient(op, err)
	}
	return nil
}
