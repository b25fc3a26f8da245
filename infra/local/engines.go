package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/modupay/modupay/infra/engines"
)

// enginesCmd starts only the engines, on fixed ports, prints the exports that
// make run, invoke and the tests reuse them, and waits for Ctrl-C.
func enginesCmd(args []string) error {
	fs := flag.NewFlagSet("engines", flag.ContinueOnError)
	dynamoPort := fs.Int("dynamodb-port", 8000, "port of DynamoDB Local")
	sqsPort := fs.Int("sqs-port", 9324, "port of the SQS engine")
	logDir := fs.String("engine-logs", "", "directory for the engines' logs (default: a temporary one)")
	verbose := fs.Bool("v", false, "debug logs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := setupLog(*verbose)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	e, err := engines.Start(ctx, engines.Options{DynamoDBPort: *dynamoPort, SQSPort: *sqsPort, LogDir: *logDir})
	if err != nil {
		return err
	}
	defer e.Stop()
	fmt.Printf("export MODUPAY_DYNAMODB_ENDPOINT=%s MODUPAY_SQS_ENDPOINT=%s\n", e.DynamoDBEndpoint, e.SQSEndpoint)
	log.Info("engines running; Ctrl-C stops them", "logs", e.LogDir)
	<-ctx.Done()
	log.Info("stopping engines")
	return nil
}
