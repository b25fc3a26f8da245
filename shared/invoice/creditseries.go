package invoice

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/backoff"
)

// CreditSeries is the storage of the organisations' credit note series
// (one per organisation and calendar year): a counter, and a lease that
// lets one maker at a time render the next credit note. Making one renders
// four documents that carry its number before anything commits; without
// the lease, makers racing for one number would each render and all but
// one render again.
type CreditSeries interface {
	// AcquireCreditSeries takes the lease for owner until until (wall time)
	// and answers the last number taken (0 before the first);
	// ErrCreditSeriesBusy while another holds it.
	AcquireCreditSeries(ctx context.Context, partnerID, orgID, year, owner string, until time.Time) (int64, error)
	// ReleaseCreditSeries gives the lease back if owner still holds it.
	ReleaseCreditSeries(ctx context.Context, partnerID, orgID, year, owner string) error
}

// ErrCreditSeriesBusy is AcquireCreditSeries's answer while another maker
// holds the series.
var ErrCreditSeriesBusy = errors.New("invoice: the credit note series is held by another maker")

// CreditNumber is a credit note's number in its year's series, and the
// lease's owner that may take it (the commit moves the counter on condition
// that the owner still holds the series, and gives the lease back).
type CreditNumber struct {
	Year   string
	Number int64
	Owner  string
}

// Note is the credit note's number as it is written: AV-YYYY-NNNNN.
func (n CreditNumber) Note() string { return CreditNoteNumber(n.Year, n.Number) }

// CreditLease is how long a maker holds a series: its render and commit
// take well under a second; a maker that died is waited for this long.
const CreditLease = 8 * time.Second

// creditWait bounds the wait for a series, so that the caller answers
// before its function's 10 s timeout.
const creditWait = 7 * time.Second

// TakeCreditNumber waits for the organisation's credit note series of the
// year of now (Paris) and holds it for owner: the credit note takes the
// answer's number, then commits with it (the lease goes back with the
// counter's move) or calls ReleaseCreditNumber. Waiting longer than the
// request can is a 503 that says why.
func TakeCreditNumber(ctx context.Context, cs CreditSeries, partnerID, orgID string, now time.Time, owner string,
	sleep func(context.Context, time.Duration) error) (CreditNumber, error) {
	const op = "invoice.credit_number"
	if sleep == nil {
		sleep = backoff.Sleep
	}
	year := CreditYear(now)
	deadline := time.Now().Add(creditWait)
	if dl, ok := ctx.Deadline(); ok && dl.Add(-numberReserve).Before(deadline) {
		deadline = dl.Add(-numberReserve)
	}
	for attempt := 1; ; attempt++ {
		last, err := cs.AcquireCreditSeries(ctx, partnerID, orgID, year, owner, time.Now().Add(CreditLease))
		switch {
		case err == nil:
			return CreditNumber{Year: year, Number: last + 1, Owner: owner}, nil
		case !errors.Is(err, ErrCreditSeriesBusy):
			return CreditNumber{}, apperr.Wrap(op, err)
		case time.Now().After(deadline):
			return CreditNumber{}, &apperr.Error{Op: op, Code: apperr.Unavailable,
				Message: "too many credit notes are being made at once for this organization; retry",
				Err:     fmt.Errorf("the %s series is still held after %d attempts", year, attempt)}
		}
		if err := sleep(ctx, 10*time.Millisecond+NumberBackoff(attempt)); err != nil {
			return CreditNumber{}, apperr.Transient(op, err)
		}
	}
}

// ReleaseCreditNumber gives back the series a maker held but did not
// commit with, on a context of its own (the request's may be done): a
// failure only makes the next maker wait for the lease to expire.
func ReleaseCreditNumber(ctx context.Context, cs CreditSeries, partnerID, orgID string, n CreditNumber) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_ = cs.ReleaseCreditSeries(rctx, partnerID, orgID, n.Year, n.Owner)
}

// CreditYear is the year whose credit note series a credit note made at
// now takes its number from (Paris time, as invoices' dates).
func CreditYear(now time.Time) string { return strconv.Itoa(now.In(Paris).Year()) }

// CreditNoteNumber is the number-th credit note of a year's series:
// AV-YYYY-NNNNN.
func CreditNoteNumber(year string, number int64) string {
	return fmt.Sprintf("AV-%s-%05d", year, number)
}
