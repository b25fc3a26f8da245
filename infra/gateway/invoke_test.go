package gateway_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/modupay/modupay/infra/gateway"
	"github.com/modupay/modupay/shared/wiring"
)

func TestInvokeJSON(t *testing.T) {
	ctx := context.Background()
	id := gateway.Identity{Region: "eu-west-3", AccountID: "123456789012"}

	httpFn := wiring.Function{LogicalID: "F", HTTP: func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		lc, ok := lambdacontext.FromContext(ctx)
		if !ok || lc.AwsRequestID == "" || lc.InvokedFunctionArn != "arn:aws:lambda:eu-west-3:123456789012:function:F" {
			return events.APIGatewayV2HTTPResponse{}, errors.New("no lambda context")
		}
		if _, ok := ctx.Deadline(); !ok {
			return events.APIGatewayV2HTTPResponse{}, errors.New("no deadline")
		}
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: ev.RouteKey}, nil
	}}
	out, err := gateway.InvokeJSON(ctx, httpFn, []byte(`{"version":"2.0","routeKey":"GET /health"}`), time.Second, id)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "http", string(out), `{"statusCode":200,"headers":null,"multiValueHeaders":null,"body":"GET /health","cookies":null}`)

	sqsFn := wiring.Function{LogicalID: "Q", SQS: func(_ context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
		return events.SQSEventResponse{BatchItemFailures: []events.SQSBatchItemFailure{{ItemIdentifier: ev.Records[0].MessageId}}}, nil
	}}
	out, err = gateway.InvokeJSON(ctx, sqsFn, []byte(`{"Records":[{"messageId":"m1","body":"x"}]}`), time.Second, id)
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "sqs", string(out), `{"batchItemFailures":[{"itemIdentifier":"m1"}]}`)

	streamFn := wiring.Function{LogicalID: "S", Stream: func(_ context.Context, ev events.DynamoDBEvent) (events.DynamoDBEventResponse, error) {
		if ev.Records[0].Change.NewImage["kind"].String() != "event" {
			return events.DynamoDBEventResponse{}, errors.New("bad image")
		}
		return events.DynamoDBEventResponse{}, nil
	}}
	if _, err := gateway.InvokeJSON(ctx, streamFn, []byte(`{"Records":[{"eventName":"INSERT","dynamodb":{"NewImage":{"kind":{"S":"event"}}}}]}`), time.Second, id); err != nil {
		t.Fatal(err)
	}

	schedFn := wiring.Function{LogicalID: "C", Schedule: func(context.Context, events.EventBridgeEvent) error { return errors.New("failed") }}
	if _, err := gateway.InvokeJSON(ctx, schedFn, []byte(`{"detail-type":"Scheduled Event","time":"2026-01-01T00:00:00Z"}`), time.Second, id); err == nil || err.Error() != "failed" {
		t.Errorf("schedule error = %v", err)
	}

	slow := wiring.Function{LogicalID: "Slow", SQS: func(ctx context.Context, _ events.SQSEvent) (events.SQSEventResponse, error) {
		<-ctx.Done()
		time.Sleep(50 * time.Millisecond)
		return events.SQSEventResponse{}, nil
	}}
	_, err = gateway.InvokeJSON(ctx, slow, []byte(`{"Records":[]}`), 100*time.Millisecond, id)
	var te gateway.TimeoutError
	if !errors.As(err, &te) || err.Error() != "Task timed out after 0.10 seconds" {
		t.Errorf("timeout error = %v", err)
	}

	if _, err := gateway.InvokeJSON(ctx, httpFn, []byte(`[1,2]`), time.Second, id); err == nil {
		t.Error("an event of the wrong shape must be rejected")
	}
}
