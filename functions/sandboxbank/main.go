// Command sandboxbank is the SandboxBankFunction Lambda of template.yaml
// (sandbox stage only): its family's constructor, started with its own
// configuration.
package main

import (
	"github.com/modupay/modupay/shared/handlers/sandboxbank"
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/lambdaenv/secrets"
)

func main() { lambdaenv.Start("SandboxBankFunction", sandboxbank.Wire, secrets.FromSecretsManager) }
