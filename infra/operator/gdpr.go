package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/dynamo"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/listing"
	"github.com/modupay/modupay/shared/organization"
	"github.com/modupay/modupay/shared/wiring"
)

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
