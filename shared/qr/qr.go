// Package qr draws QR codes as PNG images: the payment link's qr_code_data
// (its payment page URL), for partners that print or display it.
package qr

import (
	"errors"
	"fmt"

	qrcode "github.com/skip2/go-qrcode"
)

const (
	// ModulePixels is the side of one module (one QR "dot") in pixels: large
	// enough to print, small enough to stay a few kilobytes.
	ModulePixels = 8
	// QuietZone is the white margin around the symbol, in modules (the 4 the
	// standard asks for).
	QuietZone = 4
)

// PNG encodes data as a QR code at error correction level M (15 % of the
// symbol recoverable), black on white, with a quiet zone of QuietZone modules
// and ModulePixels pixels per module. The image is square.
func PNG(data string) ([]byte, error) {
	if data == "" {
		return nil, errors.New("qr: nothing to encode")
	}
	q, err := qrcode.New(data, qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("qr: %w", err)
	}
	q.DisableBorder = false // the library's border is the 4-module quiet zone
	// A negative size is a scale: each module (quiet zone included) is drawn
	// ModulePixels wide, so the edges stay sharp.
	b, err := q.PNG(-ModulePixels)
	if err != nil {
		return nil, fmt.Errorf("qr: %w", err)
	}
	return b, nil
}
