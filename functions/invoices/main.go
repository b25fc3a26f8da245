// Command invoices is the InvoicesFunction Lambda of template.yaml: its family's
// constructor, started with its own configuration and secrets.
package main

import (
	"github.com/modupay/modupay/shared/handlers/invoices"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/secrets"
)

func main() { lambdaenv.Start("InvoicesFunction", invoices.Wire, secrets.FromSecretsManager) }
