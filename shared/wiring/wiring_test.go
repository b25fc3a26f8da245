package wiring

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/modupay/modupay/infra/stack"
	"github.com/modupay/modupay/shared/aiia"
)

func testConfig(endpoint string) Config {
	return Config{Stage: "sandbox", Region: "eu-west-3", Table: "t", AuditQueueURL: endpoint + "/123456789012/q",
		JWTKeys: "k1:dGVzdC1vbmx5LXNpZ25pbmcta2V5LTMyLWJ5dGVzLWxvbmch", JWTActiveKid: "k1",
		PageKeys: "p1:" + pageSecret1, PageActiveKid: "p1", CSRFKey: csrfSecret, PublicBaseURL: "https://pay.example.test",
		DashboardKeys:    dashboardKeys,
		DynamoDBEndpoint: endpoint, SQSEndpoint: endpoint, AuditArchiveDir: filepath.Join(os.TempDir(), "modupay-wiring-test-archive"),
		DocumentsDir: filepath.Join(os.TempDir(), "modupay-wiring-test-documents"),
		// The sandbox bank's table, and the client id and secret it accepts.
		SandboxBankTable: "sandbox-bank", Aiia: aiia.Config{ClientID: "modupay-sandbox", ClientSecret: "test-only-aiia-secret"}}
}

// The app serves exactly the functions and routes template.yaml declares:
// a route added on one side only fails here, before any deploy.
func TestAppMatchesTemplate(t *testing.T) {
	tpl, err := stack.Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fns, err := tpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	app, err := Build(context.Background(), testConfig("http://127.0.0.1:1"))
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	for _, fn := range fns {
		declared[fn.LogicalID] = true
		f, ok := app.Function(fn.LogicalID)
		if !ok {
			t.Errorf("template function %s is not built by wiring", fn.LogicalID)
			continue
		}
		var want []string
		for _, ev := range fn.Events {
			switch {
			case ev.HTTP != nil:
				want = append(want, ev.HTTP.RouteKey())
			case ev.SQS != nil && f.SQS == nil:
				t.Errorf("%s has an SQS event but no SQS handler", fn.LogicalID)
			case ev.Stream != nil && f.Stream == nil:
				t.Errorf("%s has a stream event but no stream handler", fn.LogicalID)
			case ev.Schedule != nil && f.Schedule == nil:
				t.Errorf("%s has a schedule but no schedule handler", fn.LogicalID)
			}
		}
		if len(want) > 0 && f.HTTP == nil {
			t.Errorf("%s has HTTP routes but no HTTP handler", fn.LogicalID)
		}
		got := slices.Clone(f.Routes)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s routes:\n got  %v\n want %v (template.yaml)", fn.LogicalID, got, want)
		}
	}
	for _, f := range app.Functions() {
		if !declared[f.LogicalID] {
			t.Errorf("wiring builds %s, which template.yaml does not declare", f.LogicalID)
		}
	}
}

// Init makes no network call: building every function against endpoints that
// count connections opens none.
func TestBuildMakesNoNetworkCall(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var conns atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			c.Close()
		}
	}()
	if _, err := Build(context.Background(), testConfig("http://"+ln.Addr().String())); err != nil {
		t.Fatal(err)
	}
	if n := conns.Load(); n != 0 {
		t.Fatalf("Build opened %d connections, want 0", n)
	}
}

func TestBuildRefusesBadConfig(t *testing.T) {
	for name, mutate := range map[string]func(*Config){
		"stage":    func(c *Config) { c.Stage = "prod" },
		"table":    func(c *Config) { c.Table = "" },
		"queue":    func(c *Config) { c.AuditQueueURL = "" },
		"jwt keys": func(c *Config) { c.JWTKeys = "k1:short" },
		"kid":      func(c *Config) { c.JWTActiveKid = "nope" },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig("http://127.0.0.1:1")
			mutate(&cfg)
			if _, err := Build(context.Background(), cfg); err == nil {
				t.Fatal("Build accepted a bad configuration")
			}
		})
	}
}
