package table

import (
	"context"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"
)

// maxKeyValue is the largest key attribute value DynamoDB accepts: 2048
// bytes for a partition key, 1024 for a sort key; the smaller bounds both,
// our own keys ("INV#inv-<uuid>") being far below it.
const maxKeyValue = 1024

// keyGuard answers the reads whose key no item can have — an id of 10 000
// characters from a path or a body — as DynamoDB would answer a key that
// does not exist (no item), without sending them: DynamoDB would refuse
// them with a ValidationException, which is a 500 to the caller, where an
// id that cannot exist is a 404 like any other unknown id. It runs before
// the call counter: such a read is no DynamoDB call.
func keyGuard(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("modupay-keyguard",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			switch p := in.Parameters.(type) {
			case *dynamodb.GetItemInput:
				if oversize(p.Key) {
					return middleware.InitializeOutput{Result: &dynamodb.GetItemOutput{}}, middleware.Metadata{}, nil
				}
			case *dynamodb.BatchGetItemInput:
				empty := true
				for table, ka := range p.RequestItems {
					keys := ka.Keys[:0:0]
					for _, k := range ka.Keys {
						if !oversize(k) {
							keys = append(keys, k)
						}
					}
					ka.Keys = keys
					p.RequestItems[table] = ka
					empty = empty && len(keys) == 0
				}
				if empty {
					return middleware.InitializeOutput{Result: &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}}}, middleware.Metadata{}, nil
				}
			case *dynamodb.QueryInput:
				if p.KeyConditionExpression != nil {
					for _, name := range placeholder.FindAllString(*p.KeyConditionExpression, -1) {
						if tooLong(p.ExpressionAttributeValues[name]) {
							return middleware.InitializeOutput{Result: &dynamodb.QueryOutput{}}, middleware.Metadata{}, nil
						}
					}
				}
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
}

var placeholder = regexp.MustCompile(`:[A-Za-z0-9_]+`)

func oversize(key map[string]types.AttributeValue) bool {
	for _, v := range key {
		if tooLong(v) {
			return true
		}
	}
	return false
}

func tooLong(v types.AttributeValue) bool {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return len(x.Value) > maxKeyValue
	case *types.AttributeValueMemberB:
		return len(x.Value) > maxKeyValue
	}
	return false
}
