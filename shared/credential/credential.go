// Package credential holds partners and the API clients that act for them or
// for one of their organisations, and turns client credentials into access
// tokens. Secrets are kept only as hashes and shown once, at creation.
package credential

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"log/slog"
	"net/netip"
	"regexp"
	"time"
	"unicode/utf8"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/ratelimit"
)

// Client statuses.
const (
	StatusActive  = "active"
	StatusRevoked = "revoked"
)

// Partner is an integrator, created by an operator.
type Partner struct {
	ID        string
	Name      string
	CreatedAt time.Time
}

// Client is an API client: partner-scoped (OrgID empty) or organisation-scoped
// with a role from seed 003's matrix.
type Client struct {
	ID           string
	PartnerID    string
	OrgID        string
	Scope        auth.Scope
	Role         auth.Role
	PortfolioIDs []string
	Name         string
	SecretHash   string
	Status       string
	CreatedAt    time.Time
	RevokedAt    *time.Time
}

// Store persists partners and clients.
type Store interface {
	GetClient(ctx context.Context, clientID string) (Client, error)
	// PutPartner creates or updates a partner and its partner-scoped client;
	// with revokeTokens set, the tokens issued up to then are revoked in the
	// same write.
	PutPartner(ctx context.Context, p Partner, c Client, revokeTokens *time.Time) error
	// CreateClient stores an organisation client with its event; NotFound when
	// the organisation is not the partner's.
	CreateClient(ctx context.Context, c Client, ev event.Event) error
	ListClients(ctx context.Context, partnerID, orgID string, q listing.Query) (listing.Page[Client], error)
	// OrganizationExists is NotFound unless the organisation is the partner's.
	OrganizationExists(ctx context.Context, partnerID, orgID string) error
	// RevokeClient marks the client revoked, records the revocation for token
	// checks and writes the event, in one transaction. It returns the client as
	// it is after the call; revoking a revoked client changes nothing.
	RevokeClient(ctx context.Context, partnerID, orgID, clientID string, at time.Time, newEvent func(Client) (event.Event, error)) (Client, error)
	TokenCounters
}

// Service runs the credential use cases.
type Service struct {
	Store  Store
	Issuer *auth.Issuer
	Now    func() time.Time
	NewID  func(prefix string) string
	// Limits bound failed token requests; LimitNow is their clock (time.Now
	// if nil: they measure real time, whatever the business clock says).
	Limits   TokenLimits
	LimitNow func() time.Time
	// Log receives one line per failed or refused token request (never the
	// secret); slog.Default() if nil.
	Log *slog.Logger
}

// TokenLimits bound failed token requests — a wrong secret, an unknown or a
// revoked client — in fixed windows counted in the store, so that every
// container sees the same counts: brute force spread over containers is
// still counted once. When a window's quota is used up, every token request
// for that client id (or from that address) is refused (rate_limited) until
// the window ends, the right secret included: a lockout that still checked
// secrets would tell an attacker when a guess is right. A zero policy means
// no limit.
type TokenLimits struct {
	PerClient ratelimit.Policy // failed attempts naming one client_id, from any address
	PerIP     ratelimit.Policy // failed attempts from one source address (IPv6: its /64), whatever the client_id
}

// TokenCounters is the part of the store the token endpoint's limits use.
type TokenCounters interface {
	// GetClientWithCounters reads a client and the counters' current values
	// (0 for a counter never written) in one call. The client is NotFound,
	// the counters still read, when it does not exist.
	GetClientWithCounters(ctx context.Context, clientID string, counters ...ratelimit.Counter) (Client, []int, error)
	// AddToCounters adds one to each counter and returns the new values.
	AddToCounters(ctx context.Context, counters ...ratelimit.Counter) ([]int, error)
}

// TokenResponse is the token endpoint's answer (RFC 6749 §5.1, seed 000).
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
	// Principal is who the token was issued to (never sent): the edge
	// names it in the request's log line and API call.
	Principal auth.Principal `json:"-"`
}

// dummyHash is compared against when the client does not exist, so that the
// time taken does not reveal which client ids exist.
var dummyHash = auth.HashSecret("modupay-no-such-client")

// Token exchanges client credentials, sent from the address sourceIP, for
// an access token. It costs one read (the client and the failed-attempt
// counters together) when it succeeds or is refused by the limits, and that
// read plus one counter update per limit when the credentials are wrong.
func (s *Service) Token(ctx context.Context, req auth.TokenRequest, sourceIP string) (TokenResponse, error) {
	const op = "credential.token"
	c, err := s.Authenticate(ctx, req.ClientID, req.ClientSecret, sourceIP)
	if err != nil {
		return TokenResponse{}, err
	}
	scope := auth.Scope(req.Scope)
	if scope == "" {
		scope = c.Scope
	}
	if scope != c.Scope {
		return TokenResponse{}, &auth.OAuthError{Code: auth.CodeInvalidScope,
			Description: "this client may only request the scope \"" + string(c.Scope) + "\""}
	}
	p := PrincipalOf(c)
	tok, exp, err := s.Issuer.Issue(p)
	if err != nil {
		return TokenResponse{}, apperr.Wrap(op, err)
	}
	return TokenResponse{AccessToken: tok, TokenType: "Bearer", ExpiresIn: exp, Scope: string(c.Scope), Principal: p}, nil
}

// PrincipalOf is who an authenticated client acts as.
func PrincipalOf(c Client) auth.Principal {
	return auth.Principal{ClientID: c.ID, PartnerID: c.PartnerID, OrgID: c.OrgID, Scope: c.Scope, Role: c.Role, PortfolioLimited: len(c.PortfolioIDs) > 0}
}

// Authenticate checks client credentials sent from the address sourceIP,
// under the failed-attempt limits: the token endpoint and the dashboard's
// sign-in both call it, so guesses made at either count against the same
// windows. It returns the active client, or an *auth.OAuthError:
// invalid_client (a wrong secret, an unknown or a revoked client, answered
// and counted alike) or rate_limited (a quota used up; the right secret
// too is refused until the window ends).
func (s *Service) Authenticate(ctx context.Context, clientID, secret, sourceIP string) (Client, error) {
	const op = "credential.authenticate"
	now := s.limitNow() // one instant for the whole request: the windows read are the windows counted
	limits := s.tokenLimits(clientID, sourceIP, now)
	counters := make([]ratelimit.Counter, len(limits))
	for i, l := range limits {
		counters[i] = l.counter
	}
	c, counts, err := s.Store.GetClientWithCounters(ctx, clientID, counters...)
	if err != nil && apperr.CodeOf(err) != apperr.NotFound {
		return Client{}, apperr.Wrap(op, err)
	}
	if statuses, refused := statusesOf(limits, counts, now); refused {
		s.log().LogAttrs(ctx, slog.LevelWarn, "token request refused: too many failed attempts",
			append(limitAttrs(clientID, sourceIP, limits, counts), slog.String("retry_after_s", ratelimit.RetryAfter(statuses...)))...)
		return Client{}, &auth.OAuthError{Code: auth.CodeRateLimited, RateLimits: statuses,
			Description: "too many failed authentication attempts for this client or from this address; retry after the number of seconds in Retry-After"}
	}
	found := err == nil
	if !found {
		auth.SecretMatches(dummyHash, secret)
	}
	if !found || !auth.SecretMatches(c.SecretHash, secret) || c.Status != StatusActive {
		return Client{}, s.failed(ctx, clientID, sourceIP, limits, counts, now)
	}
	return c, nil
}

// failed counts a failed authentication and answers invalid_client. The
// answer and the counting are the same for an unknown, a revoked and an
// existing client, so neither tells which client ids exist. If counting
// fails the client still gets its invalid_client: a lost count is logged,
// and the stage throttle bounds what an outage of the counters could let
// through.
func (s *Service) failed(ctx context.Context, clientID, sourceIP string, limits []tokenLimit, before []int, now time.Time) error {
	invalid := &auth.OAuthError{Code: auth.CodeInvalidClient, Description: "client authentication failed"}
	if len(limits) == 0 {
		s.log().LogAttrs(ctx, slog.LevelWarn, "failed client authentication",
			slog.String("client_id", clientID), slog.String("source_ip", sourceIP))
		return invalid
	}
	counters := make([]ratelimit.Counter, len(limits))
	for i, l := range limits {
		counters[i] = l.counter
	}
	counts, err := s.Store.AddToCounters(ctx, counters...)
	if err != nil {
		s.log().LogAttrs(ctx, slog.LevelError, "failed client authentication not counted",
			slog.String("client_id", clientID), slog.String("source_ip", sourceIP), slog.String("error", err.Error()))
		counts = make([]int, len(limits))
		for i := range counts {
			counts[i] = before[i] + 1
		}
	}
	s.log().LogAttrs(ctx, slog.LevelWarn, "failed client authentication", limitAttrs(clientID, sourceIP, limits, counts)...)
	invalid.RateLimits, _ = statusesOf(limits, counts, now)
	return invalid
}

// tokenLimit is one enabled limit applied to one request.
type tokenLimit struct {
	name    string // for the log: "client_failures", "ip_failures"
	policy  ratelimit.Policy
	counter ratelimit.Counter
}

func (s *Service) tokenLimits(clientID, sourceIP string, now time.Time) []tokenLimit {
	var out []tokenLimit
	if p := s.Limits.PerClient; p.Enabled() {
		out = append(out, tokenLimit{"client_failures", p, p.Counter("TOKEN#CLIENT#"+clientID, now)})
	}
	if p, ip := s.Limits.PerIP, ipKey(sourceIP); p.Enabled() && ip != "" {
		out = append(out, tokenLimit{"ip_failures", p, p.Counter("TOKEN#IP#"+ip, now)})
	}
	return out
}

// ipKey is the address a per-IP limit counts under: an IPv4 address as is,
// an IPv6 address by its /64 (one subscriber's allocation, which an attacker
// can walk through at will). "" when the address is absent or unreadable
// (a direct invocation): no per-IP limit then.
func ipKey(sourceIP string) string {
	a, err := netip.ParseAddr(sourceIP)
	if err != nil {
		return ""
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ""
	}
	return p.String()
}

func statusesOf(limits []tokenLimit, counts []int, now time.Time) ([]ratelimit.Status, bool) {
	statuses := make([]ratelimit.Status, len(limits))
	refused := false
	for i, l := range limits {
		statuses[i] = l.policy.StatusAt(counts[i], now)
		refused = refused || statuses[i].Exceeded()
	}
	return statuses, refused
}

// limitAttrs are a failed attempt's log attributes: who, from where, and
// the counts. The secret is never among them.
func limitAttrs(clientID, sourceIP string, limits []tokenLimit, counts []int) []slog.Attr {
	attrs := []slog.Attr{slog.String("client_id", clientID), slog.String("source_ip", sourceIP)}
	for i, l := range limits {
		attrs = append(attrs, slog.Int(l.name, counts[i]), slog.Int(l.name+"_quota", l.policy.Quota))
	}
	return attrs
}

func (s *Service) limitNow() time.Time {
	if s.LimitNow != nil {
		return s.LimitNow()
	}
	return time.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// CreateInput is the body of POST /v1/organizations/{org_id}/api_clients.
type CreateInput struct {
	Role         string   `json:"role"`
	Name         string   `json:"name"`
	PortfolioIDs []string `json:"portfolio_ids"`
}

var portfolioID = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,64}$`)

// Validate checks a client creation request.
func (in CreateInput) Validate() error {
	const op = "credential.validate"
	if !auth.Role(in.Role).Valid() {
		return apperr.Field(op, "role", "role must be one of admin, finance_manager, portfolio_manager, analyst")
	}
	if utf8.RuneCountInString(in.Name) > 100 {
		return apperr.Field(op, "name", "name is longer than 100 characters")
	}
	if len(in.PortfolioIDs) > 0 && auth.Role(in.Role) != auth.RolePortfolioManager {
		return apperr.Field(op, "portfolio_ids", "portfolio_ids can only limit a portfolio_manager")
	}
	if len(in.PortfolioIDs) > 100 {
		return apperr.Field(op, "portfolio_ids", "at most 100 portfolio ids")
	}
	for _, id := range in.PortfolioIDs {
		if !portfolioID.MatchString(id) {
			return apperr.Field(op, "portfolio_ids", "each portfolio id must be 1 to 64 letters, digits or _.:-")
		}
	}
	return nil
}

// Created is a new client with its secret, which is never available again.
type Created struct {
	Client Client
	Secret string
}

// CreateClient creates an organisation-scoped client.
func (s *Service) CreateClient(ctx context.Context, partnerID, orgID string, actor event.Actor, in CreateInput) (Created, error) {
	const op = "credential.create_client"
	if err := in.Validate(); err != nil {
		return Created{}, err
	}
	secret, err := auth.NewClientSecret()
	if err != nil {
		return Created{}, apperr.Wrap(op, err)
	}
	now := s.Now().UTC()
	c := Client{
		ID: s.NewID("cli"), PartnerID: partnerID, OrgID: orgID, Scope: auth.ScopeOrganization,
		Role: auth.Role(in.Role), PortfolioIDs: in.PortfolioIDs, Name: in.Name,
		SecretHash: auth.HashSecret(secret), Status: StatusActive, CreatedAt: now,
	}
	ev, err := event.New(s.NewID("evt"), "api_client.created", now, partnerID, orgID, actor,
		map[string]any{"api_client": Public(c)},
		event.Change{ResourceType: "api_client", ResourceID: c.ID, Action: "created", Before: event.Snapshot(nil), After: event.Snapshot(Public(c))})
	if err != nil {
		return Created{}, apperr.Wrap(op, err)
	}
	if err := s.Store.CreateClient(ctx, c, ev); err != nil {
		return Created{}, apperr.Wrap(op, err)
	}
	return Created{Client: c, Secret: secret}, nil
}

// List pages through an organisation's clients.
func (s *Service) List(ctx context.Context, partnerID, orgID string, q listing.Query) (listing.Page[Client], error) {
	const op = "credential.list_clients"
	p, err := s.Store.ListClients(ctx, partnerID, orgID, q)
	p, err = listing.OfOrganization(ctx, p, err, q, s.Store, partnerID, orgID)
	return p, apperr.Wrap(op, err)
}

// Revoke revokes an organisation client: its new token requests fail at once
// and its existing tokens within the revocation cache's refresh bound.
func (s *Service) Revoke(ctx context.Context, partnerID, orgID, clientID string, actor event.Actor) (Client, error) {
	const op = "credential.revoke"
	now := s.Now().UTC()
	c, err := s.Store.RevokeClient(ctx, partnerID, orgID, clientID, now, func(before Client) (event.Event, error) {
		after := before
		after.Status, after.RevokedAt = StatusRevoked, &now
		return event.New(s.NewID("evt"), "api_client.revoked", now, partnerID, orgID, actor,
			map[string]any{"api_client": Public(after)},
			event.Change{ResourceType: "api_client", ResourceID: clientID, Action: "revoked",
				Before: event.Snapshot(map[string]string{"status": before.Status}), After: event.Snapshot(map[string]string{"status": StatusRevoked})})
	})
	return c, apperr.Wrap(op, err)
}

// EnsurePartner creates or updates a partner and its partner client (operator use).
// Changing the secret of an existing client revokes the tokens issued with
// the old one: they stop within the revocation cache's refresh bound (30 s),
// while tokens requested with the new secret work at once. A rotated secret
// is presumed leaked; a token got with it must not outlive it by an hour.
func (s *Service) EnsurePartner(ctx context.Context, partnerID, name, clientID, secret string) error {
	const op = "credential.ensure_partner"
	if partnerID == "" || clientID == "" || len(secret) < 16 {
		return apperr.E(op, apperr.Invalid, "partner id and client id are required and the secret must be at least 16 characters")
	}
	now := s.Now().UTC()
	c := Client{ID: clientID, PartnerID: partnerID, Scope: auth.ScopePartner, Name: name,
		SecretHash: auth.HashSecret(secret), Status: StatusActive, CreatedAt: now}
	var revoke *time.Time
	old, err := s.Store.GetClient(ctx, clientID)
	switch {
	case err == nil && !auth.SecretMatches(old.SecretHash, secret):
		revoke = &now
	case err != nil && apperr.CodeOf(err) != apperr.NotFound:
		return apperr.Wrap(op, err)
	}
	return apperr.Wrap(op, s.Store.PutPartner(ctx, Partner{ID: partnerID, Name: name, CreatedAt: now}, c, revoke))
}

// Active reads a client again and says whether it still acts as it did when
// it signed in: active, with the secret whose tag it was given then (see
// SecretTag). A revoked client, a replaced secret and a client that no
// longer exists are all Unauthenticated. One GetItem.
func (s *Service) Active(ctx context.Context, clientID, secretTag string) (Client, error) {
	const op = "credential.active"
	c, err := s.Store.GetClient(ctx, clientID)
	switch {
	case apperr.CodeOf(err) == apperr.NotFound:
		return Client{}, apperr.E(op, apperr.Unauthenticated, "the client no longer exists")
	case err != nil:
		return Client{}, apperr.Wrap(op, err)
	case c.Status != StatusActive:
		return Client{}, apperr.E(op, apperr.Unauthenticated, "the client has been revoked")
	case subtle.ConstantTimeCompare([]byte(SecretTag(c)), []byte(secretTag)) != 1:
		return Client{}, apperr.E(op, apperr.Unauthenticated, "the client's secret has been replaced")
	}
	return c, nil
}

// SecretTag names the client's current secret without revealing anything
// of it (a digest of its stored hash): a session keeps it, and a secret
// replaced since (a partner's rotation) no longer matches.
func SecretTag(c Client) string {
	sum := sha256.Sum256([]byte("modupay secret tag\x00" + c.SecretHash))
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// PublicClient is a client as the API shows it: never the secret or its hash.
type PublicClient struct {
	ClientID       string     `json:"client_id"`
	Name           string     `json:"name,omitempty"`
	OrganizationID string     `json:"organization_id"`
	Role           string     `json:"role"`
	Scope          string     `json:"scope"`
	PortfolioIDs   []string   `json:"portfolio_ids"`
	Status         string     `json:"status"`
	CreatedAt      time.Time  `json:"created_at"`
	RevokedAt      *time.Time `json:"revoked_at"`
}

// Public renders a client for the API.
func Public(c Client) PublicClient {
	ids := c.PortfolioIDs
	if ids == nil {
		ids = []string{}
	}
	return PublicClient{ClientID: c.ID, Name: c.Name, OrganizationID: c.OrgID, Role: string(c.Role), Scope: string(c.Scope),
		PortfolioIDs: ids, Status: c.Status, CreatedAt: c.CreatedAt, RevokedAt: c.RevokedAt}
}
