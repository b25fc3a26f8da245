package invoicedoc

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Rendering cost and size of a document: 1 line, and 200 lines of 240
// characters (41 pages).
func BenchmarkDocuments(b *testing.B) {
	long := strings.Repeat("Entretien du réseau d'eau potable — secteur Croix-Rousse, ", 4)
	for _, n := range []int{1, 200} {
		inv := issued(b, n, func(i int) string { return fmt.Sprintf("%03d %s", i+1, long) })
		at := time.Date(2026, 4, 15, 8, 0, 0, 0, time.UTC)
		b.Run(fmt.Sprintf("pdf-%d-lines", n), func(b *testing.B) {
			var size int
			for b.Loop() {
				doc, err := PDF(Input{Invoice: inv, Created: at})
				if err != nil {
					b.Fatal(err)
				}
				size = len(doc)
			}
			b.ReportMetric(float64(size), "bytes/doc")
		})
		b.Run(fmt.Sprintf("facturx-%d-lines", n), func(b *testing.B) {
			var size int
			for b.Loop() {
				cii, err := CII(inv, nil)
				if err != nil {
					b.Fatal(err)
				}
				doc, err := FacturX(Input{Invoice: inv, Created: at}, cii)
				if err != nil {
					b.Fatal(err)
				}
				size = len(doc)
			}
			b.ReportMetric(float64(size), "bytes/doc")
		})
	}
}
