package aiiasandbox

import (
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/modupay/modupay/shared/aiia"
	"github.com/modupay/modupay/shared/identifier"
	"github.com/modupay/modupay/shared/money"
)

// Refunds the provider does not pay out (no settlement account): the
// payer's account to pay the refund into (GET /refunds/{id}/payment-rails,
// PAYMENT_RAILS_AVAILABLE only), or, when the provider does not know it
// (PAYMENT_RAILS_UNAVAILABLE), a flow where the payer connects one (POST
// /refunds/{id}/payment-rails → flowUrl, the page at
// /payment-rails/start/{id}). Collection flows live 48 hours unless the
// request says otherwise, at most a week.

// collectTTL is a collection flow's life when the request names none.
const collectTTL = 48 * time.Hour

// payersRefund reads a refund once the payment lists it (see createRefund):
// the refund, or the answer to give instead.
func (s *Server) payersRefund(r *http.Request) (*refund, *response) {
	rf, fail := getRecord[refund](s, r, kindRefund, r.PathValue("id"), "Refund")
	if fail != nil {
		return nil, fail
	}
	var p payment
	if found, err := s.store.Get(r.Context(), kindPayment, rf.PaymentID, &p); err != nil {
		resp := storeFailed(err)
		return nil, &resp
	} else if !found || !slices.Contains(p.Refunds, rf.ID) {
		resp := notFoundResp("Refund")
		return nil, &resp
	}
	return rf, nil
}

// refundRails is GET /refunds/{id}/payment-rails.
func (s *Server) refundRails(r *http.Request, _ []byte) response {
	rf, fail := s.payersRefund(r)
	if fail != nil {
		return *fail
	}
	if code := rf.current(s.opts).Code; code != aiia.RefundPaymentRailsAvailable {
		return errResp(http.StatusBadRequest, "RESOURCE_IN_INVALID_STATE", "The refund has no payment rails in status "+code,
			"payment rails are available in status PAYMENT_RAILS_AVAILABLE")
	}
	if c := rf.Collected; c != nil {
		rail := map[string]string{"paymentRail": "SepaCreditTransfer", "iban": c.IBAN}
		if c.Owner != "" {
			rail["accountOwner"] = c.Owner
		}
		return jsonResp(http.StatusOK, []map[string]string{rail})
	}
	return jsonResp(http.StatusOK, []map[string]string{{"paymentRail": "FrenchSepaCreditTransfer", "iban": rf.PayerIBAN}})
}

// collectRefundAccount is POST /refunds/{id}/payment-rails
// (RefundAccountCollectionFlowInput): only in PAYMENT_RAILS_UNAVAILABLE,
// the redirect URL one of the client's, the expiry within a week.
func (s *Server) collectRefundAccount(r *http.Request, body []byte) response {
	var in struct {
		RedirectURL string  `json:"redirectUrl"`
		Language    *string `json:"language"`
		ExpiryDate  *string `json:"expiryDate"`
	}
	if err := decodeStrict(body, &in); err != nil {
		return badBody(err)
	}
	now := s.opts.Now().UTC()
	c := collect{RedirectURL: in.RedirectURL, Created: now, Expires: now.Add(collectTTL)}
	u, err := url.Parse(in.RedirectURL)
	switch {
	case in.RedirectURL == "":
		return invalid("RedirectUrl", "The RedirectUrl field is required.")
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return invalid("RedirectUrl", "The RedirectUrl field must be an absolute URL.")
	case !s.redirectAllowed(in.RedirectURL):
		return invalid("RedirectUrl", "The RedirectUrl is not one of the client's registered redirect URLs.")
	case in.Language != nil && utf8.RuneCountInString(*in.Language) > 2:
		return invalid("Language", "The Language field must be an ISO 639-1 code.")
	}
	if in.Language != nil {
		c.Language = *in.Language
	}
	if in.ExpiryDate != nil {
		t, err := time.Parse(time.RFC3339, *in.ExpiryDate)
		switch {
		case err != nil:
			return invalid("ExpiryDate", "The ExpiryDate field must be a date-time.")
		case !t.After(now):
			return invalid("ExpiryDate", "The ExpiryDate must be in the future.")
		case t.Sub(now) > aiia.MaxCollectWindow:
			return invalid("ExpiryDate", "The ExpiryDate must be at most a week from now.")
		}
		c.Expires = t.UTC()
	}
	if _, fail := s.payersRefund(r); fail != nil {
		return *fail
	}
	var rf refund
	var refusal *response
	found, err := s.store.Update(r.Context(), kindRefund, r.PathValue("id"), &rf, func() error {
		refusal = nil
		if code := rf.current(s.opts).Code; code != aiia.RefundPaymentRailsUnavailable {
			resp := errResp(http.StatusBadRequest, "RESOURCE_IN_INVALID_STATE", "The refund's source account cannot be collected in status "+code,
				"a source account is collected in status PAYMENT_RAILS_UNAVAILABLE")
			refusal = &resp
			return errRefused
		}
		rf.Collect, rf.Collected = &c, nil
		return nil
	})
	switch {
	case refusal != nil:
		return *refusal
	case err != nil:
		return storeFailed(err)
	case !found:
		return notFoundResp("Refund")
	}
	return jsonResp(http.StatusOK, map[string]string{"flowUrl": s.baseURL(r) + "/payment-rails/start/" + url.PathEscape(rf.ID)})
}

var collectTmpl = template.Must(template.New("collect").Parse(`<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Banque de test — compte à rembourser</title>
<style>
body{font-family:system-ui,sans-serif;background:#f3f4f6;margin:0;padding:2rem;color:#111}
main{max-width:34rem;margin:auto;background:#fff;border-radius:.75rem;padding:1.5rem 2rem;box-shadow:0 1px 4px #0002}
h1{font-size:1.25rem}.sandbox{background:#fef3c7;padding:.5rem .75rem;border-radius:.5rem;font-size:.9rem}
label{display:block;margin-top:1rem;font-weight:600}input{width:100%;box-sizing:border-box;padding:.5rem;font-size:1rem}
button{margin-top:1.25rem;width:100%;padding:.75rem;font-size:1rem;border-radius:.5rem;border:0;background:#15803d;color:#fff;cursor:pointer}
.error{color:#b91c1c}
</style>
</head>
<body>
<main>
<p class="sandbox">Sandbox Aiia (ModuPay) — aucune somme réelle n'est versée.</p>
<h1>Compte sur lequel recevoir votre remboursement</h1>
<p>Remboursement de <strong>{{.Amount}}</strong>.</p>
{{if .Done}}
<p><strong>{{.Done}}</strong></p>
{{else}}
<form method="post" action="{{.Action}}">
<label for="iban">IBAN du compte à créditer</label>
<input id="iban" name="iban" value="{{.IBAN}}" autocomplete="off" spellcheck="false">
<label for="owner">Titulaire du compte</label>
<input id="owner" name="owner" value="{{.Owner}}" autocomplete="name">
{{if .Error}}<p class="error">{{.Error}}</p>{{end}}
<button type="submit">Connecter ce compte</button>
</form>
{{end}}
</main>
</body>
</html>
`))

type collectView struct {
	Amount, Action, IBAN, Owner, Error, Done string
}

// collectPage is GET /payment-rails/start/{id}: the payer's page of an
// open collection flow.
func (s *Server) collectPage(w http.ResponseWriter, r *http.Request) {
	var rf refund
	found, err := s.store.Get(r.Context(), kindRefund, r.PathValue("id"), &rf)
	if !s.pageFound(w, found, err) {
		return
	}
	renderCollect(w, http.StatusOK, s.collectView(&rf))
}

// collectSubmit is POST /payment-rails/start/{id}: the payer connects the
// account (IBAN and holder); the refund becomes PAYMENT_RAILS_AVAILABLE and
// the payer goes back to the flow's redirectUrl with ?refundId=… (303).
func (s *Server) collectSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "Formulaire illisible.", http.StatusBadRequest)
		return
	}
	iban := aiia.NormalizeIBAN(r.PostForm.Get("iban"))
	owner := strings.TrimSpace(r.PostForm.Get("owner"))
	var rf refund
	status, problem := 0, ""
	found, err := s.store.Update(r.Context(), kindRefund, r.PathValue("id"), &rf, func() error {
		status, problem = 0, ""
		switch {
		case rf.current(s.opts).Code != aiia.RefundCapturingSourceAccount:
			status = http.StatusConflict
		case !validPayeeIBAN(iban):
			status, problem = http.StatusUnprocessableEntity, "Saisissez l'IBAN d'un compte à votre nom."
		case owner == "" || utf8.RuneCountInString(owner) > 140:
			status, problem = http.StatusUnprocessableEntity, "Saisissez le nom du titulaire du compte (140 caractères au plus)."
		default:
			rf.Collected = &collected{IBAN: iban, Owner: owner, At: s.opts.Now().UTC()}
			return nil
		}
		return errRefused
	})
	if !s.pageFound(w, found, err) {
		return
	}
	if status != 0 {
		v := s.collectView(&rf)
		v.Error, v.IBAN, v.Owner = problem, r.PostForm.Get("iban"), owner
		renderCollect(w, status, v)
		return
	}
	u, err := url.Parse(rf.Collect.RedirectURL)
	if err != nil {
		http.Error(w, "Adresse de retour illisible.", http.StatusBadRequest)
		return
	}
	q := u.Query()
	q.Set("refundId", rf.ID)
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// validPayeeIBAN accepts a real IBAN (MOD 97 included) or a sandbox test one.
func validPayeeIBAN(iban string) bool {
	if identifier.IsSandboxTestIBAN(iban) {
		return true
	}
	_, p := identifier.CheckIBAN(iban)
	return p == nil
}

func (s *Server) collectView(rf *refund) collectView {
	v := collectView{Amount: money.FormatEUR(rf.Amount), Action: s.basePath() + "/payment-rails/start/" + url.PathEscape(rf.ID)}
	switch code := rf.current(s.opts).Code; {
	case code == aiia.RefundCapturingSourceAccount:
	case rf.Collected != nil:
		v.Done = "Compte " + identifier.MaskIBAN(rf.Collected.IBAN) + " transmis au marchand."
	default:
		v.Done = "Ce lien a expiré ou n'est pas ouvert : demandez-en un nouveau au marchand."
	}
	return v
}

func renderCollect(w http.ResponseWriter, status int, v collectView) {
	renderPage(w, status, collectTmpl, v)
}
