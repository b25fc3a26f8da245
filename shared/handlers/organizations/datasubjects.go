package organizations

import (
	"context"
	"net/http"

	"github.com/modupay/modupay/shared/datasubject"
	"github.com/modupay/modupay/shared/httpapi"
)

// exportResponse is the export with the list pagination of every /v1 list
// (over the payer's invoices).
type exportResponse struct {
	datasubject.Export
	Pagination httpapi.Pagination `json:"pagination"`
}

// A payer's rights (GDPR), answered by the organisation as data controller:
// the organisation comes from the path, like its other settings.
func (h *Handlers) exportDataSubject(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	q, err := r.PageParams()
	if err != nil {
		return nil, err
	}
	if r.Query.Get("page_size") == "" {
		q.Size = datasubject.DefaultExportPageSize
	}
	ex, err := h.DataSubjects.Export(ctx, t.PartnerID, t.OrgID, r.Query.Get("email"), q)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, exportResponse{Export: ex, Pagination: httpapi.NewPagination(q, ex.Total, ex.Next)})
}

func (h *Handlers) eraseDataSubject(ctx context.Context, r *httpapi.Request) (*httpapi.Response, error) {
	t := r.Tenant
	var in datasubject.EraseInput
	if err := httpapi.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	res, err := h.DataSubjects.Erase(ctx, t.PartnerID, t.OrgID, r.Actor(), in)
	if err != nil {
		return nil, err
	}
	return httpapi.JSON(http.StatusOK, res)
}
