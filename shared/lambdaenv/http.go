package lambdaenv

import "github.com/modupay/modupay/shared/httpapi"

// HTTP builds an HTTP function from its routes on the given edge.
func HTTP(opts httpapi.Options, routes ...httpapi.Route) (Function, error) {
	api, err := httpapi.New(opts, routes...)
	if err != nil {
		return Function{}, err
	}
	return Function{HTTP: api.Handle, Routes: api.RouteKeys()}, nil
}

// PublicAPI is the edge of a function whose routes are all public: no
// token to verify, nothing to read.
func (e *Env) PublicAPI() httpapi.Options {
	return httpapi.Options{Logger: e.Log, Now: e.Now, NewID: func() string { return e.NewID("req") },
		ClientLimit: e.Limits.API, LimitNow: e.Limits.Now}
}
