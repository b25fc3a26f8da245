package paymentorder

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/backoff"
	"github.com/modupay/modupay/shared/event"
)

// ErrConflict is a store's answer when the order, the portfolio or a
// counter changed since it was read (a condition failed, or another
// transaction held an item): the service reads again and retries.
var ErrConflict = errors.New("paymentorder: changed meanwhile")

// ErrFunds is a store's answer when the portfolio's available funds no
// longer cover the amount at commit (INSUFFICIENT_FUNDS).
var ErrFunds = errors.New("paymentorder: insufficient funds")

// ErrReferenceTaken is a store's answer when a client-supplied reference
// is already an order's of the organisation (PAYMENT_REFERENCE_EXISTS).
var ErrReferenceTaken = errors.New("paymentorder: reference taken")

// ErrTooMany is a store's answer when the organisation already has
// MaxPortfolios portfolios.
var ErrTooMany = errors.New("paymentorder: too many portfolios")

// Tenant is the partner and organisation the request acts on.
type Tenant struct{ PartnerID, OrgID string }

// Caller is who acts: the principal (its role decides the transitions it
// may make, PortfolioLimited its reach) and the actor the events record.
type Caller struct {
	Principal auth.Principal
	Actor     event.Actor
}

// CreationContext is what creating an order reads in one round trip: the
// portfolio (nil when absent), the year's reference counter, and the
// calling client's name and portfolios.
type CreationContext struct {
	Portfolio  *Portfolio
	LastNumber int64
	Client     ClientInfo
}

// ClientInfo is what orders need of an API client: its name (createdBy)
// and, for a limited portfolio manager, its portfolios.
type ClientInfo struct {
	Name       string
	Portfolios []string
}

// Move is what a write does to the portfolio besides its counts: amounts
// added to available, reserved and spent (negative to take), and the
// amount available must cover at commit (0 for no condition).
type Move struct {
	Available, Reserved, Spent int64
	Cover                      int64
}

// Filter is GET /payments' filters; Portfolios, when set, limits the list
// to those portfolios (a limited portfolio manager's).
type Filter struct {
	Status            Status
	FundingType       FundingType
	PortfolioID       string
	ContractReference string
	Portfolios        []string
}

// OrderPage is one page of orders. Total is set when the store counted it
// (a contract's orders), -1 otherwise.
type OrderPage struct {
	Orders []Order
	Total  int64
}

// Store is what the service needs of the table.
type Store interface {
	CreatePortfolio(ctx context.Context, p Portfolio, ev event.Event) error
	GetPortfolio(ctx context.Context, partnerID, orgID, id string) (Portfolio, error)
	// AllPortfolios reads every portfolio of the organisation (for list
	// totals and the portfolio list: an organisation has tens, at most
	// MaxPortfolios).
	AllPortfolios(ctx context.Context, partnerID, orgID string) ([]Portfolio, error)
	UpdatePortfolio(ctx context.Context, before, after Portfolio, ev event.Event) error
	FundPortfolio(ctx context.Context, p Portfolio, f Funding, ev event.Event) (Portfolio, error)
	// FundingContext reads the portfolio and the calling client in one
	// round trip (NotFound without the portfolio).
	FundingContext(ctx context.Context, partnerID, orgID, portfolioID, clientID string) (Portfolio, ClientInfo, error)
	PortfolioManagers(ctx context.Context, partnerID, orgID, portfolioID string) ([]User, error)
	ClientInfo(ctx context.Context, clientID string) (ClientInfo, error)
	// CheckOrganization is NotFound unless the organisation is the
	// partner's: an empty list must not hide that it is another's.
	CheckOrganization(ctx context.Context, partnerID, orgID string) error

	OrderCreationContext(ctx context.Context, partnerID, orgID, portfolioID, year, clientID string) (CreationContext, error)
	// CreateOrder writes the order, moves the year's counter from
	// number-1 to number (number 0: a client reference, reserved
	// instead), adds the order to the portfolio's counts on condition its
	// available funds cover the amount, and writes ev, in one transaction.
	CreateOrder(ctx context.Context, o Order, year string, number int64, ev event.Event) error
	GetOrder(ctx context.Context, partnerID, orgID, id string) (Order, error)
	ListOrders(ctx context.Context, partnerID, orgID string, page, limit int, f Filter) (OrderPage, error)
	// ChangeOrder replaces before by after on condition it is still as
	// read, moves the portfolio's funds and counts, and writes ev.
	ChangeOrder(ctx context.Context, before, after Order, m Move, evs ...event.Event) error
	DeleteOrder(ctx context.Context, o Order, ev event.Event) error
}

// Limits.
const (
	MaxPortfolios = 1000 // per organisation
	MaxLimit      = 100  // orders per page
	DefaultLimit  = 10
	maxRetries    = 20  // FAILED → PENDING per order: bounds statusHistory
	maxNotes      = 500 // characters
	attempts      = 60  // reads and writes of one request racing others
)

// Service runs payment orders and portfolios.
type Service struct {
	Store Store
	Now   func() time.Time
	NewID func(prefix string) string
	// Sleep waits between attempts (tests make it instant).
	Sleep func(ctx context.Context, d time.Duration) error
	// Payouts executes orders through the payment provider (Follow);
	// only the poller needs it.
	Payouts Payouts
}

// Concurrent writes to one portfolio (creations also share the year's
// reference counter) cancel each other's transactions; the losers read
// again after a jittered wait that grows with the attempts, up to 200 ms.
// A request that keeps losing answers 503 before the function's timeout
// (API Gateway would turn that into a bare 500): within retryBudget, or
// retryReserve before the request's own deadline.
const (
	retryBudget  = 8 * time.Second
	retryReserve = 1500 * time.Millisecond
)

func wait(attempt int) time.Duration {
	return time.Duration(rand.IntN(min(10*attempt, 200))+1) * time.Millisecond
}

func (s *Service) sleep(ctx context.Context, d time.Duration) error {
	if s.Sleep != nil {
		return s.Sleep(ctx, d)
	}
	return backoff.Sleep(ctx, d)
}

// retry runs f until it does not answer ErrConflict, a bounded number of
// times; each run reads again what it depends on.
func (s *Service) retry(ctx context.Context, op string, f func() error) error {
	deadline := time.Now().Add(retryBudget)
	if dl, ok := ctx.Deadline(); ok && dl.Add(-retryReserve).Before(deadline) {
		deadline = dl.Add(-retryReserve)
	}
	// longest is the slowest attempt so far: another one is started only if
	// it could end, at that pace, before the deadline (under load an
	// attempt's reads and transaction can outlast the reserve).
	var longest time.Duration
	for attempt := 1; ; attempt++ {
		began := time.Now()
		err := f()
		if !errors.Is(err, ErrConflict) {
			return err
		}
		longest = max(longest, time.Since(began))
		d := wait(attempt)
		if attempt == attempts || time.Now().Add(d+longest).After(deadline) {
			return &apperr.Error{Op: op, Code: apperr.Unavailable, Message: "too many changes at once on this portfolio; retry",
				Err: fmt.Errorf("still conflicting after %d attempts: %w", attempt, err)}
		}
		if err := s.sleep(ctx, d); err != nil {
			return apperr.Transient(op, err)
		}
	}
}

// fail wraps a family error for the edge: its apperr code keeps logs,
// idempotency and the default renderer right.
func fail(op string, e *Error) error {
	code := apperr.Invalid
	switch e.Status {
	case http.StatusNotFound:
		code = apperr.NotFound
	case http.StatusConflict:
		code = apperr.Conflict
	case http.StatusForbidden:
		code = apperr.Forbidden
	}
	param := ""
	if len(e.Details) > 0 {
		param = e.Details[0].Field
	}
	return &apperr.Error{Op: op, Code: code, Message: e.Message, Param: param, Err: e}
}

// notFound turns the store's NotFound into the family's code.
func notFound(op string, err error, e *Error) error {
	if apperr.CodeOf(err) == apperr.NotFound {
		return fail(op, e)
	}
	return apperr.Wrap(op, err)
}

func (s *Service) now() time.Time { return s.Now().UTC() }

// reach is the portfolios a caller may act on: nil for every one.
func (s *Service) reach(ctx context.Context, c Caller) ([]string, error) {
	if !c.Principal.PortfolioLimited {
		return nil, nil
	}
	ci, err := s.Store.ClientInfo(ctx, c.Principal.ClientID)
	if err != nil {
		return nil, err
	}
	if len(ci.Portfolios) == 0 {
		// Limited with no portfolio left: reaches nothing.
		return []string{}, nil
	}
	return ci.Portfolios, nil
}

func reaches(portfolios []string, id string) bool {
	return portfolios == nil || slices.Contains(portfolios, id)
}

func (s *Service) event(typ string, at time.Time, t Tenant, c Caller, data any, ch event.Change) (event.Event, error) {
	return event.New(s.NewID("evt"), typ, at, t.PartnerID, t.OrgID, c.Actor, data, ch)
}

// --- portfolios --------------------------------------------------------

// CreatePortfolio creates an empty portfolio (no funds: they come only
// through fundings).
func (s *Service) CreatePortfolio(ctx context.Context, t Tenant, c Caller, in PortfolioInput) (Portfolio, error) {
	const op = "portfolio.create"
	now := s.now()
	p := Portfolio{ID: s.NewID("portfolio"), PartnerID: t.PartnerID, OrgID: t.OrgID, Counts: NewCounts(), CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := in.apply(&p, true); err != nil {
		return Portfolio{}, fail(op, err.(*Error))
	}
	ev, err := s.event("portfolio.created", now, t, c, map[string]any{"portfolio": p.View()},
		event.Change{ResourceType: "portfolio", ResourceID: p.ID, Action: "created", Before: event.Snapshot(nil), After: event.Snapshot(p.View())})
	if err != nil {
		return Portfolio{}, apperr.Wrap(op, err)
	}
	switch err := s.Store.CreatePortfolio(ctx, p, ev); {
	case errors.Is(err, ErrTooMany):
		return Portfolio{}, fail(op, &Error{Status: http.StatusBadRequest, Code: CodeInvalidPortfolio,
			Message: fmt.Sprintf("an organization has at most %d portfolios", MaxPortfolios)})
	case err != nil:
		return Portfolio{}, apperr.Wrap(op, err)
	}
	return p, nil
}

// GetPortfolio reads one portfolio with its managers (the organisation's
// portfolio-manager clients limited to it).
func (s *Service) GetPortfolio(ctx context.Context, t Tenant, c Caller, id string) (Portfolio, []User, error) {
	const op = "portfolio.get"
	reach, err := s.reach(ctx, c)
	if err != nil {
		return Portfolio{}, nil, apperr.Wrap(op, err)
	}
	if !reaches(reach, id) {
		return Portfolio{}, nil, fail(op, errPortfolioNotFound(""))
	}
	p, err := s.Store.GetPortfolio(ctx, t.PartnerID, t.OrgID, id)
	if err != nil {
		return Portfolio{}, nil, notFound(op, err, errPortfolioNotFound(""))
	}
	managers, err := s.Store.PortfolioManagers(ctx, t.PartnerID, t.OrgID, id)
	if err != nil {
		return Portfolio{}, nil, apperr.Wrap(op, err)
	}
	return p, managers, nil
}

// ListPortfolios reads the organisation's portfolios (those a limited
// portfolio manager reaches), oldest first.
func (s *Service) ListPortfolios(ctx context.Context, t Tenant, c Caller) ([]Portfolio, error) {
	const op = "portfolio.list"
	reach, err := s.reach(ctx, c)
	if err != nil {
		return nil, apperr.Wrap(op, err)
	}
	all, err := s.Store.AllPortfolios(ctx, t.PartnerID, t.OrgID)
	if err != nil {
		return nil, apperr.Wrap(op, err)
	}
	if len(all) == 0 {
		if err := s.Store.CheckOrganization(ctx, t.PartnerID, t.OrgID); err != nil {
			return nil, apperr.Wrap(op, err)
		}
	}
	out := all[:0]
	for _, p := range all {
		if reaches(reach, p.ID) {
			out = append(out, p)
		}
	}
	return out, nil
}

// UpdatePortfolio changes a portfolio's name, funding types, approval
// policy or execution account. Its funds never change here.
func (s *Service) UpdatePortfolio(ctx context.Context, t Tenant, c Caller, id string, in PortfolioInput) (Portfolio, error) {
	const op = "portfolio.update"
	var after Portfolio
	err := s.retry(ctx, op, func() error {
		before, err := s.Store.GetPortfolio(ctx, t.PartnerID, t.OrgID, id)
		if err != nil {
			return notFound(op, err, errPortfolioNotFound(""))
		}
		after = before
		after.FundingTypes = slices.Clone(before.FundingTypes)
		if err := in.apply(&after, false); err != nil {
			return fail(op, err.(*Error))
		}
		after.UpdatedAt, after.Version = s.now(), before.Version+1
		ev, err := s.event("portfolio.updated", after.UpdatedAt, t, c, map[string]any{"portfolio": after.View()},
			event.Change{ResourceType: "portfolio", ResourceID: id, Action: "updated", Before: event.Snapshot(before.View()), After: event.Snapshot(after.View())})
		if err != nil {
			return apperr.Wrap(op, err)
		}
		return s.Store.UpdatePortfolio(ctx, before, after, ev)
	})
	return after, err
}

// FundPortfolio adds money to a portfolio: the only way its funds grow.
func (s *Service) FundPortfolio(ctx context.Context, t Tenant, c Caller, id string, in FundingInput) (Funding, Portfolio, error) {
	const op = "portfolio.fund"
	p, client, err := s.Store.FundingContext(ctx, t.PartnerID, t.OrgID, id, c.Principal.ClientID)
	if err != nil {
		return Funding{}, Portfolio{}, notFound(op, err, errPortfolioNotFound(""))
	}
	amount, err := in.check(p)
	if err != nil {
		return Funding{}, Portfolio{}, fail(op, err.(*Error))
	}
	now := s.now()
	f := Funding{ID: s.NewID("funding"), PortfolioID: id, AmountMinor: amount, Currency: p.Currency, Reference: in.Reference,
		Notes: strings.TrimSpace(in.Notes), CreatedBy: User{ID: c.Actor.ID, Name: client.Name}, CreatedAt: now}
	data := map[string]any{"funding": map[string]any{"id": f.ID, "portfolioId": id, "amount": Amount(amount, p.Currency),
		"currency": p.Currency, "reference": f.Reference, "notes": f.Notes}}
	ev, err := s.event("portfolio.funded", now, t, c, data,
		event.Change{ResourceType: "portfolio", ResourceID: id, Action: "funded",
			Before: event.Snapshot(map[string]any{"availableFunds": Amount(p.AvailableMinor, p.Currency), "totalFunded": Amount(p.FundedMinor, p.Currency)}),
			After: event.Snapshot(map[string]any{"availableFunds": Amount(p.AvailableMinor+amount, p.Currency), "totalFunded": Amount(p.FundedMinor+amount, p.Currency),
				"funding": data["funding"]})})
	if err != nil {
		return Funding{}, Portfolio{}, apperr.Wrap(op, err)
	}
	after, err := s.Store.FundPortfolio(ctx, p, f, ev)
	if err != nil {
		return Funding{}, Portfolio{}, apperr.Wrap(op, err)
	}
	return f, after, nil
}

// --- orders ------------------------------------------------------------

// generated is the shape of the references the platform makes: a client
// may not send one, so generated references never collide with its own.
var generated = regexp.MustCompile(`^PAY-[0-9]{4}-[0-9]+$`)

// CreateOrder creates a PENDING order. Its reference is the organisation's
// next PAY-YYYY-NNN of the (UTC) year, without gaps under concurrency: the
// counter moves in the transaction that writes the order. A client may
// send its own reference instead (an extension), unique in the
// organisation (409 PAYMENT_REFERENCE_EXISTS).
func (s *Service) CreateOrder(ctx context.Context, t Tenant, c Caller, in CreateInput) (Order, error) {
	const op = "payment_order.create"
	d, err := in.Validate()
	if err != nil {
		return Order{}, fail(op, err.(*InputError).asError())
	}
	if d.Reference != "" && generated.MatchString(d.Reference) {
		return Order{}, fail(op, &Error{Status: http.StatusBadRequest, Code: CodeInvalidPaymentData,
			Message: "references of the form PAY-YYYY-NNN are the platform's; send another or none",
			Details: []FieldError{{Field: "reference", Message: "PAY-YYYY-NNN is reserved for generated references"}}})
	}
	id := s.NewID("payment")
	var o Order
	err = s.retry(ctx, op, func() error {
		now := s.now()
		year := strconv.Itoa(now.Year())
		cc, err := s.Store.OrderCreationContext(ctx, t.PartnerID, t.OrgID, d.PortfolioID, year, c.Principal.ClientID)
		if err != nil {
			return apperr.Wrap(op, err)
		}
		if c.Principal.PortfolioLimited && !slices.Contains(cc.Client.Portfolios, d.PortfolioID) || cc.Portfolio == nil {
			return fail(op, errPortfolioNotFound("portfolioId"))
		}
		p := *cc.Portfolio
		if err := checkFits(p, d); err != nil {
			return fail(op, err)
		}
		if d.AmountMinor > p.AvailableMinor {
			return fail(op, errInsufficient(p.AvailableMinor, p.Currency))
		}
		o = Order{ID: id, PartnerID: t.PartnerID, OrgID: t.OrgID, Reference: d.Reference, FundingType: d.FundingType, Status: StatusPending,
			AmountMinor: d.AmountMinor, Currency: d.Currency, PortfolioID: d.PortfolioID, ContractReference: d.ContractReference,
			Description: d.Description, Beneficiary: d.Beneficiary, PaymentMethod: d.PaymentMethod, ExecutionDate: d.ExecutionDate,
			CreatedBy:     User{ID: c.Actor.ID, Name: cc.Client.Name},
			StatusHistory: []HistoryEntry{{Status: StatusPending, Timestamp: now, Actor: c.Actor.ID, Notes: "Order created"}},
			CreatedAt:     now, UpdatedAt: now, Version: 1}
		var number int64
		if o.Reference == "" {
			number = cc.LastNumber + 1
			o.Reference = FormatReference(now.Year(), number)
		}
		v := o.View()
		ev, err := s.event("payment_order.created", now, t, c, map[string]any{"paymentOrder": v},
			event.Change{ResourceType: "payment_order", ResourceID: id, Action: "created", Before: event.Snapshot(nil), After: event.Snapshot(v)})
		if err != nil {
			return apperr.Wrap(op, err)
		}
		switch err := s.Store.CreateOrder(ctx, o, year, number, ev); {
		case errors.Is(err, ErrFunds):
			return ErrConflict // read the funds again: the answer is then certain
		case errors.Is(err, ErrReferenceTaken):
			return fail(op, &Error{Status: http.StatusConflict, Code: CodeReferenceExists,
				Message: "an order of this organization already has the reference " + o.Reference,
				Details: []FieldError{{Field: "reference", Message: "already used"}}})
		default:
			return err
		}
	})
	return o, err
}

// checkFits checks an order against its portfolio: same currency, a
// funding type the portfolio finances.
func checkFits(p Portfolio, d Draft) *Error {
	if d.Currency != p.Currency {
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidPaymentData, Message: "currency must be the portfolio's, " + p.Currency,
			Details: []FieldError{{Field: "currency", Message: "the portfolio's currency is " + p.Currency}}}
	}
	if !p.Allows(d.FundingType) {
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidPaymentData, Message: "the portfolio does not finance " + string(d.FundingType),
			Details: []FieldError{{Field: "fundingType", Message: fmt.Sprintf("the portfolio finances %v", p.FundingTypes)}}}
	}
	return nil
}

// GetOrder reads one order.
func (s *Service) GetOrder(ctx context.Context, t Tenant, c Caller, id string) (Order, error) {
	const op = "payment_order.get"
	reach, err := s.reach(ctx, c)
	if err != nil {
		return Order{}, apperr.Wrap(op, err)
	}
	return s.order(ctx, op, t, reach, id)
}

func (s *Service) order(ctx context.Context, op string, t Tenant, reach []string, id string) (Order, error) {
	o, err := s.Store.GetOrder(ctx, t.PartnerID, t.OrgID, id)
	if err != nil {
		return Order{}, notFound(op, err, errNotFound())
	}
	if !reaches(reach, o.PortfolioID) {
		return Order{}, fail(op, errNotFound())
	}
	return o, nil
}

// ListQuery is GET /payments' page.
type ListQuery struct {
	Page, Limit int
	Filter      Filter
}

// ListOrders reads one page of orders, newest first, and the list's
// total: the sum of the portfolios' counts for the filters (one read of
// the organisation's portfolios, or of the one filtered on), or, with
// contractReference, the contract's orders counted as they are read.
func (s *Service) ListOrders(ctx context.Context, t Tenant, c Caller, q ListQuery) ([]Order, int64, error) {
	const op = "payment_order.list"
	reach, err := s.reach(ctx, c)
	if err != nil {
		return nil, 0, apperr.Wrap(op, err)
	}
	f := q.Filter
	f.Portfolios = reach
	if f.PortfolioID != "" && !reaches(reach, f.PortfolioID) {
		return []Order{}, 0, nil
	}
	page, err := s.Store.ListOrders(ctx, t.PartnerID, t.OrgID, q.Page, q.Limit, f)
	if err != nil {
		return nil, 0, apperr.Wrap(op, err)
	}
	if len(page.Orders) == 0 {
		if err := s.Store.CheckOrganization(ctx, t.PartnerID, t.OrgID); err != nil {
			return nil, 0, apperr.Wrap(op, err)
		}
	}
	if page.Total >= 0 {
		return page.Orders, page.Total, nil
	}
	var ps []Portfolio
	if f.PortfolioID != "" {
		p, err := s.Store.GetPortfolio(ctx, t.PartnerID, t.OrgID, f.PortfolioID)
		switch {
		case apperr.CodeOf(err) == apperr.NotFound:
		case err != nil:
			return nil, 0, apperr.Wrap(op, err)
		default:
			ps = []Portfolio{p}
		}
	} else if ps, err = s.Store.AllPortfolios(ctx, t.PartnerID, t.OrgID); err != nil {
		return nil, 0, apperr.Wrap(op, err)
	}
	var total int64
	for _, p := range ps {
		if reaches(reach, p.ID) {
			total += p.Count(f.Status, f.FundingType)
		}
	}
	return page.Orders, total, nil
}

// UpdateInput is seed 003's UpdatePaymentOrderDto: every field optional,
// the beneficiary's fields merged into the current ones.
type UpdateInput struct {
	Amount        RawNumber         `json:"amount"`
	ExecutionDate *string           `json:"executionDate"`
	Description   *string           `json:"description"`
	Beneficiary   *BeneficiaryPatch `json:"beneficiary"`
	PaymentMethod *string           `json:"paymentMethod"`
}

// BeneficiaryPatch is Partial<Beneficiary>.
type BeneficiaryPatch struct {
	Name          *string `json:"name"`
	AccountNumber *string `json:"accountNumber"`
	BankName      *string `json:"bankName"`
	BankCode      *string `json:"bankCode"`
	Address       *string `json:"address"`
}

func (in UpdateInput) empty() bool {
	return in.Amount == "" && in.ExecutionDate == nil && in.Description == nil && in.Beneficiary == nil && in.PaymentMethod == nil
}

// merge is the order's CreateInput with the update applied, so that the
// result is checked by the same rules as a creation.
func (in UpdateInput) merge(o Order) CreateInput {
	b := o.Beneficiary
	ci := CreateInput{FundingType: string(o.FundingType), Amount: RawNumber(Amount(o.AmountMinor, o.Currency)), Currency: o.Currency,
		PortfolioID: o.PortfolioID, ContractReference: o.ContractReference, Description: o.Description, Beneficiary: &b,
		PaymentMethod: string(o.PaymentMethod), ExecutionDate: FormatTime(o.ExecutionDate)}
	if in.Amount != "" {
		ci.Amount = in.Amount
	}
	for _, f := range []struct {
		from *string
		into *string
	}{{in.ExecutionDate, &ci.ExecutionDate}, {in.Description, &ci.Description}, {in.PaymentMethod, &ci.PaymentMethod}} {
		if f.from != nil {
			*f.into = *f.from
		}
	}
	if p := in.Beneficiary; p != nil {
		for _, f := range []struct {
			from *string
			into *string
		}{{p.Name, &b.Name}, {p.AccountNumber, &b.AccountNumber}, {p.BankName, &b.BankName}, {p.BankCode, &b.BankCode}, {p.Address, &b.Address}} {
			if f.from != nil {
				*f.into = *f.from
			}
		}
	}
	return ci
}

// UpdateOrder changes a PENDING order (PAYMENT_NOT_MODIFIABLE otherwise).
// A raised amount must be covered by the portfolio's available funds;
// any change withdraws the approvals already given (maker-checker).
func (s *Service) UpdateOrder(ctx context.Context, t Tenant, c Caller, id string, in UpdateInput) (Order, error) {
	const op = "payment_order.update"
	if in.empty() {
		return Order{}, fail(op, &Error{Status: http.StatusBadRequest, Code: CodeInvalidPaymentData,
			Message: "nothing to update: send amount, executionDate, description, beneficiary or paymentMethod"})
	}
	reach, err := s.reach(ctx, c)
	if err != nil {
		return Order{}, apperr.Wrap(op, err)
	}
	var after Order
	err = s.retry(ctx, op, func() error {
		before, err := s.order(ctx, op, t, reach, id)
		if err != nil {
			return err
		}
		if !Modifiable(before.Status) {
			return fail(op, errNotModifiable(before.Status, "modified", "PENDING"))
		}
		d, err := in.merge(before).Validate()
		if err != nil {
			return fail(op, err.(*InputError).asError())
		}
		after = before
		after.AmountMinor, after.ExecutionDate, after.Description = d.AmountMinor, d.ExecutionDate, d.Description
		after.Beneficiary, after.PaymentMethod = d.Beneficiary, d.PaymentMethod
		after.Approvals = nil
		after.UpdatedAt, after.Version = s.now(), before.Version+1
		bv, av := before.View(), after.View()
		ev, err := s.event("payment_order.updated", after.UpdatedAt, t, c, map[string]any{"paymentOrder": av},
			event.Change{ResourceType: "payment_order", ResourceID: id, Action: "updated", Before: event.Snapshot(bv), After: event.Snapshot(av)})
		if err != nil {
			return apperr.Wrap(op, err)
		}
		// Only a raised amount must fit what is available now: an order that
		// fitted when created keeps its other fields editable.
		var m Move
		if after.AmountMinor > before.AmountMinor {
			m.Cover = after.AmountMinor
		}
		err = s.Store.ChangeOrder(ctx, before, after, m, ev)
		return s.fundsRefused(ctx, op, t, before.PortfolioID, err)
	})
	return after, err
}

// fundsRefused turns a write refused for the funds into
// INSUFFICIENT_FUNDS with what is available now; other errors pass.
func (s *Service) fundsRefused(ctx context.Context, op string, t Tenant, portfolioID string, err error) error {
	if !errors.Is(err, ErrFunds) {
		return err
	}
	p, perr := s.Store.GetPortfolio(ctx, t.PartnerID, t.OrgID, portfolioID)
	if perr != nil {
		return apperr.Wrap(op, perr)
	}
	return fail(op, errInsufficient(p.AvailableMinor, p.Currency))
}

func errNotModifiable(s Status, what, when string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeNotModifiable,
		Message: fmt.Sprintf("the order is %s: it can be %s only while %s", s, what, when)}
}

// StatusInput is seed 003's UpdatePaymentOrderStatusDto.
type StatusInput struct {
	Status string `json:"status"`
	Notes  string `json:"notes"`
}

// ChangeStatus moves an order along the workflow (Step), as c. Approving
// reserves the amount in the portfolio (INSUFFICIENT_FUNDS when it is no
// longer available), completing spends it, failing releases it — in the
// transaction of the status change. Under the portfolio's maker-checker
// policy an approval may be recorded without moving the order yet.
func (s *Service) ChangeStatus(ctx context.Context, t Tenant, c Caller, id string, in StatusInput) (Order, StatusChange, error) {
	const op = "payment_order.status"
	to := Status(in.Status)
	notes := strings.TrimSpace(in.Notes)
	switch {
	case in.Status == "":
		return Order{}, StatusChange{}, fail(op, badField("status", "status is required: PENDING, PROCESSING, COMPLETED, FAILED or CANCELLED"))
	case !to.Valid():
		return Order{}, StatusChange{}, fail(op, badField("status", "status must be PENDING, PROCESSING, COMPLETED, FAILED or CANCELLED"))
	case utf8.RuneCountInString(notes) > maxNotes || !utf8.ValidString(notes) || strings.ContainsRune(notes, 0):
		return Order{}, StatusChange{}, fail(op, badField("notes", fmt.Sprintf("notes must be at most %d characters", maxNotes)))
	}
	reach, err := s.reach(ctx, c)
	if err != nil {
		return Order{}, StatusChange{}, apperr.Wrap(op, err)
	}
	var after Order
	var change StatusChange
	err = s.retry(ctx, op, func() error {
		before, err := s.order(ctx, op, t, reach, id)
		if err != nil {
			return err
		}
		step, ok := Step(before.Status, to)
		if !ok {
			return fail(op, errTransition(before.Status, to))
		}
		if !auth.Allowed(c.Principal, step.Action) {
			return fail(op, &Error{Status: http.StatusForbidden, Code: CodeForbidden,
				Message: fmt.Sprintf("the role %q may not %s an order", c.Principal.Role, step.Name)})
		}
		if step.To == StatusPending && retries(before) >= maxRetries {
			return fail(op, &Error{Status: http.StatusBadRequest, Code: CodeInvalidStatusTransition,
				Message: fmt.Sprintf("the order was retried %d times; cancel it and create another", maxRetries)})
		}
		if before.Execution != nil && step.BySystem {
			return fail(op, &Error{Status: http.StatusBadRequest, Code: CodeInvalidStatusTransition,
				Message: fmt.Sprintf("the order is executed through %s (%s): the bank's answer completes or fails it", before.Execution.Provider, before.Execution.State),
				Details: []FieldError{{Field: "status", Message: "set by the payment provider for this order"}}})
		}
		now := s.now()
		after = before
		after.StatusHistory = slices.Clone(before.StatusHistory)
		after.UpdatedAt, after.Version = now, before.Version+1
		change = StatusChange{ID: id, Reference: before.Reference, Status: to, PreviousStatus: before.Status, StatusChangedAt: FormatTime(now), Notes: notes}
		execution := before.Execution
		if to == StatusPending {
			execution = nil // a retried order is a new payout when approved again
		}
		if step.Funds == FundsReserve {
			p, err := s.Store.GetPortfolio(ctx, t.PartnerID, t.OrgID, before.PortfolioID)
			if err != nil {
				return apperr.Wrap(op, err)
			}
			need := p.Approval.ApprovalsRequired(before.AmountMinor)
			if p.Approval.DistinctApprover && c.Actor.ID == before.CreatedBy.ID {
				return fail(op, &Error{Status: http.StatusForbidden, Code: CodeApproverIsCreator,
					Message: "this portfolio requires the approver to be another client than the order's creator"})
			}
			for _, a := range before.Approvals {
				if a.By == c.Actor.ID {
					return fail(op, &Error{Status: http.StatusForbidden, Code: CodeAlreadyApproved,
						Message: "this client has already approved the order; another must give the second approval"})
				}
			}
			after.Approvals = append(slices.Clone(before.Approvals), Approval{By: c.Actor.ID, At: now})
			if len(after.Approvals) < need {
				// Recorded; the order stays PENDING until the next approval.
				after.StatusHistory = append(after.StatusHistory, HistoryEntry{Status: StatusPending, Timestamp: now, Actor: c.Actor.ID,
					Notes: strings.TrimSpace(fmt.Sprintf("Approval %d of %d. %s", len(after.Approvals), need, notes))})
				change.Status, change.Approvals, change.ApprovalsRequired = StatusPending, len(after.Approvals), need
				ev, err := s.event("payment_order.approval_recorded", now, t, c,
					map[string]any{"paymentOrderId": id, "approvals": len(after.Approvals), "approvalsRequired": need, "paymentOrder": after.View()},
					event.Change{ResourceType: "payment_order", ResourceID: id, Action: "approval_recorded",
						Before: event.Snapshot(map[string]any{"approvals": len(before.Approvals)}), After: event.Snapshot(map[string]any{"approvals": len(after.Approvals)})})
				if err != nil {
					return apperr.Wrap(op, err)
				}
				return s.Store.ChangeOrder(ctx, before, after, Move{}, ev)
			}
			if need > 1 {
				change.Approvals, change.ApprovalsRequired = len(after.Approvals), need
			}
			execution = newExecution(before, p, now)
		}
		approvals := after.Approvals
		var m Move
		after, m = advance(before, step, c.Actor.ID, notes, now)
		if step.Funds == FundsReserve && len(approvals) > 1 {
			after.Approvals = approvals // two approvals: both kept; one: the history says who
		}
		after.Execution = execution
		ev, err := s.statusEvent(now, t, c.Actor, before, after)
		if err != nil {
			return apperr.Wrap(op, err)
		}
		err = s.Store.ChangeOrder(ctx, before, after, m, ev)
		return s.fundsRefused(ctx, op, t, before.PortfolioID, err)
	})
	return after, change, err
}

// advance applies step to before, as actor: the status, its history entry,
// the workflow's timestamps, and what it does to the portfolio's funds.
// Approvals are cleared (a retried order is approved afresh; a single
// approval is in the history); the execution is kept (ChangeStatus and
// finish set it).
func advance(before Order, step Transition, actor, notes string, now time.Time) (Order, Move) {
	after := before
	after.StatusHistory = append(slices.Clone(before.StatusHistory), HistoryEntry{Status: step.To, Timestamp: now, Actor: actor, Notes: notes})
	after.Status, after.Approvals, after.UpdatedAt, after.Version = step.To, nil, now, before.Version+1
	var m Move
	switch step.Funds {
	case FundsReserve:
		m = Move{Available: -before.AmountMinor, Reserved: before.AmountMinor, Cover: before.AmountMinor}
		after.ProcessedAt = &now
	case FundsSpend:
		m = Move{Reserved: -before.AmountMinor, Spent: before.AmountMinor}
		after.CompletedAt = &now
	case FundsRelease:
		m = Move{Reserved: -before.AmountMinor, Available: before.AmountMinor}
	}
	return after, m
}

// statusEvent is payment_order.status_changed for before → after.
func (s *Service) statusEvent(at time.Time, t Tenant, actor event.Actor, before, after Order) (event.Event, error) {
	notes := after.StatusHistory[len(after.StatusHistory)-1].Notes
	return event.New(s.NewID("evt"), "payment_order.status_changed", at, t.PartnerID, t.OrgID, actor,
		map[string]any{"paymentOrderId": after.ID, "previousStatus": before.Status, "status": after.Status, "notes": notes, "paymentOrder": after.View()},
		event.Change{ResourceType: "payment_order", ResourceID: after.ID, Action: "status_changed",
			Before: event.Snapshot(map[string]any{"status": before.Status}), After: event.Snapshot(map[string]any{"status": after.Status, "notes": notes})})
}

// retries counts the order's FAILED → PENDING steps.
func retries(o Order) int {
	n := 0
	for i := 1; i < len(o.StatusHistory); i++ {
		if o.StatusHistory[i].Status == StatusPending && o.StatusHistory[i-1].Status == StatusFailed {
			n++
		}
	}
	return n
}

func badField(field, msg string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidPaymentData, Message: msg, Details: []FieldError{{Field: field, Message: msg}}}
}

func errTransition(from, to Status) *Error {
	var next []string
	for _, t := range transitions {
		if t.From == from {
			next = append(next, string(t.To))
		}
	}
	msg := fmt.Sprintf("%s → %s is not an allowed transition", from, to)
	if len(next) == 0 {
		msg += fmt.Sprintf("; %s is final", from)
	} else {
		msg += "; from " + string(from) + ": " + strings.Join(next, ", ")
	}
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidStatusTransition, Message: msg,
		Details: []FieldError{{Field: "status", Message: msg}}}
}

// DeleteOrder deletes a PENDING or FAILED order (it holds no funds then;
// PAYMENT_NOT_MODIFIABLE otherwise). It leaves the lists and the
// portfolio's counts; its events stay in the audit trail.
func (s *Service) DeleteOrder(ctx context.Context, t Tenant, c Caller, id string) error {
	const op = "payment_order.delete"
	reach, err := s.reach(ctx, c)
	if err != nil {
		return apperr.Wrap(op, err)
	}
	return s.retry(ctx, op, func() error {
		o, err := s.order(ctx, op, t, reach, id)
		if err != nil {
			return err
		}
		if !Deletable(o.Status) {
			return fail(op, errNotModifiable(o.Status, "deleted", "PENDING or FAILED"))
		}
		v := o.View()
		ev, err := s.event("payment_order.deleted", s.now(), t, c, map[string]any{"paymentOrder": v},
			event.Change{ResourceType: "payment_order", ResourceID: id, Action: "deleted", Before: event.Snapshot(v), After: event.Snapshot(nil)})
		if err != nil {
			return apperr.Wrap(op, err)
		}
		return s.Store.DeleteOrder(ctx, o, ev)
	})
}

// asError is the input error as the family's error (400).
func (e *InputError) asError() *Error {
	msg := "invalid payment data"
	if len(e.Details) > 0 {
		msg = e.Details[0].Message
	}
	return &Error{Status: http.StatusBadRequest, Code: e.Code, Message: msg, Details: e.Details}
}
