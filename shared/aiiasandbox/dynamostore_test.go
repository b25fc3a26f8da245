package aiiasandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/modupay/modupay/infra/engines/enginetest"
	"github.com/modupay/modupay/infra/stack"
	"github.com/modupay/modupay/shared/aiia"
	"github.com/modupay/modupay/shared/apperr"
)

func TestMain(m *testing.M) { enginetest.Main(m) }

// bankTable creates template.yaml's SandboxBankTable, as defined there,
// in DynamoDB Local under a prefix of the test's, and returns the store
// on it.
func bankTable(t *testing.T) DynamoStore {
	t.Helper()
	dyn, sqs := enginetest.Endpoints(t)
	_, file, _, _ := runtime.Caller(0)
	tpl, err := stack.Load(filepath.Join(filepath.Dir(file), "..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	table, ok := tpl.Resources["SandboxBankTable"]
	if !ok {
		t.Fatal("template.yaml has no SandboxBankTable")
	}
	only := *tpl
	only.Resources = map[string]stack.Resource{table.LogicalID: table}
	only.Order = []string{table.LogicalID}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	params := map[string]string{"Stage": "sandbox", "JWTKeysSecretId": "modupay/test/jwt-keys", "JWTActiveKid": "test-1",
		"PageKeysSecretId": "modupay/test/page-keys", "PageActiveKid": "page-1", "CSRFKeySecretId": "modupay/test/csrf-key",
		"DashboardKeysSecretId": "modupay/test/dashboard-keys"}
	res, err := stack.Provision(context.Background(), dyn, sqs, "b"+hex.EncodeToString(b), &only, params)
	if err != nil {
		t.Fatalf("provision the sandbox bank's table: %v", err)
	}
	p, ok := res.ByID[table.LogicalID]
	if !ok {
		t.Fatal("SandboxBankTable is not created in the sandbox stage")
	}
	return DynamoStore{DB: stack.NewDynamoDBClient(dyn), Table: p.Name}
}

// storeTests are the sandbox's tests that hold for every Store.
var storeTests = map[string]func(*testing.T){
	"PayoutOutcomes": TestPayoutOutcomes, "PayoutExpiresWithoutAuthorization": TestPayoutExpiresWithoutAuthorization,
	"PayoutIdempotent": TestPayoutIdempotent, "PayoutValidation": TestPayoutValidation,
	"PaymentOutcomesDrivenByThePayer": TestPaymentOutcomesDrivenByThePayer, "StatusProgressionOverDelays": TestStatusProgressionOverDelays,
	"FlowExpires": TestFlowExpires, "FlowFormErrors": TestFlowFormErrors, "Refunds": TestRefunds, "Idempotency": TestIdempotency,
	"FaultInjection": TestFaultInjection, "TimeoutThenRetryPaysOnce": TestTimeoutThenRetryPaysOnce, "FailEvery": TestFailEvery,
	"TokenExpiryIsTransparent": TestTokenExpiryIsTransparent, "ForceEveryPaymentStatus": TestForceEveryPaymentStatus,
	"FaultRoute": TestFaultRoute, "SandboxValidatesRequests": TestSandboxValidatesRequests,
	"ConcurrentDecisionsDecideOnce": TestConcurrentDecisionsDecideOnce, "ConcurrentRefundsNeverExceed": TestConcurrentRefundsNeverExceed,
	"PublicOnly": TestPublicOnly, "BankUnavailableForOnePayment": TestBankUnavailableForOnePayment,
}

// TestOnDynamoDB runs the sandbox's tests again on DynamoStore, against
// DynamoDB Local and the table template.yaml deploys, each test on a
// fresh table: what a partner meets in the deployed sandbox bank is what
// the local one does.
func TestOnDynamoDB(t *testing.T) {
	prev := testStore
	testStore = func(t *testing.T) Store { return bankTable(t) }
	t.Cleanup(func() { testStore = prev })
	for name, test := range storeTests {
		t.Run(name, test)
	}
}

// Two payers submitting one authorisation page at once (two containers of
// the deployed bank): one decision wins, the other sees the page decided.
func TestConcurrentDecisionsDecideOnce(t *testing.T) {
	w := newWorld(t, Options{})
	p := w.payment("pay-race")
	var wg sync.WaitGroup
	codes := make([]int, 8)
	for i := range codes {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			iban := "FR7612345678901234567890123"
			if i%2 == 1 {
				iban = "FR7612345678901234567890124"
			}
			resp, err := w.browser.PostForm(w.ts.URL+"/flow/"+p.ID, url.Values{"iban": {iban}, "decision": {"authorize"}})
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes[i] = resp.StatusCode
		}(i)
	}
	wg.Wait()
	won := 0
	for _, c := range codes {
		switch c {
		case http.StatusSeeOther:
			won++
		case http.StatusConflict:
		default:
			t.Errorf("decision answered %d", c)
		}
	}
	if won != 1 {
		t.Fatalf("%d decisions won (%v), want exactly 1", won, codes)
	}
}

// Concurrent refunds of one payment never sum past it.
func TestConcurrentRefundsNeverExceed(t *testing.T) {
	w := newWorld(t, Options{})
	p := w.pay("pay-refunds", "FR7612345678901234567890123")
	var wg sync.WaitGroup
	var mu sync.Mutex
	var total int64
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			rf, err := w.c.CreateRefund(context.Background(), p.ID, aiia.RefundInput{RequestID: "race-" + string(rune('a'+i)), Amount: 10000, Reason: aiia.RefundReasonOrderCancelled})
			if err != nil {
				if ae, ok := apperr.As(err); !ok || ae.Param != "amount" {
					t.Errorf("refund %d: %v", i, err)
				}
				return
			}
			mu.Lock()
			total += rf.Amount
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	if total > p.Amount || total != 40000 {
		t.Fatalf("refunded %d of %d, want the 4 refunds that fit (40000)", total, p.Amount)
	}
}

// The deployed bank is shared by every partner: no test hook, no index;
// its pages and forms live under its path.
func TestPublicOnly(t *testing.T) {
	w := newWorld(t, Options{PublicOnly: true, PublicURL: "https://api.sandbox.example", PathPrefix: "/sandbox-bank"})
	for _, r := range []struct{ method, path string }{
		{"GET", "/"}, {"POST", "/_sandbox/faults"}, {"DELETE", "/_sandbox/faults"},
		{"POST", "/_sandbox/tokens/expire"}, {"POST", "/_sandbox/payments/x/status"}, {"POST", "/_sandbox/refunds/x/status"},
	} {
		req, _ := http.NewRequest(r.method, w.ts.URL+r.path, strings.NewReader(`{"kind":"500"}`))
		resp, err := w.browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s %s = %d, want 404", r.method, r.path, resp.StatusCode)
		}
	}
	created, err := w.c.CreatePayment(context.Background(), paymentInput("pay-public", w.destination()))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.FlowURL, "https://api.sandbox.example/sandbox-bank/flow/") {
		t.Fatalf("flowUrl = %s", created.FlowURL)
	}
	resp, err := w.browser.Get(w.ts.URL + "/flow/" + created.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, _ = io.Copy(&b, resp.Body)
	if want := `action="/sandbox-bank/flow/` + created.ID + `"`; !strings.Contains(b.String(), want) {
		t.Fatalf("page's form does not post to %s", want)
	}
}

// The …0128 test IBAN is a fault scoped to one payment (the deployed
// sandbox has no fault hooks): its first status reads after the
// authorisation answer 503, the client retries, and the payment succeeds;
// other payments are not touched.
func TestBankUnavailableForOnePayment(t *testing.T) {
	w := newWorld(t, Options{})
	other := w.pay("pay-other", "FR7612345678901234567890123")
	p := w.payment("pay-flaky")
	w.submit(p.FlowURL, "FR7612345678901234567890128", "authorize")
	status := func(id string) int {
		req, _ := http.NewRequest(http.MethodGet, w.ts.URL+"/payments/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+w.token())
		resp, err := w.browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := status(other.ID); got != http.StatusOK {
		t.Fatalf("another payment's read = %d", got)
	}
	var got []int
	for range unavailableReads + 1 {
		got = append(got, status(p.ID))
	}
	if want := []int{503, 503, 503, 200}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("reads = %v, want %v", got, want)
	}
	if final := w.get(p.ID); final.Status != "PAYMENT_EXECUTED_CREDITED" {
		t.Fatalf("payment = %s", final.Status)
	}
}
