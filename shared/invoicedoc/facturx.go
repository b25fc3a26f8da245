package invoicedoc

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// Factur-X (1.07, profile EN 16931): the invoice's PDF as PDF/A-3B with its
// CII embedded as factur-x.xml, declared as the document's associated file
// (/AF, relationship Alternative: the XML says what the PDF shows) and in
// the XMP metadata with the Factur-X extension schema.
const (
	FacturXFile = "factur-x.xml"
	// facturXRelationship is the embedded file's relationship to the
	// document: "Alternative" for the EN 16931 profile (Factur-X 1.07 §
	// 6.2.2; "Data" is for MINIMUM and BASIC WL).
	facturXRelationship = "Alternative"
	facturXProfile      = "EN 16931"
)

// FacturX renders the invoice as a Factur-X PDF embedding cii (from CII).
func FacturX(in Input, cii []byte) ([]byte, error) {
	if in.Created.IsZero() {
		return nil, fmt.Errorf("invoicedoc: a Factur-X document needs its creation date")
	}
	created := in.Created.UTC().Truncate(time.Second)
	in.Created = created
	pdf, err := build(in, func(p *fpdf.Fpdf, m meta) {
		p.SetXmpMetadata(xmp(m, created))
		p.AddOutputIntent(fpdf.OutputIntentType{SubtypeIdent: fpdf.OutputIntent_GTS_PDFA1,
			OutputConditionIdentifier: "sRGB IEC61966-2.1", Info: "sRGB IEC61966-2.1", ICCProfile: sRGBProfile()})
		p.SetAttachments([]fpdf.Attachment{{Content: cii, Filename: FacturXFile, Description: "Factur-X " + facturXProfile}})
	})
	if err != nil {
		return nil, err
	}
	return pdfA3(pdf, created)
}

// pdfA3 rewrites what fpdf leaves short of PDF/A-3 and Factur-X, object by
// object from fpdf's own cross-reference table, then writes a new table:
// the embedded file's MIME type and date, its file specification's name and
// relationship, the catalogue's /AF, the print flag on link annotations,
// the dates' time zone, and the trailer's /ID.
func pdfA3(raw []byte, created time.Time) ([]byte, error) {
	objs, trailer, err := objects(raw)
	if err != nil {
		return nil, err
	}
	date := "D:" + created.Format("20060102150405") + "Z"
	var filespec, info int
	for n, o := range objs {
		switch {
		case bytes.HasPrefix(o, []byte(fmt.Sprintf("%d 0 obj\n<< /Type /EmbeddedFile ", n))):
			o = bytes.Replace(o, []byte("/Type /EmbeddedFile "), []byte("/Type /EmbeddedFile /Subtype /text#2Fxml "), 1)
			o = bytes.Replace(o, []byte("/Params << "), []byte("/Params << /ModDate ("+date+") "), 1)
		case bytes.HasPrefix(o, []byte(fmt.Sprintf("%d 0 obj\n<< /Type /Filespec ", n))):
			o = bytes.Replace(o, []byte("/F () "), []byte("/F ("+FacturXFile+") "), 1)
			o = bytes.Replace(o, []byte("/EF <<"), []byte("/AFRelationship /"+facturXRelationship+" /EF <<"), 1)
			filespec = n
		case bytes.Contains(o, []byte("/Subtype /Link ")):
			o = bytes.ReplaceAll(o, []byte("/Type /Annot /Subtype /Link "), []byte("/Type /Annot /Subtype /Link /F 4 "))
		case bytes.Contains(o, []byte("\n/CreationDate (D:")):
			o = infoDates.ReplaceAll(o, []byte("/$1 ("+date+")"))
			info = n
		}
		objs[n] = o
	}
	if filespec == 0 {
		return nil, fmt.Errorf("invoicedoc: no embedded file in the document")
	}
	// fpdf names the Info dictionary by its position before the catalogue,
	// which the output intent's stream takes: name it by its number.
	if info == 0 {
		return nil, fmt.Errorf("invoicedoc: no Info dictionary in the document")
	}
	trailer = infoRef.ReplaceAll(trailer, []byte(fmt.Sprintf("/Info %d 0 R", info)))
	root, err := ref(trailer, "Root")
	if err != nil {
		return nil, err
	}
	objs[root] = bytes.Replace(objs[root], []byte("/Type /Catalog\n"), []byte(fmt.Sprintf("/Type /Catalog\n/AF [%d 0 R]\n", filespec)), 1)
	if !bytes.Contains(objs[root], []byte("/AF [")) {
		return nil, fmt.Errorf("invoicedoc: the catalogue has an unexpected form")
	}
	// The document's identifier: a hash of its content, the same in both
	// places (first written).
	h := sha256.New()
	nums := make([]int, 0, len(objs))
	for n := range objs {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	for _, n := range nums {
		h.Write(objs[n])
	}
	id := hex.EncodeToString(h.Sum(nil)[:16])
	trailer = bytes.Replace(trailer, []byte(">>"), []byte(fmt.Sprintf("/ID [<%s> <%s>]\n>>", id, id)), 1)

	var out bytes.Buffer
	out.WriteString("%PDF-1.7\n")          // PDF/A-3 is ISO 32000-1 (PDF 1.7)
	out.WriteString("%\xe2\xe3\xcf\xd3\n") // binary marker (PDF/A)
	offsets := make([]int, nums[len(nums)-1]+1)
	for _, n := range nums {
		offsets[n] = out.Len()
		out.Write(objs[n])
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(offsets))
	for n := 1; n < len(offsets); n++ {
		if offsets[n] == 0 {
			return nil, fmt.Errorf("invoicedoc: object %d missing", n)
		}
		fmt.Fprintf(&out, "%010d 00000 n \n", offsets[n])
	}
	out.WriteString("trailer\n")
	out.Write(trailer)
	fmt.Fprintf(&out, "\nstartxref\n%d\n%%%%EOF\n", xref)
	return out.Bytes(), nil
}

var (
	xrefRow   = regexp.MustCompile(`^(\d{10}) (\d{5}) ([nf])\s*$`)
	infoDates = regexp.MustCompile(`/(CreationDate|ModDate) \(D:\d{14}\)`)
	refRE     = regexp.MustCompile(`/(\w+) (\d+) 0 R`)
	infoRef   = regexp.MustCompile(`/Info \d+ 0 R`)
)

// objects splits a PDF written by fpdf into its objects ("n 0 obj ...
// endobj\n", by number) and its trailer dictionary, using its xref table.
func objects(raw []byte) (map[int][]byte, []byte, error) {
	sx := bytes.LastIndex(raw, []byte("startxref\n"))
	if sx < 0 {
		return nil, nil, fmt.Errorf("invoicedoc: no startxref")
	}
	var xrefAt int
	if _, err := fmt.Sscanf(string(raw[sx+len("startxref\n"):]), "%d", &xrefAt); err != nil || xrefAt <= 0 || xrefAt >= sx {
		return nil, nil, fmt.Errorf("invoicedoc: bad startxref")
	}
	tr := bytes.Index(raw[xrefAt:], []byte("trailer\n"))
	if tr < 0 {
		return nil, nil, fmt.Errorf("invoicedoc: no trailer")
	}
	rows := bytes.Split(raw[xrefAt:xrefAt+tr], []byte("\n"))
	type at struct{ n, off int }
	var list []at
	for i, r := range rows[2:] { // "xref", "0 N"
		m := xrefRow.FindSubmatch(r)
		if m == nil {
			continue
		}
		if m[3][0] == 'n' {
			off, _ := strconv.Atoi(string(m[1]))
			list = append(list, at{n: i, off: off})
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].off < list[j].off })
	objs := map[int][]byte{}
	for i, a := range list {
		end := xrefAt
		if i+1 < len(list) {
			end = list[i+1].off
		}
		o := raw[a.off:end]
		if !bytes.HasPrefix(o, []byte(fmt.Sprintf("%d 0 obj\n", a.n))) {
			return nil, nil, fmt.Errorf("invoicedoc: object %d is not where the table says", a.n)
		}
		objs[a.n] = append([]byte(nil), o...)
	}
	trailer := raw[xrefAt+tr+len("trailer\n") : sx]
	return objs, bytes.TrimSpace(append([]byte(nil), trailer...)), nil
}

func ref(dict []byte, key string) (int, error) {
	for _, m := range refRE.FindAllSubmatch(dict, -1) {
		if string(m[1]) == key {
			return strconv.Atoi(string(m[2]))
		}
	}
	return 0, fmt.Errorf("invoicedoc: no /%s in %q", key, dict)
}

// xmp is the document's XMP packet: PDF/A-3B identification, the title,
// producer and dates as in the document's Info, and the Factur-X extension
// schema with its description (PDF/A requires custom schemas described).
func xmp(m meta, created time.Time) []byte {
	at := created.Format("2006-01-02T15:04:05Z")
	return []byte(`<?xpacket begin="` + "\ufeff" + `" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
<rdf:Description rdf:about="" xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
<pdfaid:part>3</pdfaid:part>
<pdfaid:conformance>B</pdfaid:conformance>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:title><rdf:Alt><rdf:li xml:lang="x-default">` + xmlEscape(m.title) + `</rdf:li></rdf:Alt></dc:title>
<dc:creator><rdf:Seq><rdf:li>` + xmlEscape(m.author) + `</rdf:li></rdf:Seq></dc:creator>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/">
<pdf:Producer>` + xmlEscape(m.producer) + `</pdf:Producer>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/">
<xmp:CreatorTool>` + xmlEscape(m.producer) + `</xmp:CreatorTool>
<xmp:CreateDate>` + at + `</xmp:CreateDate>
<xmp:ModifyDate>` + at + `</xmp:ModifyDate>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:fx="urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#">
<fx:DocumentType>INVOICE</fx:DocumentType>
<fx:DocumentFileName>` + FacturXFile + `</fx:DocumentFileName>
<fx:Version>1.0</fx:Version>
<fx:ConformanceLevel>` + facturXProfile + `</fx:ConformanceLevel>
</rdf:Description>
<rdf:Description rdf:about="" xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#">
<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
<pdfaSchema:schema>Factur-X PDFA Extension Schema</pdfaSchema:schema>
<pdfaSchema:namespaceURI>urn:factur-x:pdfa:CrossIndustryDocument:invoice:1p0#</pdfaSchema:namespaceURI>
<pdfaSchema:prefix>fx</pdfaSchema:prefix>
<pdfaSchema:property><rdf:Seq>
<rdf:li rdf:parseType="Resource"><pdfaProperty:name>DocumentFileName</pdfaProperty:name><pdfaProperty:valueType>Text</pdfaProperty:valueType><pdfaProperty:category>external</pdfaProperty:category><pdfaProperty:description>The name of the embedded XML document</pdfaProperty:description></rdf:li>
<rdf:li rdf:parseType="Resource"><pdfaProperty:name>DocumentType</pdfaProperty:name><pdfaProperty:valueType>Text</pdfaProperty:valueType><pdfaProperty:category>external</pdfaProperty:category><pdfaProperty:description>The type of the hybrid document in capital letters, e.g. INVOICE or ORDER</pdfaProperty:description></rdf:li>
<rdf:li rdf:parseType="Resource"><pdfaProperty:name>Version</pdfaProperty:name><pdfaProperty:valueType>Text</pdfaProperty:valueType><pdfaProperty:category>external</pdfaProperty:category><pdfaProperty:description>The actual version of the standard applying to the embedded XML document</pdfaProperty:description></rdf:li>
<rdf:li rdf:parseType="Resource"><pdfaProperty:name>ConformanceLevel</pdfaProperty:name><pdfaProperty:valueType>Text</pdfaProperty:valueType><pdfaProperty:category>external</pdfaProperty:category><pdfaProperty:description>The conformance level of the embedded XML document</pdfaProperty:description></rdf:li>
</rdf:Seq></pdfaSchema:property>
</rdf:li></rdf:Bag></pdfaExtension:schemas>
</rdf:Description>
</rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>`)
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s)) // writing to a buffer cannot fail
	return b.String()
}

// sRGBProfile is an ICC v2 display profile of sRGB (IEC 61966-2.1): its
// primaries adapted to D50 and a 2.2 tone curve, the output intent PDF/A
// asks for. Built here rather than carried as a binary file.
func sRGBProfile() []byte {
	s15 := func(v float64) []byte {
		b := make([]byte, 4)
		binary.BigEndian.PutUint32(b, uint32(int32(v*65536+0.5*sign(v))))
		return b
	}
	xyz := func(x, y, z float64) []byte {
		return append(append(append([]byte("XYZ \x00\x00\x00\x00"), s15(x)...), s15(y)...), s15(z)...)
	}
	text := func(s string) []byte { return append([]byte("text\x00\x00\x00\x00"), append([]byte(s), 0)...) }
	desc := func(s string) []byte {
		b := []byte("desc\x00\x00\x00\x00")
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)+1))
		b = append(append(b, s...), 0)
		b = append(b, make([]byte, 4+4+2+1+67)...) // no Unicode, no ScriptCode description
		return b
	}
	curve := []byte("curv\x00\x00\x00\x00\x00\x00\x00\x01\x02\x33") // gamma 2.2 (u8Fixed8 0x0233)
	tags := []struct {
		sig  string
		data []byte
	}{
		{"desc", desc("sRGB IEC61966-2.1")},
		{"cprt", text("No copyright, use freely")},
		{"wtpt", xyz(0.9642, 1.0, 0.8249)},
		{"rXYZ", xyz(0.4361, 0.2225, 0.0139)},
		{"gXYZ", xyz(0.3851, 0.7169, 0.0971)},
		{"bXYZ", xyz(0.1431, 0.0606, 0.7141)},
		{"rTRC", curve}, {"gTRC", curve}, {"bTRC", curve},
	}
	header := make([]byte, 128)
	table := binary.BigEndian.AppendUint32(nil, uint32(len(tags)))
	offset := 128 + 4 + 12*len(tags)
	var body []byte
	for _, t := range tags {
		for len(body)%4 != 0 {
			body = append(body, 0)
		}
		table = append(table, t.sig...)
		table = binary.BigEndian.AppendUint32(table, uint32(offset+len(body)))
		table = binary.BigEndian.AppendUint32(table, uint32(len(t.data)))
		body = append(body, t.data...)
	}
	total := 128 + len(table) + len(body)
	binary.BigEndian.PutUint32(header[0:], uint32(total))
	copy(header[8:], []byte{0x02, 0x10, 0, 0}) // version 2.1
	copy(header[12:], "mntrRGB XYZ ")
	copy(header[24:], []byte{0x07, 0xd0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0}) // 2000-01-01
	copy(header[36:], "acsp")
	copy(header[68:], append(append(s15(0.9642), s15(1.0)...), s15(0.8249)...)) // illuminant D50
	return append(append(header, table...), body...)
}

func sign(v float64) float64 {
	if v < 0 {
		return -1
	}
	return 1
}
