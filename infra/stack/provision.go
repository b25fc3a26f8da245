package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Resources are the physical resources Provision made (or found) on the
// engines, by template logical id.
type Resources struct {
	Prefix    string // physical names are <Prefix>-<LogicalId>
	Region    string
	AccountID string
	ByID      map[string]Physical
}

// Physical is one provisioned resource.
type Physical struct {
	LogicalID string
	Type      string // AWS::DynamoDB::Table or AWS::SQS::Queue
	Name      string // table or queue name
	ARN       string
	URL       string // queues only
	StreamARN string // tables with a StreamSpecification only
}

// Env resolves the environment of every function the parameters' stage
// deploys (Template.Environment, without the functions whose Condition is
// false):
// !Ref Table is the table
// name, !Ref Queue the queue URL, !Ref Parameter the value in params else the
// parameter's Default, !GetAtt Queue.Arn the ARN, and so on.
func (r *Resources) Env(tpl *Template, params map[string]string) (map[string]string, error) {
	if err := checkParams(tpl, params); err != nil {
		return nil, err
	}
	res := newResolver(tpl, params, r)
	vars, err := tpl.environment(func(f Resource) (bool, error) { return included(res, f) })
	if err != nil {
		return nil, err
	}
	env := map[string]string{}
	for name, v := range vars {
		rv, err := res.resolve(v)
		if err != nil {
			return nil, fmt.Errorf("resolve environment variable %s: %w", name, err)
		}
		if rv == noValue {
			continue
		}
		s, err := scalarString(rv)
		if err != nil {
			return nil, fmt.Errorf("resolve environment variable %s: %w", name, err)
		}
		env[name] = s
	}
	return env, nil
}

// Provision creates every AWS::DynamoDB::Table and AWS::SQS::Queue of the
// template on the engines, named <prefix>-<LogicalId>. Resources that already
// exist are reused (and their settings brought in line where the API allows),
// so provisioning twice against the same engines works.
func Provision(ctx context.Context, dynamoEndpoint, sqsEndpoint, prefix string, tpl *Template, params map[string]string) (*Resources, error) {
	if err := checkParams(tpl, params); err != nil {
		return nil, err
	}
	out := &Resources{Prefix: prefix, Region: Region(), AccountID: LocalAccountID, ByID: map[string]Physical{}}
	res := newResolver(tpl, params, out)

	ddb := NewDynamoDBClient(dynamoEndpoint)
	for _, t := range tpl.ResourcesOfType("AWS::DynamoDB::Table") {
		if ok, err := included(res, t); err != nil || !ok {
			if err != nil {
				return nil, fmt.Errorf("provision table %s: %w", t.LogicalID, err)
			}
			continue
		}
		p, err := provisionTable(ctx, ddb, res, prefix+"-"+t.LogicalID, t)
		if err != nil {
			return nil, fmt.Errorf("provision table %s: %w", t.LogicalID, err)
		}
		out.ByID[t.LogicalID] = p
	}

	queues, err := queueOrder(tpl)
	if err != nil {
		return nil, err
	}
	sqsc := NewSQSClient(sqsEndpoint)
	for _, q := range queues {
		if ok, err := included(res, q); err != nil || !ok {
			if err != nil {
				return nil, fmt.Errorf("provision queue %s: %w", q.LogicalID, err)
			}
			continue
		}
		p, err := provisionQueue(ctx, sqsc, res, prefix+"-"+q.LogicalID, q)
		if err != nil {
			return nil, fmt.Errorf("provision queue %s: %w", q.LogicalID, err)
		}
		out.ByID[q.LogicalID] = p
	}
	for _, id := range tpl.Order {
		if p, ok := out.ByID[id]; ok {
			slog.Debug("provisioned", "id", id, "name", p.Name, "arn", p.ARN)
		}
	}
	return out, nil
}

// included evaluates a resource's Condition.
func included(res *resolver, r Resource) (bool, error) {
	if r.Condition == "" {
		return true, nil
	}
	return res.condition(r.Condition)
}

type cfnKey struct {
	AttributeName string
	KeyType       string
}

type cfnIndex struct {
	IndexName  string
	KeySchema  []cfnKey
	Projection struct {
		ProjectionType   string
		NonKeyAttributes []string
	}
}

type cfnTable struct {
	AttributeDefinitions []struct {
		AttributeName string
		AttributeType string
	}
	KeySchema               []cfnKey
	GlobalSecondaryIndexes  []cfnIndex
	LocalSecondaryIndexes   []cfnIndex
	StreamSpecification     *struct{ StreamViewType string }
	TimeToLiveSpecification *struct {
		AttributeName string
		Enabled       flexBool
	}
}

// tableProps are the table properties that have a local meaning. The others
// are deliberately not read (so their intrinsics need not resolve):
// SSESpecification and PointInTimeRecoverySpecification are not supported by
// DynamoDB Local, BillingMode is always PAY_PER_REQUEST locally, Tags,
// DeletionProtectionEnabled, ContributorInsights... have no local effect.
var tableProps = []string{"AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes",
	"LocalSecondaryIndexes", "StreamSpecification", "TimeToLiveSpecification"}

func provisionTable(ctx context.Context, c *dynamodb.Client, res *resolver, name string, r Resource) (Physical, error) {
	var spec cfnTable
	if err := decodeProps(res, r.Properties, tableProps, &spec); err != nil {
		return Physical{}, err
	}
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: ddbtypes.BillingModePayPerRequest,
		KeySchema:   keySchema(spec.KeySchema),
	}
	for _, a := range spec.AttributeDefinitions {
		in.AttributeDefinitions = append(in.AttributeDefinitions, ddbtypes.AttributeDefinition{
			AttributeName: aws.String(a.AttributeName),
			AttributeType: ddbtypes.ScalarAttributeType(a.AttributeType),
		})
	}
	for _, g := range spec.GlobalSecondaryIndexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, ddbtypes.GlobalSecondaryIndex{
			IndexName:  aws.String(g.IndexName),
			KeySchema:  keySchema(g.KeySchema),
			Projection: projection(g),
		})
	}
	for _, l := range spec.LocalSecondaryIndexes {
		in.LocalSecondaryIndexes = append(in.LocalSecondaryIndexes, ddbtypes.LocalSecondaryIndex{
			IndexName:  aws.String(l.IndexName),
			KeySchema:  keySchema(l.KeySchema),
			Projection: projection(l),
		})
	}
	if spec.StreamSpecification != nil {
		in.StreamSpecification = &ddbtypes.StreamSpecification{
			StreamEnabled:  aws.Bool(true),
			StreamViewType: ddbtypes.StreamViewType(spec.StreamSpecification.StreamViewType),
		}
	}

	_, err := c.CreateTable(ctx, in)
	var inUse *ddbtypes.ResourceInUseException
	existed := errors.As(err, &inUse)
	if err != nil && !existed {
		return Physical{}, fmt.Errorf("create table %s: %w", name, err)
	}
	// DynamoDB Local makes tables ACTIVE at once: poll fast, not at the
	// waiter's default 20 s.
	waiter := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		return Physical{}, fmt.Errorf("wait for table %s: %w", name, err)
	}
	desc, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		return Physical{}, fmt.Errorf("describe table %s: %w", name, err)
	}
	td := desc.Table
	if existed {
		if err := reconcileTable(ctx, c, name, in, td); err != nil {
			return Physical{}, err
		}
		if desc, err = c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}); err != nil {
			return Physical{}, fmt.Errorf("describe table %s: %w", name, err)
		}
		td = desc.Table
	}

	if ttl := spec.TimeToLiveSpecification; ttl != nil && ttl.AttributeName != "" {
		if err := ensureTTL(ctx, c, name, ttl.AttributeName, bool(ttl.Enabled)); err != nil {
			return Physical{}, err
		}
	}
	return Physical{
		LogicalID: r.LogicalID,
		Type:      r.Type,
		Name:      name,
		ARN:       aws.ToString(td.TableArn),
		StreamARN: aws.ToString(td.LatestStreamArn),
	}, nil
}

// reconcileTable brings an existing table's stream in line with the template
// and warns about differences that would need the table recreated. Keys cannot
// change in place; a missing GSI is created.
func reconcileTable(ctx context.Context, c *dynamodb.Client, name string, want *dynamodb.CreateTableInput, have *ddbtypes.TableDescription) error {
	haveGSI := map[string]bool{}
	for _, g := range have.GlobalSecondaryIndexes {
		haveGSI[aws.ToString(g.IndexName)] = true
	}
	for _, g := range want.GlobalSecondaryIndexes {
		if haveGSI[aws.ToString(g.IndexName)] {
			continue
		}
		slog.Info("adding missing index to existing table", "table", name, "index", aws.ToString(g.IndexName))
		_, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{
			TableName:            aws.String(name),
			AttributeDefinitions: want.AttributeDefinitions,
			GlobalSecondaryIndexUpdates: []ddbtypes.GlobalSecondaryIndexUpdate{{Create: &ddbtypes.CreateGlobalSecondaryIndexAction{
				IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection,
			}}},
		})
		if err != nil {
			return fmt.Errorf("add index %s to table %s: %w", aws.ToString(g.IndexName), name, err)
		}
	}
	wantStream := want.StreamSpecification != nil
	haveStream := have.StreamSpecification != nil && aws.ToBool(have.StreamSpecification.StreamEnabled)
	switch {
	case wantStream && !haveStream:
		_, err := c.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(name), StreamSpecification: want.StreamSpecification})
		if err != nil {
			return fmt.Errorf("enable stream on table %s: %w", name, err)
		}
	case wantStream && have.StreamSpecification.StreamViewType != want.StreamSpecification.StreamViewType:
		slog.Warn("existing table has another stream view type; restart the engines to recreate it", "table", name,
			"have", have.StreamSpecification.StreamViewType, "want", want.StreamSpecification.StreamViewType)
	}
	if len(have.KeySchema) != len(want.KeySchema) {
		slog.Warn("existing table has another key schema; restart the engines to recreate it", "table", name)
	}
	return nil
}

func ensureTTL(ctx context.Context, c *dynamodb.Client, name, attr string, enabled bool) error {
	cur, err := c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		return fmt.Errorf("describe time to live of %s: %w", name, err)
	}
	if d := cur.TimeToLiveDescription; d != nil {
		on := d.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabled || d.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabling
		if on == enabled && (!enabled || aws.ToString(d.AttributeName) == attr) {
			return nil
		}
		if on && enabled {
			// The attribute changed: TTL must be disabled before it can be re-enabled on another one.
			if _, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
				TableName:               aws.String(name),
				TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: d.AttributeName, Enabled: aws.Bool(false)},
			}); err != nil {
				return fmt.Errorf("disable time to live of %s: %w", name, err)
			}
		}
	} else if !enabled {
		return nil
	}
	_, err = c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(enabled)},
	})
	if err != nil {
		return fmt.Errorf("update time to live of %s: %w", name, err)
	}
	return nil
}

func keySchema(ks []cfnKey) []ddbtypes.KeySchemaElement {
	out := make([]ddbtypes.KeySchemaElement, 0, len(ks))
	for _, k := range ks {
		out = append(out, ddbtypes.KeySchemaElement{AttributeName: aws.String(k.AttributeName), KeyType: ddbtypes.KeyType(k.KeyType)})
	}
	return out
}

func projection(i cfnIndex) *ddbtypes.Projection {
	p := &ddbtypes.Projection{ProjectionType: ddbtypes.ProjectionType(i.Projection.ProjectionType)}
	if p.ProjectionType == "" {
		p.ProjectionType = ddbtypes.ProjectionTypeAll
	}
	if len(i.Projection.NonKeyAttributes) > 0 {
		p.NonKeyAttributes = i.Projection.NonKeyAttributes
	}
	return p
}

// queueAttrs maps queue properties with a local meaning to SQS attributes.
// KmsMasterKeyId, KmsDataKeyReusePeriodSeconds and SqsManagedSseEnabled are
// skipped (no KMS locally), Tags have no effect, and QueueName is replaced by
// the <prefix>-<LogicalId> naming so that stacks never collide.
var queueAttrs = []string{"VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds",
	"ReceiveMessageWaitTimeSeconds", "MaximumMessageSize", "RedrivePolicy", "RedriveAllowPolicy",
	"FifoQueue", "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"}

func provisionQueue(ctx context.Context, c *sqs.Client, res *resolver, name string, r Resource) (Physical, error) {
	attrs := map[string]string{}
	for _, key := range queueAttrs {
		v, ok := r.Properties[key]
		if !ok {
			continue
		}
		rv, err := res.resolve(v)
		if err != nil {
			return Physical{}, fmt.Errorf("%s: %w", key, err)
		}
		if rv == noValue {
			continue
		}
		switch x := rv.(type) {
		case map[string]any: // RedrivePolicy / RedriveAllowPolicy given as an object
			b, err := json.Marshal(x)
			if err != nil {
				return Physical{}, fmt.Errorf("%s: %w", key, err)
			}
			attrs[key] = string(b)
		default:
			s, err := scalarString(x)
			if err != nil {
				return Physical{}, fmt.Errorf("%s: %w", key, err)
			}
			attrs[key] = s
		}
	}
	if attrs["FifoQueue"] == "true" {
		name += ".fifo"
	} else {
		delete(attrs, "FifoQueue") // SQS rejects FifoQueue=false on standard queues
	}

	var url string
	created, err := c.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	switch {
	case err == nil:
		url = aws.ToString(created.QueueUrl)
	case isQueueExists(err):
		// Same name, other attributes: keep the queue (and its messages), update it.
		got, gerr := c.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
		if gerr != nil {
			return Physical{}, fmt.Errorf("get url of existing queue %s: %w", name, gerr)
		}
		url = aws.ToString(got.QueueUrl)
		delete(attrs, "FifoQueue") // immutable
		if _, err := c.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{QueueUrl: aws.String(url), Attributes: attrs}); err != nil {
			return Physical{}, fmt.Errorf("update existing queue %s: %w", name, err)
		}
	default:
		return Physical{}, fmt.Errorf("create queue %s: %w", name, err)
	}
	got, err := c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl:       aws.String(url),
		AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameQueueArn},
	})
	if err != nil {
		return Physical{}, fmt.Errorf("get arn of queue %s: %w", name, err)
	}
	return Physical{
		LogicalID: r.LogicalID,
		Type:      r.Type,
		Name:      name,
		URL:       url,
		ARN:       got.Attributes[string(sqstypes.QueueAttributeNameQueueArn)],
	}, nil
}

// apiError is the part of the SDK's API errors used here (smithy.APIError).
type apiError interface{ ErrorCode() string }

func isQueueExists(err error) bool {
	var ae apiError
	if !errors.As(err, &ae) {
		return false
	}
	code := ae.ErrorCode()
	return strings.Contains(code, "QueueAlreadyExists") || strings.Contains(code, "QueueNameExists")
}

// queueOrder returns the queues so that every dead-letter queue comes before
// the queues redriving to it (its ARN must exist to be referenced).
func queueOrder(tpl *Template) ([]Resource, error) {
	queues := tpl.ResourcesOfType("AWS::SQS::Queue")
	byID := map[string]Resource{}
	for _, q := range queues {
		byID[q.LogicalID] = q
	}
	var out []Resource
	state := map[string]int{} // 0 unseen, 1 visiting, 2 done
	var visit func(q Resource) error
	visit = func(q Resource) error {
		switch state[q.LogicalID] {
		case 1:
			return fmt.Errorf("queue %s: redrive policies form a cycle", q.LogicalID)
		case 2:
			return nil
		}
		state[q.LogicalID] = 1
		deps := refsIn(q.Properties["RedrivePolicy"])
		sort.Strings(deps)
		for _, d := range deps {
			if dq, ok := byID[d]; ok {
				if err := visit(dq); err != nil {
					return err
				}
			}
		}
		state[q.LogicalID] = 2
		out = append(out, q)
		return nil
	}
	for _, q := range queues {
		if err := visit(q); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// refsIn lists the resources a value refers to with Ref, GetAtt or Sub.
func refsIn(v any) []string {
	var out []string
	walkIntrinsics(v, func(name string, arg, whole any) bool {
		switch name {
		case "Ref":
			if s, ok := arg.(string); ok {
				out = append(out, s)
			}
			return false
		case "Fn::GetAtt":
			if r, _, ok := getAttTarget(whole); ok {
				out = append(out, r)
			}
			return false
		case "Fn::Sub":
			s, _ := arg.(string)
			if l := asList(arg); len(l) > 0 {
				s, _ = l[0].(string)
				for _, e := range l[1:] {
					out = append(out, refsIn(e)...)
				}
			}
			for _, m := range subVar.FindAllStringSubmatch(s, -1) {
				r, _, _ := strings.Cut(m[1], ".")
				out = append(out, r)
			}
			return false
		}
		return true
	})
	return out
}

// ParamRefs lists the parameters a value refers to with a Ref, at any
// depth (not those a Sub names): the parameters a variable of the
// environment is bound to.
func (t *Template) ParamRefs(v any) []string {
	var out []string
	walkIntrinsics(v, func(name string, arg, _ any) bool {
		if name != "Ref" {
			return true
		}
		if s, ok := arg.(string); ok {
			if _, isParam := t.Parameters[s]; isParam && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		return false
	})
	return out
}

// walkIntrinsics calls visit for every intrinsic function in v, outermost
// first, and goes into its argument when visit says so.
func walkIntrinsics(v any, visit func(name string, arg, whole any) (descend bool)) {
	if name, arg, ok := intrinsic(v); ok {
		if visit(name, arg, v) {
			walkIntrinsics(arg, visit)
		}
		return
	}
	switch x := v.(type) {
	case map[string]any:
		for _, e := range x {
			walkIntrinsics(e, visit)
		}
	case []any:
		for _, e := range x {
			walkIntrinsics(e, visit)
		}
	}
}

// decodeProps resolves the listed properties and decodes them into out
// through JSON (out's fields are named like the CloudFormation properties).
func decodeProps(res *resolver, props map[string]any, keys []string, out any) error {
	picked := map[string]any{}
	for _, k := range keys {
		v, ok := props[k]
		if !ok {
			continue
		}
		rv, err := res.resolve(v)
		if err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
		if rv != noValue {
			picked[k] = rv
		}
	}
	b, err := json.Marshal(picked)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decode properties: %w", err)
	}
	return nil
}

// flexBool accepts true, "true" and "True" alike, as CloudFormation does.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		v, err := strconv.ParseBool(s)
		*b = flexBool(v)
		return err
	}
	var v bool
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	*b = flexBool(v)
	return nil
}
