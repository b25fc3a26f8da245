package invoicedoc

import (
	"bytes"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/modupay/modupay/shared/qr"
)

// run runs a document tool on the file and returns its output; the tools
// come with poppler-utils and qpdf (make test installs them).
func run(t *testing.T, file string, tool string, args ...string) string {
	t.Helper()
	path, err := exec.LookPath(tool)
	if err != nil {
		if testing.Short() {
			t.Skipf("-short: %s is not installed; make test installs it", tool)
		}
		t.Fatalf("%s is missing: make test installs it (infra/ci/need-doctools.sh)", tool)
	}
	out, err := exec.Command(path, append(args, file)...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", tool, args, err, out)
	}
	return string(out)
}

func facturX(t *testing.T, lines int) ([]byte, []byte, string) {
	t.Helper()
	inv := issued(t, lines, func(i int) string { return "Prestation n°" + string(rune('A'+i%26)) })
	cii, err := CII(inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	code, err := qr.PNG("https://pay.example.fr/p/x")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := FacturX(Input{Invoice: inv, PaymentURL: "https://pay.example.fr/p/x", QRPNG: code, Created: time.Date(2026, 4, 15, 8, 0, 0, 0, time.UTC)}, cii)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "facture.pdf")
	if err := os.WriteFile(file, doc, 0o644); err != nil {
		t.Fatal(err)
	}
	return doc, cii, file
}

func TestFacturXEmbedsTheCIIAndReadsBack(t *testing.T) {
	doc, cii, file := facturX(t, 3)
	keep(t, "facturx", doc)
	// The structure is sound: qpdf checks every object and the cross-reference
	// table the rewrite produced.
	if out := run(t, file, "qpdf", "--check"); !strings.Contains(out, "No syntax or stream encoding errors found") {
		t.Errorf("qpdf --check:\n%s", out)
	}
	// The attachment is there, named factur-x.xml, and is the CII byte for byte.
	if list := run(t, file, "pdfdetach", "-list"); !strings.Contains(list, "1: "+FacturXFile) {
		t.Fatalf("pdfdetach -list:\n%s", list)
	}
	out := filepath.Join(t.TempDir(), "out.xml")
	run(t, file, "pdfdetach", "-save", "1", "-o", out)
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, cii) {
		t.Fatal("the embedded XML is not the CII")
	}
	if err := validate(t, got); err != nil {
		t.Errorf("the embedded XML is not valid: %v", err)
	}
	// The PDF still reads as the invoice.
	if txt := strings.Join(text(t, doc), " "); !strings.Contains(txt, "FAC-2026-000042") || !strings.Contains(txt, "Total TTC") {
		t.Error("the Factur-X PDF does not show the invoice")
	}
}

// PDF/A-3B and Factur-X clauses, checked one by one: veraPDF (the reference
// validator) is a Java application no registry of this machine serves, so
// the clauses our writer could break are tests, each with its source.
func TestFacturXMeetsThePDFA3Clauses(t *testing.T) {
	doc, _, file := facturX(t, 2)
	objs, trailer, err := objects(doc)
	if err != nil {
		t.Fatalf("the rewritten document does not parse: %v", err)
	}
	all := bytes.Join(func() [][]byte {
		var out [][]byte
		for _, o := range objs {
			out = append(out, o)
		}
		return out
	}(), nil)
	meta := run(t, file, "pdfinfo", "-meta")
	info := run(t, file, "pdfinfo")
	fonts := run(t, file, "pdffonts")
	field := func(s, name string) string {
		m := regexp.MustCompile(`(?m)^` + name + `:\s+(.*)$`).FindStringSubmatch(s)
		if m == nil {
			return ""
		}
		return strings.TrimSpace(m[1])
	}
	clauses := []struct{ clause, why string }{}
	check := func(ok bool, clause, why string) {
		if !ok {
			clauses = append(clauses, struct{ clause, why string }{clause, why})
		}
	}
	check(bytes.Contains(trailer, []byte("/ID [<")), "ISO 19005-3 6.1.3", "the trailer has an /ID")
	check(bytes.HasPrefix(doc[bytes.IndexByte(doc, '\n')+1:], []byte("%\xe2\xe3\xcf\xd3")), "6.1.2", "a comment of four bytes ≥ 128 follows the header")
	check(strings.Contains(meta, "<pdfaid:part>3</pdfaid:part>") && strings.Contains(meta, "<pdfaid:conformance>B</pdfaid:conformance>"), "6.6.4", "the XMP identifies PDF/A-3B")
	check(strings.Contains(meta, "pdfaExtension:schemas") && strings.Contains(meta, "<pdfaSchema:prefix>fx</pdfaSchema:prefix>"), "6.6.2.3", "the fx schema is described in the XMP")
	check(strings.Contains(meta, "<fx:DocumentFileName>factur-x.xml</fx:DocumentFileName>") && strings.Contains(meta, "<fx:ConformanceLevel>EN 16931</fx:ConformanceLevel>") && strings.Contains(meta, "<fx:DocumentType>INVOICE</fx:DocumentType>"), "Factur-X 1.07 §6.2.2", "the XMP names the XML, its profile and type")
	check(strings.Contains(meta, ">"+field(info, "Title")+"<") && strings.Contains(meta, "<pdf:Producer>"+field(info, "Producer")+"</pdf:Producer>") && strings.Contains(meta, "<xmp:CreatorTool>"+field(info, "Creator")+"</xmp:CreatorTool>") && strings.Contains(meta, "<rdf:li>"+field(info, "Author")+"</rdf:li>"), "6.6.3", "Info and XMP agree (title, author, creator, producer)")
	check(strings.Contains(meta, "<xmp:CreateDate>2026-04-15T08:00:00Z</xmp:CreateDate>") && bytes.Contains(all, []byte("/CreationDate (D:20260415080000Z)")), "6.6.3", "the creation dates agree, with their time zone")
	check(bytes.Contains(all, []byte("/S /GTS_PDFA1")) && bytes.Contains(all, []byte("/DestOutputProfile")), "6.2.3", "an output intent with an ICC profile")
	embedded, fontCount := true, 0
	for _, l := range strings.Split(fonts, "\n")[2:] {
		if f := strings.Fields(l); len(f) >= 5 {
			fontCount++
			embedded = embedded && f[len(f)-5] == "yes"
		}
	}
	check(fontCount > 0 && embedded, "6.2.11.4", "every font is embedded")
	check(bytes.Contains(all, []byte("/AF [")), "6.8", "the catalogue lists the associated file")
	check(bytes.Contains(all, []byte("/AFRelationship /Alternative")), "6.8 / Factur-X", "the file's relationship is stated (Alternative for EN 16931)")
	check(bytes.Contains(all, []byte("/Type /EmbeddedFile /Subtype /text#2Fxml")) && bytes.Contains(all, []byte("/Params << /ModDate (D:")), "6.8", "the embedded file has its MIME type and modification date")
	check(bytes.Contains(all, []byte("/F (factur-x.xml) /UF ")), "6.8", "the file specification has /F and /UF")
	check(bytes.Count(all, []byte("/Subtype /Link ")) > 0 && bytes.Count(all, []byte("/Subtype /Link ")) == bytes.Count(all, []byte("/Subtype /Link /F 4 ")), "6.3.2", "link annotations (the QR code's) are printable (flag 4)")
	check(!bytes.Contains(all, []byte("/Encrypt")) && !bytes.Contains(trailer, []byte("/Encrypt")), "6.1.3", "not encrypted")
	check(!bytes.Contains(all, []byte("/JavaScript")) && !bytes.Contains(all, []byte("/S /Launch")), "6.6.1", "no JavaScript, no launch action")
	for _, c := range clauses {
		t.Errorf("PDF/A-3 %s: %s does not hold", c.clause, c.why)
	}
	// The ICC profile is well formed: its size, signature and class.
	p := sRGBProfile()
	if binary.BigEndian.Uint32(p) != uint32(len(p)) || string(p[36:40]) != "acsp" || string(p[12:20]) != "mntrRGB " {
		t.Error("the sRGB profile's header is malformed")
	}
}

func TestFacturXNeedsItsDate(t *testing.T) {
	inv := issued(t, 1, func(int) string { return "x" })
	cii, err := CII(inv, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := FacturX(Input{Invoice: inv}, cii); err == nil {
		t.Error("a Factur-X document without a creation date")
	}
}
