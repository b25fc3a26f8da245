package qr_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"

	"github.com/modupay/modupay/shared/qr"
)

// The guide's page URL, as a link's qr_code_data carries it.
const pageURL = "https://api.sandbox.modupay.fr/p/k12blhSwhwVIAhYhM5f_Izk8aPONtVfjzppWh0AInnk"

func decode(t *testing.T, data string) image.Image {
	t.Helper()
	b, err := qr.PNG(data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Fatalf("not a PNG: % x", b[:min(8, len(b))])
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if r := img.Bounds(); r.Dx() != cfg.Width || r.Dy() != cfg.Height {
		t.Fatalf("bounds %v, header %dx%d", r, cfg.Width, cfg.Height)
	}
	return img
}

func dark(img image.Image, x, y int) bool {
	g := color.GrayModel.Convert(img.At(x, y)).(color.Gray)
	return g.Y < 128
}

// module tells whether the module at (row, col) of the symbol (quiet zone
// excluded) is dark, reading the centre of its square.
func module(img image.Image, row, col int) bool {
	return dark(img, (col+qr.QuietZone)*qr.ModulePixels+qr.ModulePixels/2, (row+qr.QuietZone)*qr.ModulePixels+qr.ModulePixels/2)
}

func TestPNG(t *testing.T) {
	img := decode(t, pageURL)
	r := img.Bounds()
	if r.Dx() != r.Dy() {
		t.Fatalf("%dx%d, want a square", r.Dx(), r.Dy())
	}
	if r.Dx()%qr.ModulePixels != 0 {
		t.Fatalf("side %d is not a whole number of %d px modules", r.Dx(), qr.ModulePixels)
	}
	// A symbol of version v has 17+4v modules a side; the page URL (76 bytes)
	// needs version 5 at level M: 37 modules, 45 with the quiet zone.
	modules := r.Dx()/qr.ModulePixels - 2*qr.QuietZone
	if (modules-17)%4 != 0 || modules < 21 || modules > 177 {
		t.Fatalf("%d modules a side is no QR version", modules)
	}
	if modules != 37 {
		t.Errorf("%d modules a side, want 37 (version 5-M)", modules)
	}
	if r.Dx() != 360 {
		t.Errorf("side %d px, want 360", r.Dx())
	}
	// The quiet zone is white all around.
	q := qr.QuietZone * qr.ModulePixels
	for i := 0; i < r.Dx(); i++ {
		for j := 0; j < q; j++ {
			for _, p := range [][2]int{{i, j}, {j, i}, {i, r.Dx() - 1 - j}, {r.Dx() - 1 - j, i}} {
				if dark(img, p[0], p[1]) {
					t.Fatalf("pixel %v of the quiet zone is dark", p)
				}
			}
		}
	}
	// Every module is a uniform square of ModulePixels.
	for y := 0; y < r.Dy(); y++ {
		for x := 0; x < r.Dx(); x++ {
			if dark(img, x, y) != dark(img, x-x%qr.ModulePixels, y-y%qr.ModulePixels) {
				t.Fatalf("pixel (%d,%d) differs from its module", x, y)
			}
		}
	}
	// The three finder patterns: a dark 7×7 ring around a light ring around a
	// dark 3×3 square.
	for _, corner := range [][2]int{{0, 0}, {0, modules - 7}, {modules - 7, 0}} {
		for i := 0; i < 7; i++ {
			for j := 0; j < 7; j++ {
				ring := max(abs(i-3), abs(j-3))
				want := ring != 2
				if got := module(img, corner[0]+i, corner[1]+j); got != want {
					t.Fatalf("finder at %v: module (%d,%d) dark=%v", corner, i, j, got)
				}
			}
		}
	}
	// Error correction level M: the format information's first two bits
	// (row 8, columns 0 and 1), masked with 10, read 10 for M (00).
	if !module(img, 8, 0) || module(img, 8, 1) {
		t.Errorf("format bits %v%v, want level M (dark, light)", module(img, 8, 0), module(img, 8, 1))
	}
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// Longer data makes a larger symbol, still square; the local stack's URLs
// are a little shorter than the sandbox's.
func TestPNGSizes(t *testing.T) {
	for _, data := range []string{"http://127.0.0.1:3000/p/abc", pageURL, pageURL + "?" + strings.Repeat("x", 300)} {
		img := decode(t, data)
		r := img.Bounds()
		if r.Dx() != r.Dy() || r.Dx() < 200 || r.Dx() > 1200 {
			t.Errorf("%.40s…: %dx%d", data, r.Dx(), r.Dy())
		}
	}
}

func TestPNGRefusesWhatItCannotEncode(t *testing.T) {
	if _, err := qr.PNG(""); err == nil {
		t.Error("empty data: want an error")
	}
	if _, err := qr.PNG(strings.Repeat("x", 3000)); err == nil {
		t.Error("3000 bytes at level M: want an error (the maximum is 2331)")
	}
}
