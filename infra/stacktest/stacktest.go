// Package stacktest gives integration tests a fresh copy of the stack on the
// real local engines: the table and queues of template.yaml, created under a
// prefix of the test's own, so tests never see each other's data.
package stacktest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/modupay/modupay/infra/engines/enginetest"
	"github.com/modupay/modupay/infra/stack"
	"github.com/modupay/modupay/shared/wiring"
)

// The secrets of test stacks (never used outside tests): distinct values,
// as in a deployed stack.
const (
	JWTKeys       = "test-1:dGVzdC1vbmx5LXNpZ25pbmcta2V5LTMyLWJ5dGVzLWxvbmch"
	JWTActiveKid  = "test-1"
	PageKeys      = "page-1:dGVzdC1vbmx5LXBhZ2UtdG9rZW4ta2V5LTMyLWJ5dGVzLWxvbmch"
	PageActiveKid = "page-1"
	CSRFKey       = "dGVzdC1vbmx5LWNoZWNrb3V0LWNzcmYta2V5LTMyLWJ5dGVzIQ=="
	// DashboardKeys sign the dashboard's sessions: a ring of two, the
	// first signing, so sessions of the second kid test a rotation.
	DashboardKeys      = "dash-2:dGVzdC1vbmx5LWRhc2hib2FyZC1zZXNzaW9uLWtleS10d28tMzJi," + DashboardOldKey
	DashboardOldKey    = "dash-1:dGVzdC1vbmx5LWRhc2hib2FyZC1zZXNzaW9uLWtleS1vbmUtMzJi"
	DashboardActiveKid = ""
)

// Stack is one provisioned copy.
type Stack struct {
	Template  *stack.Template
	Resources *stack.Resources
	Config    wiring.Config
}

// Root is the repository's root directory.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// New provisions a stack for tb on the engines (started if need be).
func New(tb testing.TB) *Stack {
	tb.Helper()
	dyn, sq := enginetest.Endpoints(tb)
	tpl, err := stack.Load(filepath.Join(Root(), "template.yaml"))
	if err != nil {
		tb.Fatalf("load template: %v", err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	prefix := "t" + hex.EncodeToString(b)
	// The secret ids satisfy the template; the test stack passes the values
	// themselves, as the local runtime does, and fetches nothing.
	params := map[string]string{"Stage": "sandbox", "JWTKeysSecretId": "modupay/test/jwt-keys", "JWTActiveKid": JWTActiveKid,
		"PageKeysSecretId": "modupay/test/page-keys", "PageActiveKid": PageActiveKid, "CSRFKeySecretId": "modupay/test/csrf-key",
		"DashboardKeysSecretId": "modupay/test/dashboard-keys", "DashboardActiveKid": DashboardActiveKid,
		"DynamoDBEndpoint": dyn, "SQSEndpoint": sq}
	res, err := stack.Provision(context.Background(), dyn, sq, prefix, tpl, params)
	if err != nil {
		tb.Fatalf("provision: %v", err)
	}
	env, err := res.Env(tpl, params)
	if err != nil {
		tb.Fatalf("environment: %v", err)
	}
	cfg := wiring.Config{
		Stage: env["MODUPAY_STAGE"], Region: stack.Region(), Table: env["MODUPAY_TABLE"], AuditQueueURL: env["MODUPAY_AUDIT_QUEUE_URL"], AiiaPollQueueURL: env["MODUPAY_AIIA_POLL_QUEUE_URL"], WebhookQueueURL: env["MODUPAY_WEBHOOK_QUEUE_URL"],
		JWTKeys: JWTKeys, JWTActiveKid: env["MODUPAY_JWT_ACTIVE_KID"], PublicBaseURL: env["MODUPAY_PUBLIC_BASE_URL"],
		PageKeys: PageKeys, PageActiveKid: env["MODUPAY_PAGE_ACTIVE_KID"], CSRFKey: CSRFKey,
		DashboardKeys: DashboardKeys, DashboardActiveKid: env["MODUPAY_DASHBOARD_ACTIVE_KID"],
		SandboxBankTable: env["MODUPAY_SANDBOX_BANK_TABLE"],
		DynamoDBEndpoint: dyn, SQSEndpoint: sq, Local: true,
		// The archive bucket has no local counterpart: a directory of the test's.
		AuditArchiveDir: tb.TempDir(),
		// The documents bucket neither: a directory of the test's.
		DocumentsDir: tb.TempDir(),
	}
	return &Stack{Template: tpl, Resources: res, Config: cfg}
}

// Clock is an injected, settable time for the app under test: tokens,
// revocation refreshes and timestamps follow it, so tests move time instead
// of sleeping.
type Clock struct {
	mu sync.Mutex
	t  time.Time
	// running clocks follow the wall clock, t being their offset from it.
	running bool
	offset  time.Duration
}

// NewClock starts a clock at t; it moves only when advanced.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// NewRunningClock starts a clock that follows the wall clock (for tests
// whose work is scheduled by real queues' delays) and can still jump ahead.
func NewRunningClock() *Clock { return &Clock{running: true} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.running {
		return time.Now().UTC().Add(c.offset)
	}
	return c.t
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.offset += d
	c.mu.Unlock()
}
