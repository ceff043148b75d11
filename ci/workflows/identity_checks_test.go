package workflows

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/rhysd/actionlint"
)

// The identity rules: one identity per job, and never a deployer where code from a pull
// request or a schedule runs. The foundation creates per stack a read-only preview identity,
// usable from any job of the repository (repository variables suffixed with the stack,
// GCP_PREVIEW_SERVICE_ACCOUNT_DEV), and a deployer usable only from the stack's GitHub
// environment (environment variables, GCP_DEPLOYER_SERVICE_ACCOUNT). The stacks' secrets are
// decrypted with their Cloud KMS key, so no job reads a passphrase.

const (
	// passphraseVar encrypted the stacks' secrets before they moved to Cloud KMS.
	passphraseVar = "PULUMI_CONFIG_PASSPHRASE"
	// deployerMark is in the name of every variable that names a deployer.
	deployerMark = "DEPLOYER"
	// previewAccountVar prefixes each stack's preview identity: ..._DEV, ..._PROD.
	previewAccountVar  = "GCP_PREVIEW_SERVICE_ACCOUNT_"
	deployerAccountVar = "GCP_DEPLOYER_SERVICE_ACCOUNT"
)

// deployerEnvironments maps a stack to the GitHub environment that holds its deployer.
var deployerEnvironments = map[string]string{"dev": "dev", "prod": productionEnvironment}

// environmentVars are the deployer environments' variables: a job without one of those
// environments must not read them.
var environmentVars = []string{"GCP_WORKLOAD_IDENTITY_PROVIDER", deployerAccountVar, "PULUMI_BACKEND_URL"}

// untrustedEvents run code no deployer approved: a pull request's, or a schedule's.
var untrustedEvents = []string{"pull_request", "pull_request_target", "schedule"}

var (
	varRef      = regexp.MustCompile(`\bvars\.([A-Za-z_][A-Za-z0-9_]*)`)
	dynamicVars = regexp.MustCompile(`\bvars\s*\[`)
	matrixRef   = regexp.MustCompile(`\$\{\{\s*matrix\.([\w-]+)\s*\}\}`)
)

// checkIdentity: no workflow reads PULUMI_CONFIG_PASSPHRASE or computes a variable's name; a
// workflow that runs on pull requests or a schedule has no job that references a deployer
// variable or names a deployer environment; a job that reads a deployer environment's
// variables runs in one, the one of the stack it deploys; a job authenticates once, as its
// stack's preview identity (no environment) or as the environment's deployer; and a variable
// of one stack (..._DEV) is used only for that stack (a matrix carries each stack's in its
// include row).
func checkIdentity(wf *actionlint.Workflow, stacks []string) []string {
	var findings []string
	if slices.ContainsFunc(envTexts(wf.Env), func(t string) bool { return strings.Contains(t, passphraseVar) }) {
		findings = append(findings, fmt.Sprintf("workflow env reads %s; the stacks' secrets are decrypted with their Cloud KMS key", passphraseVar))
	}
	var untrusted []string
	for _, e := range untrustedEvents {
		if triggeredBy(wf, e) {
			untrusted = append(untrusted, e)
		}
	}
	all := ops(wf)
	for _, j := range jobs(wf) {
		texts := jobTexts(j.Job)
		for _, row := range includeRows(j.Job) {
			texts = append(texts, row.values...)
		}
		env := ""
		if j.Environment != nil {
			env = str(j.Environment.Name)
		}
		deployerEnv := slices.Contains(sortedValues(deployerEnvironments), env)
		if slices.ContainsFunc(texts, func(t string) bool { return strings.Contains(t, passphraseVar) }) {
			findings = append(findings, fmt.Sprintf("job %q: reads %s; the stacks' secrets are decrypted with their Cloud KMS key, which the job's identity may use", j.id, passphraseVar))
		}
		if slices.ContainsFunc(texts, dynamicVars.MatchString) {
			findings = append(findings, fmt.Sprintf("job %q: computes a variable's name (vars[...]); name each variable (vars.NAME), so the identity rules see which identity the job gets", j.id))
		}
		refs := varRefs(texts)
		var deployer []string
		for _, r := range refs {
			if strings.Contains(r, deployerMark) {
				deployer = append(deployer, "vars."+r)
				if !deployerEnv && !slices.Contains(environmentVars, r) {
					findings = append(findings, fmt.Sprintf("job %q: uses a deployer identity (vars.%s) in environment %q; a deployer is its stack's environment's (%s)", j.id, r, env, environmentList()))
				}
			}
		}
		if deployerEnv {
			deployer = append(deployer, "environment "+env)
		}
		if len(untrusted) > 0 && len(deployer) > 0 {
			findings = append(findings, fmt.Sprintf("job %q: can obtain a deployer identity (%s) in a workflow that runs on %s; use the stack's preview identity (vars.%s<STACK>)", j.id, strings.Join(deployer, ", "), strings.Join(untrusted, ", "), previewAccountVar))
		}
		for _, r := range refs {
			if slices.Contains(environmentVars, r) && !deployerEnv {
				findings = append(findings, fmt.Sprintf("job %q: uses vars.%s, a variable of the deployer environments, in environment %q; run it in its stack's environment (%s)", j.id, r, env, environmentList()))
			}
		}
		for _, o := range all {
			if o.job == j.id && o.command == "up" && o.stack != "" && env != deployerEnvironments[o.stack] {
				findings = append(findings, fmt.Sprintf("job %q: deploys %q in environment %q, want %q, which holds its deployer", j.id, o.stack, env, deployerEnvironments[o.stack]))
			}
		}
		findings = append(findings, authFindings(j, deployerEnv)...)
		findings = append(findings, stackVarFindings(j, all, stacks)...)
	}
	return findings
}

// authFindings: a job authenticates to Google once, as the environment's deployer in a
// deployer environment and as a preview identity elsewhere.
func authFindings(j namedJob, deployerEnv bool) []string {
	var findings []string
	var auths []*actionlint.ExecAction
	for _, s := range j.Steps {
		if a := actionStep(s); a != nil && actionName(a) == "google-github-actions/auth" {
			auths = append(auths, a)
		}
	}
	if len(auths) > 1 {
		findings = append(findings, fmt.Sprintf("job %q: authenticates to Google Cloud %d times; one identity per job", j.id, len(auths)))
	}
	for _, a := range auths {
		for _, account := range resolveMatrix(j.Job, input(a, "service_account")) {
			want := "vars." + previewAccountVar
			if deployerEnv {
				want = "vars." + deployerAccountVar
			}
			if !strings.Contains(account, want) {
				findings = append(findings, fmt.Sprintf("job %q: authenticates as %q; want %s...", j.id, account, want))
			}
		}
	}
	return findings
}

// stackVarFindings: a variable of one stack (its name ends in _<STACK>) is used only for that
// stack: in a stack matrix, in the include row of that stack; elsewhere, in a job that works
// on that stack.
func stackVarFindings(j namedJob, all []op, stacks []string) []string {
	stackOf := func(name string) string {
		for _, s := range stacks {
			if strings.HasSuffix(name, "_"+strings.ToUpper(s)) {
				return s
			}
		}
		return ""
	}
	var findings []string
	for _, row := range includeRows(j.Job) {
		for _, r := range varRefs(row.values) {
			if s := stackOf(r); s != "" && s != row.stack {
				findings = append(findings, fmt.Sprintf("job %q: the matrix row of stack %q uses vars.%s, stack %q's", j.id, row.stack, r, s))
			}
		}
	}
	_, matrix := matrixStacks(j.Job)
	var jobStacks []string
	for _, o := range all {
		if o.job == j.id && o.stack != "" {
			jobStacks = append(jobStacks, o.stack)
		}
	}
	for _, r := range varRefs(jobTexts(j.Job)) {
		s := stackOf(r)
		switch {
		case s == "":
		case matrix:
			findings = append(findings, fmt.Sprintf("job %q: uses vars.%s in every row of its stack matrix; carry each stack's variables in its include row", j.id, r))
		case !slices.Contains(jobStacks, s):
			findings = append(findings, fmt.Sprintf("job %q: works on stacks %v but uses vars.%s, stack %q's", j.id, slices.Compact(slices.Sorted(slices.Values(jobStacks))), r, s))
		}
	}
	return findings
}

// jobTexts are the parts of a job that may read a variable or a secret, matrix include rows
// left out (includeRows): its if:, env (names and values), environment, and each step's if:,
// env, run: script and action inputs.
func jobTexts(j *actionlint.Job) []string {
	out := append([]string{str(j.If)}, envTexts(j.Env)...)
	if j.Environment != nil {
		out = append(out, str(j.Environment.Name), str(j.Environment.URL))
	}
	for _, s := range j.Steps {
		out = append(out, str(s.If), runScript(s))
		out = append(out, envTexts(s.Env)...)
		if a := actionStep(s); a != nil {
			for _, in := range a.Inputs {
				out = append(out, in.Name.Value, str(in.Value))
			}
		}
	}
	return out
}

// envTexts are an env's names and values.
func envTexts(e *actionlint.Env) []string {
	if e == nil {
		return nil
	}
	out := []string{str(e.Expression)}
	for _, v := range e.Vars {
		out = append(out, v.Name.Value, str(v.Value))
	}
	return out
}

func varRefs(texts []string) []string {
	var out []string
	for _, t := range texts {
		for _, m := range varRef.FindAllStringSubmatch(t, -1) {
			if !slices.Contains(out, m[1]) {
				out = append(out, m[1])
			}
		}
	}
	return out
}

// includeRow is one include entry of a stack matrix: its stack and its values.
type includeRow struct {
	stack  string
	assign map[string]string
	values []string
}

func includeRows(j *actionlint.Job) []includeRow {
	if j.Strategy == nil || j.Strategy.Matrix == nil || j.Strategy.Matrix.Include == nil {
		return nil
	}
	var out []includeRow
	for _, c := range j.Strategy.Matrix.Include.Combinations {
		row := includeRow{assign: map[string]string{}}
		for k, a := range c.Assigns {
			v := rawString(a.Value)
			row.assign[k] = v
			row.values = append(row.values, v)
		}
		row.stack = row.assign["stack"]
		out = append(out, row)
	}
	return out
}

func rawString(v actionlint.RawYAMLValue) string {
	if s, ok := v.(*actionlint.RawYAMLString); ok {
		return s.Value
	}
	if v == nil {
		return ""
	}
	return v.String()
}

// resolveMatrix returns an input's value once per include row when it is or holds matrix
// values (${{ matrix.service_account }}), else as it is.
func resolveMatrix(j *actionlint.Job, value string) []string {
	rows := includeRows(j)
	if !matrixRef.MatchString(value) || len(rows) == 0 {
		return []string{value}
	}
	var out []string
	for _, row := range rows {
		out = append(out, matrixRef.ReplaceAllStringFunc(value, func(ref string) string {
			return row.assign[strings.ToLower(matrixRef.FindStringSubmatch(ref)[1])]
		}))
	}
	return out
}

func sortedValues(m map[string]string) []string {
	var out []string
	for _, k := range sortedKeys(m) {
		out = append(out, m[k])
	}
	return out
}

func environmentList() string {
	var out []string
	for _, s := range sortedKeys(deployerEnvironments) {
		out = append(out, deployerEnvironments[s]+" for "+s)
	}
	return strings.Join(out, ", ")
}

// Steps of the good fixtures the cases below edit.
const (
	deployablePreviewDev = "      - name: preview dev\n        run: pulumi preview --stack dev --json --policy-pack policy --policy-pack-config policy/config/dev.json > preview.json\n"
	gateDevStep          = "      - name: gate dev\n        env:\n          REVIEW_STATUS: ${{ steps.review.outputs.status }}\n        run: |\n          if [ \"$REVIEW_STATUS\" != 0 ]; then\n            exit 1\n          fi\n"
	compareStep          = "      - name: compare\n        run: |\n          if ! diff <(jq -c '[.steps[] | {op, urn}]' reviewed/preview.json) <(jq -c '[.steps[] | {op, urn}]' preview.json); then\n            exit 1\n          fi\n"
	driftBeforeStep      = "      - id: before\n        env:\n          GH_TOKEN: ${{ github.token }}\n        run: gh run list --workflow deploy.yml --json status > before.json\n"
	driftAfterStep       = "      - id: after\n        env:\n          GH_TOKEN: ${{ github.token }}\n        run: gh run list --workflow deploy.yml --json status > after.json\n"
	prodReviewAuth       = "      - uses: google-github-actions/auth@v2.1.10\n        with:\n          workload_identity_provider: ${{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER_PROD }}\n          service_account: ${{ vars.GCP_PREVIEW_SERVICE_ACCOUNT_PROD }}\n"
	// deploysFunc looks for deploys through a shell function of the preview step.
	deploysFunc = "          deploys() {\n            gh run list --workflow deploy.yml --json status\n          }\n"
)

// deployBadCases break the good workflows for the identity, reviewed deploy and drift overlap
// rules, and the permissions and accept-loss rules as the deploy and the drift check use them.
var deployBadCases = []badCase{
	// identity
	{"pull request preview as the deployer", goodPullRequest,
		[]edit{{"service_account: ${{ vars.GCP_PREVIEW_SERVICE_ACCOUNT_DEV }}", "service_account: ${{ vars.GCP_DEPLOYER_SERVICE_ACCOUNT }}"}},
		"identity", `job "preview": can obtain a deployer identity (vars.GCP_DEPLOYER_SERVICE_ACCOUNT) in a workflow that runs on pull_request`},
	{"pull request job in a deployer environment", goodPullRequest,
		[]edit{{"  plan:\n    runs-on: ubuntu-latest\n", "  plan:\n    environment: production\n    runs-on: ubuntu-latest\n"}},
		"identity", `job "plan": can obtain a deployer identity (environment production) in a workflow that runs on pull_request`},
	{"pull_request_target job with a deployer", goodPullRequest,
		[]edit{{"on:\n  pull_request:\n", "on:\n  pull_request_target:\n    types: [opened]\n  pull_request:\n"}, {"  ci:\n    runs-on: ubuntu-latest\n", "  ci:\n    environment: dev\n    runs-on: ubuntu-latest\n"}},
		"identity", `job "ci": can obtain a deployer identity (environment dev) in a workflow that runs on pull_request, pull_request_target`},
	{"scheduled drift check as the deployer", goodDrift,
		[]edit{{"service_account: ${{ vars.GCP_PREVIEW_SERVICE_ACCOUNT_PROD }}", "service_account: ${{ vars.GCP_DEPLOYER_SERVICE_ACCOUNT_PROD }}"}},
		"identity", `job "drift": can obtain a deployer identity (vars.GCP_DEPLOYER_SERVICE_ACCOUNT_PROD) in a workflow that runs on schedule`},
	{"scheduled drift check in a deployer environment", goodDrift,
		[]edit{{"    runs-on: ubuntu-latest\n", "    environment: dev\n    runs-on: ubuntu-latest\n"}},
		"identity", `job "drift": can obtain a deployer identity (environment dev) in a workflow that runs on schedule`},
	{"deployer without an environment", goodDeploy,
		[]edit{{"    environment: dev\n", ""}},
		"identity", `job "dev": uses vars.GCP_DEPLOYER_SERVICE_ACCOUNT, a variable of the deployer environments, in environment ""`},
	{"deployer variables in another environment", goodDeploy,
		[]edit{{"    environment: dev\n", "    environment: staging\n"}},
		"identity", `job "dev": uses vars.GCP_WORKLOAD_IDENTITY_PROVIDER, a variable of the deployer environments, in environment "staging"`},
	{"repository-level deployer without an environment", goodDeploy,
		[]edit{{"service_account: ${{ vars.GCP_PREVIEW_SERVICE_ACCOUNT_PROD }}", "service_account: ${{ vars.GCP_DEPLOYER_SERVICE_ACCOUNT_PROD }}"}},
		"identity", `job "prod-review": uses a deployer identity (vars.GCP_DEPLOYER_SERVICE_ACCOUNT_PROD) in environment ""`},
	{"dev deployed in production", goodDeploy,
		[]edit{{"    environment: dev\n", "    environment: production\n"}},
		"identity", `job "dev": deploys "dev" in environment "production", want "dev"`},
	{"passphrase in a deploy", goodDeploy,
		[]edit{{deployablePreviewDev, strings.Replace(deployablePreviewDev, "        run:", "        env:\n          PULUMI_CONFIG_PASSPHRASE: ${{ secrets.PULUMI_CONFIG_PASSPHRASE }}\n        run:", 1)}},
		"identity", `job "dev": reads PULUMI_CONFIG_PASSPHRASE`},
	{"passphrase in the workflow's env", goodDrift,
		[]edit{{"permissions:\n  contents: read\njobs:", "permissions:\n  contents: read\nenv:\n  PULUMI_CONFIG_PASSPHRASE: ${{ secrets.P }}\njobs:"}},
		"identity", `workflow env reads PULUMI_CONFIG_PASSPHRASE`},
	{"passphrase file in a script", goodPullRequest,
		[]edit{{"          status=0\n          " + previewCmd, "          export PULUMI_CONFIG_PASSPHRASE_FILE=/tmp/p\n          status=0\n          " + previewCmd}},
		"identity", `job "preview": reads PULUMI_CONFIG_PASSPHRASE`},
	{"variable name computed", goodPullRequest,
		[]edit{{"service_account: ${{ matrix.service_account }}", "service_account: ${{ vars[format('GCP_{0}_SERVICE_ACCOUNT', 'DEPLOYER')] }}"}},
		"identity", `job "preview": computes a variable's name (vars[...])`},
	{"dev's preview identity in prod's row", goodPullRequest,
		[]edit{{"service_account: ${{ vars.GCP_PREVIEW_SERVICE_ACCOUNT_PROD }}", "service_account: ${{ vars.GCP_PREVIEW_SERVICE_ACCOUNT_DEV }}"}},
		"identity", `job "preview": the matrix row of stack "prod" uses vars.GCP_PREVIEW_SERVICE_ACCOUNT_DEV, stack "dev"'s`},
	{"one stack's identity in every matrix row", goodDrift,
		[]edit{{"service_account: ${{ matrix.service_account }}", "service_account: ${{ vars.GCP_PREVIEW_SERVICE_ACCOUNT_DEV }}"}},
		"identity", `job "drift": uses vars.GCP_PREVIEW_SERVICE_ACCOUNT_DEV in every row of its stack matrix`},
	{"prod reviewed as dev's preview identity", goodDeploy,
		[]edit{{"service_account: ${{ vars.GCP_PREVIEW_SERVICE_ACCOUNT_PROD }}", "service_account: ${{ vars.GCP_PREVIEW_SERVICE_ACCOUNT_DEV }}"}},
		"identity", `job "prod-review": works on stacks [prod] but uses vars.GCP_PREVIEW_SERVICE_ACCOUNT_DEV, stack "dev"'s`},
	{"two identities in one job", goodDeploy,
		[]edit{{prodReviewAuth, prodReviewAuth + strings.Replace(prodReviewAuth, "GCP_PREVIEW_SERVICE_ACCOUNT_PROD", "GCP_OTHER_ACCOUNT_PROD", 1)}},
		"identity", `job "prod-review": authenticates to Google Cloud 2 times; one identity per job`},
	{"preview job as another account", goodPullRequest,
		[]edit{{"service_account: ${{ vars.GCP_PREVIEW_SERVICE_ACCOUNT_DEV }}", "service_account: ${{ vars.CI_ACCOUNT_DEV }}"}},
		"identity", `job "preview": authenticates as "${{ vars.CI_ACCOUNT_DEV }}"; want vars.GCP_PREVIEW_SERVICE_ACCOUNT_`},
	{"deploy job as a preview identity", goodDeploy,
		[]edit{{"service_account: ${{ vars.GCP_DEPLOYER_SERVICE_ACCOUNT }}", "service_account: ${{ vars.GCP_PREVIEW_SERVICE_ACCOUNT_DEV }}"}},
		"identity", `job "dev": authenticates as "${{ vars.GCP_PREVIEW_SERVICE_ACCOUNT_DEV }}"; want vars.GCP_DEPLOYER_SERVICE_ACCOUNT`},

	// reviewed deploy
	{"dev up without a preview", goodDeploy,
		[]edit{{deployablePreviewDev, ""}},
		"reviewed deploy", "job \"dev\": up of \"dev\": no earlier `pulumi preview --json > <file>` of the stack in its job"},
	{"dev up without the deployable check", goodDeploy,
		[]edit{{"      - name: deployable dev\n        run: ./bin/plan --stack dev --check-deployable\n", ""}},
		"reviewed deploy", `job "dev": up of "dev": no earlier ./bin/plan --stack dev --check-deployable`},
	{"dev review never gated", goodDeploy,
		[]edit{{gateDevStep, ""}},
		"reviewed deploy", `job "dev": up of "dev": no step between the review "review" and the up reads the review's status`},
	{"dev gate that never fails", goodDeploy,
		[]edit{{gateDevStep, strings.Replace(gateDevStep, "exit 1", "echo blocked", 1)}},
		"reviewed deploy", `job "dev": up of "dev": no step between the review "review" and the up reads the review's status`},
	{"dev review of another document", goodDeploy,
		[]edit{{`./bin/plan --from preview.json "${accept[@]}"`, `./bin/plan --from old.json "${accept[@]}"`}},
		"reviewed deploy", `job "dev": up of "dev": applies a preview nobody reviewed`},
	{"dev up that runs after a failed review", goodDeploy,
		[]edit{{"      - name: up dev\n", "      - name: up dev\n        if: always()\n"}},
		"reviewed deploy", `job "dev": up of "dev": the up step has if: always()`},
	{"dev gate with continue-on-error", goodDeploy,
		[]edit{{"      - name: gate dev\n", "      - name: gate dev\n        continue-on-error: true\n"}},
		"reviewed deploy", `job "dev": up of "dev": step "gate dev" has continue-on-error`},
	{"prod applied without comparing", goodDeploy,
		[]edit{{compareStep, ""}},
		"reviewed deploy", `job "prod": up of "prod": no step between its preview and the up compares the steps of preview.json with the reviewed preview in reviewed/`},
	{"prod compared with a comparison that never fails", goodDeploy,
		[]edit{{compareStep, strings.Replace(compareStep, "exit 1", "echo changed", 1)}},
		"reviewed deploy", `job "prod": up of "prod": no step between its preview and the up compares`},
	{"prod compared with what nobody reviewed", goodDeploy,
		[]edit{{"          name: reviewed\n          path: preview.json\n", "          name: other\n          path: preview.json\n"}},
		"reviewed deploy", `job "prod": up of "prod": applies a preview nobody reviewed`},
	{"prod review that is not needed", goodDeploy,
		[]edit{{"    needs: [dev, prod-review]\n", "    needs: dev\n"}},
		"reviewed deploy", `job "prod": up of "prod": applies a preview nobody reviewed`},

	// accept loss, on a push
	{"deploy accepts the labels of any pull request with the commit", goodDeploy,
		[]edit{{"select(.merged_at != null and .merge_commit_sha == $sha)", "select(.merged_at != null)"}},
		"accept loss", `job "dev" step "review": passes --accept-loss, but does not read the labels of the pull request merged as the pushed commit`},
	{"deploy takes the commit from elsewhere", goodDeploy,
		[]edit{{"SHA: ${{ github.sha }}", "SHA: ${{ github.event.after }}"}},
		"accept loss", `job "dev" step "review": takes github.event.after into the step that passes --accept-loss`},

	// drift overlap
	{"drift check that never looks for deploys before its preview", goodDrift,
		[]edit{{driftBeforeStep, ""}},
		"drift overlap", `job "drift": never looks for deploys (gh run list --workflow deploy.yml) before its preview`},
	{"drift check that never looks again after its preview", goodDrift,
		[]edit{{driftAfterStep, ""}},
		"drift overlap", `job "drift": never looks for deploys (gh run list --workflow deploy.yml) after its preview`},
	{"drift check that looks after managing the issue", goodDrift,
		[]edit{{driftAfterStep, ""}, {driftGateStep, driftGateStep + driftAfterStep}},
		"drift overlap", `job "drift": never looks for deploys (gh run list --workflow deploy.yml) after its preview`},
	{"drift check that looks at another workflow", goodDrift,
		[]edit{{"gh run list --workflow deploy.yml --json status > before.json", "gh run list --workflow drift.yml --json status > before.json"}},
		"drift overlap", `job "drift": never looks for deploys (gh run list --workflow deploy.yml) before its preview`},
	{"drift check whose function is called only after the preview", goodDrift,
		[]edit{{driftBeforeStep, ""}, {driftAfterStep, ""}, {"          status=0\n          " + driftPreviewCmd + "\n", deploysFunc + "          status=0\n          " + driftPreviewCmd + "\n          deploys > after.json\n"}},
		"drift overlap", `job "drift": never looks for deploys (gh run list --workflow deploy.yml) before its preview`},
	{"fine: a drift check that looks through a function of its preview step", goodDrift,
		[]edit{{driftBeforeStep, ""}, {driftAfterStep, ""}, {"          status=0\n          " + driftPreviewCmd + "\n", deploysFunc + "          state=$(deploys)\n          status=0\n          " + driftPreviewCmd + "\n          state=$(deploys)\n"}},
		"drift overlap", ""},

	// permissions
	{"pull-requests: read where nothing reads a pull request", goodPullRequest,
		[]edit{{"      contents: read\n    strategy", "      contents: read\n      pull-requests: read\n    strategy"}},
		"permissions", `job "plan": grants pull-requests: read, which it does not need`},
	{"actions: read where nothing lists runs", goodDeploy,
		[]edit{{"      id-token: write\n    concurrency:\n      group: up-prod", "      id-token: write\n      actions: read\n    concurrency:\n      group: up-prod"}},
		"permissions", `job "prod": grants actions: read, which it does not need`},
	{"fine: the deploy reads the merged pull request", goodDeploy,
		[]edit{{"      id-token: write\n    concurrency:\n      group: up-dev", "      id-token: write\n      pull-requests: read\n    concurrency:\n      group: up-dev"}},
		"permissions", ""},
	{"fine: the drift check lists the deploys", goodDrift,
		[]edit{{"      issues: write\n", "      issues: write\n      actions: read\n"}},
		"permissions", ""},
}
