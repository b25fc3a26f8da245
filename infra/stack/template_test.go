package stack

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseRealTemplate(t *testing.T) {
	tpl, err := Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The template evolves: check what the local runtime relies on, not counts.
	queues := map[string]bool{}
	for _, q := range tpl.ResourcesOfType("AWS::SQS::Queue") {
		queues[q.LogicalID] = true
	}
	if !queues["AuditQueue"] || !queues["AuditDLQ"] {
		t.Errorf("queues = %v, want AuditQueue and AuditDLQ", queues)
	}
	// The app's table in every stage; the sandbox bank's in the sandbox only.
	tables := map[string]string{}
	for _, r := range tpl.ResourcesOfType("AWS::DynamoDB::Table") {
		tables[r.LogicalID] = r.Condition
	}
	if want := map[string]string{"Table": "", "SandboxBankTable": "IsSandbox"}; !reflect.DeepEqual(tables, want) {
		t.Errorf("tables (and their conditions) = %v, want %v", tables, want)
	}
	// Short forms come out in long form.
	if got, want := tpl.GlobalEnvironment()["MODUPAY_TABLE"], map[string]any{"Ref": "Table"}; !reflect.DeepEqual(got, want) {
		t.Errorf("MODUPAY_TABLE = %#v, want %#v", got, want)
	}
	if got, want := tpl.Conditions["IsProduction"], map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "Stage"}, "production"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("IsProduction = %#v, want %#v", got, want)
	}
	rp := tpl.Resources["AuditQueue"].Properties["RedrivePolicy"].(map[string]any)
	if got, want := rp["deadLetterTargetArn"], map[string]any{"Fn::GetAtt": []any{"AuditDLQ", "Arn"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("deadLetterTargetArn = %#v", got)
	}

	fns, err := tpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Function{}
	for _, f := range fns {
		byID[f.LogicalID] = f
		want := 10 * time.Second // the Globals'
		switch f.LogicalID {     // their own Timeout overrides them
		case "SchedulerFunction":
			want = 5 * time.Minute
		case "WebhookDispatcherFunction":
			want = 30 * time.Second
		}
		if f.Timeout != want {
			t.Errorf("%s timeout = %v, want %v", f.LogicalID, f.Timeout, want)
		}
	}
	for _, id := range []string{"AuthFunction", "OrganizationsFunction", "DocsFunction", "EventRouterFunction", "AuditWriterFunction"} {
		if _, ok := byID[id]; !ok {
			t.Errorf("function %s not found", id)
		}
	}
	var health *HTTPEvent
	for _, e := range byID["DocsFunction"].Events {
		if e.Name == "Health" {
			health = e.HTTP
		}
	}
	if health == nil || health.RouteKey() != "GET /health" {
		t.Errorf("Health route = %+v", health)
	}
	sqsEv := byID["AuditWriterFunction"].Events[0].SQS
	if sqsEv == nil || sqsEv.Queue != "AuditQueue" || sqsEv.BatchSize != 10 || !sqsEv.ReportsBatchItemFailures() || !sqsEv.Enabled {
		t.Errorf("audit SQS event = %+v", sqsEv)
	}
	st := byID["EventRouterFunction"].Events[0].Stream
	if st == nil || st.Table != "Table" || st.StartingPosition != "TRIM_HORIZON" || !st.ReportsBatchItemFailures() ||
		len(st.FilterPatterns) != 1 || !st.Enabled || st.BatchSize < 1 {
		t.Errorf("stream event = %+v", st)
	}
}

func TestIntrinsics(t *testing.T) {
	tpl, err := Parse([]byte(`
Parameters:
  Stage: {Type: String, Default: sandbox, AllowedValues: [sandbox, production]}
  Name: {Type: String, AllowedPattern: "[a-z]+"}
Conditions:
  IsProd: !Equals [!Ref Stage, production]
  NotProd: !Not [!Condition IsProd]
  Both: !And [!Condition NotProd, !Equals [a, a]]
Globals:
  Function:
    Environment:
      Variables:
        SUB: !Sub "${AWS::Region}/${Q.QueueName}/${Name}/${!Literal}/${X}"
        SUBLIST: !Sub ["${X}-${Stage}", {X: !Ref Name}]
        JOIN: !Join [",", [a, !Ref Stage, !GetAtt Q.Arn]]
        JOINLONG: {"Fn::Join": ["-", [{"Ref": "Name"}, x]]}
        IF: !If [IsProd, prod, notprod]
        IFLONG: {"Fn::If": [Both, yes, no]}
        GONE: !If [IsProd, x, !Ref AWS::NoValue]
        URL: !Ref Q
        TABLE: !Ref T
        STREAM: !GetAtt T.StreamArn
        NUM: 42
Resources:
  T: {Type: AWS::DynamoDB::Table}
  Q: {Type: AWS::SQS::Queue}
`))
	if err != nil {
		t.Fatal(err)
	}
	res := &Resources{Prefix: "p", Region: "eu-west-3", AccountID: LocalAccountID, ByID: map[string]Physical{
		"T": {Name: "p-T", ARN: "arn:t", StreamARN: "arn:t/stream"},
		"Q": {Type: "AWS::SQS::Queue", Name: "p-Q", ARN: "arn:q", URL: "http://q"},
	}}
	if _, err := res.Env(tpl, map[string]string{"Stage": "sandbox"}); err == nil {
		t.Error("Env without a value for Name must fail")
	}
	if _, err := res.Env(tpl, map[string]string{"Stage": "staging", "Name": "n"}); err == nil {
		t.Error("Env with a value outside AllowedValues must fail")
	}
	if _, err := res.Env(tpl, map[string]string{"Name": "n1"}); err == nil {
		t.Error("Env with a value outside AllowedPattern must fail")
	}
	env, err := res.Env(tpl, map[string]string{"Name": "n"})
	if err == nil {
		t.Fatalf("${X} without a Sub variable must fail, got %v", env)
	}
	delete(tpl.GlobalEnvironment(), "SUB")
	env, err = res.Env(tpl, map[string]string{"Name": "n"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"SUBLIST":  "n-sandbox",
		"JOIN":     "a,sandbox,arn:q",
		"JOINLONG": "n-x",
		"IF":       "notprod",
		"IFLONG":   "yes",
		"URL":      "http://q",
		"TABLE":    "p-T",
		"STREAM":   "arn:t/stream",
		"NUM":      "42",
	}
	if !reflect.DeepEqual(env, want) {
		t.Errorf("env = %#v\nwant %#v", env, want)
	}
	tpl.GlobalEnvironment()["SUB"] = map[string]any{"Fn::Sub": "${AWS::Region}/${Q.QueueName}/${Name}/${!Literal}"}
	env, err = res.Env(tpl, map[string]string{"Name": "n", "Stage": "production"})
	if err != nil {
		t.Fatal(err)
	}
	if env["SUB"] != "eu-west-3/p-Q/n/${Literal}" || env["IF"] != "prod" || env["GONE"] != "x" || env["IFLONG"] != "no" {
		t.Errorf("env = %#v", env)
	}
}

func TestParseRejects(t *testing.T) {
	for name, src := range map[string]string{
		"unknown tag":  "Resources:\n  A: {Type: X, Properties: {P: !Nope x}}\n",
		"no resources": "Parameters: {}\n",
		"bad getatt":   "Resources:\n  A: {Type: X, Properties: {P: !GetAtt nodot}}\n",
	} {
		if _, err := Parse([]byte(src)); err == nil {
			t.Errorf("%s: Parse succeeded", name)
		}
	}
}

// Every EventBridge Scheduler schedule is named after the stack: names are
// unique per account and region, and a fixed one (SAM's default, from the
// logical ids) would make the sandbox and production stacks collide.
func TestScheduleNamesFollowTheStack(t *testing.T) {
	tpl, err := Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for id, r := range tpl.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		events, _ := r.Properties["Events"].(map[string]any)
		for name, e := range events {
			ev, _ := e.(map[string]any)
			if ev["Type"] != "ScheduleV2" {
				continue
			}
			checked++
			props, _ := ev["Properties"].(map[string]any)
			sub, _ := props["Name"].(map[string]any)
			if s, _ := sub["Fn::Sub"].(string); !strings.HasPrefix(s, "${AWS::StackName}-") || len(s) > len("${AWS::StackName}-")+20 {
				t.Errorf("%s.%s: Name %#v, want !Sub ${AWS::StackName}-<short suffix>", id, name, props["Name"])
			}
		}
	}
	if checked == 0 {
		t.Fatal("no ScheduleV2 event found")
	}
}

// Failure handling as deployed: every SQS consumer is capped (a backlog
// cannot starve the API) and its queue's visibility timeout is at least 6×
// the function's timeout (AWS's advice, so a slow invocation is not
// redelivered while it runs); the stream consumer gives up within hours,
// not the stream's 24, and reports what it gave up; the poller's provider
// timeout leaves room for its retries within the function's timeout.
func TestFailureHandlingAsDeployed(t *testing.T) {
	tpl, err := Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	num := func(v any) float64 {
		switch n := v.(type) {
		case int:
			return float64(n)
		case float64:
			return n
		}
		return -1
	}
	timeout := num(tpl.Globals["Function"].(map[string]any)["Timeout"])
	queues, streams := 0, 0
	for id, r := range tpl.Resources {
		if r.Type != "AWS::Serverless::Function" {
			continue
		}
		fnTimeout := timeout
		if v, ok := r.Properties["Timeout"]; ok {
			fnTimeout = num(v)
		}
		events, _ := r.Properties["Events"].(map[string]any)
		for name, e := range events {
			ev, _ := e.(map[string]any)
			props, _ := ev["Properties"].(map[string]any)
			switch ev["Type"] {
			case "SQS":
				queues++
				sc, _ := props["ScalingConfig"].(map[string]any)
				if c := num(sc["MaximumConcurrency"]); c < 2 || c > 20 {
					t.Errorf("%s.%s: ScalingConfig.MaximumConcurrency %v, want 2 to 20", id, name, sc["MaximumConcurrency"])
				}
				q, _ := props["Queue"].(map[string]any)
				ref := fmt.Sprint(q["Fn::GetAtt"]) // "X.Arn" or [X Arn]
				ref = strings.Fields(strings.Trim(strings.ReplaceAll(ref, ".", " "), "[]"))[0]
				queue := tpl.Resources[ref]
				if vt := num(queue.Properties["VisibilityTimeout"]); vt < 6*fnTimeout {
					t.Errorf("%s.%s: %s's VisibilityTimeout %v < 6 × the function's timeout %v", id, name, ref, vt, fnTimeout)
				}
			case "DynamoDB":
				streams++
				retries, age := num(props["MaximumRetryAttempts"]), num(props["MaximumRecordAgeInSeconds"])
				if retries < 0 || age < 60 || age > 6*3600 {
					t.Errorf("%s.%s: MaximumRetryAttempts %v, MaximumRecordAgeInSeconds %v: want bounded retries, given up within 6 h", id, name, retries, age)
				}
				dc, _ := props["DestinationConfig"].(map[string]any)
				if of, _ := dc["OnFailure"].(map[string]any); of["Destination"] == nil {
					t.Errorf("%s.%s: no on-failure destination: what is given up would be lost", id, name)
				}
			}
		}
	}
	if queues < 3 || streams != 1 {
		t.Fatalf("%d SQS and %d stream event sources found", queues, streams)
	}
	env := tpl.Resources["AiiaPollerFunction"].Properties["Environment"].(map[string]any)["Variables"].(map[string]any)
	d, err := time.ParseDuration(fmt.Sprint(env["MODUPAY_AIIA_TIMEOUT"]))
	if err != nil || d.Seconds()*3 >= timeout {
		t.Errorf("AiiaPollerFunction: MODUPAY_AIIA_TIMEOUT %v: three attempts must fit the %v s timeout", env["MODUPAY_AIIA_TIMEOUT"], timeout)
	}
}

// Somebody is told: every function has an Errors and a Throttles alarm,
// every dead-letter queue an alarm on its depth, the stream consumer one on
// its iterator age, the API on its 5xx rate and p95 latency, the table on
// its throttles, webhooks on failed deliveries; every alarm notifies the
// alarm topic (the stack's own or AlarmTopicArn), and the dashboard shows
// every function and queue.
func TestEveryAlarmNotifiesAndNothingIsUnwatched(t *testing.T) {
	tpl, err := Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	type watch struct{ namespace, metric, target string }
	watched := map[watch]bool{}
	target := func(dims any) string {
		for _, d := range asList(dims) {
			v := asMap(d)["Value"]
			if m := asMap(v); m != nil {
				if ref, ok := m["Ref"].(string); ok {
					return ref
				}
				return strings.Fields(strings.Trim(strings.ReplaceAll(fmt.Sprint(m["Fn::GetAtt"]), ".", " "), "[]"))[0]
			}
		}
		return ""
	}
	alarms := 0
	for id, r := range tpl.Resources {
		if r.Type != "AWS::CloudWatch::Alarm" {
			continue
		}
		alarms++
		for _, key := range []string{"AlarmActions", "OKActions"} {
			acts := asList(r.Properties[key])
			if len(acts) != 1 || !strings.Contains(fmt.Sprint(acts[0]), "AlarmTopicArn") || !strings.Contains(fmt.Sprint(acts[0]), "AlarmTopic]") {
				t.Errorf("%s: %s %v, want [!If [HasAlarmTopic, AlarmTopicArn, AlarmTopic]]", id, key, r.Properties[key])
			}
		}
		if ns, ok := r.Properties["Namespace"].(string); ok {
			watched[watch{ns, fmt.Sprint(r.Properties["MetricName"]), target(r.Properties["Dimensions"])}] = true
		}
		for _, m := range asList(r.Properties["Metrics"]) {
			ms := asMap(asMap(m)["MetricStat"])
			if met := asMap(ms["Metric"]); met != nil {
				watched[watch{fmt.Sprint(met["Namespace"]), fmt.Sprint(met["MetricName"]), target(met["Dimensions"])}] = true
			}
		}
	}
	want := []watch{{"AWS/Lambda", "IteratorAge", "EventRouterFunction"}, {"AWS/ApiGateway", "5xx", "HttpApi"}, {"AWS/ApiGateway", "Count", "HttpApi"},
		{"AWS/ApiGateway", "Latency", "HttpApi"}, {"AWS/DynamoDB", "ReadThrottleEvents", "Table"}, {"AWS/DynamoDB", "WriteThrottleEvents", "Table"},
		{"ModuPay", "WebhookDeliveriesFailed", ""}, {"ModuPay", "PaymentsUnknownAtProvider", ""}, {"ModuPay", "DestinationsAwaited", ""}}
	// A function that exists in one stage only is shown by a dashboard of
	// that stage (a body naming it in the other stage would not deploy).
	bodies := map[string]string{}
	for _, d := range tpl.ResourcesOfType("AWS::CloudWatch::Dashboard") {
		bodies[d.Condition] += fmt.Sprint(d.Properties["DashboardBody"])
	}
	for id, r := range tpl.Resources {
		switch {
		case r.Type == "AWS::Serverless::Function":
			want = append(want, watch{"AWS/Lambda", "Errors", id}, watch{"AWS/Lambda", "Throttles", id})
			if !strings.Contains(bodies[r.Condition], "${"+id+"}") {
				t.Errorf("no dashboard of its stage (condition %q) shows %s", r.Condition, id)
			}
		case r.Type == "AWS::SQS::Queue":
			if strings.HasSuffix(id, "DLQ") {
				want = append(want, watch{"AWS/SQS", "ApproximateNumberOfMessagesVisible", id})
			}
			if !strings.Contains(bodies[r.Condition], "${"+id+".QueueName}") {
				t.Errorf("the dashboard does not show %s", id)
			}
		}
	}
	for _, w := range want {
		if !watched[w] {
			t.Errorf("no alarm on %s %s of %q", w.namespace, w.metric, w.target)
		}
	}
	if alarms < len(want)-3 { // the 5xx rate and the throttles combine two metrics each
		t.Errorf("%d alarms for %d watched metrics", alarms, len(want))
	}
	topic := tpl.Resources["AlarmTopic"]
	if topic.Type != "AWS::SNS::Topic" || topic.Condition != "CreateAlarmTopic" || topic.Properties["KmsMasterKeyId"] == nil {
		t.Errorf("AlarmTopic = %+v: want an encrypted topic created when no AlarmTopicArn is given", topic)
	}
}

// Custom domains are optional and complete: with ApiDomainName the API is
// mapped to it and its execute-api endpoint is disabled; PayDomainName
// maps the payment pages; both need the certificate (a rule), and
// without them nothing of them exists.
func TestCustomDomains(t *testing.T) {
	tpl, err := Load("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []struct{ domain, mapping, cond string }{{"ApiDomain", "ApiDomainMapping", "HasApiDomain"}, {"PayDomain", "PayDomainMapping", "HasPayDomain"}} {
		dom, mp := tpl.Resources[d.domain], tpl.Resources[d.mapping]
		if dom.Type != "AWS::ApiGatewayV2::DomainName" || dom.Condition != d.cond || mp.Type != "AWS::ApiGatewayV2::ApiMapping" || mp.Condition != d.cond {
			t.Errorf("%s / %s: %s %q, %s %q; want a domain and its mapping under %s", d.domain, d.mapping, dom.Type, dom.Condition, mp.Type, mp.Condition, d.cond)
		}
		if fmt.Sprint(mp.Properties["ApiId"]) != "map[Ref:HttpApi]" || fmt.Sprint(mp.Properties["DomainName"]) != "map[Ref:"+d.domain+"]" {
			t.Errorf("%s maps %v to %v", d.mapping, mp.Properties["DomainName"], mp.Properties["ApiId"])
		}
		cfg := asMap(asList(dom.Properties["DomainNameConfigurations"])[0])
		if fmt.Sprint(cfg["CertificateArn"]) != "map[Ref:DomainCertificateArn]" || cfg["SecurityPolicy"] != "TLS_1_2" {
			t.Errorf("%s: %v", d.domain, cfg)
		}
	}
	if got := fmt.Sprint(tpl.Resources["HttpApi"].Properties["DisableExecuteApiEndpoint"]); got != "map[Fn::If:[HasApiDomain true false]]" {
		t.Errorf("HttpApi.DisableExecuteApiEndpoint = %s, want !If [HasApiDomain, true, false]", got)
	}
}

// infra/sam/env.json is what SAMLocalEnv derives from the template: an
// entry for every function of the sandbox stage, holding only variables
// it declares (SAM CLI ignores the others silently).
func TestSAMLocalEnvIsCurrent(t *testing.T) {
	tpl, err := Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	want, err := SAMLocalEnv(tpl)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("..", "sam", "env.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]map[string]string
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("infra/sam/env.json is not what template.yaml gives: run make sam-env")
	}
	fns, err := tpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(fns) {
		t.Errorf("env.json has %d functions, the template %d", len(got), len(fns))
	}
	for _, f := range fns {
		declared := map[string]bool{}
		for k := range tpl.GlobalEnvironment() {
			declared[k] = true
		}
		for k := range f.Environment {
			declared[k] = true
		}
		for k := range got[f.LogicalID] {
			if !declared[k] {
				t.Errorf("env.json: %s sets %s, which it does not declare", f.LogicalID, k)
			}
		}
	}
}
