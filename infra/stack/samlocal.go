package stack

import "fmt"

// SAMLocalHost is how a function's container under `sam local` reaches the
// developer's machine, where the engines (infra/sam/docker-compose.yml)
// and `sam local start-api` itself listen.
const SAMLocalHost = "host.docker.internal"

// SAMLocalParams are the parameter values infra/sam/env.json is resolved
// with: the sandbox stage, the engines on the host (moto serving SQS and
// Secrets Manager on 9324), local-only secret ids, and the Aiia client
// pointed at the sandbox bank that `sam local start-api` serves on 3000.
func SAMLocalParams() map[string]string {
	host := "http://" + SAMLocalHost
	return map[string]string{
		"Stage":           "sandbox",
		"JWTKeysSecretId": "modupay/local/jwt-keys", "JWTActiveKid": "local-1",
		"PageKeysSecretId": "modupay/local/page-keys", "PageActiveKid": "local-page-1",
		"CSRFKeySecretId":       "modupay/local/csrf-key",
		"DashboardKeysSecretId": "modupay/local/dashboard-keys", "DashboardActiveKid": "local-dashboard-1",
		"AiiaClientID":       "modupay-sandbox",
		"AiiaClientSecretId": "modupay/local/aiia-client-secret",
		"AiiaBaseURL":        host + ":3000/sandbox-bank",
		// Page URLs are for the browser on the host, not for the containers.
		"PublicBaseURL":          "http://127.0.0.1:3000",
		"DynamoDBEndpoint":       host + ":8000",
		"SQSEndpoint":            host + ":9324",
		"SecretsManagerEndpoint": host + ":9324",
	}
}

// SAMLocalEnv is infra/sam/env.json: for every function the sandbox stage
// deploys, exactly the variables it declares (Globals' and its own; SAM
// CLI ignores any other), resolved with SAMLocalParams against the tables,
// queues and bucket named as the local runtime names them
// (modupay-local-<LogicalId>).
func SAMLocalEnv(tpl *Template) (map[string]map[string]string, error) {
	params := SAMLocalParams()
	res := &Resources{Prefix: "modupay-local", Region: Region(), AccountID: LocalAccountID, ByID: map[string]Physical{}}
	for _, id := range tpl.Order {
		r := tpl.Resources[id]
		name := "modupay-local-" + id
		switch r.Type {
		case "AWS::DynamoDB::Table", "AWS::S3::Bucket":
			res.ByID[id] = Physical{LogicalID: id, Type: r.Type, Name: name}
		case "AWS::SQS::Queue":
			res.ByID[id] = Physical{LogicalID: id, Type: r.Type, Name: name,
				URL: "http://" + SAMLocalHost + ":9324/" + LocalAccountID + "/" + name,
				ARN: "arn:aws:sqs:" + Region() + ":" + LocalAccountID + ":" + name}
		}
	}
	if err := checkParams(tpl, params); err != nil {
		return nil, err
	}
	rv := newResolver(tpl, params, res)
	out := map[string]map[string]string{}
	for _, f := range tpl.ResourcesOfType("AWS::Serverless::Function") {
		if ok, err := included(rv, f); err != nil {
			return nil, fmt.Errorf("function %s: %w", f.LogicalID, err)
		} else if !ok {
			continue
		}
		vars := map[string]any{}
		for k, v := range tpl.GlobalEnvironment() {
			vars[k] = v
		}
		for k, v := range asMap(asMap(f.Properties["Environment"])["Variables"]) {
			vars[k] = v
		}
		env := map[string]string{}
		for k, v := range vars {
			r, err := rv.resolve(v)
			if err != nil {
				return nil, fmt.Errorf("function %s, %s: %w", f.LogicalID, k, err)
			}
			if r == noValue {
				continue
			}
			s, err := scalarString(r)
			if err != nil {
				return nil, fmt.Errorf("function %s, %s: %w", f.LogicalID, k, err)
			}
			env[k] = s
		}
		out[f.LogicalID] = env
	}
	return out, nil
}
