package openapi_test

import (
	"bytes"
	"encoding/json"
	auditapi "github.com/modupay/modupay/shared/handlers/audit"
	"net/http"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"gopkg.in/yaml.v3"

	"github.com/modupay/modupay/shared/credential"
	"github.com/modupay/modupay/shared/handlers/checkout"
	"github.com/modupay/modupay/shared/handlers/dashboard"
	"github.com/modupay/modupay/shared/handlers/docs"
	"github.com/modupay/modupay/shared/handlers/invoices"
	"github.com/modupay/modupay/shared/handlers/organizations"
	"github.com/modupay/modupay/shared/handlers/paymentorders"
	"github.com/modupay/modupay/shared/handlers/payments"
	"github.com/modupay/modupay/shared/handlers/tokens"
	"github.com/modupay/modupay/shared/handlers/webhooks"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/openapi"
	"github.com/modupay/modupay/shared/organization"
)

func mustValidator(t *testing.T) *openapi.Validator {
	t.Helper()
	v, err := openapi.NewValidator()
	if err != nil {
		t.Fatalf("NewValidator: %v", err)
	}
	return v
}

func TestLoadValidatesTheDocument(t *testing.T) {
	doc, err := openapi.Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got, want := doc.OpenAPI, "3.0.3"; got != want {
		t.Errorf("openapi = %q, want %q", got, want)
	}
	var servers []string
	for _, s := range doc.Servers {
		servers = append(servers, s.URL)
	}
	if want := []string{"http://127.0.0.1:3000", "https://api.sandbox.modupay.fr", "https://api.modupay.fr"}; !slices.Equal(servers, want) {
		t.Errorf("servers = %v, want %v", servers, want)
	}
	tags := map[string]bool{}
	for _, tag := range doc.Tags {
		tags[tag.Name] = true
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + path
			if op.OperationID == "" || op.Summary == "" {
				t.Errorf("%s: operationId and summary are required", key)
			}
			if len(op.Tags) != 1 || !tags[op.Tags[0]] {
				t.Errorf("%s: tags = %v, want one declared tag", key, op.Tags)
			}
			if op.Responses.Value("500") == nil {
				t.Errorf("%s: every route can answer 500 (the edge turns panics into it)", key)
			}
			for code, r := range op.Responses.Map() {
				if h := r.Value.Headers["X-Request-Id"]; h == nil || !h.Value.Required {
					t.Errorf("%s %s: X-Request-Id must be a required response header", key, code)
				}
			}
			if method == http.MethodPost && op.Security == nil && !hasParam(op, "header", "Idempotency-Key") {
				t.Errorf("%s: a Bearer POST must document Idempotency-Key", key)
			}
		}
	}
}

func hasParam(op *openapi3.Operation, in, name string) bool {
	for _, p := range op.Parameters {
		if p.Value.In == in && p.Value.Name == name {
			return true
		}
	}
	return false
}

func TestJSONIsTheSameDocument(t *testing.T) {
	js, err := openapi.JSON()
	if err != nil {
		t.Fatalf("JSON: %v", err)
	}
	if !json.Valid(js) {
		t.Fatal("JSON() is not valid JSON")
	}
	if !bytes.HasPrefix(js, []byte("{\n  \"openapi\": \"3.0.3\",\n  \"info\"")) {
		t.Errorf("JSON() does not keep the YAML's key order: %.60q", js)
	}
	fromJSON, err := openapi3.NewLoader().LoadFromData(js)
	if err != nil {
		t.Fatalf("load JSON: %v", err)
	}
	fromYAML, err := openapi.Load()
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	a, _ := json.Marshal(fromJSON)
	b, _ := json.Marshal(fromYAML)
	if !bytes.Equal(a, b) {
		t.Error("the JSON and YAML forms load into different documents")
	}

	// Each call returns its own copy.
	js[0], js[len(js)-2] = 'X', 'X'
	again, _ := openapi.JSON()
	if again[0] != '{' {
		t.Error("JSON() returned the cached slice itself")
	}
	y := openapi.YAML()
	y[0] = 'X'
	if openapi.YAML()[0] == 'X' {
		t.Error("YAML() returned the embedded slice itself")
	}
}

func TestYAMLToJSONKeepsTypes(t *testing.T) {
	got, err := openapi.YAMLToJSON([]byte("b: 1\na: [true, null, 1.5, '2', 2024-01-01, x]\n'200': {c: <d>}\n"))
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, got); err != nil {
		t.Fatal(err)
	}
	want := `{"b":1,"a":[true,null,1.5,"2","2024-01-01","x"],"200":{"c":"<d>"}}`
	if compact.String() != want {
		t.Errorf("YAMLToJSON = %s, want %s", compact.String(), want)
	}
	if _, err := openapi.YAMLToJSON([]byte("a: 1\na: 2\n")); err == nil {
		t.Error("a duplicate key must be an error")
	}
}

// organizationSample is what GET /v1/organizations/{org_id} answers for the
// seed's quickstart organisation, rendered by the Go type itself.
func organizationSample(t *testing.T) []byte {
	t.Helper()
	at := time.Date(2024, 2, 1, 9, 30, 0, 0, time.UTC)
	b, err := json.Marshal(organization.Organization{
		ID: "org-01928c3e-5b7a-7c1d-9e2f-3a4b5c6d7e8f", PartnerID: "ptn-1", Type: organization.TypePublicEntity,
		Name: "Mairie de Lyon", LegalName: "Mairie de Lyon", SIRET: "21690123400019", SIREN: "216901234",
		VATNumber: "FR21216901234",
		Address:   organization.Address{Line1: "1 Place de la Comédie", PostalCode: "69001", City: "Lyon", Country: "FR"},
		Status:    "active", CreatedAt: at, UpdatedAt: at,
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// edit decodes a JSON object, applies change and encodes it again.
func edit(t *testing.T, body []byte, change func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	change(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestValidateOrganizationResponses(t *testing.T) {
	v := mustValidator(t)
	sample := organizationSample(t)
	jsonHeader := func(extra ...string) http.Header {
		h := http.Header{}
		h.Set("Content-Type", "application/json")
		h.Set("X-Request-Id", "Vx1b3gq2CGYEJ5w=")
		for i := 0; i+1 < len(extra); i += 2 {
			h.Set(extra[i], extra[i+1])
		}
		return h
	}
	errorBody := func(code, typ string) []byte {
		b, _ := json.Marshal(httpapi.ErrorBody{Error: httpapi.ErrorDetail{Type: typ, Code: code, Message: "organization not found", RequestID: "Vx1b3gq2CGYEJ5w="}})
		return b
	}
	tests := []struct {
		name   string
		status int
		header http.Header
		body   []byte
		valid  bool
	}{
		{"the Go type", 200, jsonHeader(), sample, true},
		{"without vat_number (omitempty)", 200, jsonHeader(), edit(t, sample, func(m map[string]any) { delete(m, "vat_number") }), true},
		{"with address.line2", 200, jsonHeader(), edit(t, sample, func(m map[string]any) { m["address"].(map[string]any)["line2"] = "Bâtiment A" }), true},
		{"not found", 404, jsonHeader(), errorBody("not_found", "invalid_request_error"), true},

		{"an unknown field", 200, jsonHeader(), edit(t, sample, func(m map[string]any) { m["partner_id"] = "ptn-1" }), false},
		{"a missing field", 200, jsonHeader(), edit(t, sample, func(m map[string]any) { delete(m, "siren") }), false},
		{"vat_number null", 200, jsonHeader(), edit(t, sample, func(m map[string]any) { m["vat_number"] = nil }), false},
		{"an unknown type", 200, jsonHeader(), edit(t, sample, func(m map[string]any) { m["type"] = "association" }), false},
		{"a SIRET of 13 digits", 200, jsonHeader(), edit(t, sample, func(m map[string]any) { m["siret"] = "2169012340001" }), false},
		{"created_at not a date-time", 200, jsonHeader(), edit(t, sample, func(m map[string]any) { m["created_at"] = "01/02/2024" }), false},
		{"an unknown address field", 200, jsonHeader(), edit(t, sample, func(m map[string]any) { m["address"].(map[string]any)["region"] = "ARA" }), false},
		{"an undocumented status", 418, jsonHeader(), sample, false},
		{"a status the route does not answer", 409, jsonHeader(), errorBody("conflict", "invalid_request_error"), false},
		{"an unknown error code", 404, jsonHeader(), errorBody("gone", "invalid_request_error"), false},
		{"no X-Request-Id", 200, http.Header{"Content-Type": {"application/json"}}, sample, false},
		{"another content type", 200, jsonHeader("Content-Type", "text/plain"), sample, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := v.ValidateResponse("GET", "/v1/organizations/org-01928c3e-5b7a-7c1d-9e2f-3a4b5c6d7e8f", "", nil, tt.status, tt.header, tt.body)
			if tt.valid && err != nil {
				t.Errorf("want valid, got %v", err)
			}
			if !tt.valid && err == nil {
				t.Error("want an error, got none")
			}
		})
	}

	// The list shape, rendered by the Go types.
	list, _ := json.Marshal(httpapi.List[organization.Organization]{
		Data:       []organization.Organization{},
		Pagination: httpapi.NewPagination(httpapi.PageRequest{Page: 1, Size: 20}, -1, ""),
	})
	if err := v.ValidateResponse("GET", "/v1/organizations", "type=company", nil, 200, jsonHeader(), list); err != nil {
		t.Errorf("an empty, uncounted list: %v", err)
	}
	if err := v.ValidateResponse("GET", "/v1/organizations/org-1/invoices", "", nil, 200, jsonHeader(), sample); err == nil {
		t.Error("an undocumented path must be an error")
	}
	if err := v.ValidateResponse("PUT", "/v1/organizations/org-1", "", nil, 200, jsonHeader(), sample); err == nil {
		t.Error("an undocumented method must be an error")
	}
}

func TestValidatorIsSafeForConcurrentUse(t *testing.T) {
	v := mustValidator(t)
	sample := organizationSample(t)
	h := http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"r1"}}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if err := v.ValidateResponse("GET", "/v1/organizations/org-1", "", nil, 200, h, sample); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestValidateAPIClientResponses(t *testing.T) {
	v := mustValidator(t)
	h := http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"r1"}}
	at := time.Date(2024, 2, 1, 9, 45, 0, 0, time.UTC)
	c := credential.Client{ID: "cli-1", PartnerID: "ptn-1", OrgID: "org-1", Scope: "organization", Role: "analyst", Status: credential.StatusActive, CreatedAt: at}

	active, _ := json.Marshal(credential.Public(c)) // no name, nil portfolio ids, revoked_at null
	if err := v.ValidateResponse("DELETE", "/v1/organizations/org-1/api_clients/cli-1", "", nil, 200, h, active); err != nil {
		t.Errorf("an active client: %v", err)
	}
	c.Status, c.RevokedAt = credential.StatusRevoked, &at
	revoked, _ := json.Marshal(credential.Public(c))
	if err := v.ValidateResponse("DELETE", "/v1/organizations/org-1/api_clients/cli-1", "", nil, 200, h, revoked); err != nil {
		t.Errorf("a revoked client: %v", err)
	}
	if err := v.ValidateResponse("DELETE", "/v1/organizations/org-1/api_clients/cli-1", "", nil, 200, h,
		edit(t, active, func(m map[string]any) { delete(m, "revoked_at") })); err == nil {
		t.Error("revoked_at is always present, null until revoked")
	}
	if err := v.ValidateResponse("DELETE", "/v1/organizations/org-1/api_clients/cli-1", "", nil, 200, h,
		edit(t, active, func(m map[string]any) { m["portfolio_ids"] = nil })); err == nil {
		t.Error("portfolio_ids is always an array")
	}
}

// templateRoutes reads the HttpApi events of template.yaml.
func templateRoutes(t *testing.T) []string {
	t.Helper()
	src, err := os.ReadFile("../../template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var tpl struct {
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				Events map[string]struct {
					Type       string `yaml:"Type"`
					Properties struct {
						Path   string `yaml:"Path"`
						Method string `yaml:"Method"`
					} `yaml:"Properties"`
				} `yaml:"Events"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(src, &tpl); err != nil {
		t.Fatalf("template.yaml: %v", err)
	}
	var keys []string
	for id, r := range tpl.Resources {
		if id == "SandboxBankFunction" {
			// Not ModuPay's API: the sandbox stage's stand-in for Aiia
			// (shared/aiiasandbox), whose routes are Aiia's.
			continue
		}
		for _, ev := range r.Properties.Events {
			if ev.Type == "HttpApi" {
				keys = append(keys, strings.ToUpper(ev.Properties.Method)+" "+ev.Properties.Path)
			}
		}
	}
	sort.Strings(keys)
	return keys
}

func handlerRoutes() []httpapi.Route {
	var routes []httpapi.Route
	routes = append(routes, (&tokens.Handlers{}).Routes()...)
	routes = append(routes, (&organizations.Handlers{}).Routes()...)
	routes = append(routes, (&docs.Handlers{}).Routes()...)
	routes = append(routes, (&invoices.Handlers{}).Routes()...)
	routes = append(routes, (&payments.Handlers{}).Routes()...)
	routes = append(routes, (&webhooks.Handlers{}).Routes()...)
	routes = append(routes, (&checkout.Handlers{}).Routes()...)
	routes = append(routes, (&auditapi.Handlers{}).Routes()...)
	routes = append(routes, (&paymentorders.Handlers{}).Routes()...)
	routes = append(routes, (&dashboard.Handlers{}).Routes()...)
	return routes
}

func TestRoutesMatchTemplateAndHandlers(t *testing.T) {
	v := mustValidator(t)
	documented := v.Routes()
	if !sort.StringsAreSorted(documented) {
		t.Error("Routes() is not sorted")
	}
	if len(documented) != 114 {
		t.Errorf("Routes() has %d operations, want 114: %v", len(documented), documented)
	}
	if tpl := templateRoutes(t); !reflect.DeepEqual(documented, tpl) {
		t.Errorf("documented routes differ from template.yaml:\n doc: %v\n tpl: %v", documented, tpl)
	}

	var served []string
	for _, r := range handlerRoutes() {
		served = append(served, r.Key)
	}
	sort.Strings(served)
	if !reflect.DeepEqual(documented, served) {
		t.Errorf("documented routes differ from the handlers':\n doc:    %v\n served: %v", documented, served)
	}
}

func TestSecurityMatchesAccess(t *testing.T) {
	doc, err := openapi.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range handlerRoutes() {
		method, path, _ := strings.Cut(r.Key, " ")
		op := doc.Paths.Value(path).GetOperation(method)
		if op == nil {
			t.Errorf("%s is not documented", r.Key)
			continue
		}
		public := false
		if op.Security != nil {
			public = len(*op.Security) == 0
			for _, req := range *op.Security {
				public = public || len(req) == 0
			}
		}
		if got, want := public, r.Access == httpapi.Public; got != want {
			t.Errorf("%s: documented as public = %v, served as public = %v", r.Key, got, want)
		}
	}
}
