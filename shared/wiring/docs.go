package wiring

import (
	"github.com/modupay/modupay/shared/handlers/docs"
	"github.com/modupay/modupay/shared/httpapi"
)

// docsRoutes serve the OpenAPI document, the changelog and /health. Health
// answers from the function alone: DocsFunction has no data access, and a
// dependency check there would turn an outage into a failing health route
// for a function that still works.
func docsRoutes() []httpapi.Route { return (&docs.Handlers{}).Routes() }
