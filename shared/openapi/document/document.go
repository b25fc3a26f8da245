// Package document is the OpenAPI document of the routes served today
// (openapi.yaml, embedded), as YAML and as JSON. It links no OpenAPI
// library: the docs function serves it, and the validator (package
// openapi) is for tests.
package document

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"math"
	"sync"

	"gopkg.in/yaml.v3"
)

//go:embed openapi.yaml
var spec []byte

// YAML returns the document as written (a copy: callers may keep or modify it).
func YAML() []byte { return bytes.Clone(spec) }

var specJSON = sync.OnceValues(func() ([]byte, error) { return YAMLToJSON(spec) })

// JSON returns the document converted to indented JSON, keys in the order the
// YAML gives them. The conversion runs once; each call returns a copy.
func JSON() ([]byte, error) {
	b, err := specJSON()
	if err != nil {
		return nil, err
	}
	return bytes.Clone(b), nil
}

// YAMLToJSON converts one YAML document to indented JSON node by node, so that
// keys keep the order of the YAML (a generic map would sort them) and every key
// stays a string. JSON uses it; the HTML page uses it for the examples.
func YAMLToJSON(src []byte) ([]byte, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(src, &root); err != nil {
		return nil, fmt.Errorf("openapi: yaml: %w", err)
	}
	var compact bytes.Buffer
	if err := writeJSON(&compact, &root); err != nil {
		return nil, fmt.Errorf("openapi: yaml to json: %w", err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, compact.Bytes(), "", "  "); err != nil {
		return nil, fmt.Errorf("openapi: yaml to json: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}

func writeJSON(w *bytes.Buffer, n *yaml.Node) error {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return fmt.Errorf("line %d: expected one document", n.Line)
		}
		return writeJSON(w, n.Content[0])
	case yaml.AliasNode:
		return writeJSON(w, n.Alias)
	case yaml.MappingNode:
		w.WriteByte('{')
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.Tag == "!!merge" {
				return fmt.Errorf("line %d: keys must be plain scalars", k.Line)
			}
			if seen[k.Value] {
				return fmt.Errorf("line %d: duplicate key %q", k.Line, k.Value)
			}
			seen[k.Value] = true
			if i > 0 {
				w.WriteByte(',')
			}
			if err := writeScalar(w, k.Value); err != nil {
				return err
			}
			w.WriteByte(':')
			if err := writeJSON(w, v); err != nil {
				return err
			}
		}
		w.WriteByte('}')
		return nil
	case yaml.SequenceNode:
		w.WriteByte('[')
		for i, c := range n.Content {
			if i > 0 {
				w.WriteByte(',')
			}
			if err := writeJSON(w, c); err != nil {
				return err
			}
		}
		w.WriteByte(']')
		return nil
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str", "!!timestamp", "!!binary":
			return writeScalar(w, n.Value)
		case "!!null":
			w.WriteString("null")
			return nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			return fmt.Errorf("line %d: %s has no JSON form", n.Line, n.Value)
		}
		return writeScalar(w, v)
	}
	return fmt.Errorf("line %d: unexpected YAML node", n.Line)
}

// writeScalar writes v as JSON, leaving <, > and & as they are: the document's
// prose ("Bearer <access_token>") stays readable.
func writeScalar(w *bytes.Buffer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	w.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	return nil
}
