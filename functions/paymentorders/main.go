// Command paymentorders is the PaymentOrdersFunction Lambda of
// template.yaml: its family's constructor, started with its own
// configuration and secrets.
package main

import (
	"github.com/modupay/modupay/shared/handlers/paymentorders"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/secrets"
)

func main() {
	lambdaenv.Start("PaymentOrdersFunction", paymentorders.Wire, secrets.FromSecretsManager)
}
