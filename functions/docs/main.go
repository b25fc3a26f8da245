// Command docs is the DocsFunction Lambda of template.yaml: its family's
// constructor, started with its own configuration.
package main

import (
	"github.com/modupay/modupay/shared/handlers/docs"
	"github.com/modupay/modupay/shared/lambdaenv"
)

func main() { lambdaenv.Start("DocsFunction", docs.Wire, nil) }
