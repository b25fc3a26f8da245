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
	IntentProcessing = "processing"
	IntentSucceeded  = "succeeded"
	IntentFailed     = "failed"
)

// paymentStatuses is THE mapping from Aiia's payment codes to ModuPay's,
// in the order a payment moves through them. An invoice is paid only on
// PAYMENT_EXECUTED_CREDITED, funds received in the payee's account, as
// Aiia's FAQ advises ("wait until funds have settled into the payee
// account"); INITIATED and PAYMENT_EXECUTED_DEBITED are still "in
// progress": the bank accepted or debited, the payee has nothing yet.
//
//	Aiia code                      aiia_status  intent      final  why
//	PREPARING                      initiated    processing  no     captured; the payer has not authorised yet
//	AUTHORIZING                    initiated    processing  no     the payer is in the bank's authorisation journey
//	PROVIDER_PROCESSING            initiated    processing  no     the bank received it; initiation not confirmed
//	PENDING                        initiated    processing  no     the bank holds it; the payer may have to act
//	INITIATED                      authorized   processing  no     the bank validated and accepted it (≈ ACSP)
//	PAYMENT_EXECUTED_DEBITED       authorized   processing  no     debited from the payer, not yet credited (≈ ACSC)
//	PAYMENT_EXECUTED_CREDITED      settled      succeeded   yes    credited to the payee: funds received (≈ ACCC)
//	FORWARD_SETTLEMENT_INITIATED   settled      succeeded   yes    settlement-account setups: batched to the merchant after success
//	CANCELLED                      rejected     failed      yes    the payer cancelled, or it expired before proceeding
//	FAILED                         rejected     failed      yes    failed; details.code / details.reason say why
//	AUTHORIZATION_FLOW_INCOMPLETE  rejected     failed      yes    the authorisation URL expired or the payer left
//	UNKNOWN                        (keep)       processing  no     Aiia lost access to the bank: reconcile against the
//	                                                               payee's statement; keep polling, park after the
//	                                                               poller's horizon (never assume paid or failed)
//
// Codes not in the table map to ("", processing, not final, unknown): keep
// the current aiia_status and keep polling; log the code.
var paymentStatuses = []paymentStatus{
	{PaymentPreparing, AiiaInitiated, IntentProcessing, false},
	{PaymentAuthorizing, AiiaInitiated, IntentProcessing, false},
	{PaymentProviderProcessing, AiiaInitiated, IntentProcessing, false},
	{PaymentPending, AiiaInitiated, IntentProcessing, false},
	{PaymentInitiated, AiiaAuthorized, IntentProcessing, false},
	{PaymentExecutedDebited, AiiaAuthorized, IntentProcessing, false},
	{PaymentExecutedCredited, AiiaSettled, IntentSucceeded, true},
	{PaymentForwardSettlementInitiated, AiiaSettled, IntentSucceeded, true},
	{PaymentCancelled, AiiaRejected, IntentFailed, true},
	{PaymentFailed, AiiaRejected, IntentFailed, true},
	{PaymentAuthorizationFlowIncomplete, AiiaRejected, IntentFailed, true},
	{PaymentUnknown, "", IntentProcessing, false},
}

type paymentStatus struct {
	code, aiia, intent string
	final              bool
}

// MapPaymentStatus maps Aiia's payment code to ModuPay's aiia_status and
// intent status (see the table on paymentStatuses). final says the status
// will not change any more (stop polling). An empty aiiaStatus means "keep
// the current one" (UNKNOWN, and codes this table does not know, for which
// known is false).
func MapPaymentStatus(code string) (aiiaStatus, intentStatus string, final bool, known bool) {
	for _, s := range paymentStatuses {
		if s.code == code {
			return s.aiia, s.intent, s.final, true
		}
	}
	return "", IntentProcessing, false, false
}

// PaymentCodes lists every payment code MapPaymentStatus knows, in order.
func PaymentCodes() []string {
	codes := make([]string, len(paymentStatuses))
	for i, s := range paymentStatuses {
		codes[i] = s.code
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
// (PREPARING → PENDING → PAYMENT_EXECUTED_DEBITED); otherwise it only hands
// back the payer's account (PAYMENT_RAILS_AVAILABLE) or cannot
// (PAYMENT_RAILS_UNAVAILABLE), and ModuPay must pay the refund out itself or
// ask the payer for an account: nothing more will happen at Aiia on its own,
// so those are final, as requires_action.
//
//	Aiia code                  refund status    final  why
//	PREPARING                  pending          no     accepted, not started
//	PENDING                    pending          no     being executed
//	CAPTURING_SOURCE_ACCOUNT   pending          no     the payer is connecting an account to be refunded to
//	PAYMENT_EXECUTED_DEBITED   succeeded        yes    paid out from the settlement account
//	PAYMENT_RAILS_AVAILABLE    requires_action  yes    no settlement account: pay the payer's account (GET /refunds/{id}/payment-rails)
//	PAYMENT_RAILS_UNAVAILABLE  requires_action  yes    the payer's account is unknown: POST /refunds/{id}/payment-rails to ask for one
//	FAILED                     failed           yes    details.code / details.reason say why
var refundStatuses = []refundStatus{
	{RefundPreparing, RefundStatusPending, false},
	{RefundPending, RefundStatusPending, false},
	{RefundCapturingSourceAccount, RefundStatusPending, false},
	{RefundExecutedDebited, RefundStatusSucceeded, true},
	{RefundPaymentRailsAvailable, RefundStatusRequiresAction, true},
	{RefundPaymentRailsUnavailable, RefundStatusRequiresAction, true},
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
