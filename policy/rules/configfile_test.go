package rules

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/testkit"
)

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "policy-config.json")
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		content string
		want    map[string]policyx.PolicyConfig
		err     string
	}{
		{name: "properties keep the policy's own level",
			content: `{"pubsub-ack-deadline": {"jobsAckDeadlineSeconds": 120}}`,
			want: map[string]policyx.PolicyConfig{PolicyAckDeadline: {
				EnforcementLevel: policyx.EnforcementLevelMandatory, Properties: map[string]any{"jobsAckDeadlineSeconds": 120.0}}}},
		{name: "a level alone",
			content: `{"pubsub-dlq-retention": "advisory"}`,
			want:    map[string]policyx.PolicyConfig{PolicyDLQRetention: {EnforcementLevel: policyx.EnforcementLevelAdvisory}}},
		{name: "a level with properties",
			content: `{"prod-protect": {"enforcementLevel": "disabled", "production": true}}`,
			want: map[string]policyx.PolicyConfig{PolicyProdProtect: {
				EnforcementLevel: policyx.EnforcementLevelDisabled, Properties: map[string]any{"production": true}}}},
		{name: "a stack policy's level", content: `{"pipeline-topology": "advisory"}`,
			want: map[string]policyx.PolicyConfig{PolicyPipelineTopology: {EnforcementLevel: policyx.EnforcementLevelAdvisory}}},
		{name: "a stack policy's properties", content: `{"pipeline-topology": {"appServiceAccountId": "x"}}`,
			err: "pipeline-topology is a stack policy, which takes no config properties"},
		{name: "an unknown policy", content: `{"pubsub-ack-deadlines": "advisory"}`,
			err: `"pubsub-ack-deadlines" is not a policy of pack aiprod-pubsub`},
		{name: "an unknown property", content: `{"pubsub-ack-deadline": {"jobsAckDeadline": 120}}`,
			err: `pubsub-ack-deadline has no config property "jobsAckDeadline"`},
		{name: "a property of the wrong type", content: `{"pubsub-topic-schema": {"enforceSchemas": "no"}}`,
			err: "pubsub-topic-schema.enforceSchemas is no; must be of type boolean"},
		{name: "a repository", content: `{"iam-wif-repository": {"githubRepository": "aiprod/aiprod-pubsub"}}`,
			want: map[string]policyx.PolicyConfig{PolicyWIFRepository: {
				EnforcementLevel: policyx.EnforcementLevelMandatory, Properties: map[string]any{"githubRepository": "aiprod/aiprod-pubsub"}}}},
		{name: "an owner for a repository", content: `{"iam-wif-repository": {"githubRepository": "aiprod"}}`,
			err: `iam-wif-repository.githubRepository is "aiprod"; must match ^`},
		{name: "a repository with a wildcard", content: `{"iam-wif-repository": {"githubRepository": "aiprod/*"}}`,
			err: `iam-wif-repository.githubRepository is "aiprod/*"; must match`},
		{name: "a repository that is not a string", content: `{"iam-wif-repository": {"githubRepository": 1}}`,
			err: "iam-wif-repository.githubRepository is 1; must be of type string"},
		{name: "a wrong level", content: `{"prod-protect": "strict"}`,
			err: `prod-protect: enforcement level is "strict"; must be advisory, mandatory or disabled`},
		{name: "not JSON", content: `{`, err: "unexpected end of JSON input"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := LoadConfig(writeConfig(t, tc.content))
			if tc.err != "" {
				assert.ErrorContains(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestLoadConfigAll: "all" sets every policy's level, and a policy's own entry wins over it.
func TestLoadConfigAll(t *testing.T) {
	t.Parallel()
	got, err := LoadConfig(writeConfig(t, `{"all": "advisory", "prod-protect": "mandatory"}`))
	require.NoError(t, err)
	assert.Len(t, got, len(Policies("")))
	assert.Equal(t, policyx.EnforcementLevelAdvisory, got[PolicyAckDeadline].EnforcementLevel)
	assert.Equal(t, policyx.EnforcementLevelMandatory, got[PolicyProdProtect].EnforcementLevel)
}

// TestCheckedInConfigs: the stacks' policy config files load, and with them the fixture passes.
func TestCheckedInConfigs(t *testing.T) {
	t.Parallel()
	for _, stack := range []string{"dev", "prod"} {
		cfg, err := LoadConfig(filepath.Join("..", "config", stack+".json"))
		require.NoError(t, err, stack)
		vs, err := Evaluate(stack, fixture(stack, stem), cfg)
		require.NoError(t, err)
		assert.Empty(t, vs, stack)
	}
}

// TestCheckedInFoundationConfigs: the foundation's policy config files load, and pin the
// repository its providers admit.
func TestCheckedInFoundationConfigs(t *testing.T) {
	t.Parallel()
	for _, stack := range []string{"dev", "prod"} {
		cfg := foundationConfig(t, stack)
		assert.Equal(t, testRepository, cfg[PolicyWIFRepository].Properties["githubRepository"], stack)
		assert.Equal(t, stack == "prod", cfg[PolicyProdProtect].Properties["production"], stack)
	}
}

// TestStackPolicyLevel: a stack policy judges every stack alike (LoadConfig refuses properties
// for it); only its enforcement level can be configured.
func TestStackPolicyLevel(t *testing.T) {
	t.Parallel()
	rs := testkit.Apply(t, fixture("dev", stem), testkit.Drop(typeSubIAMMember, stem+"-jobs-sub-subscriber-app"))
	vs, err := Evaluate("dev", rs, map[string]policyx.PolicyConfig{PolicyPipelineTopology: {EnforcementLevel: policyx.EnforcementLevelAdvisory}})
	require.NoError(t, err)
	require.Len(t, vs, 1)
	assert.Equal(t, "advisory", vs[0].EnforcementLevel)
	assert.False(t, Mandatory(vs))
}
