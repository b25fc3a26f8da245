// Command operator is what a ModuPay operator runs to onboard a partner: it
// creates the partner and its partner-scoped API client directly in the table
// of a stage, local or deployed (the AWS credentials of the shell decide which
// account; -table names the stack's table, see the stack output TableName).
//
//	go run ./infra/operator create-partner -table modupay-local-Table -endpoint http://127.0.0.1:8000 \
//	    -partner partner-acme -name "Acme SAS" -client-id acme-sandbox
//
// The client secret is generated and printed once; only its hash is stored.
// Running it again for the same partner and client id rotates the secret.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/credential"
	"github.com/modupay/modupay/shared/dynamo"
	"github.com/modupay/modupay/shared/wiring"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "operator:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 || args[0] != "create-partner" {
		return fmt.Errorf("usage: operator create-partner -table T [-endpoint URL] -partner ID -name NAME -client-id ID [-secret S]")
	}
	fs := flag.NewFlagSet("create-partner", flag.ContinueOnError)
	table := fs.String("table", os.Getenv("MODUPAY_TABLE"), "DynamoDB table of the stage (stack output TableName)")
	endpoint := fs.String("endpoint", os.Getenv("MODUPAY_DYNAMODB_ENDPOINT"), "DynamoDB endpoint; empty for AWS")
	region := fs.String("region", envOr("AWS_REGION", "eu-west-3"), "AWS region")
	partner := fs.String("partner", "", "partner id, e.g. partner-acme")
	name := fs.String("name", "", "partner display name")
	clientID := fs.String("client-id", "", "client id of the partner's API client")
	secret := fs.String("secret", "", "client secret; generated when empty (recommended)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *table == "" || *partner == "" || *clientID == "" {
		return fmt.Errorf("-table, -partner and -client-id are required")
	}
	ctx := context.Background()
	awsCfg, err := wiring.AWSConfig(ctx, *region, *endpoint != "")
	if err != nil {
		return err
	}
	s := *secret
	if s == "" {
		if s, err = auth.NewClientSecret(); err != nil {
			return err
		}
	}
	svc := &credential.Service{Store: dynamo.New(wiring.NewDynamoDB(awsCfg, *endpoint), *table, time.Now), Now: time.Now}
	if err := svc.EnsurePartner(ctx, *partner, *name, *clientID, s); err != nil {
		return err
	}
	fmt.Printf("partner %s ready\nclient_id=%s\nclient_secret=%s\n(the secret is shown once; only its hash is stored)\n", *partner, *clientID, s)
	return nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
