// Package shared_test holds the checks on how the shared packages depend on
// each other and what each function links.
package shared_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const module = "github.com/modupay/modupay/"

// domain are the packages of rules and types: they must not know AWS,
// Lambda events or HTTP (STYLE.md, practice 2); adapters depend on them.
var domain = []string{
	"shared/apperr", "shared/audit", "shared/auth", "shared/branding", "shared/credential",
	"shared/department", "shared/event", "shared/idempotency", "shared/identifier", "shared/invoice", "shared/listing",
	"shared/money", "shared/organization", "shared/pagetoken", "shared/payment", "shared/ratelimit", "shared/session",
	"shared/validation", "shared/webhook",
}

// knownViolations are the domain packages that still hold an adapter,
// with the imports it brings; the test fails on any other, and on these
// once they are gone (so the entry is removed with the move).
var knownViolations = map[string]string{}

func forbidden(dep string) bool {
	return strings.HasPrefix(dep, "github.com/aws/") || dep == "net/http"
}

func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
	}
	return strings.Fields(string(out))
}

func TestDomainImportsNoTransport(t *testing.T) {
	for _, p := range domain {
		t.Run(p, func(t *testing.T) {
			var bad []string
			for _, d := range deps(t, "../"+p) {
				if forbidden(d) {
					bad = append(bad, d)
				}
			}
			got := strings.Join(bad, " ")
			if want := knownViolations[p]; got != want {
				t.Errorf("%s imports (directly or not) %q, want %q: domain packages know no AWS SDK, Lambda event or net/http", p, got, want)
			}
		})
	}
}

// Adapters of storage do not know the HTTP edge: the table's repositories
// keep the idempotency records (package idempotency) and the revocation
// list, and link neither the API's HTTP layer nor any handler.
func TestStorageKnowsNoHTTPEdge(t *testing.T) {
	for _, d := range deps(t, "../shared/dynamo") {
		if d == module+"shared/httpapi" || strings.HasPrefix(d, module+"shared/handlers/") {
			t.Errorf("shared/dynamo links %s: a storage adapter knows no HTTP edge", d)
		}
	}
}

// shared/auth states the token endpoint's failures as RFC 6749 §5.2 codes;
// their HTTP statuses, like the parsing of the request, are the endpoint's
// (shared/handlers/tokens). So auth links no net/http, even indirectly, and
// none of its files, tests included, names an HTTP status: no http.Status
// constant, no 4xx number, no status field set to a number.
func TestAuthKnowsNoHTTP(t *testing.T) {
	for _, d := range deps(t, "../shared/auth") {
		if d == "net/http" {
			t.Error("shared/auth links net/http")
		}
	}
	status := regexp.MustCompile(`http\.Status|"net/http"|\b4[0-9]{2}\b|(?i:status)\w*\s*(:|==|!=|:=|=)\s*[1-5][0-9]{2}\b`)
	files, err := filepath.Glob("auth/*.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in shared/auth: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(b), "\n") {
			if m := status.FindString(line); m != "" {
				t.Errorf("shared/%s:%d names an HTTP status (%q): auth answers codes, the endpoint maps them", f, i+1, m)
			}
		}
	}
}

// Each function links only its family: no main reaches the package that
// composes every function, nor the OpenAPI validator (tests only), and
// only the functions that hold a secret or send to a queue link the
// Secrets Manager or SQS client (only the audit writer and the functions
// keeping or serving invoices' documents the S3 client).
func TestFunctionsLinkOnlyTheirFamily(t *testing.T) {
	type fn struct {
		dir            string
		secrets, queue bool
	}
	for _, f := range []fn{
		// The authenticated HTTP functions send each request to the API call
		// log (one SQS message); the checkout page's routes are public.
		{"aiiapoller", true, true}, {"audit", true, true}, {"auditwriter", false, false}, {"auth", true, true},
		{"checkout", true, false}, {"docs", false, false}, {"eventrouter", false, true},
		{"invoices", true, true}, {"organizations", true, true}, {"payments", true, true},
		{"scheduler", false, false}, {"webhookdispatcher", false, true}, {"webhooks", true, true},
	} {
		t.Run(f.dir, func(t *testing.T) {
			linked := map[string]bool{}
			for _, d := range deps(t, "../functions/"+f.dir) {
				linked[d] = true
			}
			for _, never := range []string{module + "shared/wiring", module + "shared/openapi",
				"github.com/getkin/kin-openapi/openapi3", "github.com/santhosh-tekuri/jsonschema/v6",
				"github.com/aws/aws-sdk-go-v2/config"} {
				if linked[never] {
					t.Errorf("functions/%s links %s", f.dir, never)
				}
			}
			if got := linked["github.com/aws/aws-sdk-go-v2/service/secretsmanager"]; got != f.secrets {
				t.Errorf("functions/%s links Secrets Manager: %v, want %v", f.dir, got, f.secrets)
			}
			if got := linked["github.com/aws/aws-sdk-go-v2/service/sqs"]; got != f.queue {
				t.Errorf("functions/%s links SQS: %v, want %v", f.dir, got, f.queue)
			}
			// Only the audit writer (its archive), the invoices function
			// (issued invoices' documents), the payment page (the invoice's
			// PDF) and the functions settling refunds (their credit notes:
			// payments, the poller) reach objects (S3).
			s3 := map[string]bool{"auditwriter": true, "invoices": true, "checkout": true, "payments": true, "aiiapoller": true}
			if got, want := linked["github.com/aws/aws-sdk-go-v2/service/s3"], s3[f.dir]; got != want {
				t.Errorf("functions/%s links S3: %v, want %v", f.dir, got, want)
			}
		})
	}
}
