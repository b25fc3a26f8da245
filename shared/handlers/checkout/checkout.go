// Package checkout serves the hosted payment page a payer opens from a
// payment link. It is public: the page's URL carries an unguessable token
// (sealed: encrypted and authenticated), and nothing else identifies the link. It works without
// JavaScript (forms and a refreshing status page), is French by default
// (?lang=en for English), sends a strict Content-Security-Policy, and checks
// a per-page CSRF value and the request's origin on its one form.
package checkout

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/branding"
	"github.com/modupay/modupay/shared/httpapi"
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
}

// Routes lists the page's routes, keyed as in template.yaml.
func (h *Handlers) Routes() []httpapi.Route {
	form := []string{"application/x-www-form-urlencoded"}
	return []httpapi.Route{
		{Key: "GET /p/{token}", Access: httpapi.Public, Handler: h.page},
		{Key: "POST /p/{token}/pay", Access: httpapi.Public, Handler: h.pay, Consumes: form},
		{Key: "GET /p/{token}/return", Access: httpapi.Public, Handler: h.returned},
		{Key: "GET /p/{token}/status", Access: httpapi.Public, Handler: h.status},
	}
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
	resp.Header.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: https:; "+formAction+"; frame-ancestors 'none'; base-uri 'none'")
	resp.Header.Set("Referrer-Policy", "no-referrer")
	resp.Header.Set("X-Frame-Options", "DENY")
	return resp, nil
}

type view struct {
	Lang, Title, Message string
	P                    payment.Page
	Amount, Due          string
	Lines                []line
	CSRF, Token          string
	SEPA, Card, Final    bool
	Paid                 bool
	ReturnURL            string
	T                    map[string]string
	// Error is what was wrong with the form (a card typed wrong).
	Error string
	// CardsAvailable: a card provider is configured (the sandbox simulator).
	CardsAvailable bool
	// Color is the brand's colour, checked again here as #RRGGBB because it
	// is written into CSS.
	Color template.CSS
}

type line struct{ Description, Quantity, Net string }

func lang(r *httpapi.Request) string {
	if r.Query.Get("lang") == "en" {
		return "en"
	}
	return "fr"
}

func (h *Handlers) page(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	token := r.PathParams["token"]
	l := lang(r)
	p, err := h.Flow.Open(ctx, token)
	if apperr.CodeOf(err) == apperr.NotFound {
		return h.html(http.StatusNotFound, pageTmpl, view{Lang: l, T: words[l], Title: words[l]["notfound"], Message: words[l]["notfound_text"], Color: template.CSS(branding.DefaultColor)})
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
	case p.Link.Status != payment.LinkActive || !now.Before(p.Link.ExpiresAt):
		v.Title, v.Message = words[l]["closed"], words[l]["closed_text"]
	case p.Intent.Status == payment.IntentProcessing:
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
	v := view{Lang: l, T: words[l], P: p, Token: token, CSRF: h.csrf(token), Amount: money.FormatEUR(p.Link.Amount),
		Due: p.Invoice.DueDate, ReturnURL: p.Link.ReturnURL, Color: template.CSS(branding.DefaultColor)}
	if branding.UsableColor(p.Brand.PrimaryColor) {
		v.Color = template.CSS(p.Brand.PrimaryColor)
	}
	v.CardsAvailable = h.Flow.Cards != nil
	for _, m := range p.Link.PaymentMethods {
		v.SEPA = v.SEPA || m == payment.MethodSEPA
		v.Card = v.Card || m == payment.MethodCard
	}
	for _, li := range p.Invoice.LineItems {
		v.Lines = append(v.Lines, line{Description: li.Description, Quantity: li.Quantity.String(), Net: money.FormatEUR(li.NetAmount)})
	}
	return v
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
		v.Error = ae.Message
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
		return h.html(http.StatusNotFound, pageTmpl, view{Lang: l, T: words[l], Title: words[l]["notfound"], Message: words[l]["notfound_text"], Color: template.CSS(branding.DefaultColor)})
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
	case payment.IntentFailed:
		v.Title, v.Message, v.Final = words[l]["failed"], words[l]["failed_text"]+" "+p.Intent.FailureReason, true
	default:
		v.Title, v.Message = words[l]["processing"], words[l]["processing_text"]
	}
	return h.html(http.StatusOK, statusTmpl, v)
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
