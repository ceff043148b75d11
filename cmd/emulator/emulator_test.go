package main

// The emulator package's tests: they serve the real stacks, which only a test binary that holds
// the program can render, and this command's binary holds it anyway.

import (
	"context"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/emulator"
	"github.com/aiprod/aiprod-pubsub/offline"
	"github.com/aiprod/aiprod-pubsub/spec"
	"github.com/aiprod/aiprod-pubsub/stacks"
)

// renderStack renders a stack of the repository's own files, with edit applied to its config,
// and returns the result and the stack's project.
func renderStack(t *testing.T, stack string, edit func(map[string]string)) (*offline.Result, string) {
	t.Helper()
	res, files, err := offline.Stack("../..", stack, edit)
	require.NoError(t, err)
	return res, files.Config.Values[stacks.ProjectKey]
}

// topology renders a stack and builds its topology, after break edits the rendered resources.
func topology(t *testing.T, stack string, edit func(map[string]string), breakIt func(*offline.Result)) *emulator.Topology {
	t.Helper()
	res, project := renderStack(t, stack, edit)
	if breakIt != nil {
		breakIt(res)
	}
	topo, err := emulator.FromResult(&res.Stack, project)
	require.NoError(t, err)
	return topo
}

func TestFromResult(t *testing.T) {
	t.Parallel()
	// Both stacks skip the alerts, the schemas and the grants; only dev creates the account,
	// only prod a notification channel; the dashboard is the stack's.
	common := []string{
		"gcp:monitoring/alertPolicy:AlertPolicy aiprod-pipeline-dead-letter-forward-failures-alert",
		"gcp:monitoring/alertPolicy:AlertPolicy aiprod-pipeline-dead-letters-alert",
		"gcp:monitoring/alertPolicy:AlertPolicy aiprod-pipeline-dlq-backlog-alert",
		"gcp:monitoring/alertPolicy:AlertPolicy aiprod-pipeline-publish-errors-alert",
		"gcp:monitoring/alertPolicy:AlertPolicy aiprod-pipeline-retention-alert",
		"gcp:monitoring/alertPolicy:AlertPolicy aiprod-pipeline-stalled-alert",
		"gcp:pubsub/schema:Schema aiprod-pipeline-jobs-schema",
		"gcp:pubsub/schema:Schema aiprod-pipeline-results-schema",
		"gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember aiprod-pipeline-jobs-sub-subscriber-agent",
		"gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember aiprod-pipeline-jobs-sub-subscriber-app",
		"gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember aiprod-pipeline-results-sub-subscriber-agent",
		"gcp:pubsub/topicIAMMember:TopicIAMMember aiprod-pipeline-dlq-publisher-agent",
		"gcp:pubsub/topicIAMMember:TopicIAMMember aiprod-pipeline-dlq-publisher-app",
		"gcp:pubsub/topicIAMMember:TopicIAMMember aiprod-pipeline-jobs-publisher-app",
		"gcp:pubsub/topicIAMMember:TopicIAMMember aiprod-pipeline-results-publisher-app",
	}
	tests := []struct {
		stack, project string
		skipped        []string
	}{
		{"dev", "aiprod-dev-000000", append(slices.Clone(common), "gcp:monitoring/dashboard:Dashboard aiprod-pubsub-dev-dashboard",
			"gcp:serviceaccount/account:Account aiprod-sa")},
		// prod references an existing account: nothing to skip for it.
		{"prod", "aiprod-prod-000000", append(slices.Clone(common), "gcp:monitoring/dashboard:Dashboard aiprod-pubsub-prod-dashboard",
			"gcp:monitoring/notificationChannel:NotificationChannel email-aiprod-oncall@example.com")},
	}
	for _, tc := range tests {
		t.Run(tc.stack, func(t *testing.T) {
			t.Parallel()
			topo := topology(t, tc.stack, nil, nil)
			assert.Equal(t, tc.project, topo.Project)
			full := func(kind, name string) string { return "projects/" + tc.project + "/" + kind + "/" + name }

			var topics []string
			for _, tp := range topo.Topics {
				topics = append(topics, tp.Name)
				assert.Equal(t, map[string]string{"app": "aiprod", "component": "pipeline", "env": tc.stack, "managed-by": "pulumi"}, tp.Labels, tp.Name)
			}
			assert.ElementsMatch(t, []string{full("topics", "aiprod-pipeline-jobs"), full("topics", "aiprod-pipeline-results"), full("topics", "aiprod-pipeline-dlq")}, topics)

			require.Len(t, topo.Pipelines, 1)
			p := topo.Pipelines[0]
			assert.Equal(t, "pipeline", p.Name)
			for _, q := range spec.Queues {
				assert.Equal(t, full("topics", "aiprod-pipeline-"+string(q)), p.Topics[q], q)
				assert.Equal(t, full("subscriptions", "aiprod-pipeline-"+string(q)+"-sub"), p.Subscriptions[q], q)
			}

			jobs := topo.Subscription(p.Subscriptions[spec.Jobs])
			require.NotNil(t, jobs)
			assert.Equal(t, full("topics", "aiprod-pipeline-jobs"), jobs.Topic)
			assert.EqualValues(t, 300, jobs.AckDeadlineSeconds)
			assert.True(t, jobs.EnableMessageOrdering)
			require.NotNil(t, jobs.DeadLetterPolicy)
			assert.Equal(t, full("topics", "aiprod-pipeline-dlq"), jobs.DeadLetterPolicy.DeadLetterTopic)
			assert.EqualValues(t, 5, jobs.DeadLetterPolicy.MaxDeliveryAttempts)
			assert.Equal(t, 7*24*time.Hour, jobs.MessageRetentionDuration.AsDuration())
			assert.Equal(t, 10*time.Second, jobs.RetryPolicy.MinimumBackoff.AsDuration())
			assert.Equal(t, 600*time.Second, jobs.RetryPolicy.MaximumBackoff.AsDuration())
			require.NotNil(t, jobs.ExpirationPolicy)
			assert.Nil(t, jobs.ExpirationPolicy.Ttl, "never expires")
			assert.Equal(t, "pulumi", jobs.Labels["managed-by"])

			dlq := topo.Subscription(p.Subscriptions[spec.DLQ])
			require.NotNil(t, dlq)
			assert.Nil(t, dlq.DeadLetterPolicy)
			assert.False(t, dlq.EnableMessageOrdering)
			assert.EqualValues(t, 60, dlq.AckDeadlineSeconds)

			var skipped []string
			for _, s := range topo.Skipped {
				skipped = append(skipped, s.Type+" "+s.Name)
				assert.NotEmpty(t, s.Reason, s.Name)
			}
			assert.Equal(t, tc.skipped, skipped)
			assert.Empty(t, topo.Notes)
		})
	}
}

// TestRetentionBeyondPstest: GCP keeps a subscription's messages up to 31 days, pstest up to 7;
// the emulator keeps 7 and says so rather than refusing the stack.
func TestRetentionBeyondPstest(t *testing.T) {
	t.Parallel()
	topo := topology(t, "dev", func(v map[string]string) { v["aiprod-pubsub:messageRetentionSeconds"] = "2678400" }, nil)
	jobs := topo.Subscription(topo.Pipelines[0].Subscriptions[spec.Jobs])
	assert.Equal(t, 7*24*time.Hour, jobs.MessageRetentionDuration.AsDuration())
	require.Len(t, topo.Notes, 2, "jobs and results")
	assert.Contains(t, topo.Notes[0], "2678400s")
	srv, err := emulator.Start(context.Background(), topo, "127.0.0.1:0")
	require.NoError(t, err)
	require.NoError(t, srv.Close())
}

// withoutInput deletes an input of the rendered subscription whose name ends with suffix.
func withoutInput(suffix, key string) func(*offline.Result) {
	return func(res *offline.Result) {
		for _, r := range res.Resources {
			if r.Type == spec.SubscriptionType && strings.HasSuffix(r.Name, suffix) {
				delete(r.Inputs, resource.PropertyKey(key))
			}
		}
	}
}

// rehearsalScenarios are the scenarios a rehearsal runs for a stack of one pipeline, in order.
var rehearsalScenarios = []string{"per-user ordering", "dead-lettering", "results flow",
	"poison job replayed from the dlq", "redelivery after the ack deadline"}

func TestRehearse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, stack string
		breakIt     func(*offline.Result)
		// failing lists the scenarios that must fail, with a fragment of their error.
		failing map[string]string
	}{
		{name: "dev", stack: "dev"},
		{name: "prod", stack: "prod"},
		{name: "jobs without dead-letter policy", stack: "dev", breakIt: withoutInput("-jobs-sub", "deadLetterPolicy"),
			failing: map[string]string{"dead-lettering": "delivered 6 times", "poison job replayed from the dlq": "delivered 6 times"}},
		{name: "jobs without ordering", stack: "dev", breakIt: withoutInput("-jobs-sub", "enableMessageOrdering"),
			failing: map[string]string{"per-user ordering": "published as"}},
	}
	// The rehearsals wait on the servers more than they compute: they run at once, each on a
	// server of its own, rather than two at a time as parallel subtests would.
	type run struct {
		outcomes []emulator.Outcome
		out      strings.Builder
		err      error
	}
	runs := make([]run, len(tests))
	var wg sync.WaitGroup
	for i, tc := range tests {
		topo := topology(t, tc.stack, nil, tc.breakIt)
		srv, err := emulator.Start(context.Background(), topo, "127.0.0.1:0")
		require.NoError(t, err)
		t.Cleanup(func() { srv.Close() })
		wg.Go(func() { runs[i].outcomes, runs[i].err = emulator.Rehearse(context.Background(), srv, &runs[i].out) })
	}
	wg.Wait()
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &runs[i]
			require.NoError(t, r.err)
			var ran []string
			for _, o := range r.outcomes {
				ran = append(ran, o.Scenario)
			}
			require.Equal(t, rehearsalScenarios, ran, r.out.String())
			for _, o := range r.outcomes {
				fragment, mustFail := tc.failing[o.Scenario]
				if !mustFail {
					assert.True(t, o.Passed(), "%s: %v", o.Scenario, o.Err)
					continue
				}
				if assert.False(t, o.Passed(), "%s passed on a broken topology", o.Scenario) {
					assert.Contains(t, o.Err.Error(), fragment)
				}
				assert.Less(t, o.Duration, 10*time.Second, "%s must fail fast", o.Scenario)
			}
			assert.Contains(t, r.out.String(), "PASS  results flow")
		})
	}
}

func TestCheckListen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8085", true},
		{"127.1.2.3:0", true},
		{"[::1]:8085", true},
		{"localhost:8085", true},
		{"LOCALHOST:1", true},
		{"0.0.0.0:8085", false},
		{"10.0.0.1:1", false},
		{"[::]:8085", false},
		{":8085", false},
		{"example.com:8085", false},
		{"127.0.0.1", false},
		{"127.0.0.1:http", false},
		{"127.0.0.1:70000", false},
	}
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			t.Parallel()
			err := emulator.CheckListen(tc.addr)
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.addr)
		})
	}
}

func TestStartRefuses(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	topo := topology(t, "dev", nil, nil)
	tests := []struct {
		name, addr, want string
	}{
		{"address in use", busy.Addr().String(), "the address is in use"},
		{"not loopback", "0.0.0.0:0", "only loopback addresses"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, err := emulator.Start(context.Background(), topo, tc.addr)
			if srv != nil {
				srv.Close()
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// TestServeToClient: what a developer's client sees is the declared topology.
func TestServeToClient(t *testing.T) {
	t.Parallel()
	topo := topology(t, "dev", nil, nil)
	srv, err := emulator.Start(context.Background(), topo, "127.0.0.1:0")
	require.NoError(t, err)
	defer srv.Close()
	ctx := context.Background()
	c, err := srv.Client(ctx)
	require.NoError(t, err)
	defer c.Close()
	for _, want := range topo.Subscriptions {
		got, err := c.SubscriptionAdminClient.GetSubscription(ctx, &pubsubpb.GetSubscriptionRequest{Subscription: want.Name})
		require.NoError(t, err, want.Name)
		assert.Equal(t, want.Topic, got.Topic, want.Name)
		assert.Equal(t, want.EnableMessageOrdering, got.EnableMessageOrdering, want.Name)
		assert.Equal(t, want.GetDeadLetterPolicy().GetMaxDeliveryAttempts(), got.GetDeadLetterPolicy().GetMaxDeliveryAttempts(), want.Name)
		assert.Equal(t, want.Labels, got.Labels, want.Name)
	}
}
