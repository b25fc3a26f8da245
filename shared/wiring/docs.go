package wiring

import "github.com/modupay/modupay/shared/httpapi"

func docsRoutes() []httpapi.Route { return nil }
