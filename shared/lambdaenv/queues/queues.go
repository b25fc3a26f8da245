// Package queues builds the container's SQS client and its publishers; only
// the functions that send to a queue link it.
package queues

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/modupay/modupay/shared/callcount"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/queue"
)

// SQS is the container's SQS client: calls counted per request, pointed at
// the local endpoint when one is set.
func SQS(e *lambdaenv.Env) *sqs.Client {
	return lambdaenv.Shared(e, "queues.sqs", func() *sqs.Client {
		return sqs.NewFromConfig(e.AWS, func(opt *sqs.Options) {
			if e.Config.SQSEndpoint != "" {
				opt.BaseEndpoint = aws.String(e.Config.SQSEndpoint)
			}
			opt.APIOptions = append(opt.APIOptions, callcount.APIOption(callcount.SQS))
			opt.APIOptions = append(opt.APIOptions, e.SQSAPIOptions...)
		})
	})
}

// Publisher sends to the queue at url with the container's client.
func Publisher(e *lambdaenv.Env, url string) queue.Publisher {
	return queue.Publisher{Client: SQS(e), URL: url}
}
