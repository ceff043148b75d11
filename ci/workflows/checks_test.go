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
	// policyConfigDir holds each stack's policy config, <stack>.json (--policy-pack-config).
	policyConfigDir = "policy/config"
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
	// planBinary is where jobs build the offline plan (go build -o bin/plan ./cmd/plan) and
	// what they run. `go run` would turn each of its exit statuses (1 the gate fails, 2 a
	// usage or config error) into 1.
	planBinary = "bin/plan"
	// stickyComment keeps one pull-request comment per header, updated in place.
	stickyComment = "marocchino/sticky-pull-request-comment"
	// labelsExpr is where a pull request's labels are; acceptLossLabel prefixes the labels
	// that acknowledge a message loss, accept-loss:<resource name>.
	labelsExpr      = "github.event.pull_request.labels"
	acceptLossLabel = "accept-loss:"
	// pushedCommitExpr is the commit a push deploys.
	pushedCommitExpr = "github.sha"
)

// prTypes are the pull_request activity types a pull-request workflow runs on: GitHub's
// default three, and label changes, which acknowledge message losses.
var prTypes = []string{"opened", "synchronize", "reopened", "labeled", "unlabeled"}

// policyConfigFor is the policy config a stack's previews and ups pass.
func policyConfigFor(stack string) string { return policyConfigDir + "/" + stack + ".json" }

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
	{"plan binary", checkPlanBinary},
	{"preview review", checkPreviewReview},
	{"accept loss", checkAcceptLoss},
	{"label triggers", checkLabelTriggers},
	{"action inputs", checkActionInputs},
	{"drift schedule", checkDriftSchedule},
	{"drift preview", checkDriftPreview},
	{"drift issue", checkDriftIssue},
	{"drift gate", checkDriftGate},
	{"drift overlap", checkDriftOverlap},
	{"identity", checkIdentity},
	{"reviewed deploy", checkReviewedDeploy},
}

// checkStacks: a stack matrix lists exactly the stacks present, and each Pulumi operation
// covers exactly those stacks, once each. A workflow that runs on pull requests plans,
// previews and reviews each preview; one that runs on pushes deploys (up).
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
		for _, command := range []string{"plan", "preview", "review"} {
			covered[command] = map[string][]string{}
		}
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
			if len(js) > 1 && !(triggeredBy(wf, "push") && reviewedTwice[command]) {
				findings = append(findings, fmt.Sprintf("%s runs %d times for stack %q (jobs %v)", command, len(js), stack, js))
			}
		}
	}
	return findings
}

// reviewedTwice are the commands a deploy runs twice for a stack that needs approval: in the
// review job that shows the change and in the approved job that applies it.
var reviewedTwice = map[string]bool{"preview": true, "review": true, "deployable": true}

// checkPolicyPack: every preview and up runs the policy pack with the stack's policy config,
// policy/config/<stack>.json, paired with the pack (the Nth config goes with the Nth pack).
// The offline plan and the review run the pack themselves; one that names a policy config
// names the stack's.
func checkPolicyPack(wf *actionlint.Workflow, _ []string) []string {
	var findings []string
	for _, o := range ops(wf) {
		where := fmt.Sprintf("job %q step %q: %s of stack %q", o.job, o.step, o.command, o.stack)
		switch o.command {
		case "preview", "up":
			if !o.policy {
				findings = append(findings, fmt.Sprintf("%s runs without the %q policy pack", where, policyPack))
				continue
			}
			if o.stack != "" && o.policyConfig == "" {
				findings = append(findings, fmt.Sprintf("%s runs the %q policy pack without its config; pass %s", where, policyPack, policyConfigFor(o.stack)))
				continue
			}
		case "plan", "review":
			if o.policyConfig == "" { // the plan's default is the stack's config
				continue
			}
		default:
			continue
		}
		if want := policyConfigFor(o.stack); o.stack != "" && path.Clean(o.policyConfig) != want {
			findings = append(findings, fmt.Sprintf("%s passes policy config %q, want %q", where, o.policyConfig, want))
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
// its job, id pulumi-version, read from go.mod's Pulumi SDK requirement; a run: script that
// calls the pulumi CLI comes after such a pulumi/actions step, which installed that version.
func checkPulumiVersion(wf *actionlint.Workflow, _ []string) []string {
	var findings []string
	for _, j := range jobs(wf) {
		for i, s := range j.Steps {
			if slices.ContainsFunc(segments(runScript(s)), func(sg segment) bool { return callsPulumi(sg.text) }) &&
				!slices.ContainsFunc(j.Steps[:i], isPulumiAction) {
				findings = append(findings, fmt.Sprintf("job %q step %q: runs the pulumi CLI, but no earlier pulumi/actions step installs the version go.mod names", j.id, stepLabel(s, i)))
			}
			if !isPulumiAction(s) {
				continue
			}
			if v := input(actionStep(s), "pulumi-version"); v != pulumiVersionExpr {
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
// it comments on the pull request, pull-requests: read only if it reads pull requests with gh
// (a deploy reads the labels of the pull request merged as its commit), actions: read only if
// it lists workflow runs with gh (a drift check looks for deploys), issues: write only if it opens, updates or closes an issue
// (the drift job: see issueOps for what counts), and nothing else but contents: read. A job
// without its own permissions gets the workflow's.
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
		if len(issueOps(j.Job)) > 0 {
			allowed["issues"] = "write"
			needed = append(needed, "issues")
		}
		if readsPullRequests(j.Job) && allowed["pull-requests"] == "" {
			allowed["pull-requests"] = "read"
		}
		if readsRuns(j.Job) {
			allowed["actions"] = "read"
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
// pull_request_target, and on pull_request a job that uses secrets, authenticates to Google
// or comments on the pull request (a fork's token cannot) skips forks.
func checkForkGuard(wf *actionlint.Workflow, _ []string) []string {
	var findings []string
	if triggeredBy(wf, "pull_request_target") {
		findings = append(findings, "workflow runs on pull_request_target, which gives fork code the repository's secrets")
	}
	if !triggeredBy(wf, "pull_request") {
		return findings
	}
	for _, j := range jobs(wf) {
		if (usesSecrets(j.Job) || authenticatesToGoogle(j.Job) || commentsOnPullRequest(j.Job)) && !strings.Contains(str(j.If), forkGuard) {
			findings = append(findings, fmt.Sprintf("job %q: uses secrets, a cloud identity or a pull-request comment on pull requests without `if: %s`", j.id, forkGuard))
		}
	}
	return findings
}

// checkPlanBinary: the offline plan runs as the binary an earlier step or line of its job
// built with `go build -o bin/plan ./cmd/plan`, never through `go run`, so its exit status
// (0 pass, 1 the gate fails, 2 a usage or config error) reaches the step; a step that pipes
// the plan's output (into tee, say) sets pipefail, so the pipe keeps that status.
func checkPlanBinary(wf *actionlint.Workflow, _ []string) []string {
	var findings []string
	for _, j := range jobs(wf) {
		built := false
		for i, s := range j.Steps {
			script := runScript(s)
			where := fmt.Sprintf("job %q step %q", j.id, stepLabel(s, i))
			for _, sg := range segments(script) {
				switch {
				case goRunsPlan(sg.text):
					findings = append(findings, fmt.Sprintf("%s: runs the plan with `go run`, which turns every non-zero exit status into 1; build it (go build -o %s ./cmd/plan) and run ./%s", where, planBinary, planBinary))
				case buildsPlan(sg.text):
					if out := path.Clean(unquote(first(flagValues(sg.text, "-o")))); out != planBinary {
						findings = append(findings, fmt.Sprintf("%s: builds ./cmd/plan to %q, want %s", where, out, planBinary))
					} else {
						built = true
					}
				case runsPlanBinary(sg.text):
					if !built {
						findings = append(findings, fmt.Sprintf("%s: runs ./%s, but no earlier step or line of the job builds it (go build -o %s ./cmd/plan)", where, planBinary, planBinary))
					}
					if sg.next == "|" && !setsPipefail.MatchString(script) {
						findings = append(findings, fmt.Sprintf("%s: pipes the plan's output without `set -o pipefail`, so the last command of the pipe decides the step's status", where))
					}
				}
			}
		}
	}
	return findings
}

// checkPreviewReview: on pull requests, each preview is reviewed and gated. The job that
// previews runs `pulumi preview --json > <file>`; a later step runs `./bin/plan --from <file>`
// with the pull request's labels and writes the review to a file; one sticky comment per stack
// (its header names the stack) posts that file; and the job's last step, the gate, reads the
// exit statuses of the preview and the review (steps.<id>) and exits non-zero on a failure,
// without continue-on-error. No pulumi/actions comment-on-pr comment besides.
func checkPreviewReview(wf *actionlint.Workflow, _ []string) []string {
	if !triggeredBy(wf, "pull_request") {
		return nil
	}
	var findings []string
	all := ops(wf)
	for _, j := range jobs(wf) {
		for i, s := range j.Steps {
			if isPulumiAction(s) && input(actionStep(s), "comment-on-pr") == "true" {
				findings = append(findings, fmt.Sprintf("job %q step %q: posts the raw preview as a comment (comment-on-pr); the review is the pull request's one comment per stack", j.id, stepLabel(s, i)))
			}
		}
		var previews, reviews []op
		for _, o := range all {
			switch {
			case o.job != j.id:
			case o.command == "preview":
				previews = append(previews, o)
			case o.command == "review":
				reviews = append(reviews, o)
			}
		}
		if len(previews) == 0 {
			continue
		}
		if c := j.ContinueOnError; c != nil && !isFalse(c) {
			findings = append(findings, fmt.Sprintf("job %q: continue-on-error, so a failing preview or review would not fail the check", j.id))
		}
		findings = append(findings, reviewFindings(j, previews, reviews)...)
	}
	return findings
}

// reviewFindings checks the review, the comments and the gate of one job that previews.
func reviewFindings(j namedJob, previews, reviews []op) []string {
	var findings []string
	seenStep, seenKey := map[int]bool{}, map[string]bool{}
	for _, p := range previews {
		where := fmt.Sprintf("job %q step %q", j.id, p.step)
		if seenStep[p.stepIndex] {
			continue
		}
		seenStep[p.stepIndex] = true
		switch {
		case p.via == viaAction:
			findings = append(findings, fmt.Sprintf("%s: previews through pulumi/actions, whose output the plan cannot review; run `pulumi preview --json > <file>` and `./%s --from <file>`", where, planBinary))
			continue
		case !p.json:
			findings = append(findings, fmt.Sprintf("%s: previews without --json, so there is no preview document to review", where))
			continue
		case p.out == "":
			findings = append(findings, fmt.Sprintf("%s: writes the preview document to no file (> preview.json) for the review", where))
			continue
		}
		ri := slices.IndexFunc(reviews, func(r op) bool {
			return r.stepIndex > p.stepIndex && path.Clean(r.from) == path.Clean(p.out)
		})
		if ri < 0 {
			findings = append(findings, fmt.Sprintf("job %q: no step after %q reviews %s with `./%s --from %s`", j.id, p.step, p.out, planBinary, p.out))
			continue
		}
		r := reviews[ri]
		preview, review := j.Steps[p.stepIndex], j.Steps[r.stepIndex]
		if str(preview.ID) == "" {
			findings = append(findings, fmt.Sprintf("%s: has no id, so the gate cannot read the preview's exit status", where))
		}
		if str(review.ID) == "" {
			findings = append(findings, fmt.Sprintf("job %q step %q: has no id, so the gate cannot read the review's exit status", j.id, r.step))
		}
		if r.out == "" {
			findings = append(findings, fmt.Sprintf("job %q step %q: writes the review to no file (> review.md) for the comment", j.id, r.step))
		}
		if !slices.ContainsFunc(envValues(review.Env), func(v string) bool { return strings.Contains(v, labelsExpr) }) ||
			!strings.Contains(runScript(review), "--accept-loss") {
			findings = append(findings, fmt.Sprintf("job %q step %q: passes no --accept-loss from the pull request's %s<name> labels (env: ${{ toJSON(%s.*.name) }})", j.id, r.step, acceptLossLabel, labelsExpr))
		}
		comment := -1
		for _, q := range previews {
			if q.stepIndex != p.stepIndex {
				continue
			}
			key := q.stack
			if q.fromMatrix {
				key = "matrix.stack"
			}
			if key == "" || seenKey[key] {
				continue
			}
			seenKey[key] = true
			var keyed []int
			for i, s := range j.Steps {
				if a := actionStep(s); a != nil && actionName(a) == stickyComment && strings.Contains(input(a, "header"), key) {
					keyed = append(keyed, i)
				}
			}
			switch {
			case len(keyed) == 0:
				findings = append(findings, fmt.Sprintf("job %q: no %s step whose header names the stack (%s): one comment per stack, updated on each run", j.id, stickyComment, key))
			case len(keyed) > 1:
				findings = append(findings, fmt.Sprintf("job %q: %d comment steps for the stack (%s); keep one", j.id, len(keyed), key))
			default:
				s := j.Steps[keyed[0]]
				a := actionStep(s)
				if keyed[0] < r.stepIndex {
					findings = append(findings, fmt.Sprintf("job %q step %q: comments before the review", j.id, stepLabel(s, keyed[0])))
				}
				if got := input(a, "path"); r.out != "" && path.Clean(unquote(got)) != path.Clean(r.out) {
					findings = append(findings, fmt.Sprintf("job %q step %q: posts %q, not the review %s", j.id, stepLabel(s, keyed[0]), got, r.out))
				}
				if !releaseTag.MatchString(str(a.Uses)) {
					findings = append(findings, fmt.Sprintf("job %q step %q: uses %s, not pinned to a release tag (vX.Y.Z)", j.id, stepLabel(s, keyed[0]), str(a.Uses)))
				}
				comment = max(comment, keyed[0])
			}
		}
		findings = append(findings, gateFindings(j, str(preview.ID), str(review.ID), max(comment, r.stepIndex), "the preview or its review failed")...)
	}
	return findings
}

// gateFindings checks that the job's last step, after the step at index after, fails the job
// when the preview or the review (step ids previewID, reviewID; "" for none) failed; when
// says when the gate must fail, for the finding.
func gateFindings(j namedJob, previewID, reviewID string, after int, when string) []string {
	last := len(j.Steps) - 1
	g := j.Steps[last]
	where := fmt.Sprintf("job %q step %q", j.id, stepLabel(g, last))
	script := runScript(g)
	if last <= after || script == "" {
		return []string{fmt.Sprintf("%s: the job's last step is no gate: end the job with a run: step that exits non-zero when %s", where, when)}
	}
	var findings []string
	text := strings.Join(append(envValues(g.Env), str(g.If), script), "\n")
	for _, s := range []struct{ what, id string }{{"preview", previewID}, {"review", reviewID}} {
		if s.id != "" && !strings.Contains(text, "steps."+s.id+".") {
			findings = append(findings, fmt.Sprintf("%s: the gate does not read the %s's exit status (steps.%s)", where, s.what, s.id))
		}
	}
	if !exitsNonZero.MatchString(script) {
		findings = append(findings, fmt.Sprintf("%s: the gate never exits non-zero", where))
	}
	if c := g.ContinueOnError; c != nil && !isFalse(c) {
		findings = append(findings, fmt.Sprintf("%s: the gate has continue-on-error, so it would not fail the job when %s", where, when))
	}
	return findings
}

// checkAcceptLoss: --accept-loss, which lets a change delete or replace a topic or
// subscription with its messages, comes only from the pull request's accept-loss:<name>
// labels: its values are shell variables of a script that picks the accept-loss: labels out
// of an env var holding github.event.pull_request.labels (on pull requests) or out of the
// labels of the pull request merged as the pushed commit (on a push: see readsMergedLabels),
// takes no other event data, inputs or event payload, and interpolates no ${{ }} into the
// script.
func checkAcceptLoss(wf *actionlint.Workflow, _ []string) []string {
	var findings []string
	for _, j := range jobs(wf) {
		for i, s := range j.Steps {
			script := runScript(s)
			args := acceptLossArg.FindAllStringSubmatch(script, -1)
			if len(args) == 0 {
				continue
			}
			where := fmt.Sprintf("job %q step %q", j.id, stepLabel(s, i))
			for _, a := range args {
				if v := a[1]; strings.HasPrefix(v, "'") || !strings.HasPrefix(strings.TrimPrefix(v, `"`), "$") {
					findings = append(findings, fmt.Sprintf("%s: passes --accept-loss %s, a value that no label gave", where, v))
				}
			}
			if strings.Contains(script, "${{") {
				findings = append(findings, fmt.Sprintf("%s: interpolates ${{ }} into the script that passes --accept-loss; pass the labels through env", where))
			}
			if strings.Contains(script, "GITHUB_EVENT_PATH") {
				findings = append(findings, fmt.Sprintf("%s: reads the event payload in the script that passes --accept-loss; only the labels may acknowledge a loss", where))
			}
			if !strings.Contains(script, acceptLossLabel) {
				findings = append(findings, fmt.Sprintf("%s: passes --accept-loss without picking the %s<name> labels", where, acceptLossLabel))
			}
			switch {
			case triggeredBy(wf, "push"):
				if !readsMergedLabels(s) {
					findings = append(findings, fmt.Sprintf("%s: passes --accept-loss, but does not read the labels of the pull request merged as the pushed commit (gh api repos/$GH_REPO/commits/$SHA/pulls, selected by merge_commit_sha, SHA: ${{ %s }})", where, pushedCommitExpr))
				}
			case !slices.ContainsFunc(envValues(s.Env), func(v string) bool { return strings.Contains(v, labelsExpr) }):
				findings = append(findings, fmt.Sprintf("%s: passes --accept-loss, but no env var of the step holds %s", where, labelsExpr))
			}
			for _, v := range slices.Concat(envValues(s.Env), envValues(j.Env), envValues(wf.Env)) {
				for _, ref := range otherSource.FindAllString(v, -1) {
					if !strings.HasPrefix(ref, labelsExpr) {
						findings = append(findings, fmt.Sprintf("%s: takes %s into the step that passes --accept-loss; only the labels may acknowledge a loss", where, ref))
					}
				}
			}
		}
	}
	return findings
}

// checkLabelTriggers: a workflow that runs on pull requests runs on their label changes too,
// besides GitHub's default types: adding or removing an accept-loss:<name> label re-runs the
// review. Listing types replaces the defaults, so all five are listed.
func checkLabelTriggers(wf *actionlint.Workflow, _ []string) []string {
	var findings []string
	for _, e := range wf.On {
		w, ok := e.(*actionlint.WebhookEvent)
		if !ok || e.EventName() != "pull_request" {
			continue
		}
		var types []string
		for _, t := range w.Types {
			types = append(types, t.Value)
		}
		if len(types) == 0 {
			findings = append(findings, fmt.Sprintf("pull_request runs on the default types only, so a label change never re-runs the review; list types %v", prTypes))
			continue
		}
		for _, t := range prTypes {
			if !slices.Contains(types, t) {
				findings = append(findings, fmt.Sprintf("pull_request types %v miss %s", types, t))
			}
		}
	}
	return findings
}

// stickyInputs are the inputs of marocchino/sticky-pull-request-comment v3, as its action.yml
// declares them (lowercased); actionlint's dataset does not have the action.
var stickyInputs = []string{
	"header", "append", "recreate", "delete", "only_create", "only_update", "hide_details", "hide",
	"hide_and_recreate", "hide_classify", "message", "path", "ignore_empty", "skip_unchanged",
	"follow_symbolic_links", "number", "owner", "repo", "github_token",
}

// checkActionInputs: a step passes an action only inputs the action declares. actionlint
// checks the inputs of popular actions only for the refs in its dataset (pulumi/actions@v6),
// not for a release pinned in full (pulumi/actions@v6.6.1), so a misspelt input such as
// policyPackConfig would be dropped silently. This check looks a pinned release up in
// actionlint's dataset under its major version, and knows the sticky comment's inputs.
func checkActionInputs(wf *actionlint.Workflow, _ []string) []string {
	var findings []string
	for _, j := range jobs(wf) {
		for i, s := range j.Steps {
			a := actionStep(s)
			if a == nil {
				continue
			}
			name := actionName(a)
			var known []string
			if m := majorOf.FindStringSubmatch(str(a.Uses)); m != nil {
				if md, ok := actionlint.PopularActions[name+"@"+m[1]]; ok && !md.SkipInputs {
					known = sortedKeys(md.Inputs)
				}
			}
			if known == nil && name == stickyComment {
				known = stickyInputs
			}
			if known == nil {
				continue
			}
			for _, in := range sortedKeys(a.Inputs) {
				if !slices.Contains(known, in) {
					findings = append(findings, fmt.Sprintf("job %q step %q: %s has no input %q", j.id, stepLabel(s, i), name, a.Inputs[in].Name.Value))
				}
			}
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

func isPulumiAction(s *actionlint.Step) bool {
	a := actionStep(s)
	return a != nil && actionName(a) == "pulumi/actions"
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
	if id := str(s.ID); id != "" {
		return id
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

// commentsOnPullRequest: the job posts a sticky comment, or a pulumi/actions comment.
func commentsOnPullRequest(j *actionlint.Job) bool {
	return slices.ContainsFunc(j.Steps, func(s *actionlint.Step) bool {
		a := actionStep(s)
		return a != nil && (actionName(a) == stickyComment ||
			actionName(a) == "pulumi/actions" && input(a, "comment-on-pr") == "true")
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

// readsPullRequests: a run: script reads pull requests with gh (gh pr, or gh api on pulls).
func readsPullRequests(j *actionlint.Job) bool {
	return slices.ContainsFunc(j.Steps, func(s *actionlint.Step) bool {
		return slices.ContainsFunc(segments(runScript(s)), func(sg segment) bool {
			return ghPullRequests.MatchString(sg.text)
		})
	})
}

// readsRuns: a run: script lists or views workflow runs with gh.
func readsRuns(j *actionlint.Job) bool {
	return slices.ContainsFunc(j.Steps, func(s *actionlint.Step) bool {
		return slices.ContainsFunc(segments(runScript(s)), func(sg segment) bool { return ghRuns.MatchString(sg.text) })
	})
}

// readsMergedLabels: the step reads the labels of the pull request merged as the pushed
// commit: gh api on the commit's pull requests, SHA from github.sha in its env, and the one
// whose merge_commit_sha is that commit selected (a pull request that merely contains the
// commit, or one still open, accepts nothing).
func readsMergedLabels(s *actionlint.Step) bool {
	script := runScript(s)
	sha, _ := envVar(s.Env, "SHA")
	return commitPulls.MatchString(script) && strings.Contains(script, "merge_commit_sha == $sha") &&
		strings.Contains(script, "merged_at != null") && strings.Contains(sha, pushedCommitExpr)
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

// lookupEnv finds a variable in the first env that sets it: the step's, the job's, the
// workflow's.
func lookupEnv(envs []*actionlint.Env, name string) (string, bool) {
	for _, e := range envs {
		if v, ok := envVar(e, name); ok {
			return v, true
		}
	}
	return "", false
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

// The shell helpers read run: scripts as the checks need them: simple commands split at
// `;`, `&&`, `||`, `|`, `$(` and backquotes, with their flags, not a full shell parser.

// segment is one simple command of a script, and the operator after it ("" at a line's end).
type segment struct {
	text, next string
}

var (
	continuation = regexp.MustCompile(`\\\r?\n`)
	separator    = regexp.MustCompile("\\|\\||&&|;|\\||\\$\\(|`")
	redirectOut  = regexp.MustCompile(`(?:^|\s)1?>\s*("[^"]*"|'[^']*'|[^\s;|&<>]+)`)
	flagArgs     = map[string]*regexp.Regexp{}
)

// segments splits a script into simple commands, skipping comment lines.
func segments(script string) []segment {
	var out []segment
	for _, line := range strings.Split(continuation.ReplaceAllString(script, " "), "\n") {
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		for {
			loc := separator.FindStringIndex(line)
			if loc == nil {
				out = append(out, segment{text: strings.TrimSpace(line)})
				break
			}
			out = append(out, segment{strings.TrimSpace(line[:loc[0]]), line[loc[0]:loc[1]]})
			line = line[loc[1]:]
		}
	}
	return out
}

// flagValues returns the values of a flag (name with its dashes) in a command, in order.
func flagValues(cmd, name string) []string {
	re, ok := flagArgs[name]
	if !ok {
		panic("flagValues: no pattern for " + name)
	}
	var out []string
	for _, m := range re.FindAllStringSubmatch(cmd, -1) {
		out = append(out, m[1])
	}
	return out
}

func init() {
	for _, name := range []string{"--stack", "-s", "--policy-pack", "--policy-pack-config", "--policy-config", "--from", "-o", "--title", "-t", "--label", "-l"} {
		flagArgs[name] = regexp.MustCompile(`(?:^|\s)` + regexp.QuoteMeta(name) + `(?:=|\s+)("[^"]*"|'[^']*'|[^\s;|&<>]+)`)
	}
}

func hasFlag(cmd, name string) bool {
	return slices.ContainsFunc(strings.Fields(cmd), func(f string) bool { return f == name })
}

// boolFlag: a boolean flag is set: --name, or --name=true.
func boolFlag(cmd, name string) bool {
	return slices.ContainsFunc(strings.Fields(cmd), func(f string) bool {
		f = unquote(f)
		return f == name || f == name+"=true"
	})
}

// redirect is the file a command's standard output goes to (`> file`), or "".
func redirect(cmd string) string {
	m := redirectOut.FindAllStringSubmatch(cmd, -1)
	if m == nil {
		return ""
	}
	return unquote(m[len(m)-1][1])
}

func first(values []string) string {
	if len(values) == 0 {
		return ""
	}
	return values[0]
}

func unquote(s string) string {
	return strings.Trim(strings.TrimSpace(s), `"'`)
}

var (
	cliPulumi      = regexp.MustCompile(`\bpulumi\s+(?:-\S+\s+)*(preview|up|update)\b`)
	pulumiCommand  = regexp.MustCompile(`^(?:!\s*)?pulumi(?:\s|$)`)
	goBuild        = regexp.MustCompile(`\bgo\s+build\b`)
	goRun          = regexp.MustCompile(`\bgo\s+run\b`)
	planPackage    = regexp.MustCompile(`\bcmd/plan\b`)
	setsPipefail   = regexp.MustCompile(`\bset\s+-\w*o\s+pipefail\b`)
	exitsNonZero   = regexp.MustCompile(`\bexit\s+"?([1-9]|\$)`)
	releaseTag     = regexp.MustCompile(`@v\d+\.\d+\.\d+$`)
	majorOf        = regexp.MustCompile(`@(v\d+)\.\d+\.\d+$`)
	ghPullRequests = regexp.MustCompile(`^(?:\w+=\S*\s+)*gh\s+(?:pr\s|api\s+\S*/pulls\b)`)
	ghRuns         = regexp.MustCompile(`^(?:\w+=\S*\s+)*gh\s+run\s+(?:list|view)\b`)
	commitPulls    = regexp.MustCompile(`\bgh\s+api\s+"?repos/\$\{?GH_REPO\}?/commits/\$\{?SHA\}?/pulls"?`)
	acceptLossArg  = regexp.MustCompile(`--accept-loss(?:=|\s+)("[^"]*"|'[^']*'|[^\s;|&<>)]+)`)
	// otherSource matches what an env value may take from the event or the caller.
	otherSource = regexp.MustCompile(`github\.event\.[\w.*\-\[\]']+|github\.event_path|github\.head_ref|\binputs\.[\w-]+`)
	// shellVar is a whole stack expression that is one shell variable: $STACK, ${STACK}.
	shellVar = regexp.MustCompile(`^\$\{?(\w+)\}?$`)
	// shellRef and matrixStack are references inside a path: policy/config/$STACK.json.
	shellRef    = regexp.MustCompile(`\$\{(\w+)\}|\$(\w+)`)
	matrixStack = regexp.MustCompile(`\$\{\{\s*matrix\.stack\s*\}\}`)
)

// callsPulumi: the command runs the pulumi CLI.
func callsPulumi(cmd string) bool {
	return pulumiCommand.MatchString(cmd) || cliPulumi.MatchString(cmd)
}

func goRunsPlan(cmd string) bool { return goRun.MatchString(cmd) && planPackage.MatchString(cmd) }

func buildsPlan(cmd string) bool { return goBuild.MatchString(cmd) && planPackage.MatchString(cmd) }

// runsPlanBinary: the command runs ./bin/plan (and does not build it).
func runsPlanBinary(cmd string) bool {
	if goBuild.MatchString(cmd) {
		return false
	}
	return slices.ContainsFunc(strings.Fields(cmd), func(f string) bool {
		f = unquote(f)
		return f == "./"+planBinary || f == planBinary
	})
}

// op is one Pulumi operation a workflow runs on one stack: the offline plan, preview, up, or
// the review of a preview by the plan binary (plan --from).
type op struct {
	job          string
	stepIndex    int
	step         string
	command      string // plan, review, deployable, preview, up, or another pulumi/actions command
	via          string // viaAction, viaCLI, viaBinary, viaGoRun
	stack        string // "" when the stack expression cannot be resolved
	stackExpr    string
	fromMatrix   bool   // the stack comes from the job's stack matrix
	policy       bool   // the policy pack runs
	policyConfig string // the config paired with the policy pack, resolved for the stack; "" none
	json         bool   // preview --json
	refresh      bool   // preview --refresh (not --refresh=false)
	expectNop    bool   // preview --expect-no-changes
	next         string // the shell operator after the command ("||" when its failure is caught)
	catch        string // after `||`: the command that runs when it fails
	from         string // the preview document a review reads
	out          string // the file the command's standard output goes to
}

const (
	viaAction = "pulumi/actions"
	viaCLI    = "pulumi CLI"
	viaBinary = "plan binary"
	viaGoRun  = "go run"
)

// ops lists the Pulumi operations of a workflow, one per stack: pulumi/actions steps with a
// command, and run: scripts that call the pulumi CLI or the offline plan (./bin/plan, or
// `go run ./cmd/plan`, which the plan binary check rejects).
func ops(wf *actionlint.Workflow) []op {
	var out []op
	for _, j := range jobs(wf) {
		var jobOps []op
		for i, s := range j.Steps {
			envs := []*actionlint.Env{s.Env, j.Env, wf.Env}
			base := op{job: j.id, stepIndex: i, step: stepLabel(s, i)}
			if a := actionStep(s); a != nil {
				command := input(a, "command")
				if actionName(a) != "pulumi/actions" || command == "" { // no command: installs the CLI
					continue
				}
				o := base
				o.via, o.command, o.stackExpr = viaAction, command, input(a, "stack-name")
				jobOps = append(jobOps, expand(o, j.Job, envs, jobOps, splitList(input(a, "policyPacks")), splitList(input(a, "policyPackConfigs")))...)
				continue
			}
			segs := segments(runScript(s))
			for k, sg := range segs {
				o := base
				var packs, configs []string
				switch {
				case goRunsPlan(sg.text):
					o.via = viaGoRun
				case runsPlanBinary(sg.text):
					o.via = viaBinary
				case cliPulumi.MatchString(sg.text):
					o.via = viaCLI
				default:
					continue
				}
				if o.via == viaCLI {
					o.command = cliPulumi.FindStringSubmatch(sg.text)[1]
					o.stackExpr = first(slices.Concat(flagValues(sg.text, "--stack"), flagValues(sg.text, "-s")))
					o.json = hasFlag(sg.text, "--json")
					o.refresh, o.expectNop = boolFlag(sg.text, "--refresh"), boolFlag(sg.text, "--expect-no-changes")
					if o.next = sg.next; o.next == "||" && k+1 < len(segs) {
						o.catch = segs[k+1].text
					}
					packs, configs = flagValues(sg.text, "--policy-pack"), flagValues(sg.text, "--policy-pack-config")
				} else {
					o.command = "plan"
					if hasFlag(sg.text, "--check-deployable") {
						o.command = "deployable"
					}
					if o.from = unquote(first(flagValues(sg.text, "--from"))); o.from != "" {
						o.command = "review"
					}
					o.stackExpr = first(flagValues(sg.text, "--stack"))
					packs, configs = []string{policyPack}, flagValues(sg.text, "--policy-config")
				}
				o.out = redirect(sg.text)
				jobOps = append(jobOps, expand(o, j.Job, envs, jobOps, packs, configs)...)
			}
		}
		out = append(out, jobOps...)
	}
	return out
}

// expand resolves an operation's stacks and policy config: one op per stack. A review that
// names no stack reviews the preview of its job, so it has that preview's stacks.
func expand(o op, j *actionlint.Job, envs []*actionlint.Env, earlier []op, packs, configs []string) []op {
	if o.command == "update" {
		o.command = "up"
	}
	o.stackExpr = unquote(o.stackExpr)
	// A shell variable ($STACK) is resolved through the step's, the job's or the workflow's env.
	if m := shellVar.FindStringSubmatch(o.stackExpr); m != nil {
		if v, ok := lookupEnv(envs, m[1]); ok {
			o.stackExpr = v
		}
	}
	type target struct {
		stack      string
		fromMatrix bool
	}
	var targets []target
	if o.command == "review" && o.stackExpr == "" {
		for _, p := range earlier {
			if p.command == "preview" {
				targets = append(targets, target{p.stack, p.fromMatrix})
			}
		}
	}
	if len(targets) == 0 {
		stacks, fromMatrix := resolveStacks(j, o.stackExpr)
		for _, s := range stacks {
			targets = append(targets, target{s, fromMatrix})
		}
	}
	pack := slices.IndexFunc(packs, isPolicyPack)
	o.policy = pack >= 0
	var out []op
	for _, t := range targets {
		c := o
		c.stack, c.fromMatrix = t.stack, t.fromMatrix
		if pack >= 0 && pack < len(configs) {
			c.policyConfig = resolvePath(configs[pack], t.stack, envs)
		}
		out = append(out, c)
	}
	return out
}

// splitList splits a pulumi/actions list input (one value a line, or comma-separated).
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' })
}

func isPolicyPack(p string) bool {
	p = unquote(p)
	return p != "" && path.Clean(p) == policyPack
}

// resolvePath resolves a path for one stack: ${{ matrix.stack }} is the stack, and a shell
// variable is its value in the step's, the job's or the workflow's env, resolved in turn.
// What cannot be resolved stays as written.
func resolvePath(p, stack string, envs []*actionlint.Env) string {
	p = strings.NewReplacer(`"`, "", `'`, "").Replace(strings.TrimSpace(p))
	for range 5 {
		before := p
		if stack != "" {
			p = matrixStack.ReplaceAllLiteralString(p, stack)
		}
		p = shellRef.ReplaceAllStringFunc(p, func(ref string) string {
			m := shellRef.FindStringSubmatch(ref)
			if v, ok := lookupEnv(envs, m[1]+m[2]); ok {
				return v
			}
			return ref
		})
		if p == before {
			break
		}
	}
	return p
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
