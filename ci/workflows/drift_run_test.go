package workflows

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
)

// TestDriftJobRuns runs the real scripts of drift.yml's drift job, from the preview step to
// its last step (the preview step looks for deploys of the stack before and after the
// preview), the way a runner does (bash --noprofile --norc -eo pipefail, the steps'
// env with their ${{ }} evaluated, step outputs through $GITHUB_OUTPUT, a failing step
// skipping the rest), with stub pulumi and gh commands, for each result of the preview and each way a deploy of
// the stack may overlap it: the
// static drift rules check the wiring, this checks what the scripts do. The steps before the
// preview (checkout, Go, the CLI, Google auth, the backend login) are not run. The stub gh
// answers `gh issue list` only for the --jq expression the workflow uses today, and says so
// when it changes.

// ghListJQ is the --jq expression of the workflow's `gh issue list`, whose output the stub
// prints: one "number<TAB>title" line per open issue.
const ghListJQ = `.[] | "\(.number)\t\(.title)"`

// emit is a stub's shell function that prints a file byte for byte, as cat does, with bash's
// builtins alone: the stubs run hundreds of times, and each process costs.
const emit = `emit() {
  local content=()
  mapfile -d '' content < "$1" || return
  printf '%s' "${content[@]}"
}
`

// nth is a stub's shell function that prints the file of its nth call: $FAKE_DIR/<name>.<n>,
// the last one again once there are no more.
const nth = emit + `nth() {
  local n count=0
  if [ -f "$FAKE_DIR/$1.count" ]; then read -r count < "$FAKE_DIR/$1.count"; fi
  n=$((count + 1))
  echo "$n" > "$FAKE_DIR/$1.count"
  while [ "$n" -gt 1 ] && [ ! -f "$FAKE_DIR/$1.$n" ]; do n=$((n - 1)); done
  emit "$FAKE_DIR/$1.$n"
}
`

const stubPulumi = `#!/usr/bin/env bash
printf '%s\n' "$*" >> "$FAKE_DIR/pulumi.log"
` + nth + `if [ "$1 $2" = "stack history" ]; then
  nth history
  exit 0
fi
emit "$FAKE_DIR/preview.out"
emit "$FAKE_DIR/preview.err" >&2
exit "$FAKE_PREVIEW_STATUS"
`

// stubSleep stands in for sleep(1): it records how long the script asked to wait and returns
// at once, so a scenario that waits for a deploy runs its polls without the wall clock.
const stubSleep = `#!/usr/bin/env bash
printf '%s\n' "$*" >> "$FAKE_DIR/sleep.log"
`

const stubGh = `#!/usr/bin/env bash
printf '%s\n' "$*" >> "$FAKE_DIR/gh.log"
` + nth + `prev=""
for a in "$@"; do
  if [ "$prev" = --body-file ]; then cp "$a" "$FAKE_DIR/body.md"; fi
  if [ "$prev" = --jq ] && [ "$a" != "$FAKE_GH_LIST_JQ" ]; then
    echo "stub gh: --jq $a is not the expression the stub emulates ($FAKE_GH_LIST_JQ); update TestDriftJobRuns" >&2
    exit 99
  fi
  prev=$a
done
if [ "$1" = "${FAKE_GH_FAIL:-}" ] || { [ "$1" = label ] && [ "${FAKE_GH_FAIL:-}" = issue ]; }; then
  echo "HTTP 502: Bad Gateway" >&2
  exit 1
fi
if [ "$1 $2" = "run list" ]; then
  nth runs
fi
if [ "$1 $2" = "run view" ]; then
  emit "$FAKE_DIR/run-$3.json"
fi
if [ "$1 $2" = "issue list" ]; then
  emit "$FAKE_DIR/issues"
fi
`

type driftRun struct {
	name          string
	stack         string
	status        int    // the preview's exit status
	stdout        string // the preview's output
	stderr        string
	open          []string // the open drift issues, "number<TAB>title"
	ghFails       string   // the gh calls that fail: issue (issues and labels), run
	runs          []string // what each gh run list of deploy.yml answers, in turn (the last again); none: []
	runJobs       map[int]string
	history       []string // what each pulumi stack history answers, in turn; default one update
	noPreview     bool     // the step never previews (it gave up waiting, or could not look)
	sleeps        int      // the polls the step waits out (sleep DEPLOY_POLL_SECONDS each)
	wantFailed    string   // the step that fails the job ("" when it passes)
	wantGh        []string // the gh calls to issues and labels, in order, each by its start
	wantSummary   string   // what the job summary says
	wantBodyParts []string // what the issue body holds, when one is written
}

const (
	driftMessage = "error: no changes were expected but changes were proposed\n"
	driftDiff    = "Previewing update (dev):\n  ~ gcp:pubsub/subscription:Subscription aiprod-pipeline-jobs-sub update [diff: ~ackDeadlineSeconds]\n      ~ ackDeadlineSeconds: 300 => 60\nResources:\n    ~ 1 to update\n"
	runURL       = "https://github.com/aiprod/aiprod-pubsub/actions/runs/4242"
)

// Deploy runs as gh run list and gh run view --json answer them.
const (
	noDeploys     = `[]`
	deployRunning = `[{"databaseId": 11, "status": "in_progress"}, {"databaseId": 9, "status": "completed"}]`
	deployQueued  = `[{"databaseId": 12, "status": "queued"}]`
	deployDone    = `[{"databaseId": 11, "status": "completed"}]`
	history5      = `[{"version": 5, "kind": "update", "startTime": "2026-12-01T10:00:00Z", "result": "succeeded"}]`
	history6      = `[{"version": 6, "kind": "update", "startTime": "2026-12-02T05:18:00Z", "result": "succeeded"}]`
)

// runJobs are the jobs of deploy runs 11 (dev deploying, or prod waiting for approval) and 12
// (queued: no jobs yet).
var (
	devDeploying = map[int]string{
		11: `{"jobs": [{"name": "pulumi up (dev)", "status": "in_progress"}, {"name": "review (prod)", "status": "pending"}, {"name": "pulumi up (prod)", "status": "pending"}]}`,
		12: `{"jobs": []}`}
	prodWaiting = map[int]string{
		11: `{"jobs": [{"name": "pulumi up (dev)", "status": "completed"}, {"name": "review (prod)", "status": "completed"}, {"name": "pulumi up (prod)", "status": "waiting"}]}`,
		12: `{"jobs": []}`}
)

var driftRuns = []driftRun{
	{name: "clean, no issue", stack: "dev", status: 0, stdout: "Resources:\n    12 unchanged\n",
		wantGh: []string{"issue list --state open --label drift"}},
	{name: "clean closes the open issue", stack: "dev", status: 0,
		open:   []string{"7\tDrift detected in stack prod", "12\tDrift detected in stack dev"},
		wantGh: []string{"issue list", "issue close 12 --comment Stack `dev` is clean again"}},
	{name: "clean leaves another stack's issue and a look-alike open", stack: "dev", status: 0,
		open:   []string{"7\tDrift detected in stack prod", "9\tDrift detected in stack dev-old"},
		wantGh: []string{"issue list"}},
	{name: "drift opens the issue", stack: "dev", status: 1, stdout: driftDiff, stderr: driftMessage,
		open:          []string{"7\tDrift detected in stack prod"},
		wantFailed:    "Gate on drift",
		wantGh:        []string{"issue list", "label create drift", "issue create --title Drift detected in stack dev --label drift --body-file issue.md"},
		wantBodyParts: []string{"stack `dev`", runURL, "ackDeadlineSeconds: 300 => 60", driftMessage}},
	{name: "drift by exit status 7 updates the open issue", stack: "prod", status: 7, stdout: driftDiff,
		open:          []string{"7\tDrift detected in stack prod"},
		wantFailed:    "Gate on drift",
		wantGh:        []string{"issue list", "issue edit 7 --body-file issue.md", "issue comment 7 --body Still drifting in " + runURL},
		wantBodyParts: []string{"stack `prod`", "policy/config/prod.json", "ackDeadlineSeconds: 300 => 60"}},
	{name: "drift by the message of another CLI version", stack: "dev", status: 1, stdout: driftDiff,
		stderr:     "error: no changes were expected for preview but changes were proposed\n",
		open:       []string{"12\tDrift detected in stack dev"},
		wantFailed: "Gate on drift",
		wantGh:     []string{"issue list", "issue edit 12 --body-file issue.md", "issue comment 12"}},
	{name: "a large drift is quoted in part", stack: "dev", status: 7, stdout: strings.Repeat(driftDiff, 2000),
		wantFailed:    "Gate on drift",
		wantGh:        []string{"issue list", "label create drift", "issue create"},
		wantBodyParts: []string{"bytes left out", "Previewing update (dev):", "~ 1 to update"}},
	{name: "a failed preview leaves the open issue alone", stack: "dev", status: 1,
		stderr:     "error: failed to load policy pack policy: exit status 1\n",
		open:       []string{"12\tDrift detected in stack dev"},
		wantFailed: "Gate on drift"},
	{name: "an engine crash is no drift", stack: "prod", status: 255,
		wantFailed: "Gate on drift"},
	{name: "a policy violation is no drift", stack: "prod", status: 5, stdout: "Policy Violations:\n    [mandatory]  aiprod-pubsub v1 no-public-topic\n",
		wantFailed: "Gate on drift"},
	{name: "gh failing on drift fails the job", stack: "dev", status: 7, stdout: driftDiff, ghFails: "issue",
		wantFailed: "Open, update or close the drift issue of ${{ matrix.stack }}",
		wantGh:     []string{"issue list"}},
	{name: "gh failing on a clean stack fails the job", stack: "dev", status: 0, ghFails: "issue",
		wantFailed: "Open, update or close the drift issue of ${{ matrix.stack }}",
		wantGh:     []string{"issue list"}},

	// A deploy of the stack that overlaps the check makes it inconclusive: no issue touched.
	{name: "a deploy of the stack running all along is inconclusive", stack: "dev", status: 7, stdout: driftDiff,
		runs: []string{deployRunning}, runJobs: devDeploying, noPreview: true, sleeps: 2,
		open:        []string{"12\tDrift detected in stack dev"},
		wantSummary: "inconclusive"},
	{name: "prod waiting for approval keeps prod's check inconclusive", stack: "prod", status: 0,
		runs: []string{deployRunning}, runJobs: prodWaiting, noPreview: true, sleeps: 2,
		open:        []string{"7\tDrift detected in stack prod"},
		wantSummary: "inconclusive"},
	{name: "prod waiting for approval does not hold dev's check", stack: "dev", status: 7, stdout: driftDiff,
		runs: []string{deployRunning}, runJobs: prodWaiting,
		wantFailed: "Gate on drift",
		wantGh:     []string{"issue list", "label create drift", "issue create --title Drift detected in stack dev"}},
	{name: "a deploy that finishes while the check waits", stack: "dev", status: 7, stdout: driftDiff,
		runs: []string{deployRunning, deployDone}, runJobs: devDeploying, sleeps: 1,
		wantFailed: "Gate on drift",
		wantGh:     []string{"issue list", "label create drift", "issue create"}},
	{name: "a deploy queued during the preview is inconclusive", stack: "prod", status: 7, stdout: driftDiff,
		runs: []string{noDeploys, deployQueued}, runJobs: devDeploying,
		open:        []string{"7\tDrift detected in stack prod"},
		wantSummary: "inconclusive"},
	{name: "a deploy that ran during the preview is inconclusive", stack: "dev", status: 7, stdout: driftDiff,
		history:     []string{history5, history6},
		wantSummary: "inconclusive"},
	{name: "a clean preview during a deploy closes no issue", stack: "dev", status: 0,
		history:     []string{history5, history6},
		open:        []string{"12\tDrift detected in stack dev"},
		wantSummary: "inconclusive"},
	{name: "deploys that cannot be listed fail the check", stack: "dev", status: 7, stdout: driftDiff, ghFails: "run", noPreview: true,
		open:       []string{"12\tDrift detected in stack dev"},
		wantFailed: "Gate on drift"},
}

func TestDriftJobRuns(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("the drift job's scripts run on Linux runners")
	}
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal("bash is not on PATH: the drift job's scripts cannot run")
	}
	wf := parseFile(t, filepath.Join(workflowDir, "drift.yml"))
	ds := driftJobs(wf)
	if len(ds) != 1 {
		t.Fatalf("drift.yml has %d drift jobs, want 1", len(ds))
	}
	d := ds[0]
	start, _ := d.preview()
	for i := start; i < len(d.Steps); i++ {
		s := d.Steps[i]
		if runScript(s) == "" || str(s.If) != "" {
			t.Fatalf("step %q: the run covers run: steps without if: only", stepLabel(s, i))
		}
	}
	for _, tc := range driftRuns {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			bin := filepath.Join(dir, "bin")
			work := filepath.Join(dir, "work")
			for _, p := range []string{bin, work} {
				if err := os.Mkdir(p, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			issues := ""
			if len(tc.open) > 0 {
				issues = strings.Join(tc.open, "\n") + "\n"
			}
			files := map[string]string{
				filepath.Join(bin, "pulumi"):      stub(bash, stubPulumi),
				filepath.Join(bin, "gh"):          stub(bash, stubGh),
				filepath.Join(bin, "sleep"):       stub(bash, stubSleep),
				filepath.Join(dir, "preview.out"): tc.stdout,
				filepath.Join(dir, "preview.err"): tc.stderr,
				filepath.Join(dir, "issues"):      issues,
			}
			for name, seq := range map[string][]string{"runs": orDefault(tc.runs, noDeploys), "history": orDefault(tc.history, history5)} {
				for i, v := range seq {
					files[filepath.Join(dir, fmt.Sprintf("%s.%d", name, i+1))] = v
				}
			}
			for id, v := range tc.runJobs {
				files[filepath.Join(dir, fmt.Sprintf("run-%d.json", id))] = v
			}
			for name, content := range files {
				if err := os.WriteFile(name, []byte(content), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			base := []string{
				"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
				"HOME=" + dir, "LC_ALL=C", "CI=true", "GITHUB_ACTIONS=true",
				"GITHUB_SERVER_URL=https://github.com", "GITHUB_REPOSITORY=aiprod/aiprod-pubsub", "GITHUB_RUN_ID=4242",
				"GITHUB_STEP_SUMMARY=" + filepath.Join(dir, "summary.md"),
				"FAKE_DIR=" + dir, fmt.Sprintf("FAKE_PREVIEW_STATUS=%d", tc.status), "FAKE_GH_LIST_JQ=" + ghListJQ,
			}
			if tc.ghFails != "" {
				base = append(base, "FAKE_GH_FAIL="+tc.ghFails)
			}
			outputs := map[string]map[string]string{}
			failed := ""
			for i := start; i < len(d.Steps) && failed == ""; i++ {
				s := d.Steps[i]
				env := append([]string{}, base...)
				for _, e := range []*actionlint.Env{wf.Env, d.Env, s.Env} { // later scopes win
					env = append(env, evalEnv(t, e, tc.stack, outputs)...)
				}
				// Wait for a deploy a second at a time, two seconds at most (of the stub's clock).
				env = append(env, "DEPLOY_WAIT_SECONDS=2", "DEPLOY_POLL_SECONDS=1")
				out := filepath.Join(dir, fmt.Sprintf("output-%d", i))
				script := filepath.Join(dir, fmt.Sprintf("step-%d.sh", i))
				if err := os.WriteFile(out, nil, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(script, []byte(runScript(s)), 0o644); err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command(bash, "--noprofile", "--norc", "-eo", "pipefail", script)
				cmd.Dir, cmd.Env = work, append(env, "GITHUB_OUTPUT="+out)
				log, err := cmd.CombinedOutput()
				t.Logf("step %q:\n%s", stepLabel(s, i), log)
				if id := str(s.ID); id != "" {
					outputs[id] = readOutputs(t, out)
				}
				if err != nil {
					if _, ok := err.(*exec.ExitError); !ok {
						t.Fatal(err)
					}
					failed = stepLabel(s, i)
				}
			}
			if failed != tc.wantFailed {
				switch {
				case tc.wantFailed == "":
					t.Errorf("step %q fails the job, want the job to pass", failed)
				case failed == "":
					t.Errorf("the job passes, want step %q to fail it", tc.wantFailed)
				default:
					t.Errorf("step %q fails the job, want step %q to", failed, tc.wantFailed)
				}
			}
			var calls []string
			for _, c := range readLines(t, filepath.Join(dir, "gh.log")) {
				if !strings.HasPrefix(c, "run ") {
					calls = append(calls, c)
				}
			}
			if len(calls) != len(tc.wantGh) {
				t.Errorf("gh ran %d times, want %d: %q", len(calls), len(tc.wantGh), calls)
			}
			for i, want := range tc.wantGh {
				if i < len(calls) && !strings.HasPrefix(calls[i], want) {
					t.Errorf("gh call %d is %q, want it to start with %q", i+1, calls[i], want)
				}
			}
			sleeps := readLines(t, filepath.Join(dir, "sleep.log"))
			if len(sleeps) != tc.sleeps || slices.ContainsFunc(sleeps, func(s string) bool { return s != "1" }) {
				t.Errorf("the step slept %q, want %d polls of DEPLOY_POLL_SECONDS (1)", sleeps, tc.sleeps)
			}
			var previews []string
			for _, c := range readLines(t, filepath.Join(dir, "pulumi.log")) {
				if strings.HasPrefix(c, "preview ") {
					previews = append(previews, c)
				}
			}
			switch {
			case tc.noPreview && len(previews) > 0:
				t.Errorf("pulumi ran as %q, want no preview", previews)
			case !tc.noPreview && (len(previews) != 1 || !strings.Contains(previews[0], "--stack "+tc.stack+" ")):
				t.Errorf("pulumi ran as %q, want one preview of stack %s", previews, tc.stack)
			}
			summary, _ := os.ReadFile(filepath.Join(dir, "summary.md"))
			if !strings.Contains(string(summary), tc.wantSummary) {
				t.Errorf("the job summary lacks %q:\n%s", tc.wantSummary, summary)
			}
			if len(tc.wantBodyParts) == 0 {
				return
			}
			body, err := os.ReadFile(filepath.Join(dir, "body.md"))
			if err != nil {
				t.Fatalf("no issue body was written: %v", err)
			}
			if n := len([]rune(string(body))); n > 65536 {
				t.Errorf("the issue body has %d characters; GitHub takes 65536 at most", n)
			}
			for _, part := range tc.wantBodyParts {
				if !strings.Contains(string(body), part) {
					t.Errorf("the issue body lacks %q:\n%.2000s", part, body)
				}
			}
		})
	}
}

var (
	exprRef        = regexp.MustCompile(`\$\{\{\s*(.*?)\s*\}\}`)
	stepOutputExpr = regexp.MustCompile(`^steps\.([\w-]+)\.outputs\.([\w-]+)$`)
)

// evalEnv evaluates an env's values as the runner would, for the expressions the drift and
// deploy jobs use (matrix.stack, steps.<id>.outputs.<name>, github.token, github.repository,
// github.sha, secrets.*, vars.*); any other expression fails the test. It returns NAME=value pairs.
func evalEnv(t *testing.T, e *actionlint.Env, stack string, outputs map[string]map[string]string) []string {
	t.Helper()
	if e == nil {
		return nil
	}
	if e.Expression != nil {
		t.Fatalf("env: %s: the run covers no env given as one expression", e.Expression.Value)
	}
	var out []string
	for _, v := range e.Vars {
		value := exprRef.ReplaceAllStringFunc(str(v.Value), func(ref string) string {
			expr := exprRef.FindStringSubmatch(ref)[1]
			switch {
			case expr == "matrix.stack":
				return stack
			case expr == "github.token":
				return "fake-token"
			case expr == "github.repository":
				return "aiprod/aiprod-pubsub"
			case expr == "github.sha":
				return pushedSHA
			case strings.HasPrefix(expr, "secrets."):
				return "fake-secret"
			case strings.HasPrefix(expr, "vars."):
				return "fake-var"
			}
			if m := stepOutputExpr.FindStringSubmatch(expr); m != nil {
				return outputs[m[1]][m[2]]
			}
			t.Fatalf("env %s: the run cannot evaluate ${{ %s }}", v.Name.Value, expr)
			return ""
		})
		out = append(out, v.Name.Value+"="+value)
	}
	return out
}

func readOutputs(t *testing.T, file string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, line := range readLines(t, file) {
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s: %q is not name=value (the run covers no multi-line outputs)", file, line)
		}
		out[k] = v
	}
	return out
}

func readLines(t *testing.T, file string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// orDefault is seq, or the one answer def when seq is empty.
// stub is a stub script that starts bash itself: `#!/usr/bin/env bash` would run env, which
// looks for bash in every PATH directory, on each of the stub's calls.
func stub(bash, script string) string {
	return strings.Replace(script, "#!/usr/bin/env bash\n", "#!"+bash+"\n", 1)
}

func orDefault(seq []string, def string) []string {
	if len(seq) == 0 {
		return []string{def}
	}
	return seq
}
