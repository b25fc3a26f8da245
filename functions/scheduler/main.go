// Command scheduler is the SchedulerFunction Lambda of template.yaml: its family's
// constructor, started with its own configuration.
package main

import (
	"github.com/modupay/modupay/shared/lambdaenv"
	"github.com/modupay/modupay/shared/scheduler"
)

func main() { lambdaenv.Start("SchedulerFunction", scheduler.Wire, nil) }
