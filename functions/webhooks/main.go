// Command webhooks is the WebhooksFunction Lambda of template.yaml: wiring only.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/modupay/modupay/shared/wiring"
)

func main() { lambda.Start(wiring.MustFunction("WebhooksFunction")) }
