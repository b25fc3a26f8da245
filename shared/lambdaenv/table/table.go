// Package table builds, once per container, what the functions that use
// the DynamoDB table share: the client, the store, and the authenticated
// API edge (whose revocation list and idempotency records are in the table).
package table

import (
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/callcount"
	"github.com/modupay/modupay/shared/dynamo"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/lambdaenv"
)

// NewDynamoDB builds the DynamoDB client every function and tool uses: calls
// counted per request, and pointed at DynamoDB Local when endpoint is set.
func NewDynamoDB(awsCfg aws.Config, endpoint string, apiOptions ...func(*middleware.Stack) error) *dynamodb.Client {
	return dynamodb.NewFromConfig(awsCfg, func(opt *dynamodb.Options) {
		if endpoint != "" {
			opt.BaseEndpoint = aws.String(endpoint)
			// DynamoDB Local's CRC32 response header does not match what recent SDKs
			// expect; only the local endpoint skips that validation.
			opt.DisableValidateResponseChecksum = true
		}
		opt.APIOptions = append(opt.APIOptions, callcount.APIOption(callcount.DynamoDB))
		opt.APIOptions = append(opt.APIOptions, apiOptions...)
	})
}

// Store is the container's store over the table.
func Store(e *lambdaenv.Env) *dynamo.Store {
	return lambdaenv.Shared(e, "table.store", func() *dynamo.Store {
		db := NewDynamoDB(e.AWS, e.Config.DynamoDBEndpoint, e.DynamoDBAPIOptions...)
		return dynamo.New(db, e.Config.Table, e.Now)
	})
}

// API is the edge of the authenticated HTTP functions: tokens verified in
// memory with the JWT ring, the revocation list and idempotency records
// read from the table, the per-client limit counted in memory.
func API(e *lambdaenv.Env) httpapi.Options {
	return lambdaenv.Shared(e, "table.api", func() httpapi.Options {
		store := Store(e)
		return httpapi.Options{
			Verifier:    &auth.Verifier{Keys: e.JWTKeys(), Issuer: e.Config.Issuer(), Audience: lambdaenv.Audience, Now: e.Now, Leeway: 30 * time.Second},
			Revocations: dynamo.NewRevocationCache(store),
			Idempotency: store,
			Logger:      e.Log,
			Now:         e.Now,
			NewID:       func() string { return e.NewID("req") },
			ClientLimit: e.Limits.API,
			LimitNow:    e.Limits.Now,
		}
	})
}

// HTTP builds an HTTP function from its routes on the authenticated edge.
func HTTP(e *lambdaenv.Env, routes ...httpapi.Route) (lambdaenv.Function, error) {
	return lambdaenv.HTTP(API(e), routes...)
}
