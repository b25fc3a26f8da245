package payment

import (
	"context"
	"errors"
	"log/slog"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/metric"
)

// ErrNotOnboarded is Bank.Destination's answer for an account that has no
// destination at the provider and that ModuPay cannot onboard by itself
// (destination ids recorded by an operator: see aiiabank.MerchantOnboarding).
// A payment to the account is refused (409) until its id is recorded;
// nothing is written and no transfer is started.
var ErrNotOnboarded = errors.New("the bank account has no destination at the payment provider yet")

// NotPayableOnline is what the payer is told when the organisation's
// account is not onboarded at the provider yet.
const NotPayableOnline = "this organisation cannot be paid online yet: its bank account is still being registered with the payment provider. " +
	"Please try again later, or pay by the means shown on the invoice"

// DestinationsAwaited is the metric (ModuPay namespace) of each account a
// payment or an onboarding found without its destination id, to be
// recorded by an operator (template: DestinationsAwaitedAlarm).
const DestinationsAwaited = "DestinationsAwaited"

// log is the flow's logger (the default one when none was given).
func (f *Flow) log() *slog.Logger {
	if f.Log != nil {
		return f.Log
	}
	return slog.Default()
}

// destination is the account's destination id: the one kept on it, else
// the bank's (kept on the account). An account the bank cannot onboard
// by itself is a Conflict with NotPayableOnline, logged for operators with
// ids only (never the IBAN).
func (f *Flow) destination(ctx context.Context, op string, a department.BankAccount) (string, error) {
	if a.AiiaDestinationID != "" {
		return a.AiiaDestinationID, nil
	}
	dest, err := f.Bank.Destination(ctx, a)
	if errors.Is(err, ErrNotOnboarded) {
		f.log().ErrorContext(ctx, "payment refused: the bank account has no Aiia destination id; onboard it at the provider, then record it with `operator aiia-destination`",
			append(accountAttrs(a), metric.Count(DestinationsAwaited, f.Now())...)...)
		return "", &apperr.Error{Op: op, Code: apperr.Conflict, Message: NotPayableOnline, Err: err}
	}
	if err != nil {
		return "", apperr.Wrap(op, err)
	}
	if dest == "" {
		return "", apperr.Wrap(op, errors.New("the bank returned an empty destination id"))
	}
	if err := f.Store.SetDestination(ctx, a, dest); err != nil {
		return "", apperr.Wrap(op, err)
	}
	return dest, nil
}

// accountAttrs name an account for the logs: ids only.
func accountAttrs(a department.BankAccount) []any {
	return []any{slog.String("partner_id", a.PartnerID), slog.String("organization_id", a.OrgID),
		slog.String("department_id", a.DepartmentID), slog.String("bank_account_id", a.ID)}
}
