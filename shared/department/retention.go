package department

import "time"

// KYCRetentionYears is how long a department's KYC file (the
// representative's identity, date of birth and role, the decision) and its
// documents (identity document, RIB, appointment act or Kbis) are kept after
// the department is closed: 5 years after the end of the business
// relationship, as French anti-money-laundering law requires of the
// documents that identified a customer (Code monétaire et financier,
// L561-12), and no longer (GDPR article 5(1)(e), storage limitation).
const KYCRetentionYears = 5

// KYCRetainedUntil is when a closed department's KYC is deleted: the same
// calendar day KYCRetentionYears after closedAt (a closure on 29 February
// is kept until 1 March), in UTC.
func KYCRetainedUntil(closedAt time.Time) time.Time {
	return closedAt.UTC().AddDate(KYCRetentionYears, 0, 0)
}
