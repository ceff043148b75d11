package infra_test

import (
	"fmt"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/infra"
	"github.com/aiprod/aiprod-pubsub/render"
	"github.com/aiprod/aiprod-pubsub/schemas"
	"github.com/aiprod/aiprod-pubsub/stacks"
)

func validArgs() infra.PipelineArgs {
	defs := map[schemas.Kind]string{}
	all, err := schemas.Load(schemas.FS)
	if err != nil {
		panic(err)
	}
	for k, s := range all {
		defs[k] = s.Definition
	}
	return infra.PipelineArgs{
		Schemas:       defs,
		Pipeline:      "pipeline",
		Project:       "aiprod-test-000000",
		ProjectNumber: "123456789012",
		Environment:   "test",
		AppMember:     pulumi.String("serviceAccount:aiprod-sa@aiprod-test-000000.iam.gserviceaccount.com"),
		Settings:      infra.DefaultSettings(),
	}
}

func runPipeline(args infra.PipelineArgs) (*render.Result, error) {
	raw := stacks.Raw{Values: map[string]string{}}
	return render.Run("aiprod-pubsub", "test", raw, func(ctx *pulumi.Context) (pulumi.Map, error) {
		p, err := infra.NewPipeline(ctx, args)
		if err != nil {
			return nil, err
		}
		out := pulumi.Map{}
		for k, v := range p.Outputs {
			out[k] = v
		}
		return out, nil
	})
}

// TestNewPipelineRejectsBadArgs: a caller of infra gets every problem before anything is
// registered, named after the argument.
func TestNewPipelineRejectsBadArgs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		edit func(a *infra.PipelineArgs)
		want string
	}{
		{"zero settings", func(a *infra.PipelineArgs) { a.Settings = infra.Settings{} }, "jobsAckDeadlineSeconds is 0"},
		{"no project number", func(a *infra.PipelineArgs) { a.ProjectNumber = "" }, `projectNumber is ""`},
		{"bad project", func(a *infra.PipelineArgs) { a.Project = "P" }, `project is "P"`},
		{"no app member", func(a *infra.PipelineArgs) { a.AppMember = nil }, "appMember"},
		{"no environment", func(a *infra.PipelineArgs) { a.Environment = "" }, `environment is ""`},
		{"standard label", func(a *infra.PipelineArgs) { a.Labels = map[string]string{"app": "x"} }, `labels is "app=x"`},
		{"bad pipeline", func(a *infra.PipelineArgs) { a.Pipeline = "Big" }, `pipelines is "Big"`},
		{"enforced schemas without definitions", func(a *infra.PipelineArgs) { a.Schemas = nil }, `schemas is "job"`},
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

func ExampleSubscriptionName() {
	for _, q := range infra.Queues {
		fmt.Println(infra.TopicName("aiprod", "pipeline", q), "->", infra.SubscriptionName("aiprod", "pipeline", q))
	}
	// Output:
	// aiprod-pipeline-jobs -> aiprod-pipeline-jobs-sub
	// aiprod-pipeline-results -> aiprod-pipeline-results-sub
	// aiprod-pipeline-dlq -> aiprod-pipeline-dlq-sub
}

func ExampleSettings_Validate() {
	s := infra.DefaultSettings()
	s.MaxDeliveryAttempts = 3
	s.RetryMinimumBackoffSeconds = 700
	fmt.Println(s.Validate())
	// Output:
	// maxDeliveryAttempts is 3; must be between 5 and 100
	// retryMinimumBackoffSeconds is 700; must be between 0 and 600
	// retryMinimumBackoffSeconds is 700; must not exceed retryMaximumBackoffSeconds (600)
}
