// Package invoicedoc renders an issued invoice as the document a payer
// receives: a PDF in French (English on request) with the mentions French
// law asks of an invoice. It is pure: an invoice in, bytes out; where the
// bytes are kept is the caller's business.
//
// The font is the Go font family (golang.org/x/image/font/gofont), embedded
// (subset) in every document: it covers Latin, Latin Extended-A/B, Greek and
// Cyrillic, so the names and addresses of the French market render as typed.
package invoicedoc

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/money"
	"github.com/modupay/modupay/shared/organization"
)

// Input is what a document shows beyond the invoice itself.
type Input struct {
	Invoice invoice.Invoice
	// Lang is "fr" (default) or "en".
	Lang string
	// BrandName is the white label shown at the top (the seller's name when
	// empty).
	BrandName string
	// PaymentURL is the active payment link's page, shown with QRPNG (its QR
	// code as a PNG) when set.
	PaymentURL string
	QRPNG      []byte
	// Created is the document's creation date in its metadata (the issue
	// time): the same invoice gives the same document.
	Created time.Time
	// Credit makes the document a credit note of the invoice it names (the
	// Invoice is then the credit note's own, from CreditNote).
	Credit *Credit
}

// business says whether the buyer is a business (B2B): the invoice then
// states the late-payment penalties, the 40 € recovery indemnity and the
// discount terms (Code de commerce L441-9, L441-10, D441-5).
func (in Input) business() bool { return in.Invoice.Payer.Business() }

// page geometry, in millimetres (A4 portrait).
const (
	pageW, pageH = 210.0, 297.0
	margin       = 15.0
	contentW     = pageW - 2*margin
	lineH        = 5.0
	fontFamily   = "go"
)

// column widths of the lines table: description, quantity, unit price HT,
// VAT rate, amount HT.
var cols = [5]float64{contentW - 18 - 27 - 17 - 28, 18, 27, 17, 28}

// PDF renders the invoice. The lines table runs over as many pages as it
// needs, its header repeated on each; every page carries the seller, the
// invoice number and "page n / N".
func PDF(in Input) ([]byte, error) { return build(in, nil) }

// build renders the document; extra, when set, adds to it before it is
// written (the Factur-X parts), knowing its title, author and producer.
func build(in Input, extra func(p *fpdf.Fpdf, m meta)) ([]byte, error) {
	inv := in.Invoice
	if inv.Status == invoice.StatusDraft || inv.InvoiceNumber == "" {
		return nil, fmt.Errorf("invoicedoc: a draft has no document")
	}
	t := texts(in.Lang)
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(margin, margin, margin)
	pdf.SetAutoPageBreak(true, margin+10)
	pdf.AddUTF8FontFromBytes(fontFamily, "", goregular.TTF)
	pdf.AddUTF8FontFromBytes(fontFamily, "B", gobold.TTF)
	// White label: the metadata name the seller and the brand, never us.
	m := meta{title: title(in, t) + " " + inv.InvoiceNumber, author: sellerName(inv.Seller), producer: cmpOr(in.BrandName, sellerName(inv.Seller))}
	pdf.SetTitle(m.title, true)
	pdf.SetAuthor(m.author, true)
	pdf.SetCreator(m.producer, true)
	pdf.SetProducer(m.producer, true)
	pdf.SetLang(map[bool]string{true: "en-GB", false: "fr-FR"}[in.Lang == "en"])
	if !in.Created.IsZero() {
		pdf.SetCreationDate(in.Created)
		pdf.SetModificationDate(in.Created)
	}
	pdf.SetCatalogSort(true)
	pdf.AliasNbPages("{nb}")
	if extra != nil {
		extra(pdf, m)
	}

	d := &doc{pdf: pdf, in: in, t: t}
	pdf.SetHeaderFunc(d.header)
	pdf.SetFooterFunc(d.footer)
	pdf.AddPage()
	d.parties()
	d.lines()
	d.totals()
	d.mentions()
	d.payment()
	if err := pdf.Error(); err != nil {
		return nil, fmt.Errorf("invoicedoc: %w", err)
	}
	var b bytes.Buffer
	if err := pdf.Output(&b); err != nil {
		return nil, fmt.Errorf("invoicedoc: %w", err)
	}
	return b.Bytes(), nil
}

// meta are the document's Info entries, which the XMP packet repeats.
type meta struct{ title, author, producer string }

type doc struct {
	pdf *fpdf.Fpdf
	in  Input
	t   map[string]string
	// inTable: a page break inside the lines repeats the table's header.
	inTable bool
}

func (d *doc) font(style string, size float64) { d.pdf.SetFont(fontFamily, style, size) }

// header is every page's top: on the first, the seller's identity and the
// invoice's number and dates; on the others, a reminder of both.
func (d *doc) header() {
	p, inv, t := d.pdf, d.in.Invoice, d.t
	s := inv.Seller
	if p.PageNo() > 1 {
		d.font("B", 9)
		p.CellFormat(contentW/2, lineH, sellerName(s), "", 0, "L", false, 0, "")
		p.CellFormat(contentW/2, lineH, title(d.in, t)+" "+inv.InvoiceNumber, "", 1, "R", false, 0, "")
		p.Ln(3)
		if d.inTable {
			d.tableHeader()
		}
		return
	}
	top := p.GetY()
	brand := d.in.BrandName
	if brand == "" {
		brand = sellerName(s)
	}
	d.font("B", 14)
	p.CellFormat(contentW*0.6, 7, brand, "", 1, "L", false, 0, "")
	d.font("", 9)
	for _, l := range sellerLines(s, t) {
		p.CellFormat(contentW*0.6, 4.2, l, "", 1, "L", false, 0, "")
	}
	left := p.GetY()
	p.SetXY(margin+contentW*0.6, top)
	d.font("B", 18)
	p.CellFormat(contentW*0.4, 9, strings.ToUpper(title(d.in, t)), "", 2, "R", false, 0, "")
	d.font("", 10)
	for _, kv := range [][2]string{
		{t["number"], inv.InvoiceNumber},
		{t["issued"], date(d.in.Lang, inv.IssueDate)},
		{t["due"], date(d.in.Lang, inv.DueDate)},
	} {
		if kv[1] == "" {
			continue
		}
		p.SetX(margin + contentW*0.6)
		p.CellFormat(contentW*0.4, 5, kv[0]+" : "+kv[1], "", 2, "R", false, 0, "")
	}
	p.SetY(max(left, p.GetY()) + 4)
}

func (d *doc) footer() {
	p, s := d.pdf, d.in.Invoice.Seller
	p.SetY(-margin - 5)
	d.font("", 8)
	id := sellerName(s)
	if s.SIRET != "" {
		id += " — " + d.t["siret"] + " " + s.SIRET
	}
	p.CellFormat(contentW*0.8, 4, id, "T", 0, "L", false, 0, "")
	p.CellFormat(contentW*0.2, 4, fmt.Sprintf("%s %d / {nb}", d.t["page"], p.PageNo()), "T", 0, "R", false, 0, "")
}

// parties is the buyer's block.
func (d *doc) parties() {
	p, inv, t := d.pdf, d.in.Invoice, d.t
	x := margin + contentW*0.5
	p.SetX(x)
	d.font("B", 10)
	p.CellFormat(contentW*0.5, 5, t["billed_to"], "", 2, "L", false, 0, "")
	d.font("", 10)
	p.SetX(x)
	p.CellFormat(contentW*0.5, 5, inv.Payer.Name, "", 2, "L", false, 0, "")
	buyer := addressLines(inv.Payer.Address)
	if inv.Payer.SIREN != "" {
		buyer = append(buyer, t["siren"]+" "+inv.Payer.SIREN)
	}
	if inv.Payer.VATNumber != "" {
		buyer = append(buyer, t["vat_number"]+" "+inv.Payer.VATNumber)
	}
	for _, l := range buyer {
		p.SetX(x)
		p.CellFormat(contentW*0.5, 5, l, "", 2, "L", false, 0, "")
	}
	if a := inv.DeliveryAddress; a != nil {
		p.Ln(2)
		p.SetX(x)
		d.font("B", 10)
		p.CellFormat(contentW*0.5, 5, t["delivered_to"], "", 2, "L", false, 0, "")
		d.font("", 10)
		for _, l := range addressLines(a) {
			p.SetX(x)
			p.CellFormat(contentW*0.5, 5, l, "", 2, "L", false, 0, "")
		}
	}
	p.Ln(6)
	if c := d.in.Credit; c != nil {
		d.font("B", 10)
		p.MultiCell(contentW, 5, fmt.Sprintf(t["credit_of"], c.OriginalNumber, date(d.in.Lang, c.OriginalIssueDate)), "", "L", false)
		if c.Reason != "" {
			d.font("", 10)
			p.MultiCell(contentW, 5, t["reason"]+" : "+c.Reason, "", "L", false)
		}
		if c.Refund != "" {
			d.font("", 10)
			p.MultiCell(contentW, 5, fmt.Sprintf(t["refunded"], c.Refund), "", "L", false)
		}
		p.Ln(4)
	}
}

func (d *doc) tableHeader() {
	p, t := d.pdf, d.t
	d.font("B", 9)
	p.SetFillColor(235, 237, 240)
	heads := [5]string{t["description"], t["quantity"], t["unit_price"], t["vat_rate"], t["net"]}
	for i, h := range heads {
		align := "R"
		if i == 0 {
			align = "L"
		}
		p.CellFormat(cols[i], 7, h, "B", 0, align, true, 0, "")
	}
	p.Ln(-1)
	d.font("", 9)
}

// lines writes the lines table; a description wraps within its column and
// a row never splits across pages.
func (d *doc) lines() {
	p, inv := d.pdf, d.in.Invoice
	d.inTable = true
	d.tableHeader()
	_, _, _, bottom := p.GetMargins()
	for _, li := range inv.LineItems {
		desc := p.SplitText(li.Description, cols[0]-2)
		if len(desc) == 0 {
			desc = []string{""}
		}
		h := float64(len(desc))*4.5 + 2
		if p.GetY()+h > pageH-bottom {
			p.AddPage() // the header repeats the table's head
		}
		y := p.GetY()
		p.SetXY(margin, y+1)
		for _, l := range desc {
			p.CellFormat(cols[0], 4.5, l, "", 2, "L", false, 0, "")
		}
		cells := [4]string{li.Quantity.Localized(d.in.Lang), money.FormatEUR(li.UnitPrice), li.VATRate.Percent(d.in.Lang), money.FormatEUR(li.NetAmount)}
		x := margin + cols[0]
		for i, c := range cells {
			p.SetXY(x, y+1)
			p.CellFormat(cols[i+1], 4.5, c, "", 0, "R", false, 0, "")
			x += cols[i+1]
		}
		p.SetXY(margin, y+h)
		p.Line(margin, y+h, margin+contentW, y+h)
	}
	d.inTable = false
	p.Ln(3)
}

// totals writes HT, VAT per rate (with its base) and TTC, then what was
// paid and what is due.
func (d *doc) totals() {
	p, inv, t := d.pdf, d.in.Invoice, d.t
	rows := [][3]string{{"", t["total_net"], money.FormatEUR(inv.TotalNet)}}
	for _, v := range inv.VATBreakdown {
		rows = append(rows, [3]string{"", fmt.Sprintf("%s %s (%s %s)", t["vat"], v.VATRate.Percent(d.in.Lang), t["base"], money.FormatEUR(v.NetAmount)), money.FormatEUR(v.VATAmount)})
	}
	rows = append(rows, [3]string{"B", t["total"], money.FormatEUR(inv.TotalAmount)})
	if inv.AmountPaid > 0 {
		rows = append(rows, [3]string{"", t["paid"], money.FormatEUR(inv.AmountPaid)}, [3]string{"B", t["due_amount"], money.FormatEUR(inv.AmountDue)})
	}
	if c := d.in.Credit; c != nil && c.Rounding != 0 {
		rows = append(rows, [3]string{"", t["rounding"], money.FormatEUR(c.Rounding)}, [3]string{"B", t["credited"], money.FormatEUR(inv.TotalAmount + c.Rounding)})
	} else if c != nil && c.Refund != "" {
		rows = append(rows, [3]string{"B", t["credited"], money.FormatEUR(inv.TotalAmount)})
	}
	need := float64(len(rows))*6 + 4
	if _, _, _, bottom := p.GetMargins(); p.GetY()+need > pageH-bottom {
		p.AddPage()
	}
	labelW, amountW := 70.0, 35.0
	for _, r := range rows {
		d.font(r[0], 10)
		p.SetX(margin + contentW - labelW - amountW)
		border := ""
		if r[0] == "B" {
			border = "T"
		}
		p.CellFormat(labelW, 6, r[1], border, 0, "L", false, 0, "")
		p.CellFormat(amountW, 6, r[2], border, 1, "R", false, 0, "")
	}
	p.Ln(4)
}

// mentions are the terms French law asks an invoice to state.
func (d *doc) mentions() {
	p, inv, t := d.pdf, d.in.Invoice, d.t
	d.font("", 8.5)
	var ms []string
	if inv.PaymentTerms != "" {
		ms = append(ms, t["terms"]+" : "+inv.PaymentTerms)
	}
	if cat := t["operation_"+inv.OperationCategory]; inv.OperationCategory != "" && cat != "" {
		ms = append(ms, t["operation"]+" : "+cat)
	}
	if inv.ServiceDate != "" {
		ms = append(ms, t["service_date"]+" : "+date(d.in.Lang, inv.ServiceDate))
	}
	if inv.VATOnDebits {
		ms = append(ms, t["vat_on_debits"])
	}
	if inv.VATExemptionReason != "" {
		ms = append(ms, t["vat_exemption"]+" : "+inv.VATExemptionReason)
	}
	if d.in.business() && d.in.Credit == nil {
		ms = append(ms, t["discount"], t["penalties"], t["indemnity"])
	}
	for _, m := range ms {
		p.MultiCell(contentW, 4, m, "", "L", false)
	}
	p.Ln(3)
}

// payment says how to pay: the transfer's details, and the payment link
// with its QR code when one is active.
func (d *doc) payment() {
	p, inv, t := d.pdf, d.in.Invoice, d.t
	if inv.AmountDue <= 0 || d.in.Credit != nil {
		return
	}
	need := 30.0
	if _, _, _, bottom := p.GetMargins(); p.GetY()+need > pageH-bottom {
		p.AddPage()
	}
	top := p.GetY()
	textW := contentW
	if d.in.PaymentURL != "" && len(d.in.QRPNG) > 0 {
		textW = contentW - 32
		p.RegisterImageOptionsReader("qr", fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(d.in.QRPNG))
		p.ImageOptions("qr", margin+contentW-28, top, 28, 28, false, fpdf.ImageOptions{ImageType: "PNG"}, 0, d.in.PaymentURL)
	}
	d.font("B", 10)
	p.CellFormat(textW, 6, t["how_to_pay"], "", 1, "L", false, 0, "")
	d.font("", 9)
	if d.in.PaymentURL != "" {
		p.MultiCell(textW, 4.5, t["pay_online"]+" : "+d.in.PaymentURL, "", "L", false)
	}
	if b := inv.BankAccount; b != nil && b.IBAN != "" {
		line := t["transfer"] + " : " + b.AccountName + " — IBAN " + groupIBAN(b.IBAN)
		if b.BIC != "" {
			line += " — BIC " + b.BIC
		}
		p.MultiCell(textW, 4.5, line, "", "L", false)
		p.MultiCell(textW, 4.5, t["reference"]+" : "+inv.InvoiceNumber, "", "L", false)
	}
	p.SetY(max(p.GetY(), top+30))
}

// title is the document's kind: invoice, or credit note.
func title(in Input, t map[string]string) string {
	if in.Credit != nil {
		return t["credit_note"]
	}
	return t["invoice"]
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func sellerName(s invoice.Seller) string {
	if s.LegalName != "" {
		return s.LegalName
	}
	return s.Name
}

// sellerLines are the seller's identity lines under its name: trade name,
// address, SIREN and SIRET, VAT number, billing department.
func sellerLines(s invoice.Seller, t map[string]string) []string {
	var out []string
	if s.Name != "" && s.LegalName != "" && s.Name != s.LegalName {
		out = append(out, s.Name)
	}
	out = append(out, addressLines(&s.Address)...)
	if len(s.SIRET) == 14 {
		out = append(out, t["siren"]+" "+s.SIRET[:9]+" — "+t["siret"]+" "+s.SIRET)
	} else if s.SIRET != "" {
		out = append(out, t["siret"]+" "+s.SIRET)
	}
	if s.VATNumber != "" {
		out = append(out, t["vat_number"]+" "+s.VATNumber)
	}
	if s.Department != "" {
		out = append(out, t["department"]+" : "+s.Department)
	}
	return out
}

func addressLines(a *organization.Address) []string {
	if a == nil {
		return nil
	}
	var out []string
	for _, l := range []string{a.Line1, a.Line2, strings.TrimSpace(a.PostalCode + " " + a.City)} {
		if l != "" {
			out = append(out, l)
		}
	}
	if a.Country != "" && a.Country != "FR" {
		out = append(out, a.Country)
	}
	return out
}

// groupIBAN writes an IBAN in groups of four, as banks print it.
func groupIBAN(iban string) string {
	var b strings.Builder
	for i, r := range strings.ReplaceAll(iban, " ", "") {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func date(lang, iso string) string {
	d, err := time.Parse(time.DateOnly, iso)
	if err != nil {
		return iso
	}
	if lang == "en" {
		return d.Format("2 Jan 2006")
	}
	return d.Format("02/01/2006")
}
