package workflows

import (
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/rhysd/actionlint"
)

// TestDeployJobsRun runs the real run: scripts of deploy.yml's jobs the way a runner does (as
// TestDriftJobRuns does), with stub pulumi, gh and plan binary, and real jq and diff: the
// steps that read go.mod or build with go are not run (the stub plan stands in for the built
// binary), nor are action steps (the reviewed artifact is laid where download-artifact puts
// it). The stub plan keeps the plan binary's contract (cmd/plan tests the real one): with
// --check-deployable it exits FAKE_DEPLOYABLE_STATUS; a review exits 1 when the preview loses
// FAKE_LOSS's messages and no --accept-loss FAKE_LOSS was given.

// pushedSHA is the commit the deploy runs for (github.sha).
const pushedSHA = "5f0c3e9a1b7d4c2e8f6a0b1c2d3e4f5a6b7c8d9e"

const stubDeployPulumi = `#!/usr/bin/env bash
printf '%s\n' "$*" >> "$FAKE_DIR/pulumi.log"
` + emit + `if [ "$1" = preview ]; then
  emit "$FAKE_DIR/preview.json"
  exit "$FAKE_PREVIEW_STATUS"
fi
`

const stubDeployGh = `#!/usr/bin/env bash
printf '%s\n' "$*" >> "$FAKE_DIR/gh.log"
` + emit + `if [ -n "${FAKE_GH_FAIL:-}" ]; then
  echo "HTTP 502: Bad Gateway" >&2
  exit 1
fi
if [ "$1 $2" = "api repos/$GH_REPO/commits/$SHA/pulls" ]; then
  emit "$FAKE_DIR/pulls.json"
  exit 0
fi
echo "stub gh: unexpected call: $*" >&2
exit 99
`

const stubPlan = `#!/usr/bin/env bash
printf '%s\n' "$*" >> "$FAKE_DIR/plan.log"
case " $* " in
  *" --check-deployable "*) exit "${FAKE_DEPLOYABLE_STATUS:-0}" ;;
esac
if [ -n "${FAKE_LOSS:-}" ]; then
  case " $* " in
    *" --accept-loss $FAKE_LOSS "*) echo "Review: the loss of $FAKE_LOSS's messages is accepted." ;;
    *) echo "Review: replacing $FAKE_LOSS drops its backlog; not accepted."; exit 1 ;;
  esac
else
  echo "Review: the change may go ahead."
fi
`

// Preview documents: steps as pulumi preview --json writes them.
const (
	urnJobs     = "urn:pulumi:prod::aiprod-pubsub::aiprod:messaging:Pipeline$gcp:pubsub/subscription:Subscription::aiprod-pipeline-jobs-sub"
	urnResults  = "urn:pulumi:prod::aiprod-pubsub::aiprod:messaging:Pipeline$gcp:pubsub/subscription:Subscription::aiprod-pipeline-results-sub"
	urnTopic    = "urn:pulumi:prod::aiprod-pubsub::aiprod:messaging:Pipeline$gcp:pubsub/topic:Topic::aiprod-pipeline-jobs"
	jobsUpdate  = `{"op": "update", "urn": "` + urnJobs + `", "diffReasons": ["ackDeadlineSeconds"]}`
	jobsReplace = `{"op": "replace", "urn": "` + urnJobs + `"}`
	topicSame   = `{"op": "same", "urn": "` + urnTopic + `"}`
	resultsUpd  = `{"op": "update", "urn": "` + urnResults + `"}`
)

func previewDoc(steps ...string) string {
	return `{"steps": [` + strings.Join(steps, ", ") + `], "changeSummary": {}}`
}

// pulls is what gh api repos/<repo>/commits/<sha>/pulls answers: one pull request.
func pulls(mergedAt, mergeSHA string, labels ...string) string {
	var ls []string
	for _, l := range labels {
		ls = append(ls, `{"name": "`+l+`"}`)
	}
	merged := "null"
	if mergedAt != "" {
		merged = `"` + mergedAt + `"`
	}
	return `[{"number": 42, "merged_at": ` + merged + `, "merge_commit_sha": "` + mergeSHA + `", "labels": [` + strings.Join(ls, ", ") + `]}]`
}

type deployRun struct {
	name, job     string
	preview       string // what this job's preview writes
	previewStatus int
	reviewed      string // the reviewed artifact's preview.json (prod)
	pulls         string // gh api's answer; "" a direct push: []
	loss          string // the topic or subscription the change drops messages of
	notDeployable bool
	ghFails       bool
	wantFailed    string // the step that fails the job ("" when it passes, up included)
	wantLog       string // what the failing step says
	wantSummary   string
}

const (
	lossName   = "aiprod-pipeline-jobs-sub"
	refuseStep = "Refuse a stack that is not deployable yet"
)

var deployRuns = []deployRun{
	// dev: preview, review with the merged pull request's labels, gate, up
	{name: "dev: no loss deploys", job: "dev", preview: previewDoc(jobsUpdate),
		pulls: pulls("2026-12-02T09:00:00Z", pushedSHA)},
	{name: "dev: an unaccepted loss stops before up", job: "dev", preview: previewDoc(jobsReplace), loss: lossName,
		pulls:      pulls("2026-12-02T09:00:00Z", pushedSHA, "ready"),
		wantFailed: "Gate on the preview and its review", wantLog: "its review with status '1'", wantSummary: "not accepted"},
	{name: "dev: the merged pull request's label accepts the loss", job: "dev", preview: previewDoc(jobsReplace), loss: lossName,
		pulls:       pulls("2026-12-02T09:00:00Z", pushedSHA, "ready", "accept-loss:"+lossName),
		wantSummary: "is accepted"},
	{name: "dev: a direct push accepts no loss", job: "dev", preview: previewDoc(jobsReplace), loss: lossName,
		wantFailed: "Gate on the preview and its review"},
	{name: "dev: the label of a pull request not merged as this commit accepts nothing", job: "dev", preview: previewDoc(jobsReplace), loss: lossName,
		pulls:      pulls("2026-12-01T09:00:00Z", "0000000000000000000000000000000000000000", "accept-loss:"+lossName),
		wantFailed: "Gate on the preview and its review"},
	{name: "dev: the label of an open pull request accepts nothing", job: "dev", preview: previewDoc(jobsReplace), loss: lossName,
		pulls:      pulls("", pushedSHA, "accept-loss:"+lossName),
		wantFailed: "Gate on the preview and its review"},
	{name: "dev: another loss's label accepts nothing", job: "dev", preview: previewDoc(jobsReplace), loss: lossName,
		pulls:      pulls("2026-12-02T09:00:00Z", pushedSHA, "accept-loss:aiprod-pipeline-results-sub"),
		wantFailed: "Gate on the preview and its review"},
	{name: "dev: a failed preview stops before up", job: "dev", preview: previewDoc(), previewStatus: 255,
		wantFailed: "Gate on the preview and its review", wantLog: "its preview exited with status '255'"},
	{name: "dev: gh failing stops before up", job: "dev", preview: previewDoc(jobsUpdate), ghFails: true,
		wantFailed: "Review the preview of dev"},
	{name: "dev: a stack not deployable yet", job: "dev", notDeployable: true,
		wantFailed: refuseStep, wantLog: "::error::stack dev is not deployable yet: Pulumi.dev.yaml sets aiprod-pubsub:deployable: false"},

	// prod: the review job, with no approval
	{name: "prod review: the review is the summary", job: "prod-review", preview: previewDoc(jobsUpdate),
		pulls: pulls("2026-12-02T09:00:00Z", pushedSHA), wantSummary: "Approving the prod deploy applies this change and no other"},
	{name: "prod review: an unaccepted loss fails the review", job: "prod-review", preview: previewDoc(jobsReplace), loss: lossName,
		wantFailed: "Gate on the preview and its review", wantSummary: "not accepted"},
	{name: "prod review: a stack not deployable yet", job: "prod-review", notDeployable: true,
		wantFailed: refuseStep, wantLog: "Pulumi.prod.yaml sets aiprod-pubsub:deployable: false"},

	// prod: the approved job applies only the reviewed change
	{name: "prod: the reviewed change, in another order and with other sames, is applied", job: "prod",
		reviewed: previewDoc(jobsUpdate, topicSame, resultsUpd), preview: previewDoc(resultsUpd, `{"op": "update", "urn": "`+urnJobs+`"}`)},
	{name: "prod: an update that became a replacement is refused", job: "prod",
		reviewed: previewDoc(jobsUpdate, topicSame), preview: previewDoc(jobsReplace, topicSame),
		wantFailed: "Refuse a change other than the reviewed one", wantLog: `"op":"replace"`},
	{name: "prod: a step more than reviewed is refused", job: "prod",
		reviewed: previewDoc(jobsUpdate), preview: previewDoc(jobsUpdate, resultsUpd),
		wantFailed: "Refuse a change other than the reviewed one", wantLog: "is no longer the one reviewed"},
	{name: "prod: a step less than reviewed is refused", job: "prod",
		reviewed: previewDoc(jobsUpdate, resultsUpd), preview: previewDoc(resultsUpd),
		wantFailed: "Refuse a change other than the reviewed one"},
	{name: "prod: a failed preview is refused", job: "prod",
		reviewed: previewDoc(jobsUpdate), preview: previewDoc(jobsUpdate), previewStatus: 1,
		wantFailed: "Refuse a change other than the reviewed one", wantLog: "its preview exited with status '1'"},
	{name: "prod: a stack not deployable yet", job: "prod", reviewed: previewDoc(jobsUpdate), notDeployable: true,
		wantFailed: refuseStep},
}

func TestDeployJobsRun(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("the deploy's scripts run on Linux runners")
	}
	for _, tool := range []string{"bash", "jq", "diff"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not on PATH: the deploy's scripts need it (.ci/run installs jq)", tool)
		}
	}
	bash, _ := exec.LookPath("bash")
	wf := parseFile(t, filepath.Join(workflowDir, "deploy.yml"))
	for _, tc := range deployRuns {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			j := wf.Jobs[tc.job]
			if j == nil {
				t.Fatalf("deploy.yml has no job %q", tc.job)
			}
			dir, work, env := layDeployRun(t, bash, tc)
			failed, log := runJob(t, wf, j, dir, work, env)
			if failed != tc.wantFailed {
				t.Errorf("step %q fails the job, want %q (\"\" the job passes)", failed, tc.wantFailed)
			}
			if !strings.Contains(log, tc.wantLog) {
				t.Errorf("the job's log lacks %q", tc.wantLog)
			}
			summary, _ := os.ReadFile(filepath.Join(dir, "summary.md"))
			if !strings.Contains(string(summary), tc.wantSummary) {
				t.Errorf("the job summary lacks %q:\n%s", tc.wantSummary, summary)
			}
			var ups []string
			for _, c := range readLines(t, filepath.Join(dir, "pulumi.log")) {
				if strings.HasPrefix(c, "up ") {
					ups = append(ups, c)
				}
			}
			stack := str(j.Env.Vars["stack"].Value)
			wantUp := fmt.Sprintf("up --stack %s --yes --diff --policy-pack policy --policy-pack-config policy/config/%s.json", stack, stack)
			switch {
			case tc.wantFailed == "" && (len(ups) != 1 || ups[0] != wantUp) && tc.job != "prod-review":
				t.Errorf("pulumi ran up as %q, want once: %q", ups, wantUp)
			case (tc.wantFailed != "" || tc.job == "prod-review") && len(ups) > 0:
				t.Errorf("pulumi ran up as %q, want never", ups)
			}
		})
	}
}

// runJob runs a job's run: steps in order, except those that run go (reading go.mod, building
// the plan binary), until one fails; it returns that step's label and the log of every step.
func runJob(t *testing.T, wf *actionlint.Workflow, j *actionlint.Job, dir, work string, base []string) (string, string) {
	t.Helper()
	outputs := map[string]map[string]string{}
	var log strings.Builder
	for i, s := range j.Steps {
		script := runScript(s)
		if script == "" || strings.HasPrefix(strings.TrimSpace(script), "go ") || strings.Contains(script, "$(go ") {
			continue
		}
		if str(s.If) != "" {
			t.Fatalf("step %q: the run covers steps without if: only", stepLabel(s, i))
		}
		env := append([]string{}, base...)
		for _, e := range []*actionlint.Env{wf.Env, j.Env, s.Env} {
			env = append(env, evalEnv(t, e, "", outputs)...)
		}
		out := filepath.Join(dir, fmt.Sprintf("output-%d", i))
		file := filepath.Join(dir, fmt.Sprintf("step-%d.sh", i))
		if err := os.WriteFile(out, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", file)
		cmd.Dir, cmd.Env = work, append(env, "GITHUB_OUTPUT="+out)
		b, err := cmd.CombinedOutput()
		fmt.Fprintf(&log, "step %q:\n%s\n", stepLabel(s, i), b)
		if id := str(s.ID); id != "" {
			outputs[id] = readOutputs(t, out)
		}
		if err != nil {
			if _, ok := err.(*exec.ExitError); !ok {
				t.Fatal(err)
			}
			t.Log(log.String())
			return stepLabel(s, i), log.String()
		}
	}
	t.Log(log.String())
	return "", log.String()
}

// layDeployRun lays a run's stubs and files in a temporary directory and returns it, the job's
// working directory and the environment of every step.
func layDeployRun(t *testing.T, bash string, tc deployRun) (dir, work string, env []string) {
	t.Helper()
	dir = t.TempDir()
	work = filepath.Join(dir, "work")
	files := map[string]string{
		filepath.Join(dir, "bin", "pulumi"): stub(bash, stubDeployPulumi), filepath.Join(dir, "bin", "gh"): stub(bash, stubDeployGh),
		filepath.Join(work, "bin", "plan"): stub(bash, stubPlan),
		filepath.Join(dir, "preview.json"): tc.preview, filepath.Join(dir, "pulls.json"): cmp.Or(tc.pulls, "[]"),
	}
	if tc.reviewed != "" {
		files[filepath.Join(work, "reviewed", "preview.json")] = tc.reviewed
	}
	for name, content := range files {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	env = []string{
		"PATH=" + filepath.Join(dir, "bin") + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + dir, "LC_ALL=C", "CI=true", "GITHUB_ACTIONS=true", "GITHUB_REPOSITORY=aiprod/aiprod-pubsub",
		"GITHUB_STEP_SUMMARY=" + filepath.Join(dir, "summary.md"),
		"FAKE_DIR=" + dir, fmt.Sprintf("FAKE_PREVIEW_STATUS=%d", tc.previewStatus), "FAKE_LOSS=" + tc.loss,
	}
	if tc.notDeployable {
		env = append(env, "FAKE_DEPLOYABLE_STATUS=1")
	}
	if tc.ghFails {
		env = append(env, "FAKE_GH_FAIL=1")
	}
	return dir, work, env
}
