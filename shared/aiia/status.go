package aiia

// Aiia's payment status codes (spec PaymentStatusCode, GET /payments/{id}
// → status.code).
const (
	PaymentPreparing                   = "PREPARING"
	PaymentAuthorizing                 = "AUTHORIZING"
	PaymentProviderProcessing          = "PROVIDER_PROCESSING"
	PaymentPending                     = "PENDING"
	PaymentInitiated                   = "INITIATED"
	PaymentExecutedDebited             = "PAYMENT_EXECUTED_DEBITED"
	PaymentExecutedCredited            = "PAYMENT_EXECUTED_CREDITED"
	PaymentForwardSettlementInitiated  = "FORWARD_SETTLEMENT_INITIATED"
	PaymentCancelled                   = "CANCELLED"
	PaymentFailed                      = "FAILED"
	PaymentAuthorizationFlowIncomplete = "AUTHORIZATION_FLOW_INCOMPLETE"
	PaymentUnknown                     = "UNKNOWN"
)

// ModuPay's aiia_status values (seed 000: "Le champ aiia_status du
// PaymentIntent reflète l'état côté Aiia").
const (
	AiiaInitiated  = "initiated"  // virement initié
	AiiaAuthorized = "authorized" // virement autorisé par la banque
	AiiaSettled    = "settled"    // virement exécuté (fonds reçus)
	AiiaRejected   = "rejected"   // virement rejeté
)

// The payment intent statuses a payment at Aiia can put an intent in.
const (
	IntentProcessing     = "processing"
	IntentSucceeded      = "succeeded"
	IntentFailed         = "failed"
	IntentRequiresAction = "requires_action"
)

// ModuPay's funds_status of a succeeded payment: how far the provider saw
// the money go.
const (
	FundsDebited  = "debited"  // debited from the payer's account (≈ ACSC)
	FundsCredited = "credited" // confirmed credited to the payee's (≈ ACCC)
)

// paymentStatuses is THE mapping from Aiia's payment codes to ModuPay's,
// in the order a payment moves through them. The provider documents both
// PAYMENT_EXECUTED_DEBITED and PAYMENT_EXECUTED_CREDITED as successful and
// final, and stops following a payment once it is final: many banks never
// confirm the credit, so waiting for CREDITED alone would leave such an
// invoice unpaid for ever. Either marks the intent succeeded (the invoice
// paid), and funds_status records which was reached: "debited" (the payer's
// bank executed it; the credit is the SEPA scheme's, next business day at
// most) or "credited" (confirmed on the payee's account). A partner that
// releases goods only on money seen in the account waits for "credited"
// or reconciles against the statement.
//
//	Aiia code                      aiia_status  intent           funds     final  why
//	PREPARING                      initiated    processing                 no     captured; the payer has not authorised yet
//	AUTHORIZING                    initiated    processing                 no     the payer is in the bank's authorisation journey
//	PROVIDER_PROCESSING            initiated    processing                 no     the bank received it; initiation not confirmed
//	PENDING                        initiated    processing                 no     the bank holds it; the payer may have to act
//	INITIATED                      authorized   processing                 no     the bank validated and accepted it (≈ ACSP)
//	PAYMENT_EXECUTED_DEBITED       settled      succeeded        debited   yes    executed, debited from the payer (≈ ACSC)
//	PAYMENT_EXECUTED_CREDITED      settled      succeeded        credited  yes    credited to the payee: funds received (≈ ACCC)
//	FORWARD_SETTLEMENT_INITIATED   settled      succeeded        credited  yes    settlement-account setups: batched to the merchant after success
//	CANCELLED                      rejected     failed                     yes    the payer cancelled, or it expired before proceeding
//	FAILED                         rejected     failed                     yes    failed; details.code / details.reason say why
//	AUTHORIZATION_FLOW_INCOMPLETE  rejected     failed                     yes    the authorisation URL expired or the payer left
//	UNKNOWN                        (keep)       requires_action            yes    Aiia lost access to the bank (after ~6 days without news) and
//	                                                                              stops following it: never assumed paid or failed; the
//	                                                                              organisation reconciles against its statement
//
// Codes not in the table map to ("", processing, not final, unknown): keep
// the current aiia_status and keep polling; log the code.
var paymentStatuses = []PaymentState{
	{PaymentPreparing, AiiaInitiated, IntentProcessing, "", false},
	{PaymentAuthorizing, AiiaInitiated, IntentProcessing, "", false},
	{PaymentProviderProcessing, AiiaInitiated, IntentProcessing, "", false},
	{PaymentPending, AiiaInitiated, IntentProcessing, "", false},
	{PaymentInitiated, AiiaAuthorized, IntentProcessing, "", false},
	{PaymentExecutedDebited, AiiaSettled, IntentSucceeded, FundsDebited, true},
	{PaymentExecutedCredited, AiiaSettled, IntentSucceeded, FundsCredited, true},
	{PaymentForwardSettlementInitiated, AiiaSettled, IntentSucceeded, FundsCredited, true},
	{PaymentCancelled, AiiaRejected, IntentFailed, "", true},
	{PaymentFailed, AiiaRejected, IntentFailed, "", true},
	{PaymentAuthorizationFlowIncomplete, AiiaRejected, IntentFailed, "", true},
	{PaymentUnknown, "", IntentRequiresAction, "", true},
}

// PaymentState is what a payment code means for ModuPay (a row of the
// table on paymentStatuses).
type PaymentState struct {
	Code string
	// AiiaStatus is the intent's aiia_status; empty: keep the current one.
	AiiaStatus   string
	IntentStatus string
	// Funds is a succeeded payment's funds_status (FundsDebited,
	// FundsCredited).
	Funds string
	// Final says the status will not change any more: stop polling.
	Final bool
}

// MapPaymentStatus maps Aiia's payment code (see the table on
// paymentStatuses); known is false for a code the table does not hold,
// which keeps the current aiia_status and polling.
func MapPaymentStatus(code string) (st PaymentState, known bool) {
	for _, s := range paymentStatuses {
		if s.Code == code {
			return s, true
		}
	}
	return PaymentState{Code: code, IntentStatus: IntentProcessing}, false
}

// PaymentCodes lists every payment code MapPaymentStatus knows, in order.
func PaymentCodes() []string {
	codes := make([]string, len(paymentStatuses))
	for i, s := range paymentStatuses {
		codes[i] = s.Code
	}
	return codes
}

// Aiia's refund status codes (GET /refunds/{id} → status.code).
const (
	RefundPreparing               = "PREPARING"
	RefundPending                 = "PENDING"
	RefundCapturingSourceAccount  = "CAPTURING_SOURCE_ACCOUNT"
	RefundExecutedDebited         = "PAYMENT_EXECUTED_DEBITED"
	RefundPaymentRailsAvailable   = "PAYMENT_RAILS_AVAILABLE"
	RefundPaymentRailsUnavailable = "PAYMENT_RAILS_UNAVAILABLE"
	RefundFailed                  = "FAILED"
)

// ModuPay's refund statuses.
const (
	RefundStatusPending        = "pending"
	RefundStatusSucceeded      = "succeeded"
	RefundStatusFailed         = "failed"
	RefundStatusRequiresAction = "requires_action"
)

// refundStatuses is THE mapping of Aiia's refund codes. Aiia executes a
// refund itself only for merchants with a Mastercard Settlement Account
// (PREPARING → PENDING → PAYMENT_EXECUTED_DEBITED); otherwise it hands back
// the payer's account (PAYMENT_RAILS_AVAILABLE), or, when the payer's bank
// did not report it (PAYMENT_RAILS_UNAVAILABLE), opens a flow where the
// payer connects one (CAPTURING_SOURCE_ACCOUNT, then AVAILABLE), and the
// merchant pays the refund out itself: requires_action. AVAILABLE is final
// at the provider (nothing more will happen there); UNAVAILABLE and
// CAPTURING are not: ModuPay keeps following until the payer's account is
// known or the flow expires (see refundrails.go).
//
//	Aiia code                  refund status    final  why
//	PREPARING                  pending          no     accepted, not started
//	PENDING                    pending          no     being executed
//	PAYMENT_RAILS_UNAVAILABLE  requires_action  no     the payer's account is unknown: POST /refunds/{id}/payment-rails asks the payer for one
//	CAPTURING_SOURCE_ACCOUNT   requires_action  no     the payer is connecting the account to be refunded to
//	PAYMENT_RAILS_AVAILABLE    requires_action  yes    no settlement account: pay the payer's account (GET /refunds/{id}/payment-rails)
//	PAYMENT_EXECUTED_DEBITED   succeeded        yes    paid out from the settlement account
//	FAILED                     failed           yes    details.code / details.reason say why
var refundStatuses = []refundStatus{
	{RefundPreparing, RefundStatusPending, false},
	{RefundPending, RefundStatusPending, false},
	{RefundPaymentRailsUnavailable, RefundStatusRequiresAction, false},
	{RefundCapturingSourceAccount, RefundStatusRequiresAction, false},
	{RefundPaymentRailsAvailable, RefundStatusRequiresAction, true},
	{RefundExecutedDebited, RefundStatusSucceeded, true},
	{RefundFailed, RefundStatusFailed, true},
}

type refundStatus struct {
	code, status string
	final        bool
}

// MapRefundStatus maps Aiia's refund code (see the table on refundStatuses).
// Unknown codes are (pending, not final, false).
func MapRefundStatus(code string) (status string, final bool, known bool) {
	for _, s := range refundStatuses {
		if s.code == code {
			return s.status, s.final, true
		}
	}
	return RefundStatusPending, false, false
}

// RefundCodes lists every refund code MapRefundStatus knows, in order.
func RefundCodes() []string {
	codes := make([]string, len(refundStatuses))
	for i, s := range refundStatuses {
		codes[i] = s.code
	}
	return codes
}

// Aiia's refund reasons (spec enum of POST /payments/{id}/refunds reason).
const (
	RefundReasonDuplicateOrder     = "DUPLICATE_ORDER"
	RefundReasonOrderCancelled     = "ORDER_CANCELLED"
	RefundReasonMerchantOutOfStock = "MERCHANT_OUT_OF_STOCK"
	RefundReasonGoodsNotReceived   = "GOODS_NOT_RECEIVED"
	RefundReasonLateConfirmation   = "LATE_CONFIRMATION"
	RefundReasonDisputes           = "DISPUTES"
	RefundReasonGoodsReturned      = "GOODS_RETURNED"
	refundClientReferenceMaxLength = 128
	defaultRefundReason            = RefundReasonOrderCancelled
)

// RefundReasons lists Aiia's refund reasons.
var RefundReasons = []string{
	RefundReasonDuplicateOrder, RefundReasonOrderCancelled, RefundReasonMerchantOutOfStock,
	RefundReasonGoodsNotReceived, RefundReasonLateConfirmation, RefundReasonDisputes, RefundReasonGoodsReturned,
}

func isRefundReason(s string) bool {
	for _, r := range RefundReasons {
		if r == s {
			return true
		}
	}
	return false
}
