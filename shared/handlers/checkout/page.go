package checkout

import (
	"html/template"
	"net/url"
)

func parseForm(body []byte) (url.Values, error) { return url.ParseQuery(string(body)) }

var words = map[string]map[string]string{
	"fr": {"title": "Paiement de votre facture", "invoice": "Facture", "seller": "Émetteur", "due": "Échéance", "amount": "Montant à payer",
		"description": "Désignation", "quantity": "Quantité", "net": "Montant HT", "method": "Moyen de paiement", "sepa": "Virement SEPA (par votre banque)",
		"card": "Carte bancaire (bientôt disponible)", "pay": "Payer par virement",
		"card_now": "Carte bancaire", "card_number": "Numéro de carte", "card_expiry": "Date d'expiration (MM / AAAA)", "month": "mois", "year": "année",
		"card_cvc": "Cryptogramme (3 chiffres au dos)", "card_test": "Bac à sable : cartes de test 4242 4242 4242 4242 (acceptée), 4000 0000 0000 0002 (refusée), 4000 0000 0000 9995 (fonds insuffisants).", "paid": "Paiement reçu", "paid_text": "Votre virement est arrivé : la facture est réglée. Merci.",
		"processing": "Paiement en cours", "processing_text": "Votre banque traite le virement. Cette page se met à jour toute seule.",
		"failed": "Paiement refusé", "failed_text": "Le virement n'a pas abouti.", "closed": "Lien de paiement inactif",
		"closed_text": "Ce lien de paiement a expiré ou a été désactivé. Contactez l'émetteur de la facture.",
		"refunded":    "Paiement remboursé", "refunded_text": "Ce paiement a été remboursé, en tout ou en partie : ce lien de paiement est clos. Contactez l'émetteur de la facture pour toute question.",
		"notfound": "Page introuvable", "notfound_text": "Ce lien de paiement n'existe pas.", "back": "Revenir au site du marchand", "other": "English"},
	"en": {"title": "Pay your invoice", "invoice": "Invoice", "seller": "Issued by", "due": "Due date", "amount": "Amount to pay",
		"description": "Description", "quantity": "Quantity", "net": "Net amount", "method": "Payment method", "sepa": "SEPA transfer (through your bank)",
		"card": "Card (coming soon)", "pay": "Pay by bank transfer",
		"card_now": "Card", "card_number": "Card number", "card_expiry": "Expiry date (MM / YYYY)", "month": "month", "year": "year",
		"card_cvc": "Security code (3 digits on the back)", "card_test": "Sandbox: test cards 4242 4242 4242 4242 (approved), 4000 0000 0000 0002 (declined), 4000 0000 0000 9995 (insufficient funds).", "paid": "Payment received", "paid_text": "Your transfer has arrived: the invoice is paid. Thank you.",
		"processing": "Payment in progress", "processing_text": "Your bank is processing the transfer. This page updates itself.",
		"failed": "Payment refused", "failed_text": "The transfer did not go through.", "closed": "Payment link inactive",
		"closed_text": "This payment link has expired or was deactivated. Contact the issuer of the invoice.",
		"refunded":    "Payment refunded", "refunded_text": "This payment was refunded, in whole or in part: this payment link is closed. Contact the issuer of the invoice with any question.",
		"notfound": "Page not found", "notfound_text": "This payment link does not exist.", "back": "Back to the merchant's site", "other": "Français"},
}

const style = `body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a;background:#fff;line-height:1.5}
h1{font-size:1.5rem}table{width:100%;border-collapse:collapse}th,td{text-align:left;padding:.3rem;border-bottom:1px solid #ccc}
.amount{font-size:1.4rem;font-weight:bold}button{font-size:1rem;padding:.7rem 1.2rem;background:#0b4f8a;color:#fff;border:0;border-radius:4px;cursor:pointer}
button:focus{outline:3px solid #f5a623}fieldset{border:1px solid #ccc;margin:1rem 0}header{margin-bottom:1rem}.brand{font-weight:bold}`

var pageTmpl = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if .Title}}{{.Title}}{{else}}{{index .T "title"}}{{end}}</title><style>` + style + `</style>
<style>button{background:{{.Color}}}a{color:{{.Color}}}</style></head>
<body><header>{{if .P.Brand.LogoURL}}<img src="{{.P.Brand.LogoURL}}" alt="{{.P.Brand.DisplayName}}" height="48"><br>{{end}}<span class="brand">{{.P.Brand.DisplayName}}</span></header>
<main>
{{if .Title}}<h1>{{.Title}}</h1><p>{{.Message}}</p>{{if and .Paid .ReturnURL}}<p><a href="{{.ReturnURL}}">{{index .T "back"}}</a></p>{{end}}
{{else}}<h1>{{index .T "title"}}</h1>
<p>{{index .T "seller"}} : <strong>{{.P.Invoice.Seller.Name}}</strong>{{if .P.Invoice.Seller.Department}} — {{.P.Invoice.Seller.Department}}{{end}}<br>
{{index .T "invoice"}} {{.P.Invoice.InvoiceNumber}} · {{index .T "due"}} {{.Due}}</p>
<table><thead><tr><th scope="col">{{index .T "description"}}</th><th scope="col">{{index .T "quantity"}}</th><th scope="col">{{index .T "net"}}</th></tr></thead>
<tbody>{{range .Lines}}<tr><td>{{.Description}}</td><td>{{.Quantity}}</td><td>{{.Net}}</td></tr>{{end}}</tbody></table>
<p>{{index .T "amount"}} : <span class="amount">{{.Amount}}</span></p>
<form method="post" action="/p/{{.Token}}/pay?lang={{.Lang}}">
<input type="hidden" name="csrf" value="{{.CSRF}}">
<fieldset><legend>{{index .T "method"}}</legend>
{{if .SEPA}}<p><input type="radio" id="m-sepa" name="method" value="sepa_credit" checked> <label for="m-sepa">{{index .T "sepa"}}</label></p>{{end}}
{{if and .Card .CardsAvailable}}<p><input type="radio" id="m-card" name="method" value="card"> <label for="m-card">{{index .T "card_now"}}</label></p>
<p><label for="card-number">{{index .T "card_number"}}</label><br><input id="card-number" name="card_number" inputmode="numeric" autocomplete="cc-number" size="24"></p>
<p><label for="card-exp-month">{{index .T "card_expiry"}}</label><br><input id="card-exp-month" name="card_exp_month" inputmode="numeric" autocomplete="cc-exp-month" size="3" aria-label="{{index .T "month"}}"> / <input id="card-exp-year" name="card_exp_year" inputmode="numeric" autocomplete="cc-exp-year" size="5" aria-label="{{index .T "year"}}"></p>
<p><label for="card-cvc">{{index .T "card_cvc"}}</label><br><input id="card-cvc" name="card_cvc" inputmode="numeric" autocomplete="cc-csc" size="5"></p>
<p><small>{{index .T "card_test"}}</small></p>
{{else if .Card}}<p><input type="radio" id="m-card" name="method" value="card" disabled> <label for="m-card">{{index .T "card"}}</label></p>{{end}}
</fieldset>
{{if .Error}}<p role="alert" class="error"><strong>{{.Error}}</strong></p>{{end}}
<button type="submit">{{index .T "pay"}}</button>
</form>{{end}}
<p><a href="?lang={{if eq .Lang "fr"}}en{{else}}fr{{end}}">{{index .T "other"}}</a></p>
</main></body></html>`))

var statusTmpl = template.Must(template.New("status").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
{{if not .Final}}<meta http-equiv="refresh" content="3">{{end}}
<title>{{.Title}}</title><style>` + style + `</style>
<style>a{color:{{.Color}}}</style></head>
<body><header>{{if .P.Brand.LogoURL}}<img src="{{.P.Brand.LogoURL}}" alt="{{.P.Brand.DisplayName}}" height="48"><br>{{end}}<span class="brand">{{.P.Brand.DisplayName}}</span></header>
<main role="status" aria-live="polite"><h1>{{.Title}}</h1><p>{{.Message}}</p>
<p>{{index .T "invoice"}} {{.P.Invoice.InvoiceNumber}} · {{.Amount}}</p>
{{if and .Final .ReturnURL}}<p><a href="{{.ReturnURL}}">{{index .T "back"}}</a></p>{{end}}
</main></body></html>`))
