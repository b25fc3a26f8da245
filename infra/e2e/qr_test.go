package e2e

import (
	"bytes"
	"image/png"
	"testing"

	"github.com/modupay/modupay/shared/qr"
)

// A link's QR code is served as a PNG through the gateway: API Gateway's
// isBase64Encoded answer arrives as the image's bytes, and it encodes the
// link's qr_code_data.
func TestPaymentLinkQRCode(t *testing.T) {
	iw := newInvoiceWorld(t)
	inv := iw.issuedInvoice(t)
	l := iw.link(linkBody(inv, ""), 201).json(t)
	id, data := l["id"].(string), l["qr_code_data"].(string)
	qrPath := "/v1/payment_links/" + id + "/qr.png"

	a := iw.do(exchange{method: "GET", route: "/v1/payment_links/{link_id}/qr.png", path: qrPath, header: iw.h(), status: 200})
	if ct := a.header.Get("Content-Type"); ct != "image/png" {
		t.Errorf("Content-Type %q, want image/png", ct)
	}
	if cc := a.header.Get("Cache-Control"); cc != "private, max-age=300" {
		t.Errorf("Cache-Control %q, want private, max-age=300", cc)
	}
	if !bytes.HasPrefix(a.body, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("not a PNG (still base64?): %.40q", a.body)
	}
	img, err := png.Decode(bytes.NewReader(a.body))
	if err != nil {
		t.Fatalf("png.Decode: %v", err)
	}
	b := img.Bounds()
	if b.Dx() != b.Dy() {
		t.Errorf("%dx%d, want a square", b.Dx(), b.Dy())
	}
	// 8 px per module: version 1 with its quiet zone is 29 modules (232 px);
	// a page URL needs a few versions more, far from the 1480 px of version 40.
	if b.Dx() < 232 || b.Dx() > 800 || b.Dx()%qr.ModulePixels != 0 {
		t.Errorf("side %d px, want whole %d px modules between 232 and 800", b.Dx(), qr.ModulePixels)
	}
	// It is the QR code of the link's qr_code_data, not of anything else.
	want, err := qr.PNG(data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.body, want) {
		t.Errorf("the image is not the QR code of qr_code_data %s", data)
	}

	// It stays readable once the link is deactivated (its page says so).
	iw.do(exchange{method: "POST", route: "/v1/payment_links/{link_id}/deactivate", path: "/v1/payment_links/" + id + "/deactivate", header: iw.h(), status: 200})
	if again := iw.do(exchange{method: "GET", route: "/v1/payment_links/{link_id}/qr.png", path: qrPath, header: iw.h(), status: 200}); !bytes.Equal(again.body, a.body) {
		t.Error("the QR code changed with the link's status")
	}

	// Errors are the link's JSON errors.
	miss := iw.do(exchange{method: "GET", route: "/v1/payment_links/{link_id}/qr.png", path: "/v1/payment_links/pl-01900000-0000-7000-8000-000000000000/qr.png",
		header: iw.h(), status: 404})
	if miss.errCode(t) != "not_found" || miss.header.Get("Content-Type") != "application/json" {
		t.Errorf("missing link: %s %s", miss.header.Get("Content-Type"), miss.body)
	}
	if a := iw.do(exchange{method: "GET", route: "/v1/payment_links/{link_id}/qr.png", path: qrPath, header: bearer(iw.token), status: 400}); a.errParam(t) != "X-Entity-Id" {
		t.Errorf("without X-Entity-Id: %s", a.body)
	}
	iw.do(exchange{method: "GET", route: "/v1/payment_links/{link_id}/qr.png", path: qrPath, status: 401})
}
