package stack_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/modupay/modupay/infra/engines/enginetest"
	"github.com/modupay/modupay/infra/stack"
)

func TestMain(m *testing.M) { enginetest.Main(m) }

func TestProvisionRealTemplateTwice(t *testing.T) {
	start := time.Now()
	dynamoEP, sqsEP := enginetest.Endpoints(t)
	t.Logf("engines ready in %v", time.Since(start))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tpl, err := stack.Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf("prov%d", time.Now().UnixNano())
	params := map[string]string{"JWTKeysSecretId": "modupay/test/jwt-keys", "JWTActiveKid": "k1", "PageKeysSecretId": "modupay/test/page-keys", "PageActiveKid": "p1", "CSRFKeySecretId": "modupay/test/csrf-key",
		"DashboardKeysSecretId": "modupay/test/dashboard-keys"}

	first, err := stack.Provision(ctx, dynamoEP, sqsEP, prefix, tpl, params)
	if err != nil {
		t.Fatal(err)
	}
	second, err := stack.Provision(ctx, dynamoEP, sqsEP, prefix, tpl, params)
	if err != nil {
		t.Fatalf("second Provision: %v", err)
	}
	if !reflect.DeepEqual(first, second) {
		t.Errorf("second Provision differs:\n%+v\n%+v", first, second)
	}

	table := second.ByID["Table"]
	if table.Name != prefix+"-Table" || table.StreamARN == "" || table.ARN == "" {
		t.Fatalf("table = %+v", table)
	}
	ddb := stack.NewDynamoDBClient(dynamoEP)
	desc, err := ddb.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table.Name)})
	if err != nil {
		t.Fatal(err)
	}
	td := desc.Table
	gsis := map[string]ddbtypes.ProjectionType{}
	for _, g := range td.GlobalSecondaryIndexes {
		gsis[aws.ToString(g.IndexName)] = g.Projection.ProjectionType
	}
	if len(gsis) != 2 || gsis["GSI1"] != ddbtypes.ProjectionTypeAll || gsis["GSI2"] != ddbtypes.ProjectionTypeAll {
		t.Errorf("GSIs = %v, want GSI1 and GSI2 projecting all attributes", gsis)
	}
	if td.StreamSpecification == nil || !aws.ToBool(td.StreamSpecification.StreamEnabled) ||
		td.StreamSpecification.StreamViewType != ddbtypes.StreamViewTypeNewAndOldImages {
		t.Errorf("stream = %+v", td.StreamSpecification)
	}
	if aws.ToString(td.LatestStreamArn) != table.StreamARN {
		t.Errorf("stream arn %s, want %s", aws.ToString(td.LatestStreamArn), table.StreamARN)
	}
	if td.BillingModeSummary == nil || td.BillingModeSummary.BillingMode != ddbtypes.BillingModePayPerRequest {
		t.Errorf("billing = %+v", td.BillingModeSummary)
	}
	ttl, err := ddb.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table.Name)})
	if err != nil {
		t.Fatal(err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || aws.ToString(d.AttributeName) != "ttl" || d.TimeToLiveStatus != ddbtypes.TimeToLiveStatusEnabled {
		t.Errorf("ttl = %+v", ttl.TimeToLiveDescription)
	}

	dlq, q := second.ByID["AuditDLQ"], second.ByID["AuditQueue"]
	if dlq.ARN == "" || q.URL == "" || q.Name != prefix+"-AuditQueue" {
		t.Fatalf("queues = %+v %+v", dlq, q)
	}
	attrs, err := stack.NewSQSClient(sqsEP).GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(q.URL), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
	})
	if err != nil {
		t.Fatal(err)
	}
	if attrs.Attributes["VisibilityTimeout"] != "60" || attrs.Attributes["MessageRetentionPeriod"] != "345600" {
		t.Errorf("queue attributes = %v", attrs.Attributes)
	}
	var rp struct {
		DeadLetterTargetArn string `json:"deadLetterTargetArn"`
		MaxReceiveCount     any    `json:"maxReceiveCount"`
	}
	if err := json.Unmarshal([]byte(attrs.Attributes["RedrivePolicy"]), &rp); err != nil {
		t.Fatalf("RedrivePolicy %q: %v", attrs.Attributes["RedrivePolicy"], err)
	}
	if rp.DeadLetterTargetArn != dlq.ARN || fmt.Sprint(rp.MaxReceiveCount) != "5" {
		t.Errorf("RedrivePolicy = %+v, want DLQ %s and 5", rp, dlq.ARN)
	}

	env, err := second.Env(tpl, params)
	if err != nil {
		t.Fatal(err)
	}
	if env["MODUPAY_TABLE"] != table.Name || env["MODUPAY_AUDIT_QUEUE_URL"] != q.URL ||
		env["MODUPAY_STAGE"] != "sandbox" || env["MODUPAY_JWT_ACTIVE_KID"] != "k1" || env["MODUPAY_JWT_KEYS_SECRET_ID"] != "modupay/test/jwt-keys" {
		t.Errorf("env = %v", env)
	}
}
