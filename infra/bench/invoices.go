package main

import (
	"context"
	"fmt"
	"io"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/modupay/modupay/shared/callcount"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/money"
	"github.com/modupay/modupay/shared/wiring"
)

// invoiceScale is the invoice budget's measurement: an organisation with
// 100 000 invoices, 1 000 of them open and past due.
type invoiceScale struct {
	total, due       int
	seedTime         time.Duration
	listCalls        int64
	listP50, listP95 time.Duration
	overdueMarked    int
	overdueCalls     int64
	overdueTime      time.Duration
}

// measureInvoiceScale seeds the invoices directly (no API: 100 000 creations
// would take minutes), then measures a list page with the cursor and one
// overdue run.
func measureInvoiceScale(ctx context.Context, app *wiring.App, c *client, token, partnerID, orgID, deptID string, total, due int) (invoiceScale, error) {
	res := invoiceScale{total: total, due: due}
	now := time.Now().UTC()
	today := invoice.Today(now)
	past := now.In(invoice.Paris).AddDate(0, 0, -3).Format(time.DateOnly)
	future := now.In(invoice.Paris).AddDate(0, 1, 0).Format(time.DateOnly)
	q, _ := money.ParseQuantity("125")
	r, _ := money.ParseRate("5.5")
	make1 := func(i int) invoice.Invoice {
		st, dueDate := invoice.StatusIssued, future
		if i%(total/due) == 0 {
			dueDate = past // one in total/due is past due
		} else if i%3 == 0 {
			st = invoice.StatusDraft
		}
		return invoice.Invoice{ID: fmt.Sprintf("inv-bench-%07d", i), PartnerID: partnerID, OrgID: orgID, DepartmentID: deptID,
			InvoiceNumber: fmt.Sprintf("FAC-2026-%06d", i+1), Status: st, Currency: "EUR",
			Payer:        invoice.Payer{Name: "Jean Dupont", Email: "jean.dupont@example.com"},
			LineItems:    []invoice.LineItem{{Description: "Consommation eau", Quantity: q, UnitPrice: 320, VATRate: r, NetAmount: 40000}},
			VATBreakdown: []invoice.VATLine{{VATRate: r, NetAmount: 40000, VATAmount: 2200}}, TotalNet: 40000, TotalVAT: 2200,
			TotalAmount: 42200, AmountDue: 42200, DueDate: dueDate, IssueDate: today, CreatedAt: now, UpdatedAt: now, Version: 1}
	}
	start := time.Now()
	const workers = 8
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			var batch []invoice.Invoice
			for i := w; i < total; i += workers {
				batch = append(batch, make1(i))
				if len(batch) == 500 {
					if err := app.Store.SeedInvoices(ctx, batch); err != nil {
						errs <- err
						return
					}
					batch = batch[:0]
				}
			}
			if err := app.Store.SeedInvoices(ctx, batch); err != nil {
				errs <- err
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return res, err
	}
	res.seedTime = time.Since(start)

	// A page of 20, following the cursor from the start: one Query each.
	var lat []time.Duration
	var calls []int64
	path := "/v1/invoices?page_size=20"
	for i := 0; i < 50; i++ {
		resp, err := c.do(request{method: "GET", path: path, token: token, entity: orgID})
		if err != nil || resp.status != 200 {
			return res, fmt.Errorf("list invoices: %d %s %v", resp.status, resp.body, err)
		}
		cc, _ := c.rec.take(resp.id)
		calls = append(calls, cc.dynamo) // the median: a revocation-list refresh may ride on one request
		lat = append(lat, resp.took)
		next := cursorOf(resp.body)
		path = "/v1/invoices?page_size=20&cursor=" + next
	}
	res.listP50, res.listP95, res.listCalls = percentile(lat, 50), percentile(lat, 95), medianInt(calls)

	// One overdue run over them all.
	runCtx, counter := callcount.With(ctx)
	start = time.Now()
	n, err := app.Invoices.MarkOverdue(runCtx)
	if err != nil {
		return res, err
	}
	res.overdueTime, res.overdueMarked, res.overdueCalls = time.Since(start), n, counter.DynamoDB.Load()
	return res, nil
}

func (s invoiceScale) report(w io.Writer) {
	fmt.Fprintf(w, "\nInvoices at scale: one organisation with %d invoices, %d of them open and past due (seeded in %s)\n", s.total, s.due, s.seedTime.Round(time.Second))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "GET /v1/invoices, page of 20 by cursor\tDynamoDB calls %d per page\tp50 %s\tp95 %s\t\n", s.listCalls, s.listP50.Round(10*time.Microsecond), s.listP95.Round(10*time.Microsecond))
	fmt.Fprintf(tw, "overdue run\tmarked %d\tDynamoDB calls %d (%d index queries + one transaction per invoice)\t%s\t\n",
		s.overdueMarked, s.overdueCalls, s.overdueCalls-int64(s.overdueMarked), s.overdueTime.Round(time.Millisecond))
	tw.Flush()
}
