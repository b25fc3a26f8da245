package aiia

import (
	"slices"
	"testing"
)

// Every payment code of /work/shared/reference/aiia.md §4 (spec
// PaymentStatusCode) must be in the table.
var documentedPaymentCodes = []string{
	"PREPARING", "AUTHORIZING", "PROVIDER_PROCESSING", "PENDING", "INITIATED",
	"PAYMENT_EXECUTED_DEBITED", "PAYMENT_EXECUTED_CREDITED", "CANCELLED", "FAILED",
	"UNKNOWN", "AUTHORIZATION_FLOW_INCOMPLETE", "FORWARD_SETTLEMENT_INITIATED",
}

// Every refund code of aiia.md §7.
var documentedRefundCodes = []string{
	"PREPARING", "PENDING", "PAYMENT_EXECUTED_DEBITED", "PAYMENT_RAILS_AVAILABLE",
	"PAYMENT_RAILS_UNAVAILABLE", "CAPTURING_SOURCE_ACCOUNT", "FAILED",
}

func TestPaymentStatusTableIsComplete(t *testing.T) {
	for _, code := range documentedPaymentCodes {
		if _, known := MapPaymentStatus(code); !known {
			t.Errorf("MapPaymentStatus(%s): not in the table", code)
		}
	}
	if got, want := len(PaymentCodes()), len(documentedPaymentCodes); got != want {
		t.Errorf("the table has %d codes, aiia.md documents %d", got, want)
	}
	aiia := []string{AiiaInitiated, AiiaAuthorized, AiiaSettled, AiiaRejected, ""}
	for _, code := range PaymentCodes() {
		st, _ := MapPaymentStatus(code)
		if !slices.Contains(aiia, st.AiiaStatus) {
			t.Errorf("%s → aiia_status %q, not a seed value", code, st.AiiaStatus)
		}
		switch st.IntentStatus {
		case IntentProcessing:
			if st.Final {
				t.Errorf("%s is processing and final", code)
			}
		case IntentSucceeded, IntentFailed, IntentRequiresAction:
			if !st.Final {
				t.Errorf("%s is %s but not final", code, st.IntentStatus)
			}
		default:
			t.Errorf("%s → intent %q", code, st.IntentStatus)
		}
		if (st.AiiaStatus == AiiaSettled) != (st.IntentStatus == IntentSucceeded) || (st.AiiaStatus == AiiaRejected) != (st.IntentStatus == IntentFailed) {
			t.Errorf("%s: aiia_status %s and intent %s disagree", code, st.AiiaStatus, st.IntentStatus)
		}
		// A success says how far the money went; nothing else does.
		if (st.IntentStatus == IntentSucceeded) != (st.Funds == FundsDebited || st.Funds == FundsCredited) {
			t.Errorf("%s: intent %s with funds %q", code, st.IntentStatus, st.Funds)
		}
	}
}

func TestPaymentStatusMapping(t *testing.T) {
	tests := []struct {
		code, aiia, intent, funds string
		final, known              bool
	}{
		{"PREPARING", "initiated", "processing", "", false, true},
		{"INITIATED", "authorized", "processing", "", false, true},
		// Both executions are final successes: the provider may stop at
		// either (a payment that ends at DEBITED must pay its invoice).
		{"PAYMENT_EXECUTED_DEBITED", "settled", "succeeded", "debited", true, true},
		{"PAYMENT_EXECUTED_CREDITED", "settled", "succeeded", "credited", true, true},
		{"FORWARD_SETTLEMENT_INITIATED", "settled", "succeeded", "credited", true, true},
		{"FAILED", "rejected", "failed", "", true, true},
		{"CANCELLED", "rejected", "failed", "", true, true},
		{"AUTHORIZATION_FLOW_INCOMPLETE", "rejected", "failed", "", true, true},
		// Lost track of: neither paid nor failed, and no more news.
		{"UNKNOWN", "", "requires_action", "", true, true},
		{"SOMETHING_NEW", "", "processing", "", false, false},
		{"", "", "processing", "", false, false},
	}
	for _, tt := range tests {
		st, known := MapPaymentStatus(tt.code)
		if st.AiiaStatus != tt.aiia || st.IntentStatus != tt.intent || st.Funds != tt.funds || st.Final != tt.final || known != tt.known {
			t.Errorf("MapPaymentStatus(%q) = %+v, %v; want %q, %q, %q, %v, %v",
				tt.code, st, known, tt.aiia, tt.intent, tt.funds, tt.final, tt.known)
		}
	}
}

func TestRefundStatusTableIsComplete(t *testing.T) {
	for _, code := range documentedRefundCodes {
		if _, _, known := MapRefundStatus(code); !known {
			t.Errorf("MapRefundStatus(%s): not in the table", code)
		}
	}
	if got, want := len(RefundCodes()), len(documentedRefundCodes); got != want {
		t.Errorf("the table has %d codes, aiia.md documents %d", got, want)
	}
	tests := []struct {
		code, status string
		final, known bool
	}{
		{"PREPARING", "pending", false, true},
		{"PAYMENT_EXECUTED_DEBITED", "succeeded", true, true},
		{"PAYMENT_RAILS_AVAILABLE", "requires_action", true, true},
		{"PAYMENT_RAILS_UNAVAILABLE", "requires_action", false, true},
		{"CAPTURING_SOURCE_ACCOUNT", "requires_action", false, true},
		{"FAILED", "failed", true, true},
		{"NEW", "pending", false, false},
	}
	for _, tt := range tests {
		s, final, known := MapRefundStatus(tt.code)
		if s != tt.status || final != tt.final || known != tt.known {
			t.Errorf("MapRefundStatus(%q) = %q, %v, %v; want %q, %v, %v", tt.code, s, final, known, tt.status, tt.final, tt.known)
		}
	}
}
