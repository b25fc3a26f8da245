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
//
// redrive-audit-dlq moves the audit DLQ's messages back to the audit queue
// (see redrive.go); replay-stream-failures routes again the stream records
// the event router gave up on (see replay.go); aiia-destination lists a
// department's bank accounts and records the Aiia destination id of one
// (see destination.go).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/credential"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/dynamo"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/wiring"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "operator:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) > 0 && args[0] == "payer-index-backfill" {
		return payerIndexBackfill(args[1:])
	}
	if len(args) > 0 && args[0] == "kyc-expire" {
		return kycExpire(args[1:])
	}
	if len(args) > 0 && args[0] == "kyc-decide" {
		return kycDecide(args[1:])
	}
	if len(args) > 0 && args[0] == "redrive-audit-dlq" {
		return redriveAuditDLQ(args[1:])
	}
	if len(args) > 0 && args[0] == "replay-stream-failures" {
		return replayStreamFailures(args[1:])
	}
	if len(args) > 0 && args[0] == "bank-account-decide" {
		return bankAccountDecide(args[1:])
	}
	if len(args) > 0 && args[0] == "aiia-destination" {
		return aiiaDestination(args[1:], os.Stdout)
	}
	if len(args) == 0 || args[0] != "create-partner" {
		return fmt.Errorf("usage: operator create-partner -table T [-endpoint URL] -partner ID -name NAME -client-id ID [-secret S]\n" +
			"       operator payer-index-backfill -table T [-endpoint URL] -partner ID [-org ID]\n" +
			"       operator kyc-expire -table T [-endpoint URL] -partner ID -department ID -closed-at YYYY-MM-DD\n" +
			"       operator kyc-decide -table T [-endpoint URL] -partner ID -department ID (-approve | -reject code:message[,code:message…]) -reviewer NAME\n" +
			"       operator bank-account-decide -table T [-endpoint URL] -partner ID -department ID -account ID (-approve | -reject code:message) -reviewer NAME\n" +
			"       operator aiia-destination -table T [-endpoint URL] -partner ID -department ID [-account ID -destination-id DEST -reviewer NAME [-replace]]\n" +
			"       operator redrive-audit-dlq -queue-url URL -dlq-url URL [-endpoint URL] [-max N]\n" +
			"       operator replay-stream-failures -dlq-url URL [-endpoint URL] [-dynamodb-endpoint URL] [-max N]")
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

// review is what every reviewer's decision names: the stage's table, the
// department, the decision and who takes it.
type review struct {
	table, endpoint, region, partner, dept, reject, reviewer *string
	approve                                                  *bool
}

func reviewFlags(fs *flag.FlagSet, what string) review {
	return review{
		table:    fs.String("table", os.Getenv("MODUPAY_TABLE"), "DynamoDB table of the stage"),
		endpoint: fs.String("endpoint", os.Getenv("MODUPAY_DYNAMODB_ENDPOINT"), "DynamoDB endpoint; empty for AWS"),
		region:   fs.String("region", envOr("AWS_REGION", "eu-west-3"), "AWS region"),
		partner:  fs.String("partner", "", "partner id"),
		dept:     fs.String("department", "", "department id"),
		approve:  fs.Bool("approve", false, "approve "+what),
		reject:   fs.String("reject", "", "reject, with reasons code:message[,code:message...]"),
		reviewer: fs.String("reviewer", "", "who decides (recorded in the audit trail)"),
	}
}

// complete says whether the common flags are all there, with exactly one decision.
func (r review) complete() bool {
	return *r.table != "" && *r.partner != "" && *r.dept != "" && *r.reviewer != "" && *r.approve != (*r.reject != "")
}

func (r review) reasons() []department.Reason {
	var out []department.Reason
	for _, x := range strings.Split(*r.reject, ",") {
		if code, msg, ok := strings.Cut(x, ":"); ok {
			out = append(out, department.Reason{Code: strings.TrimSpace(code), Message: strings.TrimSpace(msg)})
		}
	}
	return out
}

func (r review) actor() event.Actor { return event.Actor{ID: *r.reviewer, Type: "operator"} }

func (r review) service(ctx context.Context) (*department.Service, error) {
	awsCfg, err := wiring.AWSConfig(ctx, *r.region, *r.endpoint != "")
	if err != nil {
		return nil, err
	}
	return &department.Service{Store: dynamo.New(wiring.NewDynamoDB(awsCfg, *r.endpoint), *r.table, time.Now), Now: time.Now, NewID: wiring.NewID}, nil
}

// kycDecide records a reviewer's decision on a pending KYC (production: the
// sandbox decides at submission).
func kycDecide(args []string) error {
	fs := flag.NewFlagSet("kyc-decide", flag.ContinueOnError)
	r := reviewFlags(fs, "the KYC")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !r.complete() {
		return fmt.Errorf("-table, -partner, -department, -reviewer and exactly one of -approve or -reject are required")
	}
	ctx := context.Background()
	svc, err := r.service(ctx)
	if err != nil {
		return err
	}
	k, err := svc.DecideKYC(ctx, *r.partner, *r.dept, *r.approve, r.reasons(), r.actor())
	if err != nil {
		return err
	}
	fmt.Printf("KYC of %s is %s\n", *r.dept, k.Status)
	return nil
}

// bankAccountDecide records a reviewer's verification of a bank account
// pending verification (production: the sandbox decides at once). Approving
// the department's default makes it the payout account, in the same
// transaction as the decision and its events.
func bankAccountDecide(args []string) error {
	fs := flag.NewFlagSet("bank-account-decide", flag.ContinueOnError)
	r := reviewFlags(fs, "the account (it belongs to the organisation)")
	account := fs.String("account", "", "bank account id")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !r.complete() || *account == "" {
		return fmt.Errorf("-table, -partner, -department, -account, -reviewer and exactly one of -approve or -reject are required")
	}
	var reason *department.Reason
	if rs := r.reasons(); len(rs) > 0 {
		reason = &rs[0]
	} else if *r.reject != "" {
		reason = &department.Reason{Code: strings.TrimSpace(*r.reject)}
	}
	ctx := context.Background()
	svc, err := r.service(ctx)
	if err != nil {
		return err
	}
	a, err := svc.DecideAccount(ctx, *r.partner, *r.dept, *account, *r.approve, reason, r.actor())
	if err != nil {
		return err
	}
	fmt.Printf("bank account %s of %s is %s\n", a.ID, *r.dept, a.Status)
	return nil
}
