// Command webhookdispatcher is the WebhookDispatcherFunction Lambda of template.yaml: its family's
// constructor, started with its own configuration.
package main

import (
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/webhook/webhookdispatch"
)

func main() { lambdaenv.Start("WebhookDispatcherFunction", webhookdispatch.Wire, nil) }
