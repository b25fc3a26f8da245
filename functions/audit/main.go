// Command audit is the AuditFunction Lambda of template.yaml: its family's
// constructor, started with its own configuration and secrets.
package main

import (
	"github.com/modupay/modupay/shared/handlers/audit"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/secrets"
)

func main() { lambdaenv.Start("AuditFunction", audit.Wire, secrets.FromSecretsManager) }
