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
	"strings"
	"time"

	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/credential"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/dynamo"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/organization"
	"github.com/modupay/modupay/shared/wiring"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "operator:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) > 0 && args[0] == "kyc-decide" {
		return kycDecide(args[1:])
	}
	if len(args) > 0 && args[0] == "bank-account-decide" {
		return bankAccountDecide(args[1:])
	}
	if len(args) > 0 && args[0] == "payer-index-backfill" {
		return payerIndexBackfill(args[1:])
	}
	if len(args) > 0 && args[0] == "kyc-expire" {
		return kycExpire(args[1:])
	}
	if len(args) == 0 || args[0] != "create-partner" {
		return fmt.Errorf("usage: operator create-partner -table T [-endpoint URL] -partner ID -name NAME -client-id ID [-secret S]\n" +
			"       operator kyc-decide -table T [-endpoint URL] -partner ID -department ID (-approve | -reject code:message[,code:message…]) -reviewer NAME\n" +
			"       operator bank-account-decide -table T [-endpoint URL] -partner ID -department ID -account ID (-approve | -reject code:message) -reviewer NAME\n" +
			"       operator payer-index-backfill -table T [-endpoint URL] -partner ID [-org ID]\n" +
			"       operator kyc-expire -table T [-endpoint URL] -partner ID -department ID -closed-at YYYY-MM-DD")
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

// storeFlags are the flags every table command takes.
type storeFlags struct{ table, endpoint, region *string }

func newStoreFlags(fs *flag.FlagSet) storeFlags {
	return storeFlags{table: fs.String("table", os.Getenv("MODUPAY_TABLE"), "DynamoDB table of the stage (stack output TableName)"),
		endpoint: fs.String("endpoint", os.Getenv("MODUPAY_DYNAMODB_ENDPOINT"), "DynamoDB endpoint; empty for AWS"),
		region:   fs.String("region", envOr("AWS_REGION", "eu-west-3"), "AWS region")}
}

func (f storeFlags) store(ctx context.Context) (*dynamo.Store, error) {
	awsCfg, err := wiring.AWSConfig(ctx, *f.region, *f.endpoint != "")
	if err != nil {
		return nil, err
	}
	return dynamo.New(wiring.NewDynamoDB(awsCfg, *f.endpoint), *f.table, time.Now), nil
}

// payerIndexBackfill adds the payer index entries (docs/personal-data.md) of
// the invoices created before the index existed, for one organisation or
// every organisation of a partner. It pages through each organisation's
// invoice list (GSI1, never a Scan) and puts each missing entry on condition
// that it does not exist, so it can run while the API writes invoices, and
// again after an interruption. Run it once per partner after deploying the
// index; the GDPR routes find older invoices only after it.
func payerIndexBackfill(args []string) error {
	fs := flag.NewFlagSet("payer-index-backfill", flag.ContinueOnError)
	sf := newStoreFlags(fs)
	partner := fs.String("partner", "", "partner id")
	org := fs.String("org", "", "one organisation id; empty for every organisation of the partner")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *sf.table == "" || *partner == "" {
		return fmt.Errorf("-table and -partner are required")
	}
	ctx := context.Background()
	st, err := sf.store(ctx)
	if err != nil {
		return err
	}
	n, err := backfillPayerIndex(ctx, st, *partner, *org)
	if err != nil {
		return err
	}
	fmt.Printf("payer index: %d entries added\n", n)
	return nil
}

func backfillPayerIndex(ctx context.Context, st *dynamo.Store, partnerID, orgID string) (int, error) {
	orgs := []string{orgID}
	if orgID == "" {
		orgs = nil
		q := listing.Query{Page: 1, Size: 100}
		for {
			p, err := st.ListOrganizations(ctx, partnerID, q, organization.Filter{})
			if err != nil {
				return 0, err
			}
			for _, o := range p.Items {
				orgs = append(orgs, o.ID)
			}
			if p.Next == "" {
				break
			}
			q.Cursor = p.Next
		}
	}
	added := 0
	for _, o := range orgs {
		q := listing.Query{Page: 1, Size: 100}
		for {
			p, err := st.ListInvoices(ctx, partnerID, o, q, invoice.Filter{})
			if err != nil {
				return added, err
			}
			n, err := st.IndexPayers(ctx, p.Items)
			added += n
			if err != nil {
				return added, err
			}
			if p.Next == "" {
				break
			}
			q.Cursor = p.Next
		}
	}
	return added, nil
}

// kycExpire sets the deletion date of a closed department's KYC file and
// documents: department.KYCRetentionYears (5) after -closed-at, the end of
// the business relationship (Code monétaire et financier L561-12). Closing a
// department through the API will do the same in its transaction.
func kycExpire(args []string) error {
	fs := flag.NewFlagSet("kyc-expire", flag.ContinueOnError)
	sf := newStoreFlags(fs)
	partner := fs.String("partner", "", "partner id")
	dept := fs.String("department", "", "department id")
	closed := fs.String("closed-at", "", "the day the business relationship ended, YYYY-MM-DD")
	if err := fs.Parse(args); err != nil {
		return err
	}
	day, err := time.Parse(time.DateOnly, *closed)
	if *sf.table == "" || *partner == "" || *dept == "" || err != nil {
		return fmt.Errorf("-table, -partner, -department and -closed-at YYYY-MM-DD are required")
	}
	ctx := context.Background()
	st, err := sf.store(ctx)
	if err != nil {
		return err
	}
	until := department.KYCRetainedUntil(day)
	n, err := st.ExpireKYC(ctx, *partner, *dept, until)
	if err != nil {
		return err
	}
	fmt.Printf("%d KYC items of %s will be deleted on %s\n", n, *dept, until.Format(time.DateOnly))
	return nil
}
