// Command dashboard is the DashboardFunction Lambda of template.yaml: its
// family's constructor, started with its own configuration and secrets.
package main

import (
	"github.com/modupay/modupay/shared/handlers/dashboard"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/secrets"
)

func main() { lambdaenv.Start("DashboardFunction", dashboard.Wire, secrets.FromSecretsManager) }
