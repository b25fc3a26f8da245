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
		if _, _, _, known := MapPaymentStatus(code); !known {
			t.Errorf("MapPaymentStatus(%s): not in the table", code)
		}
	}
	if got, want := len(PaymentCodes()), len(documentedPaymentCodes); got != want {
		t.Errorf("the table has %d codes, aiia.md documents %d", got, want)
	}
	aiia := []string{AiiaInitiated, AiiaAuthorized, AiiaSettled, AiiaRejected, ""}
	for _, code := range PaymentCodes() {
		a, intent, final, _ := MapPaymentStatus(code)
		if !slices.Contains(aiia, a) {
			t.Errorf("%s → aiia_status %q, not a seed value", code, a)
		}
		switch intent {
		case IntentProcessing:
			if final {
				t.Errorf("%s is processing and final", code)
			}
		case IntentSucceeded, IntentFailed:
			if !final {
				t.Errorf("%s is %s but not final", code, intent)
			}
		default:
			t.Errorf("%s → intent %q", code, intent)
		}
		if (a == AiiaSettled) != (intent == IntentSucceeded) || (a == AiiaRejected) != (intent == IntentFailed) {
			t.Errorf("%s: aiia_status %s and intent %s disagree", code, a, intent)
		}
	}
}

func TestPaymentStatusMapping(t *testing.T) {
	tests := []struct {
		code, aiia, intent string
		final, known       bool
	}{
		{"PREPARING", "initiated", "processing", false, true},
		{"INITIATED", "authorized", "processing", false, true},
		{"PAYMENT_EXECUTED_DEBITED", "authorized", "processing", false, true},
		{"PAYMENT_EXECUTED_CREDITED", "settled", "succeeded", true, true},
		{"FAILED", "rejected", "failed", true, true},
		{"CANCELLED", "rejected", "failed", true, true},
		{"AUTHORIZATION_FLOW_INCOMPLETE", "rejected", "failed", true, true},
		{"UNKNOWN", "", "processing", false, true},
		{"SOMETHING_NEW", "", "processing", false, false},
		{"", "", "processing", false, false},
	}
	for _, tt := range tests {
		a, intent, final, known := MapPaymentStatus(tt.code)
		if a != tt.aiia || intent != tt.intent || final != tt.final || known != tt.known {
			t.Errorf("MapPaymentStatus(%q) = %q, %q, %v, %v; want %q, %q, %v, %v",
				tt.code, a, intent, final, known, tt.aiia, tt.intent, tt.final, tt.known)
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
