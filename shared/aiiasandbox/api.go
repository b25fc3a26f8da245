package aiiasandbox

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/modupay/modupay/shared/aiia"
	"github.com/modupay/modupay/shared/identifier"
)

type token struct {
	ClientID   string    `json:"clientId"`
	Expires    time.Time `json:"expires"`
	Generation int       `json:"generation"`
}

// generation counts ExpireTokens calls; a token of an older one is dead.
type generation struct {
	N int `json:"n"`
}

const metaTokens = "tokens"

func (s *Server) tokenGeneration(ctx context.Context) (int, error) {
	var g generation
	_, err := s.store.Get(ctx, kindMeta, metaTokens, &g)
	return g.N, err
}

// token is POST /oauth2/token: client_credentials in a JSON body (a
// form-encoded one is refused, as Aiia reportedly does). A sandbox with a
// registered certificate takes only a private_key_jwt assertion, verified
// as the provider would (verifyAssertion), and refuses a client secret;
// one without takes client_id + client_secret, in the body or by HTTP
// Basic.
func (s *Server) token(r *http.Request, body []byte) response {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return errResp(http.StatusBadRequest, "FORMAT_ERROR", "Unsupported content type", "[application/json]")
	}
	var in struct {
		GrantType           string `json:"grant_type"`
		ClientID            string `json:"client_id"`
		ClientSecret        string `json:"client_secret"`
		ClientAssertionType string `json:"client_assertion_type"`
		ClientAssertion     string `json:"client_assertion"`
		Scope               any    `json:"scope"` // a string or an array in public clients
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return errResp(http.StatusBadRequest, "FORMAT_ERROR", "The body is not valid JSON", err.Error())
	}
	if in.GrantType != "client_credentials" {
		return invalid("grant_type", "only client_credentials is supported")
	}
	id, secret := in.ClientID, in.ClientSecret
	_, _, basic := r.BasicAuth()
	if basic {
		id, secret, _ = r.BasicAuth()
	}
	if s.cert != nil {
		switch {
		case secret != "" || basic:
			return errResp(http.StatusUnauthorized, "UNAUTHORIZED", "Invalid client credentials",
				"this client authenticates with private_key_jwt: send client_assertion, not a client secret")
		case in.ClientAssertionType != aiia.AssertionType || in.ClientAssertion == "":
			return errResp(http.StatusUnauthorized, "UNAUTHORIZED", "Invalid client credentials",
				"client_assertion_type "+aiia.AssertionType+" and a client_assertion are required")
		}
		if why := s.verifyAssertion(r, in.ClientAssertion); why != "" {
			return errResp(http.StatusUnauthorized, "UNAUTHORIZED", "Invalid client assertion", why)
		}
		id = s.opts.ClientID
	} else if id != s.opts.ClientID || secret != s.opts.ClientSecret || secret == "" {
		return errResp(http.StatusUnauthorized, "UNAUTHORIZED", "Invalid client credentials", "")
	}
	var b [24]byte
	rand.Read(b[:])
	tok := "sbx_" + hex.EncodeToString(b[:])
	gen, err := s.tokenGeneration(r.Context())
	if err != nil {
		return storeFailed(err)
	}
	now := s.opts.Now()
	t := token{ClientID: id, Expires: now.Add(s.opts.TokenTTL), Generation: gen}
	if err := s.store.Create(r.Context(), kindToken, tok, t, now, keepFor(s.opts.TokenTTL)); err != nil {
		return storeFailed(err)
	}
	return jsonResp(http.StatusOK, map[string]any{
		"access_token": tok,
		"token_type":   "Bearer",
		"expires_in":   int64(s.opts.TokenTTL / time.Second),
	})
}

// Assertions' limits: the clocks may differ by assertionLeeway, and an
// assertion may live at most maxAssertionLife (the client's is 5 minutes).
const (
	assertionLeeway  = 30 * time.Second
	maxAssertionLife = 10 * time.Minute
)

// verifyAssertion checks a client assertion as the provider does and says
// why it is refused ("" when it is not): RS256 only, signed by the key of
// the registered certificate (kid its thumbprint), iss and sub the client
// id, aud the token URL (or Options.Audience), exp in the future and iat
// not (within assertionLeeway), a lifetime of at most maxAssertionLife,
// and a jti never seen before (a replayed assertion is refused).
func (s *Server) verifyAssertion(r *http.Request, assertion string) string {
	// The token URL, as the sandbox publishes it or as this request
	// reached it (a test calling the server directly).
	aud := []string{s.opts.Audience}
	if s.opts.Audience == "" {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		aud = []string{s.baseURL(r) + "/oauth2/token", scheme + "://" + r.Host + s.basePath() + "/oauth2/token", scheme + "://" + r.Host + r.URL.Path}
	}
	var c jwt.RegisteredClaims
	p := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithLeeway(assertionLeeway), jwt.WithIssuedAt(),
		jwt.WithExpirationRequired(), jwt.WithAudience(aud...), jwt.WithIssuer(s.opts.ClientID), jwt.WithSubject(s.opts.ClientID),
		jwt.WithTimeFunc(s.opts.Now))
	if _, err := p.ParseWithClaims(assertion, &c, func(t *jwt.Token) (any, error) {
		if kid, _ := t.Header["kid"].(string); kid != s.kid {
			return nil, errors.New("kid names no registered certificate")
		}
		return s.cert.PublicKey, nil
	}); err != nil {
		return err.Error()
	}
	switch {
	case c.IssuedAt == nil:
		return "iat is required"
	case c.ExpiresAt.Sub(c.IssuedAt.Time) > maxAssertionLife:
		return "the assertion lives longer than " + maxAssertionLife.String()
	case c.ID == "":
		return "jti is required"
	}
	err := s.store.Create(r.Context(), kindAssertion, c.ID, struct{}{}, s.opts.Now(), keepFor(maxAssertionLife+assertionLeeway))
	if errors.Is(err, ErrExists) {
		return "this assertion (its jti) was used before"
	}
	if err != nil {
		return "the assertion could not be recorded: " + err.Error()
	}
	return ""
}

func (s *Server) authenticate(r *http.Request) (string, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return "", false
	}
	var t token
	found, err := s.store.Get(r.Context(), kindToken, tok, &t)
	if err != nil || !found || !s.opts.Now().Before(t.Expires) {
		return "", false
	}
	if gen, err := s.tokenGeneration(r.Context()); err != nil || gen != t.Generation {
		return "", false
	}
	return t.ClientID, true
}

func (s *Server) expireTokensRoute(w http.ResponseWriter, r *http.Request) {
	if err := s.ExpireTokens(); err != nil {
		s.write(w, storeFailed(err), nil)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// storeFailed is the answer when the Store cannot be read or written: a
// recoverable 500, as the real service's own outages.
func storeFailed(err error) response {
	return errResp(http.StatusInternalServerError, "INTERNAL_ERROR", "The sandbox bank could not reach its storage", err.Error())
}

// decodeStrict decodes a JSON object refusing unknown fields (the spec's
// additionalProperties: false).
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

func badBody(err error) response {
	return errResp(http.StatusBadRequest, "INVALID_INPUT", "The request body is not valid", err.Error())
}

type destination struct {
	ID, Name, IBAN, BIC string
	Created             time.Time
}

// getRecord reads one record for an API answer: the record, or the
// answer to give instead (404 naming what, or a storage failure).
func getRecord[T any](s *Server, r *http.Request, kind, id, what string) (*T, *response) {
	var v T
	found, err := s.store.Get(r.Context(), kind, id, &v)
	if err != nil {
		resp := storeFailed(err)
		return nil, &resp
	}
	if !found {
		resp := notFoundResp(what)
		return nil, &resp
	}
	return &v, nil
}

var (
	ibanRE = regexp.MustCompile(`^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$`)
	bicRE  = regexp.MustCompile(`^[A-Z0-9]{8}([A-Z0-9]{3})?$`)
)

func (s *Server) createDestination(r *http.Request, body []byte) response {
	var in struct {
		Name string `json:"name"`
		IBAN string `json:"iban"`
		BIC  string `json:"bic"`
	}
	if err := decodeStrict(body, &in); err != nil {
		return badBody(err)
	}
	iban := strings.ToUpper(strings.Join(strings.Fields(in.IBAN), ""))
	switch {
	case strings.TrimSpace(in.Name) == "":
		return invalid("Name", "The Name field is required.")
	case !ibanRE.MatchString(iban):
		return invalid("Iban", "The Iban field is not a valid IBAN.")
	case in.BIC != "" && !bicRE.MatchString(in.BIC):
		return invalid("Bic", "The Bic field is not a valid BIC.")
	}
	d := &destination{ID: uuid.NewString(), Name: strings.TrimSpace(in.Name), IBAN: iban, BIC: in.BIC, Created: s.opts.Now().UTC()}
	if err := s.store.Create(r.Context(), kindDestination, d.ID, d, d.Created, time.Time{}); err != nil {
		return storeFailed(err)
	}
	return jsonResp(http.StatusOK, map[string]string{"destinationId": d.ID})
}

func (s *Server) getDestination(r *http.Request, _ []byte) response {
	d, fail := getRecord[destination](s, r, kindDestination, r.PathValue("id"), "Destination")
	if fail != nil {
		return *fail
	}
	return jsonResp(http.StatusOK, map[string]any{
		"destinationId": d.ID, "name": d.Name, "iban": d.IBAN, "bic": d.BIC, "createdDate": stamp(d.Created),
	})
}

var (
	referenceRE = regexp.MustCompile(`^[A-Za-z0-9 ]{0,22}$`)
	languageRE  = regexp.MustCompile(`^[a-z]{2}(-[A-Z]{2})?$`)
)

type endUserIn struct {
	ID          string `json:"id,omitempty"`
	FullName    string `json:"fullName,omitempty"`
	Email       string `json:"email,omitempty"`
	Phone       string `json:"phone,omitempty"`
	DateOfBirth string `json:"dateOfBirth,omitempty"`
	Address     *struct {
		AddressLines       []string `json:"addressLines,omitempty"`
		Street             string   `json:"street,omitempty"`
		BuildingNumber     string   `json:"buildingNumber,omitempty"`
		PostalCode         string   `json:"postalCode,omitempty"`
		City               string   `json:"city,omitempty"`
		CountrySubDivision string   `json:"countrySubDivision,omitempty"`
		Country            string   `json:"country,omitempty"`
	} `json:"address,omitempty"`
}

// createPayment is POST /payments for the FrenchSepaCreditTransfer rail,
// with the rail's rules (the spec's CreateAcceptPaymentFrenchSepaCreditTransferInput).
// redirectAllowed says whether a payment may send its payer back to url:
// under one of the client's registered prefixes (all, when none is set).
func (s *Server) redirectAllowed(url string) bool {
	if len(s.opts.RedirectPrefixes) == 0 {
		return true
	}
	for _, p := range s.opts.RedirectPrefixes {
		if strings.HasPrefix(url, p) {
			return true
		}
	}
	return false
}

func (s *Server) createPayment(r *http.Request, body []byte) response {
	var in struct {
		PaymentRail             string      `json:"paymentRail"`
		DestinationID           string      `json:"destinationId"`
		RedirectURL             string      `json:"redirectUrl"`
		ClientAssignedReference string      `json:"clientAssignedReference"`
		Language                string      `json:"language"`
		ThemeID                 string      `json:"themeId"`
		Amount                  json.Number `json:"amount"`
		Currency                string      `json:"currency"`
		Reference               *string     `json:"reference"`
		Date                    string      `json:"date"`
		EndToEndID              string      `json:"endToEndId"`
		ProviderID              string      `json:"providerId"`
		RememberPayer           bool        `json:"rememberPayer"`
		EndUser                 *endUserIn  `json:"endUser"`
	}
	if err := decodeStrict(body, &in); err != nil {
		return badBody(err)
	}
	switch {
	case in.PaymentRail == "":
		return invalid("PaymentRail", "The PaymentRail field is required.")
	case in.PaymentRail != "FrenchSepaCreditTransfer":
		return invalid("PaymentRail", "The sandbox supports the FrenchSepaCreditTransfer payment rail only.")
	case in.DestinationID == "":
		return invalid("DestinationId", "The DestinationId field is required.")
	case in.RedirectURL == "":
		return invalid("RedirectUrl", "The RedirectUrl field is required.")
	case !absoluteURL(in.RedirectURL):
		return invalid("RedirectUrl", "The RedirectUrl field must be an absolute URL.")
	case in.Amount == "":
		return invalid("Amount", "The Amount field is required.")
	case in.Currency != "EUR":
		return invalid("Currency", "The Currency field must match ^EUR$.")
	case !s.redirectAllowed(in.RedirectURL):
		return invalid("RedirectUrl", "The RedirectUrl is not allow-listed for this client (redirect URLs are registered at onboarding).")
	case in.Reference == nil:
		return invalid("Reference", "The Reference field is required.")
	case !referenceRE.MatchString(*in.Reference):
		return invalid("Reference", "The Reference field must match ^[A-Za-z0-9 ]{0,22}$.")
	case strings.TrimSpace(*in.Reference) == "":
		return invalid("Reference", "The Reference field must have at least 1 character.")
	case in.EndUser == nil || strings.TrimSpace(in.EndUser.ID) == "":
		return invalid("EndUser.Id", "The EndUser field, with its Id, is required when the tenant is unlicensed.")
	case len(in.EndToEndID) > 35:
		return invalid("EndToEndId", "The EndToEndId field must be at most 35 characters.")
	case len(in.ClientAssignedReference) > 128:
		return invalid("ClientAssignedReference", "The ClientAssignedReference field must be at most 128 characters.")
	case in.Language != "" && !languageRE.MatchString(in.Language):
		return invalid("Language", "The Language field must match ^[a-z]{2}(-[A-Z]{2})?$.")
	}
	cents, err := cents(in.Amount)
	if err != nil {
		return invalid("Amount", err.Error())
	}
	if cents < 200 {
		return invalid("Amount", "The Amount field must be at least 2.")
	}
	var d destination
	known, err := s.store.Get(r.Context(), kindDestination, in.DestinationID, &d)
	if err != nil {
		return storeFailed(err)
	}
	if !known {
		return invalid("DestinationId", "The destination is not onboarded.")
	}
	providerID := in.ProviderID
	if providerID == "" {
		providerID = "FR_TestBank"
	}
	p := &payment{
		ID: uuid.NewString(), DestinationID: in.DestinationID, Amount: cents, Currency: in.Currency,
		Reference: *in.Reference, EndToEndID: in.EndToEndID, RedirectURL: in.RedirectURL, ProviderID: providerID,
		ClientAssignedReference: in.ClientAssignedReference, Created: s.opts.Now().UTC(),
	}
	if in.EndUser != nil {
		p.EndUserID, p.PayerEmail = in.EndUser.ID, in.EndUser.Email
	}
	if err := s.store.Create(r.Context(), kindPayment, p.ID, p, p.Created, keepFor(Retention)); err != nil {
		return storeFailed(err)
	}
	return jsonResp(http.StatusOK, map[string]string{
		"paymentId": p.ID,
		"flowUrl":   s.baseURL(r) + "/flow/" + p.ID,
	})
}

func absoluteURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// cents reads a major-unit amount with at most two decimals, exactly.
func cents(n json.Number) (int64, error) {
	s := n.String()
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(whole) > 12 || len(frac) > 2 || strings.ContainsAny(s, "eE+-") {
		return 0, fmt.Errorf("the Amount field must be a positive amount with at most 2 decimals, got %s", s)
	}
	var v int64
	for _, c := range whole + (frac + "00")[:2] {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("the Amount field is not a number: %s", s)
		}
		v = v*10 + int64(c-'0')
	}
	return v, nil
}

// amount writes cents as a JSON number in major units.
func amount(c int64) json.Number {
	return json.Number(fmt.Sprintf("%d.%02d", c/100, c%100))
}

func (s *Server) getPayment(r *http.Request, _ []byte) response {
	var p payment
	unavailable := false
	found, err := s.store.Update(r.Context(), kindPayment, r.PathValue("id"), &p, func() error {
		unavailable = false
		if identifier.SandboxTestIBANs[p.PayerIBAN] != "success_bank_unavailable" || p.UnavailableReads >= unavailableReads {
			return errUnchanged
		}
		p.UnavailableReads++
		unavailable = true
		return nil
	})
	switch {
	case err != nil && !errors.Is(err, errUnchanged):
		return storeFailed(err)
	case !found:
		return notFoundResp("Payment")
	case unavailable:
		return errResp(http.StatusServiceUnavailable, "SERVICE_UNAVAILABLE", "The bank is temporarily unavailable", "sandbox: test IBAN …0128")
	}
	return jsonResp(http.StatusOK, p.output(s.opts))
}

var refundReasons = []string{
	"DUPLICATE_ORDER", "ORDER_CANCELLED", "MERCHANT_OUT_OF_STOCK", "GOODS_NOT_RECEIVED",
	"LATE_CONFIRMATION", "DISPUTES", "GOODS_RETURNED",
}

// createRefund is POST /payments/{id}/refunds, in settle-through-Mastercard
// mode (the sandbox executes refunds itself). Preconditions as documented:
// the payment is credited, and refunds never exceed it in total.
func (s *Server) createRefund(r *http.Request, body []byte) response {
	var in struct {
		Amount                  json.Number `json:"amount"`
		Currency                string      `json:"currency"`
		Reason                  string      `json:"reason"`
		ClientAssignedReference string      `json:"clientAssignedReference"`
	}
	if err := decodeStrict(body, &in); err != nil {
		return badBody(err)
	}
	switch {
	case in.Amount == "":
		return invalid("Amount", "The Amount field is required.")
	case in.Currency != "EUR":
		return invalid("Currency", "The Currency field must be the payment's currency (EUR).")
	case !slices.Contains(refundReasons, in.Reason):
		return invalid("Reason", "The Reason field must be one of "+strings.Join(refundReasons, ", ")+".")
	case len(in.ClientAssignedReference) > 128:
		return invalid("ClientAssignedReference", "The ClientAssignedReference field must be at most 128 characters.")
	}
	c, err := cents(in.Amount)
	if err != nil {
		return invalid("Amount", err.Error())
	}
	if c <= 0 {
		return invalid("Amount", "The Amount field must be greater than 0.")
	}
	// The refund is written first, unreachable until the payment lists
	// it; the payment's update checks the total against the refunds it
	// lists, so two concurrent refunds cannot both pass.
	rf := &refund{
		ID: uuid.NewString(), PaymentID: r.PathValue("id"), Amount: c, Currency: in.Currency, Reason: in.Reason,
		ClientAssignedReference: in.ClientAssignedReference, Created: s.opts.Now().UTC(),
	}
	var p payment
	var refusal *response
	found, err := s.store.Update(r.Context(), kindPayment, rf.PaymentID, &p, func() error {
		refusal = nil
		if code := p.current(s.opts).Code; code != "PAYMENT_EXECUTED_CREDITED" && code != "FORWARD_SETTLEMENT_INITIATED" {
			resp := errResp(http.StatusBadRequest, "RESOURCE_IN_INVALID_STATE", "The payment cannot be refunded in status "+code, "a payment is refundable once PAYMENT_EXECUTED_CREDITED")
			refusal = &resp
			return errRefused
		}
		var refunded int64
		for _, id := range p.Refunds {
			var other refund
			if ok, err := s.store.Get(r.Context(), kindRefund, id, &other); err != nil {
				return err
			} else if ok && other.current(s.opts).Code != "FAILED" {
				refunded += other.Amount
			}
		}
		if refunded+c > p.Amount {
			resp := invalid("Amount", fmt.Sprintf("The refunds would exceed the payment: %s already refunded of %s.", amount(refunded), amount(p.Amount)))
			refusal = &resp
			return errRefused
		}
		rf.PayerIBAN = p.PayerIBAN
		if err := s.store.Put(r.Context(), kindRefund, rf.ID, rf, keepFor(Retention)); err != nil {
			return err
		}
		p.Refunds = append(p.Refunds, rf.ID)
		return nil
	})
	switch {
	case refusal != nil:
		return *refusal
	case err != nil:
		return storeFailed(err)
	case !found:
		return notFoundResp("Payment")
	}
	return jsonResp(http.StatusOK, map[string]string{"refundId": rf.ID})
}

func (s *Server) getRefund(r *http.Request, _ []byte) response {
	rf, fail := s.payersRefund(r)
	if fail != nil {
		return *fail
	}
	return jsonResp(http.StatusOK, rf.output(s.opts))
}

// forcePaymentStatus is the test hook POST /_sandbox/payments/{id}/status
// {"code":"FAILED","reason":"…","detailsCode":"…"}: the payment stays in
// that status from now on.
func (s *Server) forcePaymentStatus(w http.ResponseWriter, r *http.Request) {
	s.force(w, r, paymentCodes, func(id string, f *forced) (bool, error) {
		var p payment
		return s.store.Update(r.Context(), kindPayment, id, &p, func() error { p.Forced = f; return nil })
	})
}

// forceRefundStatus is POST /_sandbox/refunds/{id}/status.
func (s *Server) forceRefundStatus(w http.ResponseWriter, r *http.Request) {
	s.force(w, r, refundCodes, func(id string, f *forced) (bool, error) {
		var rf refund
		return s.store.Update(r.Context(), kindRefund, id, &rf, func() error { rf.Forced = f; return nil })
	})
}

func (s *Server) force(w http.ResponseWriter, r *http.Request, codes []string, set func(string, *forced) (bool, error)) {
	var in struct {
		Code        string `json:"code"`
		Reason      string `json:"reason"`
		DetailsCode string `json:"detailsCode"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&in); err != nil {
		s.write(w, badBody(err), nil)
		return
	}
	if !slices.Contains(codes, in.Code) {
		s.write(w, invalid("Code", "one of "+strings.Join(codes, ", ")), nil)
		return
	}
	ok, err := set(r.PathValue("id"), &forced{Code: in.Code, Reason: in.Reason, DetailsCode: in.DetailsCode, At: s.opts.Now().UTC()})
	if err != nil {
		s.write(w, storeFailed(err), nil)
		return
	}
	if !ok {
		s.write(w, notFoundResp("Resource"), nil)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// addFaults is POST /_sandbox/faults: one Fault or {"faults":[…]}.
func (s *Server) addFaults(w http.ResponseWriter, r *http.Request) {
	body, err := readAll(w, r)
	if err != nil {
		s.write(w, badBody(err), nil)
		return
	}
	var many struct {
		Faults []Fault `json:"faults"`
	}
	var one Fault
	switch {
	case json.Unmarshal(body, &many) == nil && len(many.Faults) > 0:
	case json.Unmarshal(body, &one) == nil && one.Kind != "":
		many.Faults = []Fault{one}
	default:
		s.write(w, invalid("Faults", `send {"kind":"500|429|500-after|malformed|slow", "match":"POST /payments", "retryAfter":1, "delayMs":100} or {"faults":[…]}`), nil)
		return
	}
	for _, f := range many.Faults {
		switch f.Kind {
		case FaultServerError, FaultRateLimited, FaultServerErrorAfter, FaultMalformed, FaultSlow:
		default:
			s.write(w, invalid("Kind", "unknown fault kind "+f.Kind), nil)
			return
		}
	}
	if err := s.InjectFaults(many.Faults...); err != nil {
		s.write(w, storeFailed(err), nil)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) clearFaults(w http.ResponseWriter, r *http.Request) {
	if err := s.ClearFaults(); err != nil {
		s.write(w, storeFailed(err), nil)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func readAll(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	var b bytes.Buffer
	_, err := b.ReadFrom(http.MaxBytesReader(w, r.Body, 1<<16))
	return b.Bytes(), err
}
