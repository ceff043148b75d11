package workflows

import (
	"slices"
	"strings"
	"testing"
)

// goodDrift is a small drift workflow that keeps every rule, in the shape of drift.yml; each
// drift bad case breaks one rule by editing it (or goodPullRequest). It shares its
// concurrency groups with goodDeploy's ups (up-dev, up-prod).
const goodDrift = `
on:
  schedule:
    - cron: "17 5 * * *"
  workflow_dispatch:
permissions:
  contents: read
jobs:
  drift:
    if: github.ref == 'refs/heads/main'
    runs-on: ubuntu-latest
    permissions:
      contents: read
      id-token: write
      issues: write
    concurrency:
      group: drift-${{ matrix.stack }}
      cancel-in-progress: false
    strategy:
      fail-fast: false
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
      - id: before
        env:
          GH_TOKEN: ${{ github.token }}
        run: gh run list --workflow deploy.yml --json status > before.json
      - id: preview
        run: |
          status=0
          pulumi preview --stack "$STACK" --refresh --expect-no-changes --policy-pack policy --policy-pack-config "policy/config/$STACK.json" > preview.txt 2>&1 || status=$?
          echo "status=$status" >> "$GITHUB_OUTPUT"
      - id: after
        env:
          GH_TOKEN: ${{ github.token }}
        run: gh run list --workflow deploy.yml --json status > after.json
      - id: issue
        env:
          GH_TOKEN: ${{ github.token }}
          STATUS: ${{ steps.preview.outputs.status }}
        run: |
          title="Drift detected in stack $STACK"
          number=$(gh issue list --label drift --json number,title --jq '.[0].number')
          if [ "$STATUS" = 0 ]; then
            gh issue close "$number" --comment clean
          elif [ -n "$number" ]; then
            gh issue comment "$number" --body-file preview.txt
          else
            gh label create drift --force
            gh issue create --title "$title" --label drift --body-file preview.txt
          fi
      - id: gate
        env:
          STATUS: ${{ steps.preview.outputs.status }}
        run: |
          if [ "$STATUS" != 0 ]; then
            exit 1
          fi
`

const (
	driftPreviewCmd = `pulumi preview --stack "$STACK" --refresh --expect-no-changes --policy-pack policy --policy-pack-config "policy/config/$STACK.json" > preview.txt 2>&1 || status=$?`
	driftGateStep   = "      - id: gate\n        env:\n          STATUS: ${{ steps.preview.outputs.status }}\n        run: |\n" +
		"          if [ \"$STATUS\" != 0 ]; then\n            exit 1\n          fi\n"
	// driftIssueStep is the issue step up to its script.
	driftIssueStep = "      - id: issue\n        env:\n          GH_TOKEN: ${{ github.token }}\n          STATUS: ${{ steps.preview.outputs.status }}\n        run: |\n"
	// githubScriptIssueStep manages the issue with actions/github-script instead of gh.
	githubScriptIssueStep = "      - id: issue\n        uses: actions/github-script@v7.0.1\n        env:\n          STATUS: ${{ steps.preview.outputs.status }}\n" +
		"        with:\n          script: |\n" +
		"            const title = `Drift detected in stack ${process.env.STACK}`;\n" +
		"            const open = await github.paginate(github.rest.issues.listForRepo, {...context.repo, state: 'open', labels: 'drift'});\n" +
		"            const issue = open.find(i => i.title === title);\n" +
		"            if (process.env.STATUS === '0') {\n" +
		"              if (issue) await github.rest.issues.update({...context.repo, issue_number: issue.number, state: 'closed'});\n" +
		"            } else if (issue) {\n" +
		"              await github.rest.issues.createComment({...context.repo, issue_number: issue.number, body: 'still drifting'});\n" +
		"            } else {\n" +
		"              await github.rest.issues.getLabel({...context.repo, name: 'drift'}).catch(() => github.rest.issues.createLabel({...context.repo, name: 'drift'}));\n" +
		"              await github.rest.issues.create({...context.repo, title, labels: ['drift'], body: 'drift'});\n" +
		"            }\n"
)

// driftBadCases break goodDrift (and goodPullRequest, for issues: write) one rule at a time.
var driftBadCases = []badCase{
	// drift schedule
	{"drift workflow without a schedule", goodDrift,
		[]edit{{"  schedule:\n    - cron: \"17 5 * * *\"\n", ""}},
		"drift schedule", `drift workflow has no schedule`},
	{"drift job on any branch", goodDrift,
		[]edit{{"    if: github.ref == 'refs/heads/main'\n", ""}},
		"drift schedule", `job "drift": checks the drift of whichever branch runs it`},
	{"drift job on another branch", goodDrift,
		[]edit{{"refs/heads/main", "refs/heads/develop"}},
		"drift schedule", `job "drift": checks the drift of whichever branch runs it`},

	// drift preview
	{"drift preview without --refresh", goodDrift,
		[]edit{{" --refresh --expect-no-changes", " --expect-no-changes"}},
		"drift preview", `job "drift" step "preview": previews without --refresh`},
	{"drift preview with --refresh=false", goodDrift,
		[]edit{{" --refresh --expect-no-changes", " --refresh=false --expect-no-changes"}},
		"drift preview", `job "drift" step "preview": previews without --refresh`},
	{"drift preview without --expect-no-changes", goodDrift,
		[]edit{{" --refresh --expect-no-changes", " --refresh"}},
		"drift preview", `job "drift" step "preview": previews without --expect-no-changes`},
	{"drift preview that stops the step", goodDrift,
		[]edit{{" || status=$?", ""}},
		"drift preview", `job "drift" step "preview": does not catch the preview's failure`},
	{"drift preview whose status is dropped", goodDrift,
		[]edit{{" || status=$?", " || true"}},
		"drift preview", `job "drift" step "preview": catches the preview's failure with "true", which drops its exit status`},
	{"drift preview output kept nowhere", goodDrift,
		[]edit{{" > preview.txt 2>&1", ""}},
		"drift preview", `job "drift" step "preview": writes the preview's output to no file`},
	{"drift preview without an id", goodDrift,
		[]edit{{"      - id: preview\n", "      - name: preview\n"}},
		"drift preview", `job "drift" step "preview": has no id`},
	{"drift matrix fails fast", goodDrift,
		[]edit{{"      fail-fast: false\n", ""}},
		"drift preview", `job "drift": the stack matrix is not fail-fast: false`},
	{"drift matrix misses prod", goodDrift,
		[]edit{{"stack: [dev, prod]", "stack: [dev]"}},
		"drift preview", "no `pulumi preview --refresh --expect-no-changes` of stack \"prod\""},
	{"scheduled workflow that refreshes instead of previewing", goodDrift,
		[]edit{{"pulumi preview --stack", "pulumi refresh --stack"}},
		"drift preview", "no `pulumi preview --refresh --expect-no-changes` of stack \"dev\""},
	{"drift preview through pulumi/actions", goodDrift,
		[]edit{{"        run: |\n          status=0\n          " + driftPreviewCmd + "\n          echo \"status=$status\" >> \"$GITHUB_OUTPUT\"\n",
			"        uses: pulumi/actions@v6.6.1\n        with:\n          command: preview\n          stack-name: ${{ matrix.stack }}\n" +
				"          pulumi-version: ${{ steps.pulumi-version.outputs.version }}\n          refresh: true\n          expect-no-changes: true\n" +
				"          policyPacks: policy\n          policyPackConfigs: policy/config/${{ matrix.stack }}.json\n"}},
		"drift preview", `job "drift" step "preview": previews through pulumi/actions`},

	// drift issue
	{"drift issue never looked up", goodDrift,
		[]edit{{"number=$(gh issue list --label drift --json number,title --jq '.[0].number')", "number=1"}},
		"drift issue", `job "drift": never looks the open drift issue up`},
	{"drift issue looked up without the label", goodDrift,
		[]edit{{"gh issue list --label drift", "gh issue list --search drift"}},
		"drift issue", `job "drift" step "issue": the find of the issue does not name the drift label`},
	{"drift issue never opened", goodDrift,
		[]edit{{"            gh issue create --title \"$title\" --label drift --body-file preview.txt\n", ""}},
		"drift issue", `job "drift": never opens an issue on drift`},
	{"drift issue opened without the label", goodDrift,
		[]edit{{"--title \"$title\" --label drift", "--title \"$title\" --label infra"}},
		"drift issue", `job "drift" step "issue": the open of the issue does not name the drift label`},
	{"drift label never created", goodDrift,
		[]edit{{"            gh label create drift --force\n", ""}},
		"drift issue", `job "drift": never creates or reuses the drift label`},
	{"one drift issue for all stacks", goodDrift,
		[]edit{{`title="Drift detected in stack $STACK"`, `title="Drift detected"`}},
		"drift issue", `job "drift" step "issue": the title of the issue does not name the stack`},
	{"drift issue never updated", goodDrift,
		[]edit{{"          elif [ -n \"$number\" ]; then\n            gh issue comment \"$number\" --body-file preview.txt\n", ""}},
		"drift issue", `job "drift": never updates the open issue`},
	{"drift issue never closed", goodDrift,
		[]edit{{"            gh issue close \"$number\" --comment clean\n", "            echo clean\n"}},
		"drift issue", `job "drift": never closes the issue when the stack is clean again`},
	{"drift issue blind to the preview", goodDrift,
		[]edit{{"          GH_TOKEN: ${{ github.token }}\n          STATUS: ${{ steps.preview.outputs.status }}\n", "          GH_TOKEN: ${{ github.token }}\n"}},
		"drift issue", `job "drift" step "issue": manages the drift issue without reading the preview's result (steps.preview.outputs`},
	{"drift issue closed before the preview", goodDrift,
		[]edit{{"      - id: preview\n", "      - run: gh issue close 1\n        env:\n          GH_TOKEN: ${{ github.token }}\n      - id: preview\n"}},
		"drift issue", `job "drift" step "#5": manages the drift issue before the preview runs`},
	{"drift issue script interpolates", goodDrift,
		[]edit{{`title="Drift detected in stack $STACK"`, `title="Drift detected in stack ${{ matrix.stack }}"`}},
		"drift issue", `job "drift" step "issue": interpolates ${{ }} into the script that manages the drift issue`},
	{"gh without a token", goodDrift,
		[]edit{{"          GH_TOKEN: ${{ github.token }}\n          STATUS", "          STATUS"}},
		"drift issue", `job "drift" step "issue": runs gh without GH_TOKEN`},
	{"github-script on a moving tag", goodDrift,
		withGithubScript(strings.Replace(githubScriptIssueStep, "@v7.0.1", "@v7", 1)),
		"drift issue", `job "drift" step "issue": uses actions/github-script@v7, not pinned to a release tag`},
	{"github-script that never closes", goodDrift,
		withGithubScript(strings.Replace(githubScriptIssueStep, "state: 'closed'", "state: 'open'", 1)),
		"drift issue", `job "drift": never closes the issue when the stack is clean again`},
	{"github-script title without the stack", goodDrift,
		withGithubScript(strings.Replace(githubScriptIssueStep, "${process.env.STACK}", "${process.env.GITHUB_REF}", 1)),
		"drift issue", `job "drift" step "issue": the title of the issue does not name the stack`},
	{"fine: the issue managed with actions/github-script", goodDrift,
		withGithubScript(githubScriptIssueStep),
		"drift issue", ""},

	// permissions
	{"drift job without issues: write", goodDrift,
		[]edit{{"      issues: write\n", ""}},
		"permissions", `job "drift": needs issues: write`},
	{"issues: write where nothing manages an issue", goodPullRequest,
		[]edit{{"      contents: read\n    strategy", "      contents: read\n      issues: write\n    strategy"}},
		"permissions", `job "plan": grants issues: write, which it does not need`},
	{"drift workflow grants issues: write", goodDrift,
		[]edit{{"permissions:\n  contents: read\njobs", "permissions:\n  contents: read\n  issues: write\njobs"}},
		"permissions", `workflow grants issues: write`},

	// drift gate
	{"drift without a gate", goodDrift,
		[]edit{{driftGateStep, ""}},
		"drift gate", `job "drift" step "issue": the job's last step is no gate: end the job with a run: step that exits non-zero when the preview found drift or failed`},
	{"drift gate before the issue", goodDrift,
		[]edit{{driftGateStep, ""}, {driftIssueStep, driftGateStep + driftIssueStep}},
		"drift gate", `job "drift" step "issue": the job's last step is no gate`},
	{"drift gate that never fails", goodDrift,
		[]edit{{"            exit 1\n", "            echo drift\n"}},
		"drift gate", `job "drift" step "gate": the gate never exits non-zero`},
	{"drift gate blind to the preview", goodDrift,
		[]edit{{"      - id: gate\n        env:\n          STATUS: ${{ steps.preview.outputs.status }}\n", "      - id: gate\n        env:\n          STATUS: ${{ steps.issue.outputs.status }}\n"}},
		"drift gate", `job "drift" step "gate": the gate does not read the preview's exit status (steps.preview)`},
	{"drift gate with continue-on-error", goodDrift,
		[]edit{{"      - id: gate\n", "      - id: gate\n        continue-on-error: true\n"}},
		"drift gate", `job "drift" step "gate": the gate has continue-on-error`},
	{"drift job with continue-on-error", goodDrift,
		[]edit{{"    env:\n      STACK: ${{ matrix.stack }}\n", "    continue-on-error: true\n    env:\n      STACK: ${{ matrix.stack }}\n"}},
		"drift gate", `job "drift": continue-on-error, so drift would not fail the run`},

	// the rules every workflow keeps, on the drift workflow
	{"drift without concurrency", goodDrift,
		[]edit{{"    concurrency:\n      group: drift-${{ matrix.stack }}\n      cancel-in-progress: false\n", ""}},
		"concurrency", `job "drift": preview of "dev" has no concurrency group`},
	{"drift check may be cancelled", goodDrift,
		[]edit{{"cancel-in-progress: false", "cancel-in-progress: true"}},
		"concurrency", `job "drift": preview of "prod" may be cancelled`},
	{"drift preview without the policy config", goodDrift,
		[]edit{{` --policy-pack-config "policy/config/$STACK.json"`, ""}},
		"policy pack", `job "drift" step "preview": preview of stack "prod" runs the "policy" policy pack without its config`},
	{"drift CLI of a hard-coded version", goodDrift,
		[]edit{{"pulumi-version: ${{ steps.pulumi-version.outputs.version }}", "pulumi-version: 3.100.0"}},
		"pulumi version", `pulumi-version "3.100.0"`},
	{"drift matrix with a stack without a file", goodDrift,
		[]edit{{"stack: [dev, prod]", "stack: [dev, prod, staging]"}},
		"stacks", `job "drift": matrix stacks [dev prod staging], want the stacks present [dev prod]`},
}

// withGithubScript replaces goodDrift's gh issue step with a github-script step: the gh
// script becomes a step of its own that only echoes.
func withGithubScript(step string) []edit {
	return []edit{{driftIssueStep, step + "      - run: |\n"},
		{"gh issue list", "echo"}, {"gh issue close", "echo"}, {"gh issue comment", "echo"}, {"gh label create", "echo"}, {"gh issue create", "echo"}}
}

// driftLockCases break the drift workflow's or the deploy's concurrency groups; want as in
// badCase.
var driftLockCases = []struct {
	name                    string
	driftEdits, deployEdits []edit
	want                    string
}{
	{"drift in the deploy's groups", []edit{{"group: drift-${{ matrix.stack }}", "group: up-${{ matrix.stack }}"}}, nil,
		`the drift check of "dev" runs in concurrency group "up-dev", a deploy's: it would cancel a deploy pending there`},
	{"drift of prod in dev's deploy group", []edit{{"group: drift-${{ matrix.stack }}", "group: up-dev"}}, nil,
		`the drift check of "prod" runs in concurrency group "up-dev", a deploy's`},
	{"one group for both stacks", []edit{{"group: drift-${{ matrix.stack }}", "group: drift"}}, nil,
		`the drift checks of "dev" and "prod" share concurrency group "drift"`},
	{"drift without concurrency", []edit{{"    concurrency:\n      group: drift-${{ matrix.stack }}\n      cancel-in-progress: false\n", ""}}, nil,
		`the drift check of "dev" runs in concurrency group ""`},
	{"fine: groups of its own", nil, nil, ""},
}

func applyEdits(t *testing.T, src string, edits []edit) string {
	t.Helper()
	for _, e := range edits {
		if !strings.Contains(src, e.old) {
			t.Fatalf("edit target not found: %q", e.old)
		}
		src = strings.Replace(src, e.old, e.new, 1)
	}
	return src
}

func TestDriftLockFindsBadWorkflows(t *testing.T) {
	t.Parallel()
	for _, tc := range driftLockCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			drift := parse(t, "drift", []byte(applyEdits(t, goodDrift, tc.driftEdits)))
			deploy := parse(t, "deploy", []byte(applyEdits(t, goodDeploy, tc.deployEdits)))
			findings := driftLockFindings(drift, deploy, fixtureStacks)
			if tc.want == "" {
				for _, f := range findings {
					t.Errorf("the drift lock rule rejects fine workflows: %s", f)
				}
				return
			}
			if !slices.ContainsFunc(findings, func(f string) bool { return strings.Contains(f, tc.want) }) {
				t.Errorf("the drift lock rule misses the bad workflows: want a finding containing %q, got %q", tc.want, findings)
			}
		})
	}
}
