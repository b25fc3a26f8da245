// Package metric writes CloudWatch metrics as log attributes, in the
// embedded metric format: a log line carrying them is also a data point of
// the ModuPay namespace, which the template's alarms watch, with no call to
// CloudWatch from the function.
package metric

import (
	"log/slog"
	"time"
)

// Namespace is where ModuPay's own metrics are.
const Namespace = "ModuPay"

// Count is the attributes that make a log line one occurrence of the
// count metric name, at the time at.
func Count(name string, at time.Time) []any {
	return []any{slog.Int(name, 1), slog.Group("_aws", slog.Int64("Timestamp", at.UnixMilli()),
		slog.Any("CloudWatchMetrics", []map[string]any{{"Namespace": Namespace, "Dimensions": [][]string{},
			"Metrics": []map[string]string{{"Name": name, "Unit": "Count"}}}}))}
}
