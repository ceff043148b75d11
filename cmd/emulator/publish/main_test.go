package main

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/aiprod/aiprod-pubsub/emulator"
	"github.com/aiprod/aiprod-pubsub/pubsubconn"
	"github.com/aiprod/aiprod-pubsub/spec"
	"github.com/aiprod/aiprod-pubsub/testkit/pubsubtest"
)

// TestMain shortens the window in which a refused emulator may still start listening, so that
// the tests of a down emulator do not spend pubsubconn's three seconds each.
func TestMain(m *testing.M) {
	pubsubconn.ProbeWindow = time.Second
	os.Exit(m.Run())
}

// startEmulator serves the dev pipeline's jobs and dlq queues as `go run ./cmd/emulator
// --stack dev` does (built here by hand: rendering the stack would link the whole GCP SDK into
// this test), and returns it with a client and the environment that names it.
func startEmulator(t *testing.T) (*emulator.Server, *pubsub.Client, func(string) string) {
	t.Helper()
	return startEmulatorAt(t, "127.0.0.1:0")
}

// startEmulatorAt is startEmulator listening on addr.
func startEmulatorAt(t *testing.T, addr string) (*emulator.Server, *pubsub.Client, func(string) string) {
	t.Helper()
	const project = "aiprod-dev-000000"
	name := func(q spec.Queue) string { return spec.TopicName("aiprod", "pipeline", q) }
	dlq := spec.TopicID(project, name(spec.DLQ))
	topo := &emulator.Topology{
		Project: project,
		Topics:  []*pubsubpb.Topic{{Name: spec.TopicID(project, name(spec.Jobs))}, {Name: dlq}},
		Subscriptions: []*pubsubpb.Subscription{
			{Name: spec.SubscriptionID(project, name(spec.Jobs)+"-sub"), Topic: spec.TopicID(project, name(spec.Jobs)),
				AckDeadlineSeconds: 300, EnableMessageOrdering: true,
				DeadLetterPolicy: &pubsubpb.DeadLetterPolicy{DeadLetterTopic: dlq, MaxDeliveryAttempts: 5}},
			{Name: spec.SubscriptionID(project, name(spec.DLQ)+"-sub"), Topic: dlq, AckDeadlineSeconds: 60},
		},
	}
	srv, err := emulator.Start(context.Background(), topo, addr)
	require.NoError(t, err)
	t.Cleanup(func() { srv.Close() })
	c, err := srv.Client(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	env := map[string]string{"PUBSUB_EMULATOR_HOST": srv.Addr, "PUBSUB_PROJECT_ID": topo.Project}
	return srv, c, func(k string) string { return env[k] }
}

const (
	jobsTopic = "projects/aiprod-dev-000000/topics/aiprod-pipeline-jobs"
	jobsSub   = "projects/aiprod-dev-000000/subscriptions/aiprod-pipeline-jobs-sub"
)

// TestPublish runs the README's publish command against an emulator of the dev stack.
func TestPublish(t *testing.T) {
	t.Parallel()
	_, _, env := startEmulator(t)
	tests := []struct {
		name   string
		args   []string
		env    func(string) string
		code   int
		stdout []string
		stderr string
	}{
		{"publish and receive", []string{"--user", "u1", "--content", "hello", "--receive", "--timeout", "20s"}, env, 0,
			[]string{"published job-", "to " + jobsTopic + ` (ordering key "u1")`, `"user_id":"u1"`, `"content":"hello"`,
				"a temporary subscription of its own (now deleted)", "waits on " + jobsSub + " for a worker"}, ""},
		{"publish only", []string{"--user", "u2"}, env, 0, []string{"published job-", "it waits on " + jobsSub + " for a worker"}, ""},
		{"no emulator", nil, func(string) string { return "" }, 2, nil, "set PUBSUB_EMULATOR_HOST"},
		{"wrong prefix", []string{"--prefix", "aiprod-other"}, env, 1, nil,
			`reading topic "projects/aiprod-dev-000000/topics/aiprod-other-jobs": the emulator at ` + env("PUBSUB_EMULATOR_HOST") +
				` (PUBSUB_EMULATOR_HOST) has no such resource; the name assumes --prefix "aiprod-other" and PUBSUB_PROJECT_ID=aiprod-dev-000000`},
		{"bad timeout", []string{"--timeout", "0s"}, env, 2, nil, "a positive --timeout"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut strings.Builder
			code := run(tc.args, tc.env, &out, &errOut)
			assert.Equal(t, tc.code, code, "stderr: %s", errOut.String())
			for _, w := range tc.stdout {
				assert.Contains(t, out.String(), w)
			}
			assert.Contains(t, errOut.String(), tc.stderr)
		})
	}
}

// TestEarlierJobOfTheSameUser: an earlier job of the user is still queued on the jobs
// subscription, ahead of the new one in its ordering key. --receive does not touch it: its
// delivery attempts stay where they were, so it comes no closer to being dead-lettered. The
// helper succeeds at once and says where the new job waits.
func TestEarlierJobOfTheSameUser(t *testing.T) {
	t.Parallel()
	_, c, env := startEmulator(t)
	ctx := context.Background()
	resp, err := c.TopicAdminClient.Publish(ctx, &pubsubpb.PublishRequest{Topic: jobsTopic,
		Messages: []*pubsubpb.PubsubMessage{{Data: []byte(`{"job_id":"earlier"}`), OrderingKey: "u1"}}})
	require.NoError(t, err)
	earlier := resp.MessageIds[0]

	var out, errOut strings.Builder
	code := run([]string{"--user", "u1", "--receive", "--timeout", "1m"}, env, &out, &errOut)
	assert.Equal(t, 0, code, "stderr: %s", errOut.String())
	assert.Contains(t, out.String(), "received and acked on projects/aiprod-dev-000000/subscriptions/aiprod-pipeline-jobs-receive-job-")
	assert.Contains(t, out.String(), `after any earlier job of user "u1" still queued there`)
	assert.Contains(t, out.String(), "does not receive from that shared subscription")

	// The earlier job is still first in line, on its first delivery: the helper never took it.
	first, err := c.SubscriptionAdminClient.Pull(ctx, &pubsubpb.PullRequest{Subscription: jobsSub, MaxMessages: 10})
	require.NoError(t, err)
	require.Len(t, first.ReceivedMessages, 1, "u1's jobs come one at a time")
	assert.Equal(t, earlier, first.ReceivedMessages[0].Message.MessageId)
	assert.EqualValues(t, 1, first.ReceivedMessages[0].DeliveryAttempt, "the helper used up none of its delivery attempts")

	subs := c.SubscriptionAdminClient.ListSubscriptions(ctx, &pubsubpb.ListSubscriptionsRequest{Project: "projects/aiprod-dev-000000"})
	for s, err := subs.Next(); err == nil; s, err = subs.Next() {
		assert.NotContains(t, s.Name, "-receive-", "the temporary subscription was deleted")
	}
}

// nobodyListening returns a loopback address that nothing listens on (yet), and the
// environment that names it as the emulator of the dev project.
func nobodyListening(t *testing.T) (string, func(string) string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr, func(k string) string {
		return map[string]string{"PUBSUB_EMULATOR_HOST": addr, "PUBSUB_PROJECT_ID": "aiprod-dev-000000"}[k]
	}
}

// TestEmulatorDown: with nothing listening at PUBSUB_EMULATOR_HOST, the helper fails at once,
// long before --timeout, and says how to start the emulator.
func TestEmulatorDown(t *testing.T) {
	t.Parallel()
	addr, env := nobodyListening(t)
	for _, args := range [][]string{{"--timeout", "10m"}, {"--timeout", "10m", "--receive"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			var out, errOut strings.Builder
			code := -1
			finished := make(chan struct{})
			go func() {
				defer close(finished)
				code = run(args, env, &out, &errOut)
			}()
			select {
			case <-finished:
			case <-time.After(30 * time.Second):
				t.Fatal("still trying after 30 s: a refused connection must fail at once, not at --timeout")
			}
			assert.Equal(t, 1, code)
			assert.Empty(t, out.String())
			assert.Contains(t, errOut.String(), "nothing answers at PUBSUB_EMULATOR_HOST="+addr)
			assert.Contains(t, errOut.String(), "connection refused")
			assert.Contains(t, errOut.String(), "Is the emulator running at PUBSUB_EMULATOR_HOST="+addr+"?")
			assert.Contains(t, errOut.String(), "Start it with `go run ./cmd/emulator --stack dev`")
		})
	}
}

// TestEmulatorStartingLate: an emulator started a moment before the command (`bin/emulator &`
// then publish at once) is given the probe window to listen, and the command goes through.
func TestEmulatorStartingLate(t *testing.T) {
	t.Parallel()
	addr, env := nobodyListening(t)
	var out, errOut strings.Builder
	code := -1
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		code = run([]string{"--user", "u1"}, env, &out, &errOut)
	}()
	time.Sleep(100 * time.Millisecond) // refused until now
	_, c, _ := startEmulatorAt(t, addr)
	<-finished
	require.Equal(t, 0, code, "stdout:\n%s\nstderr:\n%s", out.String(), errOut.String())
	msgs := pubsubtest.Drain(t, c.SubscriptionAdminClient, jobsSub)
	assert.Len(t, msgs, 1, "the job reached the late emulator")
}

// TestReceiveTimesOut: a job that never comes out fails the receive within --timeout, saying
// so, and the emulator is not blamed.
func TestReceiveTimesOut(t *testing.T) {
	t.Parallel()
	srv, c, _ := startEmulator(t)
	e := &emulatorAt{host: srv.Addr, project: "aiprod-dev-000000", prefix: "aiprod-pipeline", timeout: 200 * time.Millisecond}
	require.NoError(t, e.connect(context.Background(), "aiprod-pipeline-jobs"))
	defer e.close()
	own, err := e.createOwn(context.Background(), jobsTopic, "aiprod-pipeline-jobs-receive-test", "never-published")
	require.NoError(t, err)
	// Only the receive has the short --timeout: nothing is published, so it must run out.
	ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
	defer cancel()
	_, err = e.receiveOwn(ctx, own, "m-none")
	assert.ErrorIs(t, err, errNotArrived)
	assert.NotContains(t, err.Error(), "Is the emulator running")
	e.deleteOwn(ctx, own)
	_, err = c.SubscriptionAdminClient.GetSubscription(context.Background(), &pubsubpb.GetSubscriptionRequest{Subscription: own})
	assert.Equal(t, codes.NotFound, status.Code(err), "deleted even after the timeout")
}
