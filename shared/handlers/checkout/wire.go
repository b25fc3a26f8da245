package checkout

import (
	"github.com/modupay/modupay/shared/aiiabank"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/edge"
)

// Wire builds CheckoutFunction: the hosted payment page.
func Wire(e *lambdaenv.Env) (lambdaenv.Function, error) {
	sandbox := !e.Config.Mode().Strict
	h := &Handlers{Flow: aiiabank.Flow(e), CSRFKey: e.CSRFKey(), BaseURL: e.Config.PublicBaseURL, Sandbox: sandbox, Now: e.Now}
	return edge.HTTP(e, h.Routes()...)
}
