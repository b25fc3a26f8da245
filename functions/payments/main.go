// Command payments is the PaymentsFunction Lambda of template.yaml: its family's
// constructor, started with its own configuration and secrets.
package main

import (
	"github.com/modupay/modupay/shared/handlers/payments"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/secrets"
)

func main() { lambdaenv.Start("PaymentsFunction", payments.Wire, secrets.FromSecretsManager) }
