package stack

import (
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
)

// Local identity. The engines accept any credentials; moto puts
// LocalAccountID in every ARN and queue URL it makes.
const (
	LocalAccessKeyID     = "local"
	LocalSecretAccessKey = "local"
	LocalAccountID       = "123456789012"
	LocalAPIID           = "modupay-local"
	defaultRegion        = "eu-west-3"
)

// Region is AWS_REGION, or eu-west-3 (the project's region) when unset.
func Region() string {
	if r := os.Getenv("AWS_REGION"); r != "" {
		return r
	}
	return defaultRegion
}

// localConfig is a config built from nothing on the machine: no shared config
// file, profile or IMDS lookup can leak real credentials toward a local engine.
func localConfig() aws.Config {
	return aws.Config{
		Region:      Region(),
		Credentials: credentials.NewStaticCredentialsProvider(LocalAccessKeyID, LocalSecretAccessKey, ""),
	}
}

// NewDynamoDBClient returns a client for the DynamoDB Local at endpoint.
// DynamoDB Local sends an x-amz-crc32 header the SDK would otherwise check and
// warn about, so response checksum validation is off.
func NewDynamoDBClient(endpoint string) *dynamodb.Client {
	return dynamodb.NewFromConfig(localConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.DisableValidateResponseChecksum = true
	})
}

// NewStreamsClient returns a DynamoDB Streams client for the DynamoDB Local at
// endpoint. (The streams client has no CRC32 validation to disable.)
func NewStreamsClient(endpoint string) *dynamodbstreams.Client {
	return dynamodbstreams.NewFromConfig(localConfig(), func(o *dynamodbstreams.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	})
}

// NewSQSClient returns a client for the SQS engine at endpoint.
func NewSQSClient(endpoint string) *sqs.Client {
	return sqs.NewFromConfig(localConfig(), func(o *sqs.Options) {
		o.BaseEndpoint = aws.String(endpoint)
	})
}
