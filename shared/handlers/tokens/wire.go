package tokens

import (
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/credential"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/edge"
	"github.com/modupay/modupay/shared/lambdaenv/table"
)

// Credentials is the container's API client service: it issues tokens with
// the JWT ring and counts failed attempts in the table.
func Credentials(e *lambdaenv.Env) *credential.Service {
	return lambdaenv.Shared(e, "credential.Service", func() *credential.Service {
		return &credential.Service{Store: table.Store(e), Now: e.Stamp, NewID: e.NewID, Limits: e.Limits.Token, LimitNow: e.Limits.Now, Log: e.Log,
			Issuer: &auth.Issuer{Keys: e.JWTKeys(), Issuer: e.Config.Issuer(), Audience: lambdaenv.Audience, TTL: lambdaenv.TokenTTL, Now: e.Now,
				NewID: func() string { return e.NewID("tok") }}}
	})
}

// Wire builds AuthFunction: the token endpoint and the API clients.
func Wire(e *lambdaenv.Env) (lambdaenv.Function, error) {
	return edge.HTTP(e, (&Handlers{Credentials: Credentials(e)}).Routes()...)
}
