package scheduler

import (
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/table"
	"github.com/modupay/modupay/shared/payment"
)

// Wire builds SchedulerFunction: overdue invoices, expired payment links.
func Wire(e *lambdaenv.Env) (lambdaenv.Function, error) {
	store := table.Store(e)
	invs := lambdaenv.Shared(e, "invoice.Service", func() *invoice.Service {
		return &invoice.Service{Store: store, Now: e.Stamp, NewID: e.NewID}
	})
	pays := &payment.Service{Store: store, Mode: e.Config.Mode(), PageBaseURL: e.Config.PublicBaseURL, Tokens: e.PageTokens(), Now: e.Stamp, NewID: e.NewID}
	s := &Scheduler{Log: e.Log, Jobs: []Job{
		{Name: "mark_overdue_invoices", Run: invs.MarkOverdue},
		{Name: "expire_payment_links", Run: pays.ExpireLinks},
	}}
	return lambdaenv.Function{Schedule: s.Handle}, nil
}
