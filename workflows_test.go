package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// The rules the CI workflows under .github/workflows must keep. Each check takes a parsed
// workflow and the stacks present at the root and returns its findings; TestWorkflowRules runs
// them on the real files and TestWorkflowChecksFindBadWorkflows proves each can fail.

const (
	workflowDir = ".github/workflows"
	// policyPack is the local policy pack every preview and up must run.
	policyPack = "policy"
	// forkGuard skips a job for pull requests from forks, which get no secrets or OIDC token.
	forkGuard = "github.event.pull_request.head.repo.full_name == github.repository"
	// pulumiVersionExpr is how every pulumi/actions step gets the CLI version: from the step
	// that reads the Pulumi SDK version in go.mod, the one place it is kept.
	pulumiVersionExpr = "${{ steps.pulumi-version.outputs.version }}"
	pulumiSDKModule   = "github.com/pulumi/pulumi/sdk/v3"
)

// workflow is the part of a GitHub Actions workflow the checks read.
type workflow struct {
	On          yaml.Node      `yaml:"on"`
	Permissions yaml.Node      `yaml:"permissions"`
	Concurrency yaml.Node      `yaml:"concurrency"`
	Jobs        map[string]job `yaml:"jobs"`
}

type job struct {
	If          string    `yaml:"if"`
	Needs       yaml.Node `yaml:"needs"`
	Environment yaml.Node `yaml:"environment"`
	Permissions yaml.Node `yaml:"permissions"`
	Concurrency yaml.Node `yaml:"concurrency"`
	Strategy    struct {
		Matrix map[string]yaml.Node `yaml:"matrix"`
	} `yaml:"strategy"`
	Steps []step `yaml:"steps"`
}

type step struct {
	Name            string            `yaml:"name"`
	ID              string            `yaml:"id"`
	Uses            string            `yaml:"uses"`
	Run             string            `yaml:"run"`
	With            map[string]string `yaml:"with"`
	Env             map[string]string `yaml:"env"`
	ContinueOnError string            `yaml:"continue-on-error"`
}

func (s step) label(i int) string {
	switch {
	case s.Name != "":
		return s.Name
	case s.Uses != "":
		return s.Uses
	}
	return fmt.Sprintf("#%d", i+1)
}

// op is one Pulumi operation a workflow runs on one stack: preview, up, or the offline plan.
type op struct {
	job, step   string
	command     string
	stack       string // "" when the stack expression cannot be resolved
	stackExpr   string
	policyPacks string
	stepIndex   int
}

func parseWorkflow(data []byte) (workflow, error) {
	var wf workflow
	if err := yaml.Unmarshal(data, &wf); err != nil {
		return workflow{}, err
	}
	if len(wf.Jobs) == 0 {
		return workflow{}, fmt.Errorf("no jobs")
	}
	return wf, nil
}

// scalars returns a scalar node's value or a sequence's values.
func scalars(n yaml.Node) []string {
	switch n.Kind {
	case yaml.ScalarNode:
		return []string{n.Value}
	case yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			out = append(out, c.Value)
		}
		return out
	}
	return nil
}

// mapping returns a mapping node's scalar entries.
func mapping(n yaml.Node) map[string]string {
	out := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		out[n.Content[i].Value] = n.Content[i+1].Value
	}
	return out
}

// triggers returns the events a workflow runs on.
func triggers(wf workflow) []string {
	if wf.On.Kind == yaml.MappingNode {
		return slices.Sorted(func(yield func(string) bool) {
			for k := range mapping(wf.On) {
				if !yield(k) {
					return
				}
			}
		})
	}
	return scalars(wf.On)
}

func environmentName(n yaml.Node) string {
	if n.Kind == yaml.MappingNode {
		return mapping(n)["name"]
	}
	return n.Value
}

func sortedJobs(wf workflow) []string {
	names := make([]string, 0, len(wf.Jobs))
	for name := range wf.Jobs {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

func action(uses string) string {
	name, _, _ := strings.Cut(uses, "@")
	return name
}

var (
	cliPulumi = regexp.MustCompile(`\bpulumi\s+(preview|up|update)\b`)
	cliStack  = regexp.MustCompile(`(?:--stack|-s)[= ]+("[^"]*"|\S+)`)
	cliPolicy = regexp.MustCompile(`--policy-pack[= ]+("[^"]*"|\S+)`)
	shellVar  = regexp.MustCompile(`^\$\{?(\w+)\}?$`)
)

// resolveStacks turns a stack expression into stack names: a literal, or the job's matrix.
func resolveStacks(j job, expr string) []string {
	expr = strings.Trim(expr, `"'`)
	switch {
	case strings.Contains(expr, "matrix.stack"):
		return scalars(j.Strategy.Matrix["stack"])
	case strings.Contains(expr, "$"):
		return []string{""}
	}
	return []string{expr}
}

// ops lists the Pulumi operations of a workflow, one per stack.
func ops(wf workflow) []op {
	var out []op
	for _, jobName := range sortedJobs(wf) {
		j := wf.Jobs[jobName]
		for i, s := range j.Steps {
			var command, stackExpr, policy string
			switch {
			case action(s.Uses) == "pulumi/actions":
				command, stackExpr, policy = s.With["command"], s.With["stack-name"], s.With["policyPacks"]
			case strings.Contains(s.Run, "./cmd/plan"):
				command = "plan"
				if m := cliStack.FindStringSubmatch(s.Run); m != nil {
					stackExpr = m[1]
				}
			case cliPulumi.MatchString(s.Run):
				command = cliPulumi.FindStringSubmatch(s.Run)[1]
				if m := cliStack.FindStringSubmatch(s.Run); m != nil {
					stackExpr = m[1]
				}
				if m := cliPolicy.FindStringSubmatch(s.Run); m != nil {
					policy = strings.Trim(m[1], `"'`)
				}
			default:
				continue
			}
			if command == "update" {
				command = "up"
			}
			// A shell variable ($STACK) is resolved through the step's env.
			if m := shellVar.FindStringSubmatch(strings.Trim(stackExpr, `"'`)); m != nil {
				stackExpr = s.Env[m[1]]
			}
			for _, stack := range resolveStacks(j, stackExpr) {
				out = append(out, op{job: jobName, step: s.label(i), command: command, stack: stack,
					stackExpr: stackExpr, policyPacks: policy, stepIndex: i})
			}
		}
	}
	return out
}

// checkStacks: every operation (plan, preview, up) covers exactly the stacks present, once
// each, and every stack matrix lists exactly those stacks.
func checkStacks(wf workflow, stacks []string) []string {
	var findings []string
	for _, jobName := range sortedJobs(wf) {
		if m, ok := wf.Jobs[jobName].Strategy.Matrix["stack"]; ok {
			got := slices.Sorted(slices.Values(scalars(m)))
			if !slices.Equal(got, stacks) {
				findings = append(findings, fmt.Sprintf("job %q: matrix stacks %v, want the stack files present %v", jobName, got, stacks))
			}
		}
	}
	covered := map[string]map[string][]string{} // command -> stack -> jobs
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
	for _, command := range slices.Sorted(func(yield func(string) bool) {
		for c := range covered {
			if !yield(c) {
				return
			}
		}
	}) {
		byStack := covered[command]
		for _, stack := range stacks {
			if len(byStack[stack]) == 0 {
				findings = append(findings, fmt.Sprintf("%s never runs for stack %q", command, stack))
			}
		}
		for stack, jobs := range byStack {
			if !slices.Contains(stacks, stack) {
				findings = append(findings, fmt.Sprintf("job %q: %s runs for stack %q but there is no Pulumi.%s.yaml", jobs[0], command, stack, stack))
			}
			if len(jobs) > 1 {
				findings = append(findings, fmt.Sprintf("%s runs %d times for stack %q (jobs %v)", command, len(jobs), stack, jobs))
			}
		}
	}
	sort.Strings(findings)
	return findings
}

// checkPolicyPacks: every preview and up runs the policy pack.
func checkPolicyPacks(wf workflow, _ []string) []string {
	var findings []string
	for _, o := range ops(wf) {
		if (o.command == "preview" || o.command == "up") && o.policyPacks != policyPack {
			findings = append(findings, fmt.Sprintf("job %q step %q: %s of stack %q runs policy packs %q, want %q", o.job, o.step, o.command, o.stack, o.policyPacks, policyPack))
		}
	}
	return findings
}

// checkCredentials: Google Cloud is reached through Workload Identity Federation only, never
// a service-account key.
func checkCredentials(wf workflow, _ []string) []string {
	var findings []string
	for _, jobName := range sortedJobs(wf) {
		for i, s := range wf.Jobs[jobName].Steps {
			where := fmt.Sprintf("job %q step %q", jobName, s.label(i))
			if _, ok := s.With["credentials_json"]; ok {
				findings = append(findings, where+": uses credentials_json (a long-lived key); use workload_identity_provider")
			}
			for k := range s.Env {
				if k == "GOOGLE_CREDENTIALS" || k == "GOOGLE_APPLICATION_CREDENTIALS" {
					findings = append(findings, fmt.Sprintf("%s: sets %s; authenticate with google-github-actions/auth and workload_identity_provider", where, k))
				}
			}
			if action(s.Uses) == "google-github-actions/auth" {
				if s.With["workload_identity_provider"] == "" || s.With["service_account"] == "" {
					findings = append(findings, where+": google-github-actions/auth without workload_identity_provider and service_account")
				}
			}
		}
	}
	return findings
}

// checkProduction: prod is deployed only in the production environment (where reviewers
// approve) and only after dev succeeded.
func checkProduction(wf workflow, _ []string) []string {
	var findings []string
	devJobs := map[string]bool{}
	for _, o := range ops(wf) {
		if o.command == "up" && o.stack == "dev" {
			devJobs[o.job] = true
		}
	}
	for _, o := range ops(wf) {
		if o.command != "up" || o.stack != "prod" {
			continue
		}
		j := wf.Jobs[o.job]
		if env := environmentName(j.Environment); env != "production" {
			findings = append(findings, fmt.Sprintf("job %q: up of prod runs in environment %q, want \"production\"", o.job, env))
		}
		needsDev := false
		for _, need := range scalars(j.Needs) {
			needsDev = needsDev || devJobs[need]
		}
		if !needsDev {
			findings = append(findings, fmt.Sprintf("job %q: up of prod does not need the job that deploys dev (needs %v)", o.job, scalars(j.Needs)))
		}
	}
	return findings
}

func usesAuth(j job) bool {
	return slices.ContainsFunc(j.Steps, func(s step) bool { return action(s.Uses) == "google-github-actions/auth" })
}

func commentsOnPR(j job) bool {
	return slices.ContainsFunc(j.Steps, func(s step) bool { return s.With["comment-on-pr"] == "true" })
}

// checkPermissions: the workflow grants contents: read at most; each job declares its own,
// with id-token: write only if it authenticates and pull-requests: write only if it comments.
func checkPermissions(wf workflow, _ []string) []string {
	var findings []string
	switch wf.Permissions.Kind {
	case yaml.MappingNode:
		for scope, level := range mapping(wf.Permissions) {
			if scope != "contents" || level != "read" {
				findings = append(findings, fmt.Sprintf("workflow permissions grant %s: %s; grant contents: read at most and the rest per job", scope, level))
			}
		}
	case 0:
		findings = append(findings, "workflow has no permissions: (defaults to the repository's, often write)")
	default:
		findings = append(findings, fmt.Sprintf("workflow permissions are %q; list the scopes", wf.Permissions.Value))
	}
	for _, jobName := range sortedJobs(wf) {
		j := wf.Jobs[jobName]
		if j.Permissions.Kind != yaml.MappingNode {
			findings = append(findings, fmt.Sprintf("job %q: permissions %q; list the scopes it needs", jobName, j.Permissions.Value))
			continue
		}
		want := map[string]string{"contents": "read"}
		if usesAuth(j) {
			want["id-token"] = "write"
		}
		if commentsOnPR(j) {
			want["pull-requests"] = "write"
		}
		got := mapping(j.Permissions)
		for scope, level := range got {
			if level != "none" && want[scope] != level {
				findings = append(findings, fmt.Sprintf("job %q: grants %s: %s, which it does not need", jobName, scope, level))
			}
		}
		for scope, level := range want {
			if got[scope] != level {
				findings = append(findings, fmt.Sprintf("job %q: needs %s: %s", jobName, scope, level))
			}
		}
	}
	sort.Strings(findings)
	return findings
}

var pinnedUses = regexp.MustCompile(`^[\w.-]+/[\w.-]+(/[^@]+)?@(v\d+\.\d+\.\d+|[0-9a-f]{40})$`)

// checkPinned: every action is pinned to a release version (or a commit), never a branch or
// a moving major tag.
func checkPinned(wf workflow, _ []string) []string {
	var findings []string
	for _, jobName := range sortedJobs(wf) {
		for i, s := range wf.Jobs[jobName].Steps {
			if s.Uses == "" || strings.HasPrefix(s.Uses, "./") || pinnedUses.MatchString(s.Uses) {
				continue
			}
			findings = append(findings, fmt.Sprintf("job %q step %q: uses %q is not pinned to a release version (vX.Y.Z)", jobName, s.label(i), s.Uses))
		}
	}
	return findings
}

var untrustedInRun = regexp.MustCompile(`\$\{\{[^}]*\b(github\.event\.|github\.head_ref|inputs\.)`)

// checkUntrustedInput: no event data in a run: script, where a crafted title or branch name
// becomes shell code; pass it through env: instead.
func checkUntrustedInput(wf workflow, _ []string) []string {
	var findings []string
	for _, jobName := range sortedJobs(wf) {
		for i, s := range wf.Jobs[jobName].Steps {
			if m := untrustedInRun.FindString(s.Run); m != "" {
				findings = append(findings, fmt.Sprintf("job %q step %q: run: interpolates %q; pass it through env:", jobName, s.label(i), m))
			}
		}
	}
	return findings
}

func usesSecrets(j job) bool {
	for _, s := range j.Steps {
		for _, m := range []map[string]string{s.With, s.Env} {
			for _, v := range m {
				if strings.Contains(v, "secrets.") {
					return true
				}
			}
		}
	}
	return usesAuth(j)
}

// checkForkGuard: pull request workflows never run with secrets for forks:
// no pull_request_target, and jobs that use secrets or an identity skip forks.
func checkForkGuard(wf workflow, _ []string) []string {
	var findings []string
	on := triggers(wf)
	if slices.Contains(on, "pull_request_target") {
		findings = append(findings, "workflow runs on pull_request_target, which gives fork code the repository's secrets")
	}
	if !slices.Contains(on, "pull_request") {
		return findings
	}
	for _, jobName := range sortedJobs(wf) {
		j := wf.Jobs[jobName]
		if usesSecrets(j) && !strings.Contains(j.If, forkGuard) {
			findings = append(findings, fmt.Sprintf("job %q: uses secrets or a cloud identity on pull requests without `if: %s`", jobName, forkGuard))
		}
	}
	return findings
}

// checkPulumiVersion: every pulumi/actions step runs the CLI version read from go.mod.
func checkPulumiVersion(wf workflow, _ []string) []string {
	var findings []string
	for _, jobName := range sortedJobs(wf) {
		j := wf.Jobs[jobName]
		for i, s := range j.Steps {
			if action(s.Uses) != "pulumi/actions" {
				continue
			}
			if s.With["pulumi-version"] != pulumiVersionExpr {
				findings = append(findings, fmt.Sprintf("job %q step %q: pulumi-version %q, want %q", jobName, s.label(i), s.With["pulumi-version"], pulumiVersionExpr))
			}
			reads := slices.ContainsFunc(j.Steps[:i], func(p step) bool {
				return p.ID == "pulumi-version" && strings.Contains(p.Run, pulumiSDKModule)
			})
			if !reads {
				findings = append(findings, fmt.Sprintf("job %q step %q: no earlier step with id pulumi-version reads %s from go.mod", jobName, s.label(i), pulumiSDKModule))
			}
		}
	}
	return findings
}

// checkDeployConcurrency: two ups never run on one stack at once and a running up is never
// cancelled (it would leave the stack locked with pending operations).
func checkDeployConcurrency(wf workflow, _ []string) []string {
	var findings []string
	if wf.Concurrency.Kind == yaml.MappingNode && mapping(wf.Concurrency)["cancel-in-progress"] != "false" {
		for _, o := range ops(wf) {
			if o.command == "up" {
				findings = append(findings, "workflow concurrency may cancel a running up; set cancel-in-progress: false")
				break
			}
		}
	}
	for _, o := range ops(wf) {
		if o.command != "up" {
			continue
		}
		c := wf.Jobs[o.job].Concurrency
		if c.Kind != yaml.MappingNode {
			findings = append(findings, fmt.Sprintf("job %q: up of %q has no concurrency group with cancel-in-progress: false", o.job, o.stack))
			continue
		}
		m := mapping(c)
		if !strings.Contains(m["group"], o.stack) && !strings.Contains(m["group"], "matrix.stack") {
			findings = append(findings, fmt.Sprintf("job %q: concurrency group %q does not name stack %q", o.job, m["group"], o.stack))
		}
		if m["cancel-in-progress"] != "false" {
			findings = append(findings, fmt.Sprintf("job %q: up of %q has cancel-in-progress %q, want false", o.job, o.stack, m["cancel-in-progress"]))
		}
	}
	return findings
}

// checkFailuresSurface: a failing plan, preview or up fails its job: no continue-on-error,
// and the plan's exit status survives the pipe into the job summary.
func checkFailuresSurface(wf workflow, _ []string) []string {
	var findings []string
	for _, o := range ops(wf) {
		s := wf.Jobs[o.job].Steps[o.stepIndex]
		if s.ContinueOnError != "" && s.ContinueOnError != "false" {
			findings = append(findings, fmt.Sprintf("job %q step %q: continue-on-error hides a failing %s", o.job, o.step, o.command))
		}
		if o.command != "plan" {
			continue
		}
		if !strings.Contains(s.Run, "--format markdown") || !strings.Contains(s.Run, "GITHUB_STEP_SUMMARY") {
			findings = append(findings, fmt.Sprintf("job %q step %q: the plan's Markdown does not go to $GITHUB_STEP_SUMMARY", o.job, o.step))
		}
		if strings.Contains(s.Run, "|") && !strings.Contains(s.Run, "pipefail") {
			findings = append(findings, fmt.Sprintf("job %q step %q: the plan is piped without pipefail, so a violation exits 0", o.job, o.step))
		}
	}
	return findings
}

// checkSetupGo: Go comes from go.mod, with module and build caching.
func checkSetupGo(wf workflow, _ []string) []string {
	var findings []string
	for _, jobName := range sortedJobs(wf) {
		for i, s := range wf.Jobs[jobName].Steps {
			if action(s.Uses) != "actions/setup-go" {
				continue
			}
			if s.With["go-version-file"] != "go.mod" || s.With["go-version"] != "" {
				findings = append(findings, fmt.Sprintf("job %q step %q: Go version must come from go-version-file: go.mod", jobName, s.label(i)))
			}
			if s.With["cache"] == "false" {
				findings = append(findings, fmt.Sprintf("job %q step %q: module and build caching is off", jobName, s.label(i)))
			}
		}
	}
	return findings
}

type workflowCheck struct {
	name string
	fn   func(wf workflow, stacks []string) []string
}

var workflowChecks = []workflowCheck{
	{"stacks", checkStacks},
	{"policy packs", checkPolicyPacks},
	{"credentials", checkCredentials},
	{"production", checkProduction},
	{"permissions", checkPermissions},
	{"pinned", checkPinned},
	{"untrusted input", checkUntrustedInput},
	{"fork guard", checkForkGuard},
	{"pulumi version", checkPulumiVersion},
	{"deploy concurrency", checkDeployConcurrency},
	{"failures surface", checkFailuresSurface},
	{"setup-go", checkSetupGo},
}

// presentStacks returns the stacks that have a Pulumi.<stack>.yaml at the root.
func presentStacks(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("Pulumi.*.yaml")
	require.NoError(t, err)
	var stacks []string
	for _, f := range files {
		stacks = append(stacks, strings.TrimSuffix(strings.TrimPrefix(f, "Pulumi."), ".yaml"))
	}
	sort.Strings(stacks)
	require.NotEmpty(t, stacks, "no Pulumi.<stack>.yaml at the root")
	return stacks
}

func readWorkflow(t *testing.T, file string) workflow {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(workflowDir, file))
	require.NoError(t, err, "reading workflow %s", file)
	wf, err := parseWorkflow(data)
	require.NoError(t, err, "parsing workflow %s", file)
	return wf
}

var workflowFiles = []string{"pull-request.yml", "deploy.yml"}

func TestWorkflowFilesAreKnown(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(workflowDir, "*.y*ml"))
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	// A new workflow must be added to workflowFiles so the rules apply to it too.
	assert.ElementsMatch(t, workflowFiles, names, "workflows under %s", workflowDir)
}

func TestWorkflowRules(t *testing.T) {
	t.Parallel()
	stacks := presentStacks(t)
	for _, file := range workflowFiles {
		wf := readWorkflow(t, file)
		for _, c := range workflowChecks {
			t.Run(file+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				assert.Empty(t, c.fn(wf, stacks), "workflow %s breaks the %s rule", file, c.name)
			})
		}
	}
}

func commandsRun(wf workflow) map[string][]string {
	out := map[string][]string{}
	for _, o := range ops(wf) {
		if !slices.Contains(out[o.command], o.job) {
			out[o.command] = append(out[o.command], o.job)
		}
	}
	return out
}

func TestWorkflowShape(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file     string
		triggers []string
		commands map[string][]string // command -> jobs that run it
	}{
		{
			file:     "pull-request.yml",
			triggers: []string{"pull_request"},
			commands: map[string][]string{"plan": {"plan"}, "preview": {"preview"}},
		},
		{
			file:     "deploy.yml",
			triggers: []string{"push", "workflow_dispatch"},
			commands: map[string][]string{"up": {"dev", "prod"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			wf := readWorkflow(t, tc.file)
			assert.ElementsMatch(t, tc.triggers, triggers(wf), "workflow %s triggers", tc.file)
			assert.Equal(t, tc.commands, commandsRun(wf), "workflow %s: which jobs run plan, preview and up", tc.file)
		})
	}

	t.Run("pull-request.yml/test", func(t *testing.T) {
		t.Parallel()
		wf := readWorkflow(t, "pull-request.yml")
		var runs []string
		for _, s := range wf.Jobs["test"].Steps {
			runs = append(runs, s.Run)
		}
		assert.Contains(t, runs, "go vet ./...", "workflow pull-request.yml job test")
		assert.Contains(t, runs, "go test ./...", "workflow pull-request.yml job test")
	})
	t.Run("pull-request.yml/plan runs for forks", func(t *testing.T) {
		t.Parallel()
		j := readWorkflow(t, "pull-request.yml").Jobs["plan"]
		assert.Empty(t, j.If, "workflow pull-request.yml job plan needs no secrets and must run for forks")
		assert.False(t, usesSecrets(j), "workflow pull-request.yml job plan must need no secrets")
	})
	t.Run("pull-request.yml/preview comments", func(t *testing.T) {
		t.Parallel()
		j := readWorkflow(t, "pull-request.yml").Jobs["preview"]
		assert.True(t, commentsOnPR(j), "workflow pull-request.yml job preview must post the preview on the pull request")
		assert.True(t, usesAuth(j), "workflow pull-request.yml job preview must authenticate with Workload Identity Federation")
	})
	t.Run("deploy.yml/push to main only", func(t *testing.T) {
		t.Parallel()
		wf := readWorkflow(t, "deploy.yml")
		var on struct {
			Push struct {
				Branches []string `yaml:"branches"`
			} `yaml:"push"`
		}
		require.NoError(t, wf.On.Decode(&on), "workflow deploy.yml on:")
		assert.Equal(t, []string{"main"}, on.Push.Branches, "workflow deploy.yml deploys on push to main only")
	})
}

// goodDeploy is a minimal workflow that passes every check; the bad cases below break it one
// rule at a time.
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
      - uses: actions/checkout@v4.2.2
      - uses: actions/setup-go@v5.5.0
        with:
          go-version-file: go.mod
      - id: pulumi-version
        run: go list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3
      - uses: google-github-actions/auth@v2.1.10
        with:
          workload_identity_provider: ${{ vars.P }}
          service_account: ${{ vars.S }}
      - uses: pulumi/actions@v6.6.1
        with:
          command: up
          stack-name: dev
          policyPacks: policy
          pulumi-version: ${{ steps.pulumi-version.outputs.version }}
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
      - uses: pulumi/actions@v6.6.1
        with:
          command: up
          stack-name: prod
          policyPacks: policy
          pulumi-version: ${{ steps.pulumi-version.outputs.version }}
`

const goodPullRequest = `
on: pull_request
permissions:
  contents: read
jobs:
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
        run: |
          set -o pipefail
          go run ./cmd/plan --stack "$STACK" --format markdown | tee -a "$GITHUB_STEP_SUMMARY"
  preview:
    if: github.event.pull_request.head.repo.full_name == github.repository
    runs-on: ubuntu-latest
    permissions:
      contents: read
      id-token: write
      pull-requests: write
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
          policyPacks: policy
          comment-on-pr: true
          pulumi-version: ${{ steps.pulumi-version.outputs.version }}
        env:
          PULUMI_CONFIG_PASSPHRASE: ${{ secrets.PULUMI_CONFIG_PASSPHRASE }}
`

func TestWorkflowChecksFindBadWorkflows(t *testing.T) {
	t.Parallel()
	stacks := []string{"dev", "prod"}
	for _, good := range []struct{ name, yaml string }{{"deploy", goodDeploy}, {"pull request", goodPullRequest}} {
		wf, err := parseWorkflow([]byte(good.yaml))
		require.NoError(t, err, "good %s workflow", good.name)
		for _, c := range workflowChecks {
			assert.Empty(t, c.fn(wf, stacks), "good %s workflow breaks the %s rule", good.name, c.name)
		}
	}

	tests := []struct {
		name  string
		base  string
		edits [][2]string // old, new replacements applied to base, each must match
		check func(workflow, []string) []string
		want  string
	}{
		{"matrix misses a stack", goodPullRequest,
			[][2]string{{"stack: [dev, prod]\n    steps:\n      - env", "stack: [dev]\n    steps:\n      - env"}},
			checkStacks, `job "plan": matrix stacks [dev]`},
		{"matrix has a stack without a file", goodPullRequest,
			[][2]string{{"stack: [dev, prod]\n    steps:\n      - id", "stack: [dev, prod, staging]\n    steps:\n      - id"}},
			checkStacks, `preview runs for stack "staging" but there is no Pulumi.staging.yaml`},
		{"deploy misses prod", goodDeploy,
			[][2]string{{"stack-name: prod", "stack-name: dev"}},
			checkStacks, `up never runs for stack "prod"`},
		{"preview without the policy pack", goodPullRequest,
			[][2]string{{"          policyPacks: policy\n          comment", "          comment"}},
			checkPolicyPacks, `job "preview" step "pulumi/actions@v6.6.1": preview of stack "dev" runs policy packs ""`},
		{"pulumi up on the command line without the policy pack", goodDeploy,
			[][2]string{{"      - uses: pulumi/actions@v6.6.1\n        with:\n          command: up\n          stack-name: prod",
				"      - run: pulumi up --yes --stack prod\n      - uses: pulumi/actions@v6.6.1\n        with:\n          command: output\n          stack-name: prod"}},
			checkPolicyPacks, `up of stack "prod" runs policy packs ""`},
		{"credentials_json", goodDeploy,
			[][2]string{{"workload_identity_provider: ${{ vars.P }}\n          service_account: ${{ vars.S }}\n      - uses: pulumi/actions@v6.6.1\n        with:\n          command: up\n          stack-name: dev",
				"credentials_json: ${{ secrets.KEY }}\n      - uses: pulumi/actions@v6.6.1\n        with:\n          command: up\n          stack-name: dev"}},
			checkCredentials, `job "dev" step "google-github-actions/auth@v2.1.10": uses credentials_json`},
		{"prod outside the production environment", goodDeploy,
			[][2]string{{"environment: production", "environment: staging"}},
			checkProduction, `job "prod": up of prod runs in environment "staging"`},
		{"prod does not need dev", goodDeploy,
			[][2]string{{"    needs: dev\n", ""}},
			checkProduction, `job "prod": up of prod does not need the job that deploys dev`},
		{"workflow grants write", goodDeploy,
			[][2]string{{"permissions:\n  contents: read\njobs", "permissions: write-all\njobs"}},
			checkPermissions, `workflow permissions are "write-all"`},
		{"job without permissions", goodDeploy,
			[][2]string{{"    permissions:\n      contents: read\n      id-token: write\n    concurrency:\n      group: up-prod", "    concurrency:\n      group: up-prod"}},
			checkPermissions, `job "prod": permissions ""`},
		{"id-token where nothing authenticates", goodPullRequest,
			[][2]string{{"    permissions:\n      contents: read\n    strategy", "    permissions:\n      contents: read\n      id-token: write\n    strategy"}},
			checkPermissions, `job "plan": grants id-token: write, which it does not need`},
		{"pull-requests: write where nothing comments", goodPullRequest,
			[][2]string{{"          comment-on-pr: true\n", ""}},
			checkPermissions, `job "preview": grants pull-requests: write, which it does not need`},
		{"contents: write", goodDeploy,
			[][2]string{{"      contents: read\n      id-token: write\n    concurrency:\n      group: up-dev", "      contents: write\n      id-token: write\n    concurrency:\n      group: up-dev"}},
			checkPermissions, `job "dev": grants contents: write, which it does not need`},
		{"action on a branch", goodDeploy,
			[][2]string{{"actions/checkout@v4.2.2", "actions/checkout@main"}},
			checkPinned, `uses "actions/checkout@main" is not pinned`},
		{"action on a major tag", goodDeploy,
			[][2]string{{"actions/setup-go@v5.5.0", "actions/setup-go@v5"}},
			checkPinned, `uses "actions/setup-go@v5" is not pinned`},
		{"event data in run", goodPullRequest,
			[][2]string{{"set -o pipefail\n", "echo \"${{ github.event.pull_request.title }}\"\n          set -o pipefail\n"}},
			checkUntrustedInput, `job "plan" step "#1": run: interpolates "${{ github.event.`},
		{"preview without the fork guard", goodPullRequest,
			[][2]string{{"    if: github.event.pull_request.head.repo.full_name == github.repository\n", ""}},
			checkForkGuard, `job "preview": uses secrets or a cloud identity on pull requests without`},
		{"pull_request_target", goodPullRequest,
			[][2]string{{"on: pull_request\n", "on: [pull_request, pull_request_target]\n"}},
			checkForkGuard, `workflow runs on pull_request_target`},
		{"pulumi version hard-coded", goodDeploy,
			[][2]string{{"stack-name: prod\n          policyPacks: policy\n          pulumi-version: ${{ steps.pulumi-version.outputs.version }}", "stack-name: prod\n          policyPacks: policy\n          pulumi-version: 3.100.0"}},
			checkPulumiVersion, `job "prod" step "pulumi/actions@v6.6.1": pulumi-version "3.100.0"`},
		{"pulumi version not read from go.mod", goodDeploy,
			[][2]string{{"      - id: pulumi-version\n        run: go list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3\n      - uses: google-github-actions/auth@v2.1.10\n        with:\n          workload_identity_provider: ${{ vars.P }}\n          service_account: ${{ vars.S }}\n      - uses: pulumi/actions@v6.6.1\n        with:\n          command: up\n          stack-name: prod",
				"      - id: pulumi-version\n        run: echo version=3.100.0\n      - uses: google-github-actions/auth@v2.1.10\n        with:\n          workload_identity_provider: ${{ vars.P }}\n          service_account: ${{ vars.S }}\n      - uses: pulumi/actions@v6.6.1\n        with:\n          command: up\n          stack-name: prod"}},
			checkPulumiVersion, `job "prod" step "pulumi/actions@v6.6.1": no earlier step with id pulumi-version reads`},
		{"up may be cancelled", goodDeploy,
			[][2]string{{"group: up-prod\n      cancel-in-progress: false", "group: up-prod\n      cancel-in-progress: true"}},
			checkDeployConcurrency, `job "prod": up of "prod" has cancel-in-progress "true"`},
		{"up without concurrency", goodDeploy,
			[][2]string{{"    concurrency:\n      group: up-dev\n      cancel-in-progress: false\n", ""}},
			checkDeployConcurrency, `job "dev": up of "dev" has no concurrency group`},
		{"one concurrency group for both stacks", goodDeploy,
			[][2]string{{"group: up-prod", "group: up-dev"}},
			checkDeployConcurrency, `job "prod": concurrency group "up-dev" does not name stack "prod"`},
		{"plan piped without pipefail", goodPullRequest,
			[][2]string{{"set -o pipefail\n", ""}},
			checkFailuresSurface, `the plan is piped without pipefail`},
		{"plan not in the job summary", goodPullRequest,
			[][2]string{{` | tee -a "$GITHUB_STEP_SUMMARY"`, ""}},
			checkFailuresSurface, `the plan's Markdown does not go to $GITHUB_STEP_SUMMARY`},
		{"preview continues on error", goodPullRequest,
			[][2]string{{"      - uses: pulumi/actions@v6.6.1\n", "      - uses: pulumi/actions@v6.6.1\n        continue-on-error: true\n"}},
			checkFailuresSurface, `continue-on-error hides a failing preview`},
		{"Go version hard-coded", goodDeploy,
			[][2]string{{"go-version-file: go.mod", "go-version: '1.22'"}},
			checkSetupGo, `Go version must come from go-version-file: go.mod`},
		{"Go cache off", goodDeploy,
			[][2]string{{"go-version-file: go.mod", "go-version-file: go.mod\n          cache: false"}},
			checkSetupGo, `module and build caching is off`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bad := tc.base
			for _, e := range tc.edits {
				require.Contains(t, bad, e[0], "case %q: edit target not found", tc.name)
				bad = strings.Replace(bad, e[0], e[1], 1)
			}
			wf, err := parseWorkflow([]byte(bad))
			require.NoError(t, err, "case %q: parsing the bad workflow", tc.name)
			findings := tc.check(wf, stacks)
			assert.True(t, slices.ContainsFunc(findings, func(f string) bool { return strings.Contains(f, tc.want) }),
				"case %q: want a finding containing %q, got %q", tc.name, tc.want, findings)
		})
	}

	// Every check is proven to fail by at least one case.
	t.Run("every check has a bad case", func(t *testing.T) {
		t.Parallel()
		proven := map[string]bool{}
		for _, tc := range tests {
			proven[fmt.Sprintf("%p", tc.check)] = true
		}
		for _, wc := range workflowChecks {
			assert.True(t, proven[fmt.Sprintf("%p", wc.fn)], "check %q has no bad workflow case", wc.name)
		}
	})
}
