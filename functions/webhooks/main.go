// Command webhooks is the WebhooksFunction Lambda of template.yaml: its family's
// constructor, started with its own configuration and secrets.
package main

import (
	"github.com/modupay/modupay/shared/handlers/webhooks"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/secrets"
)

func main() { lambdaenv.Start("WebhooksFunction", webhooks.Wire, secrets.FromSecretsManager) }
