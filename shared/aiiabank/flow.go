package aiiabank

import (
	"strings"

	"github.com/modupay/modupay/shared/aiia"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/table"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/refund"
)

// Client is the container's Aiia client (one per process: it caches the
// access token).
func Client(e *lambdaenv.Env) *aiia.Client {
	return lambdaenv.Shared(e, "aiia.Client", func() *aiia.Client { return aiia.New(e.Config.Aiia, nil, e.Now) })
}

// Flow is the container's payment flow with Aiia as its bank: the checkout
// page starts payments with it, the poller follows them.
func Flow(e *lambdaenv.Env) *payment.Flow {
	return lambdaenv.Shared(e, "payment.Flow", func() *payment.Flow {
		flow := &payment.Flow{Store: table.Store(e), Bank: Bank{Provider: Client(e), Onboarding: Onboarding(e)}, Tokens: e.PageTokens(),
			Now: e.Stamp, NewID: e.NewID, Log: e.Log}
		if !e.Config.Mode().Strict {
			// No card processor is configured for production; the sandbox simulates
			// one with documented test cards.
			flow.Cards = payment.SandboxCards{NewID: e.NewID}
		}
		return flow
	})
}

// Onboarding is the stage's way of giving payees their destination id
// (MODUPAY_AIIA_DESTINATIONS, lambdaenv.Config.Destinations): the sandbox
// bank's POST /destinations, or ids recorded by an operator.
func Onboarding(e *lambdaenv.Env) MerchantOnboarding {
	if e.Config.Destinations() == lambdaenv.DestinationsAPI {
		return APIDestinations{Provider: Client(e)}
	}
	return OperatorDestinations{}
}

// RefundAccountPage is the page (under the stack's public URL) where the
// provider's account collection flow sends a payer back: under /p/, the
// prefix registered as the stack's redirect URLs.
const RefundAccountPage = "/p/refund-account"

// refundAccountURL is the page under base; none without a base.
func refundAccountURL(base string) string {
	if base == "" {
		return ""
	}
	return strings.TrimRight(base, "/") + RefundAccountPage
}

// RefundService is the container's refund follower: Aiia refunds SEPA
// payments; the sandbox's card simulator refunds card payments. A refund
// that succeeds makes its credit note, kept by credits.
func RefundService(e *lambdaenv.Env, credits refund.CreditKeeper) *refund.Service {
	return lambdaenv.Shared(e, "refund.Service/follower", func() *refund.Service {
		flow := Flow(e)
		s := &refund.Service{Store: table.Store(e), Methods: refund.MethodsFor(e.Config.Mode()), Now: e.Stamp, NewID: e.NewID, Credits: credits,
			Providers: map[string]refund.Provider{payment.MethodSEPA: Refunds{Provider: flow.Bank.(Bank).Provider,
				CollectRedirectURL: refundAccountURL(e.Config.PublicBaseURL), Now: e.Stamp}}}
		if flow.Cards != nil {
			s.Providers[payment.MethodCard] = refund.Cards{Processor: flow.Cards}
		}
		return s
	})
}
