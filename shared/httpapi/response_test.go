package httpapi_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modupay/modupay/shared/httpapi"
)

// A binary body reaches API Gateway base64-encoded with isBase64Encoded true;
// a text body stays a plain string.
func TestBinaryResponsesAreBase64Encoded(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe")
	api, err := httpapi.New(httpapi.Options{NewID: func() string { return "req-1" }},
		httpapi.Route{Key: "GET /image", Access: httpapi.Public, Handler: func(context.Context, *httpapi.Request) (*httpapi.Response, error) {
			r := httpapi.Raw(http.StatusOK, "image/png", png)
			r.Binary = true
			r.Header.Set("Cache-Control", "private, max-age=300")
			return r, nil
		}},
		httpapi.Route{Key: "GET /text", Access: httpapi.Public, Handler: func(context.Context, *httpapi.Request) (*httpapi.Response, error) {
			return httpapi.Raw(http.StatusOK, "text/plain", []byte("é ok")), nil
		}},
	)
	if err != nil {
		t.Fatal(err)
	}
	call := func(path string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		resp, err := api.Handle(context.Background(), events.APIGatewayV2HTTPRequest{RouteKey: "GET " + path, RawPath: path,
			RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-1",
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: path}}})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	img := call("/image")
	if img.StatusCode != 200 || !img.IsBase64Encoded {
		t.Fatalf("image: status %d, isBase64Encoded %v", img.StatusCode, img.IsBase64Encoded)
	}
	got, err := base64.StdEncoding.DecodeString(img.Body)
	if err != nil {
		t.Fatalf("image body is not base64: %v", err)
	}
	if string(got) != string(png) {
		t.Errorf("image body decodes to % x, want % x", got, png)
	}
	for k, want := range map[string]string{"Content-Type": "image/png", "Cache-Control": "private, max-age=300",
		"X-Content-Type-Options": "nosniff", "X-Request-Id": "req-1"} {
		if img.Headers[k] != want {
			t.Errorf("image: %s %q, want %q", k, img.Headers[k], want)
		}
	}

	txt := call("/text")
	if txt.IsBase64Encoded || txt.Body != "é ok" || txt.Headers["Cache-Control"] != "no-store" {
		t.Errorf("text: isBase64Encoded %v, body %q, Cache-Control %q", txt.IsBase64Encoded, txt.Body, txt.Headers["Cache-Control"])
	}
	// Errors stay JSON text even on a binary route's API.
	miss := call("/missing")
	if miss.StatusCode != 404 || miss.IsBase64Encoded {
		t.Errorf("missing route: status %d, isBase64Encoded %v", miss.StatusCode, miss.IsBase64Encoded)
	}
}
