package invoice

import (
	"net/url"
	"time"

	"github.com/modupay/modupay/shared/apperr"
)

// FilterParams are the query parameters FilterOf reads.
var FilterParams = []string{"status", "department_id", "payer_email", "due_date_from", "due_date_to", "created_from", "created_to"}

// FilterOf reads a list's filters from query parameters — status,
// department_id, payer_email, due_date_from/to (days), created_from/to
// (RFC 3339 times) — as GET /v1/invoices and the dashboard's invoice list
// take them; a malformed date is a 422 naming its parameter. Paging is the
// caller's.
func FilterOf(op string, v url.Values) (Filter, error) {
	f := Filter{Status: v.Get("status"), DepartmentID: v.Get("department_id"), PayerEmail: v.Get("payer_email")}
	for _, d := range []struct {
		param string
		into  *string
	}{{"due_date_from", &f.DueFrom}, {"due_date_to", &f.DueTo}} {
		if s := v.Get(d.param); s != "" {
			if _, err := time.Parse(time.DateOnly, s); err != nil {
				return Filter{}, apperr.Field(op, d.param, d.param+" must be a date YYYY-MM-DD")
			}
			*d.into = s
		}
	}
	for _, d := range []struct {
		param string
		into  *time.Time
	}{{"created_from", &f.CreatedFrom}, {"created_to", &f.CreatedTo}} {
		if s := v.Get(d.param); s != "" {
			ts, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return Filter{}, apperr.Field(op, d.param, d.param+" must be an RFC 3339 date-time, e.g. 2024-02-01T00:00:00Z")
			}
			*d.into = ts
		}
	}
	return f, nil
}
