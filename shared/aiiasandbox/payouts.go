package aiiasandbox

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/modupay/modupay/shared/identifier"
	"github.com/modupay/modupay/shared/money"
)

// Payouts (Aiia's "Payments: Payouts", Gen A): a payment from an
// organisation's connected account, authorised by its holder at the bank.
//
//	POST /v2/accounts/{accountId}/payments                {payment{amount{value,currency}, destination{iban{ibanNumber}, name, address?}, message, transactionText}, redirectUrl} → {paymentId}
//	POST /v2/accounts/{accountId}/payment-authorizations  {paymentIds[], redirectUrl, culture?} → {authorizationId, authorizationUrl}
//	GET  /v2/accounts/{accountId}/payments/{paymentId}    {paymentId, status{paymentStatusCode, terminal, details?}, …}
//	GET|POST /payout-authorizations/{id}                  the holder's authorisation page
//
// Statuses: Created (awaiting authorisation) → Authorized → Executed
// (terminal) — or Failed (terminal) when the beneficiary's IBAN is a
// failing test IBAN (…0124 fonds insuffisants, …0125 compte bloqué),
// Rejected (terminal) when the holder refuses, Expired (terminal) when no
// one authorises within FlowTTL.
//
// The connected accounts are SandboxAccounts; any other account id is 404.

// SandboxAccounts are the connected accounts payouts may be sent from: id
// → IBAN (a treasury account of the test bank).
var SandboxAccounts = map[string]string{
	"sandbox-treasury-1": "FR7630006000011234567890189",
	"sandbox-treasury-2": "FR7610096000509876543210966",
}

type payout struct {
	ID, AccountID        string
	Amount               int64
	Currency             string
	IBAN, Name, Address  string
	Message, RedirectURL string
	Created              time.Time
	AuthorizationID      string
	Decided              time.Time
	Outcome              outcome // by the beneficiary's IBAN once authorised; refused when the holder refuses
}

type payoutAuthorization struct {
	ID, AccountID string
	PaymentIDs    []string
	RedirectURL   string
}

func (p *payout) steps(o Options) []step {
	st := []step{{code: "Created", at: p.Created}}
	switch p.Outcome {
	case undecided:
		st = append(st, step{code: "Expired", at: p.Created.Add(o.FlowTTL), det: &details{Code: "AUTHORIZATION_EXPIRED", Reason: "l'autorisation n'a pas été donnée à temps"}})
	case refused:
		st = append(st, step{code: "Rejected", at: p.Decided, det: &details{Code: "REJECTED_BY_USER", Reason: "refusé par le titulaire du compte"}})
	case insufficientFunds, accountBlocked:
		d := failureDetails[p.Outcome]
		if p.Outcome == accountBlocked {
			d.Reason = "compte du bénéficiaire bloqué"
		}
		st = append(st, step{code: "Authorized", at: p.Decided}, step{code: "Failed", at: p.Decided.Add(o.AuthorizeDelay), det: &d})
	case succeeds:
		st = append(st, step{code: "Authorized", at: p.Decided}, step{code: "Executed", at: p.Decided.Add(o.AuthorizeDelay)})
	}
	return st
}

var payoutTerminal = map[string]bool{"Executed": true, "Failed": true, "Rejected": true, "Expired": true}

func (p *payout) output(o Options) map[string]any {
	st := statusAt(p.steps(o), o.Now())
	status := map[string]any{"paymentStatusCode": st.Code, "terminal": payoutTerminal[st.Code]}
	if st.Details != nil {
		status["details"] = st.Details
	}
	return map[string]any{
		"paymentId": p.ID, "accountId": p.AccountID, "status": status, "createdAt": stamp(p.Created),
		"amount":      map[string]any{"value": amount(p.Amount), "currency": p.Currency},
		"destination": map[string]any{"iban": map[string]string{"ibanNumber": p.IBAN}, "name": p.Name},
		"message":     p.Message,
	}
}

func (s *Server) account(r *http.Request) (string, bool) {
	id := r.PathValue("accountId")
	_, ok := SandboxAccounts[id]
	return id, ok
}

// createPayout is POST /v2/accounts/{accountId}/payments.
func (s *Server) createPayout(r *http.Request, body []byte) response {
	var in struct {
		Payment struct {
			Amount struct {
				Value    json.Number `json:"value"`
				Currency string      `json:"currency"`
			} `json:"amount"`
			Destination struct {
				IBAN *struct {
					IBANNumber string `json:"ibanNumber"`
				} `json:"iban"`
				Name    string `json:"name"`
				Address string `json:"address"`
			} `json:"destination"`
			Message         string `json:"message"`
			TransactionText string `json:"transactionText"`
		} `json:"payment"`
		RedirectURL string `json:"redirectUrl"`
	}
	if err := decodeStrict(body, &in); err != nil {
		return badBody(err)
	}
	accountID, ok := s.account(r)
	if !ok {
		return notFoundResp("Account")
	}
	p := in.Payment
	c, err := cents(p.Amount.Value)
	switch {
	case err != nil:
		return invalid("Payment.Amount.Value", err.Error())
	case c <= 0:
		return invalid("Payment.Amount.Value", "The Value field must be greater than 0.")
	case p.Amount.Currency != "EUR":
		return invalid("Payment.Amount.Currency", "Payouts from this account are in EUR only.")
	case p.Destination.IBAN == nil || !ibanRE.MatchString(p.Destination.IBAN.IBANNumber):
		return invalid("Payment.Destination.Iban.IbanNumber", "The destination IBAN is not valid.")
	case strings.TrimSpace(p.Destination.Name) == "" || len([]rune(p.Destination.Name)) > 140:
		return invalid("Payment.Destination.Name", "The Name field is required (at most 140 characters).")
	case strings.TrimSpace(p.Message) == "" || len([]rune(p.Message)) > 140:
		return invalid("Payment.Message", "The Message field is required (at most 140 characters).")
	case len([]rune(p.TransactionText)) > 35:
		return invalid("Payment.TransactionText", "The TransactionText field must be at most 35 characters.")
	case !absoluteURL(in.RedirectURL):
		return invalid("RedirectUrl", "The RedirectUrl field must be an absolute URL.")
	}
	po := &payout{ID: uuid.NewString(), AccountID: accountID, Amount: c, Currency: "EUR", IBAN: p.Destination.IBAN.IBANNumber,
		Name: p.Destination.Name, Address: p.Destination.Address, Message: p.Message, RedirectURL: in.RedirectURL, Created: s.opts.Now().UTC()}
	if err := s.store.Create(r.Context(), kindPayout, po.ID, po, po.Created, keepFor(Retention)); err != nil {
		return storeFailed(err)
	}
	return jsonResp(http.StatusOK, map[string]string{"paymentId": po.ID})
}

// createPayoutAuthorization is POST /v2/accounts/{accountId}/payment-authorizations.
func (s *Server) createPayoutAuthorization(r *http.Request, body []byte) response {
	var in struct {
		PaymentIDs  []string `json:"paymentIds"`
		RedirectURL string   `json:"redirectUrl"`
		Culture     string   `json:"culture"`
	}
	if err := decodeStrict(body, &in); err != nil {
		return badBody(err)
	}
	accountID, ok := s.account(r)
	switch {
	case !ok:
		return notFoundResp("Account")
	case len(in.PaymentIDs) == 0 || len(in.PaymentIDs) > 50:
		return invalid("PaymentIds", "The PaymentIds field must name 1 to 50 payments.")
	case !absoluteURL(in.RedirectURL):
		return invalid("RedirectUrl", "The RedirectUrl field must be an absolute URL.")
	}
	// The authorisation is written first, unreachable until its payments
	// name it; each payment then takes it only if it has none, and a
	// payment that cannot gives the ones already taken back.
	a := &payoutAuthorization{ID: uuid.NewString(), AccountID: accountID, PaymentIDs: in.PaymentIDs, RedirectURL: in.RedirectURL}
	now := s.opts.Now().UTC()
	if err := s.store.Create(r.Context(), kindAuthorization, a.ID, a, now, keepFor(Retention)); err != nil {
		return storeFailed(err)
	}
	var refusal response
	for i, id := range in.PaymentIDs {
		var po payout
		found, err := s.store.Update(r.Context(), kindPayout, id, &po, func() error {
			switch {
			case po.AccountID != accountID:
				refusal = invalid("PaymentIds", "The payment "+id+" is not a payment of this account.")
				return errRefused
			case po.AuthorizationID != "":
				refusal = errResp(http.StatusBadRequest, "RESOURCE_IN_INVALID_STATE", "The payment "+id+" already has an authorization", "one authorization per payment")
				return errRefused
			}
			po.AuthorizationID = a.ID
			return nil
		})
		if !found && err == nil {
			refusal, err = invalid("PaymentIds", "The payment "+id+" is not a payment of this account."), errRefused
		}
		if err != nil {
			for _, taken := range in.PaymentIDs[:i] {
				var back payout
				_, _ = s.store.Update(r.Context(), kindPayout, taken, &back, func() error { back.AuthorizationID = ""; return nil })
			}
			_ = s.store.Delete(r.Context(), kindAuthorization, a.ID)
			if errors.Is(err, errRefused) {
				return refusal
			}
			return storeFailed(err)
		}
	}
	return jsonResp(http.StatusOK, map[string]string{"authorizationId": a.ID, "authorizationUrl": s.baseURL(r) + "/payout-authorizations/" + a.ID})
}

// getPayout is GET /v2/accounts/{accountId}/payments/{paymentId}.
func (s *Server) getPayout(r *http.Request, _ []byte) response {
	po, fail := getRecord[payout](s, r, kindPayout, r.PathValue("paymentId"), "Payment")
	if fail != nil {
		return *fail
	}
	if po.AccountID != r.PathValue("accountId") {
		return notFoundResp("Payment")
	}
	return jsonResp(http.StatusOK, po.output(s.opts))
}

var payoutTmpl = template.Must(template.New("payout").Parse(`<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Banque de test — autorisation de virements sortants</title>
<style>
body{font-family:system-ui,sans-serif;background:#f3f4f6;margin:0;padding:2rem;color:#111}
main{max-width:40rem;margin:auto;background:#fff;border-radius:.75rem;padding:1.5rem 2rem;box-shadow:0 1px 4px #0002}
h1{font-size:1.25rem}.sandbox{background:#fef3c7;padding:.5rem .75rem;border-radius:.5rem;font-size:.9rem}
table{width:100%;border-collapse:collapse}td,th{padding:.35rem;text-align:left;border-bottom:1px solid #e5e7eb}
.buttons{display:flex;gap:1rem;margin-top:1.25rem}button{flex:1;padding:.75rem;font-size:1rem;border-radius:.5rem;border:0;cursor:pointer}
.ok{background:#15803d;color:#fff}.ko{background:#e5e7eb}
</style>
</head>
<body>
<main>
<p class="sandbox">Sandbox Aiia (ModuPay) — aucune somme réelle n'est débitée.</p>
<h1>Autoriser {{len .Rows}} virement(s) depuis le compte {{.Account}}</h1>
<table><tr><th>Bénéficiaire</th><th>Compte</th><th>Montant</th><th>Message</th><th>Statut</th></tr>
{{range .Rows}}<tr><td>{{.Name}}</td><td>{{.IBAN}}</td><td>{{.Amount}}</td><td>{{.Message}}</td><td><code>{{.Status}}</code></td></tr>
{{end}}</table>
{{if .Open}}
<form method="post" action="{{.Action}}">
<div class="buttons">
<button class="ok" type="submit" name="decision" value="authorize">Autoriser</button>
<button class="ko" type="submit" name="decision" value="refuse">Refuser</button>
</div>
</form>
{{else}}<p><strong>Cette autorisation n'attend plus de décision.</strong></p><p><a href="{{.Return}}">Retour</a></p>{{end}}
</main>
</body>
</html>
`))

// payoutPage is GET and POST /payout-authorizations/{id}: the page, and
// the holder's decision — authorise or refuse every payment of the
// authorisation — after which the holder goes back to its redirectUrl
// with ?authorizationId=… (303).
func (s *Server) payoutPage(w http.ResponseWriter, r *http.Request) {
	decision := ""
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "Formulaire illisible.", http.StatusBadRequest)
			return
		}
		decision = r.PostForm.Get("decision")
	}
	var a payoutAuthorization
	found, err := s.store.Get(r.Context(), kindAuthorization, r.PathValue("id"), &a)
	if err != nil {
		http.Error(w, "La banque de test est momentanément indisponible.", http.StatusServiceUnavailable)
		return
	}
	if !found {
		http.Error(w, "Autorisation inconnue.", http.StatusNotFound)
		return
	}
	data, err := s.payoutView(r, &a)
	if err != nil {
		http.Error(w, "La banque de test est momentanément indisponible.", http.StatusServiceUnavailable)
		return
	}
	open := data["Open"].(bool)
	if r.Method != http.MethodPost || !open || (decision != "authorize" && decision != "refuse") {
		status := http.StatusOK
		switch {
		case r.Method != http.MethodPost:
		case !open:
			status = http.StatusConflict
		default:
			status = http.StatusUnprocessableEntity
		}
		renderPayout(w, status, data)
		return
	}
	// Each payment is decided only while it is still undecided: a second
	// decision racing this one changes nothing it has decided.
	now := s.opts.Now().UTC()
	for _, id := range a.PaymentIDs {
		var po payout
		_, err := s.store.Update(r.Context(), kindPayout, id, &po, func() error {
			if po.Outcome != undecided {
				return errUnchanged
			}
			po.Decided, po.Outcome = now, refused
			if decision == "authorize" {
				po.Outcome = outcomeFor(po.IBAN)
			}
			return nil
		})
		if err != nil && !errors.Is(err, errUnchanged) {
			http.Error(w, "La banque de test est momentanément indisponible.", http.StatusServiceUnavailable)
			return
		}
	}
	http.Redirect(w, r, data["Return"].(string), http.StatusSeeOther)
}

// payoutView is the page's data. The authorisation is open while every
// payment of it is undecided and not expired.
func (s *Server) payoutView(r *http.Request, a *payoutAuthorization) (map[string]any, error) {
	type row struct{ Name, IBAN, Amount, Message, Status string }
	open := true
	var rows []row
	for _, id := range a.PaymentIDs {
		var po payout
		if _, err := s.store.Get(r.Context(), kindPayout, id, &po); err != nil {
			return nil, err
		}
		code := statusAt(po.steps(s.opts), s.opts.Now()).Code
		open = open && code == "Created"
		rows = append(rows, row{po.Name, identifier.MaskIBAN(po.IBAN), money.FormatEUR(po.Amount), po.Message, code})
	}
	back := a.RedirectURL
	if u, err := url.Parse(a.RedirectURL); err == nil {
		q := u.Query()
		q.Set("authorizationId", a.ID)
		u.RawQuery = q.Encode()
		back = u.String()
	}
	return map[string]any{"Account": identifier.MaskIBAN(SandboxAccounts[a.AccountID]), "Rows": rows, "Open": open,
		"Action": s.basePath() + "/payout-authorizations/" + url.PathEscape(a.ID), "Return": back}, nil
}

func renderPayout(w http.ResponseWriter, status int, data map[string]any) {
	renderPage(w, status, payoutTmpl, data)
}
