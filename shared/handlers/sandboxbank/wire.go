// Package sandboxbank is SandboxBankFunction: the sandbox stage's bank.
package sandboxbank

import (
	"github.com/modupay/modupay/shared/aiiasandbox"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/table"
	"strings"
)

// Prefix is the API path the sandbox bank is served under; the stack's
// Aiia client is pointed at PublicBaseURL + Prefix (template.yaml,
// UseSandboxBank).
const Prefix = "/sandbox-bank"

// Route is its one route.
const Route = "ANY " + Prefix + "/{proxy+}"

// Wire builds SandboxBankFunction: shared/aiiasandbox on the API under
// Prefix, its records in its own table, accepting the stack's own Aiia
// client (its key, else its secret), with the delays of OptionsFromEnv (the guide's
// few seconds). Deployed it is shared by every partner of the sandbox:
// PublicOnly (no test hooks, no index). What it needs, and that it never
// runs in production, lambdaenv.Env.Require checks before.
func Wire(e *lambdaenv.Env) (lambdaenv.Function, error) {
	c := e.Config
	opts := aiiasandbox.OptionsFromEnv()
	// The stack's own client: its certificate when the stack has a key
	// (assertions only), else its secret.
	opts.ClientID, opts.ClientKey, opts.ClientSecret = c.Aiia.ClientID, c.Aiia.ClientKey, c.Aiia.ClientSecret
	if opts.ClientKey != "" {
		opts.ClientSecret = ""
	}
	// Deployed, PublicBaseURL is required (lambdaenv.MakesPageURLs); the
	// local runtime may leave it empty: pages then follow the request's host.
	opts.PublicURL, opts.PathPrefix = c.PublicBaseURL, Prefix
	if c.PublicBaseURL != "" && len(opts.RedirectPrefixes) == 0 {
		// The stack's payment pages are its client's one registered
		// redirect, as an onboarding at Aiia registers them.
		opts.RedirectPrefixes = []string{strings.TrimRight(c.PublicBaseURL, "/") + "/p/"}
	}
	opts.Now = e.Now
	opts.PublicOnly = !c.Local
	opts.Store = aiiasandbox.DynamoStore{DB: table.NewDynamoDB(e.AWS, c.DynamoDBEndpoint, e.DynamoDBAPIOptions...), Table: c.SandboxBankTable}
	return lambdaenv.Function{HTTP: aiiasandbox.LambdaHandler(aiiasandbox.New(opts), Prefix), Routes: []string{Route}}, nil
}
