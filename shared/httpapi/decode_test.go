package httpapi

import (
	"net/http"
	"strings"
	"testing"

	"github.com/modupay/modupay/shared/apperr"
)

type sampleBody struct {
	Name    string `json:"name"`
	Count   int    `json:"count"`
	Address struct {
		PostalCode string `json:"postal_code"`
	} `json:"address"`
	Tags []string `json:"tags"`
}

func jsonRequest(body string) *Request {
	h := http.Header{}
	h.Set("Content-Type", "application/json; charset=utf-8")
	return &Request{Header: h, Body: []byte(body)}
}

func TestDecodeJSON(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		mediaType string
		wantCode  apperr.Code
		wantParam string
	}{
		{name: "valid", body: `{"name":"a","count":2,"address":{"postal_code":"69001"},"tags":["x"]}`},
		{name: "empty body", body: ``, wantCode: apperr.Malformed},
		{name: "whitespace body", body: "  \n", wantCode: apperr.Malformed},
		{name: "syntax error", body: `{"name":`, wantCode: apperr.Malformed},
		{name: "bad token", body: `{"name":x}`, wantCode: apperr.Malformed},
		{name: "array instead of object", body: `[1,2]`, wantCode: apperr.Malformed},
		{name: "wrong type top-level field", body: `{"count":"two"}`, wantCode: apperr.Invalid, wantParam: "count"},
		{name: "wrong type nested field", body: `{"address":{"postal_code":69001}}`, wantCode: apperr.Invalid, wantParam: "address.postal_code"},
		{name: "wrong type in array", body: `{"tags":[1]}`, wantCode: apperr.Invalid, wantParam: "tags"},
		{name: "unknown field", body: `{"name":"a","nmae":"b"}`, wantCode: apperr.Invalid, wantParam: "nmae"},
		{name: "field name in another case", body: `{"NAME":"a"}`, wantCode: apperr.Invalid, wantParam: "NAME"},
		{name: "nested field name in another case", body: `{"address":{"Postal_Code":"1"}}`, wantCode: apperr.Invalid, wantParam: "address.Postal_Code"},
		{name: "two values", body: `{"name":"a"}{"name":"b"}`, wantCode: apperr.Malformed},
		{name: "trailing garbage", body: `{"name":"a"} x`, wantCode: apperr.Malformed},
		{name: "wrong media type", body: `{"name":"a"}`, mediaType: "text/plain", wantCode: apperr.UnsupportedType},
		{name: "overflowing integer", body: `{"count":1e40}`, wantCode: apperr.Invalid, wantParam: "count"},
		{name: "duplicate key", body: `{"count":1,"name":"a","count":2}`, wantCode: apperr.Invalid, wantParam: "count"},
		{name: "duplicate nested key", body: `{"address":{"postal_code":"1","postal_code":"2"}}`, wantCode: apperr.Invalid, wantParam: "address.postal_code"},
		{name: "equal keys in sibling objects", body: `{"tags":["a","a"],"address":{"postal_code":"1"},"name":"postal_code"}`},
		{name: "invalid UTF-8", body: "{\"name\":\"a\xff\"}", wantCode: apperr.Malformed},
		{name: "deep nesting", body: strings.Repeat("[", 20000) + strings.Repeat("]", 20000), wantCode: apperr.Malformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := jsonRequest(tt.body)
			if tt.mediaType != "" {
				r.Header.Set("Content-Type", tt.mediaType)
			}
			var v sampleBody
			err := DecodeJSON(r, &v)
			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("DecodeJSON() error = %v, want nil", err)
				}
				return
			}
			ae, ok := apperr.As(err)
			if !ok {
				t.Fatalf("DecodeJSON() error = %v, want an *apperr.Error with code %s", err, tt.wantCode)
			}
			if got, want := ae.Code, tt.wantCode; got != want {
				t.Errorf("code = %s, want %s (%v)", got, want, err)
			}
			if got, want := ae.Param, tt.wantParam; got != want {
				t.Errorf("param = %q, want %q", got, want)
			}
		})
	}
}

// FuzzDecodeJSON: whatever the bytes, decoding answers a 4xx-class error or
// success, never a panic and never an internal error.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{}`, `{"name":"a"}`, `{"address":{"postal_code":1}}`, `[`, `{"tags":[null]}`, "\x00", `{"count":-1}`, `"str"`, `null`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var v sampleBody
		err := DecodeJSON(jsonRequest(body), &v)
		if err == nil {
			return
		}
		code := apperr.CodeOf(err)
		if s := statusOf(code); s < 400 || s >= 500 {
			t.Fatalf("DecodeJSON(%q) gave %s (status %d), want a 4xx", body, code, s)
		}
	})
}

func TestErrorResponseHidesInternals(t *testing.T) {
	err := apperr.Wrap("x.y", errTest("dynamodb: secret table detail"))
	resp := errorResponse(err, "req-1")
	if got, want := resp.Status, 500; got != want {
		t.Fatalf("status = %d, want %d", got, want)
	}
	if body := string(resp.Body); strings.Contains(body, "secret table detail") || !strings.Contains(body, "req-1") {
		t.Errorf("body = %s: want the request id and no internal detail", body)
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }

func TestStatusOfEveryCode(t *testing.T) {
	want := map[apperr.Code]int{
		apperr.Invalid: 422, apperr.Malformed: 400, apperr.Unauthenticated: 401, apperr.Forbidden: 403,
		apperr.NotFound: 404, apperr.Conflict: 409, apperr.IdempotencyBusy: 409, apperr.IdempotencyMism: 422,
		apperr.TooLarge: 413, apperr.UnsupportedType: 415, apperr.RateLimited: 429, apperr.Unavailable: 503, apperr.Internal: 500,
	}
	for code, status := range want {
		if got := statusOf(code); got != status {
			t.Errorf("statusOf(%s) = %d, want %d", code, got, status)
		}
	}
}
