package rules

import (
	"cmp"
	"slices"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/testkit"
)

// specNames are the policies the spec asks for, by their exact names.
var specNames = []string{
	"pubsub-ack-deadline", "pubsub-dead-letter", "pubsub-dead-letter-iam", "pubsub-message-ordering",
	"pubsub-no-expiration", "pubsub-dlq-retention", "iam-no-public-members", "iam-additive-only",
	"iam-pubsub-roles", "no-service-account-keys", "required-labels", "prod-protect", "pipeline-topology",
	"pubsub-topic-schema",
	"monitoring-dead-letter-alert",
	"storage-bucket-versioned-private", "iam-wif-repository", "iam-wif-principals-only", "iam-no-basic-roles",
	"iam-project-custom-roles",
}

func TestPack(t *testing.T) {
	t.Parallel()
	pack, err := newPack("dev")
	require.NoError(t, err)
	assert.Equal(t, "aiprod-pubsub", pack.Name())
	assert.Equal(t, "0.3.0", pack.Version().String())
	var names []string
	for _, p := range pack.Policies() {
		names = append(names, p.Name())
		assert.Equal(t, policyx.EnforcementLevelMandatory, p.EnforcementLevel(), p.Name())
		assert.NotEmpty(t, p.Description(), p.Name())
		_, stack := p.(policyx.StackValidationPolicy)
		assert.Equal(t, slices.Contains([]string{PolicyDeadLetterIAM, PolicyPipelineTopology, PolicyDeadLetterAlert}, p.Name()), stack, p.Name())
	}
	assert.Equal(t, specNames, names)
}

func TestConfigSchemas(t *testing.T) {
	t.Parallel()
	schemas := map[string]*policyx.ConfigSchema{}
	for _, p := range Policies("dev") {
		schemas[p.Name()] = p.ConfigSchema()
	}
	cases := []struct {
		policy, key string
		def         any
	}{
		{PolicyAckDeadline, "jobsAckDeadlineSeconds", 300.0},
		{PolicyAckDeadline, "resultsAckDeadlineSeconds", 60.0},
		{PolicyAckDeadline, "dlqAckDeadlineSeconds", 60.0},
		{PolicyDLQRetention, "minimumRetentionSeconds", 604800.0},
		{PolicyProdProtect, "productionStacks", []any{"prod"}},
		{PolicyProdProtect, "production", nil},
		{PolicyRequiredLabels, "labels", []any{"app", "env", "managed-by"}},
		{PolicyTopicSchema, "enforceSchemas", true},
		{PolicyWIFRepository, "githubRepository", nil},
		{PolicyDeadLetter, "deadLetterResults", true},
	}
	for _, tc := range cases {
		t.Run(tc.policy+"/"+tc.key, func(t *testing.T) {
			t.Parallel()
			s := schemas[tc.policy]
			require.NotNil(t, s)
			require.Contains(t, s.Properties, tc.key)
			assert.Equal(t, tc.def, s.Properties[tc.key]["default"])
		})
	}
}

func TestEvaluateAppliesConfigLikeTheEngine(t *testing.T) {
	t.Parallel()
	broken := func(t *testing.T) []policyx.AnalyzerResource {
		return testkit.Set(typeSubscription, jobsSub, 30, "ackDeadlineSeconds")(t, fixture("dev", stem))
	}
	cases := []struct {
		name      string
		config    map[string]policyx.PolicyConfig
		wantLevel string // "" when nothing is reported
	}{
		{"default is mandatory", nil, "mandatory"},
		{"advisory", map[string]policyx.PolicyConfig{PolicyAckDeadline: {EnforcementLevel: policyx.EnforcementLevelAdvisory}}, "advisory"},
		{"disabled", map[string]policyx.PolicyConfig{PolicyAckDeadline: {EnforcementLevel: policyx.EnforcementLevelDisabled}}, ""},
		{"other policy disabled", map[string]policyx.PolicyConfig{PolicyDeadLetter: {EnforcementLevel: policyx.EnforcementLevelDisabled}}, "mandatory"},
		{"property makes it pass", map[string]policyx.PolicyConfig{PolicyAckDeadline: {
			EnforcementLevel: policyx.EnforcementLevelMandatory, Properties: map[string]any{"jobsAckDeadlineSeconds": 30.0},
		}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vs, err := Evaluate("dev", broken(t), tc.config)
			require.NoError(t, err)
			if tc.wantLevel == "" {
				assert.Empty(t, vs)
				assert.False(t, Mandatory(vs))
				return
			}
			require.Len(t, vs, 1)
			assert.Equal(t, tc.wantLevel, vs[0].EnforcementLevel)
			assert.Equal(t, tc.wantLevel == "mandatory", Mandatory(vs))
			// The engine prefixes the finding with the policy's description.
			assert.Regexp(t, `^Subscriptions have an ack deadline .*\nsubscription "aiprod-pipeline-jobs-sub" has ackDeadlineSeconds 30;`, vs[0].Message)
		})
	}
}

func TestEvaluateRejectsBadConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		config map[string]policyx.PolicyConfig
		want   string
	}{
		{"unknown policy", map[string]policyx.PolicyConfig{"pubsub-ack-dedline": {}}, `"pubsub-ack-dedline"`},
		{"string deadline", map[string]policyx.PolicyConfig{PolicyAckDeadline: {
			EnforcementLevel: policyx.EnforcementLevelMandatory, Properties: map[string]any{"jobsAckDeadlineSeconds": "300"},
		}}, "jobsAckDeadlineSeconds"},
		{"deadline out of range", map[string]policyx.PolicyConfig{PolicyAckDeadline: {
			EnforcementLevel: policyx.EnforcementLevelMandatory, Properties: map[string]any{"jobsAckDeadlineSeconds": 900.0},
		}}, "between 10 and 600"},
		{"production not a bool", map[string]policyx.PolicyConfig{PolicyProdProtect: {
			EnforcementLevel: policyx.EnforcementLevelMandatory, Properties: map[string]any{"production": "yes"},
		}}, "production"},
		{"labels not strings", map[string]policyx.PolicyConfig{PolicyRequiredLabels: {
			EnforcementLevel: policyx.EnforcementLevelMandatory, Properties: map[string]any{"labels": []any{1.0}},
		}}, "labels"},
		{"repository not owner/name", map[string]policyx.PolicyConfig{PolicyWIFRepository: {
			EnforcementLevel: policyx.EnforcementLevelMandatory, Properties: map[string]any{"githubRepository": "aiprod"},
		}}, `config githubRepository is aiprod (string); must be an owner/name GitHub repository`},
		{"repository not a string", map[string]policyx.PolicyConfig{PolicyWIFRepository: {
			EnforcementLevel: policyx.EnforcementLevelMandatory, Properties: map[string]any{"githubRepository": 1.0},
		}}, "githubRepository"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// The foundation has a provider, which the repository's policy reads.
			_, err := Evaluate("dev", append(fixture("dev", stem), foundationFixture("dev")...), tc.config)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestEvaluateSortsViolations(t *testing.T) {
	t.Parallel()
	rs := fixture("prod", stem)
	for i := range rs {
		rs[i].Options.Protect = false
	}
	rs = testkit.Set(typeSubscription, jobsSub, 30, "ackDeadlineSeconds")(t, rs)
	vs, err := Evaluate("prod", rs, nil)
	require.NoError(t, err)
	require.Len(t, vs, 7)
	assert.True(t, slices.IsSortedFunc(vs, func(a, b Violation) int {
		if a.PolicyName != b.PolicyName {
			return cmp.Compare(a.PolicyName, b.PolicyName)
		}
		return cmp.Compare(a.URN, b.URN)
	}))
	assert.Equal(t, PolicyProdProtect, vs[0].PolicyName)
	assert.Equal(t, PolicyAckDeadline, vs[6].PolicyName)
}
