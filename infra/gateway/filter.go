package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Filter is a compiled Lambda event filtering pattern (FilterCriteria). It
// matches the JSON form of a record, as Lambda does. Supported: nested
// objects, arrays of allowed exact values (strings, numbers, booleans, null),
// and the operators prefix, suffix, equals-ignore-case, anything-but (values
// or prefix), exists and numeric. An unsupported operator is an error at
// compile time rather than a filter that silently lets everything through.
type Filter struct {
	root *filterNode
	src  string
}

type filterNode struct {
	children map[string]*filterNode // object pattern
	rules    []filterRule           // leaf: the allowed alternatives
}

type filterRule struct {
	op      string // "exact", "prefix", "suffix", "equals-ignore-case", "anything-but", "anything-but-prefix", "exists", "numeric"
	value   any    // exact value, string operand, or bool for exists
	values  []any  // anything-but values
	numeric []numericCond
}

type numericCond struct {
	op string
	n  float64
}

// CompileFilter compiles one pattern (a JSON object).
func CompileFilter(pattern string) (*Filter, error) {
	dec := json.NewDecoder(strings.NewReader(pattern))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("filter pattern %s: %w", pattern, err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("filter pattern %s: not a JSON object", pattern)
	}
	root, err := compileObject(obj)
	if err != nil {
		return nil, fmt.Errorf("filter pattern %s: %w", pattern, err)
	}
	return &Filter{root: root, src: pattern}, nil
}

func (f *Filter) String() string { return f.src }

func compileObject(obj map[string]any) (*filterNode, error) {
	n := &filterNode{children: map[string]*filterNode{}}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		switch v := obj[k].(type) {
		case map[string]any:
			child, err := compileObject(v)
			if err != nil {
				return nil, fmt.Errorf("%s.%w", k, err)
			}
			n.children[k] = child
		case []any:
			leaf := &filterNode{}
			for _, alt := range v {
				r, err := compileRule(alt)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", k, err)
				}
				leaf.rules = append(leaf.rules, r)
			}
			if len(leaf.rules) == 0 {
				return nil, fmt.Errorf("%s: empty list of values", k)
			}
			n.children[k] = leaf
		default:
			return nil, fmt.Errorf("%s: a value must be an object or a list of allowed values, got %v", k, v)
		}
	}
	return n, nil
}

func compileRule(alt any) (filterRule, error) {
	op, ok := alt.(map[string]any)
	if !ok {
		return filterRule{op: "exact", value: normalize(alt)}, nil
	}
	if len(op) != 1 {
		return filterRule{}, fmt.Errorf("operator object %v must have exactly one key", op)
	}
	for name, arg := range op {
		switch name {
		case "prefix", "suffix", "equals-ignore-case":
			s, ok := arg.(string)
			if !ok {
				return filterRule{}, fmt.Errorf("%s wants a string", name)
			}
			return filterRule{op: name, value: s}, nil
		case "exists":
			b, ok := arg.(bool)
			if !ok {
				return filterRule{}, errors.New("exists wants true or false")
			}
			return filterRule{op: name, value: b}, nil
		case "anything-but":
			switch a := arg.(type) {
			case []any:
				vals := make([]any, 0, len(a))
				for _, x := range a {
					vals = append(vals, normalize(x))
				}
				return filterRule{op: name, values: vals}, nil
			case map[string]any:
				p, ok := a["prefix"].(string)
				if len(a) != 1 || !ok {
					return filterRule{}, fmt.Errorf("anything-but %v: only {\"prefix\": \"...\"} is supported", a)
				}
				return filterRule{op: "anything-but-prefix", value: p}, nil
			default:
				return filterRule{op: name, values: []any{normalize(a)}}, nil
			}
		case "numeric":
			l, ok := arg.([]any)
			if !ok || len(l) == 0 || len(l)%2 != 0 {
				return filterRule{}, errors.New("numeric wants [op, number, ...]")
			}
			var conds []numericCond
			for i := 0; i < len(l); i += 2 {
				o, ok1 := l[i].(string)
				num, ok2 := normalize(l[i+1]).(float64)
				if !ok1 || !ok2 {
					return filterRule{}, fmt.Errorf("numeric %v: want operator and number pairs", l)
				}
				switch o {
				case "=", "<", "<=", ">", ">=":
				default:
					return filterRule{}, fmt.Errorf("numeric operator %q", o)
				}
				conds = append(conds, numericCond{o, num})
			}
			return filterRule{op: name, numeric: conds}, nil
		default:
			return filterRule{}, fmt.Errorf("operator %q is not supported locally", name)
		}
	}
	return filterRule{}, errors.New("unreachable")
}

// normalize turns json.Number into float64 so that 5 and 5.0 compare equal.
func normalize(v any) any {
	if n, ok := v.(json.Number); ok {
		f, err := n.Float64()
		if err == nil {
			return f
		}
		return n.String()
	}
	return v
}

// Match tells whether the JSON document doc matches the pattern.
func (f *Filter) Match(doc []byte) (bool, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return false, fmt.Errorf("decode record for filtering: %w", err)
	}
	return f.root.matchObject(v), nil
}

func (n *filterNode) matchObject(v any) bool {
	obj, ok := v.(map[string]any)
	if !ok {
		return false
	}
	for k, child := range n.children {
		val, present := obj[k]
		if child.children != nil {
			if !present || !child.matchObject(val) {
				return false
			}
			continue
		}
		if !child.matchLeaf(val, present) {
			return false
		}
	}
	return true
}

func (n *filterNode) matchLeaf(v any, present bool) bool {
	for _, r := range n.rules {
		if r.op == "exists" {
			if r.value.(bool) == present {
				return true
			}
			continue
		}
		if !present {
			continue
		}
		// A list in the document matches if any element does.
		if l, isList := v.([]any); isList {
			for _, e := range l {
				if r.match(normalize(e)) {
					return true
				}
			}
			continue
		}
		if r.match(normalize(v)) {
			return true
		}
	}
	return false
}

func (r filterRule) match(v any) bool {
	s, isString := v.(string)
	switch r.op {
	case "exact":
		return v == r.value
	case "prefix":
		return isString && strings.HasPrefix(s, r.value.(string))
	case "suffix":
		return isString && strings.HasSuffix(s, r.value.(string))
	case "equals-ignore-case":
		return isString && strings.EqualFold(s, r.value.(string))
	case "anything-but-prefix":
		return isString && !strings.HasPrefix(s, r.value.(string))
	case "anything-but":
		for _, x := range r.values {
			if v == x {
				return false
			}
		}
		return true
	case "numeric":
		f, ok := v.(float64)
		if !ok {
			return false
		}
		for _, c := range r.numeric {
			var ok bool
			switch c.op {
			case "=":
				ok = f == c.n
			case "<":
				ok = f < c.n
			case "<=":
				ok = f <= c.n
			case ">":
				ok = f > c.n
			case ">=":
				ok = f >= c.n
			}
			if !ok {
				return false
			}
		}
		return true
	}
	return false
}
