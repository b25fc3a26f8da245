package payment_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/aiia"
	"github.com/modupay/modupay/shared/aiiabank"
	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/payment"
)

const iban = "FR7630006000011234567890189"

// provider is the bank at the end of aiiabank.Bank. Where destinations are
// recorded by an operator, CreateDestination is an invented route: a call
// to it fails the test. Any method it does not define panics (the embedded
// nil interface), which fails the test too.
type provider struct {
	aiia.Provider
	t              *testing.T
	allowDest      bool
	dests, payment []string
}

func (p *provider) CreateDestination(_ context.Context, in aiia.DestinationInput) (aiia.Destination, error) {
	if !p.allowDest {
		p.t.Errorf("POST /destinations called for %s: ModuPay must never call it when an operator records destinations", in.RequestID)
	}
	p.dests = append(p.dests, in.RequestID)
	return aiia.Destination{ID: "dst-sandbox-1"}, nil
}

func (p *provider) CreatePayment(_ context.Context, in aiia.PaymentInput) (aiia.Payment, error) {
	p.payment = append(p.payment, in.DestinationID)
	return aiia.Payment{ID: "pay-1", FlowURL: "https://bank.example.test/flow/pay-1"}, nil
}

// store is the page of one link and the account it pays into; writes are
// recorded. Any other method panics.
type store struct {
	payment.TransferStore
	page       payment.Page
	dept       department.Department
	setDest    []string
	intents    []payment.Intent
	intentEvts int
}

func (s *store) PageByToken(_ context.Context, token string) (payment.Page, error) {
	if token != "tok" {
		return payment.Page{}, apperr.E("test", apperr.NotFound, "payment link not found")
	}
	return s.page, nil
}

func (s *store) SetDestination(_ context.Context, a department.BankAccount, dest string) error {
	s.setDest = append(s.setDest, a.ID+"="+dest)
	return nil
}

func (s *store) UpdateIntent(_ context.Context, pi payment.Intent, evs []event.Event) error {
	s.intents = append(s.intents, pi)
	s.intentEvts += len(evs)
	return nil
}

func (s *store) GetDepartment(_ context.Context, partnerID, deptID string) (department.Department, error) {
	if partnerID != s.dept.PartnerID || deptID != s.dept.ID {
		return department.Department{}, apperr.E("test", apperr.NotFound, "department not found")
	}
	return s.dept, nil
}

func (s *store) GetBankAccount(_ context.Context, partnerID, deptID, accountID string) (department.BankAccount, error) {
	a := s.page.Account
	if partnerID != a.PartnerID || deptID != a.DepartmentID || accountID != a.ID {
		return department.BankAccount{}, apperr.E("test", apperr.NotFound, "bank account not found")
	}
	return a, nil
}

func fixture(t *testing.T, onboarding aiiabank.MerchantOnboarding, dest string) (*payment.Flow, *store, *provider, *bytes.Buffer) {
	t.Helper()
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	acct := department.BankAccount{ID: "ba-1", PartnerID: "ptn-1", DepartmentID: "dept-1", OrgID: "org-1", IBAN: iban, BIC: "AGRIFRPPXXX",
		AccountName: "Régie SAS", Status: department.AccountVerified, AiiaDestinationID: dest}
	st := &store{
		page: payment.Page{
			Link: payment.Link{ID: "pl-1", Status: payment.LinkActive, ExpiresAt: now.Add(time.Hour), PartnerID: "ptn-1", OrgID: "org-1",
				DepartmentID: "dept-1", BankAccountID: "ba-1", Amount: 12000, Currency: "EUR"},
			Intent: payment.Intent{ID: "pi-1", PaymentLinkID: "pl-1", InvoiceID: "inv-1", Amount: 12000, Currency: "EUR", Status: payment.IntentCreated,
				PartnerID: "ptn-1", OrgID: "org-1", Version: 1},
			Invoice: invoice.Invoice{ID: "inv-1", PartnerID: "ptn-1", OrgID: "org-1", InvoiceNumber: "FAC-2026-00001", Payer: invoice.Payer{Email: "payer@example.test"}},
			Account: acct,
		},
		dept: department.Department{ID: "dept-1", PartnerID: "ptn-1", OrgID: "org-1", KYCStatus: department.KYCApproved, PayoutAccountID: "ba-1"},
	}
	p := &provider{t: t}
	var logs bytes.Buffer
	n := 0
	f := &payment.Flow{Store: st, Bank: aiiabank.Bank{Provider: p, Onboarding: onboarding}, Now: func() time.Time { return now },
		NewID: func(prefix string) string { n++; return prefix + "-" + string(rune('a'+n)) },
		Log:   slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	return f, st, p, &logs
}

// logLines decodes the JSON log lines.
func logLines(t *testing.T, b *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

// checkOperatorLine: one line at level, naming the account by ids only,
// and one occurrence of the DestinationsAwaited metric.
func checkOperatorLine(t *testing.T, logs *bytes.Buffer, level string) {
	t.Helper()
	if strings.Contains(logs.String(), iban) || strings.Contains(logs.String(), iban[len(iban)-4:]) || strings.Contains(logs.String(), "Régie") {
		t.Errorf("the log shows the IBAN or the holder: %s", logs)
	}
	lines := logLines(t, logs)
	if len(lines) != 1 {
		t.Fatalf("%d log lines, want 1: %s", len(lines), logs)
	}
	l := lines[0]
	if l["level"] != level || l["partner_id"] != "ptn-1" || l["department_id"] != "dept-1" || l["bank_account_id"] != "ba-1" ||
		!strings.Contains(l["msg"].(string), "operator aiia-destination") {
		t.Errorf("log line %v: want %s naming ptn-1, dept-1, ba-1 and the command", l, level)
	}
	if l[payment.DestinationsAwaited] != float64(1) || !strings.Contains(logs.String(), `"Name":"DestinationsAwaited"`) ||
		!strings.Contains(logs.String(), `"Namespace":"ModuPay"`) {
		t.Errorf("log line %s: want the DestinationsAwaited metric", logs)
	}
}

// Production's way: an account without a destination id is not payable
// online. The payer is told so (409); the provider is never asked for a
// destination, nothing is written, no transfer started; operators get a
// line naming the account (never its IBAN).
func TestOperatorDestinationsRefuseAPaymentWithoutWritingAnything(t *testing.T) {
	for name, ob := range map[string]aiiabank.MerchantOnboarding{"operator": aiiabank.OperatorDestinations{}, "nil (the default)": nil} {
		t.Run(name, func(t *testing.T) {
			f, st, p, logs := fixture(t, ob, "")
			url, err := f.PayBySEPA(context.Background(), "tok", "https://pay.example.test/p/tok/return")
			ae, ok := apperr.As(err)
			if !ok || ae.Code != apperr.Conflict || ae.Message != payment.NotPayableOnline || !errors.Is(err, payment.ErrNotOnboarded) || url != "" {
				t.Fatalf("PayBySEPA = %q, %v; want 409 %q", url, err, payment.NotPayableOnline)
			}
			if !strings.Contains(ae.Message, "cannot be paid online yet") || strings.Contains(ae.Message, "Aiia") || strings.Contains(ae.Message, "destination") {
				t.Errorf("the payer reads %q", ae.Message)
			}
			if len(st.setDest) != 0 || len(st.intents) != 0 || len(p.dests) != 0 || len(p.payment) != 0 {
				t.Errorf("writes %v, intents %v, destinations %v, transfers %v: want none", st.setDest, st.intents, p.dests, p.payment)
			}
			checkOperatorLine(t, logs, "ERROR")
		})
	}
}

// Once an operator has recorded the id, the payment goes to it, and the
// provider is still never asked for a destination.
func TestOperatorDestinationsPayTheRecordedDestination(t *testing.T) {
	f, st, p, logs := fixture(t, aiiabank.OperatorDestinations{}, "dst-recorded-7")
	url, err := f.PayBySEPA(context.Background(), "tok", "https://pay.example.test/p/tok/return")
	if err != nil || url != "https://bank.example.test/flow/pay-1" {
		t.Fatalf("PayBySEPA = %q, %v", url, err)
	}
	if len(p.payment) != 1 || p.payment[0] != "dst-recorded-7" || len(p.dests) != 0 || len(st.setDest) != 0 {
		t.Errorf("transfers to %v, destinations created %v, stored %v", p.payment, p.dests, st.setDest)
	}
	if n := len(st.intents); n != 2 || st.intents[n-1].Status != payment.IntentProcessing {
		t.Errorf("intents written %+v: want pending then processing", st.intents)
	}
	if logs.Len() != 0 {
		t.Errorf("logs: %s", logs)
	}
}

// KYC approved or payout moved, with ids recorded by operators: the
// provider is not called, nothing is written, the message is done (no
// retry, no park) and a warning with its metric names the account.
func TestOperatorDestinationsOnboardWarns(t *testing.T) {
	f, st, _, logs := fixture(t, aiiabank.OperatorDestinations{}, "")
	if err := f.Onboard(context.Background(), "ptn-1", "dept-1"); err != nil {
		t.Fatalf("Onboard: %v", err)
	}
	if len(st.setDest) != 0 {
		t.Errorf("stored %v", st.setDest)
	}
	checkOperatorLine(t, logs, "WARN")

	// An account that has its id, one pending verification, a department
	// whose KYC is not approved: nothing to say.
	for name, change := range map[string]func(*store){
		"recorded":             func(s *store) { s.page.Account.AiiaDestinationID = "dst-9" },
		"pending verification": func(s *store) { s.page.Account.Status = department.AccountPendingVerification },
		"kyc pending":          func(s *store) { s.dept.KYCStatus = department.KYCPending },
	} {
		f, st, _, logs := fixture(t, aiiabank.OperatorDestinations{}, "")
		change(st)
		if err := f.Onboard(context.Background(), "ptn-1", "dept-1"); err != nil || logs.Len() != 0 || len(st.setDest) != 0 {
			t.Errorf("%s: %v, logs %s, stored %v", name, err, logs, st.setDest)
		}
	}
}

// The sandbox's way: the bank is asked once, the id kept on the account.
func TestAPIDestinationsOnboardAutomatically(t *testing.T) {
	f, st, p, logs := fixture(t, nil, "")
	p.allowDest = true
	f.Bank = aiiabank.Bank{Provider: p, Onboarding: aiiabank.APIDestinations{Provider: p}}
	url, err := f.PayBySEPA(context.Background(), "tok", "https://pay.example.test/p/tok/return")
	if err != nil || url == "" {
		t.Fatalf("PayBySEPA = %q, %v", url, err)
	}
	if len(p.dests) != 1 || p.dests[0] != "dest-ba-1" || len(st.setDest) != 1 || st.setDest[0] != "ba-1=dst-sandbox-1" ||
		len(p.payment) != 1 || p.payment[0] != "dst-sandbox-1" {
		t.Errorf("destinations %v, stored %v, transfers %v", p.dests, st.setDest, p.payment)
	}
	if err := f.Onboard(context.Background(), "ptn-1", "dept-1"); err != nil || len(p.dests) != 2 || len(st.setDest) != 2 {
		t.Errorf("Onboard: %v, destinations %v, stored %v", err, p.dests, st.setDest)
	}
	if logs.Len() != 0 {
		t.Errorf("logs: %s", logs)
	}
}
