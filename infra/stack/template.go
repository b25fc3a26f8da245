// Package stack reads the SAM template the project deploys and recreates its
// table and queues on the local engines, so local and deployed cannot drift.
package stack

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Template is a parsed SAM/CloudFormation template. Values are plain Go values
// (map[string]any, []any, string, int, float64, bool, nil) in which every
// intrinsic function appears in its long JSON form: !Ref X is
// map[string]any{"Ref": "X"}, !GetAtt A.B is {"Fn::GetAtt": ["A", "B"]}, and
// so on, whichever form the file used.
type Template struct {
	Parameters map[string]Parameter
	Conditions map[string]any
	// Rules is the Rules section: assertions on the parameters that
	// CloudFormation checks before creating anything.
	Rules map[string]any
	// Globals is the Globals section, e.g. Globals["Function"].
	Globals   map[string]any
	Resources map[string]Resource
	// Order lists the logical ids of Resources in file order.
	Order []string
}

// Parameter is one entry of the Parameters section.
type Parameter struct {
	Type          string
	Default       *string // nil when the parameter has no default
	AllowedValues []string
	// AllowedPattern is the parameter's regular expression, matched against
	// the whole value as CloudFormation does; empty when absent.
	AllowedPattern string
	NoEcho         bool
}

// Resource is one entry of the Resources section.
type Resource struct {
	LogicalID  string
	Type       string
	Condition  string
	Properties map[string]any
}

// Load reads and parses the template file at path.
func Load(path string) (*Template, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	t, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("parse template %s: %w", path, err)
	}
	return t, nil
}

// Parse parses a template in YAML (JSON being YAML, it works too).
func Parse(data []byte) (*Template, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, errors.New("not a YAML document")
	}
	root, err := convert(doc.Content[0])
	if err != nil {
		return nil, err
	}
	top, ok := root.(map[string]any)
	if !ok {
		return nil, errors.New("template is not a mapping")
	}
	t := &Template{
		Parameters: map[string]Parameter{},
		Conditions: asMap(top["Conditions"]),
		Rules:      asMap(top["Rules"]),
		Globals:    asMap(top["Globals"]),
		Resources:  map[string]Resource{},
	}
	for name, v := range asMap(top["Parameters"]) {
		p := asMap(v)
		param := Parameter{Type: str(p["Type"])}
		if d, ok := p["Default"]; ok && d != nil {
			s, err := scalarString(d)
			if err != nil {
				return nil, fmt.Errorf("parameter %s Default: %w", name, err)
			}
			param.Default = &s
		}
		for _, a := range asList(p["AllowedValues"]) {
			s, err := scalarString(a)
			if err != nil {
				return nil, fmt.Errorf("parameter %s AllowedValues: %w", name, err)
			}
			param.AllowedValues = append(param.AllowedValues, s)
		}
		param.AllowedPattern = str(p["AllowedPattern"])
		if param.AllowedPattern != "" {
			if _, err := regexp.Compile("^(?:" + param.AllowedPattern + ")$"); err != nil {
				return nil, fmt.Errorf("parameter %s AllowedPattern: %w", name, err)
			}
		}
		param.NoEcho, _ = p["NoEcho"].(bool)
		t.Parameters[name] = param
	}
	// Keep the file order of resources: it makes provisioning and logs stable.
	resNode := mappingValue(doc.Content[0], "Resources")
	resources := asMap(top["Resources"])
	if resNode == nil || resources == nil {
		return nil, errors.New("template has no Resources mapping")
	}
	for i := 0; i+1 < len(resNode.Content); i += 2 {
		id := resNode.Content[i].Value
		r := asMap(resources[id])
		typ := str(r["Type"])
		if typ == "" {
			return nil, fmt.Errorf("resource %s has no Type", id)
		}
		t.Resources[id] = Resource{
			LogicalID:  id,
			Type:       typ,
			Condition:  str(r["Condition"]),
			Properties: asMap(r["Properties"]),
		}
		t.Order = append(t.Order, id)
	}
	return t, nil
}

// ResourcesOfType returns the resources of the given type, in file order.
func (t *Template) ResourcesOfType(typ string) []Resource {
	var out []Resource
	for _, id := range t.Order {
		if r := t.Resources[id]; r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// GlobalEnvironment returns Globals.Function.Environment.Variables, unresolved.
func (t *Template) GlobalEnvironment() map[string]any {
	return asMap(asMap(asMap(t.Globals["Function"])["Environment"])["Variables"])
}

// Environment returns every variable a function of the template gets,
// unresolved: the Globals and each function's own (its secrets). Locally
// one process serves every function, so it gets them all. A variable that
// two places define differently is an error: one process cannot hold both.
func (t *Template) Environment() (map[string]any, error) { return t.environment(nil) }

// environment is Environment over the functions include accepts (nil: all).
func (t *Template) environment(include func(Resource) (bool, error)) (map[string]any, error) {
	env := map[string]any{}
	for k, v := range t.GlobalEnvironment() {
		env[k] = v
	}
	for _, r := range t.ResourcesOfType("AWS::Serverless::Function") {
		if include != nil {
			ok, err := include(r)
			if err != nil {
				return nil, fmt.Errorf("function %s: %w", r.LogicalID, err)
			}
			if !ok {
				continue
			}
		}
		for k, v := range asMap(asMap(r.Properties["Environment"])["Variables"]) {
			if old, ok := env[k]; ok && !reflect.DeepEqual(old, v) {
				return nil, fmt.Errorf("environment variable %s: %s defines %v, elsewhere %v", k, r.LogicalID, v, old)
			}
			env[k] = v
		}
	}
	return env, nil
}

// shortTags maps the YAML short forms to the long JSON forms.
var shortTags = map[string]string{
	"!Ref":          "Ref",
	"!Condition":    "Condition",
	"!GetAtt":       "Fn::GetAtt",
	"!Sub":          "Fn::Sub",
	"!If":           "Fn::If",
	"!Equals":       "Fn::Equals",
	"!Join":         "Fn::Join",
	"!Not":          "Fn::Not",
	"!And":          "Fn::And",
	"!Or":           "Fn::Or",
	"!Select":       "Fn::Select",
	"!Split":        "Fn::Split",
	"!FindInMap":    "Fn::FindInMap",
	"!Base64":       "Fn::Base64",
	"!GetAZs":       "Fn::GetAZs",
	"!ImportValue":  "Fn::ImportValue",
	"!Cidr":         "Fn::Cidr",
	"!ToJsonString": "Fn::ToJsonString",
}

// convert turns a YAML node into plain values with intrinsics in long form.
func convert(n *yaml.Node) (any, error) {
	if n.Kind == yaml.AliasNode {
		return convert(n.Alias)
	}
	if long, ok := shortTags[n.Tag]; ok {
		return convertIntrinsic(n, long)
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Value == "<<" && k.Tag == "!!merge" {
				return nil, fmt.Errorf("line %d: YAML merge keys are not supported in templates", k.Line)
			}
			v, err := convert(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := convert(c)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case yaml.ScalarNode:
		return scalar(n)
	default:
		return nil, fmt.Errorf("line %d: unexpected YAML node kind %v", n.Line, n.Kind)
	}
}

// scalar decodes a plain scalar. Timestamps and other exotic YAML types stay
// strings: CloudFormation sees text (AWSTemplateFormatVersion: 2010-09-09).
func scalar(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		b, err := strconv.ParseBool(strings.ToLower(n.Value))
		if err != nil {
			return n.Value, nil
		}
		return b, nil
	case "!!int":
		var i int
		if err := n.Decode(&i); err != nil {
			return n.Value, nil
		}
		return i, nil
	case "!!float":
		var f float64
		if err := n.Decode(&f); err != nil {
			return n.Value, nil
		}
		return f, nil
	default:
		return n.Value, nil
	}
}

func convertIntrinsic(n *yaml.Node, long string) (any, error) {
	// Decode the node as if untagged, then wrap it.
	plain := *n
	plain.Tag = ""
	if n.Kind == yaml.ScalarNode {
		plain.Tag = "!!str"
	}
	v, err := convert(&plain)
	if err != nil {
		return nil, err
	}
	if long == "Fn::GetAtt" {
		// !GetAtt Resource.Attribute is a string; the long form is a list.
		if s, ok := v.(string); ok {
			res, att, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("line %d: !GetAtt %q is not Resource.Attribute", n.Line, s)
			}
			v = []any{res, att}
		}
	}
	return map[string]any{long: v}, nil
}

func mappingValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// scalarString renders a literal scalar as CloudFormation would see it.
func scalarString(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int:
		return strconv.Itoa(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	default:
		return "", fmt.Errorf("%v is not a scalar", v)
	}
}

// intrinsic returns the name and argument of an intrinsic function value.
func intrinsic(v any) (name string, arg any, ok bool) {
	m, isMap := v.(map[string]any)
	if !isMap || len(m) != 1 {
		return "", nil, false
	}
	for k, a := range m {
		if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
			return k, a, true
		}
	}
	return "", nil, false
}

// getAttTarget returns the resource and attribute of a Fn::GetAtt value.
func getAttTarget(v any) (resource, attribute string, ok bool) {
	name, arg, isIntrinsic := intrinsic(v)
	if !isIntrinsic || name != "Fn::GetAtt" {
		return "", "", false
	}
	switch a := arg.(type) {
	case []any:
		if len(a) == 2 {
			r, rok := a[0].(string)
			at, aok := a[1].(string)
			return r, at, rok && aok
		}
	case string:
		r, at, found := strings.Cut(a, ".")
		return r, at, found
	}
	return "", "", false
}
