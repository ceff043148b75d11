package workflows

import (
	"slices"
	"strings"
	"testing"
)

// goodPullRequest and goodDeploy are small workflows that keep every rule, in the shape of
// the real ones; each bad case below breaks one rule by editing one of them.
const goodPullRequest = `
on: pull_request
permissions:
  contents: read
jobs:
  ci:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@v4.2.2
      - run: bash .ci/run
  plan:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    strategy:
      matrix:
        stack: [dev, prod]
    steps:
      - env:
          STACK: ${{ matrix.stack }}
        run: go run ./cmd/plan --stack "$STACK" --format markdown
  preview:
    if: github.event.pull_request.head.repo.full_name == github.repository
    runs-on: ubuntu-latest
    permissions:
      contents: read
      id-token: write
      pull-requests: write
    concurrency:
      group: preview-${{ github.event.pull_request.number }}-${{ matrix.stack }}
      cancel-in-progress: false
    strategy:
      matrix:
        stack: [dev, prod]
    steps:
      - id: pulumi-version
        run: go list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3
      - uses: google-github-actions/auth@v2.1.10
        with:
          workload_identity_provider: ${{ vars.P }}
          service_account: ${{ vars.S }}
      - uses: pulumi/actions@v6.6.1
        with:
          command: preview
          stack-name: ${{ matrix.stack }}
          pulumi-version: ${{ steps.pulumi-version.outputs.version }}
          policyPacks: policy
          comment-on-pr: true
        env:
          PULUMI_CONFIG_PASSPHRASE: ${{ secrets.PULUMI_CONFIG_PASSPHRASE }}
`

const goodDeploy = `
on:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  dev:
    runs-on: ubuntu-latest
    permissions:
      contents: read
      id-token: write
    concurrency:
      group: up-dev
      cancel-in-progress: false
    steps:
      - id: pulumi-version
        run: go list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3
      - uses: google-github-actions/auth@v2.1.10
        with:
          workload_identity_provider: ${{ vars.P }}
          service_account: ${{ vars.S }}
      - name: up dev
        uses: pulumi/actions@v6.6.1
        with:
          command: up
          stack-name: dev
          pulumi-version: ${{ steps.pulumi-version.outputs.version }}
          policyPacks: policy
  prod:
    needs: dev
    environment: production
    runs-on: ubuntu-latest
    permissions:
      contents: read
      id-token: write
    concurrency:
      group: up-prod
      cancel-in-progress: false
    steps:
      - id: pulumi-version
        run: go list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3
      - uses: google-github-actions/auth@v2.1.10
        with:
          workload_identity_provider: ${{ vars.P }}
          service_account: ${{ vars.S }}
      - name: up prod
        uses: pulumi/actions@v6.6.1
        with:
          command: up
          stack-name: prod
          pulumi-version: ${{ steps.pulumi-version.outputs.version }}
          policyPacks: policy
`

// The stacks the fixtures are checked against.
var fixtureStacks = []string{"dev", "prod"}

// edit replaces the first occurrence of old, which must be there, with new.
type edit struct{ old, new string }

const (
	versionStep = "      - id: pulumi-version\n        run: go list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3\n"
	upProdStep  = "      - name: up prod\n        uses: pulumi/actions@v6.6.1\n        with:\n          command: up\n          stack-name: prod\n" +
		"          pulumi-version: ${{ steps.pulumi-version.outputs.version }}\n          policyPacks: policy\n"
)

// badCase breaks a good workflow (base) with edits. want is part of the finding the check
// must report; an empty want marks a variation the check must accept.
type badCase struct {
	name  string
	base  string
	edits []edit
	check string
	want  string
}

// badCases break the good workflows one rule at a time.
var badCases = []badCase{
	// stacks
	{"plan matrix misses prod", goodPullRequest,
		[]edit{{"stack: [dev, prod]\n    steps:\n      - env", "stack: [dev]\n    steps:\n      - env"}},
		"stacks", `job "plan": matrix stacks [dev], want the stacks present [dev prod]`},
	{"preview matrix has a stack without a file", goodPullRequest,
		[]edit{{"stack: [dev, prod]\n    steps:\n      - id", "stack: [dev, prod, staging]\n    steps:\n      - id"}},
		"stacks", `preview runs for stack "staging" but there is no Pulumi.staging.yaml`},
	{"pull request never previews", goodPullRequest,
		[]edit{{"command: preview", "command: refresh"}},
		"stacks", `preview never runs for stack "dev"`},
	{"deploy misses prod", goodDeploy,
		[]edit{{"stack-name: prod", "stack-name: dev"}},
		"stacks", `up never runs for stack "prod"`},
	{"deploy of a stack chosen at run time", goodDeploy,
		[]edit{{"stack-name: prod", "stack-name: ${{ inputs.stack }}"}},
		"stacks", `job "prod" step "up prod": cannot tell which stack "${{ inputs.stack }}" is`},

	// policy pack
	{"preview without the policy pack", goodPullRequest,
		[]edit{{"          policyPacks: policy\n", ""}},
		"policy pack", `job "preview" step "pulumi/actions@v6.6.1": preview of stack "dev" runs without the "policy" policy pack`},
	{"up with another policy pack", goodDeploy,
		[]edit{{"policyPacks: policy", "policyPacks: other"}},
		"policy pack", `job "dev" step "up dev": up of stack "dev" runs without the "policy" policy pack`},
	{"pulumi up on the command line without the policy pack", goodDeploy,
		[]edit{{upProdStep, "      - name: up prod\n        run: pulumi up --yes --stack prod\n"}},
		"policy pack", `job "prod" step "up prod": up of stack "prod" runs without the "policy" policy pack`},
	{"fine: pulumi up on the command line with the policy pack", goodDeploy,
		[]edit{{upProdStep, "      - name: up prod\n        run: pulumi up --yes --stack prod --policy-pack ./policy\n"}},
		"policy pack", ""},

	// prod gated
	{"prod outside the production environment", goodDeploy,
		[]edit{{"environment: production", "environment: staging"}},
		"prod gated", `job "prod": up of prod runs in environment "staging", want "production"`},
	{"prod does not need dev", goodDeploy,
		[]edit{{"    needs: dev\n", ""}},
		"prod gated", `job "prod": up of prod does not need the job that deploys dev`},
	{"fine: production environment with a URL", goodDeploy,
		[]edit{{"environment: production", "environment:\n      name: production\n      url: https://console.cloud.google.com"}},
		"prod gated", ""},

	// pulumi version
	{"pulumi version hard-coded", goodDeploy,
		[]edit{{"stack-name: prod\n          pulumi-version: ${{ steps.pulumi-version.outputs.version }}", "stack-name: prod\n          pulumi-version: 3.100.0"}},
		"pulumi version", `job "prod" step "up prod": pulumi-version "3.100.0", want "${{ steps.pulumi-version.outputs.version }}"`},
	{"pulumi version not read from go.mod", goodDeploy,
		[]edit{{versionStep, "      - id: pulumi-version\n        run: echo version=3.100.0 >> \"$GITHUB_OUTPUT\"\n"}},
		"pulumi version", `job "dev" step "up dev": no earlier step with id pulumi-version reads github.com/pulumi/pulumi/sdk/v3 from go.mod`},
	{"pulumi version read after the preview", goodPullRequest,
		[]edit{{versionStep, ""}, {"PULUMI_CONFIG_PASSPHRASE }}\n", "PULUMI_CONFIG_PASSPHRASE }}\n" + versionStep}},
		"pulumi version", `job "preview" step "pulumi/actions@v6.6.1": no earlier step with id pulumi-version`},

	// permissions
	{"workflow grants write-all", goodDeploy,
		[]edit{{"permissions:\n  contents: read\njobs", "permissions: write-all\njobs"}},
		"permissions", `workflow permissions are "write-all"`},
	{"workflow without permissions", goodDeploy,
		[]edit{{"permissions:\n  contents: read\njobs", "jobs"}},
		"permissions", `workflow has no permissions`},
	{"workflow grants id-token", goodPullRequest,
		[]edit{{"permissions:\n  contents: read\njobs", "permissions:\n  contents: read\n  id-token: write\njobs"}},
		"permissions", `workflow grants id-token: write`},
	{"id-token where nothing authenticates", goodPullRequest,
		[]edit{{"      contents: read\n    strategy", "      contents: read\n      id-token: write\n    strategy"}},
		"permissions", `job "plan": grants id-token: write, which it does not need`},
	{"pull-requests: write where nothing comments", goodPullRequest,
		[]edit{{"          comment-on-pr: true\n", ""}},
		"permissions", `job "preview": grants pull-requests: write, which it does not need`},
	{"contents: write", goodDeploy,
		[]edit{{"      contents: read\n      id-token: write\n    concurrency:\n      group: up-dev", "      contents: write\n      id-token: write\n    concurrency:\n      group: up-dev"}},
		"permissions", `job "dev": grants contents: write, which it does not need`},
	{"authenticating job without id-token", goodDeploy,
		[]edit{{"      id-token: write\n    concurrency:\n      group: up-prod", "    concurrency:\n      group: up-prod"}},
		"permissions", `job "prod": needs id-token: write`},
	{"fine: job inherits the workflow's contents: read", goodPullRequest,
		[]edit{{"  ci:\n    runs-on: ubuntu-latest\n    permissions:\n      contents: read\n", "  ci:\n    runs-on: ubuntu-latest\n"}},
		"permissions", ""},

	// concurrency
	{"up may be cancelled", goodDeploy,
		[]edit{{"group: up-prod\n      cancel-in-progress: false", "group: up-prod\n      cancel-in-progress: true"}},
		"concurrency", `job "prod": up of "prod" may be cancelled`},
	{"up without concurrency", goodDeploy,
		[]edit{{"    concurrency:\n      group: up-dev\n      cancel-in-progress: false\n", ""}},
		"concurrency", `job "dev": up of "dev" has no concurrency group`},
	{"one concurrency group for both stacks", goodDeploy,
		[]edit{{"group: up-prod", "group: up-dev"}},
		"concurrency", `job "prod": concurrency group "up-dev" does not name the stack (prod)`},
	{"preview group not per stack", goodPullRequest,
		[]edit{{"-${{ matrix.stack }}\n", "\n"}},
		"concurrency", `job "preview": concurrency group "preview-${{ github.event.pull_request.number }}" does not name the stack (matrix.stack)`},
	{"preview cancel-in-progress from an expression", goodPullRequest,
		[]edit{{"cancel-in-progress: false", "cancel-in-progress: ${{ github.event_name == 'pull_request' }}"}},
		"concurrency", `job "preview": preview of "dev" may be cancelled`},
	{"workflow concurrency cancels", goodDeploy,
		[]edit{{"\njobs:", "\nconcurrency:\n  group: deploy\n  cancel-in-progress: true\njobs:"}},
		"concurrency", `workflow concurrency may cancel a running preview or up`},

	// ci script
	{"pull request does not run .ci/run", goodPullRequest,
		[]edit{{"run: bash .ci/run", "run: go test ./..."}},
		"ci script", "no job runs `bash .ci/run`"},
	{"pull request runs .ci/run only for branches of the repository", goodPullRequest,
		[]edit{{"  ci:\n    runs-on", "  ci:\n    if: github.event.pull_request.head.repo.full_name == github.repository\n    runs-on"}},
		"ci script", `job "ci": runs bash .ci/run only if github.event.pull_request.head.repo.full_name == github.repository`},
	{"fine: .ci/run in a longer script", goodPullRequest,
		[]edit{{"run: bash .ci/run", "run: |\n          go version\n          bash .ci/run"}},
		"ci script", ""},

	// fork guard
	{"preview without the fork guard", goodPullRequest,
		[]edit{{"    if: github.event.pull_request.head.repo.full_name == github.repository\n", ""}},
		"fork guard", `job "preview": uses secrets or a cloud identity on pull requests without`},
	{"plan reads a secret", goodPullRequest,
		[]edit{{"          STACK: ${{ matrix.stack }}\n", "          STACK: ${{ matrix.stack }}\n          TOKEN: ${{ secrets.TOKEN }}\n"}},
		"fork guard", `job "plan": uses secrets or a cloud identity on pull requests without`},
	{"pull_request_target", goodPullRequest,
		[]edit{{"on: pull_request\n", "on: [pull_request, pull_request_target]\n"}},
		"fork guard", `workflow runs on pull_request_target`},
}

func checkNamed(t *testing.T, name string) check {
	t.Helper()
	i := slices.IndexFunc(checks, func(c check) bool { return c.name == name })
	if i < 0 {
		t.Fatalf("no check named %q", name)
	}
	return checks[i]
}

func TestGoodWorkflowsKeepTheRules(t *testing.T) {
	t.Parallel()
	for _, good := range []struct{ name, src string }{{"pull request", goodPullRequest}, {"deploy", goodDeploy}} {
		t.Run(good.name, func(t *testing.T) {
			t.Parallel()
			wf := parse(t, good.name, []byte(good.src))
			for _, c := range checks {
				for _, f := range c.fn(wf, fixtureStacks) {
					t.Errorf("good %s workflow breaks the %s rule: %s", good.name, c.name, f)
				}
			}
		})
	}
}

func TestChecksFindBadWorkflows(t *testing.T) {
	t.Parallel()
	for _, tc := range badCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := checkNamed(t, tc.check)
			src := tc.base
			for _, e := range tc.edits {
				if !strings.Contains(src, e.old) {
					t.Fatalf("edit target not found: %q", e.old)
				}
				src = strings.Replace(src, e.old, e.new, 1)
			}
			findings := c.fn(parse(t, tc.name, []byte(src)), fixtureStacks)
			if tc.want == "" {
				for _, f := range findings {
					t.Errorf("the %s check rejects a fine workflow: %s", c.name, f)
				}
				return
			}
			if !slices.ContainsFunc(findings, func(f string) bool { return strings.Contains(f, tc.want) }) {
				t.Errorf("the %s check misses the bad workflow: want a finding containing %q, got %q", c.name, tc.want, findings)
			}
		})
	}
}

// TestEveryCheckFailsOnABadWorkflow: a check no bad workflow fails could be a no-op.
func TestEveryCheckFailsOnABadWorkflow(t *testing.T) {
	t.Parallel()
	for _, c := range checks {
		if !slices.ContainsFunc(badCases, func(b badCase) bool { return b.check == c.name && b.want != "" }) {
			t.Errorf("check %q has no bad workflow case", c.name)
		}
	}
}
