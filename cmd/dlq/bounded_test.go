package main

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/spec"
	"github.com/aiprod/aiprod-pubsub/testkit/pubsubtest"
)

// TestReforwardedOnTheEmulator: a job dead-lettered by the emulator itself keeps coming back
// to the dlq (pstest forwards it again every few milliseconds), so a pull is never empty.
// Inspect and replay notice the same message id and finish; the job is replayed once. The
// emulator answers pulls as the command serves them, waiting while it has nothing.
func TestReforwardedOnTheEmulator(t *testing.T) {
	t.Parallel()
	e := startServedEmulator(t)
	resp, err := e.client.TopicAdminClient.Publish(context.Background(), &pubsubpb.PublishRequest{Topic: e.p.Topics[spec.Jobs],
		Messages: []*pubsubpb.PubsubMessage{{Data: []byte(job(t, "j1", "u1")), Attributes: map[string]string{"job_id": "j1"}}}})
	require.NoError(t, err)
	id := resp.MessageIds[0]
	pubsubtest.NackUntilDeadLettered(t, e.client.SubscriptionAdminClient, e.p.Subscriptions[spec.Jobs], id, 5)

	var code int
	var stdout, stderr string
	within(t, time.Minute, func() { code, stdout, stderr = runDLQ(e.env(), "inspect", "--timeout", "45s") })
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Contains(t, stdout, "count: 1\n")
	assert.Contains(t, stdout, "- id "+id+", ")
	assert.Regexp(t, `duplicates: [1-9]\d* further deliveries`, stdout)

	within(t, time.Minute, func() {
		code, stdout, stderr = runDLQ(e.env(), "replay", "--yes", "--assume-source", "jobs", "--timeout", "45s")
	})
	require.Equal(t, exitOK, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Contains(t, stdout, "summary: 1 replayed, 0 failed, 0 skipped, 0 left; 0 not selected; ")
	assert.Contains(t, stdout, "duplicate deliveries of them acked with them")
	copies := pubsubtest.Drain(t, e.client.SubscriptionAdminClient, e.p.Subscriptions[spec.Jobs])
	require.Len(t, copies, 1, "replayed once")
	assert.NotEqual(t, id, copies[0].MessageId, "the copy, not the original")
}

// terminal is stdout and stderr written to one screen, as a terminal shows them.
type terminal struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *terminal) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// TestOneLinePerMessage: on a terminal, where stdout and stderr meet, each dead letter's fate
// shows in one line, and no line shows twice.
func TestOneLinePerMessage(t *testing.T) {
	t.Parallel()
	e := startEmulator(t)
	ids := []string{
		e.deadLetter(t, spec.Jobs, "u1", job(t, "j1", "u1"), nil),
		e.deadLetter(t, "", "u2", job(t, "j2", "u2"), nil),
		e.deadLetter(t, spec.Results, "", "not a result", nil),
	}
	var screen terminal
	args := []string{"replay", "--stack", "dev", "--project-dir", "../..", "--yes", "--progress-every", "1"}
	code := run(context.Background(), args, e.env(), &screen, &screen)
	out := screen.b.String()
	assert.Equal(t, exitFailed, code, out)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	seen := map[string]bool{}
	for _, l := range lines {
		assert.False(t, seen[l], "shown twice: %q\n%s", l, out)
		seen[l] = true
	}
	for _, id := range ids {
		word := regexp.MustCompile(`\b` + id + `\b`)
		n := 0
		for _, l := range lines {
			if word.MatchString(l) {
				n++
			}
		}
		assert.Equal(t, 1, n, "lines naming %s:\n%s", id, out)
	}
}

// TestTimeoutBoundsTheRun: --timeout bounds the whole command, not only reaching the dlq. Ten
// empty pulls take at least five seconds on the emulator, which answers an empty pull after
// half a second, so a 3 s --timeout runs out first, after one progress line.
func TestTimeoutBoundsTheRun(t *testing.T) {
	t.Parallel()
	e := startServedEmulator(t)
	e.deadLetter(t, spec.Jobs, "u1", job(t, "j1", "u1"), nil)
	var code int
	var stdout, stderr string
	within(t, time.Minute, func() {
		code, stdout, stderr = runDLQ(e.env(), "replay", "--yes", "--empty-pulls", "10", "--timeout", "3s")
	})
	assert.Equal(t, exitFailed, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	assert.Contains(t, stderr, "dlq: --timeout 3s ran out: what was not done stays in the dlq")
	assert.Contains(t, stderr, "pulled 1 dead letters so far", "progress while it pulled")
	assert.Equal(t, 1, e.drain(t, spec.DLQ), "nothing replayed, nothing lost")
	assert.Zero(t, e.drain(t, spec.Jobs))
}

// TestMissingSubscription: an emulator that serves another stack has no such subscription;
// the command names the one it looked for and the stack it took the name from.
func TestMissingSubscription(t *testing.T) {
	t.Parallel()
	e := startEmulator(t) // the dev stack
	code, stdout, stderr := runDLQ(e.env(), "inspect", "--stack", "prod")
	assert.Equal(t, exitFailed, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, fmt.Sprintf(`reading subscription "projects/aiprod-prod-000000/subscriptions/aiprod-pipeline-dlq-sub": `+
		`the emulator at %s (PUBSUB_EMULATOR_HOST) has no such resource; the name assumes stack prod (project aiprod-prod-000000, pipeline "pipeline")`, e.srv.Addr))
	assert.Contains(t, stderr, "Does the emulator serve that stack?")
}

// TestReplayRefusesOtherSubscriptions: a topic another subscription reads would give it the
// copy too; replay names it and leaves the dead letter, unless allowed.
func TestReplayRefusesOtherSubscriptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		allow     bool
		code      int
		stdout    string
		dlq, jobs int
	}{
		{false, exitFailed, "refused: projects/aiprod-dev-000000/topics/aiprod-pipeline-jobs also feeds " +
			"projects/aiprod-dev-000000/subscriptions/audit, and each of them would get the copies too", 1, 0},
		{true, exitOK, "note: projects/aiprod-dev-000000/topics/aiprod-pipeline-jobs also feeds " +
			"projects/aiprod-dev-000000/subscriptions/audit: each of them gets the copies too", 0, 1},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("allow %v", tc.allow), func(t *testing.T) {
			t.Parallel()
			e := startEmulator(t)
			audit := spec.SubscriptionID("aiprod-dev-000000", "audit")
			_, err := e.client.SubscriptionAdminClient.CreateSubscription(context.Background(), &pubsubpb.Subscription{Name: audit, Topic: e.p.Topics[spec.Jobs]})
			require.NoError(t, err)
			e.deadLetter(t, spec.Jobs, "u1", job(t, "j1", "u1"), nil)
			args := []string{"--yes"}
			if tc.allow {
				args = append(args, "--allow-other-subscriptions")
			}
			code, stdout, stderr := runDLQ(e.env(), "replay", args...)
			assert.Equal(t, tc.code, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
			assert.Contains(t, stdout, tc.stdout)
			got := e.drainAll(t)
			assert.Equal(t, tc.dlq, got[spec.DLQ], "left in the dlq")
			assert.Equal(t, tc.jobs, got[spec.Jobs], "arrived on the jobs subscription")
			assert.Len(t, pubsubtest.Drain(t, e.client.SubscriptionAdminClient, audit), tc.jobs, "arrived on the other subscription")
		})
	}
}

// TestPoisonOnlyOnTheEmulator: poison writes test dead letters, so without
// PUBSUB_EMULATOR_HOST it refuses before rendering the stack or reaching anything.
func TestPoisonOnlyOnTheEmulator(t *testing.T) {
	t.Parallel()
	var out, errOut strings.Builder
	code := run(context.Background(), []string{"poison", "--stack", "dev", "--project-dir", "../.."}, func(string) string { return "" }, &out, &errOut)
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, out.String())
	assert.Contains(t, errOut.String(), "dlq poison: it writes a test dead letter, so it works only against the emulator: set PUBSUB_EMULATOR_HOST")
}
