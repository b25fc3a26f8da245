// Command sdkfloor is the bench's second reference: the hello-world Lambda
// plus what any function that reads the table cannot avoid — the AWS SDK's
// DynamoDB client linked and built at init, from a configuration filled by
// hand as the functions fill theirs (no config.LoadDefaultConfig) — so the
// init figures say how much of a function's start is the SDK's and how much
// is ours.
package main

import (
	"context"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

func main() {
	db := dynamodb.NewFromConfig(aws.Config{Region: os.Getenv("AWS_REGION")})
	lambda.Start(func(ctx context.Context, in struct{ Table string }) error {
		if in.Table == "" {
			return nil
		}
		_, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &in.Table})
		return err
	})
}
