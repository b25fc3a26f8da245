package e2e

import (
	"path/filepath"
	"testing"

	"github.com/modupay/modupay/infra/stack"
	"github.com/modupay/modupay/infra/stacktest"
)

// templateRoutes lists every HttpApi route key of template.yaml.
func templateRoutes(t *testing.T) []string {
	t.Helper()
	tpl, err := stack.Load(filepath.Join(stacktest.Root(), "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	fns, err := tpl.Functions()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, fn := range fns {
		for _, ev := range fn.Events {
			if ev.HTTP != nil {
				out = append(out, ev.HTTP.RouteKey())
			}
		}
	}
	return out
}
