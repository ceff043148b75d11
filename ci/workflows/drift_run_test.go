package workflows

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
)

// TestDriftJobRuns runs the real scripts of drift.yml's drift job, from the preview step to
// its last step, the way a runner does (bash --noprofile --norc -eo pipefail, the steps'
// env with their ${{ }} evaluated, step outputs through $GITHUB_OUTPUT, a failing step
// skipping the rest), with stub pulumi and gh commands, for each result of the preview: the
// static drift rules check the wiring, this checks what the scripts do. The steps before the
// preview (checkout, Go, the CLI, Google auth, the backend login) are not run. The stub gh
// answers `gh issue list` only for the --jq expression the workflow uses today, and says so
// when it changes.

// ghListJQ is the --jq expression of the workflow's `gh issue list`, whose output the stub
// prints: one "number<TAB>title" line per open issue.
const ghListJQ = `.[] | "\(.number)\t\(.title)"`

const stubPulumi = `#!/usr/bin/env bash
printf '%s\n' "$*" >> "$FAKE_DIR/pulumi.log"
cat "$FAKE_DIR/preview.out"
cat "$FAKE_DIR/preview.err" >&2
exit "$FAKE_PREVIEW_STATUS"
`

const stubGh = `#!/usr/bin/env bash
printf '%s\n' "$*" >> "$FAKE_DIR/gh.log"
prev=""
for a in "$@"; do
  if [ "$prev" = --body-file ]; then cp "$a" "$FAKE_DIR/body.md"; fi
  if [ "$prev" = --jq ] && [ "$a" != "$FAKE_GH_LIST_JQ" ]; then
    echo "stub gh: --jq $a is not the expression the stub emulates ($FAKE_GH_LIST_JQ); update TestDriftJobRuns" >&2
    exit 99
  fi
  prev=$a
done
if [ -n "${FAKE_GH_FAIL:-}" ]; then
  echo "HTTP 502: Bad Gateway" >&2
  exit 1
fi
if [ "$1 $2" = "issue list" ]; then
  cat "$FAKE_DIR/issues"
fi
`

type driftRun struct {
	name          string
	stack         string
	status        int    // the preview's exit status
	stdout        string // the preview's output
	stderr        string
	open          []string // the open drift issues, "number<TAB>title"
	ghFails       bool     // every gh call fails
	wantFailed    string   // the step that fails the job ("" when it passes)
	wantGh        []string // the gh calls, in order, each by its start
	wantBodyParts []string // what the issue body holds, when one is written
}

const (
	driftMessage = "error: no changes were expected but changes were proposed\n"
	driftDiff    = "Previewing update (dev):\n  ~ gcp:pubsub/subscription:Subscription aiprod-pipeline-jobs-sub update [diff: ~ackDeadlineSeconds]\n      ~ ackDeadlineSeconds: 300 => 60\nResources:\n    ~ 1 to update\n"
	runURL       = "https://github.com/aiprod/aiprod-pubsub/actions/runs/4242"
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
	{name: "gh failing on drift fails the job", stack: "dev", status: 7, stdout: driftDiff, ghFails: true,
		wantFailed: "Open, update or close the drift issue of ${{ matrix.stack }}",
		wantGh:     []string{"issue list"}},
	{name: "gh failing on a clean stack fails the job", stack: "dev", status: 0, ghFails: true,
		wantFailed: "Open, update or close the drift issue of ${{ matrix.stack }}",
		wantGh:     []string{"issue list"}},
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
				filepath.Join(bin, "pulumi"): stubPulumi, filepath.Join(bin, "gh"): stubGh,
				filepath.Join(dir, "preview.out"): tc.stdout, filepath.Join(dir, "preview.err"): tc.stderr,
				filepath.Join(dir, "issues"): issues,
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
			if tc.ghFails {
				base = append(base, "FAKE_GH_FAIL=1")
			}
			outputs := map[string]map[string]string{}
			failed := ""
			for i := start; i < len(d.Steps) && failed == ""; i++ {
				s := d.Steps[i]
				env := append([]string{}, base...)
				for _, e := range []*actionlint.Env{wf.Env, d.Env, s.Env} { // later scopes win
					env = append(env, evalEnv(t, e, tc.stack, outputs)...)
				}
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
			calls := readLines(t, filepath.Join(dir, "gh.log"))
			if len(calls) != len(tc.wantGh) {
				t.Errorf("gh ran %d times, want %d: %q", len(calls), len(tc.wantGh), calls)
			}
			for i, want := range tc.wantGh {
				if i < len(calls) && !strings.HasPrefix(calls[i], want) {
					t.Errorf("gh call %d is %q, want it to start with %q", i+1, calls[i], want)
				}
			}
			if previews := readLines(t, filepath.Join(dir, "pulumi.log")); len(previews) != 1 || !strings.Contains(previews[0], "--stack "+tc.stack+" ") {
				t.Errorf("pulumi ran as %q, want one preview of stack %s", previews, tc.stack)
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

// evalEnv evaluates an env's values as the runner would, for the expressions the drift job
// uses (matrix.stack, steps.<id>.outputs.<name>, github.token, github.repository, secrets.*,
// vars.*); any other expression fails the test. It returns NAME=value pairs.
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
