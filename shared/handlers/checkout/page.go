package checkout

import (
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"net/url"
)

func parseForm(body []byte) (url.Values, error) { return url.ParseQuery(string(body)) }

// words are the pages' texts. Both languages carry every key (a test checks).
var words = map[string]map[string]string{
	"fr": {"title": "Paiement de votre facture", "invoice": "Facture", "seller": "Émetteur", "due": "Échéance", "issued": "Émise le",
		"amount": "Montant à payer", "description": "Désignation", "quantity": "Qté", "unit_price": "PU HT", "vat_rate": "TVA",
		"net": "Montant HT", "total_net": "Total HT", "vat_of": "TVA", "total": "Total TTC", "already_paid": "Déjà réglé",
		"siret": "SIRET", "vat_number": "N° TVA", "department": "Service",
		"method": "Moyen de paiement", "choose": "Choisissez comment payer",
		"sepa": "Virement SEPA", "sepa_hint": "depuis votre banque en ligne",
		"sepa_text":   "Vous allez être redirigé vers votre banque pour autoriser un virement SEPA de %s. Rien n'est débité sans votre accord dans l'espace de votre banque.",
		"beneficiary": "Le virement est versé à", "account": "Compte", "pay": "Payer par virement",
		"card": "Carte bancaire (bientôt disponible)", "card_now": "Carte bancaire", "card_hint": "CB, Visa, Mastercard",
		"card_number": "Numéro de carte", "card_expiry": "Date d'expiration (MM / AAAA)", "month": "Mois d'expiration", "year": "Année d'expiration",
		"card_cvc": "Cryptogramme (3 chiffres au dos)", "pay_card": "Payer par carte",
		"card_test": "Bac à sable : cartes de test 4242 4242 4242 4242 (acceptée), 4000 0000 0000 0002 (refusée), 4000 0000 0000 9995 (fonds insuffisants).",
		"paid":      "Paiement reçu", "paid_text": "Votre paiement est arrivé : la facture est réglée. Merci.",
		"receipt": "Reçu de paiement", "paid_on": "Payé le", "paid_amount": "Montant payé", "reference": "Référence du paiement",
		"bank_reference": "Référence bancaire", "payer": "Payeur", "paid_by": "Moyen de paiement", "by_sepa": "Virement SEPA", "by_card": "Carte bancaire",
		"invoice_pdf": "Télécharger la facture (PDF)",
		"print":       "Imprimer le reçu", "print_hint": "Pour garder ce reçu, imprimez cette page ou enregistrez-la en PDF.",
		"processing": "Paiement en cours", "processing_text": "Votre banque traite le virement. Cette page se met à jour toute seule.",
		"verifying": "Paiement en vérification", "verifying_text": "Votre banque ne nous confirme plus l'état de ce virement. Le vendeur vérifie sa réception sur son compte : ne payez pas une seconde fois.",
		"failed": "Paiement refusé", "failed_text": "Le virement n'a pas abouti.", "closed": "Lien de paiement inactif",
		"closed_text": "Ce lien de paiement a expiré ou a été désactivé. Contactez l'émetteur de la facture.",
		"refunded":    "Paiement remboursé", "refunded_text": "Ce paiement a été remboursé, en tout ou en partie : ce lien de paiement est clos. Contactez l'émetteur de la facture pour toute question.",
		"notfound": "Page introuvable", "notfound_text": "Ce lien de paiement n'existe pas.", "back": "Revenir au site du marchand",
		"not_onboarded":  "Cet émetteur ne peut pas encore être payé en ligne : son compte bancaire est en cours d'enregistrement auprès du prestataire de paiement. Réessayez plus tard, ou payez par les moyens indiqués sur la facture.",
		"refund_account": "Compte transmis", "refund_account_text": "Merci : le compte que vous avez connecté a été transmis à l'émetteur de la facture, qui vous y versera votre remboursement par virement. Vous pouvez fermer cette page.",
		"other": "English", "other_lang": "en"},
	"en": {"title": "Pay your invoice", "invoice": "Invoice", "seller": "Issued by", "due": "Due date", "issued": "Issued on",
		"amount": "Amount to pay", "description": "Description", "quantity": "Qty", "unit_price": "Unit price excl. VAT", "vat_rate": "VAT",
		"net": "Net amount", "total_net": "Total excl. VAT", "vat_of": "VAT", "total": "Total incl. VAT", "already_paid": "Already paid",
		"siret": "SIRET", "vat_number": "VAT number", "department": "Department",
		"method": "Payment method", "choose": "Choose how to pay",
		"sepa": "SEPA transfer", "sepa_hint": "from your online bank",
		"sepa_text":   "You will be sent to your bank to authorise a SEPA transfer of %s. Nothing is debited until you approve it at your bank.",
		"beneficiary": "The transfer goes to", "account": "Account", "pay": "Pay by bank transfer",
		"card": "Card (coming soon)", "card_now": "Card", "card_hint": "CB, Visa, Mastercard",
		"card_number": "Card number", "card_expiry": "Expiry date (MM / YYYY)", "month": "Expiry month", "year": "Expiry year",
		"card_cvc": "Security code (3 digits on the back)", "pay_card": "Pay by card",
		"card_test": "Sandbox: test cards 4242 4242 4242 4242 (approved), 4000 0000 0000 0002 (declined), 4000 0000 0000 9995 (insufficient funds).",
		"paid":      "Payment received", "paid_text": "Your payment has arrived: the invoice is paid. Thank you.",
		"receipt": "Payment receipt", "paid_on": "Paid on", "paid_amount": "Amount paid", "reference": "Payment reference",
		"bank_reference": "Bank reference", "payer": "Payer", "paid_by": "Payment method", "by_sepa": "SEPA transfer", "by_card": "Card",
		"invoice_pdf": "Download the invoice (PDF)",
		"print":       "Print the receipt", "print_hint": "To keep this receipt, print this page or save it as a PDF.",
		"processing": "Payment in progress", "processing_text": "Your bank is processing the transfer. This page updates itself.",
		"verifying": "Payment being checked", "verifying_text": "Your bank no longer tells us the state of this transfer. The seller checks its account for it: do not pay a second time.",
		"failed": "Payment refused", "failed_text": "The transfer did not go through.", "closed": "Payment link inactive",
		"closed_text": "This payment link has expired or was deactivated. Contact the issuer of the invoice.",
		"refunded":    "Payment refunded", "refunded_text": "This payment was refunded, in whole or in part: this payment link is closed. Contact the issuer of the invoice with any question.",
		"notfound": "Page not found", "notfound_text": "This payment link does not exist.", "back": "Back to the merchant's site",
		"not_onboarded":  "This issuer cannot be paid online yet: its bank account is still being registered with the payment provider. Please try again later, or pay by the means shown on the invoice.",
		"refund_account": "Account sent", "refund_account_text": "Thank you: the account you connected was sent to the issuer of the invoice, who will pay your refund into it by bank transfer. You may close this page.",
		"other": "Français", "other_lang": "fr"},
}

// style is the pages' one stylesheet, inline (no request, no third party).
// Narrow screens (360 px) stack the lines table into labelled rows; the
// method choice hides the other method's panel with :has() — a browser
// without it shows both panels, each a complete form with its own button.
// Print shows the receipt alone.
const style = `*{box-sizing:border-box}body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1a1a1a;background:#f4f5f7;line-height:1.5}
.wrap{max-width:46rem;margin:0 auto;padding:1rem}header{display:flex;align-items:center;gap:.75rem;padding:.5rem 0 1rem}header img{max-height:48px;width:auto}
.brand{font-weight:700;font-size:1.1rem}.card{background:#fff;border:1px solid #d8dbe0;border-radius:8px;padding:1rem 1.25rem;margin:0 0 1rem}
h1{font-size:1.5rem;margin:.25rem 0 1rem}h2{font-size:1.15rem;margin:0 0 .75rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}
dt{color:#4a4f57}dd{margin:0;overflow-wrap:anywhere}table{width:100%;border-collapse:collapse;margin:.5rem 0}th,td{text-align:left;padding:.4rem .3rem;border-bottom:1px solid #d8dbe0;vertical-align:top}
th{font-weight:600;color:#4a4f57;font-size:.9rem}.totals th{font-weight:400;color:inherit;font-size:1rem}.num{text-align:right;white-space:nowrap}tfoot th,tfoot td{border:0;padding:.2rem .3rem}
.grand th,.grand td{font-weight:700;font-size:1.05rem;border-top:2px solid #1a1a1a}.topay{display:flex;justify-content:space-between;align-items:baseline;font-size:1.1rem;margin:.75rem 0 0}
.topay strong{font-size:1.6rem}.choice{border:0;padding:0;margin:0 0 1rem;display:grid;gap:.5rem}.choice legend{font-weight:600;margin-bottom:.5rem}
.option{display:flex;gap:.6rem;align-items:flex-start;border:2px solid #d8dbe0;border-radius:8px;padding:.7rem .9rem;cursor:pointer}
.option input{margin-top:.3rem;width:1.1rem;height:1.1rem}.option small{display:block;color:#4a4f57}.option:has(input:checked){border-color:var(--brand)}
.option:has(input:disabled){color:#6b7079;cursor:not-allowed}main:has(#m-sepa:checked) .p-card,main:has(#m-card:checked) .p-sepa{display:none}
.panel{border-top:1px solid #d8dbe0;padding-top:1rem;margin-top:1rem}label{font-weight:600}input[type=text]{font-size:1rem;padding:.55rem;border:1px solid #8a8f98;border-radius:6px;width:100%;max-width:22rem}
.row{display:flex;gap:.5rem;align-items:center}.row input{width:5.5rem}.field{margin:0 0 .8rem}
button{font-size:1.05rem;font-weight:600;padding:.8rem 1.4rem;background:var(--brand);color:#fff;border:0;border-radius:6px;cursor:pointer;width:100%;max-width:22rem}
button:focus-visible,input:focus-visible,a:focus-visible{outline:3px solid #f5a623;outline-offset:2px}a{color:var(--brand)}
.error{color:#a1151e;font-weight:600}.muted{color:#4a4f57;font-size:.9rem}.status{font-size:1.1rem}footer{display:flex;justify-content:space-between;gap:1rem;flex-wrap:wrap;padding:.5rem 0 2rem}
@media (max-width:34rem){.wrap{padding:.5rem}.card{padding:.9rem}.lines thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
.lines tbody tr{display:grid;grid-template-columns:1fr auto;gap:0 .5rem;border-bottom:1px solid #d8dbe0;padding:.4rem 0}
.lines tbody td{border:0;padding:.1rem .3rem}.lines tbody td[data-label]::before{content:attr(data-label)" : ";color:#4a4f57}.lines td.desc{grid-column:1/-1;font-weight:600}
dl{grid-template-columns:1fr}dt{margin-top:.3rem}}
@media print{body{background:#fff}.noprint,footer,form{display:none!important}.card{border:0;padding:0}}`

// script is the pages' progressive enhancement, allowed by its hash in the
// Content-Security-Policy: the print button of the receipt shows and
// prints; a page waiting for the bank polls the status route and reloads
// when the status changes (without it, a <noscript> refresh does).
const script = `(function(){var d=document,b=d.getElementById("print");if(b){b.hidden=false;b.addEventListener("click",function(){window.print()})}
var u=d.body.getAttribute("data-poll"),s=d.body.getAttribute("data-status");if(u&&window.fetch){setInterval(function(){fetch(u,{cache:"no-store"}).then(function(r){return r.json()}).then(function(j){if(j.status!==s){location.reload()}}).catch(function(){})},2000)}})();`

// scriptHash is the CSP source that allows exactly script.
var scriptHash = func() string {
	h := sha256.Sum256([]byte(script))
	return "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"
}()

const head = `{{define "head"}}<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><link rel="icon" href="data:,"><title>{{.PageTitle}}</title><style>` + style + `</style>
<style>:root{--brand:{{.Color}}}</style>{{if .Poll}}<noscript><meta http-equiv="refresh" content="3"></noscript>{{end}}</head>
<body{{if .Poll}} data-poll="{{.Poll}}" data-status="{{.P.Intent.Status}}"{{end}}><div class="wrap">
<header>{{if .P.Brand.LogoURL}}<img src="{{.P.Brand.LogoURL}}" alt="" height="48">{{end}}<span class="brand">{{.BrandName}}</span></header>
<main{{if .Poll}} role="status" aria-live="polite"{{end}}>{{end}}`

const foot = `{{define "foot"}}</main>
<footer class="noprint"><a href="?lang={{index .T "other_lang"}}" lang="{{index .T "other_lang"}}">{{index .T "other"}}</a></footer>
</div><script>` + script + `</script></body></html>{{end}}`

// invoiceCard is the invoice as a French invoice states it: the seller's
// legal identity, number and dates, lines with unit price and VAT rate,
// totals HT, VAT per rate and TTC.
const invoiceCard = `{{define "invoice"}}<section class="card" aria-labelledby="inv-h">
<h2 id="inv-h">{{index .T "invoice"}} {{.P.Invoice.InvoiceNumber}}</h2>
<dl>
<dt>{{index .T "seller"}}</dt><dd><strong>{{.Seller.LegalName}}</strong>{{if .Seller.TradeName}} ({{.Seller.TradeName}}){{end}}{{range .Seller.Address}}<br>{{.}}{{end}}</dd>
{{if .Seller.Department}}<dt>{{index .T "department"}}</dt><dd>{{.Seller.Department}}</dd>{{end}}
{{if .Seller.SIRET}}<dt>{{index .T "siret"}}</dt><dd>{{.Seller.SIRET}}</dd>{{end}}
{{if .Seller.VATNumber}}<dt>{{index .T "vat_number"}}</dt><dd>{{.Seller.VATNumber}}</dd>{{end}}
{{if .Issued}}<dt>{{index .T "issued"}}</dt><dd>{{.Issued}}</dd>{{end}}
<dt>{{index .T "due"}}</dt><dd>{{.Due}}</dd>
</dl>
<table class="lines"><thead><tr><th scope="col">{{index .T "description"}}</th><th scope="col" class="num">{{index .T "quantity"}}</th><th scope="col" class="num">{{index .T "unit_price"}}</th><th scope="col" class="num">{{index .T "vat_rate"}}</th><th scope="col" class="num">{{index .T "net"}}</th></tr></thead>
<tbody>{{range .Lines}}<tr><td class="desc">{{.Description}}</td><td class="num" data-label="{{index $.T "quantity"}}">{{.Quantity}}</td><td class="num" data-label="{{index $.T "unit_price"}}">{{.UnitPrice}}</td><td class="num" data-label="{{index $.T "vat_rate"}}">{{.Rate}}</td><td class="num" data-label="{{index $.T "net"}}">{{.Net}}</td></tr>{{end}}</tbody></table>
<table class="totals"><tbody>
<tr><th scope="row">{{index .T "total_net"}}</th><td class="num">{{.TotalNet}}</td></tr>
{{range .VAT}}<tr><th scope="row">{{index $.T "vat_of"}} {{.Rate}} <span class="muted">({{.Base}})</span></th><td class="num">{{.Amount}}</td></tr>{{end}}
<tr class="grand"><th scope="row">{{index .T "total"}}</th><td class="num">{{.Total}}</td></tr>
{{if .AlreadyPaid}}<tr><th scope="row">{{index .T "already_paid"}}</th><td class="num">{{.AlreadyPaid}}</td></tr>{{end}}
</tbody></table>
{{if .InvoicePDF}}<p class="noprint"><a href="{{.InvoicePDF}}" download>{{index .T "invoice_pdf"}}</a></p>{{end}}
</section>{{end}}`

var pageTmpl = template.Must(template.New("page").Parse(head + foot + invoiceCard + `{{template "head" .}}
{{if .Title}}<h1>{{.Title}}</h1><section class="card"><p class="status">{{.Message}}</p>
{{if and .Paid .ReturnURL}}<p><a href="{{.ReturnURL}}">{{index .T "back"}}</a></p>{{end}}</section>
{{if .Receipt}}{{template "receipt" .}}{{end}}
{{else}}<h1>{{index .T "title"}}</h1>
{{template "invoice" .}}
<section class="card" aria-labelledby="pay-h">
<h2 id="pay-h">{{index .T "method"}}</h2>
<p class="topay"><span>{{index .T "amount"}}</span> <strong>{{.Amount}}</strong></p>
{{if .Error}}<p role="alert" class="error">{{.Error}}</p>{{end}}
{{if .Choice}}<fieldset class="choice panel"><legend>{{index .T "choose"}}</legend>
<label class="option" for="m-sepa"><input type="radio" id="m-sepa" name="choice" value="sepa_credit"{{if not .CardChosen}} checked{{end}}><span>{{index .T "sepa"}} <small>{{index .T "sepa_hint"}}</small></span></label>
<label class="option" for="m-card"><input type="radio" id="m-card" name="choice" value="card"{{if .CardChosen}} checked{{end}}><span>{{index .T "card_now"}} <small>{{index .T "card_hint"}}</small></span></label>
</fieldset>{{end}}
{{if .SEPA}}<form class="panel p-sepa" method="post" action="/p/{{.Token}}/pay?lang={{.Lang}}">
<input type="hidden" name="csrf" value="{{.CSRF}}"><input type="hidden" name="method" value="sepa_credit">
{{if not .Choice}}<h3>{{index .T "sepa"}}</h3>{{end}}
<p>{{.SEPAText}}</p>
{{if .Beneficiary}}<p class="muted">{{index .T "beneficiary"}} <strong>{{.Beneficiary}}</strong>{{if .BeneficiaryIBAN}} — {{index .T "account"}} {{.BeneficiaryIBAN}}{{end}}{{if .BeneficiaryBank}} ({{.BeneficiaryBank}}){{end}}.</p>{{end}}
<button type="submit">{{index .T "pay"}}</button>
</form>{{end}}
{{if and .Card .CardsAvailable}}<form class="panel p-card" method="post" action="/p/{{.Token}}/pay?lang={{.Lang}}">
<input type="hidden" name="csrf" value="{{.CSRF}}"><input type="hidden" name="method" value="card">
{{if not .Choice}}<h3>{{index .T "card_now"}}</h3>{{end}}
<div class="field"><label for="card-number">{{index .T "card_number"}}</label><br><input type="text" id="card-number" name="card_number" inputmode="numeric" autocomplete="cc-number" required></div>
<div class="field"><label for="card-exp-month">{{index .T "card_expiry"}}</label><div class="row"><input type="text" id="card-exp-month" name="card_exp_month" inputmode="numeric" autocomplete="cc-exp-month" aria-label="{{index .T "month"}}" maxlength="2" required> / <input type="text" id="card-exp-year" name="card_exp_year" inputmode="numeric" autocomplete="cc-exp-year" aria-label="{{index .T "year"}}" maxlength="4" required></div></div>
<div class="field"><label for="card-cvc">{{index .T "card_cvc"}}</label><br><input type="text" id="card-cvc" name="card_cvc" inputmode="numeric" autocomplete="cc-csc" maxlength="4" required></div>
{{if .CardTestHint}}<p class="muted">{{index .T "card_test"}}</p>{{end}}
<button type="submit">{{index .T "pay_card"}}</button>
</form>{{else if .Card}}<p class="muted">{{index .T "card"}}</p>{{end}}
</section>{{end}}
{{template "foot" .}}` + receiptCard))

// receiptCard is what the payer keeps: amount, date, references, seller.
const receiptCard = `{{define "receipt"}}<section class="card" aria-labelledby="rc-h">
<h2 id="rc-h">{{index .T "receipt"}}</h2>
<dl>
<dt>{{index .T "paid_amount"}}</dt><dd><strong>{{.Receipt.Amount}}</strong></dd>
{{if .Receipt.Date}}<dt>{{index .T "paid_on"}}</dt><dd>{{.Receipt.Date}}</dd>{{end}}
<dt>{{index .T "paid_by"}}</dt><dd>{{.Receipt.Method}}</dd>
<dt>{{index .T "reference"}}</dt><dd>{{.Receipt.Reference}}</dd>
{{if .Receipt.BankReference}}<dt>{{index .T "bank_reference"}}</dt><dd>{{.Receipt.BankReference}}</dd>{{end}}
<dt>{{index .T "invoice"}}</dt><dd>{{.P.Invoice.InvoiceNumber}}</dd>
{{if .Receipt.Payer}}<dt>{{index .T "payer"}}</dt><dd>{{.Receipt.Payer}}</dd>{{end}}
<dt>{{index .T "seller"}}</dt><dd>{{.Seller.LegalName}}{{range .Seller.Address}}<br>{{.}}{{end}}{{if .Seller.SIRET}}<br>{{index .T "siret"}} {{.Seller.SIRET}}{{end}}</dd>
</dl>
<p class="noprint"><button type="button" id="print" hidden>{{index .T "print"}}</button></p>
<p class="muted noprint">{{index .T "print_hint"}}</p>
</section>
{{template "invoice" .}}{{end}}`

var statusTmpl = template.Must(template.New("status").Parse(head + foot + invoiceCard + receiptCard + `{{template "head" .}}
<h1>{{.Title}}</h1><section class="card"><p class="status">{{.Message}}</p>
<p>{{index .T "invoice"}} {{.P.Invoice.InvoiceNumber}} · {{.Amount}}</p>
{{if and .Final .ReturnURL}}<p><a href="{{.ReturnURL}}">{{index .T "back"}}</a></p>{{end}}</section>
{{if .Receipt}}{{template "receipt" .}}{{end}}
{{template "foot" .}}`))
