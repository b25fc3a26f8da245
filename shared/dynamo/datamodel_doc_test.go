package dynamo

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// keyLiteral is a string the adapter builds keys from: "EVENT#", "P#%s#O#",
// "#INVSEQ#", "RL#TOKEN#IP#"…; keyPart is each upper-case word of one with
// its # marks ("P#", "#O#", "#INVSEQ#").
var (
	keyLiteral = regexp.MustCompile(`"(#?[A-Z][A-Z0-9]*#[^"]*|#[A-Z][A-Z0-9]*)"`)
	keyPart    = regexp.MustCompile(`#?[A-Z][A-Z0-9]*#?`)
)

// TestDataModelDocumentsEveryKeyPrefix: docs/data-model.md is the map of the
// table; every key prefix the adapter writes must be on it, so a new item
// kind cannot appear without its access pattern being written down.
func TestDataModelDocumentsEveryKeyPrefix(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "data-model.md"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	missing := map[string]string{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyLiteral.FindAllStringSubmatch(string(src), -1) {
			lit, err := strconv.Unquote(`"` + m[1] + `"`)
			if err != nil {
				continue
			}
			for _, part := range keyPart.FindAllString(lit, -1) {
				if strings.Contains(part, "#") && !strings.Contains(string(doc), part) {
					missing[part] = f
				}
			}
		}
	}
	var list []string
	for p, f := range missing {
		list = append(list, p+" ("+f+")")
	}
	sort.Strings(list)
	if len(list) > 0 {
		t.Fatalf("key prefixes written by the adapter but absent from docs/data-model.md: %v", list)
	}
}
