// Package documents keeps an issued invoice's documents: rendered once, at
// the issue, by package invoicedoc — the PDF in French and in English, the
// Factur-X PDF/A-3 (EN 16931, the French one) and its CII XML alone — and
// written once to an object store (a bucket deployed, a directory locally)
// under the invoice's id and the version it was issued at. Reading one is
// then one object fetch: a document never changes after issue, whatever
// the invoice's later payments, status or a rectified payer.
//
// What the kept documents do not carry: a payment link. Links are made
// after the issue, expire and are deactivated; an immutable document
// states how to pay by transfer (IBAN, BIC, the reference to quote), and
// the hosted page links the document instead.
package documents

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/modupay/modupay/shared/apperr"
	"github.com/modupay/modupay/shared/branding"
	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/invoicedoc"
)

// Objects is the write-once store the documents are kept in (package
// objects: Dir, S3).
type Objects interface {
	PutOnce(ctx context.Context, key string, body []byte, contentType string) error
	Get(ctx context.Context, key string) ([]byte, error)
}

// Kind is one document of an invoice.
type Kind string

// The kinds kept for an invoice.
const (
	PDF     Kind = "pdf"     // the invoice, in French or in English
	FacturX Kind = "facturx" // the French PDF as PDF/A-3 with factur-x.xml
	CII     Kind = "cii"     // the EN 16931 CII XML alone
)

// Document is a kept document with what an answer needs.
type Document struct {
	Body        []byte
	ContentType string
	// FileName is what a download is called: the invoice's number.
	FileName string
}

// file is one object kept for an invoice.
type file struct {
	name, contentType string
	kind              Kind
	lang              string
}

var files = []file{
	{"invoice-fr.pdf", "application/pdf", PDF, "fr"},
	{"invoice-en.pdf", "application/pdf", PDF, "en"},
	{"factur-x.pdf", "application/pdf", FacturX, "fr"},
	{"cii.xml", "application/xml", CII, ""},
}

// Brandings reads the white labels a document may wear (the stores'
// Brandings: one read).
type Brandings interface {
	Brandings(ctx context.Context, partnerID, orgID string) (partner, org branding.Branding, err error)
}

// Keeper renders and keeps documents (invoice.DocumentKeeper) and reads
// them back.
type Keeper struct {
	Objects Objects
	// Brands, when set, gives the documents the organisation's display
	// name, else the partner's, at their top (else the seller's name).
	Brands Brandings
}

var _ invoice.DocumentKeeper = Keeper{}

// root is where everything of an invoice is kept.
func root(inv invoice.Invoice) string {
	return "invoices/" + inv.PartnerID + "/" + inv.OrgID + "/" + inv.ID
}

// prefix is where the documents of an invoice issued at its documents
// version are kept.
func prefix(inv invoice.Invoice) string {
	return root(inv) + "/v" + strconv.FormatInt(inv.DocumentsVersion, 10) + "/"
}

// creditPrefix is where a credit note's documents are kept, beside its
// invoice's: under its number and what made it (its refund, else the
// cancellation). Two credit notes of one invoice racing for one number —
// a refund and another, a refund and the cancellation — so never share a
// key: the loser's files stay behind, named by no credit note, and the
// winner's are its own (a write-once put of a key already there keeps
// what was there).
func creditPrefix(inv invoice.Invoice, cn invoice.CreditNote) string {
	return root(inv) + "/credit/" + cn.Number + "/" + cmp.Or(cn.RefundID, "cancellation") + "/"
}

// Keep renders the invoice's documents and writes each once, in parallel.
// The documents' creation date is the issue's (UpdatedAt), so a retry
// renders the same bytes. An invoice that cannot make a valid EN 16931
// document — a private payer without a postal address (BR-10), a seller
// without a VAT number (BR-S-02) — keeps its PDFs only, and Keep answers
// what it lacked (a business payer's invoice always has what the standard
// needs: its creation requires it).
func (k Keeper) Keep(ctx context.Context, inv invoice.Invoice) ([]string, error) {
	const op = "documents.keep"
	if inv.DocumentsVersion == 0 {
		return nil, apperr.Wrap(op, errors.New("documents: the invoice names no documents version"))
	}
	brand, err := k.brand(ctx, inv)
	if err != nil {
		return nil, apperr.Wrap(op, err)
	}
	lacked, err := k.keep(ctx, prefix(inv), invoicedoc.Input{Invoice: inv, Created: inv.UpdatedAt, BrandName: brand})
	return lacked, apperr.Wrap(op, err)
}

// KeepCredit renders the credit note cn of the issued invoice orig
// (invoicedoc.CreditNote: the original's lines for the whole amount, else
// one line per VAT rate) and keeps its documents, write-once, as an
// invoice's: its PDF in French and in English, and — when the invoice had
// what EN 16931 requires — its Factur-X (type 381, naming the invoice it
// credits) and CII XML. A refund's credit note states the amount as
// refunded (nothing is left to pay back).
func (k Keeper) KeepCredit(ctx context.Context, orig invoice.Invoice, cn invoice.CreditNote) error {
	const op = "documents.keep_credit"
	note, rounding, err := invoicedoc.CreditNote(orig, cn.Number, cn.IssueDate, cn.Amount)
	if err != nil {
		return apperr.Wrap(op, err)
	}
	brand, err := k.brand(ctx, orig)
	if err != nil {
		return apperr.Wrap(op, err)
	}
	credit := &invoicedoc.Credit{OriginalNumber: orig.InvoiceNumber, OriginalIssueDate: orig.IssueDate, Reason: cn.Reason, Rounding: rounding,
		Refund: cn.RefundID}
	_, err = k.keep(ctx, creditPrefix(orig, cn), invoicedoc.Input{Invoice: note, Created: cn.CreatedAt, BrandName: brand, Credit: credit})
	return apperr.Wrap(op, err)
}

// keep renders the files of a document (in: all but its language) and
// writes each once under prefix, in parallel; a document lacking what EN
// 16931 requires keeps its PDFs only, and keep answers what it lacked.
func (k Keeper) keep(ctx context.Context, prefix string, in invoicedoc.Input) ([]string, error) {
	var lacked []string
	cii, err := invoicedoc.CII(in.Invoice, in.Credit)
	var missing *invoicedoc.MissingError
	switch {
	case errors.As(err, &missing):
		for f, rule := range missing.Fields {
			lacked = append(lacked, f+" ("+rule+")")
		}
		sort.Strings(lacked)
	case err != nil:
		return nil, err
	}
	errs := make([]error, len(files))
	var wg sync.WaitGroup
	for i, f := range files {
		if f.kind != PDF && lacked != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			body, err := render(in, f, cii)
			if err == nil {
				err = k.Objects.PutOnce(ctx, prefix+f.name, body, f.contentType)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return lacked, nil
}

// ReadCredit fetches a document of the invoice's credit note number (one
// object fetch), as Read does an invoice's; NotFound when the invoice has
// no such credit note.
func (k Keeper) ReadCredit(ctx context.Context, inv invoice.Invoice, number string, kind Kind, lang string) (Document, error) {
	const op = "documents.read_credit"
	i := slices.IndexFunc(inv.CreditNotes, func(cn invoice.CreditNote) bool { return cn.Number == number })
	if i < 0 {
		return Document{}, &apperr.Error{Op: op, Code: apperr.NotFound, Param: "credit_note_number", Message: "this invoice has no credit note " + number}
	}
	return k.read(ctx, op, creditPrefix(inv, inv.CreditNotes[i]), number, inv.DocumentsLacked, kind, lang)
}

// brand is the white label the documents wear: the organisation's display
// name, else the partner's, else none (the seller's name).
func (k Keeper) brand(ctx context.Context, inv invoice.Invoice) (string, error) {
	if k.Brands == nil {
		return "", nil
	}
	partner, org, err := k.Brands.Brandings(ctx, inv.PartnerID, inv.OrgID)
	return cmp.Or(org.DisplayName, partner.DisplayName), err
}

// render makes one file of a document.
func render(in invoicedoc.Input, f file, cii []byte) ([]byte, error) {
	in.Lang = f.lang
	switch f.kind {
	case PDF:
		return invoicedoc.PDF(in)
	case FacturX:
		return invoicedoc.FacturX(in, cii)
	case CII:
		return cii, nil
	}
	return nil, fmt.Errorf("documents: unknown kind %s", f.kind)
}

// Read fetches a kept document of the invoice: one object fetch. A draft
// has none (409); an invoice issued before documents were kept neither.
// lang is "fr" or "en" for the PDF ("" is French); the other kinds are
// French (the structured data is language-neutral).
func (k Keeper) Read(ctx context.Context, inv invoice.Invoice, kind Kind, lang string) (Document, error) {
	const op = "documents.read"
	if inv.Status == invoice.StatusDraft || (inv.Status == invoice.StatusCancelled && inv.IssueDate == "") {
		return Document{}, apperr.E(op, apperr.Conflict, "a draft has no document: issue the invoice first")
	}
	if inv.DocumentsVersion == 0 {
		return Document{}, apperr.E(op, apperr.Conflict, "this invoice was issued before documents were kept: it has none")
	}
	return k.read(ctx, op, prefix(inv), inv.InvoiceNumber, inv.DocumentsLacked, kind, lang)
}

// read fetches the file of kind (and lang, for the PDF) kept under prefix
// for the document numbered number, which lacked what lacked names.
func (k Keeper) read(ctx context.Context, op, prefix, number string, lacked []string, kind Kind, lang string) (Document, error) {
	switch lang {
	case "", "fr":
		lang = "fr"
	case "en":
		if kind != PDF {
			return Document{}, apperr.Field(op, "lang", "lang applies to the PDF; the Factur-X document and its XML are French")
		}
	default:
		return Document{}, apperr.Field(op, "lang", "lang must be fr or en")
	}
	if kind != PDF && len(lacked) > 0 {
		return Document{}, apperr.E(op, apperr.Conflict, "this invoice has no structured document (EN 16931): at its issue it lacked "+
			strings.Join(lacked, ", ")+"; its PDF is at /pdf")
	}
	for _, f := range files {
		if f.kind != kind || (kind == PDF && f.lang != lang) {
			continue
		}
		body, err := k.Objects.Get(ctx, prefix+f.name)
		if apperr.CodeOf(err) == apperr.NotFound {
			// Named by a committed issue or credit note, yet absent: ours to
			// fix, never a 404 that would say there is none.
			return Document{}, &apperr.Error{Op: op, Code: apperr.Internal, Message: "a kept document is missing from the store",
				Err: fmt.Errorf("documents: %s%s: %v", prefix, f.name, err)}
		}
		if err != nil {
			return Document{}, apperr.Wrap(op, err)
		}
		ext := ".pdf"
		if kind == CII {
			ext = ".xml"
		}
		return Document{Body: body, ContentType: f.contentType, FileName: fileName(number) + ext}, nil
	}
	return Document{}, apperr.Wrap(op, fmt.Errorf("documents: unknown kind %s", kind))
}

// fileName keeps what a file name may hold of an invoice number.
func fileName(number string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, number)
}
