// Command checkout is the CheckoutFunction Lambda of template.yaml: its family's
// constructor, started with its own configuration and secrets.
package main

import (
	"github.com/modupay/modupay/shared/handlers/checkout"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/secrets"
)

func main() { lambdaenv.Start("CheckoutFunction", checkout.Wire, secrets.FromSecretsManager) }
