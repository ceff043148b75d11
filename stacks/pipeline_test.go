package stacks_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/infra"
	"github.com/aiprod/aiprod-pubsub/offline"
	"github.com/aiprod/aiprod-pubsub/schemas"
	"github.com/aiprod/aiprod-pubsub/spec"
)

// The pipeline component, tested as infra's callers see it. Its tests live here rather than in
// infra/ so that they share this package's test binary: a binary of their own would link the
// whole GCP SDK once more.

func validArgs() infra.PipelineArgs {
	defs := map[spec.Contract]string{}
	all, err := schemas.Load(schemas.FS)
	if err != nil {
		panic(err)
	}
	for k, s := range all {
		defs[k] = s.Definition
	}
	return infra.PipelineArgs{
		Schemas:      defs,
		Pipeline:     "pipeline",
		Project:      "aiprod-test-000000",
		ServiceAgent: pulumi.String(spec.ServiceAgent("123456789012")),
		Environment:  "test",
		AppMember:    pulumi.String("serviceAccount:aiprod-sa@aiprod-test-000000.iam.gserviceaccount.com"),
		Settings:     spec.Defaults(),
	}
}

func runPipeline(args infra.PipelineArgs) (*offline.Result, error) {
	return offline.Run("aiprod-pubsub", "test", nil, func(ctx *pulumi.Context) (pulumi.Map, error) {
		p, err := infra.NewPipeline(ctx, args)
		if err != nil {
			return nil, err
		}
		out := pulumi.Map{}
		for k, v := range p.IDs() {
			out[k] = v
		}
		return out, nil
	})
}

// TestNewPipelineRejectsBadArgs: a caller of infra gets every problem before anything is
// registered, named after the argument's field.
func TestNewPipelineRejectsBadArgs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		edit func(a *infra.PipelineArgs)
		want string
	}{
		{"zero settings", func(a *infra.PipelineArgs) { a.Settings = spec.Settings{} }, `Subscriptions is "jobs"; every queue needs its subscription settings`},
		{"zero ack deadline", func(a *infra.PipelineArgs) {
			a.Settings.Subscriptions[spec.Jobs] = spec.Subscription{MessageRetentionSeconds: 600}
		}, "Subscriptions[jobs].AckDeadlineSeconds is 0; must be between 10 and 600"},
		{"no service agent", func(a *infra.PipelineArgs) { a.ServiceAgent = nil }, `ServiceAgent is ""; must be set`},
		{"bad project", func(a *infra.PipelineArgs) { a.Project = "P" }, `Project is "P"`},
		{"no app member", func(a *infra.PipelineArgs) { a.AppMember = nil }, "AppMember"},
		{"no environment", func(a *infra.PipelineArgs) { a.Environment = "" }, `Environment is ""`},
		{"standard label", func(a *infra.PipelineArgs) { a.Labels = map[string]string{"app": "x"} }, `Labels is "app=x"`},
		{"bad pipeline", func(a *infra.PipelineArgs) { a.Pipeline = "Big" }, `Pipeline is "Big"`},
		{"enforced schemas without definitions", func(a *infra.PipelineArgs) { a.Schemas = nil }, `Schemas is "job"; a definition is required when EnforceSchemas is true`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := validArgs()
			tc.edit(&args)
			res, err := runPipeline(args)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, res.Resources, "nothing is registered")
		})
	}
}

// TestNewPipelineOutputs: the component registers the ids of what it made.
func TestNewPipelineOutputs(t *testing.T) {
	t.Parallel()
	res, err := runPipeline(validArgs())
	require.NoError(t, err)
	assert.Equal(t, "projects/aiprod-test-000000/topics/aiprod-pipeline-dlq", res.Outputs["dlqTopic"])
	assert.Equal(t, "projects/aiprod-test-000000/subscriptions/aiprod-pipeline-jobs-sub", res.Outputs["jobsSubscription"])
	assert.Len(t, res.Outputs, 6)
}

// TestNewPipelineTypedChildren: the component hands its caller its topics and subscriptions by
// queue, typed, so a caller reads their properties (names, topics, settings) without parsing
// ids.
func TestNewPipelineTypedChildren(t *testing.T) {
	t.Parallel()
	args := validArgs()
	res, err := offline.Run("aiprod-pubsub", "test", nil, func(ctx *pulumi.Context) (pulumi.Map, error) {
		p, err := infra.NewPipeline(ctx, args)
		if err != nil {
			return nil, err
		}
		out := pulumi.Map{"topics": pulumi.Int(len(p.Topics)), "subscriptions": pulumi.Int(len(p.Subscriptions))}
		for _, q := range spec.Queues {
			out[string(q)+"/topic"] = p.Topics[q].Name
			out[string(q)+"/subscription"] = p.Subscriptions[q].Name
			out[string(q)+"/subscriptionTopic"] = p.Subscriptions[q].Topic
			out[string(q)+"/ordered"] = p.Subscriptions[q].EnableMessageOrdering.Elem()
		}
		return out, nil
	})
	require.NoError(t, err)
	assert.Equal(t, 3, res.Outputs["topics"])
	assert.Equal(t, 3, res.Outputs["subscriptions"])
	for _, q := range spec.Queues {
		t.Run(string(q), func(t *testing.T) {
			topic := spec.TopicName(args.Settings.NamePrefix, args.Pipeline, q)
			assert.Equal(t, topic, res.Outputs[string(q)+"/topic"])
			assert.Equal(t, spec.SubscriptionName(args.Settings.NamePrefix, args.Pipeline, q), res.Outputs[string(q)+"/subscription"])
			assert.Equal(t, spec.TopicID(args.Project, topic), res.Outputs[string(q)+"/subscriptionTopic"])
			ordered, ok := res.Outputs[string(q)+"/ordered"].(bool)
			require.True(t, ok, "enableMessageOrdering of %s is %#v", q, res.Outputs[string(q)+"/ordered"])
			assert.Equal(t, args.Settings.Subscriptions[q].Ordered, ordered)
		})
	}
}
