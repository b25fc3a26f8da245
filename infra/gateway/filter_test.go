package gateway_test

import (
	"testing"

	"github.com/modupay/modupay/infra/gateway"
)

func TestFilter(t *testing.T) {
	record := `{"eventName":"INSERT","dynamodb":{"NewImage":{"kind":{"S":"event"},"n":{"N":"5"},"tags":{"L":[{"S":"a"},{"S":"b"}]}},"SizeBytes":120},"list":["x","y"],"nul":null}`
	tests := []struct {
		pattern string
		want    bool
	}{
		{`{"eventName":["INSERT"],"dynamodb":{"NewImage":{"kind":{"S":["event"]}}}}`, true},
		{`{"eventName":["MODIFY","INSERT"]}`, true},
		{`{"eventName":["MODIFY"]}`, false},
		{`{"dynamodb":{"NewImage":{"kind":{"S":["organization"]}}}}`, false},
		{`{"dynamodb":{"NewImage":{"missing":{"S":["x"]}}}}`, false},
		{`{"dynamodb":{"OldImage":{"kind":{"S":["event"]}}}}`, false},
		{`{"list":["y"]}`, true},
		{`{"nul":[null]}`, true},
		{`{"dynamodb":{"SizeBytes":[120]}}`, true},
		{`{"dynamodb":{"SizeBytes":[{"numeric":[">",100,"<=",120]}]}}`, true},
		{`{"dynamodb":{"SizeBytes":[{"numeric":["<",100]}]}}`, false},
		{`{"eventName":[{"prefix":"INS"}]}`, true},
		{`{"eventName":[{"suffix":"ERT"}]}`, true},
		{`{"eventName":[{"equals-ignore-case":"insert"}]}`, true},
		{`{"eventName":[{"anything-but":["REMOVE","MODIFY"]}]}`, true},
		{`{"eventName":[{"anything-but":"INSERT"}]}`, false},
		{`{"eventName":[{"anything-but":{"prefix":"IN"}}]}`, false},
		{`{"dynamodb":{"NewImage":{"kind":[{"exists":true}]}}}`, true},
		{`{"dynamodb":{"NewImage":{"other":[{"exists":false}]}}}`, true},
		{`{"dynamodb":{"NewImage":{"kind":[{"exists":false}]}}}`, false},
		{`{"eventName":"INSERT"}`, false}, // compile error below
	}
	for _, tc := range tests {
		f, err := gateway.CompileFilter(tc.pattern)
		if tc.pattern == `{"eventName":"INSERT"}` {
			if err == nil {
				t.Errorf("%s: a bare value must be rejected (patterns list allowed values)", tc.pattern)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.pattern, err)
			continue
		}
		got, err := f.Match([]byte(record))
		if err != nil || got != tc.want {
			t.Errorf("%s: match = %v (%v), want %v", tc.pattern, got, err, tc.want)
		}
	}
	for _, bad := range []string{`[]`, `{"a":[{"wildcard":"*"}]}`, `{"a":[]}`, `{"a":[{"numeric":["<"]}]}`, `not json`} {
		if _, err := gateway.CompileFilter(bad); err == nil {
			t.Errorf("%s: compiled", bad)
		}
	}
}
