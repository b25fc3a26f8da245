// Package events holds real sample events, one or more per function of
// template.yaml, for `make invoke` and `sam local invoke -e`. This test
// decodes each into the aws-lambda-go type its function takes, strictly, so a
// drifted sample (a renamed or misspelt field) fails the build.
package events

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"gopkg.in/yaml.v3"
)

// samplePrefix maps a sample file's prefix to the function it is for, and the
// function's event type.
var samplePrefix = map[string]struct {
	function string
	decode   func() any
}{
	"auth":              {"AuthFunction", func() any { return &events.APIGatewayV2HTTPRequest{} }},
	"organizations":     {"OrganizationsFunction", func() any { return &events.APIGatewayV2HTTPRequest{} }},
	"docs":              {"DocsFunction", func() any { return &events.APIGatewayV2HTTPRequest{} }},
	"eventrouter":       {"EventRouterFunction", func() any { return &events.DynamoDBEvent{} }},
	"auditwriter":       {"AuditWriterFunction", func() any { return &events.SQSEvent{} }},
	"invoices":          {"InvoicesFunction", func() any { return &events.APIGatewayV2HTTPRequest{} }},
	"scheduler":         {"SchedulerFunction", func() any { return &events.EventBridgeEvent{} }},
	"payments":          {"PaymentsFunction", func() any { return &events.APIGatewayV2HTTPRequest{} }},
	"aiiapoller":        {"AiiaPollerFunction", func() any { return &events.SQSEvent{} }},
	"checkout":          {"CheckoutFunction", func() any { return &events.APIGatewayV2HTTPRequest{} }},
	"webhooks":          {"WebhooksFunction", func() any { return &events.APIGatewayV2HTTPRequest{} }},
	"audit":             {"AuditFunction", func() any { return &events.APIGatewayV2HTTPRequest{} }},
	"paymentorders":     {"PaymentOrdersFunction", func() any { return &events.APIGatewayV2HTTPRequest{} }},
	"webhookdispatcher": {"WebhookDispatcherFunction", func() any { return &events.SQSEvent{} }},
	"sandboxbank":       {"SandboxBankFunction", func() any { return &events.APIGatewayV2HTTPRequest{} }},
	"dashboard":         {"DashboardFunction", func() any { return &events.APIGatewayV2HTTPRequest{} }},
}

func TestSamplesDecode(t *testing.T) {
	files, err := filepath.Glob("*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no sample events found: %v", err)
	}
	covered := map[string]bool{}
	for _, f := range files {
		t.Run(f, func(t *testing.T) {
			prefix, _, _ := strings.Cut(strings.TrimSuffix(f, ".json"), "-")
			kind, ok := samplePrefix[prefix]
			if !ok {
				t.Fatalf("sample %s: prefix %q names no function; add it to samplePrefix", f, prefix)
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			v := kind.decode()
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(v); err != nil {
				t.Fatalf("sample %s does not decode into %T: %v", f, v, err)
			}
			switch ev := v.(type) {
			case *events.APIGatewayV2HTTPRequest:
				if ev.Version != "2.0" || ev.RouteKey == "" || ev.RouteKey != ev.RequestContext.RouteKey || ev.RequestContext.HTTP.Method == "" {
					t.Errorf("sample %s: not a complete HTTP API payload 2.0 request (version %q, routeKey %q)", f, ev.Version, ev.RouteKey)
				}
			case *events.SQSEvent:
				if len(ev.Records) == 0 || ev.Records[0].MessageId == "" || ev.Records[0].EventSource != "aws:sqs" {
					t.Errorf("sample %s: SQS batch without a complete record", f)
				}
			case *events.EventBridgeEvent:
				if ev.DetailType != "Scheduled Event" || ev.ID == "" || ev.Time.IsZero() {
					t.Errorf("sample %s: not a complete scheduled event", f)
				}
			case *events.DynamoDBEvent:
				if len(ev.Records) == 0 || ev.Records[0].Change.SequenceNumber == "" || len(ev.Records[0].Change.NewImage) == 0 {
					t.Errorf("sample %s: stream batch without a complete record", f)
				}
			}
			covered[kind.function] = true
		})
	}
	for _, fn := range templateFunctions(t) {
		if !covered[fn] {
			t.Errorf("function %s of template.yaml has no sample event in events/", fn)
		}
	}
}

// templateFunctions lists the AWS::Serverless::Function logical ids.
func templateFunctions(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Resources map[string]struct {
			Type string `yaml:"Type"`
		} `yaml:"Resources"`
	}
	var node yaml.Node
	if err := yaml.Unmarshal(raw, &node); err != nil {
		t.Fatal(err)
	}
	stripTags(&node)
	if err := node.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	var out []string
	for id, r := range doc.Resources {
		if r.Type == "AWS::Serverless::Function" {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

// stripTags drops CloudFormation's short-form intrinsic tags (!Ref, !GetAtt…),
// which this test does not need to resolve.
func stripTags(n *yaml.Node) {
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		n.Tag = ""
	}
	for _, c := range n.Content {
		stripTags(c)
	}
}
