package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	streamtypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/google/uuid"

	"github.com/modupay/modupay/shared/wiring"
)

// StreamsAPI is what the stream event source mapping needs from a DynamoDB Streams client.
type StreamsAPI interface {
	DescribeStream(ctx context.Context, in *dynamodbstreams.DescribeStreamInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.DescribeStreamOutput, error)
	GetShardIterator(ctx context.Context, in *dynamodbstreams.GetShardIteratorInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetShardIteratorOutput, error)
	GetRecords(ctx context.Context, in *dynamodbstreams.GetRecordsInput, optFns ...func(*dynamodbstreams.Options)) (*dynamodbstreams.GetRecordsOutput, error)
}

// SQSSender sends the on-failure records of discarded batches.
type SQSSender interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, optFns ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
}

// StreamConfig describes one DynamoDB stream event source mapping.
type StreamConfig struct {
	FunctionID string
	Handler    wiring.StreamHandler
	Timeout    time.Duration // the function's timeout

	StreamARN        string
	BatchSize        int    // records per invocation, at least 1
	StartingPosition string // TRIM_HORIZON or LATEST, for the shards open when Run starts
	// MaximumRetryAttempts is the number of retries of a failed batch before it
	// is discarded; -1 retries for ever (Lambda: until the records expire).
	MaximumRetryAttempts int
	// MaximumRecordAge: a failed batch whose oldest record is older than
	// this is discarded instead of retried; 0 or less: no limit.
	MaximumRecordAge           time.Duration
	BisectBatchOnFunctionError bool
	ReportBatchItemFailures    bool
	// FilterPatterns: a record is delivered if it matches any (none: all records).
	FilterPatterns []string
	// OnFailureQueueURL receives an invocation record for every discarded
	// batch, as Lambda's on-failure destination does; empty: only logged.
	OnFailureQueueURL string
	OnFailure         SQSSender

	Client StreamsAPI
	Identity
	PollInterval      time.Duration // pause after an empty GetRecords; default 250 ms (Lambda polls 4 times a second)
	DiscoveryInterval time.Duration // how often new shards are looked for; default 1 s
	RetryBackoff      time.Duration // first pause before retrying a failed batch, doubling up to 5 s; default 200 ms
	Log               *slog.Logger
}

// StreamMapping emulates Lambda's DynamoDB stream event source mapping over
// DynamoDB Local's Streams API: it follows every shard, parents before their
// children, each shard in order; filters records, batches them, invokes the
// function and retries failures as Lambda does:
//
//   - a function error (or panic or timeout) retries the whole batch, split in
//     two first when BisectBatchOnFunctionError is set;
//   - with ReportBatchItemFailures, a response naming records retries the batch
//     from the lowest named sequence number (records before it are done);
//   - after MaximumRetryAttempts retries, or once the batch's oldest record is
//     older than MaximumRecordAge, the remaining records of the batch are
//     discarded: logged one by one, and reported to the on-failure queue.
//
// Progress lives in memory only: a new Run starts again from StartingPosition.
type StreamMapping struct {
	cfg     StreamConfig
	filters []*Filter
}

// NewStreamMapping checks the configuration and compiles the filters.
func NewStreamMapping(cfg StreamConfig) (*StreamMapping, error) {
	switch {
	case cfg.Handler == nil:
		return nil, fmt.Errorf("stream mapping of %s: no stream handler", cfg.FunctionID)
	case cfg.Client == nil || cfg.StreamARN == "":
		return nil, fmt.Errorf("stream mapping of %s: no stream (is StreamSpecification set on the table?)", cfg.FunctionID)
	case cfg.BatchSize < 1:
		return nil, fmt.Errorf("stream mapping of %s: BatchSize %d", cfg.FunctionID, cfg.BatchSize)
	case cfg.StartingPosition != "TRIM_HORIZON" && cfg.StartingPosition != "LATEST":
		return nil, fmt.Errorf("stream mapping of %s: StartingPosition %q", cfg.FunctionID, cfg.StartingPosition)
	case cfg.OnFailureQueueURL != "" && cfg.OnFailure == nil:
		return nil, fmt.Errorf("stream mapping of %s: on-failure queue without a client", cfg.FunctionID)
	}
	m := &StreamMapping{cfg: cfg}
	for _, p := range cfg.FilterPatterns {
		f, err := CompileFilter(p)
		if err != nil {
			return nil, fmt.Errorf("stream mapping of %s: %w", cfg.FunctionID, err)
		}
		m.filters = append(m.filters, f)
	}
	if m.cfg.PollInterval <= 0 {
		m.cfg.PollInterval = 250 * time.Millisecond
	}
	if m.cfg.DiscoveryInterval <= 0 {
		m.cfg.DiscoveryInterval = time.Second
	}
	if m.cfg.RetryBackoff <= 0 {
		m.cfg.RetryBackoff = 200 * time.Millisecond
	}
	if m.cfg.Log == nil {
		m.cfg.Log = slog.Default()
	}
	m.cfg.Identity = m.cfg.Identity.withDefaults()
	m.cfg.Log = m.cfg.Log.With("mapping", "dynamodb-stream", "function", cfg.FunctionID)
	return m, nil
}

type shardState struct {
	done chan struct{} // closed when the shard is closed and fully processed
}

// Run follows the stream until ctx is done.
func (m *StreamMapping) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	shards := map[string]*shardState{}
	first := true
	backoff := time.Duration(0)
	for {
		found, err := m.describeShards(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			backoff = min(max(2*backoff, 200*time.Millisecond), 10*time.Second)
			m.cfg.Log.Warn("describe stream failed; retrying", "err", err, "in", backoff)
			if !sleep(ctx, backoff) {
				return nil
			}
			continue
		}
		backoff = 0
		// Register every new shard before starting any, so that a child
		// listed before its parent still waits for it.
		var fresh []streamtypes.Shard
		for _, sh := range found {
			id := aws.ToString(sh.ShardId)
			if _, known := shards[id]; !known {
				shards[id] = &shardState{done: make(chan struct{})}
				fresh = append(fresh, sh)
			}
		}
		for _, sh := range fresh {
			id := aws.ToString(sh.ShardId)
			st := shards[id]
			// Shards open when the mapping starts begin at StartingPosition;
			// shards appearing later hold only new records: read them whole.
			iterType := streamtypes.ShardIteratorTypeTrimHorizon
			if first {
				iterType = streamtypes.ShardIteratorType(m.cfg.StartingPosition)
			}
			var parent chan struct{}
			if p, ok := shards[aws.ToString(sh.ParentShardId)]; ok {
				parent = p.done
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if parent != nil {
					select {
					case <-parent:
					case <-ctx.Done():
						return
					}
				}
				if m.runShard(ctx, id, iterType) {
					close(st.done)
				}
			}()
		}
		first = false
		if !sleep(ctx, m.cfg.DiscoveryInterval) {
			return nil
		}
	}
}

func (m *StreamMapping) describeShards(ctx context.Context) ([]streamtypes.Shard, error) {
	var out []streamtypes.Shard
	var start *string
	for {
		d, err := m.cfg.Client.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{
			StreamArn: aws.String(m.cfg.StreamARN), ExclusiveStartShardId: start,
		})
		if err != nil {
			return nil, err
		}
		if d.StreamDescription == nil {
			return out, nil
		}
		out = append(out, d.StreamDescription.Shards...)
		start = d.StreamDescription.LastEvaluatedShardId
		if start == nil {
			return out, nil
		}
	}
}

// runShard reads one shard to its end (or until ctx is done) and reports
// whether it reached the end of a closed shard.
func (m *StreamMapping) runShard(ctx context.Context, shardID string, iterType streamtypes.ShardIteratorType) bool {
	log := m.cfg.Log.With("shard", shardID)
	var lastSeq string
	iterator := func() (*string, error) {
		in := &dynamodbstreams.GetShardIteratorInput{
			StreamArn: aws.String(m.cfg.StreamARN), ShardId: aws.String(shardID), ShardIteratorType: iterType,
		}
		if lastSeq != "" {
			in.ShardIteratorType = streamtypes.ShardIteratorTypeAfterSequenceNumber
			in.SequenceNumber = aws.String(lastSeq)
		}
		out, err := m.cfg.Client.GetShardIterator(ctx, in)
		if err != nil {
			return nil, err
		}
		return out.ShardIterator, nil
	}
	backoff := time.Duration(0)
	fail := func(what string, err error) bool {
		backoff = min(max(2*backoff, 200*time.Millisecond), 10*time.Second)
		log.Warn(what+" failed; retrying", "err", err, "in", backoff)
		return sleep(ctx, backoff)
	}
	var it *string
	for ctx.Err() == nil {
		if it == nil {
			var err error
			if it, err = iterator(); err != nil {
				var notFound *streamtypes.ResourceNotFoundException
				if errors.As(err, &notFound) {
					log.Info("shard gone", "err", err)
					return true
				}
				if !fail("get shard iterator", err) {
					return false
				}
				continue
			}
			if it == nil {
				return true // nothing left to read in this shard
			}
		}
		out, err := m.cfg.Client.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it, Limit: aws.Int32(1000)})
		if err != nil {
			if ctx.Err() != nil {
				return false
			}
			var expired *streamtypes.ExpiredIteratorException
			var trimmed *streamtypes.TrimmedDataAccessException
			switch {
			case errors.As(err, &expired):
				it = nil // a new one after lastSeq
				continue
			case errors.As(err, &trimmed):
				log.Warn("records trimmed before they were read; continuing from the oldest available", "err", err)
				lastSeq, iterType, it = "", streamtypes.ShardIteratorTypeTrimHorizon, nil
				continue
			}
			if !fail("get records", err) {
				return false
			}
			continue
		}
		backoff = 0
		if len(out.Records) > 0 {
			m.process(ctx, shardID, out.Records)
			lastSeq = aws.ToString(out.Records[len(out.Records)-1].Dynamodb.SequenceNumber)
		}
		if out.NextShardIterator == nil {
			log.Debug("shard closed and read to its end")
			return true
		}
		it = out.NextShardIterator
		if len(out.Records) == 0 && !sleep(ctx, m.cfg.PollInterval) {
			return false
		}
	}
	return false
}

// process filters, batches and delivers records of one GetRecords, in order.
// Batches do not span GetRecords calls (up to 1000 records each): Lambda's
// MaximumBatchingWindowInSeconds, which would fill them across calls, is not
// emulated, so a quiet stream delivers smaller batches sooner.
func (m *StreamMapping) process(ctx context.Context, shardID string, recs []streamtypes.Record) {
	read := time.Now()
	var batch []events.DynamoDBEventRecord
	flush := func() {
		if len(batch) > 0 {
			m.deliver(ctx, shardID, batch, 0, read)
			batch = nil
		}
	}
	for _, r := range recs {
		ev, err := LambdaRecord(r, m.cfg.StreamARN, m.cfg.Region)
		if err != nil {
			m.cfg.Log.Error("unconvertible stream record skipped", "err", err, "sequence_number", seqOf(r))
			continue
		}
		ok, err := m.matches(ev)
		if err != nil {
			m.cfg.Log.Error("stream record could not be filtered; skipped", "err", err, "sequence_number", ev.Change.SequenceNumber)
			continue
		}
		if !ok {
			continue // filtered out, as Lambda does: never delivered, never retried
		}
		batch = append(batch, ev)
		if len(batch) == m.cfg.BatchSize {
			flush()
		}
		if ctx.Err() != nil {
			return
		}
	}
	flush()
}

func (m *StreamMapping) matches(ev events.DynamoDBEventRecord) (bool, error) {
	if len(m.filters) == 0 {
		return true, nil
	}
	doc, err := json.Marshal(ev)
	if err != nil {
		return false, err
	}
	for _, f := range m.filters {
		ok, err := f.Match(doc)
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

// deliver invokes the function with batch until it succeeds, its retries are
// exhausted (the rest of the batch is discarded), or ctx is done. attempt is
// the number of retries already spent on these records.
// read is when the records were read from the stream: their age is counted
// from it (DynamoDB Local rounds ApproximateCreationDateTime down to the
// minute, which would age every record by up to a minute at once).
func (m *StreamMapping) deliver(ctx context.Context, shardID string, batch []events.DynamoDBEventRecord, attempt int, read time.Time) {
	for {
		failedFrom, err := m.invoke(ctx, batch)
		if failedFrom < 0 {
			return
		}
		if err != nil && m.cfg.BisectBatchOnFunctionError && len(batch) > 1 {
			// Bisecting does not count as a retry.
			mid := len(batch) / 2
			m.cfg.Log.Info("function error: bisecting the batch", "records", len(batch))
			m.deliver(ctx, shardID, batch[:mid], attempt, read)
			m.deliver(ctx, shardID, batch[mid:], attempt, read)
			return
		}
		batch = batch[failedFrom:]
		if m.cfg.MaximumRetryAttempts >= 0 && attempt >= m.cfg.MaximumRetryAttempts {
			m.discard(ctx, shardID, batch, attempt+1, "RetryAttemptsExhausted")
			return
		}
		if m.cfg.MaximumRecordAge > 0 && time.Since(read) > m.cfg.MaximumRecordAge {
			m.discard(ctx, shardID, batch, attempt+1, "RecordAgeExceeded")
			return
		}
		attempt++
		wait := min(m.cfg.RetryBackoff<<min(attempt-1, 10), 5*time.Second)
		m.cfg.Log.Warn("retrying batch", "attempt", attempt, "records", len(batch),
			"from_sequence_number", batch[0].Change.SequenceNumber, "in", wait)
		if !sleep(ctx, wait) {
			return
		}
	}
}

// invoke calls the function once. It returns -1 on success, else the index in
// batch from which records must be retried, and the function error if any.
func (m *StreamMapping) invoke(ctx context.Context, batch []events.DynamoDBEventRecord) (int, error) {
	ev := events.DynamoDBEvent{Records: batch}
	resp, err := call(context.WithoutCancel(ctx), m.cfg.FunctionARN(m.cfg.FunctionID), m.cfg.Timeout,
		func(ctx context.Context) (events.DynamoDBEventResponse, error) { return m.cfg.Handler(ctx, ev) })
	if err != nil {
		logInvokeError(m.cfg.Log, "function error", m.cfg.FunctionID, err, "records", len(batch))
		return 0, err
	}
	if len(resp.BatchItemFailures) == 0 {
		return -1, nil
	}
	if !m.cfg.ReportBatchItemFailures {
		m.cfg.Log.Warn("batchItemFailures ignored: the event source has no ReportBatchItemFailures; the whole batch succeeded")
		return -1, nil
	}
	index := map[string]int{}
	for i, r := range batch {
		index[r.Change.SequenceNumber] = i
	}
	from := len(batch)
	for _, f := range resp.BatchItemFailures {
		i, ok := index[f.ItemIdentifier]
		if !ok {
			// Lambda treats an empty or unknown identifier as a failure of the whole batch.
			m.cfg.Log.Error("batchItemFailures names a record not in the batch: the whole batch failed", "itemIdentifier", f.ItemIdentifier)
			return 0, nil
		}
		from = min(from, i)
	}
	m.cfg.Log.Warn("partial batch failure", "records", len(batch), "retry_from", batch[from].Change.SequenceNumber)
	return from, nil
}

// discard gives up on records whose retries are exhausted, like Lambda: log
// them and send the on-failure record, then move on to the next records.
func (m *StreamMapping) discard(ctx context.Context, shardID string, batch []events.DynamoDBEventRecord, invokeCount int, condition string) {
	for _, r := range batch {
		m.cfg.Log.Error("retries exhausted: stream record skipped", "event_id", r.EventID, "event_name", r.EventName,
			"sequence_number", r.Change.SequenceNumber, "invocations", invokeCount)
	}
	if m.cfg.OnFailureQueueURL == "" {
		return
	}
	first, last := batch[0].Change, batch[len(batch)-1].Change
	rec := map[string]any{
		"requestContext": map[string]any{
			"requestId":              uuid.NewString(),
			"functionArn":            m.cfg.FunctionARN(m.cfg.FunctionID),
			"condition":              condition,
			"approximateInvokeCount": invokeCount,
		},
		"responseContext": map[string]any{"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
		"version":         "1.0",
		"timestamp":       time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		"DDBStreamBatchInfo": map[string]any{
			"shardId":                         shardID,
			"startSequenceNumber":             first.SequenceNumber,
			"endSequenceNumber":               last.SequenceNumber,
			"approximateArrivalOfFirstRecord": first.ApproximateCreationDateTime.UTC().Format(time.RFC3339),
			"approximateArrivalOfLastRecord":  last.ApproximateCreationDateTime.UTC().Format(time.RFC3339),
			"batchSize":                       len(batch),
			"streamArn":                       m.cfg.StreamARN,
		},
	}
	body, err := json.Marshal(rec)
	if err != nil {
		m.cfg.Log.Error("encode on-failure record", "err", err)
		return
	}
	if _, err := m.cfg.OnFailure.SendMessage(context.WithoutCancel(ctx), &sqs.SendMessageInput{
		QueueUrl: aws.String(m.cfg.OnFailureQueueURL), MessageBody: aws.String(string(body)),
	}); err != nil {
		m.cfg.Log.Error("send on-failure record failed", "err", err, "queue", m.cfg.OnFailureQueueURL)
	}
}

func seqOf(r streamtypes.Record) string {
	if r.Dynamodb == nil {
		return ""
	}
	return aws.ToString(r.Dynamodb.SequenceNumber)
}

// LambdaRecord is the record Lambda delivers for a Streams record (the
// local stream mapping, and the operator's replay of given-up records).
func LambdaRecord(r streamtypes.Record, streamARN, region string) (events.DynamoDBEventRecord, error) {
	if r.Dynamodb == nil {
		return events.DynamoDBEventRecord{}, errors.New("record without dynamodb section")
	}
	d := r.Dynamodb
	out := events.DynamoDBEventRecord{
		AWSRegion:      region,
		EventID:        aws.ToString(r.EventID),
		EventName:      string(r.EventName),
		EventSource:    "aws:dynamodb",
		EventVersion:   aws.ToString(r.EventVersion),
		EventSourceArn: streamARN,
		Change: events.DynamoDBStreamRecord{
			SequenceNumber: aws.ToString(d.SequenceNumber),
			SizeBytes:      aws.ToInt64(d.SizeBytes),
			StreamViewType: string(d.StreamViewType),
		},
	}
	if out.EventVersion == "" {
		out.EventVersion = "1.1"
	}
	if d.ApproximateCreationDateTime != nil {
		out.Change.ApproximateCreationDateTime = events.SecondsEpochTime{Time: *d.ApproximateCreationDateTime}
	}
	if r.UserIdentity != nil {
		out.UserIdentity = &events.DynamoDBUserIdentity{Type: aws.ToString(r.UserIdentity.Type), PrincipalID: aws.ToString(r.UserIdentity.PrincipalId)}
	}
	var err error
	if out.Change.Keys, err = convertItem(d.Keys); err != nil {
		return out, fmt.Errorf("Keys: %w", err)
	}
	if out.Change.NewImage, err = convertItem(d.NewImage); err != nil {
		return out, fmt.Errorf("NewImage: %w", err)
	}
	if out.Change.OldImage, err = convertItem(d.OldImage); err != nil {
		return out, fmt.Errorf("OldImage: %w", err)
	}
	return out, nil
}

func convertItem(item map[string]streamtypes.AttributeValue) (map[string]events.DynamoDBAttributeValue, error) {
	if item == nil {
		return nil, nil
	}
	out := make(map[string]events.DynamoDBAttributeValue, len(item))
	for k, v := range item {
		av, err := convertAttr(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = av
	}
	return out, nil
}

// convertAttr converts every DynamoDB attribute type.
func convertAttr(v streamtypes.AttributeValue) (events.DynamoDBAttributeValue, error) {
	switch a := v.(type) {
	case *streamtypes.AttributeValueMemberS:
		return events.NewStringAttribute(a.Value), nil
	case *streamtypes.AttributeValueMemberN:
		return events.NewNumberAttribute(a.Value), nil
	case *streamtypes.AttributeValueMemberB:
		return events.NewBinaryAttribute(a.Value), nil
	case *streamtypes.AttributeValueMemberBOOL:
		return events.NewBooleanAttribute(a.Value), nil
	case *streamtypes.AttributeValueMemberNULL:
		return events.NewNullAttribute(), nil
	case *streamtypes.AttributeValueMemberSS:
		return events.NewStringSetAttribute(a.Value), nil
	case *streamtypes.AttributeValueMemberNS:
		return events.NewNumberSetAttribute(a.Value), nil
	case *streamtypes.AttributeValueMemberBS:
		return events.NewBinarySetAttribute(a.Value), nil
	case *streamtypes.AttributeValueMemberL:
		l := make([]events.DynamoDBAttributeValue, 0, len(a.Value))
		for i, e := range a.Value {
			av, err := convertAttr(e)
			if err != nil {
				return av, fmt.Errorf("[%d]: %w", i, err)
			}
			l = append(l, av)
		}
		return events.NewListAttribute(l), nil
	case *streamtypes.AttributeValueMemberM:
		m, err := convertItem(a.Value)
		if err != nil {
			return events.DynamoDBAttributeValue{}, err
		}
		if m == nil {
			m = map[string]events.DynamoDBAttributeValue{}
		}
		return events.NewMapAttribute(m), nil
	}
	return events.DynamoDBAttributeValue{}, fmt.Errorf("unsupported attribute value %T", v)
}
