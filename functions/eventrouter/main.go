// Command eventrouter is the EventRouterFunction Lambda of template.yaml: its family's
// constructor, started with its own configuration.
package main

import (
	"github.com/modupay/modupay/shared/eventrouter"
	"github.com/modupay/modupay/shared/lambdaenv"
)

func main() { lambdaenv.Start("EventRouterFunction", eventrouter.Wire, nil) }
