package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/modupay/modupay/shared/event"
)

// auditFlow is the path from a request to its audit entry: how long until a
// change or an API call can be read through GET /v1/audit_logs, and how
// fast one audit writer poller writes entries.
type auditFlow struct {
	samples                         int
	changeP50, changeP95, changeMax time.Duration
	callP50, callP95, callMax       time.Duration

	writerRecords         int
	writerWall            time.Duration
	writerInvocations     int
	writerBusy            time.Duration
	writerWritten         int
	writerDLQ             int
	writerReadBackQueries int
}

// auditFlowSetup is what measureAuditFlow needs beyond the client.
type auditFlowSetup struct {
	sqs              *sqs.Client
	auditURL, dlqURL string
	stages           *stageClock
	token, partnerID string
	orgID            string
	samples, records int
	writerResources  int
}

// measureAuditFlow measures, in orgID:
//   - change → queryable: a PATCH of the organisation, then
//     GET /v1/audit_logs?resource_id=<org>&action=updated polled every 5 ms
//     until the newest entry is that request's; timed from the PATCH's
//     response (the commit is just before it);
//   - call → queryable: a request of an organisation API client, then the
//     partner polling GET /v1/audit_logs?resource_type=api_call&user_id=<that
//     client> until the newest call is that request;
//   - the writer alone: records event records sent straight to the audit
//     queue (SendMessageBatch, ten a message batch), timed from the first
//     send until the queue is empty; the stage clock gives the writer's own
//     time per record (one poller, as Lambda's smallest setting), and every
//     entry is read back through the route.
func measureAuditFlow(ctx context.Context, c *client, s auditFlowSetup) (auditFlow, error) {
	f := auditFlow{samples: s.samples}
	if err := waitQueuesEmpty(ctx, s.sqs, 2*time.Minute, s.auditURL); err != nil {
		return f, err
	}
	poll := func(query, token, entity, want string) (time.Duration, error) {
		start := time.Now()
		for time.Since(start) < 30*time.Second {
			r, err := c.do(request{method: "GET", path: "/v1/audit_logs?" + query, token: token, entity: entity})
			if err != nil || r.status != 200 {
				return 0, fmt.Errorf("audit logs %s: %d %s %v", query, r.status, r.body, err)
			}
			c.rec.take(r.id)
			var body struct {
				Data []struct {
					RequestID string `json:"request_id"`
				} `json:"data"`
			}
			if err := json.Unmarshal(r.body, &body); err != nil {
				return 0, err
			}
			if len(body.Data) > 0 && body.Data[0].RequestID == want {
				return time.Since(start), nil
			}
			time.Sleep(5 * time.Millisecond)
		}
		return 0, fmt.Errorf("audit logs %s: request %s not readable after 30 s", query, want)
	}

	var changes, calls []time.Duration
	for i := 0; i < s.samples; i++ {
		r, err := c.do(request{method: "PATCH", path: "/v1/organizations/" + s.orgID, token: s.token, body: fmt.Sprintf(`{"name":"Journal %03d"}`, i)})
		if err != nil || r.status != 200 {
			return f, fmt.Errorf("audit flow PATCH: %d %s %v", r.status, r.body, err)
		}
		c.rec.take(r.id)
		d, err := poll("resource_id="+s.orgID+"&action=updated&page_size=1", s.token, s.orgID, r.id)
		if err != nil {
			return f, err
		}
		changes = append(changes, d)
	}
	cl, err := c.do(request{method: "POST", path: "/v1/organizations/" + s.orgID + "/api_clients", token: s.token, body: `{"role":"analyst"}`})
	if err != nil || cl.status != 201 {
		return f, fmt.Errorf("audit flow API client: %d %s %v", cl.status, cl.body, err)
	}
	c.rec.take(cl.id)
	var client struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal(cl.body, &client); err != nil {
		return f, err
	}
	tr, err := c.do(request{method: "POST", path: "/v1/auth/token", body: `{"grant_type":"client_credentials","client_id":"` + client.ClientID + `","client_secret":"` + client.ClientSecret + `"}`})
	if err != nil || tr.status != 200 {
		return f, fmt.Errorf("audit flow token: %d %s %v", tr.status, tr.body, err)
	}
	c.rec.take(tr.id)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(tr.body, &tok); err != nil {
		return f, err
	}
	for i := 0; i < s.samples; i++ {
		r, err := c.do(request{method: "GET", path: "/v1/audit_logs?resource_id=" + s.orgID + "&page_size=1", token: tok.AccessToken})
		if err != nil || r.status != 200 {
			return f, fmt.Errorf("audit flow organisation read: %d %s %v", r.status, r.body, err)
		}
		c.rec.take(r.id)
		d, err := poll("resource_type=api_call&user_id="+url.QueryEscape(client.ClientID)+"&page_size=1", s.token, s.orgID, r.id)
		if err != nil {
			return f, err
		}
		calls = append(calls, d)
	}
	f.changeP50, f.changeP95, f.changeMax = percentile(changes, 50), percentile(changes, 95), percentile(changes, 100)
	f.callP50, f.callP95, f.callMax = percentile(calls, 50), percentile(calls, 95), percentile(calls, 100)

	// The writer alone.
	if err := waitQueuesEmpty(ctx, s.sqs, 2*time.Minute, s.auditURL); err != nil {
		return f, err
	}
	run := fmt.Sprintf("%d", time.Now().UnixNano())
	resource := func(i int) string { return fmt.Sprintf("org-bench-writer-%s-%02d", run, i%s.writerResources) }
	bodies := make([]string, s.records)
	for i := range bodies {
		rec := event.Record{EventID: fmt.Sprintf("evt-bench-writer-%s-%06d", run, i), Type: "organization.updated", PartnerID: s.partnerID, OrgID: s.orgID,
			Timestamp: time.Now().UTC(), Actor: event.Actor{ID: "bench-partner", Type: "partner", IPAddress: "203.0.113.42", RequestID: fmt.Sprintf("req-bench-%06d", i)},
			Change: event.Change{ResourceType: "organization", ResourceID: resource(i), Action: "updated",
				Before: json.RawMessage(`{"name":"Avant"}`), After: json.RawMessage(fmt.Sprintf(`{"name":"Après %d"}`, i))},
			Envelope: json.RawMessage(`{}`)}
		b, err := json.Marshal(rec)
		if err != nil {
			return f, err
		}
		bodies[i] = string(b)
	}
	s.stages.start()
	start := time.Now()
	const senders = 4
	if err := inParallel(senders, func(w int) error {
		for i := w * 10; i < len(bodies); i += senders * 10 {
			var entries []sqstypes.SendMessageBatchRequestEntry
			for j := i; j < min(i+10, len(bodies)); j++ {
				entries = append(entries, sqstypes.SendMessageBatchRequestEntry{Id: aws.String(fmt.Sprint(j)), MessageBody: aws.String(bodies[j])})
			}
			out, err := s.sqs.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(s.auditURL), Entries: entries})
			if err == nil && len(out.Failed) > 0 {
				err = fmt.Errorf("%d records refused by the queue", len(out.Failed))
			}
			if err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return f, err
	}
	if err := waitQueuesEmpty(ctx, s.sqs, 5*time.Minute, s.auditURL); err != nil {
		return f, err
	}
	f.writerWall = time.Since(start)
	st := s.stages.stop()["AuditWriterFunction"]
	f.writerRecords, f.writerInvocations, f.writerBusy = s.records, st.calls, st.busy
	dlq, err := queueDepth(ctx, s.sqs, s.dlqURL)
	if err != nil {
		return f, err
	}
	f.writerDLQ = dlq.visible + dlq.inFlight + dlq.delayed
	for i := 0; i < s.writerResources; i++ {
		r, err := c.do(request{method: "GET", path: "/v1/audit_logs?resource_id=" + resource(i) + "&page_size=1", token: s.token, entity: s.orgID})
		if err != nil || r.status != 200 {
			return f, fmt.Errorf("audit writer read back: %d %s %v", r.status, r.body, err)
		}
		c.rec.take(r.id)
		var body struct {
			Pagination struct {
				TotalItems *int `json:"total_items"`
			} `json:"pagination"`
		}
		if err := json.Unmarshal(r.body, &body); err != nil || body.Pagination.TotalItems == nil {
			return f, fmt.Errorf("audit writer read back: no total_items in %s %v", r.body, err)
		}
		f.writerWritten += *body.Pagination.TotalItems
		f.writerReadBackQueries++
	}
	return f, nil
}

func (f auditFlow) report(w io.Writer) {
	fmt.Fprintf(w, "\nAudit path (%d samples each, polled every 5 ms through GET /v1/audit_logs):\n", f.samples)
	fmt.Fprintf(w, "  change → queryable (PATCH response → its entry first of resource_id+action)   p50 %s  p95 %s  max %s\n",
		f.changeP50.Round(time.Millisecond), f.changeP95.Round(time.Millisecond), f.changeMax.Round(time.Millisecond))
	fmt.Fprintf(w, "  API call → queryable (response → its call first of resource_type=api_call)    p50 %s  p95 %s  max %s\n",
		f.callP50.Round(time.Millisecond), f.callP95.Round(time.Millisecond), f.callMax.Round(time.Millisecond))
	per := time.Duration(0)
	if f.writerRecords > 0 {
		per = f.writerBusy / time.Duration(f.writerRecords)
	}
	fmt.Fprintf(w, "  audit writer, one poller: %d records sent at once → queue empty in %s = %.0f entries/s; %d invocations, %s in the handler = %s per entry (%.0f entries/s per worker busy)\n",
		f.writerRecords, f.writerWall.Round(time.Millisecond), float64(f.writerRecords)/f.writerWall.Seconds(), f.writerInvocations,
		f.writerBusy.Round(time.Millisecond), per.Round(10*time.Microsecond), float64(f.writerRecords)/max(f.writerBusy.Seconds(), 1e-9))
	fmt.Fprintf(w, "  read back: %d of %d entries in %d resource queries; audit DLQ %d\n", f.writerWritten, f.writerRecords, f.writerReadBackQueries, f.writerDLQ)
}

// check: every record written once, none dead-lettered.
func (f auditFlow) check() error {
	if f.writerWritten != f.writerRecords || f.writerDLQ != 0 {
		return fmt.Errorf("audit writer: %d of %d entries written, %d in the DLQ", f.writerWritten, f.writerRecords, f.writerDLQ)
	}
	return nil
}
