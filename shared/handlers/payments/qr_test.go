package payments_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image/png"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/handlers/payments"
	"github.com/modupay/modupay/shared/httpapi"
	"github.com/modupay/modupay/shared/openapi"
	"github.com/modupay/modupay/shared/payment"
	"github.com/modupay/modupay/shared/qr"
)

const (
	linkID  = "pl-987fcdeb-51a2-43f1-b789-123456789abc"
	orgID   = "org-01928c3e-5b7a-7c1d-9e2f-3a4b5c6d7e8f"
	pageURL = "https://api.sandbox.modupay.fr/p/k12blhSwhwVIAhYhM5f_Izk8aPONtVfjzppWh0AInnk"
)

// linkStore holds one link of partner ptn-1, organisation orgID; only
// GetLink is called.
type linkStore struct {
	payment.Store
	link payment.Link
}

func (s linkStore) GetLink(_ context.Context, partnerID, org, id string) (payment.Link, error) {
	if partnerID != s.link.PartnerID || org != s.link.OrgID || id != s.link.ID {
		return payment.Link{}, apperr.E("fake.link", apperr.NotFound, "payment link not found")
	}
	return s.link, nil
}

// tokens maps a token to its principal.
type tokens map[string]auth.Principal

func (v tokens) Verify(token string) (auth.Principal, error) {
	p, ok := v[token]
	if !ok {
		return auth.Principal{}, errors.New("unknown token")
	}
	return p, nil
}

func TestLinkQRCode(t *testing.T) {
	link := payment.Link{ID: linkID, PartnerID: "ptn-1", OrgID: orgID, Status: payment.LinkDeactivated,
		PaymentPageURL: pageURL, QRCodeData: pageURL}
	h := &payments.Handlers{Payments: &payment.Service{Store: linkStore{link: link}}}
	api, err := httpapi.New(httpapi.Options{NewID: func() string { return "req-1" }, Verifier: tokens{
		"partner":       {ClientID: "c1", PartnerID: "ptn-1", Scope: auth.ScopePartner},
		"other-partner": {ClientID: "c2", PartnerID: "ptn-2", Scope: auth.ScopePartner},
		"analyst":       {ClientID: "c3", PartnerID: "ptn-1", OrgID: orgID, Scope: auth.ScopeOrganization, Role: auth.RoleAnalyst},
		"other-org":     {ClientID: "c4", PartnerID: "ptn-1", OrgID: "org-2", Scope: auth.ScopeOrganization, Role: auth.RoleAdmin},
	}}, h.Routes()...)
	if err != nil {
		t.Fatal(err)
	}
	v, err := openapi.NewValidator()
	if err != nil {
		t.Fatal(err)
	}
	call := func(token, entity, id string, want int) (events.APIGatewayV2HTTPResponse, []byte) {
		t.Helper()
		path := "/v1/payment_links/" + id + "/qr.png"
		hdr := map[string]string{"authorization": "Bearer " + token}
		if entity != "" {
			hdr["x-entity-id"] = entity
		}
		resp, err := api.Handle(context.Background(), events.APIGatewayV2HTTPRequest{RouteKey: "GET /v1/payment_links/{link_id}/qr.png",
			RawPath: path, Headers: hdr, PathParameters: map[string]string{"link_id": id},
			RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "req-1",
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: path}}})
		if err != nil {
			t.Fatal(err)
		}
		body := []byte(resp.Body)
		if resp.IsBase64Encoded {
			if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
				t.Fatalf("isBase64Encoded, yet: %v", err)
			}
		}
		if resp.StatusCode != want {
			t.Errorf("%s %s: status %d, want %d; %.200s", token, id, resp.StatusCode, want, body)
		}
		rh := http.Header{}
		for k, val := range resp.Headers {
			rh.Set(k, val)
		}
		if err := v.ValidateResponse("GET", path, "", nil, resp.StatusCode, rh, body); err != nil {
			t.Errorf("%s %s: does not match the document: %v", token, id, err)
		}
		return resp, body
	}

	want, err := qr.PNG(pageURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ token, entity string }{{"partner", orgID}, {"analyst", ""}, {"analyst", orgID}} {
		resp, body := call(c.token, c.entity, linkID, 200)
		if !resp.IsBase64Encoded {
			t.Errorf("%s: a PNG must be base64-encoded for API Gateway", c.token)
		}
		if !bytes.Equal(body, want) {
			t.Errorf("%s: not the QR code of qr_code_data", c.token)
		}
		if ct, cc := resp.Headers["Content-Type"], resp.Headers["Cache-Control"]; ct != "image/png" || cc != "private, max-age=300" {
			t.Errorf("%s: Content-Type %q, Cache-Control %q", c.token, ct, cc)
		}
		img, err := png.Decode(bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", c.token, err)
		}
		if b := img.Bounds(); b.Dx() != b.Dy() || b.Dx() < 200 {
			t.Errorf("%s: %v", c.token, b)
		}
	}

	// Another tenant's link answers exactly like a missing one.
	_, missing := call("partner", orgID, "pl-missing", 404)
	for _, c := range []struct{ token, entity string }{{"other-partner", orgID}, {"partner", "org-2"}, {"other-org", ""}, {"other-org", orgID}} {
		resp, body := call(c.token, c.entity, linkID, 404)
		if resp.IsBase64Encoded || resp.Headers["Content-Type"] != "application/json" || resp.Headers["Cache-Control"] != "no-store" {
			t.Errorf("%s/%s: an error is JSON text, not cached: %v", c.token, c.entity, resp.Headers)
		}
		// An organisation token naming another organisation is told that
		// organisation is not found; every other case, that the link is not.
		if c.token != "other-org" || c.entity == "" {
			if !bytes.Equal(body, missing) {
				t.Errorf("%s/%s: %s, want the missing link's %s", c.token, c.entity, body, missing)
			}
		}
	}
	// A partner token must name the organisation.
	call("partner", "", linkID, 400)
	call("nobody", orgID, linkID, 401)
}
