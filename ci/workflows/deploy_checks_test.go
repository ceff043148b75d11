package workflows

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/rhysd/actionlint"
)

// The deploy rules: an up applies only what was reviewed, and never a stack whose file says it
// is not deployable yet. What the real scripts do (an unaccepted loss, a changed prod) is run
// by TestDeployJobsRun.

const (
	uploadArtifact   = "actions/upload-artifact"
	downloadArtifact = "actions/download-artifact"
)

// checkReviewedDeploy: before each up of a stack, its job checks that the stack is deployable
// (./bin/plan --stack <stack> --check-deployable) and previews it with
// `pulumi preview --json > <file>`; then either reviews that file (./bin/plan --from <file>)
// and a gate reads the review's status (steps.<id>) and exits non-zero, or compares its steps
// with the preview a job it needs reviewed and uploaded (actions/download-artifact of that
// artifact, then a step that reads both documents' .steps with jq and exits non-zero). No step
// between the preview and the up has continue-on-error, and the up has no if:.
func checkReviewedDeploy(wf *actionlint.Workflow, _ []string) []string {
	var findings []string
	all := ops(wf)
	for _, u := range all {
		if u.command != "up" {
			continue
		}
		j := namedJob{u.job, wf.Jobs[u.job]}
		where := fmt.Sprintf("job %q: up of %q", j.id, u.stack)
		if !slices.ContainsFunc(all, func(o op) bool {
			return o.job == u.job && o.command == "deployable" && o.stack == u.stack && o.stepIndex < u.stepIndex
		}) {
			findings = append(findings, fmt.Sprintf("%s: no earlier ./%s --stack %s --check-deployable, so a stack whose file says it is not deployable yet would be deployed", where, planBinary, u.stack))
		}
		pi := slices.IndexFunc(all, func(o op) bool {
			return o.job == u.job && o.command == "preview" && o.stack == u.stack && o.json && o.out != "" && o.stepIndex < u.stepIndex
		})
		if pi < 0 {
			findings = append(findings, fmt.Sprintf("%s: no earlier `pulumi preview --json > <file>` of the stack in its job, so nothing shows that what it applies is what was reviewed", where))
			continue
		}
		p := all[pi]
		if s := j.Steps[u.stepIndex]; str(s.If) != "" {
			findings = append(findings, fmt.Sprintf("%s: the up step has if: %s, which may run it after the review failed", where, str(s.If)))
		}
		for i := p.stepIndex; i < u.stepIndex; i++ {
			if c := j.Steps[i].ContinueOnError; c != nil && !isFalse(c) {
				findings = append(findings, fmt.Sprintf("%s: step %q has continue-on-error, so the up runs after it failed", where, stepLabel(j.Steps[i], i)))
			}
		}
		ri := slices.IndexFunc(all, func(o op) bool {
			return o.job == u.job && o.command == "review" && path.Clean(o.from) == path.Clean(p.out) && o.stepIndex > p.stepIndex && o.stepIndex < u.stepIndex
		})
		if ri >= 0 {
			findings = append(findings, reviewGateFindings(j, all[ri], u, where)...)
			continue
		}
		findings = append(findings, compareFindings(wf, j, all, p, u, where)...)
	}
	return findings
}

// reviewGateFindings: a step after the review and before the up reads the review's status and
// exits non-zero.
func reviewGateFindings(j namedJob, r, u op, where string) []string {
	id := str(j.Steps[r.stepIndex].ID)
	for i := r.stepIndex + 1; i < u.stepIndex; i++ {
		g := j.Steps[i]
		text := strings.Join(append(envValues(g.Env), str(g.If), runScript(g)), "\n")
		if id != "" && strings.Contains(text, "steps."+id+".") && exitsNonZero.MatchString(runScript(g)) {
			return nil
		}
	}
	return []string{fmt.Sprintf("%s: no step between the review %q and the up reads the review's status (steps.<id>) and exits non-zero, so a blocked review would still be applied", where, r.step)}
}

// compareFindings: without a review in its job, the up's job downloads the preview that a job
// it needs reviewed and uploaded, and a step after its own preview compares the steps of both
// documents and exits non-zero when they differ.
func compareFindings(wf *actionlint.Workflow, j namedJob, all []op, p, u op, where string) []string {
	dir, name := "", ""
	for i, s := range j.Steps {
		if a := actionStep(s); a != nil && actionName(a) == downloadArtifact && i < u.stepIndex {
			dir, name = input(a, "path"), input(a, "name")
		}
	}
	reviewer := ""
	for _, n := range j.Needs {
		k := strings.ToLower(n.Value)
		uploads := slices.ContainsFunc(wf.Jobs[k].Steps, func(s *actionlint.Step) bool {
			a := actionStep(s)
			return a != nil && actionName(a) == uploadArtifact && input(a, "name") == name
		})
		if uploads && slices.ContainsFunc(all, func(o op) bool { return o.job == k && o.command == "review" && o.stack == u.stack }) {
			reviewer = k
		}
	}
	if dir == "" || reviewer == "" {
		return []string{fmt.Sprintf("%s: applies a preview nobody reviewed: review %s in the job (./%s --from %s), or download the preview that a job it needs reviewed and uploaded and compare the two", where, p.out, planBinary, p.out)}
	}
	for i := p.stepIndex + 1; i < u.stepIndex; i++ {
		script := runScript(j.Steps[i])
		if strings.Contains(script, "jq") && strings.Contains(script, ".steps") && strings.Contains(script, p.out) &&
			strings.Contains(script, path.Clean(dir)+"/") && exitsNonZero.MatchString(script) {
			return nil
		}
	}
	return []string{fmt.Sprintf("%s: no step between its preview and the up compares the steps of %s with the reviewed preview in %s/ (jq on .steps) and exits non-zero when they differ", where, p.out, dir)}
}
