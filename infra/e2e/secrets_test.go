package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/modupay/modupay/infra/stack"
	"github.com/modupay/modupay/shared/dynamo"
)

// rawItem is one item of the table as DynamoDB holds it, flattened to text:
// every string, number and binary value, so a secret stored in any attribute
// (a response body is stored as binary JSON) is found by a substring search.
type rawItem struct {
	pk, sk string
	text   string
}

// rawItems reads the whole test table (a test-only Scan of this test's own
// table; nothing on a request path scans).
func (w *world) rawItems() []rawItem {
	w.t.Helper()
	db := stack.NewDynamoDBClient(w.cfg.DynamoDBEndpoint)
	var out []rawItem
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(w.cfg.Table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			w.t.Fatal(err)
		}
		for _, it := range page.Items {
			var b strings.Builder
			for name, v := range it {
				b.WriteString(name + "=")
				flatten(&b, v)
				b.WriteString("\n")
			}
			pk, _ := it["PK"].(*types.AttributeValueMemberS)
			sk, _ := it["SK"].(*types.AttributeValueMemberS)
			out = append(out, rawItem{pk: pk.Value, sk: sk.Value, text: b.String()})
		}
	}
	return out
}

func flatten(b *strings.Builder, v types.AttributeValue) {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		b.WriteString(x.Value)
	case *types.AttributeValueMemberN:
		b.WriteString(x.Value)
	case *types.AttributeValueMemberB:
		b.Write(x.Value)
	case *types.AttributeValueMemberSS:
		b.WriteString(strings.Join(x.Value, " "))
	case *types.AttributeValueMemberBS:
		for _, e := range x.Value {
			b.Write(e)
			b.WriteString(" ")
		}
	case *types.AttributeValueMemberL:
		for _, e := range x.Value {
			flatten(b, e)
			b.WriteString(" ")
		}
	case *types.AttributeValueMemberM:
		for k, e := range x.Value {
			b.WriteString(k + ":")
			flatten(b, e)
			b.WriteString(" ")
		}
	default:
		fmt.Fprint(b, x)
	}
}

// holding lists the items whose text contains secret, as "PK / SK".
func holding(items []rawItem, secret string) []string {
	var out []string
	for _, it := range items {
		if strings.Contains(it.text, secret) {
			out = append(out, it.pk+" / "+it.sk)
		}
	}
	return out
}

// Secrets shown once never rest in an idempotency record: each of the three
// secret-bearing POSTs is made with an Idempotency-Key, the table is read
// raw, and the secret is found nowhere but where the service needs it (a
// webhook secret in its subscription, to sign; an API client's secret
// nowhere: only its hash is kept). The replay answers the same status and
// resource, the secret null, and says so.
func TestIdempotencyKeepsNoSecret(t *testing.T) {
	w := newWorld(t)
	partner := w.token("ptn-1-client", partnerSecret)
	org := w.createOrg(partner, orgBody("Secrets SAS"))

	type call struct {
		name, method, route, path, body string
		status                          int
		field                           string
		// allowed is where the secret must be, and only there.
		allowed func(sub string) []string
	}
	var subID string
	subItem := func(string) []string { return []string{"PARTNER#ptn-1 / WHSUB#" + subID} }
	calls := []call{
		{name: "api client", method: "POST", route: "/v1/organizations/{org_id}/api_clients", path: "/v1/organizations/" + org + "/api_clients",
			body: `{"role":"analyst","name":"Lecture"}`, status: 201, field: "client_secret", allowed: func(string) []string { return nil }},
		{name: "webhook subscription", method: "POST", route: "/v1/webhook_subscriptions",
			body: `{"url":"http://127.0.0.1:9/modupay","events":["*"]}`, status: 201, field: "secret", allowed: subItem},
		{name: "rotate secret", method: "POST", route: "/v1/webhook_subscriptions/{subscription_id}/rotate_secret",
			body: `{"previous_secret_expires_in":0}`, status: 200, field: "secret", allowed: subItem},
	}
	for i, c := range calls {
		if c.name == "rotate secret" {
			c.path = "/v1/webhook_subscriptions/" + subID + "/rotate_secret"
		}
		key := fmt.Sprintf("secret-key-%d", i)
		ex := exchange{method: c.method, route: c.route, path: c.path, header: bearer(partner, "Idempotency-Key", key), body: c.body, status: c.status}
		first := w.do(ex)
		created := first.json(t)
		secret, _ := created[c.field].(string)
		if secret == "" {
			t.Fatalf("%s: no %s in the first answer: %s", c.name, c.field, first.body)
		}
		if c.name == "webhook subscription" {
			subID, _ = created["id"].(string)
		}
		if h := first.header.Get("Idempotent-Redacted"); h != "" {
			t.Errorf("%s: the first answer has Idempotent-Redacted %q", c.name, h)
		}

		items := w.rawItems()
		var idem []rawItem
		for _, it := range items {
			if strings.HasPrefix(it.pk, "IDEM#") && strings.Contains(it.text, "completed=") {
				idem = append(idem, it)
			}
		}
		if len(idem) != i+1 {
			t.Fatalf("%s: %d idempotency records, want %d", c.name, len(idem), i+1)
		}
		got, want := holding(items, secret), c.allowed(subID)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("%s: the secret is stored in %v, want only in %v", c.name, got, want)
		}

		replay := w.do(ex)
		if replay.status != c.status || replay.header.Get("Idempotent-Replayed") != "true" || replay.header.Get("Idempotent-Redacted") != c.field {
			t.Errorf("%s replay: status %d, Idempotent-Replayed %q, Idempotent-Redacted %q; want %d, true, %s", c.name, replay.status,
				replay.header.Get("Idempotent-Replayed"), replay.header.Get("Idempotent-Redacted"), c.status, c.field)
		}
		again := replay.json(t)
		if v, ok := again[c.field]; !ok || v != nil {
			t.Errorf("%s replay: %s = %v, want null", c.name, c.field, v)
		}
		// The rest of the resource is the first answer's.
		delete(created, c.field)
		delete(again, c.field)
		a, _ := json.Marshal(created)
		b, _ := json.Marshal(again)
		if string(a) != string(b) {
			t.Errorf("%s replay:\n got  %s\n want %s", c.name, b, a)
		}
	}
}

// Rotating a partner's secret (the operator's EnsurePartner) revokes the
// tokens got with the old one within the revocation refresh bound; tokens
// got with the new secret work, and another partner is not affected.
// Ensuring the partner again with the same secret revokes nothing.
func TestPartnerSecretRotationRevokesTokens(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	list := func(token string, status int) {
		t.Helper()
		w.do(exchange{method: "GET", route: "/v1/webhook_subscriptions", header: bearer(token), status: status})
	}
	old := w.token("ptn-1-client", partnerSecret)
	other := w.token("ptn-2-client", partnerSecret)
	list(old, 200)

	w.clock.Advance(time.Second)
	const rotated = "partner-secret-rotated-9876543210"
	if err := w.app.EnsurePartner(ctx, "ptn-1", "ptn-1", "ptn-1-client", rotated); err != nil {
		t.Fatal(err)
	}
	w.do(exchange{method: "POST", route: "/v1/auth/token", header: map[string]string{"Content-Type": jsonCT},
		body: tokenBody("ptn-1-client", partnerSecret, ""), status: 401})
	w.clock.Advance(time.Second)
	fresh := w.token("ptn-1-client", rotated)

	w.clock.Advance(dynamo.RevocationRefresh)
	if a := w.do(exchange{method: "GET", route: "/v1/webhook_subscriptions", header: bearer(old), status: 401}); a.errCode(t) == "" {
		t.Errorf("old token: %s", a.body)
	}
	list(fresh, 200)
	list(other, 200)

	// The same secret again (a re-run of the operator command): no revocation.
	if err := w.app.EnsurePartner(ctx, "ptn-1", "ptn-1", "ptn-1-client", rotated); err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(dynamo.RevocationRefresh)
	list(fresh, 200)
}
