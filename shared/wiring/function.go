// Package wiring is the composition root shared by every Lambda main and by the
// local runtime: it turns configuration into SDK clients, adapters, services and
// handlers, once per container. A function's main only names the function it is.
package wiring

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
)

// Handler signatures, exactly those aws-lambda-go accepts for each event source.
type (
	HTTPHandler     func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
	SQSHandler      func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)
	StreamHandler   func(context.Context, events.DynamoDBEvent) (events.DynamoDBEventResponse, error)
	ScheduleHandler func(context.Context, events.EventBridgeEvent) error
)

// Function is one Lambda function of template.yaml, by its logical id. Exactly
// one of the handler fields is set, matching the function's event source.
type Function struct {
	LogicalID string
	HTTP      HTTPHandler
	SQS       SQSHandler
	Stream    StreamHandler
	Schedule  ScheduleHandler
	// Routes are the route keys an HTTP function serves (for the template check).
	Routes []string
}

// Handler returns the value to pass to lambda.Start.
func (f Function) Handler() any {
	switch {
	case f.HTTP != nil:
		return f.HTTP
	case f.SQS != nil:
		return f.SQS
	case f.Stream != nil:
		return f.Stream
	default:
		return f.Schedule
	}
}
