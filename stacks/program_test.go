package stacks_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/offline"
	"github.com/aiprod/aiprod-pubsub/spec"
	"github.com/aiprod/aiprod-pubsub/stacks"
)

// runProgram runs stacks.Program, the program as main.go runs it, with the stack's config in
// the run info only, as an Automation API inline program receives it.
func runProgram(t *testing.T, raw stacks.Raw) (*offline.Result, error) {
	t.Helper()
	return offline.Run("aiprod-pubsub", "dev", &raw, func(ctx *pulumi.Context) (pulumi.Map, error) {
		return pulumi.Map{}, stacks.Program(ctx)
	})
}

// TestProgramAsInlineProgram: with no config in the environment, the program reads it from the
// context and declares the same stack as the offline runner does.
func TestProgramAsInlineProgram(t *testing.T) {
	t.Setenv(pulumi.EnvConfig, "")
	t.Setenv(pulumi.EnvConfigSecretKeys, "")
	want, files, err := offline.Stack("..", "dev", nil)
	require.NoError(t, err)
	got, err := runProgram(t, files.Config)
	require.NoError(t, err, "gcp:project and the rest come from the context")
	require.Len(t, got.Resources, len(want.Resources))
	for i, r := range got.Resources {
		assert.Equal(t, want.Resources[i].URN, r.URN)
		assert.Equal(t, want.Resources[i].Inputs, r.Inputs, r.URN)
	}
	topic, err := got.ByName(spec.TopicType, "aiprod-pipeline-jobs")
	require.NoError(t, err)
	assert.Equal(t, "aiprod-dev-000000", topic.Inputs["project"].StringValue())
}

// TestProgramUnderLanguageHost: pulumi-language-go also hands the whole config in the
// environment; a key the program does not read is then an error, a namespace typo included.
func TestProgramUnderLanguageHost(t *testing.T) {
	t.Setenv(pulumi.EnvConfig, `{"gcp:project":"aiprod-dev-000000","aiprod-pubsb:maxDeliveryAttempts":"10"}`)
	t.Setenv(pulumi.EnvConfigSecretKeys, "")
	res, err := runProgram(t, stacks.Raw{Values: map[string]string{"gcp:project": "aiprod-dev-000000"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `aiprod-pubsb:maxDeliveryAttempts is "10"; not a key of a known namespace (aiprod-pubsub, gcp, pulumi) (did you mean aiprod-pubsub:maxDeliveryAttempts?)`)
	assert.Empty(t, res.Resources, "nothing is registered")
}

// TestCheckConfig: an Automation API program checks the whole config it holds before an up.
func TestCheckConfig(t *testing.T) {
	t.Parallel()
	values := map[string]string{"gcp:project": "aiprod-dev-000000", "pulumi:tags": "{}"}
	require.NoError(t, stacks.CheckConfig("dev", values, nil))
	values["aiprod-pubsub:maxDeliveryAttempt"] = "5"
	assert.ErrorContains(t, stacks.CheckConfig("dev", values, nil), "did you mean aiprod-pubsub:maxDeliveryAttempts?")
}
