package stack

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// noValue is what !Ref AWS::NoValue resolves to: the enclosing property is dropped.
type noValueT struct{}

var noValue = noValueT{}

// resolver evaluates intrinsic functions against parameters and the physical
// resources provisioned so far.
type resolver struct {
	tpl        *Template
	params     map[string]string
	res        *Resources
	conditions map[string]bool
	evaluating map[string]bool
}

func newResolver(tpl *Template, params map[string]string, res *Resources) *resolver {
	return &resolver{tpl: tpl, params: params, res: res, conditions: map[string]bool{}, evaluating: map[string]bool{}}
}

// resolve returns v with every intrinsic evaluated, recursively.
func (r *resolver) resolve(v any) (any, error) {
	if name, arg, ok := intrinsic(v); ok {
		return r.intrinsic(name, arg)
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			rv, err := r.resolve(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if rv != noValue {
				out[k] = rv
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(x))
		for i, e := range x {
			rv, err := r.resolve(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			if rv != noValue {
				out = append(out, rv)
			}
		}
		return out, nil
	default:
		return v, nil
	}
}

// resolveString resolves v and renders it as a string.
func (r *resolver) resolveString(v any) (string, error) {
	rv, err := r.resolve(v)
	if err != nil {
		return "", err
	}
	return scalarString(rv)
}

func (r *resolver) intrinsic(name string, arg any) (any, error) {
	switch name {
	case "Ref":
		s, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("Ref %v: want a name", arg)
		}
		return r.ref(s)
	case "Fn::GetAtt":
		res, att, ok := getAttTarget(map[string]any{name: arg})
		if !ok {
			return nil, fmt.Errorf("Fn::GetAtt %v: want [Resource, Attribute]", arg)
		}
		return r.getAtt(res, att)
	case "Fn::Sub":
		return r.sub(arg)
	case "Fn::Join":
		l := asList(arg)
		if len(l) != 2 {
			return nil, fmt.Errorf("Fn::Join %v: want [delimiter, list]", arg)
		}
		delim, err := r.resolveString(l[0])
		if err != nil {
			return nil, fmt.Errorf("Fn::Join delimiter: %w", err)
		}
		items, err := r.resolve(l[1])
		if err != nil {
			return nil, fmt.Errorf("Fn::Join: %w", err)
		}
		parts := []string{}
		for _, it := range asList(items) {
			s, err := scalarString(it)
			if err != nil {
				return nil, fmt.Errorf("Fn::Join: %w", err)
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, delim), nil
	case "Fn::Select":
		l := asList(arg)
		if len(l) != 2 {
			return nil, fmt.Errorf("Fn::Select %v: want [index, list]", arg)
		}
		idx, err := r.resolveString(l[0])
		if err != nil {
			return nil, err
		}
		i, err := strconv.Atoi(idx)
		if err != nil {
			return nil, fmt.Errorf("Fn::Select index %q: %w", idx, err)
		}
		items, err := r.resolve(l[1])
		if err != nil {
			return nil, err
		}
		list := asList(items)
		if i < 0 || i >= len(list) {
			return nil, fmt.Errorf("Fn::Select index %d out of range", i)
		}
		return list[i], nil
	case "Fn::Split":
		l := asList(arg)
		if len(l) != 2 {
			return nil, fmt.Errorf("Fn::Split %v: want [delimiter, string]", arg)
		}
		delim, err := r.resolveString(l[0])
		if err != nil {
			return nil, err
		}
		s, err := r.resolveString(l[1])
		if err != nil {
			return nil, err
		}
		var out []any
		for _, p := range strings.Split(s, delim) {
			out = append(out, p)
		}
		return out, nil
	case "Fn::If":
		l := asList(arg)
		if len(l) != 3 {
			return nil, fmt.Errorf("Fn::If %v: want [condition, then, else]", arg)
		}
		cond, ok := l[0].(string)
		if !ok {
			return nil, fmt.Errorf("Fn::If condition %v: want a condition name", l[0])
		}
		b, err := r.condition(cond)
		if err != nil {
			return nil, err
		}
		if b {
			return r.resolve(l[1])
		}
		return r.resolve(l[2])
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition":
		return r.boolean(map[string]any{name: arg})
	default:
		return nil, fmt.Errorf("%s is not supported by the local runtime", name)
	}
}

// Pseudo parameters, with the values the local engines use.
func (r *resolver) pseudo(name string) (any, bool) {
	switch name {
	case "AWS::Region":
		return r.res.Region, true
	case "AWS::AccountId":
		return r.res.AccountID, true
	case "AWS::Partition":
		return "aws", true
	case "AWS::URLSuffix":
		return "amazonaws.com", true
	case "AWS::StackName":
		return r.res.Prefix, true
	case "AWS::StackId":
		return "arn:aws:cloudformation:" + r.res.Region + ":" + r.res.AccountID + ":stack/" + r.res.Prefix + "/local", true
	case "AWS::NoValue":
		return noValue, true
	}
	return nil, false
}

func (r *resolver) ref(name string) (any, error) {
	if v, ok := r.pseudo(name); ok {
		return v, nil
	}
	if p, ok := r.tpl.Parameters[name]; ok {
		if v, ok := r.params[name]; ok {
			return v, nil
		}
		if p.Default != nil {
			return *p.Default, nil
		}
		return nil, fmt.Errorf("parameter %s has no value and no Default", name)
	}
	res, ok := r.tpl.Resources[name]
	if !ok {
		return nil, fmt.Errorf("Ref %s: no such parameter or resource", name)
	}
	phys, ok := r.res.ByID[name]
	switch {
	case ok && res.Type == "AWS::SQS::Queue":
		return phys.URL, nil
	case ok:
		return phys.Name, nil
	case res.Type == "AWS::Serverless::HttpApi" || res.Type == "AWS::ApiGatewayV2::Api":
		return LocalAPIID, nil
	case res.Type == "AWS::S3::Bucket":
		// The audit archive's bucket has no local counterpart: the variable
		// naming it is dropped, and the local runtime and tests archive into
		// a directory (MODUPAY_AUDIT_ARCHIVE_DIR) instead.
		return noValue, nil
	}
	return nil, fmt.Errorf("Ref %s: %s has no local counterpart", name, res.Type)
}

func (r *resolver) getAtt(resource, att string) (any, error) {
	phys, ok := r.res.ByID[resource]
	if !ok {
		if _, inTpl := r.tpl.Resources[resource]; !inTpl {
			return nil, fmt.Errorf("GetAtt %s.%s: no such resource", resource, att)
		}
		return nil, fmt.Errorf("GetAtt %s.%s: %s has no local counterpart (or is not provisioned yet)", resource, att, r.tpl.Resources[resource].Type)
	}
	var v string
	switch att {
	case "Arn":
		v = phys.ARN
	case "QueueName", "TableName":
		v = phys.Name
	case "QueueUrl":
		v = phys.URL
	case "StreamArn":
		v = phys.StreamARN
	}
	if v == "" {
		return nil, fmt.Errorf("GetAtt %s.%s: attribute not available locally", resource, att)
	}
	return v, nil
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

func (r *resolver) sub(arg any) (any, error) {
	var text string
	vars := map[string]any{}
	switch a := arg.(type) {
	case string:
		text = a
	case []any:
		if len(a) != 2 {
			return nil, fmt.Errorf("Fn::Sub %v: want string or [string, map]", arg)
		}
		s, ok := a[0].(string)
		if !ok {
			return nil, fmt.Errorf("Fn::Sub %v: want string or [string, map]", arg)
		}
		text = s
		for k, v := range asMap(a[1]) {
			vars[k] = v
		}
	default:
		return nil, fmt.Errorf("Fn::Sub %v: want string or [string, map]", arg)
	}
	var firstErr error
	out := subVar.ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}" // ${!Literal} is the escape for a literal ${Literal}
		}
		var v any
		var err error
		if val, ok := vars[name]; ok {
			v, err = r.resolve(val)
		} else if res, att, isAtt := strings.Cut(name, "."); isAtt {
			v, err = r.getAtt(res, att)
		} else {
			v, err = r.ref(name)
		}
		if err == nil {
			var s string
			s, err = scalarString(v)
			if err == nil {
				return s
			}
		}
		if firstErr == nil {
			firstErr = fmt.Errorf("Fn::Sub ${%s}: %w", name, err)
		}
		return m
	})
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

// condition evaluates a named condition of the Conditions section.
func (r *resolver) condition(name string) (bool, error) {
	if b, ok := r.conditions[name]; ok {
		return b, nil
	}
	expr, ok := r.tpl.Conditions[name]
	if !ok {
		return false, fmt.Errorf("condition %s is not defined", name)
	}
	if r.evaluating[name] {
		return false, fmt.Errorf("condition %s refers to itself", name)
	}
	r.evaluating[name] = true
	defer delete(r.evaluating, name)
	b, err := r.boolean(expr)
	if err != nil {
		return false, fmt.Errorf("condition %s: %w", name, err)
	}
	r.conditions[name] = b
	return b, nil
}

// boolean evaluates a condition expression.
func (r *resolver) boolean(expr any) (bool, error) {
	name, arg, ok := intrinsic(expr)
	if !ok {
		if b, isBool := expr.(bool); isBool {
			return b, nil
		}
		return false, fmt.Errorf("%v is not a condition", expr)
	}
	switch name {
	case "Condition":
		s, ok := arg.(string)
		if !ok {
			return false, fmt.Errorf("Condition %v: want a name", arg)
		}
		return r.condition(s)
	case "Fn::Equals":
		l := asList(arg)
		if len(l) != 2 {
			return false, fmt.Errorf("Fn::Equals %v: want two values", arg)
		}
		a, err := r.resolveString(l[0])
		if err != nil {
			return false, fmt.Errorf("Fn::Equals: %w", err)
		}
		b, err := r.resolveString(l[1])
		if err != nil {
			return false, fmt.Errorf("Fn::Equals: %w", err)
		}
		return a == b, nil
	case "Fn::Not":
		l := asList(arg)
		if len(l) != 1 {
			return false, fmt.Errorf("Fn::Not %v: want one condition", arg)
		}
		b, err := r.boolean(l[0])
		return !b, err
	case "Fn::And", "Fn::Or":
		l := asList(arg)
		if len(l) == 0 {
			return false, fmt.Errorf("%s needs conditions", name)
		}
		all := name == "Fn::And"
		for _, c := range l {
			b, err := r.boolean(c)
			if err != nil {
				return false, err
			}
			if all && !b {
				return false, nil
			}
			if !all && b {
				return true, nil
			}
		}
		return all, nil
	}
	v, err := r.intrinsic(name, arg)
	if err != nil {
		return false, err
	}
	if b, ok := v.(bool); ok {
		return b, nil
	}
	return false, errors.New("not a condition")
}

// checkParams rejects values outside a parameter's AllowedValues, as CloudFormation would.
func checkParams(tpl *Template, params map[string]string) error {
	for name, v := range params {
		p, ok := tpl.Parameters[name]
		if !ok {
			return fmt.Errorf("parameter %s is not declared by the template", name)
		}
		if len(p.AllowedValues) > 0 && !contains(p.AllowedValues, v) {
			return fmt.Errorf("parameter %s: %q is not one of %v", name, v, p.AllowedValues)
		}
		if p.AllowedPattern != "" {
			re, err := regexp.Compile("^(?:" + p.AllowedPattern + ")$")
			if err != nil {
				return fmt.Errorf("parameter %s AllowedPattern: %w", name, err)
			}
			if !re.MatchString(v) {
				return fmt.Errorf("parameter %s: %q does not match AllowedPattern %s", name, v, p.AllowedPattern)
			}
		}
	}
	return nil
}
