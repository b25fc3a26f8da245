package invoicedoc

import (
	"encoding/xml"
	"fmt"
	"strings"
	"time"

	"github.com/modupay/modupay/shared/invoice"
	"github.com/modupay/modupay/shared/money"
	"github.com/modupay/modupay/shared/organization"
)

// The EN 16931 Cross Industry Invoice (UN/CEFACT CII D16B), the XML that
// Factur-X embeds at its EN 16931 profile. Element order follows the
// schema's sequences; names carry their prefix as written.
const (
	nsRSM = "urn:un:unece:uncefact:data:standard:CrossIndustryInvoice:100"
	nsRAM = "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
	nsQDT = "urn:un:unece:uncefact:data:standard:QualifiedDataType:100"
	nsUDT = "urn:un:unece:uncefact:data:standard:UnqualifiedDataType:100"
	// ProfileEN16931 is the guideline (BT-24) of the EN 16931 profile.
	ProfileEN16931 = "urn:cen.eu:en16931:2017"
	// typeInvoice is the commercial invoice (UNTDID 1001 code 380),
	// typeCreditNote the credit note (381).
	typeInvoice    = "380"
	typeCreditNote = "381"
	// meansSEPATransfer is the SEPA credit transfer (UNTDID 4461 code 58).
	meansSEPATransfer = "58"
	// schemeSIREN identifies a French legal entity by its SIREN (ISO 6523
	// ICD 0002, the SIRENE register).
	schemeSIREN = "0002"
	// unitPiece is UN/ECE Recommendation 20's "one" (C62): our quantities
	// have no unit of measure.
	unitPiece = "C62"
)

type ciiDoc struct {
	XMLName xml.Name `xml:"rsm:CrossIndustryInvoice"`
	RSM     string   `xml:"xmlns:rsm,attr"`
	RAM     string   `xml:"xmlns:ram,attr"`
	QDT     string   `xml:"xmlns:qdt,attr"`
	UDT     string   `xml:"xmlns:udt,attr"`
	Context struct {
		Guideline struct {
			ID string `xml:"ram:ID"`
		} `xml:"ram:GuidelineSpecifiedDocumentContextParameter"`
	} `xml:"rsm:ExchangedDocumentContext"`
	Document struct {
		ID       string    `xml:"ram:ID"`
		TypeCode string    `xml:"ram:TypeCode"`
		Issued   ciiDate   `xml:"ram:IssueDateTime"`
		Notes    []ciiNote `xml:"ram:IncludedNote"`
	} `xml:"rsm:ExchangedDocument"`
	Transaction struct {
		Lines     []ciiLine `xml:"ram:IncludedSupplyChainTradeLineItem"`
		Agreement struct {
			Seller ciiParty `xml:"ram:SellerTradeParty"`
			Buyer  ciiParty `xml:"ram:BuyerTradeParty"`
		} `xml:"ram:ApplicableHeaderTradeAgreement"`
		Delivery struct {
			ShipTo *ciiParty `xml:"ram:ShipToTradeParty,omitempty"`
			Event  *struct {
				At ciiDate `xml:"ram:OccurrenceDateTime"`
			} `xml:"ram:ActualDeliverySupplyChainEvent,omitempty"`
		} `xml:"ram:ApplicableHeaderTradeDelivery"`
		Settlement struct {
			PaymentReference string        `xml:"ram:PaymentReference,omitempty"`
			Currency         string        `xml:"ram:InvoiceCurrencyCode"`
			Means            *ciiMeans     `xml:"ram:SpecifiedTradeSettlementPaymentMeans,omitempty"`
			Taxes            []ciiTax      `xml:"ram:ApplicableTradeTax"`
			Terms            *ciiTerms     `xml:"ram:SpecifiedTradePaymentTerms,omitempty"`
			Summation        ciiSummation  `xml:"ram:SpecifiedTradeSettlementHeaderMonetarySummation"`
			Preceding        *ciiReference `xml:"ram:InvoiceReferencedDocument,omitempty"`
		} `xml:"ram:ApplicableHeaderTradeSettlement"`
	} `xml:"rsm:SupplyChainTradeTransaction"`
}

type ciiDate struct {
	Value struct {
		Format string `xml:"format,attr"`
		Text   string `xml:",chardata"`
	} `xml:"udt:DateTimeString"`
}

func dateOf(iso string) (ciiDate, error) {
	d, err := time.Parse(time.DateOnly, iso)
	if err != nil {
		return ciiDate{}, err
	}
	var c ciiDate
	c.Value.Format, c.Value.Text = "102", d.Format("20060102")
	return c, nil
}

// ciiReference names a preceding invoice (BG-3: BT-25, BT-26).
type ciiReference struct {
	ID     string `xml:"ram:IssuerAssignedID"`
	Issued *struct {
		Value struct {
			Format string `xml:"format,attr"`
			Text   string `xml:",chardata"`
		} `xml:"qdt:DateTimeString"`
	} `xml:"ram:FormattedIssueDateTime,omitempty"`
}

type ciiNote struct {
	Content     string `xml:"ram:Content"`
	SubjectCode string `xml:"ram:SubjectCode,omitempty"`
}

type ciiLine struct {
	Doc struct {
		LineID string `xml:"ram:LineID"`
	} `xml:"ram:AssociatedDocumentLineDocument"`
	Product struct {
		Name string `xml:"ram:Name"`
	} `xml:"ram:SpecifiedTradeProduct"`
	Agreement struct {
		NetPrice struct {
			Amount string `xml:"ram:ChargeAmount"`
		} `xml:"ram:NetPriceProductTradePrice"`
	} `xml:"ram:SpecifiedLineTradeAgreement"`
	Delivery struct {
		Quantity struct {
			Unit  string `xml:"unitCode,attr"`
			Value string `xml:",chardata"`
		} `xml:"ram:BilledQuantity"`
	} `xml:"ram:SpecifiedLineTradeDelivery"`
	Settlement struct {
		Tax struct {
			TypeCode     string `xml:"ram:TypeCode"`
			CategoryCode string `xml:"ram:CategoryCode"`
			Rate         string `xml:"ram:RateApplicablePercent"`
		} `xml:"ram:ApplicableTradeTax"`
		Sum struct {
			Total string `xml:"ram:LineTotalAmount"`
		} `xml:"ram:SpecifiedTradeSettlementLineMonetarySummation"`
	} `xml:"ram:SpecifiedLineTradeSettlement"`
}

type ciiID struct {
	Scheme string `xml:"schemeID,attr,omitempty"`
	Value  string `xml:",chardata"`
}

type ciiParty struct {
	Name  string `xml:"ram:Name"`
	Legal *struct {
		ID ciiID `xml:"ram:ID"`
	} `xml:"ram:SpecifiedLegalOrganization,omitempty"`
	Address *ciiAddress `xml:"ram:PostalTradeAddress,omitempty"`
	Tax     []struct {
		ID ciiID `xml:"ram:ID"`
	} `xml:"ram:SpecifiedTaxRegistration,omitempty"`
}

type ciiAddress struct {
	Postcode string `xml:"ram:PostcodeCode,omitempty"`
	Line1    string `xml:"ram:LineOne,omitempty"`
	Line2    string `xml:"ram:LineTwo,omitempty"`
	City     string `xml:"ram:CityName,omitempty"`
	Country  string `xml:"ram:CountryID"`
}

type ciiMeans struct {
	TypeCode string `xml:"ram:TypeCode"`
	Account  struct {
		IBAN string `xml:"ram:IBANID"`
		Name string `xml:"ram:AccountName,omitempty"`
	} `xml:"ram:PayeePartyCreditorFinancialAccount"`
	Institution *struct {
		BIC string `xml:"ram:BICID"`
	} `xml:"ram:PayeeSpecifiedCreditorFinancialInstitution,omitempty"`
}

type ciiTax struct {
	Calculated      string `xml:"ram:CalculatedAmount"`
	TypeCode        string `xml:"ram:TypeCode"`
	ExemptionReason string `xml:"ram:ExemptionReason,omitempty"`
	Basis           string `xml:"ram:BasisAmount"`
	CategoryCode    string `xml:"ram:CategoryCode"`
	// DueDateTypeCode is the VAT point (BT-8): 5, the invoice's date, when
	// the seller pays VAT on debits.
	DueDateTypeCode string `xml:"ram:DueDateTypeCode,omitempty"`
	Rate            string `xml:"ram:RateApplicablePercent"`
}

type ciiTerms struct {
	Description string   `xml:"ram:Description,omitempty"`
	Due         *ciiDate `xml:"ram:DueDateDateTime,omitempty"`
}

type ciiSummation struct {
	LineTotal string `xml:"ram:LineTotalAmount"`
	TaxBasis  string `xml:"ram:TaxBasisTotalAmount"`
	TaxTotal  struct {
		Currency string `xml:"currencyID,attr"`
		Value    string `xml:",chardata"`
	} `xml:"ram:TaxTotalAmount"`
	Rounding   string `xml:"ram:RoundingAmount,omitempty"`
	GrandTotal string `xml:"ram:GrandTotalAmount"`
	Prepaid    string `xml:"ram:TotalPrepaidAmount"`
	DuePayable string `xml:"ram:DuePayableAmount"`
}

// MissingError lists what an invoice lacks for a structured (EN 16931)
// document, by the API's field names, with the business rule each breaks.
type MissingError struct{ Fields map[string]string }

func (e *MissingError) Error() string {
	var parts []string
	for f, rule := range e.Fields {
		parts = append(parts, f+" ("+rule+")")
	}
	return "the invoice lacks what EN 16931 requires: " + strings.Join(parts, ", ")
}

// exemptionReason is the VAT exemption reason (BT-120) stated for lines at
// 0 % when the invoice states none (a private payer's may not): the
// generic one (category E).
const exemptionReason = "Exonération de TVA"

// CII renders the invoice as an EN 16931 CII document; with credit, the
// credit note (from CreditNote) of the invoice it names.
func CII(inv invoice.Invoice, credit *Credit) ([]byte, error) {
	if inv.Status == invoice.StatusDraft || inv.InvoiceNumber == "" {
		return nil, fmt.Errorf("invoicedoc: a draft has no document")
	}
	missing := map[string]string{}
	var d ciiDoc
	d.RSM, d.RAM, d.QDT, d.UDT = nsRSM, nsRAM, nsQDT, nsUDT
	d.Context.Guideline.ID = ProfileEN16931
	d.Document.ID, d.Document.TypeCode = inv.InvoiceNumber, typeInvoice
	issued, err := dateOf(inv.IssueDate)
	if err != nil {
		missing["issue_date"] = "BR-03"
	}
	d.Document.Issued = issued
	if inv.PaymentTerms != "" {
		d.Document.Notes = append(d.Document.Notes, ciiNote{Content: inv.PaymentTerms, SubjectCode: "AAB"})
	}
	t := &d.Transaction
	if len(inv.LineItems) == 0 {
		missing["line_items"] = "BR-16"
	}
	for i, li := range inv.LineItems {
		var l ciiLine
		l.Doc.LineID = fmt.Sprint(i + 1)
		l.Product.Name = li.Description
		l.Agreement.NetPrice.Amount = amount(li.UnitPrice)
		l.Delivery.Quantity.Unit, l.Delivery.Quantity.Value = unitPiece, li.Quantity.String()
		l.Settlement.Tax.TypeCode, l.Settlement.Tax.CategoryCode, l.Settlement.Tax.Rate = "VAT", category(li.VATRate), li.VATRate.String()
		l.Settlement.Sum.Total = amount(li.NetAmount)
		t.Lines = append(t.Lines, l)
	}
	s := inv.Seller
	t.Agreement.Seller = party(sellerName(s), &s.Address)
	if len(s.SIRET) >= 9 {
		t.Agreement.Seller.Legal = &struct {
			ID ciiID `xml:"ram:ID"`
		}{ID: ciiID{Scheme: schemeSIREN, Value: s.SIRET[:9]}}
	}
	if s.VATNumber != "" {
		t.Agreement.Seller.Tax = append(t.Agreement.Seller.Tax, struct {
			ID ciiID `xml:"ram:ID"`
		}{ID: ciiID{Scheme: "VA", Value: s.VATNumber}})
	}
	if t.Agreement.Seller.Name == "" {
		missing["seller.legal_name"] = "BR-06"
	}
	if s.Address.Country == "" {
		missing["seller.address"] = "BR-08, BR-09"
	}
	t.Agreement.Buyer = party(inv.Payer.Name, inv.Payer.Address)
	if inv.Payer.SIREN != "" {
		t.Agreement.Buyer.Legal = &struct {
			ID ciiID `xml:"ram:ID"`
		}{ID: ciiID{Scheme: schemeSIREN, Value: inv.Payer.SIREN}}
	}
	if inv.Payer.VATNumber != "" {
		t.Agreement.Buyer.Tax = append(t.Agreement.Buyer.Tax, struct {
			ID ciiID `xml:"ram:ID"`
		}{ID: ciiID{Scheme: "VA", Value: inv.Payer.VATNumber}})
	}
	if a := inv.DeliveryAddress; a != nil {
		ship := party(inv.Payer.Name, a)
		t.Delivery.ShipTo = &ship
	}
	if inv.ServiceDate != "" {
		at, err := dateOf(inv.ServiceDate)
		if err != nil {
			missing["service_date"] = "BT-72"
		}
		t.Delivery.Event = &struct {
			At ciiDate `xml:"ram:OccurrenceDateTime"`
		}{At: at}
	}
	if inv.Payer.Name == "" {
		missing["payer.name"] = "BR-07"
	}
	if inv.Payer.Address == nil || inv.Payer.Address.Country == "" {
		missing["payer.address"] = "BR-10, BR-11"
	}
	st := &t.Settlement
	st.PaymentReference, st.Currency = inv.InvoiceNumber, inv.Currency
	if b := inv.BankAccount; b != nil && b.IBAN != "" {
		m := &ciiMeans{TypeCode: meansSEPATransfer}
		m.Account.IBAN, m.Account.Name = strings.ReplaceAll(b.IBAN, " ", ""), b.AccountName
		if b.BIC != "" {
			m.Institution = &struct {
				BIC string `xml:"ram:BICID"`
			}{BIC: b.BIC}
		}
		st.Means = m
	}
	standard := false
	for _, v := range inv.VATBreakdown {
		tax := ciiTax{Calculated: amount(v.VATAmount), TypeCode: "VAT", Basis: amount(v.NetAmount), CategoryCode: category(v.VATRate), Rate: v.VATRate.String()}
		if tax.CategoryCode == "E" {
			tax.ExemptionReason = cmpOr(inv.VATExemptionReason, exemptionReason)
		} else {
			standard = true
			if inv.VATOnDebits {
				tax.DueDateTypeCode = "5"
			}
		}
		st.Taxes = append(st.Taxes, tax)
	}
	if standard && s.VATNumber == "" {
		missing["seller.vat_number"] = "BR-S-02"
	}
	if inv.DueDate != "" || inv.PaymentTerms != "" {
		st.Terms = &ciiTerms{Description: inv.PaymentTerms}
		if due, err := dateOf(inv.DueDate); err == nil {
			st.Terms.Due = &due
		}
	}
	sum := &st.Summation
	sum.LineTotal, sum.TaxBasis = amount(inv.TotalNet), amount(inv.TotalNet)
	sum.TaxTotal.Currency, sum.TaxTotal.Value = inv.Currency, amount(inv.TotalVAT)
	sum.GrandTotal, sum.Prepaid, sum.DuePayable = amount(inv.TotalAmount), amount(inv.AmountPaid), amount(inv.TotalAmount-inv.AmountPaid)
	if credit != nil {
		d.Document.TypeCode = typeCreditNote
		ref := &ciiReference{ID: credit.OriginalNumber}
		if d, err := time.Parse(time.DateOnly, credit.OriginalIssueDate); err == nil {
			ref.Issued = &struct {
				Value struct {
					Format string `xml:"format,attr"`
					Text   string `xml:",chardata"`
				} `xml:"qdt:DateTimeString"`
			}{}
			ref.Issued.Value.Format, ref.Issued.Value.Text = "102", d.Format("20060102")
		}
		st.Preceding = ref
		if credit.Reason != "" {
			d.Document.Notes = append(d.Document.Notes, ciiNote{Content: credit.Reason, SubjectCode: "ACB"})
		}
		st.Terms = nil
		if credit.Rounding != 0 {
			sum.Rounding = amount(credit.Rounding)
			sum.DuePayable = amount(inv.TotalAmount - inv.AmountPaid + credit.Rounding)
		}
		if credit.Refund != "" {
			// Paid back already: prepaid is what was refunded, and BR-CO-16
			// (due = total − prepaid + rounding) leaves nothing due.
			sum.Prepaid, sum.DuePayable = amount(inv.TotalAmount+credit.Rounding), amount(0)
		}
	}
	if len(missing) > 0 {
		return nil, &MissingError{Fields: missing}
	}
	out, err := xml.MarshalIndent(d, "", " ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), out...), nil
}

func party(name string, a *organization.Address) ciiParty {
	p := ciiParty{Name: name}
	if a != nil && a.Country != "" {
		p.Address = &ciiAddress{Postcode: a.PostalCode, Line1: a.Line1, Line2: a.Line2, City: a.City, Country: a.Country}
	}
	return p
}

// category is a rate's VAT category (UNCL 5305): S standard rated, E
// exempt at 0 %.
func category(r money.Rate) string {
	if r == 0 {
		return "E"
	}
	return "S"
}

// amount writes cents as a decimal with two places: 40000 → "400.00".
func amount(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d", sign, cents/100, cents%100)
}
