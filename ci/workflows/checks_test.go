package workflows

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/rhysd/actionlint"
)

// The project's own rules for its workflows. Each check reads a workflow parsed by
// actionlint.Parse and the stacks present at the repository root, and returns its findings:
// none when the workflow keeps the rule. Whether a workflow is valid GitHub Actions at all is
// actionlint's job (TestActionlint), not theirs.

const (
	// policyPack is the local policy pack every preview and up must run.
	policyPack = "policy"
	// productionEnvironment is the GitHub environment whose required reviewers approve prod.
	productionEnvironment = "production"
	// forkGuard skips a job for pull requests from forks, which get no secrets or OIDC token.
	forkGuard = "github.event.pull_request.head.repo.full_name == github.repository"
	// pulumiVersionStep is the id of the step that reads the Pulumi SDK version from go.mod;
	// every pulumi/actions step runs that CLI version, so go.mod is the one place to bump both.
	pulumiVersionStep = "pulumi-version"
	pulumiVersionExpr = "${{ steps.pulumi-version.outputs.version }}"
	pulumiSDKModule   = "github.com/pulumi/pulumi/sdk/v3"
	// ciScript is how a job runs the repository's CI, the same script a developer runs.
	ciScript = "bash .ci/run"
)

// check is one project rule.
type check struct {
	name string
	fn   func(wf *actionlint.Workflow, stacks []string) []string
}

var checks = []check{
	{"stacks", checkStacks},
	{"policy pack", checkPolicyPack},
	{"prod gated", checkProdGated},
	{"pulumi version", checkPulumiVersion},
	{"permissions", checkPermissions},
	{"concurrency", checkConcurrency},
	{"ci script", checkCIScript},
	{"fork guard", checkForkGuard},
}

// checkStacks: a stack matrix lists exactly the stacks present, and each Pulumi operation
// covers exactly those stacks, once each. A workflow that runs on pull requests plans and
// previews; one that runs on pushes deploys (up).
func checkStacks(wf *actionlint.Workflow, stacks []string) []string {
	var findings []string
	for _, j := range jobs(wf) {
		if got, ok := matrixStacks(j.Job); ok {
			got = slices.Sorted(slices.Values(got))
			if !slices.Equal(got, stacks) {
				findings = append(findings, fmt.Sprintf("job %q: matrix stacks %v, want the stacks present %v", j.id, got, stacks))
			}
		}
	}
	covered := map[string]map[string][]string{} // command -> stack -> jobs
	if triggeredBy(wf, "pull_request") {
		covered["plan"], covered["preview"] = map[string][]string{}, map[string][]string{}
	}
	if triggeredBy(wf, "push") {
		covered["up"] = map[string][]string{}
	}
	for _, o := range ops(wf) {
		if o.stack == "" {
			findings = append(findings, fmt.Sprintf("job %q step %q: cannot tell which stack %q is", o.job, o.step, o.stackExpr))
			continue
		}
		if covered[o.command] == nil {
			covered[o.command] = map[string][]string{}
		}
		covered[o.command][o.stack] = append(covered[o.command][o.stack], o.job)
	}
	for _, command := range sortedKeys(covered) {
		byStack := covered[command]
		for _, stack := range stacks {
			if len(byStack[stack]) == 0 {
				findings = append(findings, fmt.Sprintf("%s never runs for stack %q", command, stack))
			}
		}
		for _, stack := range sortedKeys(byStack) {
			js := byStack[stack]
			if !slices.Contains(stacks, stack) {
				findings = append(findings, fmt.Sprintf("job %q: %s runs for stack %q but there is no Pulumi.%s.yaml", js[0], command, stack, stack))
			}
			if len(js) > 1 {
				findings = append(findings, fmt.Sprintf("%s runs %d times for stack %q (jobs %v)", command, len(js), stack, js))
			}
		}
	}
	return findings
}

// checkPolicyPack: every preview and up runs the policy pack.
func checkPolicyPack(wf *actionlint.Workflow, _ []string) []string {
	var findings []string
	for _, o := range ops(wf) {
		if (o.command == "preview" || o.command == "up") && !o.policy {
			findings = append(findings, fmt.Sprintf("job %q step %q: %s of stack %q runs without the %q policy pack", o.job, o.step, o.command, o.stack, policyPack))
		}
	}
	return findings
}

// checkProdGated: prod is deployed only in the production environment, whose reviewers
// approve it, and only after the job that deploys dev succeeded.
func checkProdGated(wf *actionlint.Workflow, _ []string) []string {
	var findings []string
	all := ops(wf)
	devJobs := map[string]bool{}
	for _, o := range all {
		if o.command == "up" && o.stack == "dev" {
			devJobs[o.job] = true
		}
	}
	for _, o := range all {
		if o.command != "up" || o.stack != "prod" {
			continue
		}
		j := wf.Jobs[o.job]
		env := ""
		if j.Environment != nil {
			env = str(j.Environment.Name)
		}
		if env != productionEnvironment {
			findings = append(findings, fmt.Sprintf("job %q: up of prod runs in environment %q, want %q", o.job, env, productionEnvironment))
		}
		var needs []string
		for _, n := range j.Needs {
			needs = append(needs, strings.ToLower(n.Value))
		}
		if !slices.ContainsFunc(needs, func(n string) bool { return devJobs[n] && n != o.job }) {
			findings = append(findings, fmt.Sprintf("job %q: up of prod does not need the job that deploys dev (needs %v)", o.job, needs))
		}
	}
	return findings
}

// checkPulumiVersion: every pulumi/actions step runs the CLI version that an earlier step of
// its job, id pulumi-version, read from go.mod's Pulumi SDK requirement.
func checkPulumiVersion(wf *actionlint.Workflow, _ []string) []string {
	var findings []string
	for _, j := range jobs(wf) {
		for i, s := range j.Steps {
			a := actionStep(s)
			if a == nil || actionName(a) != "pulumi/actions" {
				continue
			}
			if v := input(a, "pulumi-version"); v != pulumiVersionExpr {
				findings = append(findings, fmt.Sprintf("job %q step %q: pulumi-version %q, want %q", j.id, stepLabel(s, i), v, pulumiVersionExpr))
			}
			reads := slices.ContainsFunc(j.Steps[:i], func(p *actionlint.Step) bool {
				script := runScript(p)
				return str(p.ID) == pulumiVersionStep && strings.Contains(script, pulumiSDKModule) &&
					(strings.Contains(script, "go list -m") || strings.Contains(script, "go.mod"))
			})
			if !reads {
				findings = append(findings, fmt.Sprintf("job %q step %q: no earlier step with id %s reads %s from go.mod", j.id, stepLabel(s, i), pulumiVersionStep, pulumiSDKModule))
			}
		}
	}
	return findings
}

// checkPermissions: least privilege. The workflow grants contents: read and nothing else; a
// job grants id-token: write only if it authenticates to Google, pull-requests: write only if
// it comments on the pull request, and nothing else but contents: read. A job without its
// own permissions gets the workflow's.
func checkPermissions(wf *actionlint.Workflow, _ []string) []string {
	var findings []string
	switch p := wf.Permissions; {
	case p == nil:
		findings = append(findings, "workflow has no permissions: it gets the repository's default, often write; grant contents: read")
	case p.All != nil:
		findings = append(findings, fmt.Sprintf("workflow permissions are %q; grant contents: read and the rest per job", p.All.Value))
	default:
		for _, scope := range sortedKeys(p.Scopes) {
			if level := str(p.Scopes[scope].Value); level != "none" && (scope != "contents" || level != "read") {
				findings = append(findings, fmt.Sprintf("workflow grants %s: %s; grant contents: read and the rest per job", scope, level))
			}
		}
	}
	for _, j := range jobs(wf) {
		allowed := map[string]string{"contents": "read"}
		var needed []string
		if authenticatesToGoogle(j.Job) {
			allowed["id-token"] = "write"
			needed = append(needed, "id-token")
		}
		if commentsOnPullRequest(j.Job) {
			allowed["pull-requests"] = "write"
			needed = append(needed, "pull-requests")
		}
		p := j.Permissions
		if p == nil {
			p = wf.Permissions
		}
		granted := map[string]string{}
		switch {
		case p == nil:
		case p.All != nil:
			findings = append(findings, fmt.Sprintf("job %q: permissions are %q; list the scopes it needs", j.id, p.All.Value))
			continue
		default:
			for scope, s := range p.Scopes {
				granted[scope] = str(s.Value)
			}
		}
		for _, scope := range sortedKeys(granted) {
			if level := granted[scope]; level != "none" && allowed[scope] != level {
				findings = append(findings, fmt.Sprintf("job %q: grants %s: %s, which it does not need", j.id, scope, level))
			}
		}
		for _, scope := range needed {
			if granted[scope] != allowed[scope] {
				findings = append(findings, fmt.Sprintf("job %q: needs %s: %s", j.id, scope, allowed[scope]))
			}
		}
	}
	return findings
}

// checkConcurrency: a job that runs preview or up is in a concurrency group of its stack
// with cancel-in-progress: false. Two updates never run on one stack, and a newer run never
// kills a running one, which would leave the stack locked with pending operations.
func checkConcurrency(wf *actionlint.Workflow, _ []string) []string {
	var findings []string
	var stackOps []op
	for _, o := range ops(wf) {
		if o.command == "preview" || o.command == "up" {
			stackOps = append(stackOps, o)
		}
	}
	if len(stackOps) == 0 {
		return nil
	}
	if c := wf.Concurrency; c != nil && !isFalse(c.CancelInProgress) {
		findings = append(findings, "workflow concurrency may cancel a running preview or up; set cancel-in-progress: false")
	}
	seen := map[string]bool{}
	for _, o := range stackOps {
		key := o.job + "\x00" + o.stack
		if seen[key] {
			continue
		}
		seen[key] = true
		c := wf.Jobs[o.job].Concurrency
		if c == nil || c.Group == nil {
			findings = append(findings, fmt.Sprintf("job %q: %s of %q has no concurrency group", o.job, o.command, o.stack))
			continue
		}
		want := o.stack
		if o.fromMatrix {
			want = "matrix.stack"
		}
		if !strings.Contains(c.Group.Value, want) {
			findings = append(findings, fmt.Sprintf("job %q: concurrency group %q does not name the stack (%s)", o.job, c.Group.Value, want))
		}
		if !isFalse(c.CancelInProgress) {
			findings = append(findings, fmt.Sprintf("job %q: %s of %q may be cancelled; set cancel-in-progress: false", o.job, o.command, o.stack))
		}
	}
	return findings
}

// checkCIScript: a workflow that runs on pull requests has a job that runs .ci/run, so a pull
// request passes the same CI a developer runs, and that job runs for every pull request,
// forks' included (a skipped required check never reports).
func checkCIScript(wf *actionlint.Workflow, _ []string) []string {
	if !triggeredBy(wf, "pull_request") {
		return nil
	}
	var findings []string
	found := false
	for _, j := range jobs(wf) {
		runs := slices.ContainsFunc(j.Steps, func(s *actionlint.Step) bool {
			return slices.ContainsFunc(strings.Split(runScript(s), "\n"), func(line string) bool {
				return strings.TrimSpace(line) == ciScript
			})
		})
		if !runs {
			continue
		}
		found = true
		if cond := str(j.If); cond != "" {
			findings = append(findings, fmt.Sprintf("job %q: runs %s only if %s; it must run for every pull request", j.id, ciScript, cond))
		}
	}
	if !found {
		findings = append(findings, fmt.Sprintf("no job runs `%s`: pull requests must pass the CI .ci/run defines", ciScript))
	}
	return findings
}

// checkForkGuard: fork code never runs with the repository's secrets or cloud identity. No
// pull_request_target, and on pull_request a job that uses secrets or authenticates to
// Google skips forks.
func checkForkGuard(wf *actionlint.Workflow, _ []string) []string {
	var findings []string
	if triggeredBy(wf, "pull_request_target") {
		findings = append(findings, "workflow runs on pull_request_target, which gives fork code the repository's secrets")
	}
	if !triggeredBy(wf, "pull_request") {
		return findings
	}
	for _, j := range jobs(wf) {
		if (usesSecrets(j.Job) || authenticatesToGoogle(j.Job)) && !strings.Contains(str(j.If), forkGuard) {
			findings = append(findings, fmt.Sprintf("job %q: uses secrets or a cloud identity on pull requests without `if: %s`", j.id, forkGuard))
		}
	}
	return findings
}

// The helpers below read the parts of actionlint's syntax tree the checks need. actionlint
// lowercases the keys of its maps (jobs, with:, env:, matrix rows, permission scopes).

type namedJob struct {
	id string
	*actionlint.Job
}

// jobs returns a workflow's jobs in id order, so findings come in a stable order.
func jobs(wf *actionlint.Workflow) []namedJob {
	out := make([]namedJob, 0, len(wf.Jobs))
	for _, id := range sortedKeys(wf.Jobs) {
		out = append(out, namedJob{id, wf.Jobs[id]})
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	})
}

func str(s *actionlint.String) string {
	if s == nil {
		return ""
	}
	return s.Value
}

func isFalse(b *actionlint.Bool) bool {
	return b != nil && b.Expression == nil && !b.Value
}

func triggeredBy(wf *actionlint.Workflow, event string) bool {
	return slices.ContainsFunc(wf.On, func(e actionlint.Event) bool { return e.EventName() == event })
}

func actionStep(s *actionlint.Step) *actionlint.ExecAction {
	a, _ := s.Exec.(*actionlint.ExecAction)
	return a
}

// actionName is the action a step uses without its version: "pulumi/actions".
func actionName(a *actionlint.ExecAction) string {
	name, _, _ := strings.Cut(str(a.Uses), "@")
	return name
}

func input(a *actionlint.ExecAction, name string) string {
	if in := a.Inputs[strings.ToLower(name)]; in != nil {
		return str(in.Value)
	}
	return ""
}

func runScript(s *actionlint.Step) string {
	if r, ok := s.Exec.(*actionlint.ExecRun); ok {
		return str(r.Run)
	}
	return ""
}

func stepLabel(s *actionlint.Step, i int) string {
	if name := str(s.Name); name != "" {
		return name
	}
	if a := actionStep(s); a != nil {
		return str(a.Uses)
	}
	return fmt.Sprintf("#%d", i+1)
}

func authenticatesToGoogle(j *actionlint.Job) bool {
	return slices.ContainsFunc(j.Steps, func(s *actionlint.Step) bool {
		a := actionStep(s)
		return a != nil && actionName(a) == "google-github-actions/auth"
	})
}

func commentsOnPullRequest(j *actionlint.Job) bool {
	return slices.ContainsFunc(j.Steps, func(s *actionlint.Step) bool {
		a := actionStep(s)
		return a != nil && actionName(a) == "pulumi/actions" && input(a, "comment-on-pr") == "true"
	})
}

var secretsExpr = regexp.MustCompile(`\$\{\{[^}]*\bsecrets\.`)

func usesSecrets(j *actionlint.Job) bool {
	values := envValues(j.Env)
	for _, s := range j.Steps {
		values = append(values, envValues(s.Env)...)
		values = append(values, runScript(s))
		if a := actionStep(s); a != nil {
			for _, in := range a.Inputs {
				values = append(values, str(in.Value))
			}
		}
	}
	return slices.ContainsFunc(values, secretsExpr.MatchString)
}

func envValues(e *actionlint.Env) []string {
	if e == nil {
		return nil
	}
	out := []string{str(e.Expression)}
	for _, v := range e.Vars {
		out = append(out, str(v.Value))
	}
	return out
}

func envVar(e *actionlint.Env, name string) (string, bool) {
	if e == nil {
		return "", false
	}
	v, ok := e.Vars[strings.ToLower(name)]
	if !ok {
		return "", false
	}
	return str(v.Value), true
}

// matrixStacks returns the values of a job's stack matrix, if it has one.
func matrixStacks(j *actionlint.Job) ([]string, bool) {
	if j.Strategy == nil || j.Strategy.Matrix == nil {
		return nil, false
	}
	row := j.Strategy.Matrix.Rows["stack"]
	if row == nil {
		return nil, false
	}
	var out []string
	for _, v := range row.Values {
		if s, ok := v.(*actionlint.RawYAMLString); ok {
			out = append(out, s.Value)
		} else {
			out = append(out, v.String())
		}
	}
	return out, true
}

// op is one Pulumi operation a workflow runs on one stack: the offline plan, preview or up.
type op struct {
	job, step  string
	command    string // plan, preview, up, or another pulumi/actions command
	stack      string // "" when the stack expression cannot be resolved
	stackExpr  string
	fromMatrix bool // the stack comes from the job's stack matrix
	policy     bool // the policy pack runs
}

var (
	cliPulumi = regexp.MustCompile(`\bpulumi\s+(preview|up|update)\b`)
	cliStack  = regexp.MustCompile(`(?:--stack|\s-s)[= ]+("[^"]*"|'[^']*'|\S+)`)
	cliPolicy = regexp.MustCompile(`--policy-pack[= ]+("[^"]*"|'[^']*'|\S+)`)
	shellVar  = regexp.MustCompile(`^\$\{?(\w+)\}?$`)
)

// ops lists the Pulumi operations of a workflow, one per stack: pulumi/actions steps, and
// run: scripts that call the pulumi CLI or the offline plan (./cmd/plan).
func ops(wf *actionlint.Workflow) []op {
	var out []op
	for _, j := range jobs(wf) {
		for i, s := range j.Steps {
			var command, stackExpr string
			var policy bool
			script := runScript(s)
			switch a := actionStep(s); {
			case a != nil && actionName(a) == "pulumi/actions":
				command, stackExpr = input(a, "command"), input(a, "stack-name")
				policy = slices.ContainsFunc(strings.FieldsFunc(input(a, "policyPacks"), func(r rune) bool {
					return r == ',' || r == '\n'
				}), isPolicyPack)
			case strings.Contains(script, "./cmd/plan"):
				command = "plan"
				if m := cliStack.FindStringSubmatch(script); m != nil {
					stackExpr = m[1]
				}
			case cliPulumi.MatchString(script):
				command = cliPulumi.FindStringSubmatch(script)[1]
				if m := cliStack.FindStringSubmatch(script); m != nil {
					stackExpr = m[1]
				}
				if m := cliPolicy.FindStringSubmatch(script); m != nil {
					policy = isPolicyPack(m[1])
				}
			default:
				continue
			}
			if command == "update" {
				command = "up"
			}
			stackExpr = strings.Trim(strings.TrimSpace(stackExpr), `"'`)
			// A shell variable ($STACK) is resolved through the step's, the job's or the
			// workflow's env.
			if m := shellVar.FindStringSubmatch(stackExpr); m != nil {
				for _, e := range []*actionlint.Env{s.Env, j.Env, wf.Env} {
					if v, ok := envVar(e, m[1]); ok {
						stackExpr = v
						break
					}
				}
			}
			stacks, fromMatrix := resolveStacks(j.Job, stackExpr)
			for _, stack := range stacks {
				out = append(out, op{job: j.id, step: stepLabel(s, i), command: command, stack: stack,
					stackExpr: stackExpr, fromMatrix: fromMatrix, policy: policy})
			}
		}
	}
	return out
}

func isPolicyPack(p string) bool {
	p = strings.Trim(strings.TrimSpace(p), `"'`)
	return p != "" && path.Clean(p) == policyPack
}

// resolveStacks turns a stack expression into stack names: a literal, or the job's matrix.
func resolveStacks(j *actionlint.Job, expr string) ([]string, bool) {
	switch {
	case strings.Contains(expr, "matrix.stack"):
		if stacks, ok := matrixStacks(j); ok && len(stacks) > 0 {
			return stacks, true
		}
		return []string{""}, true
	case expr == "" || strings.Contains(expr, "$"):
		return []string{""}, false
	}
	return []string{expr}, false
}
