package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"syscall"

	"github.com/modupay/modupay/infra/engines"
	"github.com/modupay/modupay/infra/gateway"
	"github.com/modupay/modupay/infra/stack"
	"github.com/modupay/modupay/shared/aiia"
	"github.com/modupay/modupay/shared/aiiasandbox"
	"github.com/modupay/modupay/shared/auth"
	"github.com/modupay/modupay/shared/department"
	"github.com/modupay/modupay/shared/event"
	"github.com/modupay/modupay/shared/organization"
	"github.com/modupay/modupay/shared/wiring"
)

// invokeCmd invokes one function once, like `sam local invoke -e`: the
// response is the only thing on stdout (everything else goes to stderr); a
// function error is printed as Lambda's error payload and exits 1.
func invokeCmd(args []string) error {
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	function := fs.String("function", "", "logical id of the function in the template (required)")
	eventPath := fs.String("event", "", `event file; "-" reads stdin (required)`)
	tplPath := fs.String("template", "template.yaml", "SAM template")
	prefix := fs.String("prefix", "modupay-local", "physical names are <prefix>-<LogicalId>")
	params := paramFlag{}
	fs.Var(params, "param", "template parameter override Name=Value (repeatable)")
	verbose := fs.Bool("v", false, "debug logs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *function == "" || *eventPath == "" {
		fs.Usage()
		return errors.New("-function and -event are required")
	}
	log := setupLog(*verbose)

	// Keep stdout for the response alone, whatever the functions print.
	stdout := os.Stdout
	os.Stdout = os.Stderr
	defer func() { os.Stdout = stdout }()

	payload, err := readEvent(*eventPath)
	if err != nil {
		return err
	}
	tpl, err := stack.Load(*tplPath)
	if err != nil {
		return err
	}
	fns, err := tpl.Functions()
	if err != nil {
		return err
	}
	var tf *stack.Function
	for i := range fns {
		if fns[i].LogicalID == *function {
			tf = &fns[i]
		}
	}
	if tf == nil {
		var ids []string
		for _, f := range fns {
			ids = append(ids, f.LogicalID)
		}
		return fmt.Errorf("function %s is not in %s (functions: %s)", *function, *tplPath, strings.Join(ids, ", "))
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	eng, dyn, sqs, err := useEngines(ctx, log, os.Getenv("MODUPAY_DYNAMODB_ENDPOINT"), os.Getenv("MODUPAY_SQS_ENDPOINT"), engines.Options{})
	if err != nil {
		return err
	}
	defer eng.Stop()
	// The sandbox bank accepts only the stack's own Aiia client: locally, a
	// key made for this process (as `run` does), unless one is set.
	if os.Getenv(aiia.EnvClientID) == "" {
		os.Setenv(aiia.EnvClientID, aiiasandbox.DefaultClientID)
	}
	if os.Getenv(aiia.EnvClientKey) == "" && os.Getenv(aiia.EnvClientSecret) == "" {
		os.Setenv(aiia.EnvClientKey, aiiasandbox.DefaultClientKey())
	}
	if _, err := prepare(ctx, log, tpl, dyn, sqs, *prefix, params); err != nil {
		return err
	}
	app, err := wiring.Build(ctx, wiring.ConfigFromEnv())
	if err != nil {
		return fmt.Errorf("build the app: %w", err)
	}
	fn, ok := app.Function(*function)
	if !ok {
		return fmt.Errorf("function %s is not provided by the app", *function)
	}
	// The sample events use the demo partner: make sure it exists.
	if err := app.EnsurePartner(ctx, demoPartnerID, demoPartnerName,
		envOr("MODUPAY_DEMO_CLIENT_ID", defaultDemoClient), envOr("MODUPAY_DEMO_CLIENT_SECRET", defaultDemoSecret)); err != nil {
		return fmt.Errorf("seed the demo partner: %w", err)
	}

	// Sample events of authenticated routes carry "Bearer {{demo_token}}": a
	// token cannot be committed (it expires), so a fresh demo partner token is
	// put in its place here.
	if bytes.Contains(payload, []byte(demoTokenPlaceholder)) {
		tok, err := app.Credentials.Token(ctx, auth.TokenRequest{GrantType: "client_credentials", Scope: "partner",
			ClientID: envOr("MODUPAY_DEMO_CLIENT_ID", defaultDemoClient), ClientSecret: envOr("MODUPAY_DEMO_CLIENT_SECRET", defaultDemoSecret)}, "")
		if err != nil {
			return fmt.Errorf("issue the demo token: %w", err)
		}
		payload = bytes.ReplaceAll(payload, []byte(demoTokenPlaceholder), []byte(tok.AccessToken))
	}

	// Samples of organisation-level routes name "{{demo_org_id}}" and
	// "{{demo_department_id}}": a demo organisation, with a department and a
	// bank account, is made for them.
	if bytes.Contains(payload, []byte("{{demo_org_id}}")) || bytes.Contains(payload, []byte("{{demo_department_id}}")) {
		orgID, deptID, err := demoStructure(ctx, app)
		if err != nil {
			return fmt.Errorf("make the demo organisation: %w", err)
		}
		payload = bytes.ReplaceAll(payload, []byte("{{demo_org_id}}"), []byte(orgID))
		payload = bytes.ReplaceAll(payload, []byte("{{demo_department_id}}"), []byte(deptID))
	}

	out, invokeErr := gateway.InvokeJSON(ctx, fn, payload, tf.Timeout, gateway.Identity{})
	if invokeErr != nil {
		out, err = json.Marshal(map[string]string{"errorMessage": invokeErr.Error(), "errorType": errorType(invokeErr)})
		if err != nil {
			return err
		}
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", out); err != nil {
		return err
	}
	if invokeErr != nil {
		log.Error("function error", "function", *function, "err", invokeErr)
		return exitError(1)
	}
	return nil
}

func readEvent(path string) ([]byte, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(os.Stdin)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("read event: %w", err)
	}
	if !json.Valid(b) {
		return nil, fmt.Errorf("event %s is not valid JSON", path)
	}
	return b, nil
}

const demoTokenPlaceholder = "{{demo_token}}"

// demoStructure makes a sandbox organisation (the integration guide's), a
// department and its bank account, for the demo partner.
func demoStructure(ctx context.Context, app *wiring.App) (orgID, deptID string, err error) {
	actor := event.Actor{ID: "make-invoke", Type: "system"}
	org, err := app.Organizations.Create(ctx, demoPartnerID, actor, organization.CreateInput{Type: "public_entity", Name: "Mairie de Lyon",
		SIRET: "21690123400019", VATNumber: "FR21216901234",
		Address: &organization.Address{Line1: "1 Place de la Comédie", PostalCode: "69001", City: "Lyon", Country: "FR"}})
	if err != nil {
		return "", "", err
	}
	d, err := app.Departments.Create(ctx, demoPartnerID, org.ID, actor, department.CreateInput{Name: "Régie de l'Eau", Code: "REG-EAU-001"})
	if err != nil {
		return "", "", err
	}
	if _, err := app.Departments.CreateAccount(ctx, department.Scope{PartnerID: demoPartnerID}, d.ID, actor, department.CreateAccountInput{
		IBAN: "FR7612345678901234567890123", BIC: "BNPAFRPPXXX", AccountName: "Compte Régie Eau", BankName: "BNP Paribas"}); err != nil {
		return "", "", err
	}
	return org.ID, d.ID, nil
}

// errorType names an error's type the way Lambda's Go runtime does.
func errorType(err error) string {
	var timeout gateway.TimeoutError
	if errors.As(err, &timeout) {
		return "Runtime.ExitError"
	}
	var p gateway.PanicError
	if errors.As(err, &p) {
		return "Runtime.Panic"
	}
	t := reflect.TypeOf(err)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Name()
}
