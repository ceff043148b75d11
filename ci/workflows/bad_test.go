package workflows

import (
	"slices"
	"strings"
	"testing"
)

// goodPullRequest and goodDeploy (and goodDrift, drift_bad_test.go) are small workflows that
// keep every rule, in the shape of the real ones; each bad case below (and in driftBadCases)
// breaks one rule by editing one of them.
const goodPullRequest = `
on:
  pull_request:
    types: [opened, synchronize, reopened, labeled, unlabeled]
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
      - name: build
        run: go build -o bin/plan ./cmd/plan
      - name: plan
        env:
          STACK: ${{ matrix.stack }}
        run: |
          set -euo pipefail
          ./bin/plan --stack "$STACK" --format markdown | tee -a "$GITHUB_STEP_SUMMARY"
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
        include:
          - stack: dev
            workload_identity_provider: ${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER_DEV }}
            service_account: ${{ vars.GCP_PREVIEW_SERVICE_ACCOUNT_DEV }}
          - stack: prod
            workload_identity_provider: ${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER_PROD }}
            service_account: ${{ vars.GCP_PREVIEW_SERVICE_ACCOUNT_PROD }}
    env:
      STACK: ${{ matrix.stack }}
    steps:
      - id: pulumi-version
        run: go list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3
      - uses: pulumi/actions@v6.6.1
        with:
          pulumi-version: ${{ steps.pulumi-version.outputs.version }}
      - uses: google-github-actions/auth@v2.1.10
        with:
          workload_identity_provider: ${{ matrix.workload_identity_provider }}
          service_account: ${{ matrix.service_account }}
      - id: preview
        run: |
          status=0
          pulumi preview --stack "$STACK" --json --policy-pack policy --policy-pack-config "policy/config/$STACK.json" > preview.json || status=$?
          echo "status=$status" >> "$GITHUB_OUTPUT"
      - run: go build -o bin/plan ./cmd/plan
      - id: review
        env:
          LABELS: ${{ toJSON(github.event.pull_request.labels.*.name) }}
        run: |
          accept=()
          while IFS= read -r label; do
            case "$label" in accept-loss:?*) accept+=(--accept-loss "${label#accept-loss:}") ;; esac
          done < <(jq -r '.[]' <<<"$LABELS")
          status=0
          ./bin/plan --from preview.json --format markdown "${accept[@]}" > review.md || status=$?
          echo "status=$status" >> "$GITHUB_OUTPUT"
      - id: comment
        uses: marocchino/sticky-pull-request-comment@v3.0.4
        with:
          header: preview-${{ matrix.stack }}
          path: review.md
      - id: gate
        env:
          PREVIEW_STATUS: ${{ steps.preview.outputs.status }}
          REVIEW_STATUS: ${{ steps.review.outputs.status }}
        run: |
          if [ "$PREVIEW_STATUS" != 0 ] || [ "$REVIEW_STATUS" != 0 ]; then
            exit 1
          fi
`

const goodDeploy = `
on:
  push:
    branches: [main]
permissions:
  contents: read
jobs:
  dev:
    environment: dev
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
      - uses: pulumi/actions@v6.6.1
        with:
          pulumi-version: ${{ steps.pulumi-version.outputs.version }}
      - run: go build -o bin/plan ./cmd/plan
      - name: deployable dev
        run: ./bin/plan --stack dev --check-deployable
      - uses: google-github-actions/auth@v2.1.10
        with:
          workload_identity_provider: ${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}
          service_account: ${{ vars.GCP_DEPLOYER_SERVICE_ACCOUNT }}
      - name: preview dev
        run: pulumi preview --stack dev --json --policy-pack policy --policy-pack-config policy/config/dev.json > preview.json
      - id: review
        env:
          GH_TOKEN: ${{ github.token }}
          SHA: ${{ github.sha }}
        run: |
          gh api "repos/$GH_REPO/commits/$SHA/pulls" > pulls.json
          accept=()
          while IFS= read -r label; do
            case "$label" in accept-loss:?*) accept+=(--accept-loss "${label#accept-loss:}") ;; esac
          done < <(jq -r --arg sha "$SHA" '.[] | select(.merged_at != null and .merge_commit_sha == $sha) | .labels[].name' pulls.json)
          status=0
          ./bin/plan --from preview.json "${accept[@]}" > review.md || status=$?
          echo "status=$status" >> "$GITHUB_OUTPUT"
      - name: gate dev
        env:
          REVIEW_STATUS: ${{ steps.review.outputs.status }}
        run: |
          if [ "$REVIEW_STATUS" != 0 ]; then
            exit 1
          fi
      - name: up dev
        uses: pulumi/actions@v6.6.1
        with:
          command: up
          stack-name: dev
          pulumi-version: ${{ steps.pulumi-version.outputs.version }}
          policyPacks: policy
          policyPackConfigs: policy/config/dev.json
  prod:
    needs: [dev, prod-review]
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
      - uses: pulumi/actions@v6.6.1
        with:
          pulumi-version: ${{ steps.pulumi-version.outputs.version }}
      - run: go build -o bin/plan ./cmd/plan
      - name: deployable prod
        run: ./bin/plan --stack prod --check-deployable
      - uses: actions/download-artifact@v4.3.0
        with:
          name: reviewed
          path: reviewed
      - uses: google-github-actions/auth@v2.1.10
        with:
          workload_identity_provider: ${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}
          service_account: ${{ vars.GCP_DEPLOYER_SERVICE_ACCOUNT }}
      - name: preview prod
        run: pulumi preview --stack prod --json --policy-pack policy --policy-pack-config policy/config/prod.json > preview.json
      - name: compare
        run: |
          if ! diff <(jq -c '[.steps[] | {op, urn}]' reviewed/preview.json) <(jq -c '[.steps[] | {op, urn}]' preview.json); then
            exit 1
          fi
      - name: up prod
        uses: pulumi/actions@v6.6.1
        with:
          command: up
          stack-name: prod
          pulumi-version: ${{ steps.pulumi-version.outputs.version }}
          policyPacks: policy
          policyPackConfigs: policy/config/prod.json
  prod-review:
    needs: dev
    runs-on: ubuntu-latest
    permissions:
      contents: read
      id-token: write
    concurrency:
      group: review-prod
      cancel-in-progress: false
    steps:
      - id: pulumi-version
        run: go list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3
      - uses: pulumi/actions@v6.6.1
        with:
          pulumi-version: ${{ steps.pulumi-version.outputs.version }}
      - run: go build -o bin/plan ./cmd/plan
      - uses: google-github-actions/auth@v2.1.10
        with:
          workload_identity_provider: ${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER_PROD }}
          service_account: ${{ vars.GCP_PREVIEW_SERVICE_ACCOUNT_PROD }}
      - name: preview prod
        run: pulumi preview --stack prod --json --policy-pack policy --policy-pack-config policy/config/prod.json > preview.json
      - name: review prod
        run: ./bin/plan --from preview.json > review.md
      - uses: actions/upload-artifact@v4.6.2
        with:
          name: reviewed
          path: preview.json
`

// The stacks the fixtures are checked against.
var fixtureStacks = []string{"dev", "prod"}

// edit replaces the first occurrence of old, which must be there, with new.
type edit struct{ old, new string }

const (
	versionStep = "      - id: pulumi-version\n        run: go list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3\n"
	upProdStep  = "      - name: up prod\n        uses: pulumi/actions@v6.6.1\n        with:\n          command: up\n          stack-name: prod\n" +
		"          pulumi-version: ${{ steps.pulumi-version.outputs.version }}\n          policyPacks: policy\n" +
		"          policyPackConfigs: policy/config/prod.json\n"
	previewCmd = `pulumi preview --stack "$STACK" --json --policy-pack policy --policy-pack-config "policy/config/$STACK.json" > preview.json`
	reviewCmd  = `./bin/plan --from preview.json --format markdown "${accept[@]}" > review.md`
	stickyStep = "      - id: comment\n        uses: marocchino/sticky-pull-request-comment@v3.0.4\n        with:\n" +
		"          header: preview-${{ matrix.stack }}\n          path: review.md\n"
	reviewStep = "      - id: review\n        env:\n          LABELS: ${{ toJSON(github.event.pull_request.labels.*.name) }}\n        run: |\n" +
		"          accept=()\n          while IFS= read -r label; do\n" +
		"            case \"$label\" in accept-loss:?*) accept+=(--accept-loss \"${label#accept-loss:}\") ;; esac\n" +
		"          done < <(jq -r '.[]' <<<\"$LABELS\")\n          status=0\n          " + reviewCmd + " || status=$?\n" +
		"          echo \"status=$status\" >> \"$GITHUB_OUTPUT\"\n"
	gateEnv = "          PREVIEW_STATUS: ${{ steps.preview.outputs.status }}\n          REVIEW_STATUS: ${{ steps.review.outputs.status }}\n"
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
		[]edit{{"stack: [dev, prod]\n    steps:\n      - name: build", "stack: [dev]\n    steps:\n      - name: build"}},
		"stacks", `job "plan": matrix stacks [dev], want the stacks present [dev prod]`},
	{"preview matrix has a stack without a file", goodPullRequest,
		[]edit{{"stack: [dev, prod]\n        include:", "stack: [dev, prod, staging]\n        include:"}},
		"stacks", `preview runs for stack "staging" but there is no Pulumi.staging.yaml`},
	{"pull request never previews", goodPullRequest,
		[]edit{{"pulumi preview --stack", "pulumi refresh --stack"}},
		"stacks", `preview never runs for stack "dev"`},
	{"pull request never reviews", goodPullRequest,
		[]edit{{reviewCmd, `./bin/plan --stack "$STACK" --format markdown > review.md`}},
		"stacks", `review never runs for stack "prod"`},
	{"deploy misses prod", goodDeploy,
		[]edit{{"stack-name: prod", "stack-name: dev"}},
		"stacks", `up never runs for stack "prod"`},
	{"deploy of a stack chosen at run time", goodDeploy,
		[]edit{{"stack-name: prod", "stack-name: ${{ inputs.stack }}"}},
		"stacks", `job "prod" step "up prod": cannot tell which stack "${{ inputs.stack }}" is`},

	// policy pack and its config
	{"preview without the policy pack", goodPullRequest,
		[]edit{{` --policy-pack policy --policy-pack-config "policy/config/$STACK.json"`, ""}},
		"policy pack", `job "preview" step "preview": preview of stack "dev" runs without the "policy" policy pack`},
	{"up with another policy pack", goodDeploy,
		[]edit{{"policyPacks: policy", "policyPacks: other"}},
		"policy pack", `job "dev" step "up dev": up of stack "dev" runs without the "policy" policy pack`},
	{"pulumi up on the command line without the policy pack", goodDeploy,
		[]edit{{upProdStep, "      - name: up prod\n        run: pulumi up --yes --stack prod\n"}},
		"policy pack", `job "prod" step "up prod": up of stack "prod" runs without the "policy" policy pack`},
	{"fine: pulumi up on the command line with the policy pack and its config", goodDeploy,
		[]edit{{upProdStep, "      - name: up prod\n        run: pulumi up --yes --stack prod --policy-pack ./policy --policy-pack-config ./policy/config/prod.json\n"}},
		"policy pack", ""},
	{"preview without the policy config", goodPullRequest,
		[]edit{{` --policy-pack-config "policy/config/$STACK.json"`, ""}},
		"policy pack", `job "preview" step "preview": preview of stack "prod" runs the "policy" policy pack without its config; pass policy/config/prod.json`},
	{"up through the action without policyPackConfigs", goodDeploy,
		[]edit{{"          policyPackConfigs: policy/config/dev.json\n", ""}},
		"policy pack", `job "dev" step "up dev": up of stack "dev" runs the "policy" policy pack without its config; pass policy/config/dev.json`},
	{"up of prod with dev's policy config", goodDeploy,
		[]edit{{"policyPackConfigs: policy/config/prod.json", "policyPackConfigs: policy/config/dev.json"}},
		"policy pack", `job "prod" step "up prod": up of stack "prod" passes policy config "policy/config/dev.json", want "policy/config/prod.json"`},
	{"preview matrix with one stack's config for both", goodPullRequest,
		[]edit{{`--policy-pack-config "policy/config/$STACK.json"`, `--policy-pack-config policy/config/dev.json`}},
		"policy pack", `job "preview" step "preview": preview of stack "prod" passes policy config "policy/config/dev.json", want "policy/config/prod.json"`},
	{"preview config paired with another pack", goodPullRequest,
		[]edit{{`--policy-pack policy --policy-pack-config "policy/config/$STACK.json"`, `--policy-pack other --policy-pack-config "policy/config/$STACK.json" --policy-pack policy`}},
		"policy pack", `preview of stack "dev" runs the "policy" policy pack without its config`},
	{"offline plan with another stack's policy config", goodPullRequest,
		[]edit{{`./bin/plan --stack "$STACK" --format markdown`, `./bin/plan --stack "$STACK" --policy-config policy/config/prod.json --format markdown`}},
		"policy pack", `job "plan" step "plan": plan of stack "dev" passes policy config "policy/config/prod.json", want "policy/config/dev.json"`},
	{"fine: configs through matrix.stack and through a job env", goodDeploy,
		[]edit{
			{"policyPackConfigs: policy/config/dev.json", "policyPackConfigs: ./policy/config/${{ matrix.stack }}.json"},
			{"          stack-name: dev\n", "          stack-name: ${{ matrix.stack }}\n"},
			{"      group: up-dev\n      cancel-in-progress: false\n", "      group: up-dev\n      cancel-in-progress: false\n    strategy:\n      matrix:\n        stack: [dev]\n"},
			{upProdStep, "      - name: up prod\n        env:\n          CONFIG: policy/config/${STACK}.json\n        run: pulumi up --yes --stack \"$STACK\" --policy-pack=policy --policy-pack-config=\"$CONFIG\"\n"},
			{"    environment: production\n", "    environment: production\n    env:\n      STACK: prod\n"},
		},
		"policy pack", ""},

	// prod gated
	{"prod outside the production environment", goodDeploy,
		[]edit{{"environment: production", "environment: staging"}},
		"prod gated", `job "prod": up of prod runs in environment "staging", want "production"`},
	{"prod does not need dev", goodDeploy,
		[]edit{{"    needs: [dev, prod-review]\n", "    needs: prod-review\n"}},
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
	{"pulumi version read after the CLI is installed", goodPullRequest,
		[]edit{{versionStep, ""}, {"            exit 1\n          fi\n", "            exit 1\n          fi\n" + versionStep}},
		"pulumi version", `job "preview" step "pulumi/actions@v6.6.1": no earlier step with id pulumi-version`},
	{"pulumi CLI the job never installed", goodPullRequest,
		[]edit{{"      - uses: pulumi/actions@v6.6.1\n        with:\n          pulumi-version: ${{ steps.pulumi-version.outputs.version }}\n", ""}},
		"pulumi version", `job "preview" step "preview": runs the pulumi CLI, but no earlier pulumi/actions step installs the version go.mod names`},

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
		[]edit{{stickyStep, ""}},
		"permissions", `job "preview": grants pull-requests: write, which it does not need`},
	{"sticky comment without pull-requests: write", goodPullRequest,
		[]edit{{"      id-token: write\n      pull-requests: write\n", "      id-token: write\n"}},
		"permissions", `job "preview": needs pull-requests: write`},
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
		"concurrency", `job "prod": preview of "prod" may be cancelled`},
	{"up without concurrency", goodDeploy,
		[]edit{{"    concurrency:\n      group: up-dev\n      cancel-in-progress: false\n", ""}},
		"concurrency", `job "dev": preview of "dev" has no concurrency group`},
	{"one concurrency group for both stacks", goodDeploy,
		[]edit{{"group: up-prod", "group: up-dev"}},
		"concurrency", `job "prod": concurrency group "up-dev" does not name the stack (prod)`},
	{"preview group not per stack", goodPullRequest,
		[]edit{{"number }}-${{ matrix.stack }}\n", "number }}\n"}},
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
		"fork guard", `job "preview": uses secrets, a cloud identity or a pull-request comment on pull requests without`},
	{"plan reads a secret", goodPullRequest,
		[]edit{{"          STACK: ${{ matrix.stack }}\n", "          STACK: ${{ matrix.stack }}\n          TOKEN: ${{ secrets.TOKEN }}\n"}},
		"fork guard", `job "plan": uses secrets, a cloud identity or a pull-request comment on pull requests without`},
	{"plan comments for forks", goodPullRequest,
		[]edit{{"tee -a \"$GITHUB_STEP_SUMMARY\"\n", "tee -a \"$GITHUB_STEP_SUMMARY\"\n      - uses: marocchino/sticky-pull-request-comment@v3.0.4\n        with:\n          message: planned\n"}},
		"fork guard", `job "plan": uses secrets, a cloud identity or a pull-request comment on pull requests without`},
	{"pull_request_target", goodPullRequest,
		[]edit{{"on:\n  pull_request:\n", "on:\n  pull_request_target:\n    types: [opened]\n  pull_request:\n"}},
		"fork guard", `workflow runs on pull_request_target`},

	// plan binary
	{"offline plan through go run", goodPullRequest,
		[]edit{{`./bin/plan --stack "$STACK" --format markdown`, `go run ./cmd/plan --stack "$STACK" --format markdown`}},
		"plan binary", `job "plan" step "plan": runs the plan with ` + "`go run`"},
	{"review through go run", goodPullRequest,
		[]edit{{reviewCmd, `go run github.com/aiprod/aiprod-pubsub/cmd/plan --from preview.json "${accept[@]}" > review.md`}},
		"plan binary", `job "preview" step "review": runs the plan with ` + "`go run`"},
	{"plan binary never built", goodPullRequest,
		[]edit{{"      - name: build\n        run: go build -o bin/plan ./cmd/plan\n", ""}},
		"plan binary", `job "plan" step "plan": runs ./bin/plan, but no earlier step or line of the job builds it`},
	{"plan binary built after the review", goodPullRequest,
		[]edit{{"      - run: go build -o bin/plan ./cmd/plan\n      - id: review", "      - id: review"}, {stickyStep, stickyStep + "      - run: go build -o bin/plan ./cmd/plan\n"}},
		"plan binary", `job "preview" step "review": runs ./bin/plan, but no earlier step or line of the job builds it`},
	{"plan binary built elsewhere", goodPullRequest,
		[]edit{{"run: go build -o bin/plan ./cmd/plan\n      - name: plan", "run: go build -o plan ./cmd/plan\n      - name: plan"}},
		"plan binary", `job "plan" step "build": builds ./cmd/plan to "plan", want bin/plan`},
	{"plan piped without pipefail", goodPullRequest,
		[]edit{{"          set -euo pipefail\n          ./bin/plan", "          set -eu\n          ./bin/plan"}},
		"plan binary", `job "plan" step "plan": pipes the plan's output without ` + "`set -o pipefail`"},
	{"fine: plan built and run in one step", goodPullRequest,
		[]edit{{"      - name: build\n        run: go build -o bin/plan ./cmd/plan\n", ""}, {"          set -euo pipefail\n", "          set -o pipefail\n          go build -o ./bin/plan ./cmd/plan\n"}},
		"plan binary", ""},

	// preview review
	{"preview through pulumi/actions", goodPullRequest,
		[]edit{{"      - id: preview\n        run: |\n          status=0\n          " + previewCmd + " || status=$?\n          echo \"status=$status\" >> \"$GITHUB_OUTPUT\"\n",
			"      - id: preview\n        uses: pulumi/actions@v6.6.1\n        with:\n          command: preview\n          stack-name: ${{ matrix.stack }}\n          pulumi-version: ${{ steps.pulumi-version.outputs.version }}\n          policyPacks: policy\n          policyPackConfigs: policy/config/${{ matrix.stack }}.json\n"}},
		"preview review", `job "preview" step "preview": previews through pulumi/actions, whose output the plan cannot review`},
	{"raw preview comment besides the review", goodPullRequest,
		[]edit{{"          pulumi-version: ${{ steps.pulumi-version.outputs.version }}\n      - uses: google", "          pulumi-version: ${{ steps.pulumi-version.outputs.version }}\n          comment-on-pr: true\n      - uses: google"}},
		"preview review", `job "preview" step "pulumi/actions@v6.6.1": posts the raw preview as a comment (comment-on-pr)`},
	{"preview without --json", goodPullRequest,
		[]edit{{" --json ", " "}},
		"preview review", `job "preview" step "preview": previews without --json`},
	{"preview document not written", goodPullRequest,
		[]edit{{" > preview.json", ""}},
		"preview review", `job "preview" step "preview": writes the preview document to no file`},
	{"review of another file", goodPullRequest,
		[]edit{{"--from preview.json", "--from old-preview.json"}},
		"preview review", `job "preview": no step after "preview" reviews preview.json with ` + "`./bin/plan --from preview.json`"},
	{"review before the preview", goodPullRequest,
		[]edit{{reviewStep, ""}, {"      - id: preview\n", reviewStep + "      - id: preview\n"}},
		"preview review", `job "preview": no step after "preview" reviews preview.json`},
	{"review without labels", goodPullRequest,
		[]edit{{"          LABELS: ${{ toJSON(github.event.pull_request.labels.*.name) }}\n", "          LABELS: '[]'\n"}},
		"preview review", `job "preview" step "review": passes no --accept-loss from the pull request's accept-loss:<name> labels`},
	{"review written nowhere", goodPullRequest,
		[]edit{{`"${accept[@]}" > review.md`, `"${accept[@]}" | tee -a "$GITHUB_STEP_SUMMARY"`}},
		"preview review", `job "preview" step "review": writes the review to no file (> review.md) for the comment`},
	{"no comment", goodPullRequest,
		[]edit{{stickyStep, ""}},
		"preview review", `job "preview": no marocchino/sticky-pull-request-comment step whose header names the stack (matrix.stack)`},
	{"one comment for both stacks", goodPullRequest,
		[]edit{{"header: preview-${{ matrix.stack }}", "header: preview"}},
		"preview review", `job "preview": no marocchino/sticky-pull-request-comment step whose header names the stack (matrix.stack)`},
	{"two comments per stack", goodPullRequest,
		[]edit{{stickyStep, stickyStep + strings.Replace(stickyStep, "id: comment", "id: comment2", 1)}},
		"preview review", `job "preview": 2 comment steps for the stack (matrix.stack); keep one`},
	{"comment posts the raw preview", goodPullRequest,
		[]edit{{"path: review.md", "path: preview.json"}},
		"preview review", `job "preview" step "comment": posts "preview.json", not the review review.md`},
	{"comment action on a moving tag", goodPullRequest,
		[]edit{{"sticky-pull-request-comment@v3.0.4\n        with:\n          header", "sticky-pull-request-comment@v3\n        with:\n          header"}},
		"preview review", `job "preview" step "comment": uses marocchino/sticky-pull-request-comment@v3, not pinned to a release tag`},
	{"no gate", goodPullRequest,
		[]edit{{"      - id: gate\n        env:\n" + gateEnv + "        run: |\n          if [ \"$PREVIEW_STATUS\" != 0 ] || [ \"$REVIEW_STATUS\" != 0 ]; then\n            exit 1\n          fi\n", ""}},
		"preview review", `job "preview" step "comment": the job's last step is no gate`},
	{"gate with continue-on-error", goodPullRequest,
		[]edit{{"      - id: gate\n", "      - id: gate\n        continue-on-error: true\n"}},
		"preview review", `job "preview" step "gate": the gate has continue-on-error`},
	{"gate ignores the preview", goodPullRequest,
		[]edit{{gateEnv, "          REVIEW_STATUS: ${{ steps.review.outputs.status }}\n"}},
		"preview review", `job "preview" step "gate": the gate does not read the preview's exit status (steps.preview)`},
	{"gate that never fails", goodPullRequest,
		[]edit{{"            exit 1\n", "            echo failed\n"}},
		"preview review", `job "preview" step "gate": the gate never exits non-zero`},
	{"preview job may fail and still pass", goodPullRequest,
		[]edit{{"    env:\n      STACK: ${{ matrix.stack }}\n    steps:", "    continue-on-error: true\n    env:\n      STACK: ${{ matrix.stack }}\n    steps:"}},
		"preview review", `job "preview": continue-on-error`},
	{"fine: gate on outcomes with if", goodPullRequest,
		[]edit{{"      - id: gate\n        env:\n" + gateEnv + "        run: |\n          if [ \"$PREVIEW_STATUS\" != 0 ] || [ \"$REVIEW_STATUS\" != 0 ]; then\n            exit 1\n          fi\n",
			"      - id: gate\n        if: steps.preview.outputs.status != '0' || steps.review.outputs.status != '0'\n        run: exit 1\n"}},
		"preview review", ""},

	// accept loss
	{"accept-loss of a literal name", goodPullRequest,
		[]edit{{`--format markdown "${accept[@]}"`, `--format markdown --accept-loss aiprod-pipeline-jobs "${accept[@]}"`}},
		"accept loss", `job "preview" step "review": passes --accept-loss aiprod-pipeline-jobs, a value that no label gave`},
	{"accept-loss from the pull request's body", goodPullRequest,
		[]edit{{"          LABELS: ${{ toJSON(github.event.pull_request.labels.*.name) }}\n", "          LABELS: ${{ toJSON(github.event.pull_request.labels.*.name) }}\n          BODY: ${{ github.event.pull_request.body }}\n"}},
		"accept loss", `job "preview" step "review": takes github.event.pull_request.body into the step that passes --accept-loss`},
	{"accept-loss from the title instead of the labels", goodPullRequest,
		[]edit{{"LABELS: ${{ toJSON(github.event.pull_request.labels.*.name) }}", "LABELS: ${{ github.event.pull_request.title }}"}},
		"accept loss", `job "preview" step "review": passes --accept-loss, but no env var of the step holds github.event.pull_request.labels`},
	{"labels interpolated into the script", goodPullRequest,
		[]edit{{`<<<"$LABELS"`, `<<<'${{ toJSON(github.event.pull_request.labels.*.name) }}'`}},
		"accept loss", `job "preview" step "review": interpolates ${{ }} into the script that passes --accept-loss`},
	{"every label accepts a loss", goodPullRequest,
		[]edit{{`case "$label" in accept-loss:?*) accept+=(--accept-loss "${label#accept-loss:}") ;; esac`, `accept+=(--accept-loss "$label")`}},
		"accept loss", `job "preview" step "review": passes --accept-loss without picking the accept-loss:<name> labels`},
	{"accept-loss from the event payload", goodPullRequest,
		[]edit{{`done < <(jq -r '.[]' <<<"$LABELS")`, `done < <(jq -r '.pull_request.body' "$GITHUB_EVENT_PATH")`}},
		"accept loss", `job "preview" step "review": reads the event payload in the script that passes --accept-loss`},
	{"accept-loss in a deploy", goodDeploy,
		[]edit{{"    steps:\n      - id: pulumi-version", "    steps:\n      - run: ./bin/plan --stack dev --accept-loss \"$NAME\"\n        env:\n          NAME: ${{ inputs.name }}\n      - id: pulumi-version"}},
		"accept loss", `job "dev" step "#1": takes inputs.name into the step that passes --accept-loss`},

	// label triggers
	{"pull request on the default types", goodPullRequest,
		[]edit{{"on:\n  pull_request:\n    types: [opened, synchronize, reopened, labeled, unlabeled]\n", "on: pull_request\n"}},
		"label triggers", `pull_request runs on the default types only, so a label change never re-runs the review`},
	{"pull request on labels but not on pushes", goodPullRequest,
		[]edit{{"types: [opened, synchronize, reopened, labeled, unlabeled]", "types: [opened, reopened, labeled]"}},
		"label triggers", `pull_request types [opened reopened labeled] miss synchronize`},
	{"pull request not on unlabeled", goodPullRequest,
		[]edit{{"types: [opened, synchronize, reopened, labeled, unlabeled]", "types: [opened, synchronize, reopened, labeled]"}},
		"label triggers", `miss unlabeled`},

	// action inputs
	{"misspelt policyPackConfigs", goodDeploy,
		[]edit{{"policyPackConfigs: policy/config/dev.json", "policyPackConfig: policy/config/dev.json"}},
		"action inputs", `job "dev" step "up dev": pulumi/actions has no input "policyPackConfig"`},
	{"sticky comment input that does not exist", goodPullRequest,
		[]edit{{"          path: review.md\n", "          file: review.md\n"}},
		"action inputs", `job "preview" step "comment": marocchino/sticky-pull-request-comment has no input "file"`},
	{"auth input that does not exist", goodDeploy,
		[]edit{{"service_account: ${{ vars.GCP_DEPLOYER_SERVICE_ACCOUNT }}", "service-account: ${{ vars.GCP_DEPLOYER_SERVICE_ACCOUNT }}"}},
		"action inputs", `job "dev" step "google-github-actions/auth@v2.1.10": google-github-actions/auth has no input "service-account"`},
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
	for _, good := range []struct{ name, src string }{{"pull request", goodPullRequest}, {"deploy", goodDeploy}, {"drift", goodDrift}} {
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
	for _, tc := range slices.Concat(badCases, driftBadCases, deployBadCases) {
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
		if !slices.ContainsFunc(slices.Concat(badCases, driftBadCases, deployBadCases), func(b badCase) bool { return b.check == c.name && b.want != "" }) {
			t.Errorf("check %q has no bad workflow case", c.name)
		}
	}
}
