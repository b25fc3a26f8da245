package department

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/validation"
)

func TestSandboxAccountStatus(t *testing.T) {
	cases := []struct {
		name, accountName, want string
	}{
		{"plain name is verified", "Compte Régie Eau", AccountVerified},
		{"PENDING stays pending", "Compte PENDING", AccountPendingVerification},
		{"pending in any case", "compte pending", AccountPendingVerification},
		{"REJECT is rejected", "REJECT Compte", AccountRejected},
		{"REJECT wins over PENDING", "PENDING REJECT", AccountRejected},
		{"marker inside a word counts", "Rejected Ltd", AccountRejected},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := SandboxAccountStatus(c.accountName); got != c.want {
				t.Errorf("SandboxAccountStatus(%q) = %s, want %s", c.accountName, got, c.want)
			}
		})
	}
}

func TestNextPayout(t *testing.T) {
	approved := Department{KYCStatus: KYCApproved, DefaultAccountID: "ba-old", PayoutAccountID: "ba-old"}
	pendingDefault := Department{KYCStatus: KYCApproved, DefaultAccountID: "ba-new", PayoutAccountID: "ba-old"}
	beforeKYC := Department{KYCStatus: KYCNotSubmitted, DefaultAccountID: "ba-old", PayoutAccountID: "ba-old"}
	acct := func(id, status string) BankAccount { return BankAccount{ID: id, Status: status} }
	cases := []struct {
		name        string
		d           Department
		a           BankAccount
		makeDefault bool
		want        Payout
	}{
		{"first account is default and payout", Department{KYCStatus: KYCNotSubmitted}, acct("ba-1", AccountPendingVerification), false, Payout{"ba-1", "ba-1"}},
		{"before KYC the payout follows the default", beforeKYC, acct("ba-new", AccountPendingVerification), true, Payout{"ba-new", "ba-new"}},
		{"pending KYC: the payout still follows the default", Department{KYCStatus: KYCPending, DefaultAccountID: "ba-old", PayoutAccountID: "ba-old"}, acct("ba-new", AccountPendingVerification), true, Payout{"ba-new", "ba-new"}},
		{"after KYC a pending default is not paid", approved, acct("ba-new", AccountPendingVerification), true, Payout{"ba-new", "ba-old"}},
		{"after KYC a rejected default is not paid", approved, acct("ba-new", AccountRejected), true, Payout{"ba-new", "ba-old"}},
		{"after KYC a verified default is paid", approved, acct("ba-new", AccountVerified), true, Payout{"ba-new", "ba-new"}},
		{"a verified account that is not the default changes nothing", approved, acct("ba-other", AccountVerified), false, Payout{"ba-old", "ba-old"}},
		{"verifying the pending default moves the payout", pendingDefault, acct("ba-new", AccountVerified), false, Payout{"ba-new", "ba-new"}},
		{"rejecting the pending default keeps the payout", pendingDefault, acct("ba-new", AccountRejected), false, Payout{"ba-new", "ba-old"}},
		{"back to the verified payout account", pendingDefault, acct("ba-old", AccountVerified), true, Payout{"ba-old", "ba-old"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := NextPayout(c.d, c.a, c.makeDefault); got != c.want {
				t.Errorf("NextPayout = %+v, want %+v", got, c.want)
			}
		})
	}
}

// memStore records what the service asks the store to write; the rules of
// the writes themselves are tested against DynamoDB Local (infra/e2e).
type memStore struct {
	Store
	d        Department
	accounts map[string]BankAccount
	written  []event.Event
	after    Department
}

func (m *memStore) GetDepartment(_ context.Context, _, _ string) (Department, error) { return m.d, nil }
func (m *memStore) GetBankAccount(_ context.Context, _, _, id string) (BankAccount, error) {
	a, ok := m.accounts[id]
	if !ok {
		return BankAccount{}, errors.New("not found")
	}
	return a, nil
}
func (m *memStore) GetDepartmentAccount(ctx context.Context, p, d, id string) (Department, BankAccount, error) {
	a, err := m.GetBankAccount(ctx, p, d, id)
	return m.d, a, err
}
func (m *memStore) CreateBankAccount(_ context.Context, _, after Department, _ BankAccount, evs []event.Event) error {
	m.after, m.written = after, evs
	return nil
}
func (m *memStore) UpdateBankAccount(_ context.Context, _, after Department, _ BankAccount, evs []event.Event) error {
	m.after, m.written = after, evs
	return nil
}
func (m *memStore) ListDepartments(context.Context, string, string, listing.Query) (listing.Page[Department], error) {
	return listing.Page[Department]{}, nil
}

func eventTypes(evs []event.Event) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Type)
	}
	return out
}

func newTestService(strict bool, d Department, accounts ...BankAccount) (*Service, *memStore) {
	m := &memStore{d: d, accounts: map[string]BankAccount{}}
	for _, a := range accounts {
		m.accounts[a.ID] = a
	}
	n := 0
	at := time.Date(2024, 2, 1, 9, 0, 0, 0, time.UTC)
	return &Service{Store: m, Mode: validation.Mode{Strict: strict}, Now: func() time.Time { return at },
		NewID: func(p string) string { n++; return p + "-" + string(rune('a'+n)) }}, m
}

func TestCreateAccountOnApprovedDepartment(t *testing.T) {
	d := Department{ID: "dept-1", PartnerID: "p", OrgID: "o", KYCStatus: KYCApproved, DefaultAccountID: "ba-old", PayoutAccountID: "ba-old", Version: 3}
	yes := true
	body := func(name string) CreateAccountInput {
		return CreateAccountInput{IBAN: "FR7630006000011234567890189", BIC: "BNPAFRPPXXX", AccountName: name, IsDefault: &yes}
	}
	cases := []struct {
		name       string
		strict     bool
		account    string
		wantStatus string
		wantPayout string
		wantEvents []string
	}{
		{"sandbox verifies at once: the payout moves", false, "Compte Régie", AccountVerified, "",
			[]string{"bank_account.created", "bank_account.status_changed", "bank_account.default_changed", "bank_account.payout_changed"}},
		{"sandbox PENDING: the old account keeps the payments", false, "Compte PENDING", AccountPendingVerification, "ba-old",
			[]string{"bank_account.created", "bank_account.default_changed"}},
		{"sandbox REJECT: rejected, never paid", false, "REJECT", AccountRejected, "ba-old",
			[]string{"bank_account.created", "bank_account.status_changed", "bank_account.default_changed"}},
		{"production waits for an operator", true, "Compte Régie", AccountPendingVerification, "ba-old",
			[]string{"bank_account.created", "bank_account.default_changed"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, m := newTestService(c.strict, d)
			got, err := s.CreateAccount(context.Background(), Scope{PartnerID: "p"}, "dept-1", event.Actor{ID: "admin"}, body(c.account))
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != c.wantStatus || !got.IsDefault {
				t.Errorf("account status %s default %v, want %s and default", got.Status, got.IsDefault, c.wantStatus)
			}
			want := c.wantPayout
			if want == "" {
				want = got.ID
			}
			if m.after.DefaultAccountID != got.ID || m.after.PayoutAccountID != want || m.after.Version != d.Version+1 {
				t.Errorf("department after: default %s payout %s version %d; want %s, %s, %d", m.after.DefaultAccountID, m.after.PayoutAccountID, m.after.Version, got.ID, want, d.Version+1)
			}
			if g := eventTypes(m.written); strings.Join(g, ",") != strings.Join(c.wantEvents, ",") {
				t.Errorf("events %v, want %v", g, c.wantEvents)
			}
		})
	}
}

func TestDecideAccount(t *testing.T) {
	approved := Department{ID: "dept-1", PartnerID: "p", OrgID: "o", KYCStatus: KYCApproved, DefaultAccountID: "ba-new", PayoutAccountID: "ba-old", Version: 4}
	pending := BankAccount{ID: "ba-new", Status: AccountPendingVerification, Version: 1}
	other := BankAccount{ID: "ba-other", Status: AccountPendingVerification, Version: 1}
	verified := BankAccount{ID: "ba-old", Status: AccountVerified, Version: 1}
	reviewer := event.Actor{ID: "r", Type: "operator"}
	cases := []struct {
		name       string
		d          Department
		account    string
		approve    bool
		reason     *Reason
		wantErr    bool
		wantStatus string
		wantPayout string
		wantEvents []string
	}{
		{"approving the default moves the payout", approved, "ba-new", true, nil, false, AccountVerified, "ba-new",
			[]string{"bank_account.status_changed", "bank_account.payout_changed"}},
		{"approving another account keeps the payout", approved, "ba-other", true, nil, false, AccountVerified, "ba-old",
			[]string{"bank_account.status_changed"}},
		{"rejecting the default keeps the payout", approved, "ba-new", false, &Reason{Code: "holder_mismatch"}, false, AccountRejected, "ba-old",
			[]string{"bank_account.status_changed"}},
		{"a rejection needs a reason", approved, "ba-new", false, nil, true, "", "", nil},
		{"a verified account is not decided again", approved, "ba-old", true, nil, true, "", "", nil},
		{"before the KYC, the KYC decides", Department{ID: "dept-1", KYCStatus: KYCPending, DefaultAccountID: "ba-new", PayoutAccountID: "ba-new"}, "ba-new", true, nil, true, "", "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, m := newTestService(true, c.d, pending, other, verified)
			got, err := s.DecideAccount(context.Background(), "p", "dept-1", c.account, c.approve, c.reason, reviewer)
			if (err != nil) != c.wantErr {
				t.Fatalf("err = %v, want error %v", err, c.wantErr)
			}
			if c.wantErr {
				return
			}
			if got.Status != c.wantStatus || got.Version != 2 {
				t.Errorf("account %s v%d, want %s v2", got.Status, got.Version, c.wantStatus)
			}
			if m.after.PayoutAccountID != c.wantPayout || m.after.DefaultAccountID != c.d.DefaultAccountID {
				t.Errorf("department after: default %s payout %s, want %s and %s", m.after.DefaultAccountID, m.after.PayoutAccountID, c.d.DefaultAccountID, c.wantPayout)
			}
			if g := eventTypes(m.written); strings.Join(g, ",") != strings.Join(c.wantEvents, ",") {
				t.Errorf("events %v, want %v", g, c.wantEvents)
			}
		})
	}
}
