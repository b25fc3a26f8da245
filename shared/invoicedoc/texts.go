package invoicedoc

// texts are the document's words in its language (French by default).
func texts(lang string) map[string]string {
	if lang == "en" {
		return words["en"]
	}
	return words["fr"]
}

var words = map[string]map[string]string{
	"fr": {
		"invoice": "Facture", "number": "N°", "issued": "Date d'émission", "due": "Date d'échéance",
		"siren": "SIREN", "siret": "SIRET", "vat_number": "N° TVA intracommunautaire", "department": "Service émetteur",
		"billed_to": "Facturé à", "description": "Désignation", "quantity": "Qté", "unit_price": "PU HT", "vat_rate": "TVA", "net": "Montant HT",
		"total_net": "Total HT", "vat": "TVA", "base": "sur", "total": "Total TTC", "paid": "Déjà réglé", "due_amount": "Reste à payer",
		"terms":      "Conditions de paiement",
		"discount":   "Escompte pour paiement anticipé : néant.",
		"penalties":  "Pénalités de retard : taux d'intérêt appliqué par la Banque centrale européenne à son opération de refinancement la plus récente, majoré de 10 points (art. L441-10 du Code de commerce), exigibles dès le lendemain de l'échéance.",
		"indemnity":  "Indemnité forfaitaire pour frais de recouvrement due en cas de retard de paiement : 40 € (art. D441-5 du Code de commerce).",
		"how_to_pay": "Comment payer", "pay_online": "Payer en ligne", "transfer": "Par virement à", "reference": "Référence à indiquer",
		"page": "Page", "credit_note": "Avoir", "credit_of": "Avoir sur la facture N° %s du %s", "reason": "Motif", "delivered_to": "Livré à", "operation": "Catégorie de l'opération",
		"operation_goods": "livraison de biens", "operation_services": "prestation de services", "operation_mixed": "livraison de biens et prestation de services",
		"service_date": "Date de la livraison ou de la prestation", "vat_on_debits": "Option pour le paiement de la taxe d'après les débits.", "rounding": "Arrondi", "credited": "Montant remboursé",
		"vat_exemption": "Exonération de TVA",
		"refunded":      "Montant remboursé au payeur (remboursement %s) : rien ne reste à rembourser.",
	},
	"en": {
		"invoice": "Invoice", "number": "No.", "issued": "Issue date", "due": "Due date",
		"siren": "SIREN", "siret": "SIRET", "vat_number": "VAT number", "department": "Issuing department",
		"billed_to": "Billed to", "description": "Description", "quantity": "Qty", "unit_price": "Unit price excl. VAT", "vat_rate": "VAT", "net": "Amount excl. VAT",
		"total_net": "Total excl. VAT", "vat": "VAT", "base": "on", "total": "Total incl. VAT", "paid": "Already paid", "due_amount": "Amount due",
		"terms":      "Payment terms",
		"discount":   "No discount for early payment.",
		"penalties":  "Late-payment penalties: the European Central Bank's rate on its most recent refinancing operation plus 10 points (French Commercial Code, art. L441-10), due from the day after the due date.",
		"indemnity":  "Fixed indemnity for recovery costs in case of late payment: €40 (French Commercial Code, art. D441-5).",
		"how_to_pay": "How to pay", "pay_online": "Pay online", "transfer": "By transfer to", "reference": "Reference to quote",
		"page": "Page", "credit_note": "Credit note", "credit_of": "Credit note on invoice No. %s of %s", "reason": "Reason", "delivered_to": "Delivered to", "operation": "Operation category",
		"operation_goods": "supply of goods", "operation_services": "supply of services", "operation_mixed": "supply of goods and services",
		"service_date": "Date of delivery or service", "vat_on_debits": "VAT paid on debits (option pour le paiement de la taxe d'après les débits).", "rounding": "Rounding", "credited": "Amount refunded",
		"vat_exemption": "VAT exemption",
		"refunded":      "Amount refunded to the payer (refund %s): nothing is left to refund.",
	},
}
