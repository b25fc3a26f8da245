package lambdaenv

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/modupay/modupay/shared/postresponse"
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

// Wire builds one family's function from the container's environment: the
// family's constructor, which a function's main names.
type Wire func(*Env) (Function, error)

// Resolve fills the secrets of a configuration in, given the SDK
// configuration to fetch them with (secrets.Resolve does it from Secrets
// Manager; a function without secrets passes nil).
type Resolve func(ctx context.Context, cfg Config, awsCfg *aws.Config) (Config, error)

// Start is a function's main: it reads and checks the configuration,
// resolves the function's secrets (resolve, nil when it holds none), wires
// the function and hands its handler to lambda.Start. A misconfiguration
// stops the container at init, before any event, naming the reason.
func Start(logicalID string, wire Wire, resolve Resolve) {
	fn, err := Load(context.Background(), logicalID, wire, resolve, Options{})
	if err != nil {
		slog.Error("init failed", slog.String("function", logicalID), slog.String("error", err.Error()))
		os.Exit(1)
	}
	if fn.HTTP != nil {
		fn.HTTP = postResponse(fn.HTTP)
	}
	lambda.Start(fn.Handler())
}

// postResponse gives an HTTP function's invocations their post-response
// queue (the API call log is sent from it) through an internal extension,
// registered now, during init. Where it cannot register, the handler runs
// that work itself before answering, as it would in a unit test.
func postResponse(h HTTPHandler) HTTPHandler {
	api := os.Getenv("AWS_LAMBDA_RUNTIME_API")
	if api == "" {
		return h
	}
	x, err := postresponse.Register(context.Background(), api, slog.Default())
	if err != nil {
		slog.Warn("post-response extension not registered: the call log is sent before each response", slog.String("error", err.Error()))
		return h
	}
	go x.Run(context.Background())
	return postresponse.Wrap(x, h)
}

// Load builds the function as Start does, without starting it.
func Load(ctx context.Context, logicalID string, wire Wire, resolve Resolve, o Options) (Function, error) {
	cfg := ConfigFromEnv()
	if o.AWS == nil {
		awsCfg := AWSConfigFromEnv(cfg.Region, cfg.LocalEngines())
		o.AWS = &awsCfg
	}
	if resolve != nil {
		var err error
		if cfg, err = resolve(ctx, cfg, o.AWS); err != nil {
			return Function{}, err
		}
	}
	e, err := New(cfg, o)
	if err != nil {
		return Function{}, fmt.Errorf("%s: %w", logicalID, err)
	}
	if err := e.Require(logicalID); err != nil {
		return Function{}, fmt.Errorf("%s: %w", logicalID, err)
	}
	fn, err := wire(e)
	if err != nil {
		return Function{}, fmt.Errorf("%s: %w", logicalID, err)
	}
	fn.LogicalID = logicalID
	return fn, nil
}
