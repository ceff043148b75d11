package workflows

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/rhysd/actionlint"
)

// The drift rules. A drift workflow is one that runs on a schedule or previews with
// --expect-no-changes (isDriftWorkflow); .github/workflows/drift.yml must be one
// (TestDriftWorkflowIsRecognised), so these rules cannot skip it. A drift job is a job of a
// drift workflow that runs `pulumi preview`.
//
// What the issue rules recognise as opening, updating and closing an issue (issueOps), in
// run: scripts, simple commands (see segments) that start with gh, possibly after if, !, or
// VAR=value:
//
//	gh issue list            find the open issue (with --label drift)
//	gh issue create          open it (with --label drift and a --title that names the stack)
//	gh issue comment|edit    update it
//	gh issue close           close it
//	gh label create drift    create the label, or update it (--force)
//
// and in the script: input of an actions/github-script step: issues.listForRepo (find),
// issues.create (open), issues.createComment or issues.update (update), issues.update with
// state: 'closed' (close), issues.createLabel or issues.getLabel (label), the label being a
// quoted 'drift' in the script. Nothing else counts: gh api, curl, or another action that
// manages issues is not seen, and a drift job that uses only those fails the rules. The rules
// check the wiring (each step that manages the issue runs after the preview and reads its
// result; the gate fails the job); what the real scripts do for each result (clean, drift, a
// failed preview) is run by TestDriftJobRuns.

const (
	// driftLabel labels the drift issues; one open issue per stack carries it.
	driftLabel = "drift"
	// mainOnly keeps workflow_dispatch from checking, and opening or closing issues for, the
	// program of another branch.
	mainOnly = "github.ref == 'refs/heads/main'"
	// githubScript is the action that may manage the issue instead of the gh CLI.
	githubScript = "actions/github-script"
)

// isDriftWorkflow: the workflow runs on a schedule, or previews expecting no changes.
func isDriftWorkflow(wf *actionlint.Workflow) bool {
	return triggeredBy(wf, "schedule") || slices.ContainsFunc(ops(wf), func(o op) bool {
		return o.command == "preview" && o.expectNop
	})
}

// driftJobs returns the jobs of a drift workflow that preview, each with its previews.
func driftJobs(wf *actionlint.Workflow) []driftJob {
	if !isDriftWorkflow(wf) {
		return nil
	}
	var out []driftJob
	all := ops(wf)
	for _, j := range jobs(wf) {
		var previews []op
		for _, o := range all {
			if o.job == j.id && o.command == "preview" {
				previews = append(previews, o)
			}
		}
		if len(previews) > 0 {
			out = append(out, driftJob{j, previews})
		}
	}
	return out
}

type driftJob struct {
	namedJob
	previews []op
}

// preview is the job's first preview step, and its id.
func (d driftJob) preview() (int, string) {
	i := d.previews[0].stepIndex
	return i, str(d.Steps[i].ID)
}

// checkDriftSchedule: a drift workflow runs on a schedule (a cron), so drift is found without
// anyone asking, and its drift jobs run only on main (if: github.ref == 'refs/heads/main'):
// workflow_dispatch can pick any branch, whose program would open or close issues against
// main's.
func checkDriftSchedule(wf *actionlint.Workflow, _ []string) []string {
	if !isDriftWorkflow(wf) {
		return nil
	}
	var findings []string
	crons := 0
	for _, e := range wf.On {
		if s, ok := e.(*actionlint.ScheduledEvent); ok {
			for _, entry := range s.Schedules {
				if str(entry.Cron) != "" {
					crons++
				}
			}
		}
	}
	if crons == 0 {
		findings = append(findings, "drift workflow has no schedule: add on.schedule with a cron, so drift is found without anyone asking")
	}
	for _, d := range driftJobs(wf) {
		if !strings.Contains(str(d.If), mainOnly) {
			findings = append(findings, fmt.Sprintf("job %q: checks the drift of whichever branch runs it (workflow_dispatch picks any); add `if: %s`", d.id, mainOnly))
		}
	}
	return findings
}

// checkDriftPreview: a drift workflow previews every stack present, each with
// `pulumi preview --refresh --expect-no-changes` run by the CLI in a run: script (its policy
// pack and config are the policy pack rule's). The step has an id; it writes the preview's
// output to a file (for the issue) and catches its failure keeping the exit status
// (`|| status=$?`), so the step goes on to record the result instead of failing before the
// issue is handled. A stack matrix has fail-fast: false: one stack's drift fails its job and
// must not cancel the other stacks' checks.
func checkDriftPreview(wf *actionlint.Workflow, stacks []string) []string {
	var findings []string
	covered := map[string]bool{}
	for _, d := range driftJobs(wf) {
		if _, ok := matrixStacks(d.Job); ok && (d.Strategy == nil || !isFalse(d.Strategy.FailFast)) {
			findings = append(findings, fmt.Sprintf("job %q: the stack matrix is not fail-fast: false, so one stack's drift cancels the other stacks' checks", d.id))
		}
		seen := map[int]bool{}
		for _, p := range d.previews {
			if p.stack != "" && p.via == viaCLI && p.refresh && p.expectNop {
				covered[p.stack] = true
			}
			if seen[p.stepIndex] {
				continue
			}
			seen[p.stepIndex] = true
			where := fmt.Sprintf("job %q step %q", d.id, p.step)
			if p.via != viaCLI {
				findings = append(findings, fmt.Sprintf("%s: previews through %s; run `pulumi preview` in a run: script, which keeps its output and exit status", where, p.via))
				continue
			}
			if !p.refresh {
				findings = append(findings, fmt.Sprintf("%s: previews without --refresh, so changes made in the cloud outside Pulumi go unseen", where))
			}
			if !p.expectNop {
				findings = append(findings, fmt.Sprintf("%s: previews without --expect-no-changes, so a preview with changes exits 0 as if the stack were clean", where))
			}
			switch {
			case p.next != "||":
				findings = append(findings, fmt.Sprintf("%s: does not catch the preview's failure (`|| status=$?`), so drift stops the step before the issue is handled", where))
			case !strings.Contains(p.catch, "$?"):
				findings = append(findings, fmt.Sprintf("%s: catches the preview's failure with %q, which drops its exit status (`|| status=$?`)", where, p.catch))
			}
			if p.out == "" {
				findings = append(findings, fmt.Sprintf("%s: writes the preview's output to no file (> preview.txt), so the issue cannot quote it", where))
			}
			if str(d.Steps[p.stepIndex].ID) == "" {
				findings = append(findings, fmt.Sprintf("%s: has no id, so later steps cannot read the preview's result", where))
			}
		}
	}
	if isDriftWorkflow(wf) {
		for _, stack := range stacks {
			if !covered[stack] {
				findings = append(findings, fmt.Sprintf("no `pulumi preview --refresh --expect-no-changes` of stack %q", stack))
			}
		}
	}
	return findings
}

// issueOp is one thing a step does to an issue: find, open, update or close it, or create
// the label.
type issueOp struct {
	kind      string // find, open, update, close, label
	stepIndex int
	via       string // gh, or githubScript
	text      string // the gh command, or the github-script script
}

var (
	// ghCommand is a gh command that manages issues or labels, possibly after if, !, or a
	// variable assignment.
	ghCommand = regexp.MustCompile(`^(?:(?:if|elif|while|until|then|else|do|!)\s+|\w+=\S*\s+)*gh\s+(issue|label)\s+(\w+)\b`)
	ghKinds   = map[string]string{
		"issue list": "find", "issue create": "open", "issue comment": "update", "issue edit": "update",
		"issue close": "close", "label create": "label",
	}
	scriptFind   = regexp.MustCompile(`\bissues\.listForRepo\b`)
	scriptOpen   = regexp.MustCompile(`\bissues\.create\b\s*\(`)
	scriptUpdate = regexp.MustCompile(`\bissues\.(?:createComment|update)\b`)
	scriptClose  = regexp.MustCompile(`\bstate:\s*['"]closed['"]`)
	scriptLabel  = regexp.MustCompile(`\bissues\.(?:createLabel|getLabel)\b`)
	scriptDrift  = regexp.MustCompile(`['"]` + driftLabel + `['"]`)
	// scriptAssign is a variable a script sets: name=value.
	scriptAssign = regexp.MustCompile(`(?m)^\s*(?:export\s+|local\s+|readonly\s+)?(\w+)=("[^"]*"|'[^']*'|[^\s;|&]*)`)
	processEnv   = regexp.MustCompile(`\bprocess\.env\.(\w+)`)
)

// issueOps lists what a job's steps do to issues, as the drift rules recognise it.
func issueOps(j *actionlint.Job) []issueOp {
	var out []issueOp
	for i, s := range j.Steps {
		if a := actionStep(s); a != nil {
			if actionName(a) != githubScript {
				continue
			}
			script := input(a, "script")
			for _, k := range []struct {
				kind string
				re   *regexp.Regexp
			}{{"find", scriptFind}, {"open", scriptOpen}, {"update", scriptUpdate}, {"label", scriptLabel}} {
				if k.re.MatchString(script) {
					out = append(out, issueOp{k.kind, i, githubScript, script})
				}
			}
			if strings.Contains(script, "issues.update") && scriptClose.MatchString(script) {
				out = append(out, issueOp{"close", i, githubScript, script})
			}
			continue
		}
		for _, sg := range segments(runScript(s)) {
			m := ghCommand.FindStringSubmatch(sg.text)
			if m == nil {
				continue
			}
			if kind, ok := ghKinds[m[1]+" "+m[2]]; ok {
				out = append(out, issueOp{kind, i, "gh", sg.text})
			}
		}
	}
	return out
}

// checkDriftIssue: each drift job keeps one issue per stack: it finds the open one, opens it
// on drift, updates it while the drift lasts and closes it when the stack is clean, labelled
// drift (created or reused), its title naming the stack; see issueOps for what is recognised.
// Each step that manages the issue runs after the preview and reads its result
// (steps.<preview id> in its env or if:), interpolates no ${{ }} into its script (pass values
// through env), runs gh with GH_TOKEN, and pins actions/github-script to a release tag.
func checkDriftIssue(wf *actionlint.Workflow, _ []string) []string {
	var findings []string
	for _, d := range driftJobs(wf) {
		previewIndex, previewID := d.preview()
		all := issueOps(d.Job)
		kinds := map[string][]issueOp{}
		for _, o := range all {
			kinds[o.kind] = append(kinds[o.kind], o)
		}
		for _, k := range []struct{ kind, finding string }{
			{"find", "never looks the open drift issue up (gh issue list --label drift), so every run would open another"},
			{"open", "never opens an issue on drift (gh issue create)"},
			{"update", "never updates the open issue while the drift lasts (gh issue comment or gh issue edit)"},
			{"close", "never closes the issue when the stack is clean again (gh issue close)"},
			{"label", "never creates or reuses the drift label (gh label create drift --force), without which gh issue create --label drift fails"},
		} {
			if len(kinds[k.kind]) == 0 {
				findings = append(findings, fmt.Sprintf("job %q: %s", d.id, k.finding))
			}
		}
		envsOf := func(i int) []*actionlint.Env { return []*actionlint.Env{d.Steps[i].Env, d.Env, wf.Env} }
		for _, o := range all {
			where := fmt.Sprintf("job %q step %q", d.id, stepLabel(d.Steps[o.stepIndex], o.stepIndex))
			labelled := false
			switch {
			case o.via == githubScript:
				labelled = scriptDrift.MatchString(o.text)
			case o.kind == "label":
				labelled = slices.Contains(ghArgs(o.text), driftLabel)
			default:
				labelled = slices.ContainsFunc(slices.Concat(flagValues(o.text, "--label"), flagValues(o.text, "-l")), func(v string) bool {
					return slices.Contains(strings.Split(unquote(v), ","), driftLabel)
				})
			}
			if (o.kind == "find" || o.kind == "open" || o.kind == "label") && !labelled {
				findings = append(findings, fmt.Sprintf("%s: the %s of the issue does not name the %s label", where, o.kind, driftLabel))
			}
			if o.kind == "open" && !namesStack(o, d, envsOf(o.stepIndex)) {
				findings = append(findings, fmt.Sprintf("%s: the title of the issue does not name the stack, so the stacks would share one issue", where))
			}
		}
		seen := map[int]bool{}
		for _, o := range all {
			if seen[o.stepIndex] {
				continue
			}
			seen[o.stepIndex] = true
			s := d.Steps[o.stepIndex]
			where := fmt.Sprintf("job %q step %q", d.id, stepLabel(s, o.stepIndex))
			if o.stepIndex <= previewIndex {
				findings = append(findings, fmt.Sprintf("%s: manages the drift issue before the preview runs", where))
			}
			text := strings.Join(append(envValues(s.Env), str(s.If)), "\n")
			if previewID == "" || !strings.Contains(text, "steps."+previewID+".") {
				findings = append(findings, fmt.Sprintf("%s: manages the drift issue without reading the preview's result (steps.%s.outputs in its env or if:)", where, previewID))
			}
			if script := o.text; o.via == "gh" {
				script = runScript(s)
				if strings.Contains(script, "${{") {
					findings = append(findings, fmt.Sprintf("%s: interpolates ${{ }} into the script that manages the drift issue; pass values through env", where))
				}
				token, _ := lookupEnv(envsOf(o.stepIndex), "GH_TOKEN")
				if !strings.Contains(token, "github.token") && !strings.Contains(token, "secrets.GITHUB_TOKEN") {
					findings = append(findings, fmt.Sprintf("%s: runs gh without GH_TOKEN: ${{ github.token }}", where))
				}
			} else {
				if strings.Contains(script, "${{") {
					findings = append(findings, fmt.Sprintf("%s: interpolates ${{ }} into the script that manages the drift issue; pass values through env (process.env)", where))
				}
				if uses := str(actionStep(s).Uses); !releaseTag.MatchString(uses) {
					findings = append(findings, fmt.Sprintf("%s: uses %s, not pinned to a release tag (vX.Y.Z)", where, uses))
				}
			}
		}
	}
	return findings
}

// ghArgs returns the words of a gh command, unquoted.
func ghArgs(cmd string) []string {
	var out []string
	for _, f := range strings.Fields(cmd) {
		out = append(out, unquote(f))
	}
	return out
}

// namesStack: the title of an issue the op opens names the job's stack (the matrix stack, or
// the stack the preview names). gh: the --title value, with the script's own variables and
// the env resolved. github-script: the script reads, through process.env, an env var that
// holds the stack.
func namesStack(o issueOp, d driftJob, envs []*actionlint.Env) bool {
	want := func(s string) bool {
		return slices.ContainsFunc(d.previews, func(p op) bool {
			if p.fromMatrix {
				return strings.Contains(s, "matrix.stack")
			}
			return p.stack != "" && strings.Contains(s, p.stack)
		})
	}
	if o.via == githubScript {
		for _, m := range processEnv.FindAllStringSubmatch(o.text, -1) {
			if v, ok := lookupEnv(envs, m[1]); ok && want(v) {
				return true
			}
		}
		return false
	}
	title := unquote(first(slices.Concat(flagValues(o.text, "--title"), flagValues(o.text, "-t"))))
	vars := map[string]string{}
	for _, m := range scriptAssign.FindAllStringSubmatch(runScript(d.Steps[o.stepIndex]), -1) {
		if _, ok := vars[m[1]]; !ok {
			vars[m[1]] = unquote(m[2])
		}
	}
	for range 5 {
		before := title
		title = shellRef.ReplaceAllStringFunc(title, func(ref string) string {
			m := shellRef.FindStringSubmatch(ref)
			if v, ok := vars[m[1]+m[2]]; ok {
				return v
			}
			if v, ok := lookupEnv(envs, m[1]+m[2]); ok {
				return v
			}
			return ref
		})
		if title == before {
			break
		}
	}
	return want(title)
}

// checkDriftGate: the drift job fails the run on drift and on a failed preview, after the
// issue is handled, so drift is red in the Actions tab too: its last step, after the preview
// and every step that manages the issue, is a run: step that reads the preview's result
// (steps.<preview id>) and exits non-zero, without continue-on-error, in a job without
// continue-on-error. That the real gate fails on drift and on errors and passes only a clean
// stack is run by TestDriftJobRuns.
func checkDriftGate(wf *actionlint.Workflow, _ []string) []string {
	var findings []string
	for _, d := range driftJobs(wf) {
		if c := d.ContinueOnError; c != nil && !isFalse(c) {
			findings = append(findings, fmt.Sprintf("job %q: continue-on-error, so drift would not fail the run", d.id))
		}
		after, previewID := d.preview()
		for _, o := range issueOps(d.Job) {
			after = max(after, o.stepIndex)
		}
		findings = append(findings, gateFindings(d.namedJob, previewID, "", after, "the preview found drift or failed")...)
	}
	return findings
}

// driftLockFindings: each stack's drift check runs in a concurrency group of its own, one per
// stack, never in a group of the deploy workflow (matrix.stack resolved). GitHub keeps one
// pending job per group: a drift check sharing a deploy's group would replace, and so cancel,
// a deploy waiting there. A preview takes no lock on a self-managed backend, so the group does
// not keep a drift check from overlapping an up either: checkDriftOverlap and TestDriftJobRuns
// hold the drift check to looking for deploys itself.
func driftLockFindings(drift, deploy *actionlint.Workflow, stacks []string) []string {
	groups := func(wf *actionlint.Workflow, command string) map[string][]string {
		out := map[string][]string{}
		for _, o := range ops(wf) {
			if o.command != command || o.stack == "" {
				continue
			}
			g := ""
			if c := wf.Jobs[o.job].Concurrency; c != nil && c.Group != nil {
				g = matrixStack.ReplaceAllLiteralString(c.Group.Value, o.stack)
			}
			if !slices.Contains(out[o.stack], g) {
				out[o.stack] = append(out[o.stack], g)
			}
		}
		return out
	}
	checks, ups := groups(drift, "preview"), groups(deploy, "up")
	var findings []string
	seen := map[string]string{}
	for _, stack := range stacks {
		for _, g := range checks[stack] {
			switch {
			case g == "":
				findings = append(findings, fmt.Sprintf("the drift check of %q runs in concurrency group %q: two checks of one stack may overlap", stack, g))
			case slices.ContainsFunc(stacks, func(s string) bool { return slices.Contains(ups[s], g) }):
				findings = append(findings, fmt.Sprintf("the drift check of %q runs in concurrency group %q, a deploy's: it would cancel a deploy pending there", stack, g))
			case seen[g] != "" && seen[g] != stack:
				findings = append(findings, fmt.Sprintf("the drift checks of %q and %q share concurrency group %q", seen[g], stack, g))
			}
			seen[g] = stack
		}
	}
	return findings
}

var (
	// deployRunList lists the deploy workflow's runs with gh.
	deployRunList = regexp.MustCompile(`\bgh\s+run\s+list\b.*(?:--workflow|-w)(?:=|\s+)["']?deploy\.yml\b`)
	shellFunc     = regexp.MustCompile(`^\s*(?:function\s+)?(\w+)\s*\(\)\s*\{?\s*$`)
)

// checkDriftOverlap: a self-managed backend takes no lock for `preview`, so a drift check
// during an up of its stack would preview half-applied state. A drift job looks for runs of
// deploy.yml (gh run list --workflow deploy.yml, directly or through a shell function of the
// script that runs it) before its preview and again after it, before it manages the issue.
// What it does with what it finds (wait, or leave the issue alone as inconclusive) is run by
// TestDriftJobRuns.
func checkDriftOverlap(wf *actionlint.Workflow, _ []string) []string {
	var findings []string
	for _, d := range driftJobs(wf) {
		type pos struct{ step, line int }
		less := func(a, b pos) bool { return a.step < b.step || a.step == b.step && a.line < b.line }
		preview := pos{-1, -1}
		var looks []pos
		for i, s := range d.Steps {
			for k, line := range scriptCalls(runScript(s)) {
				for _, sg := range segments(line.text) {
					if i == d.previews[0].stepIndex && preview.step < 0 && cliPulumi.MatchString(sg.text) && strings.Contains(sg.text, "preview") {
						preview = pos{i, k}
					}
					if line.looks || deployRunList.MatchString(sg.text) {
						looks = append(looks, pos{i, k})
					}
				}
			}
		}
		end := pos{len(d.Steps), 0}
		for _, o := range issueOps(d.Job) {
			if p := (pos{o.stepIndex, -1}); less(p, end) {
				end = p
			}
		}
		if !slices.ContainsFunc(looks, func(p pos) bool { return less(p, preview) }) {
			findings = append(findings, fmt.Sprintf("job %q: never looks for deploys (gh run list --workflow deploy.yml) before its preview, so it may preview its stack during an up", d.id))
		}
		if !slices.ContainsFunc(looks, func(p pos) bool { return less(preview, p) && less(p, end) }) {
			findings = append(findings, fmt.Sprintf("job %q: never looks for deploys (gh run list --workflow deploy.yml) after its preview and before it manages the issue, so a deploy that ran during the preview goes unseen", d.id))
		}
	}
	return findings
}

// scriptLine is a line of a script outside its shell functions' bodies; looks: it calls a
// function of the script that lists the deploy workflow's runs.
type scriptLine struct {
	text  string
	looks bool
}

// scriptCalls returns a script's lines outside its functions' bodies (a body ends at a line
// that is `}` alone), in order, marking those that call a function whose body lists the
// deploy workflow's runs.
func scriptCalls(script string) []scriptLine {
	lines := strings.Split(continuation.ReplaceAllString(script, " "), "\n")
	var looking []string
	var outside []string
	fn := ""
	for _, l := range lines {
		switch {
		case fn != "" && strings.TrimSpace(l) == "}":
			fn = ""
		case fn != "":
			if deployRunList.MatchString(l) && !slices.Contains(looking, fn) {
				looking = append(looking, fn)
			}
		case shellFunc.MatchString(l):
			fn = shellFunc.FindStringSubmatch(l)[1]
		default:
			outside = append(outside, l)
		}
	}
	var out []scriptLine
	for _, l := range outside {
		words := strings.FieldsFunc(l, func(r rune) bool {
			return !(r == '_' || r == '-' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
		})
		out = append(out, scriptLine{l, slices.ContainsFunc(words, func(w string) bool { return slices.Contains(looking, w) })})
	}
	return out
}
