// Command auditwriter is the AuditWriterFunction Lambda of template.yaml: its family's
// constructor, started with its own configuration.
package main

import (
	"github.com/modupay/modupay/shared/audit/auditwriter"
	"github.com/modupay/modupay/shared/lambdaenv"
)

func main() { lambdaenv.Start("AuditWriterFunction", auditwriter.Wire, nil) }
