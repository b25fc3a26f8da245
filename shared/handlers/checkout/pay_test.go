package checkout

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/payment"
)

// pageStore serves one page; a write fails the test. Any other method
// panics (the embedded nil interface).
type pageStore struct {
	payment.TransferStore
	t    *testing.T
	page payment.Page
}

func (s pageStore) PageByToken(_ context.Context, token string) (payment.Page, error) {
	if token != "tok" {
		return payment.Page{}, apperr.E("test", apperr.NotFound, "payment page not found")
	}
	return s.page, nil
}

func (s pageStore) UpdateIntent(context.Context, payment.Intent, []event.Event) error {
	s.t.Error("the intent was written although nothing could be started")
	return nil
}

// unonboarded is a bank where the account awaits its destination id.
type unonboarded struct {
	payment.Bank
	t *testing.T
}

func (b unonboarded) Destination(context.Context, department.BankAccount) (string, error) {
	return "", payment.ErrNotOnboarded
}

func (b unonboarded) StartTransfer(context.Context, payment.TransferRequest) (payment.Transfer, error) {
	b.t.Error("a transfer was started to an account without a destination")
	return payment.Transfer{}, nil
}

// A payer who chooses the transfer while the issuer's account is not yet
// registered at the provider sees the page again with the reason (409), in
// their language, instead of a status page waiting for nothing.
func TestPayToAnAccountNotOnboarded(t *testing.T) {
	p := fixture(t)
	p.Intent.Status = payment.IntentCreated
	h := &Handlers{CSRFKey: []byte("k"), BaseURL: "https://pay.example.test", Now: time.Now,
		Flow: &payment.Flow{Store: pageStore{t: t, page: p}, Bank: unonboarded{t: t}, Now: time.Now, NewID: func(p string) string { return p + "-1" }}}
	for l, want := range map[string]string{"fr": "ne peut pas encore être payé en ligne", "en": "cannot be paid online yet"} {
		body := url.Values{"csrf": {h.csrf("tok")}, "method": {payment.MethodSEPA}}.Encode()
		resp, err := h.pay(context.Background(), &httpapi.Request{Method: "POST", PathParams: map[string]string{"token": "tok"},
			Query: url.Values{"lang": {l}}, Header: http.Header{}, Body: []byte(body)})
		if err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		if resp.Status != http.StatusConflict || !strings.Contains(string(resp.Body), want) || resp.Header.Get("Location") != "" {
			t.Errorf("%s: %d %q\n%s", l, resp.Status, resp.Header.Get("Location"), resp.Body)
		}
	}
}
