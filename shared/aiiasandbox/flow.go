package aiiasandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/modupay/modupay/shared/identifier"
	"github.com/modupay/modupay/shared/money"
)

// DefaultPayerIBAN prefills the authorisation page: the test IBAN that
// succeeds.
const DefaultPayerIBAN = "FR7612345678901234567890123"

// The page works without JavaScript: a form, two submit buttons.
var flowTmpl = template.Must(template.New("flow").Parse(`<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Banque de test — autorisation du virement</title>
<style>
body{font-family:system-ui,sans-serif;background:#f3f4f6;margin:0;padding:2rem;color:#111}
main{max-width:34rem;margin:auto;background:#fff;border-radius:.75rem;padding:1.5rem 2rem;box-shadow:0 1px 4px #0002}
h1{font-size:1.25rem}.sandbox{background:#fef3c7;padding:.5rem .75rem;border-radius:.5rem;font-size:.9rem}
dl{display:grid;grid-template-columns:auto 1fr;gap:.35rem 1rem}dt{color:#555}dd{margin:0;font-weight:600}
label{display:block;margin-top:1rem;font-weight:600}input{width:100%;box-sizing:border-box;padding:.5rem;font-family:monospace;font-size:1rem}
.buttons{display:flex;gap:1rem;margin-top:1.25rem}button{flex:1;padding:.75rem;font-size:1rem;border-radius:.5rem;border:0;cursor:pointer}
.ok{background:#15803d;color:#fff}.ko{background:#e5e7eb}.error{color:#b91c1c}small{color:#555}table{font-size:.85rem}
</style>
</head>
<body>
<main>
<p class="sandbox">Sandbox Aiia (ModuPay) — aucune somme réelle n'est débitée.</p>
<h1>Banque de test — autorisation du virement</h1>
<dl>
<dt>Montant</dt><dd>{{.Amount}}</dd>
<dt>Bénéficiaire</dt><dd>{{.Payee}}</dd>
<dt>Compte bénéficiaire</dt><dd>{{.PayeeIBAN}}</dd>
<dt>Référence</dt><dd>{{.Reference}}</dd>
</dl>
{{if .Done}}
<p><strong>{{.Done}}</strong></p>
<p>Statut : <code>{{.Status}}</code></p>
<p><a href="{{.Return}}">Retour au site du marchand</a></p>
{{else}}
<form method="post" action="{{.Action}}">
<label for="iban">IBAN du compte à débiter</label>
<input id="iban" name="iban" value="{{.IBAN}}" autocomplete="off" spellcheck="false">
{{if .Error}}<p class="error">{{.Error}}</p>{{end}}
<small>Comptes de test :</small>
<table>
<tr><td><code>FR7612345678901234567890123</code></td><td>succès</td></tr>
<tr><td><code>FR7612345678901234567890124</code></td><td>échec — fonds insuffisants</td></tr>
<tr><td><code>FR7612345678901234567890125</code></td><td>échec — compte bloqué</td></tr>
<tr><td><code>FR7612345678901234567890126</code></td><td>succès ; ses remboursements échouent (compte clôturé)</td></tr>
<tr><td><code>FR7612345678901234567890127</code></td><td>succès ; ses remboursements attendent l'organisation (PAYMENT_RAILS_AVAILABLE)</td></tr>
<tr><td><code>FR7612345678901234567890128</code></td><td>succès, après trois réponses « banque indisponible » (503) au suivi du paiement</td></tr>
<tr><td><code>FR7612345678901234567890129</code></td><td>succès, la banque ne confirmant que le débit (PAYMENT_EXECUTED_DEBITED)</td></tr>
<tr><td><code>FR7612345678901234567890130</code></td><td>état perdu après l'initiation (UNKNOWN) : à rapprocher du relevé</td></tr>
<tr><td><code>FR7612345678901234567890131</code></td><td>succès ; ses remboursements demandent au payeur le compte à créditer (PAYMENT_RAILS_UNAVAILABLE)</td></tr>
</table>
<div class="buttons">
<button class="ok" type="submit" name="decision" value="authorize">Autoriser le virement</button>
<button class="ko" type="submit" name="decision" value="refuse">Refuser</button>
</div>
</form>
{{end}}
</main>
</body>
</html>
`))

type flowView struct {
	Amount, Payee, PayeeIBAN, Reference string
	Action, IBAN, Error                 string
	Done, Status, Return                string
}

// flowPage is GET /flow/{id}: the bank's authorisation page. Opening it
// moves the payment to AUTHORIZING.
func (s *Server) flowPage(w http.ResponseWriter, r *http.Request) {
	var p payment
	found, err := s.store.Update(r.Context(), kindPayment, r.PathValue("id"), &p, func() error {
		if !p.decidable(s.opts) || !p.Opened.IsZero() {
			return errUnchanged
		}
		p.Opened = s.opts.Now().UTC()
		return nil
	})
	if !s.pageFound(w, found, err) {
		return
	}
	renderFlow(w, http.StatusOK, s.view(r, &p))
}

// errUnchanged ends an Update that has nothing to write.
var errUnchanged = errors.New("aiiasandbox: unchanged")

// pageFound answers a page request whose record is missing or unreadable
// and says whether the page can go on.
func (s *Server) pageFound(w http.ResponseWriter, found bool, err error) bool {
	switch {
	case err != nil && !errors.Is(err, errUnchanged) && !errors.Is(err, errRefused):
		http.Error(w, "La banque de test est momentanément indisponible.", http.StatusServiceUnavailable)
		return false
	case !found:
		http.Error(w, "Paiement inconnu.", http.StatusNotFound)
		return false
	}
	return true
}

// flowSubmit is POST /flow/{id}: the payer authorises (with the IBAN of
// the account to debit) or refuses, then goes back to the merchant's
// redirectUrl with ?paymentId=… (303). The redirect says nothing about the
// outcome: the merchant reads the status from the API.
func (s *Server) flowSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "Formulaire illisible.", http.StatusBadRequest)
		return
	}
	decision := r.PostForm.Get("decision")
	iban := strings.ToUpper(strings.Join(strings.Fields(r.PostForm.Get("iban")), ""))

	var p payment
	status, problem := 0, ""
	found, err := s.store.Update(r.Context(), kindPayment, r.PathValue("id"), &p, func() error {
		status, problem = 0, ""
		if !p.decidable(s.opts) {
			status = http.StatusConflict
			return errRefused
		}
		now := s.opts.Now().UTC()
		switch decision {
		case "refuse":
			p.Outcome, p.Decided = refused, now
		case "authorize":
			if !ibanRE.MatchString(iban) {
				status, problem = http.StatusUnprocessableEntity, "Saisissez l'IBAN du compte à débiter."
				return errRefused
			}
			p.Outcome, p.Decided, p.PayerIBAN = outcomeFor(iban), now, iban
		default:
			status, problem = http.StatusUnprocessableEntity, "Choisissez « Autoriser le virement » ou « Refuser »."
			return errRefused
		}
		if p.Opened.IsZero() {
			p.Opened = now
		}
		return nil
	})
	if !s.pageFound(w, found, err) {
		return
	}
	if status != 0 {
		v := s.view(r, &p)
		if problem != "" {
			v.Error = problem
			if decision == "authorize" {
				v.IBAN = r.PostForm.Get("iban")
			}
		}
		renderFlow(w, status, v)
		return
	}
	http.Redirect(w, r, returnURL(&p), http.StatusSeeOther)
}

// returnURL is the payment's redirectUrl with paymentId added.
func returnURL(p *payment) string {
	u, err := url.Parse(p.RedirectURL)
	if err != nil {
		return p.RedirectURL
	}
	q := u.Query()
	q.Set("paymentId", p.ID)
	u.RawQuery = q.Encode()
	return u.String()
}

// view is the page's data.
func (s *Server) view(r *http.Request, p *payment) flowView {
	v := flowView{
		Amount:    money.FormatEUR(p.Amount),
		Reference: p.Reference,
		Action:    s.basePath() + "/flow/" + url.PathEscape(p.ID),
		IBAN:      DefaultPayerIBAN,
		Return:    returnURL(p),
	}
	var d destination
	if ok, _ := s.store.Get(r.Context(), kindDestination, p.DestinationID, &d); ok {
		v.Payee, v.PayeeIBAN = d.Name, identifier.MaskIBAN(d.IBAN)
	}
	if !p.decidable(s.opts) {
		st := p.current(s.opts)
		v.Status = st.Code
		switch {
		case p.Outcome == refused:
			v.Done = "Vous avez refusé ce virement."
		case p.Outcome != undecided:
			v.Done = "Virement autorisé depuis le compte " + identifier.MaskIBAN(p.PayerIBAN) + "."
		case p.Forced != nil:
			v.Done = "Ce paiement n'attend plus d'autorisation."
		default:
			v.Done = "Ce lien d'autorisation a expiré."
		}
	}
	return v
}

func renderFlow(w http.ResponseWriter, status int, v flowView) { renderPage(w, status, flowTmpl, v) }

// renderPage writes one of the bank's pages: HTML, never cached.
func renderPage(w http.ResponseWriter, status int, t *template.Template, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if err := t.Execute(w, data); err != nil {
		fmt.Fprintln(w, err)
	}
}

var indexTmpl = template.Must(template.New("index").Parse(`<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Sandbox Aiia</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem}td,th{padding:.25rem .75rem;text-align:left}</style></head>
<body><h1>Sandbox Aiia (ModuPay)</h1>
<p>Client id <code>{{.ClientID}}</code>. Délais : autorisation {{.Authorize}}, règlement {{.Settle}}, remboursement {{.Refund}}.</p>
<table><tr><th>Paiement</th><th>Montant</th><th>Référence</th><th>Statut</th></tr>
{{range .Payments}}<tr><td><a href="{{$.Base}}/flow/{{.ID}}">{{.ID}}</a></td><td>{{.Amount}}</td><td>{{.Reference}}</td><td><code>{{.Status}}</code></td></tr>
{{else}}<tr><td colspan="4">Aucun paiement.</td></tr>{{end}}
</table></body></html>
`))

// index is GET /: the payments, newest first, for people running the stack.
func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	type row struct{ ID, Amount, Reference, Status string }
	var rows []row
	err := s.store.Recent(r.Context(), kindPayment, 100, func(doc []byte) error {
		var p payment
		if err := json.Unmarshal(doc, &p); err != nil {
			return err
		}
		rows = append(rows, row{p.ID, money.FormatEUR(p.Amount), p.Reference, p.current(s.opts).Code})
		return nil
	})
	if err != nil {
		http.Error(w, "La banque de test est momentanément indisponible.", http.StatusServiceUnavailable)
		return
	}
	data := map[string]any{
		"ClientID": s.opts.ClientID, "Payments": rows, "Base": s.basePath(),
		"Authorize": s.opts.AuthorizeDelay.String(), "Settle": s.opts.SettleDelay.String(), "Refund": s.opts.RefundDelay.String(),
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	indexTmpl.Execute(w, data)
}
