// Command envjson writes infra/sam/env.json (`make sam-env`): every
// function's variables for `sam local`, derived from template.yaml
// (stack.SAMLocalEnv), so the file cannot drift from the template.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/modupay/modupay/infra/stack"
)

func main() {
	tpl, err := stack.Load("template.yaml")
	if err == nil {
		var env map[string]map[string]string
		if env, err = stack.SAMLocalEnv(tpl); err == nil {
			var b []byte
			if b, err = json.MarshalIndent(env, "", "  "); err == nil {
				err = os.WriteFile("infra/sam/env.json", append(b, '\n'), 0o644)
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "envjson:", err)
		os.Exit(1)
	}
}
