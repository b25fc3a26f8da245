package dynamo

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/credential"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/listing"
)

// Credentials stores partners and their API clients (credential.Store,
// with RateLimits for the token counters).
type Credentials struct{ *base }

// A client is found by its id alone (the token endpoint knows nothing else):
// one GetItem. Organisation clients are also listed under their organisation
// in GSI1. Revocations are kept in one small partition the auth cache reads.
func clientPK(id string) string                   { return "CLIENT#" + id }
func orgClientsPK(partnerID, orgID string) string { return orgPK(partnerID, orgID) + "#CLIENTS" }
func partnerPK(id string) string                  { return "PARTNER#" + id }

const (
	skClient       = "CLIENT"
	skPartner      = "PARTNER"
	pkRevocations  = "REVOCATIONS"
	revocationKeep = time.Hour + 10*time.Minute // token lifetime plus leeway: older revocations concern only dead tokens
)

type clientItem struct {
	head
	ClientID     string     `json:"client_id"`
	PartnerID    string     `json:"partner_id"`
	OrgID        string     `json:"organization_id,omitempty"`
	Scope        string     `json:"scope"`
	Role         string     `json:"role,omitempty"`
	PortfolioIDs []string   `json:"portfolio_ids,omitempty"`
	Name         string     `json:"name,omitempty"`
	SecretHash   string     `json:"secret_hash"`
	Status       string     `json:"status"`
	CreatedAt    time.Time  `json:"created_at"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty"`
}

func toClientItem(c credential.Client) clientItem {
	it := clientItem{head: head{PK: clientPK(c.ID), SK: skClient, Kind: "client"}, ClientID: c.ID, PartnerID: c.PartnerID, OrgID: c.OrgID,
		Scope: string(c.Scope), Role: string(c.Role), PortfolioIDs: c.PortfolioIDs, Name: c.Name, SecretHash: c.SecretHash,
		Status: c.Status, CreatedAt: c.CreatedAt, RevokedAt: c.RevokedAt}
	if c.OrgID != "" {
		it.GSI1PK, it.GSI1SK = orgClientsPK(c.PartnerID, c.OrgID), c.ID
	}
	return it
}

func (it clientItem) client() credential.Client {
	return credential.Client{ID: it.ClientID, PartnerID: it.PartnerID, OrgID: it.OrgID, Scope: auth.Scope(it.Scope),
		Role: auth.Role(it.Role), PortfolioIDs: it.PortfolioIDs, Name: it.Name, SecretHash: it.SecretHash,
		Status: it.Status, CreatedAt: it.CreatedAt, RevokedAt: it.RevokedAt}
}

// GetClient is the token endpoint's single read.
func (s *Credentials) GetClient(ctx context.Context, clientID string) (credential.Client, error) {
	const op = "dynamo.get_client"
	if clientID == "" || len(clientID) > 200 {
		return credential.Client{}, apperr.E(op, apperr.NotFound, "client not found")
	}
	return getItem(ctx, s.base, op, clientPK(clientID), skClient, "client not found", clientItem.client)
}

// PutPartner upserts a partner and its partner client (operator command).
// With revokeTokens set (the client's secret changed), the same transaction
// records a revocation of the tokens issued up to that time, which every
// function's auth cache reads: tokens got with the old secret stop within
// RevocationRefresh, tokens got with the new one keep working.
func (s *Credentials) PutPartner(ctx context.Context, p credential.Partner, c credential.Client, revokeTokens *time.Time) error {
	const op = "dynamo.put_partner"
	tx := s.tx()
	tx.Put("partner", struct {
		head
		PartnerID string    `json:"partner_id"`
		Name      string    `json:"name"`
		CreatedAt time.Time `json:"created_at"`
	}{head{PK: partnerPK(p.ID), SK: skPartner, Kind: "partner"}, p.ID, p.Name, p.CreatedAt}, cond{})
	// A client id already used by another partner must not be taken over.
	tx.Put("client", toClientItem(c), cond{expr: "attribute_not_exists(PK) OR (partner_id = :p AND #scope = :partner)",
		names:  map[string]string{"#scope": "scope"},
		values: map[string]types.AttributeValue{":p": str(p.ID), ":partner": str(string(auth.ScopePartner))}})
	if revokeTokens != nil {
		at := revokeTokens.UTC()
		tx.Put("revocation", revocationItem{head: head{PK: pkRevocations, SK: at.Format(sortableTime) + "#" + c.ID, TTL: at.Add(revocationKeep).Unix()},
			ClientID: c.ID, RevokedAt: at, IssuedUpTo: true}, cond{})
	}
	err := tx.Run(ctx)
	if tx.Failed(err, "client") {
		return apperr.E(op, apperr.Conflict, "client id "+c.ID+" belongs to another partner or organization")
	}
	if err != nil {
		return transient(op, err)
	}
	return nil
}

// CreateClient writes an organisation client, on condition that the
// organisation is the partner's, with its event.
func (s *Credentials) CreateClient(ctx context.Context, c credential.Client, ev event.Event) error {
	const op = "dynamo.create_client"
	tx := s.tx()
	tx.checkOrganization("organization", c.PartnerID, c.OrgID)
	tx.Put("client", toClientItem(c), ifNew)
	tx.Events(ev)
	err := tx.Run(ctx)
	switch {
	case tx.Failed(err, "organization"):
		return apperr.OrganizationNotFound(op)
	case tx.Failed(err, "client"):
		return apperr.E(op, apperr.Conflict, "client id already exists")
	case err != nil:
		return transient(op, err)
	}
	return nil
}

// ListClients pages through an organisation's clients.
func (s *Credentials) ListClients(ctx context.Context, partnerID, orgID string, q listing.Query) (listing.Page[credential.Client], error) {
	const op = "dynamo.list_clients"
	return listGSI1(ctx, s.base, op, orgClientsPK(partnerID, orgID), q, nil, true, clientItem.client)
}

// RevokeClient revokes an organisation client in one transaction: the client's
// status (conditional on it being this organisation's and active), the
// revocation marker read by every function's auth cache, and the event.
func (s *Credentials) RevokeClient(ctx context.Context, partnerID, orgID, clientID string, at time.Time, newEvent func(credential.Client) (event.Event, error)) (credential.Client, error) {
	const op = "dynamo.revoke_client"
	current, err := s.GetClient(ctx, clientID)
	if err != nil && apperr.CodeOf(err) != apperr.NotFound {
		return credential.Client{}, err
	}
	// Absent, or not this organisation's: one answer, so ids reveal nothing.
	if err != nil || current.PartnerID != partnerID || current.OrgID != orgID {
		return credential.Client{}, apperr.E(op, apperr.NotFound, "api client not found")
	}
	if current.Status == credential.StatusRevoked {
		return current, nil
	}
	ev, err := newEvent(current)
	if err != nil {
		return credential.Client{}, apperr.Wrap(op, err)
	}
	tx := s.tx()
	tx.Update("client", key(clientPK(clientID), skClient), "SET #status = :revoked, revoked_at = :at",
		cond{expr: "partner_id = :p AND organization_id = :o AND #status = :active", names: map[string]string{"#status": "status"},
			values: map[string]types.AttributeValue{":revoked": str(credential.StatusRevoked), ":active": str(credential.StatusActive), ":at": str(at.UTC().Format(time.RFC3339Nano)), ":p": str(partnerID), ":o": str(orgID)}})
	tx.Put("revocation", revocationItem{head: head{PK: pkRevocations, SK: at.UTC().Format(sortableTime) + "#" + clientID, TTL: at.Add(revocationKeep).Unix()},
		ClientID: clientID, RevokedAt: at.UTC()}, cond{})
	tx.Events(ev)
	err = tx.Run(ctx)
	if tx.Failed(err, "client") {
		// Revoked concurrently: the state the caller wanted holds.
		return s.GetClient(ctx, clientID)
	}
	if err != nil {
		return credential.Client{}, transient(op, err)
	}
	current.Status, current.RevokedAt = credential.StatusRevoked, &at
	return current, nil
}

type revocationItem struct {
	head
	ClientID  string    `json:"client_id"`
	RevokedAt time.Time `json:"revoked_at"`
	// IssuedUpTo limits the revocation to the tokens issued up to RevokedAt
	// (a secret rotation); absent, every token of the client is revoked.
	IssuedUpTo bool `json:"issued_up_to,omitempty"`
}
