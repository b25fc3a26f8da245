# ModuPay's single entry point. `make run` starts the whole local stack;
# `make test` is what CI runs (.ci/run); `make quick` runs the tests that
# need no engine in seconds; `make bench` prints the budgets.
SHELL := /bin/bash
GO    ?= go
PKGS  := ./...

# Template logical id -> directory under functions/ (SAM's makefile builder
# calls build-<LogicalId> with ARTIFACTS_DIR set).
FUNCTIONS := AuthFunction:auth OrganizationsFunction:organizations DocsFunction:docs \
             EventRouterFunction:eventrouter AuditWriterFunction:auditwriter \
             InvoicesFunction:invoices SchedulerFunction:scheduler PaymentsFunction:payments \
             AiiaPollerFunction:aiiapoller CheckoutFunction:checkout \
             WebhooksFunction:webhooks WebhookDispatcherFunction:webhookdispatcher \
             SandboxBankFunction:sandboxbank \
             AuditFunction:audit PaymentOrdersFunction:paymentorders DashboardFunction:dashboard

.PHONY: run test quick lint unit chromium doctools bench invoke build tidy-check fmt-check cfn-lint fuzz clean-cache sam-env

run: ## start DynamoDB Local, the SQS endpoint and the gateway on :3000 (Ctrl-C stops all)
	@$(GO) build -o .bin/modupay-local ./infra/local
	./.bin/modupay-local run

test: lint unit ## everything CI checks

lint: fmt-check tidy-check cfn-lint
	$(GO) vet $(PKGS)

unit: chromium doctools
	$(GO) test -race -count=1 -timeout 30m $(PKGS)

quick: ## the tests that need no engine, browser or network, in seconds (go test -short)
	$(GO) test -short $(PKGS)

chromium: ## Debian's chromium for the browser test: installed as root, else says what to run
	@bash infra/ci/need-chromium.sh

doctools: ## Debian's poppler-utils and libxml2-utils, which read the invoice documents in their tests: installed as root, else says what to run
	@bash infra/ci/need-doctools.sh

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

tidy-check:
	@$(GO) mod tidy -diff || { echo "go.mod/go.sum are not tidy: run go mod tidy"; exit 1; }

cfn-lint:
	cfn-lint template.yaml

bench: ## latency, calls and overhead ratio per route; payer flows and their verifier; init times; the full bad-input sweep
	MODUPAY_SWEEP=full $(GO) test -count=1 -run 'TestBadInputSweep$$' ./infra/e2e
	$(GO) run ./infra/bench

sam-env: ## rewrite infra/sam/env.json (sam local's variables) from template.yaml
	$(GO) run ./infra/sam/envjson

invoke: ## make invoke FUNCTION=AuthFunction EVENT=events/auth-token.json
	@test -n "$(FUNCTION)" -a -n "$(EVENT)" || { echo "usage: make invoke FUNCTION=<LogicalId> EVENT=events/<file>.json"; exit 2; }
	$(GO) run ./infra/local invoke -function $(FUNCTION) -event $(EVENT)

fuzz: ## run each fuzz target for a while (the seed corpora run in make test)
	$(GO) test -run='^$$' -fuzz=FuzzVerify -fuzztime=30s ./shared/auth/
	$(GO) test -run='^$$' -fuzz=FuzzParseTokenRequest -fuzztime=30s ./shared/handlers/tokens/
	$(GO) test -run='^$$' -fuzz=FuzzDecodeJSON -fuzztime=30s ./shared/httpapi/
	$(GO) test -run='^$$' -fuzz=FuzzAmountRoundTrip -fuzztime=30s ./shared/money/
	$(GO) test -run='^$$' -fuzz=FuzzDecodeCursor -fuzztime=30s ./shared/dynamo/
	$(GO) test -run='^$$' -fuzz=FuzzOpen -fuzztime=30s ./shared/pagetoken/
	$(GO) test -run='^$$' -fuzz=FuzzCheckIBAN -fuzztime=30s ./shared/identifier/
	$(GO) test -run='^$$' -fuzz=FuzzCheckSIRET -fuzztime=30s ./shared/identifier/
	$(GO) test -run='^$$' -fuzz=FuzzCheckFrenchVAT -fuzztime=30s ./shared/identifier/
	$(GO) test -run='^$$' -fuzz=FuzzParseQuantity -fuzztime=30s ./shared/money/
	$(GO) test -run='^$$' -fuzz=FuzzParseRate -fuzztime=30s ./shared/money/
	$(GO) test -run='^$$' -fuzz=FuzzCheckURL -fuzztime=30s ./shared/netguard/
	$(GO) test -run='^$$' -fuzz=FuzzParseAmount -fuzztime=30s ./shared/aiia/

build: $(addprefix build-,$(foreach f,$(FUNCTIONS),$(word 1,$(subst :, ,$(f)))))

# build-<LogicalId>: an arm64 Linux bootstrap for provided.al2023, without the
# RPC shim (lambda.norpc) and stripped.
define build_rule
build-$(1):
	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 $(GO) build -tags lambda.norpc -trimpath -ldflags="-s -w" \
	  -o $$(or $$(ARTIFACTS_DIR),.aws-sam/local/$(1))/bootstrap ./functions/$(2)
endef
$(foreach f,$(FUNCTIONS),$(eval $(call build_rule,$(word 1,$(subst :, ,$(f))),$(word 2,$(subst :, ,$(f))))))
