package e2e

import (
	"strings"
	"testing"
)

// The payment page wears the partner's white label, overridden by the
// organisation's; ModuPay's name never shows.
func TestPaymentPageBranding(t *testing.T) {
	iw := newInvoiceWorld(t)
	inv := iw.issuedInvoice(t)
	page := iw.link(linkBody(inv, ""), 201).json(t)["payment_page_url"].(string)
	path := page[strings.Index(page, "/p/"):]
	show := func() string {
		return string(iw.do(exchange{method: "GET", route: "/p/{token}", path: path, status: 200}).body)
	}
	if body := show(); !strings.Contains(body, "ptn-1") || strings.Contains(strings.ToLower(body), "modupay") {
		t.Errorf("default page: want the partner's name and no ModuPay brand")
	}
	put := func(route, p, body string, status int) answer {
		return iw.do(exchange{method: "PUT", route: route, path: p, header: bearer(iw.token), body: body, status: status})
	}
	put("/v1/branding", "", `{"display_name":"Régies de Lyon","logo_url":"https://cdn.lyon.fr/logo.png","primary_color":"#b00020"}`, 200)
	body := show()
	for _, want := range []string{"Régies de Lyon", `src="https://cdn.lyon.fr/logo.png"`, "#B00020"} {
		if !strings.Contains(body, want) {
			t.Errorf("partner-branded page lacks %q", want)
		}
	}
	put("/v1/organizations/{org_id}/branding", "/v1/organizations/"+iw.org+"/branding", `{"display_name":"Ville de Lyon — Eau"}`, 200)
	body = show()
	if !strings.Contains(body, "Ville de Lyon — Eau") || !strings.Contains(body, "cdn.lyon.fr") {
		t.Errorf("the organisation's name should override the partner's, keeping the partner's logo")
	}
	got := iw.do(exchange{method: "GET", route: "/v1/organizations/{org_id}/branding", path: "/v1/organizations/" + iw.org + "/branding", header: bearer(iw.token), status: 200}).json(t)
	if got["display_name"] != "Ville de Lyon — Eau" || got["logo_url"] != "" {
		t.Errorf("organisation branding as set = %v", got)
	}
	if got := iw.do(exchange{method: "GET", route: "/v1/branding", header: bearer(iw.token), status: 200}).json(t); got["primary_color"] != "#B00020" {
		t.Errorf("partner branding = %v", got)
	}
	for body, param := range map[string]string{
		`{"primary_color":"red;}body{display:none"}`: "primary_color",
		`{"primary_color":"#FFFF00"}`:                "primary_color",
		`{"logo_url":"http://insecure/logo.png"}`:    "logo_url",
		`{"font":"Comic Sans"}`:                      "font",
	} {
		if a := put("/v1/branding", "", body, 422); a.errParam(t) != param {
			t.Errorf("%s: param %q, want %q", body, a.errParam(t), param)
		}
	}
	// Organisation tokens cannot set the partner's branding.
	cli := iw.do(exchange{method: "POST", route: "/v1/organizations/{org_id}/api_clients", path: "/v1/organizations/" + iw.org + "/api_clients",
		header: bearer(iw.token), body: `{"role":"admin"}`, status: 201}).json(t)
	orgTok := iw.world.token(cli["client_id"].(string), cli["client_secret"].(string))
	iw.do(exchange{method: "PUT", route: "/v1/branding", header: bearer(orgTok), body: `{"display_name":"x"}`, status: 403})
	iw.do(exchange{method: "PUT", route: "/v1/organizations/{org_id}/branding", path: "/v1/organizations/" + iw.org + "/branding", header: bearer(orgTok), body: `{"display_name":"Eau"}`, status: 200})
}
