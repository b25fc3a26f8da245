package stack

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/modupay/modupay/shared/lambdaenv"
)

// translate runs the AWS SAM translator (the library `sam deploy` and
// cfn-lint use; it comes with cfn-lint, which `make lint` needs anyway)
// on template.yaml with the stage's parameters, and returns the
// CloudFormation template with every Condition and Fn::If evaluated for
// that stage: what CloudFormation would create.
func translate(t *testing.T, params map[string]string) map[string]Resource {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: runs the SAM translator (Python); make test runs it")
	}
	args := []string{filepath.Join("samtranslate.py"), filepath.Join("..", "..", "template.yaml")}
	for k, v := range params {
		args = append(args, k+"="+v)
	}
	var out, stderr bytes.Buffer
	cmd := exec.Command("python3", args...)
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("SAM translation (python3 with samtranslator, installed with cfn-lint): %v\n%s", err, stderr.String())
	}
	cfn, err := Parse(out.Bytes())
	if err != nil {
		t.Fatalf("parse the translation: %v", err)
	}
	res := newResolver(cfn, params, nil)
	kept := map[string]Resource{}
	for _, id := range cfn.Order {
		r := cfn.Resources[id]
		if ok, err := included(res, r); err != nil {
			t.Fatalf("%s: %v", id, err)
		} else if !ok {
			continue
		}
		props, err := pruneIfs(res, r.Properties)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		r.Properties, _ = props.(map[string]any)
		kept[id] = r
	}
	return kept
}

// pruneIfs evaluates every Fn::If (and drops what AWS::NoValue removes),
// leaving the other intrinsics as they are.
func pruneIfs(res *resolver, v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if arg, ok := x["Fn::If"]; ok && len(x) == 1 {
			a := asList(arg)
			if len(a) != 3 {
				return nil, fmt.Errorf("Fn::If %v", arg)
			}
			ok, err := res.condition(str(a[0]))
			if err != nil {
				return nil, err
			}
			if ok {
				return pruneIfs(res, a[1])
			}
			return pruneIfs(res, a[2])
		}
		if ref, ok := x["Ref"]; ok && len(x) == 1 && ref == "AWS::NoValue" {
			return noValue, nil
		}
		out := map[string]any{}
		for k, e := range x {
			p, err := pruneIfs(res, e)
			if err != nil {
				return nil, err
			}
			if p != noValue {
				out[k] = p
			}
		}
		return out, nil
	case []any:
		var out []any
		for _, e := range x {
			p, err := pruneIfs(res, e)
			if err != nil {
				return nil, err
			}
			if p != noValue {
				out = append(out, p)
			}
		}
		return out, nil
	}
	return v, nil
}

// stageParams are the stage's parameter_overrides in samconfig.toml (what
// `sam deploy --config-env <stage>` passes), with the values samconfig
// leaves to the operator: the public base URL (known after the first
// deploy, or the custom domain) and production's Aiia settings (given at
// Aiia's onboarding).
func stageParams(t *testing.T, stage string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "samconfig.toml"))
	if err != nil {
		t.Fatal(err)
	}
	section := regexp.MustCompile(`(?s)\[` + stage + `\.deploy\.parameters\](.*?)(\n\[|$)`).FindSubmatch(b)
	if section == nil {
		t.Fatalf("samconfig.toml has no [%s.deploy.parameters]", stage)
	}
	overrides := regexp.MustCompile(`parameter_overrides = "([^"]*)"`).FindSubmatch(section[1])
	if overrides == nil {
		t.Fatalf("samconfig.toml [%s.deploy.parameters] has no parameter_overrides", stage)
	}
	p := map[string]string{"PublicBaseURL": "https://pay." + stage + ".example"}
	if stage == "production" {
		p["AiiaBaseURL"], p["AiiaClientID"], p["AiiaClientSecretId"] = "https://api.aiia.example", "modupay", "modupay/production/aiia-client-secret"
	}
	for _, kv := range strings.Fields(string(overrides[1])) {
		k, v, _ := strings.Cut(kv, "=")
		p[k] = v
	}
	if p["Stage"] != stage {
		t.Fatalf("samconfig.toml [%s.deploy.parameters] deploys Stage=%s", stage, p["Stage"])
	}
	return p
}

// What samconfig.toml passes for each stage satisfies the template's
// Rules (which CloudFormation checks before creating anything): a deploy
// is not refused at the first step.
func TestSamconfigSatisfiesTheRules(t *testing.T) {
	tpl, err := Load(filepath.Join("..", "..", "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(tpl.Rules) == 0 {
		t.Fatal("the template has no Rules")
	}
	for _, stage := range []string{"sandbox", "production"} {
		params := stageParams(t, stage)
		if err := checkParams(tpl, params); err != nil {
			t.Errorf("%s: %v", stage, err)
			continue
		}
		res := newResolver(tpl, params, nil)
		for name, rule := range tpl.Rules {
			r := asMap(rule)
			if c, ok := r["RuleCondition"]; ok {
				if applies, err := res.boolean(c); err != nil {
					t.Fatalf("rule %s: %v", name, err)
				} else if !applies {
					continue
				}
			}
			for _, a := range asList(r["Assertions"]) {
				if ok, err := res.boolean(asMap(a)["Assert"]); err != nil || !ok {
					t.Errorf("%s: rule %s fails (%v): %v", stage, name, err, asMap(a)["AssertDescription"])
				}
			}
		}
	}
}

// The production stage, as CloudFormation would create it, holds no part
// of the sandbox bank: no function, role, table, permission, alarm,
// dashboard, nor route in the API's definition; the sandbox stage holds
// all of them and points its Aiia client at its own bank.
func TestTranslatedStages(t *testing.T) {
	for _, stage := range []string{"sandbox", "production"} {
		t.Run(stage, func(t *testing.T) {
			res := translate(t, stageParams(t, stage))
			var bank []string
			for id, r := range res {
				if strings.HasPrefix(id, "SandboxBank") || strings.Contains(fmt.Sprint(r.Properties), "SandboxBank") {
					bank = append(bank, id)
				}
			}
			api := fmt.Sprint(res["HttpApi"].Properties["Body"])
			route := strings.Contains(api, "/sandbox-bank/{proxy+}")
			fn, hasFn := res["SandboxBankFunction"]
			switch stage {
			case "production":
				if len(bank) > 0 || route {
					t.Errorf("production holds the sandbox bank: resources %v, route in the API %v", bank, route)
				}
			case "sandbox":
				for _, id := range []string{"SandboxBankFunction", "SandboxBankFunctionRole", "SandboxBankTable", "SandboxBankFunctionBankPermission",
					"SandboxBankFunctionLogGroup", "SandboxBankFunctionErrorsAlarm", "SandboxBankFunctionThrottlesAlarm", "SandboxBankDashboard"} {
					if _, ok := res[id]; !ok {
						t.Errorf("the sandbox stage has no %s", id)
					}
				}
				if !route || !hasFn || fn.Properties["ReservedConcurrentExecutions"] == nil {
					t.Errorf("sandbox: route %v, function %v (reserved concurrency %v)", route, hasFn, fn.Properties["ReservedConcurrentExecutions"])
				}
			}
			// Every function of both stages: the Aiia client's base URL, and
			// nothing secret in the environment, only secret ids.
			secrets := map[string]bool{}
			for _, s := range lambdaenv.Secrets {
				secrets[string(s)] = true
			}
			for id, r := range res {
				if r.Type != "AWS::Lambda::Function" {
					continue
				}
				vars := asMap(asMap(r.Properties["Environment"])["Variables"])
				for k, v := range vars {
					if secrets[k] {
						t.Errorf("%s: the secret %s is in the environment", id, k)
					}
					if strings.HasSuffix(k, "_SECRET_ID") && !strings.HasSuffix(fmt.Sprint(v), "SecretId]") {
						t.Errorf("%s: %s = %v, want a Ref to a *SecretId parameter (a name)", id, k, v)
					}
				}
				base := fmt.Sprint(vars["MODUPAY_AIIA_BASE_URL"])
				want := "map[Ref:AiiaBaseURL]"
				if stage == "sandbox" {
					want = "map[Fn::Sub:${PublicBaseURL}/sandbox-bank]"
				}
				if base != want {
					t.Errorf("%s: MODUPAY_AIIA_BASE_URL = %s, want %s", id, base, want)
				}
			}
		})
	}
}
