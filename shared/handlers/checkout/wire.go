package checkout

import (
	"github.com/modupay/modupay/shared/aiiabank"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/docstore"
)

// Wire builds CheckoutFunction: the hosted payment page. Its routes are
// public (the URL's token is the key), so it is served on the public edge:
// no token to verify, no API client whose calls the API call log would
// keep, and so no SQS client linked. It serves the invoice's PDF kept at
// its issue (docstore: the S3 client, reads only).
func Wire(e *lambdaenv.Env) (lambdaenv.Function, error) {
	sandbox := !e.Config.Mode().Strict
	docs, err := docstore.Keeper(e)
	if err != nil {
		return lambdaenv.Function{}, err
	}
	h := &Handlers{Flow: aiiabank.Flow(e), CSRFKey: e.CSRFKey(), BaseURL: e.Config.PublicBaseURL, Sandbox: sandbox, Now: e.Stamp, Documents: docs}
	return lambdaenv.HTTP(e.PublicAPI(), h.Routes()...)
}
