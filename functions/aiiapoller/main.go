// Command aiiapoller is the AiiaPollerFunction Lambda of template.yaml: its family's
// constructor, started with its own configuration and secrets.
package main

import (
	"github.com/modupay/modupay/shared/aiiapoll"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/secrets"
)

func main() { lambdaenv.Start("AiiaPollerFunction", aiiapoll.Wire, secrets.FromSecretsManager) }
