package workflows

import (
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
)

// repoRoot is the repository root, seen from this package's directory (go test runs a
// package's tests in its directory).
const repoRoot = "../.."

var workflowDir = filepath.Join(repoRoot, ".github", "workflows")

// workflowFiles returns every workflow file, so a new workflow is held to the rules too.
func workflowFiles(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{"*.yml", "*.yaml"} {
		m, err := filepath.Glob(filepath.Join(workflowDir, pattern))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Fatalf("no workflow in %s", workflowDir)
	}
	slices.Sort(files)
	return files
}

// presentStacks returns the stacks that have a Pulumi.<stack>.yaml at the repository root.
func presentStacks(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "Pulumi.*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var stacks []string
	for _, f := range files {
		stacks = append(stacks, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Pulumi."), ".yaml"))
	}
	if len(stacks) == 0 {
		t.Fatalf("no Pulumi.<stack>.yaml in %s", repoRoot)
	}
	slices.Sort(stacks)
	return stacks
}

// parse parses a workflow with actionlint and fails the test on any syntax error.
func parse(t *testing.T, name string, src []byte) *actionlint.Workflow {
	t.Helper()
	wf, errs := actionlint.Parse(src)
	for _, err := range errs {
		t.Errorf("%s:%d:%d: %s", name, err.Line, err.Column, err.Message)
	}
	if wf == nil || len(errs) > 0 {
		t.FailNow()
	}
	return wf
}

func parseFile(t *testing.T, file string) *actionlint.Workflow {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return parse(t, file, src)
}

// TestActionlint lints every workflow with actionlint. With shellcheck on PATH, actionlint
// also lints the run: scripts; CI (CI=true) must have it, so CI is never laxer than a
// developer's machine. .ci/run installs it before go test.
func TestActionlint(t *testing.T) {
	t.Parallel()
	shellcheck, err := exec.LookPath("shellcheck")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("shellcheck is not on PATH: actionlint would not lint the workflows' run: scripts; install shellcheck (.ci/run does)")
		}
		t.Log("shellcheck is not on PATH, so run: scripts are not shellchecked; install shellcheck to lint as CI does")
		shellcheck = ""
	}
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	linter, err := actionlint.NewLinter(io.Discard, &actionlint.LinterOptions{
		Shellcheck: shellcheck,
		WorkingDir: root,
		Color:      actionlint.ColorOptionKindNever,
	})
	if err != nil {
		t.Fatal(err)
	}
	// NewProject reads .github/actionlint.yaml if there is one; unlike LintRepository it
	// needs no .git directory, so a source archive lints too.
	project, err := actionlint.NewProject(root)
	if err != nil {
		t.Fatal(err)
	}
	errs, err := linter.LintDir(filepath.Join(root, ".github", "workflows"), project)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range errs {
		t.Error(e)
	}
}

// TestWorkflowsKeepTheRules runs every check on every workflow of the repository.
func TestWorkflowsKeepTheRules(t *testing.T) {
	t.Parallel()
	stacks := presentStacks(t)
	for _, file := range workflowFiles(t) {
		wf := parseFile(t, file)
		for _, c := range checks {
			t.Run(filepath.Base(file)+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				for _, f := range c.fn(wf, stacks) {
					t.Errorf("%s breaks the %s rule: %s", filepath.Base(file), c.name, f)
				}
			})
		}
	}
}

// TestPolicyConfigsExist: every policy config a workflow passes (to a preview, an up, the
// offline plan or the review) is a file of the repository, so no run fails on a missing one
// and no stack's config is missing.
func TestPolicyConfigsExist(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for _, file := range workflowFiles(t) {
		for _, o := range ops(parseFile(t, file)) {
			config := path.Clean(o.policyConfig)
			if o.policyConfig == "" || seen[config] {
				continue
			}
			seen[config] = true
			if _, err := os.Stat(filepath.Join(repoRoot, filepath.FromSlash(config))); err != nil {
				t.Errorf("%s: job %q step %q passes policy config %s for stack %q: %v", filepath.Base(file), o.job, o.step, config, o.stack, err)
			}
		}
	}
}

// knownWorkflows are the workflow files and the events that start each; the checks take a
// workflow that runs on pull requests to plan, preview and run .ci/run, one that runs on
// pushes to deploy, and one that runs on a schedule to check drift.
var knownWorkflows = []knownWorkflow{
	{"pull-request.yml", []string{"pull_request"}},
	{"deploy.yml", []string{"push", "workflow_dispatch"}},
	{"drift.yml", []string{"schedule", "workflow_dispatch"}},
}

type knownWorkflow struct {
	file   string
	events []string
}

// TestWorkflowsAreKnown: every workflow file is one of knownWorkflows, so a new one gets its
// triggers pinned (and its place in the rules thought about) before it runs.
func TestWorkflowsAreKnown(t *testing.T) {
	t.Parallel()
	for _, file := range workflowFiles(t) {
		name := filepath.Base(file)
		if !slices.ContainsFunc(knownWorkflows, func(k knownWorkflow) bool { return k.file == name }) {
			t.Errorf("%s is not a known workflow: add it to knownWorkflows with the events that start it", name)
		}
	}
}

// TestWorkflowTriggers pins what starts each workflow.
func TestWorkflowTriggers(t *testing.T) {
	t.Parallel()
	for _, tc := range knownWorkflows {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			wf := parseFile(t, filepath.Join(workflowDir, tc.file))
			var events []string
			for _, e := range wf.On {
				events = append(events, e.EventName())
				// Only main is ever deployed.
				if push, ok := e.(*actionlint.WebhookEvent); ok && e.EventName() == "push" {
					var branches []string
					if push.Branches != nil {
						for _, b := range push.Branches.Values {
							branches = append(branches, b.Value)
						}
					}
					if !slices.Equal(branches, []string{"main"}) {
						t.Errorf("%s runs on pushes to branches %v, want [main]", tc.file, branches)
					}
				}
			}
			slices.Sort(events)
			if !slices.Equal(events, tc.events) {
				t.Errorf("%s runs on %v, want %v", tc.file, events, tc.events)
			}
		})
	}
}

// TestDriftWorkflowIsRecognised: drift.yml is a drift workflow to the drift rules, which
// would otherwise pass it without looking; and it has a drift job.
func TestDriftWorkflowIsRecognised(t *testing.T) {
	t.Parallel()
	wf := parseFile(t, filepath.Join(workflowDir, "drift.yml"))
	if !isDriftWorkflow(wf) || len(driftJobs(wf)) == 0 {
		t.Fatal("drift.yml is not recognised as a drift workflow with a job that previews: the drift rules do not apply to it")
	}
}

// TestDriftKeepsOutOfTheDeployLock: each stack's drift check runs in a concurrency group of
// its own, so that it never cancels a deploy pending in the deploy's group.
func TestDriftKeepsOutOfTheDeployLock(t *testing.T) {
	t.Parallel()
	drift := parseFile(t, filepath.Join(workflowDir, "drift.yml"))
	deploy := parseFile(t, filepath.Join(workflowDir, "deploy.yml"))
	for _, f := range driftLockFindings(drift, deploy, presentStacks(t)) {
		t.Error(f)
	}
}

// TestDeployJobsNameTheirStack: every job of deploy.yml that previews or deploys a stack is
// named "... (<stack>)": the drift check finds a deploy of its stack by that name (gh run view
// --json jobs), so a job named otherwise would overlap a drift check unseen.
func TestDeployJobsNameTheirStack(t *testing.T) {
	t.Parallel()
	deploy := parseFile(t, filepath.Join(workflowDir, "deploy.yml"))
	for _, o := range ops(deploy) {
		if o.command != "preview" && o.command != "up" {
			continue
		}
		if name := str(deploy.Jobs[o.job].Name); !strings.HasSuffix(name, "("+o.stack+")") {
			t.Errorf("deploy.yml job %q, which runs %s of %q, is named %q; end its name with (%s)", o.job, o.command, o.stack, name, o.stack)
		}
	}
}
