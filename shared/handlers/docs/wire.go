package docs

import "github.com/modupay/modupay/shared/lambdaenv"

// Wire builds DocsFunction. Health answers from the function alone:
// DocsFunction has no data access, and a dependency check there would turn
// an outage into a failing health route for a function that still works.
func Wire(e *lambdaenv.Env) (lambdaenv.Function, error) {
	return lambdaenv.HTTP(e.PublicAPI(), (&Handlers{}).Routes()...)
}
