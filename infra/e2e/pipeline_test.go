package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// A committed change reaches the audit trail through the stream, the event
// router, the audit queue and the audit writer, exactly once per event.
func TestChangesReachTheAuditTrail(t *testing.T) {
	w := newWorld(t)
	partner := w.token("ptn-1-client", partnerSecret)
	org := w.createOrg(partner, orgBody("Audited"))
	w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/api_clients", path: "/v1/organizations/" + org + "/api_clients",
		header: bearer(partner), body: `{"role":"analyst"}`, status: 201})
	dept := w.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/departments", path: "/v1/organizations/" + org + "/departments",
		header: bearer(partner), body: seedDepartment, status: 201}).json(t)["id"].(string)
	w.do(exchange{method: "POST", route: "/v1/departments/{dept_id}/bank_accounts", path: deptPath(dept, "/bank_accounts"), header: bearer(partner), body: seedBankAccount, status: 201})
	w.do(exchange{method: "POST", route: "/v1/departments/{dept_id}/kyc/documents", path: deptPath(dept, "/kyc/documents"), header: bearer(partner),
		body: `{"type":"rib","file_name":"rib.pdf","content_type":"application/pdf","content_base64":"` + pdf("rib") + `"}`, status: 201})
	w.do(exchange{method: "PATCH", route: "/v1/departments/{dept_id}", path: deptPath(dept), header: bearer(partner), body: `{"name":"Eau potable"}`, status: 200})
	// A refused request writes nothing, so it audits nothing.
	w.do(exchange{method: "POST", route: "/v1/departments/{dept_id}/bank_accounts", path: deptPath(dept, "/bank_accounts"), header: bearer(partner), body: seedBankAccount, status: 409})

	// organization.created, api_client.created, department.created,
	// bank_account.created, kyc_document.uploaded, department.updated.
	const want = 6
	waitFor(t, 30*time.Second, func() (bool, string) {
		n, err := w.app.Store.CountAuditEntries(context.Background(), "ptn-1", org)
		if err != nil {
			return false, err.Error()
		}
		return n == want, fmt.Sprintf("%d audit entries, want %d", n, want)
	})
	// Nothing more arrives later (no duplicates from redelivery): once the
	// audit queue and its DLQ hold no message, none is left to redeliver.
	w.waitDrained(t, 30*time.Second, "AuditQueue", "AuditDLQ")
	if n, _ := w.app.Store.CountAuditEntries(context.Background(), "ptn-1", org); n != want {
		t.Fatalf("%d audit entries after settling, want %d", n, want)
	}
}

// Concurrent requests with one Idempotency-Key never both execute: one
// organisation is created, the others replay it or are told to retry later.
func TestConcurrentIdempotentCreates(t *testing.T) {
	w := newWorld(t)
	partner := w.token("ptn-1-client", partnerSecret)
	const n = 12
	var wg sync.WaitGroup
	var mu sync.Mutex
	ids := map[string]int{}
	statuses := map[int]int{}
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Status varies (201 or 409), so it is checked below, not by do.
			a := w.doAny(exchange{method: "POST", route: "/v1/organizations", header: bearer(partner, "Idempotency-Key", "k-race"), body: orgBody("Race")})
			mu.Lock()
			defer mu.Unlock()
			statuses[a.status]++
			if a.status == 201 {
				ids[a.json(t)["id"].(string)]++
			}
		}()
	}
	wg.Wait()
	if len(ids) != 1 || statuses[201]+statuses[409] != n {
		t.Fatalf("statuses %v, created ids %v: want one id, every answer 201 or 409", statuses, ids)
	}
	list := w.do(exchange{method: "GET", route: "/v1/organizations", header: bearer(partner), status: 200}).json(t)
	if got := len(list["data"].([]any)); got != 1 {
		t.Fatalf("%d organisations exist, want 1", got)
	}
}

// doAny is do without a status expectation (still validated against the document).
func (w *world) doAny(ex exchange) answer {
	w.t.Helper()
	ex.status = -1
	return w.do(ex)
}

func waitFor(t *testing.T, limit time.Duration, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", limit, why)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
