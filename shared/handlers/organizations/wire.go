package organizations

import (
	"github.com/modupay/modupay/shared/branding"
	"github.com/modupay/modupay/shared/datasubject"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/edge"
	"github.com/modupay/modupay/shared/lambdaenv/table"
	"github.com/modupay/modupay/shared/organization"
)

// Organizations is the container's organisation service.
func Organizations(e *lambdaenv.Env) *organization.Service {
	return lambdaenv.Shared(e, "organization.Service", func() *organization.Service {
		return &organization.Service{Store: table.Store(e), Mode: e.Config.Mode(), Now: e.Stamp, NewID: e.NewID}
	})
}

// Departments is the container's department service.
func Departments(e *lambdaenv.Env) *department.Service {
	return lambdaenv.Shared(e, "department.Service", func() *department.Service {
		return &department.Service{Store: table.Store(e), Mode: e.Config.Mode(), Now: e.Stamp, NewID: e.NewID}
	})
}

// DataSubjects is the container's GDPR rights service; its exports read
// the audit trail about the payer's resources through the trail's reader.
func DataSubjects(e *lambdaenv.Env) *datasubject.Service {
	return lambdaenv.Shared(e, "datasubject.Service", func() *datasubject.Service {
		store := table.Store(e)
		return &datasubject.Service{Store: store, Audit: store.Audit, Now: e.Stamp, NewID: e.NewID}
	})
}

// Wire builds OrganizationsFunction: organisations, departments, bank
// accounts, KYC, branding and the payers' GDPR rights.
func Wire(e *lambdaenv.Env) (lambdaenv.Function, error) {
	h := &Handlers{Organizations: Organizations(e), Departments: Departments(e),
		Branding: &branding.Service{Store: table.Store(e), Now: e.Stamp, NewID: e.NewID}, DataSubjects: DataSubjects(e)}
	return edge.HTTP(e, h.Routes()...)
}
