// Command helloworld is the bench's reference: the smallest Go Lambda
// (aws-lambda-go answering every event with nothing), built with the flags of
// the functions, so their init is measured against what Go on Lambda costs.
package main

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, struct{}) error { return nil })
}
