package dynamo

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/branding"
	"github.com/modupay/modupay/shared/event"
)

// A branding sits beside what it brands: the partner item's partition, or
// the organisation's, under SK BRANDING.
const skBranding = "BRANDING"

// Brandings stores partners' and organisations' white labels (branding.Store).
type Brandings struct{ *base }

func brandingPK(partnerID, orgID string) string {
	if orgID == "" {
		return partnerPK(partnerID)
	}
	return orgPK(partnerID, orgID)
}

type brandingItem struct {
	head
	branding.Branding
}

// PutBranding replaces a branding, with its event; for an organisation, on
// condition that it is the partner's.
func (s *Brandings) PutBranding(ctx context.Context, partnerID, orgID string, b branding.Branding, ev event.Event) error {
	const op = "dynamo.put_branding"
	tx := s.tx()
	if orgID != "" {
		tx.checkOrganization("organization", partnerID, orgID)
	}
	tx.Put("branding", brandingItem{head: head{PK: brandingPK(partnerID, orgID), SK: skBranding, Kind: "branding"}, Branding: b}, cond{})
	tx.Events(ev)
	err := tx.Run(ctx)
	if tx.Failed(err, "organization") {
		return apperr.OrganizationNotFound(op)
	}
	if err != nil {
		return transient(op, err)
	}
	return nil
}

// GetBranding reads a branding; none set is the zero Branding.
func (s *Brandings) GetBranding(ctx context.Context, partnerID, orgID string) (branding.Branding, error) {
	b, err := getItem(ctx, s.base, "dynamo.get_branding", brandingPK(partnerID, orgID), skBranding, "no branding", func(it brandingItem) branding.Branding { return it.Branding })
	if apperr.CodeOf(err) == apperr.NotFound {
		if orgID != "" {
			// Distinguish "no branding" from "not the partner's organisation".
			if err := s.organizationExists(ctx, partnerID, orgID); err != nil {
				return branding.Branding{}, err
			}
		}
		return branding.Branding{}, nil
	}
	return b, err
}

// Brandings reads the partner's branding and the organisation's (either
// may be unset: the zero Branding) in one BatchGetItem.
func (s *Brandings) Brandings(ctx context.Context, partnerID, orgID string) (partner, org branding.Branding, err error) {
	const op = "dynamo.brandings"
	partnerKey := brandingPK(partnerID, "")
	in := &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{s.table: {
		Keys: []map[string]types.AttributeValue{key(partnerKey, skBranding), key(brandingPK(partnerID, orgID), skBranding)}}}}
	for len(in.RequestItems) > 0 {
		out, err := s.db.BatchGetItem(ctx, in)
		if err != nil {
			return partner, org, transient(op, err)
		}
		for _, raw := range out.Responses[s.table] {
			var it brandingItem
			if err := unmarshal(raw, &it); err != nil {
				return partner, org, apperr.Wrap(op, err)
			}
			if it.PK == partnerKey {
				partner = it.Branding
			} else {
				org = it.Branding
			}
		}
		in.RequestItems = out.UnprocessedKeys
	}
	return partner, org, nil
}
