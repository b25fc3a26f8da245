package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"os"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// writeChart draws, per route with a floor, two bars: the route through the
// gateway and the same DynamoDB calls issued directly, each to its p50 with
// a thinner extension to its p95, on one linear scale in milliseconds.
func writeChart(path string, routes []routeResult) error {
	var shown []routeResult
	maxMs := 0.0
	for _, r := range routes {
		if r.SDKP50Ms == 0 {
			continue
		}
		shown = append(shown, r)
		maxMs = max(maxMs, r.P95Ms, r.SDKP95Ms)
	}
	const (
		labelW, barW, rowH, top, left = 430, 420, 30, 40, 10
	)
	width := left + labelW + barW + 80
	height := top + rowH*len(shown) + 40
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	draw.Draw(img, img.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	ink := color.RGBA{0x20, 0x20, 0x20, 0xff}
	routeC, routeTail := color.RGBA{0x1f, 0x4e, 0x9a, 0xff}, color.RGBA{0x9d, 0xb5, 0xdd, 0xff}
	sdkC, sdkTail := color.RGBA{0xd0, 0x7a, 0x14, 0xff}, color.RGBA{0xf0, 0xc9, 0x94, 0xff}
	text(img, left, 16, ink, "p50 (solid) and p95 (light) in ms: route through the gateway (blue), same DynamoDB calls by the SDK (orange)")
	scale := func(v float64) int {
		if maxMs == 0 {
			return 0
		}
		return int(v / maxMs * barW)
	}
	bar := func(y, h int, from, to float64, c color.Color) {
		x0, x1 := left+labelW+scale(from), left+labelW+scale(to)
		draw.Draw(img, image.Rect(x0, y, max(x1, x0+1), y+h), image.NewUniform(c), image.Point{}, draw.Src)
	}
	for i, r := range shown {
		y := top + i*rowH
		name := r.Route
		if len(name) > 60 {
			name = name[:57] + "..."
		}
		text(img, left, y+14, ink, name)
		bar(y+2, 10, 0, r.P50Ms, routeC)
		bar(y+4, 6, r.P50Ms, r.P95Ms, routeTail)
		bar(y+14, 10, 0, r.SDKP50Ms, sdkC)
		bar(y+16, 6, r.SDKP50Ms, r.SDKP95Ms, sdkTail)
		text(img, left+labelW+barW+8, y+14, ink, fmt.Sprintf("x%.2f", r.RatioP50))
	}
	axisY := top + rowH*len(shown) + 4
	draw.Draw(img, image.Rect(left+labelW, axisY, left+labelW+barW, axisY+1), image.NewUniform(ink), image.Point{}, draw.Src)
	for _, f := range []float64{0, 0.25, 0.5, 0.75, 1} {
		x := left + labelW + int(f*barW)
		draw.Draw(img, image.Rect(x, axisY, x+1, axisY+5), image.NewUniform(ink), image.Point{}, draw.Src)
		text(img, x-8, axisY+18, ink, fmt.Sprintf("%.1f", f*maxMs))
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := png.Encode(out, img); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func text(img draw.Image, x, y int, c color.Color, s string) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}
