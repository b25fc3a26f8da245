// Package table builds, once per container, what the functions that use
// the DynamoDB table share: the client and the store (the authenticated
// API edge built on it is package edge's).
package table

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/middleware"

	"github.com/modupay/modupay/shared/callcount"
	"github.com/modupay/modupay/shared/dynamo"
	"github.com/modupay/modupay/shared/lambdaenv"
)

// NewDynamoDB builds the DynamoDB client every function and tool uses: calls
// counted per request, reads of keys no item can have answered without a
// call (keyGuard), and pointed at DynamoDB Local when endpoint is set.
func NewDynamoDB(awsCfg aws.Config, endpoint string, apiOptions ...func(*middleware.Stack) error) *dynamodb.Client {
	return dynamodb.NewFromConfig(awsCfg, func(opt *dynamodb.Options) {
		if endpoint != "" {
			opt.BaseEndpoint = aws.String(endpoint)
			// DynamoDB Local's CRC32 response header does not match what recent SDKs
			// expect; only the local endpoint skips that validation.
			opt.DisableValidateResponseChecksum = true
		}
		opt.APIOptions = append(opt.APIOptions, keyGuard, callcount.APIOption(callcount.DynamoDB))
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
