package aiiasandbox

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// LambdaHandler serves s as an API Gateway HTTP API (payload 2.0)
// integration whose routes start with prefix ("/sandbox-bank"): the
// request is handed to s without the prefix, and s's answer goes back
// whole (bodies that are not UTF-8 in base64).
func LambdaHandler(s *Server, prefix string) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		body := []byte(ev.Body)
		if ev.IsBase64Encoded {
			b, err := base64.StdEncoding.DecodeString(ev.Body)
			if err != nil {
				return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusBadRequest, Body: "the request body is not valid base64"}, nil
			}
			body = b
		}
		path := strings.TrimPrefix(ev.RawPath, prefix)
		if path == "" {
			path = "/"
		}
		target := path
		if ev.RawQueryString != "" {
			target += "?" + ev.RawQueryString
		}
		u, err := url.ParseRequestURI(target)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusBadRequest, Body: "the request path is not valid"}, nil
		}
		r, err := http.NewRequestWithContext(ctx, ev.RequestContext.HTTP.Method, u.String(), bytes.NewReader(body))
		if err != nil {
			return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusBadRequest, Body: "the request is not valid"}, nil
		}
		for k, v := range ev.Headers {
			// API Gateway joins repeated headers with commas.
			r.Header.Set(k, v)
		}
		if len(ev.Cookies) > 0 {
			r.Header.Set("Cookie", strings.Join(ev.Cookies, "; "))
		}
		r.Host = r.Header.Get("Host")
		r.RemoteAddr = ev.RequestContext.HTTP.SourceIP
		w := &recorder{header: http.Header{}}
		s.ServeHTTP(w, r)
		out := events.APIGatewayV2HTTPResponse{StatusCode: w.status, Headers: map[string]string{}}
		if out.StatusCode == 0 {
			out.StatusCode = http.StatusOK
		}
		for k, v := range w.header {
			out.Headers[k] = strings.Join(v, ", ")
		}
		if utf8.Valid(w.body.Bytes()) {
			out.Body = w.body.String()
		} else {
			out.Body, out.IsBase64Encoded = base64.StdEncoding.EncodeToString(w.body.Bytes()), true
		}
		return out, nil
	}
}

// recorder is the http.ResponseWriter LambdaHandler hands to the sandbox.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *recorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(b)
}
