package invoice

import (
	"testing"
	"time"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/organization"
)

func TestTransitions(t *testing.T) {
	allowed := map[[2]string]bool{
		{StatusDraft, StatusIssued}: true, {StatusDraft, StatusCancelled}: true,
		{StatusIssued, StatusPartiallyPaid}: true, {StatusIssued, StatusPaid}: true, {StatusIssued, StatusCancelled}: true, {StatusIssued, StatusOverdue}: true,
		{StatusPartiallyPaid, StatusPaid}: true, {StatusPartiallyPaid, StatusOverdue}: true, {StatusPartiallyPaid, StatusIssued}: true,
		{StatusOverdue, StatusPaid}:       true,
		{StatusPaid, StatusPartiallyPaid}: true, {StatusPaid, StatusIssued}: true, {StatusPaid, StatusOverdue}: true,
	}
	all := []string{StatusDraft, StatusIssued, StatusPartiallyPaid, StatusPaid, StatusOverdue, StatusCancelled}
	for _, from := range all {
		for _, to := range all {
			if got, want := CanTransition(from, to), allowed[[2]string{from, to}]; got != want {
				t.Errorf("CanTransition(%s, %s) = %v, want %v", from, to, got, want)
			}
		}
	}
}

func TestApplyPayment(t *testing.T) {
	const today = "2026-11-21"
	open := func(status string, paid int64, due string) Invoice {
		return Invoice{Status: status, TotalAmount: 42200, AmountPaid: paid, AmountDue: 42200 - paid, DueDate: due}
	}
	tests := []struct {
		name       string
		inv        Invoice
		amount     int64
		wantStatus string
		wantPaid   int64
		wantCode   apperr.Code
	}{
		{"full payment", open(StatusIssued, 0, "2026-12-31"), 42200, StatusPaid, 42200, ""},
		{"partial payment", open(StatusIssued, 0, "2026-12-31"), 10000, StatusPartiallyPaid, 10000, ""},
		{"settles a partly paid invoice", open(StatusPartiallyPaid, 10000, "2026-12-31"), 32200, StatusPaid, 42200, ""},
		{"partial payment of an overdue invoice keeps it overdue", open(StatusOverdue, 0, "2026-11-01"), 100, StatusOverdue, 100, ""},
		{"settles an overdue invoice", open(StatusOverdue, 100, "2026-11-01"), 42100, StatusPaid, 42200, ""},
		{"overpayment refused", open(StatusIssued, 0, "2026-12-31"), 42201, "", 0, apperr.Conflict},
		{"second payment beyond the total refused", open(StatusPartiallyPaid, 30000, "2026-12-31"), 20000, "", 0, apperr.Conflict},
		{"full refund returns to issued", open(StatusPaid, 42200, "2026-12-31"), -42200, StatusIssued, 0, ""},
		{"full refund past due is overdue", open(StatusPaid, 42200, "2026-11-01"), -42200, StatusOverdue, 0, ""},
		{"partial refund", open(StatusPaid, 42200, "2026-12-31"), -10000, StatusPartiallyPaid, 32200, ""},
		{"refund below zero refused", open(StatusPartiallyPaid, 100, "2026-12-31"), -101, "", 0, apperr.Conflict},
		{"draft takes no payment", open(StatusDraft, 0, "2026-12-31"), 100, "", 0, apperr.Conflict},
		{"cancelled takes no payment", open(StatusCancelled, 0, "2026-12-31"), 100, "", 0, apperr.Conflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ApplyPayment(tt.inv, tt.amount, today)
			if tt.wantCode != "" {
				if apperr.CodeOf(err) != tt.wantCode {
					t.Fatalf("err = %v, want code %s", err, tt.wantCode)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.wantStatus || got.AmountPaid != tt.wantPaid || got.AmountDue != got.TotalAmount-got.AmountPaid {
				t.Errorf("got status %s paid %d due %d, want %s paid %d due %d", got.Status, got.AmountPaid, got.AmountDue, tt.wantStatus, tt.wantPaid, 42200-tt.wantPaid)
			}
		})
	}
}

func TestTodayIsParisCalendarDay(t *testing.T) {
	for _, tt := range []struct {
		utc  string
		want string
	}{
		{"2026-11-21T22:59:59Z", "2026-11-21"}, // 23:59:59 in Paris (winter, UTC+1)
		{"2026-11-21T23:00:00Z", "2026-11-22"}, // midnight in Paris
		{"2026-07-14T21:59:59Z", "2026-07-14"}, // summer, UTC+2
		{"2026-07-14T22:00:00Z", "2026-07-15"},
	} {
		ts, _ := time.Parse(time.RFC3339, tt.utc)
		if got := Today(ts); got != tt.want {
			t.Errorf("Today(%s) = %s, want %s", tt.utc, got, tt.want)
		}
	}
}

func TestEmailHashAndErasure(t *testing.T) {
	a, b := EmailHash(" Jean.Dupont@Example.COM "), EmailHash("jean.dupont@example.com")
	if a != b || len(a) != 64 {
		t.Fatalf("hashes %q and %q: one payer must be one key", a, b)
	}
	if EmailHash("jean.dupont@example.org") == b {
		t.Fatal("two addresses, one hash")
	}
	at := time.Date(2026, 11, 21, 11, 0, 0, 0, time.FixedZone("CET", 3600))
	p := Payer{Name: "Jean Dupont", Email: "Jean.Dupont@example.com", Address: &organization.Address{Line1: "15 rue de la Paix", City: "Lyon", Country: "FR"}}
	got := p.Erase(at)
	if got.Name != ErasedName || got.Email != "erased-"+b[:12]+"@invalid" || got.Address != nil || got.ErasedAt == nil || !got.ErasedAt.Equal(at) || got.ErasedAt.Location() != time.UTC {
		t.Errorf("erased payer = %+v", got)
	}
}
