package docs

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/modupay/modupay/shared/openapi"
)

var update = flag.Bool("update", false, "rewrite page.html from the OpenAPI document")

// The page the function serves is the document rendered: a change to the
// document or to the renderer without the page fails here.
func TestPageIsCurrent(t *testing.T) {
	doc, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	want, err := renderPage(doc, openapi.YAML())
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("page.html", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(pageHTML, want) {
		t.Fatal("page.html does not match the OpenAPI document: run go test ./shared/handlers/docs -update")
	}
}
