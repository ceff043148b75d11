package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/emulator"
	"github.com/aiprod/aiprod-pubsub/offline"
	"github.com/aiprod/aiprod-pubsub/pubsubconn"
	"github.com/aiprod/aiprod-pubsub/redrive"
	"github.com/aiprod/aiprod-pubsub/schemas"
	"github.com/aiprod/aiprod-pubsub/spec"
	"github.com/aiprod/aiprod-pubsub/stacks"
	"github.com/aiprod/aiprod-pubsub/testkit/pubsubtest"
)

// TestMain shortens what the command waits on the wall clock where the tests prove the same
// without it: the pause between empty pulls (their emulator answers at once) and the window
// in which a refused emulator may still start listening.
func TestMain(m *testing.M) {
	emptyBackoff = time.Millisecond
	pubsubconn.ProbeWindow = 500 * time.Millisecond
	os.Exit(m.Run())
}

// emu is an emulator of the dev stack, as `go run ./cmd/emulator --stack dev` serves it.
type emu struct {
	srv    *emulator.Server
	client *pubsub.Client
	p      redrive.Pipeline
}

// startEmulator starts the emulator of the dev stack, answering every pull at once
// (pubsubtest.AnswerAtOnce), so that the tests drain it without pstest's half second per empty
// pull.
func startEmulator(t *testing.T) *emu {
	t.Helper()
	return startEmulatorWith(t, pubsubtest.AnswerAtOnce)
}

// startServedEmulator starts it as `go run ./cmd/emulator` serves it, an empty pull waiting
// pstest's half second, for the tests of how the command spends its time.
func startServedEmulator(t *testing.T) *emu {
	t.Helper()
	return startEmulatorWith(t)
}

func startEmulatorWith(t *testing.T, reactors ...pstest.ServerReactorOption) *emu {
	t.Helper()
	res, files, err := offline.Stack("../..", "dev", nil)
	require.NoError(t, err)
	topo, err := emulator.FromResult(&res.Stack, files.Config.Values[stacks.ProjectKey])
	require.NoError(t, err)
	srv, err := emulator.Start(context.Background(), topo, "127.0.0.1:0", reactors...)
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	c, err := srv.Client(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return &emu{srv: srv, client: c, p: redrive.Pipeline(topo.Pipelines[0])}
}

// deadLetter publishes a dead letter to the dlq topic as Pub/Sub forwards one, with the source
// attributes the emulator does not add (source "" leaves them out). It returns the id.
func (e *emu) deadLetter(t *testing.T, source spec.Queue, key, data string, attrs map[string]string) string {
	t.Helper()
	all := map[string]string{}
	for k, v := range attrs {
		all[k] = v
	}
	if source != "" {
		all[redrive.SourceSubscriptionAttr] = e.p.Subscriptions[source]
		all["CloudPubSubDeadLetterSourceDeliveryCount"] = "5"
	}
	resp, err := e.client.TopicAdminClient.Publish(context.Background(), &pubsubpb.PublishRequest{Topic: e.p.Topics[spec.DLQ],
		Messages: []*pubsubpb.PubsubMessage{{Data: []byte(data), Attributes: all, OrderingKey: key}}})
	require.NoError(t, err)
	return resp.MessageIds[0]
}

// drain pulls and acks everything on queue q's subscription (pubsubtest.Drain) and returns
// how many messages it took.
func (e *emu) drain(t *testing.T, q spec.Queue) int {
	t.Helper()
	return len(pubsubtest.Drain(t, e.client.SubscriptionAdminClient, e.p.Subscriptions[q]))
}

// drainAll drains the three subscriptions at once, and returns how many each held.
func (e *emu) drainAll(t *testing.T) map[spec.Queue]int {
	t.Helper()
	var subs []string
	for _, q := range spec.Queues {
		subs = append(subs, e.p.Subscriptions[q])
	}
	got := pubsubtest.DrainAll(t, e.client.SubscriptionAdminClient, subs...)
	out := map[spec.Queue]int{}
	for _, q := range spec.Queues {
		out[q] = len(got[e.p.Subscriptions[q]])
	}
	return out
}

func (e *emu) env() func(string) string {
	return func(k string) string { return map[string]string{"PUBSUB_EMULATOR_HOST": e.srv.Addr}[k] }
}

func job(t *testing.T, id, user string) string {
	t.Helper()
	b, err := schemas.Encode(schemas.Job, schemas.JobMessage{JobID: id, UserID: user, Content: "c", Preset: "fast"})
	require.NoError(t, err)
	return string(b)
}

// runDLQ runs the command: the subcommand, then the flags every run needs, then args. One
// empty pull counts as drained unless args say otherwise (a later flag wins): the emulator
// answers a pull with all it holds, so one is proof here. TestReadmeWalkthrough runs the
// defaults.
func runDLQ(env func(string) string, cmd string, args ...string) (code int, stdout, stderr string) {
	var out, errOut strings.Builder
	all := append([]string{cmd, "--stack", "dev", "--project-dir", "../.."}, args...)
	if cmd != "poison" {
		all = append([]string{cmd, "--stack", "dev", "--project-dir", "../..", "--empty-pulls", "1"}, args...)
	}
	code = run(context.Background(), all, env, &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestInspect(t *testing.T) {
	t.Parallel()
	e := startEmulator(t)
	ids := []string{
		e.deadLetter(t, spec.Jobs, "u1", job(t, "j1", "u1"), map[string]string{"job_id": "j1"}),
		e.deadLetter(t, spec.Jobs, "u2", "not a job "+strings.Repeat("x", 200), nil),
		e.deadLetter(t, "", "", "from nowhere", nil),
	}
	for range 2 {
		code, stdout, stderr := runDLQ(e.env(), "inspect", "--page-size", "2")
		require.Equal(t, exitOK, code, stderr)
		for _, want := range []string{
			"on projects/aiprod-dev-000000/subscriptions/aiprod-pipeline-dlq-sub, through the emulator at " + e.srv.Addr,
			"count: 3\n", "oldest: ", "Nothing was consumed", "which has no dead-letter policy",
			"2 of 3, oldest first:", "- id " + ids[0] + ", published ", "- id " + ids[1],
			"CloudPubSubDeadLetterSourceSubscription=projects/aiprod-dev-000000/subscriptions/aiprod-pipeline-jobs-sub",
			"CloudPubSubDeadLetterSourceDeliveryCount=5", `ordering key: "u1"`,
			"conforms to the job contract", "does NOT conform to the job contract",
			`data:         "{\"job_id\":\"j1\"`, "... (210 bytes in all)",
		} {
			assert.Contains(t, stdout, want)
		}
		assert.NotContains(t, stdout, "from nowhere", "beyond the page")
	}
	assert.Equal(t, 3, e.drain(t, spec.DLQ), "inspect consumed nothing")
}

func TestReplay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		noSource   bool // add a dead letter without the source attribute
		code       int
		stdout     []string
		progress   string
		dlq, jobs  int // what is left on the dlq and arrives on jobs
		resultsArr int
	}{
		{name: "dry run", code: exitOK, stdout: []string{"dry run: nothing is published", "would replay", "summary: 3 would replay, 0 failed, 0 skipped, 0 left; 0 not selected",
			"aiprod-pipeline-results (ordering key \"\"; does NOT conform to the result contract, so a topic that enforces it will reject it)"}, dlq: 3},
		{name: "dry run with one to leave", noSource: true, code: exitOK,
			stdout: []string{"left ", "summary: 3 would replay, 0 failed, 0 skipped, 1 left", "with --yes, what is not marked"}, dlq: 4},
		{name: "replay", args: []string{"--yes"}, code: exitOK, stdout: []string{"replayed", "summary: 3 replayed, 0 failed, 0 skipped, 0 left"}, progress: "3/3 done: 3 replayed", jobs: 2, resultsArr: 1},
		{name: "no source", args: []string{"--yes"}, noSource: true, code: exitFailed,
			stdout: []string{"left", "carries no CloudPubSubDeadLetterSourceSubscription attribute", "summary: 3 replayed, 0 failed, 0 skipped, 1 left"}, dlq: 1, jobs: 2, resultsArr: 1},
		{name: "assumed source", args: []string{"--yes", "--assume-source", "jobs"}, noSource: true, code: exitOK,
			stdout: []string{"summary: 4 replayed"}, jobs: 3, resultsArr: 1},
		{name: "filter", args: []string{"--yes", "--attr", "job_id=j1", "--progress-every", "1"}, code: exitOK,
			stdout: []string{"selection: attribute job_id=j1", "summary: 1 replayed, 0 failed, 0 skipped, 0 left; 2 not selected"}, progress: "1/1 done", dlq: 2, jobs: 1},
		{name: "limit", args: []string{"--yes", "--limit", "2"}, code: exitOK,
			stdout: []string{"at most 2, oldest first", "summary: 2 replayed, 0 failed, 0 skipped, 0 left; 1 not selected"}, dlq: 1, jobs: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := startEmulator(t)
			e.deadLetter(t, spec.Jobs, "u1", job(t, "j1", "u1"), map[string]string{"job_id": "j1"})
			e.deadLetter(t, spec.Jobs, "u1", job(t, "j2", "u1"), map[string]string{"job_id": "j2"})
			e.deadLetter(t, spec.Results, "", `{"job_id":"j0"}`, map[string]string{"job_id": "j0"})
			if tc.noSource {
				e.deadLetter(t, "", "u9", job(t, "j9", "u9"), nil)
			}
			code, stdout, stderr := runDLQ(e.env(), "replay", tc.args...)
			assert.Equal(t, tc.code, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
			for _, w := range tc.stdout {
				assert.Contains(t, stdout, w)
			}
			assert.Contains(t, stderr, tc.progress)
			got := e.drainAll(t)
			assert.Equal(t, tc.dlq, got[spec.DLQ], "left in the dlq")
			assert.Equal(t, tc.jobs, got[spec.Jobs], "arrived on the jobs subscription")
			assert.Equal(t, tc.resultsArr, got[spec.Results], "arrived on the results subscription")
		})
	}
}

func TestPurge(t *testing.T) {
	t.Parallel()
	e := startEmulator(t)
	old := e.deadLetter(t, spec.Jobs, "u1", "old one", map[string]string{"batch": "old"})
	e.deadLetter(t, spec.Jobs, "u1", "new one", map[string]string{"batch": "new"})
	out := filepath.Join(t.TempDir(), "purged.jsonl")
	code, stdout, stderr := runDLQ(e.env(), "purge", "--attr", "batch=old", "--out", out, "--yes")
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Contains(t, stdout, "wrote 1 dead letter(s) to "+out+" and synced it before acknowledging them")
	assert.Contains(t, stdout, "summary: 1 purged, 0 failed, 0 skipped, 0 left; 1 not selected")
	f, err := os.Open(out)
	require.NoError(t, err)
	defer f.Close()
	var records []redrive.Record
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var r redrive.Record
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		records = append(records, r)
	}
	require.Len(t, records, 1)
	assert.Equal(t, old, records[0].ID)
	assert.Equal(t, "old one", string(records[0].Data))
	assert.Equal(t, "u1", records[0].OrderingKey)
	code, _, stderr = runDLQ(e.env(), "purge", "--attr", "batch=new", "--out", out, "--yes")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "file exists", "a purge never overwrites an earlier record")
	assert.Equal(t, 1, e.drain(t, spec.DLQ), "only the selected one is gone")
}

func TestUsage(t *testing.T) {
	t.Parallel()
	twoPipelines := filepath.Join(t.TempDir(), "Pulumi.dev.yaml")
	require.NoError(t, os.WriteFile(twoPipelines, []byte("config:\n  gcp:project: aiprod-dev-000000\n  aiprod-pubsub:pipelines:\n    - video\n    - audio\n"), 0o600))
	badConfig := filepath.Join(t.TempDir(), "Pulumi.dev.yaml")
	require.NoError(t, os.WriteFile(badConfig, []byte("config:\n  gcp:project: aiprod-dev-000000\n  aiprod-pubsub:maxDeliveryAttempts: 3\n"), 0o600))
	// No emulator: every case fails before reaching one.
	env := func(k string) string { return map[string]string{"PUBSUB_EMULATOR_HOST": "127.0.0.1:1"}[k] }
	tests := []struct {
		name   string
		args   []string
		code   int
		stderr string
	}{
		{"no subcommand", nil, exitUsage, "usage: dlq inspect"},
		{"unknown subcommand", []string{"drain"}, exitUsage, `unknown subcommand "drain"`},
		{"help", []string{"-h"}, exitOK, "usage: dlq"},
		{"subcommand help", []string{"replay", "-h"}, exitOK, "-older-than duration"},
		{"no stack", []string{"inspect"}, exitUsage, "--stack is required"},
		{"unknown flag", []string{"inspect", "--stack", "dev", "--yes"}, exitUsage, "flag provided but not defined: -yes"},
		{"bad attr", []string{"replay", "--stack", "dev", "--attr", "novalue"}, exitUsage, `want key=value, got "novalue"`},
		{"bad page size", []string{"inspect", "--stack", "dev", "--page-size", "0"}, exitUsage, "--page-size must be positive"},
		{"bad source", []string{"replay", "--stack", "dev", "--assume-source", "dlq"}, exitUsage, `want jobs or results, got "dlq"`},
		{"purge without filter", []string{"purge", "--stack", "dev", "--yes", "--out", "x"}, exitUsage, "needs a filter"},
		{"purge without yes", []string{"purge", "--stack", "dev", "--id", "m1", "--out", "x"}, exitUsage, "add --yes"},
		{"purge without out", []string{"purge", "--stack", "dev", "--id", "m1", "--yes"}, exitUsage, "needs --out"},
		{"extra argument", []string{"inspect", "--stack", "dev", "now"}, exitUsage, `unexpected arguments ["now"]`},
		{"unknown stack", []string{"inspect", "--stack", "staging", "--project-dir", "../.."}, exitUsage, `stack "staging" has no config file`},
		{"bad config", []string{"inspect", "--stack", "dev", "--project-dir", "../..", "--config", badConfig}, exitUsage, "maxDeliveryAttempts is 3"},
		{"several pipelines", []string{"inspect", "--stack", "dev", "--project-dir", "../..", "--config", twoPipelines}, exitUsage,
			`stack "dev" has 2 pipelines (audio, video): choose one with --pipeline`},
		{"unknown pipeline", []string{"inspect", "--stack", "dev", "--project-dir", "../..", "--pipeline", "video"}, exitUsage,
			`stack "dev" has no pipeline "video"; its pipelines: pipeline`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut strings.Builder
			code := run(context.Background(), tc.args, env, &out, &errOut)
			assert.Equal(t, tc.code, code, "stderr: %s", errOut.String())
			assert.Contains(t, errOut.String(), tc.stderr)
			assert.Empty(t, out.String())
		})
	}
}

// within runs f and fails the test when it has not returned after limit: a command that
// should fail fast or finish must not hang until the test binary's own timeout.
func within(t *testing.T, limit time.Duration, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(limit):
		t.Fatalf("still running after %s", limit)
	}
}

// TestUnreachable: with the emulator down, the command fails at once, long before --timeout,
// and says how to start it.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	env := func(k string) string { return map[string]string{"PUBSUB_EMULATOR_HOST": addr}[k] }
	var code int
	var stdout, stderr string
	within(t, 30*time.Second, func() { code, stdout, stderr = runDLQ(env, "replay", "--yes", "--timeout", "10m") })
	assert.Equal(t, exitFailed, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "nothing answers at PUBSUB_EMULATOR_HOST="+addr)
	assert.Contains(t, stderr, "connection refused")
	assert.Contains(t, stderr, "Start it with `go run ./cmd/emulator --stack dev`")
}
