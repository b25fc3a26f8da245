// Package checkout serves the hosted payment page a payer opens from a
// payment link. It is public: the page's URL carries an unguessable token
// (sealed: encrypted and authenticated), and nothing else identifies the link. It works without
// JavaScript (one form per payment method, a refreshing status page; one
// small script, allowed by its hash, only adds the receipt's print button and
// status polling), is French by default (?lang=en for English), sends a
// strict Content-Security-Policy, and checks a per-page CSRF value and the
// request's origin on its forms.
package checkout

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/branding"
	"github.com/modupay/modupay/shared/documents"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/identifier"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/money"
	"github.com/modupay/modupay/shared/payment"
)

// Handlers holds the page's dependencies.
type Handlers struct {
	Flow *payment.Flow
	// CSRFKey signs the form's hidden field (HMAC of the page token).
	CSRFKey []byte
	// BaseURL is where this page is served (for the bank's return URL);
	// empty means the origin the page was requested on.
	BaseURL string
	// Sandbox lets the form's redirect reach the local bank sandbox over
	// plain http on this machine (browsers apply form-action to redirects).
	Sandbox bool
	Now     func() time.Time
	// Documents reads the invoice's documents kept at its issue (nil: the
	// page links none).
	Documents DocumentReader
}

// DocumentReader reads an issued invoice's kept documents
// (documents.Keeper).
type DocumentReader interface {
	Read(ctx context.Context, inv invoice.Invoice, kind documents.Kind, lang string) (documents.Document, error)
}

// Routes lists the page's routes, keyed as in template.yaml.
func (h *Handlers) Routes() []httpapi.Route {
	form := []string{"application/x-www-form-urlencoded"}
	return []httpapi.Route{
		{Key: "GET /p/{token}", Access: httpapi.Public, Handler: h.page},
		{Key: "POST /p/{token}/pay", Access: httpapi.Public, Handler: h.pay, Consumes: form},
		{Key: "GET /p/{token}/return", Access: httpapi.Public, Handler: h.returned},
		{Key: "GET /p/{token}/status", Access: httpapi.Public, Handler: h.status},
		{Key: "GET /p/{token}/invoice.pdf", Access: httpapi.Public, Handler: h.invoicePDF},
		{Key: "GET /p/refund-account", Access: httpapi.Public, Handler: h.refundAccount},
	}
}

// refundAccount is where the provider's account collection flow sends a
// payer back once they connected the account to refund (a refund the
// provider does not pay out). It names nothing: the query's refundId is
// not read, so the page tells nobody anything about a refund.
func (h *Handlers) refundAccount(_ context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	l := lang(r)
	return h.html(http.StatusOK, pageTmpl, view{Lang: l, T: words[l], Title: words[l]["refund_account"], Message: words[l]["refund_account_text"],
		Color: template.CSS(branding.DefaultColor)})
}

func (h *Handlers) csrf(token string) string {
	m := hmac.New(sha256.New, h.CSRFKey)
	m.Write([]byte("checkout:" + token))
	return hex.EncodeToString(m.Sum(nil))
}

// html renders a page with the headers every checkout page carries.
func (h *Handlers) html(status int, t *template.Template, data any) (*httpapi.Response, error) {
	var b strings.Builder
	if err := t.Execute(&b, data); err != nil {
		return nil, err
	}
	resp := httpapi.Raw(status, "text/html; charset=utf-8", []byte(b.String()))
	// form-action covers the redirect to the payer's bank: https only, and
	// in the sandbox also the local bank sandbox.
	formAction := "form-action 'self' https:"
	if h.Sandbox {
		formAction += " http://127.0.0.1:* http://localhost:*"
	}
	// img-src https: lets the partner's logo (an https URL) load.
	// script-src allows the one script of the pages by its hash; it polls
	// the status route (connect-src 'self').
	resp.Header.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: https:; script-src "+scriptHash+"; connect-src 'self'; "+formAction+"; frame-ancestors 'none'; base-uri 'none'")
	resp.Header.Set("Referrer-Policy", "no-referrer")
	resp.Header.Set("X-Frame-Options", "DENY")
	return resp, nil
}

type view struct {
	Lang, Title, Message string
	P                    payment.Page
	Amount, Due, Issued  string
	Lines                []line
	VAT                  []vatLine
	// TotalNet, TotalVAT and Total are the invoice's HT / TVA / TTC;
	// AlreadyPaid what earlier payments settled ("" when nothing).
	TotalNet, Total, AlreadyPaid string
	Seller                       seller
	// Beneficiary is whom the transfer credits: the account holder's name
	// as the bank holds it, the IBAN masked but for its last 4, the bank.
	Beneficiary, BeneficiaryIBAN, BeneficiaryBank string
	SEPAText                                      string
	CSRF, Token                                   string
	SEPA, Card, Final                             bool
	// Choice: both methods are offered, so the page shows the choice and
	// one panel per method; CardChosen selects the card's panel (a card
	// typed wrong comes back on it).
	Choice, CardChosen bool
	Paid               bool
	Receipt            *receipt
	ReturnURL          string
	T                  map[string]string
	// Error is what was wrong with the form (a card typed wrong).
	Error string
	// InvoicePDF is the invoice's document, as kept at its issue ("" when
	// none was kept).
	InvoicePDF string
	// CardsAvailable: a card provider is configured (the sandbox simulator);
	// CardTestHint shows the sandbox's test cards.
	CardsAvailable, CardTestHint bool
	// Color is the brand's colour, checked again here as #RRGGBB because it
	// is written into CSS.
	Color template.CSS
	// Poll is the status route a waiting page polls (with JavaScript).
	Poll string
}

// PageTitle is the document's title: the state's, else the page's.
func (v view) PageTitle() string {
	if v.Title != "" {
		return v.Title
	}
	return v.T["title"]
}

// BrandName is the white label's name, else the seller's.
func (v view) BrandName() string {
	if v.P.Brand.DisplayName != "" {
		return v.P.Brand.DisplayName
	}
	return v.Seller.LegalName
}

type line struct{ Description, Quantity, UnitPrice, Rate, Net string }

type vatLine struct{ Rate, Base, Amount string }

// seller is the invoice's issuer as the page shows it: legal name (the
// trade name beside it when different), address lines, SIRET, VAT number.
type seller struct {
	LegalName, TradeName, SIRET, VATNumber, Department string
	Address                                            []string
}

// receipt is what the payer keeps once paid.
type receipt struct{ Amount, Date, Method, Reference, BankReference, Payer string }

func lang(r *httpapi.Request) string {
	if r.Query.Get("lang") == "en" {
		return "en"
	}
	return "fr"
}

// notFound is the page of a token that names no link.
func (h *Handlers) notFound(l string) (*httpapi.Response, error) {
	return h.html(http.StatusNotFound, pageTmpl, view{Lang: l, T: words[l], Title: words[l]["notfound"], Message: words[l]["notfound_text"], Color: template.CSS(branding.DefaultColor)})
}

func (h *Handlers) page(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	token := r.PathParams["token"]
	l := lang(r)
	p, err := h.Flow.Open(ctx, token)
	if apperr.CodeOf(err) == apperr.NotFound {
		return h.notFound(l)
	}
	if err != nil {
		return nil, err
	}
	v := h.view(l, token, p)
	now := h.Now()
	switch {
	case refunded(p.Intent.Status):
		v.Title, v.Message = words[l]["refunded"], words[l]["refunded_text"]
	case p.Link.Status == payment.LinkCompleted || p.Intent.Status == payment.IntentSucceeded:
		v.Title, v.Message, v.Paid = words[l]["paid"], words[l]["paid_text"], true
		v.Receipt = receiptOf(l, p)
	case p.Link.Status != payment.LinkActive || !now.Before(p.Link.ExpiresAt):
		v.Title, v.Message = words[l]["closed"], words[l]["closed_text"]
	case p.Intent.Status == payment.IntentProcessing || p.Intent.Status == payment.IntentRequiresAction:
		return h.returned(ctx, r)
	}
	return h.html(http.StatusOK, pageTmpl, v)
}

// refunded says whether a refund has succeeded on the intent: its link is
// closed for good (it cannot be paid again) and the page says why.
func refunded(status string) bool {
	return status == payment.IntentRefunded || status == payment.IntentPartiallyRefunded
}

func (h *Handlers) view(l, token string, p payment.Page) view {
	inv := p.Invoice
	v := view{Lang: l, T: words[l], P: p, Token: token, CSRF: h.csrf(token), Amount: money.FormatEUR(p.Link.Amount),
		Due: formatDate(l, inv.DueDate), Issued: formatDate(l, inv.IssueDate), ReturnURL: p.Link.ReturnURL,
		TotalNet: money.FormatEUR(inv.TotalNet), Total: money.FormatEUR(inv.TotalAmount),
		Seller: sellerOf(inv.Seller), Color: template.CSS(branding.DefaultColor), CardTestHint: h.Sandbox}
	if inv.AmountPaid > 0 {
		v.AlreadyPaid = money.FormatEUR(inv.AmountPaid)
	}
	if h.Documents != nil && inv.DocumentsVersion > 0 {
		v.InvoicePDF = "/p/" + token + "/invoice.pdf?lang=" + l
	}
	if branding.UsableColor(p.Brand.PrimaryColor) {
		v.Color = template.CSS(p.Brand.PrimaryColor)
	}
	v.CardsAvailable = h.Flow.Cards != nil
	for _, m := range p.Link.PaymentMethods {
		v.SEPA = v.SEPA || m == payment.MethodSEPA
		v.Card = v.Card || m == payment.MethodCard
	}
	v.Choice = v.SEPA && v.Card && v.CardsAvailable
	v.SEPAText = fmt.Sprintf(words[l]["sepa_text"], v.Amount)
	if a := p.Account; a.AccountName != "" {
		v.Beneficiary, v.BeneficiaryBank = a.AccountName, a.BankName
		if a.IBAN != "" {
			// Its country and check digits, then its last 4: enough for the
			// payer to compare with what the bank will show.
			if m := identifier.MaskIBAN(a.IBAN); len(m) > 8 {
				v.BeneficiaryIBAN = m[:4] + " •••• " + m[len(m)-4:]
			}
		}
	}
	for _, li := range inv.LineItems {
		v.Lines = append(v.Lines, line{Description: li.Description, Quantity: li.Quantity.Localized(l),
			UnitPrice: money.FormatEUR(li.UnitPrice), Rate: li.VATRate.Percent(l), Net: money.FormatEUR(li.NetAmount)})
	}
	for _, vl := range inv.VATBreakdown {
		v.VAT = append(v.VAT, vatLine{Rate: vl.VATRate.Percent(l), Base: money.FormatEUR(vl.NetAmount), Amount: money.FormatEUR(vl.VATAmount)})
	}
	return v
}

func sellerOf(s invoice.Seller) seller {
	out := seller{LegalName: s.LegalName, SIRET: s.SIRET, VATNumber: s.VATNumber, Department: s.Department}
	if out.LegalName == "" {
		out.LegalName = s.Name
	} else if s.Name != "" && s.Name != s.LegalName {
		out.TradeName = s.Name
	}
	a := s.Address
	for _, part := range []string{a.Line1, a.Line2, strings.TrimSpace(a.PostalCode + " " + a.City)} {
		if part != "" {
			out.Address = append(out.Address, part)
		}
	}
	if a.Country != "" && a.Country != "FR" {
		out.Address = append(out.Address, a.Country)
	}
	return out
}

// receiptOf is the receipt of a paid intent.
func receiptOf(l string, p payment.Page) *receipt {
	pi := p.Intent
	rc := &receipt{Amount: money.FormatEUR(pi.Amount), Reference: pi.ID, BankReference: pi.AiiaTransactionID, Payer: p.Invoice.Payer.Name,
		Method: words[l]["by_sepa"]}
	if pi.SelectedPaymentMethod == payment.MethodCard {
		rc.Method, rc.BankReference = words[l]["by_card"], ""
	}
	if pi.CompletedAt != nil {
		rc.Date = formatTime(l, *pi.CompletedAt)
	}
	return rc
}

// formatDate renders an ISO date (2024-04-15) as the language writes it:
// 15/04/2024, or 15 Apr 2024; what does not parse is shown as it is.
func formatDate(l, iso string) string {
	if iso == "" {
		return ""
	}
	d, err := time.Parse(time.DateOnly, iso)
	if err != nil {
		return iso
	}
	if l == "en" {
		return d.Format("2 Jan 2006")
	}
	return d.Format("02/01/2006")
}

// formatTime renders an instant in Paris time.
func formatTime(l string, t time.Time) string {
	t = t.In(invoice.Paris)
	if l == "en" {
		return t.Format("2 Jan 2006, 15:04 (Paris time)")
	}
	return t.Format("02/01/2006 à 15:04 (heure de Paris)")
}

// pay starts the SEPA transfer and sends the payer to the bank.
func (h *Handlers) pay(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	const op = "checkout.pay"
	token := r.PathParams["token"]
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return nil, apperr.E(op, apperr.Forbidden, "cross-site form submission refused")
	}
	form, err := parseForm(r.Body)
	if err != nil || !hmac.Equal([]byte(form.Get("csrf")), []byte(h.csrf(token))) {
		return nil, apperr.E(op, apperr.Forbidden, "the form is stale or forged: reload the payment page")
	}
	l := lang(r)
	if form.Get("method") == payment.MethodCard {
		return h.payByCard(ctx, r, token, l, form)
	}
	if form.Get("method") != payment.MethodSEPA {
		return nil, apperr.Field(op, "method", "choose sepa_credit or card")
	}
	base := h.BaseURL
	if base == "" {
		base = r.Origin()
	}
	flowURL, err := h.Flow.PayBySEPA(ctx, token, strings.TrimRight(base, "/")+"/p/"+token+"/return?lang="+l)
	if errors.Is(err, payment.ErrNotOnboarded) {
		// Nothing was started: the page says why, rather than a status
		// page that would wait for a transfer that does not exist.
		p, perr := h.Flow.Open(ctx, token)
		if perr != nil {
			return nil, perr
		}
		v := h.view(l, token, p)
		v.Error = v.T["not_onboarded"]
		return h.html(http.StatusConflict, pageTmpl, v)
	}
	if err != nil {
		if apperr.CodeOf(err) == apperr.Conflict {
			return redirect("/p/" + token + "/return?lang=" + l), nil
		}
		return nil, err
	}
	return redirect(flowURL), nil
}

// payByCard charges the card and sends the payer to the status page; a card
// typed wrong shows the page again with the reason.
func (h *Handlers) payByCard(ctx context.Context, r *httpapi.Request, token, l string, form url.Values) (*httpapi.Response, error) {
	_, err := h.Flow.PayByCard(ctx, token, payment.Card{Number: form.Get("card_number"), ExpMonth: form.Get("card_exp_month"),
		ExpYear: form.Get("card_exp_year"), CVC: form.Get("card_cvc")})
	if ae, ok := apperr.As(err); ok && ae.Code == apperr.Invalid {
		p, perr := h.Flow.Open(ctx, token)
		if perr != nil {
			return nil, perr
		}
		v := h.view(l, token, p)
		v.Error, v.CardChosen = ae.Message, true
		return h.html(http.StatusUnprocessableEntity, pageTmpl, v)
	}
	if err != nil && apperr.CodeOf(err) != apperr.Conflict {
		return nil, err
	}
	return redirect("/p/" + token + "/return?lang=" + l), nil
}

func redirect(to string) *httpapi.Response {
	resp := httpapi.Raw(http.StatusSeeOther, "text/plain; charset=utf-8", nil)
	resp.Header.Set("Location", to)
	return resp
}

// returned is where the bank sends the payer back. It never trusts the
// redirect's parameters: it shows the intent's status as the poller last
// read it from the bank, refreshing itself until it is final.
func (h *Handlers) returned(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	token := r.PathParams["token"]
	l := lang(r)
	p, err := h.Flow.Open(ctx, token)
	if apperr.CodeOf(err) == apperr.NotFound {
		return h.notFound(l)
	}
	if err != nil {
		return nil, err
	}
	v := h.view(l, token, p)
	switch p.Intent.Status {
	case payment.IntentRefunded, payment.IntentPartiallyRefunded:
		v.Title, v.Message, v.Final = words[l]["refunded"], words[l]["refunded_text"], true
	case payment.IntentSucceeded:
		v.Title, v.Message, v.Paid, v.Final = words[l]["paid"], words[l]["paid_text"], true, true
		v.Receipt = receiptOf(l, p)
	case payment.IntentFailed:
		v.Title, v.Message, v.Final = words[l]["failed"], words[l]["failed_text"]+" "+p.Intent.FailureReason, true
	case payment.IntentRequiresAction:
		// The provider lost track of the transfer: nothing more will come
		// to poll for, and paying again could pay twice.
		v.Title, v.Message, v.Final = words[l]["verifying"], words[l]["verifying_text"], true
	default:
		v.Title, v.Message = words[l]["processing"], words[l]["processing_text"]
		v.Poll = "/p/" + token + "/status"
	}
	return h.html(http.StatusOK, statusTmpl, v)
}

// invoicePDF is the invoice's PDF, as kept at its issue, for the payer who
// holds the page's token (one BatchGetItem, one object fetch), in the
// page's language. A page whose invoice has no kept document is the page's
// 404, as an unknown token.
func (h *Handlers) invoicePDF(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	l := lang(r)
	p, err := h.Flow.Open(ctx, r.PathParams["token"])
	if apperr.CodeOf(err) == apperr.NotFound || (err == nil && (h.Documents == nil || p.Invoice.DocumentsVersion == 0)) {
		return h.notFound(l)
	}
	if err != nil {
		return nil, err
	}
	d, err := h.Documents.Read(ctx, p.Invoice, documents.PDF, l)
	if err != nil {
		return nil, err
	}
	resp := httpapi.File(d.ContentType, d.FileName, d.Body)
	resp.Header.Set("Referrer-Policy", "no-referrer")
	return resp, nil
}

// status is the small JSON route the status page can poll.
func (h *Handlers) status(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	p, err := h.Flow.Open(ctx, r.PathParams["token"])
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, map[string]any{"status": p.Intent.Status, "aiia_status": p.Intent.AiiaStatus,
		"link_status": p.Link.Status, "amount": p.Link.Amount, "currency": p.Link.Currency})
}
