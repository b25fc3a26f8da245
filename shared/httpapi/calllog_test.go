package httpapi_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modupay/modupay/shared/audit/apicall"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/httpapi"
)

type memCallLog struct {
	calls []apicall.Call
	err   error
}

func (m *memCallLog) Record(_ context.Context, c apicall.Call) error {
	m.calls = append(m.calls, c)
	return m.err
}

// The edge records one call per request whose caller is known, under the
// tenant it resolved; none for a public route or a refused token; a
// failing call log is logged and the response stands.
func TestEdgeRecordsOneCallPerAuthenticatedRequest(t *testing.T) {
	log := &memCallLog{}
	var logs bytes.Buffer
	t0 := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	api, err := httpapi.New(httpapi.Options{Verifier: staticVerifier{}, Calls: log, Now: func() time.Time { return t0 },
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))},
		httpapi.Route{Key: "GET /v1/organizations/{org_id}", Tenancy: httpapi.OrgInPath, Action: auth.ActionOrganizationsRead,
			Handler: func(context.Context, *httpapi.Request) (*httpapi.Response, error) {
				return httpapi.JSON(http.StatusOK, map[string]string{})
			}},
		httpapi.Route{Key: "GET /public", Access: httpapi.Public,
			Handler: func(context.Context, *httpapi.Request) (*httpapi.Response, error) {
				return httpapi.JSON(http.StatusOK, map[string]string{})
			}},
	)
	if err != nil {
		t.Fatal(err)
	}
	get := func(route, path, authz string) int {
		t.Helper()
		h := map[string]string{}
		if authz != "" {
			h["authorization"] = authz
		}
		resp, err := api.Handle(context.Background(), events.APIGatewayV2HTTPRequest{RouteKey: route, RawPath: path, Headers: h,
			PathParameters: map[string]string{"org_id": "org-9"},
			RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-" + path,
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: path, SourceIP: "203.0.113.42"}}})
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	get("GET /v1/organizations/{org_id}", "/v1/organizations/org-9", "Bearer t")
	get("GET /public", "/public", "")
	get("GET /v1/organizations/{org_id}", "/v1/organizations/org-9", "")
	if len(log.calls) != 1 {
		t.Fatalf("recorded %d calls, want 1 (the authenticated one): %+v", len(log.calls), log.calls)
	}
	want := apicall.Call{RequestID: "req-/v1/organizations/org-9", Timestamp: t0, PartnerID: "ptn-1", OrgID: "org-9", Method: "GET",
		Route: "GET /v1/organizations/{org_id}", Status: 200, ClientID: "cli-1", UserType: "partner", IPAddress: "203.0.113.42"}
	if got := log.calls[0]; got != want {
		t.Errorf("call = %+v\nwant   %+v", got, want)
	}

	log.err = errors.New("queue down")
	if status := get("GET /v1/organizations/{org_id}", "/v1/organizations/org-9", "Bearer t"); status != 200 {
		t.Errorf("status with the call log down = %d, want 200", status)
	}
	if !bytes.Contains(logs.Bytes(), []byte(`"msg":"api call not recorded"`)) {
		t.Errorf("the failed send is not logged: %s", logs.String())
	}
}
