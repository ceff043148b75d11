package rules

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/testkit"
)

// TestUnknownValuesAreSkipped makes one value that a policy reads unknown, as during a preview,
// in both forms the engine uses, and expects no violation and no panic.
func TestUnknownValuesAreSkipped(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		policy string // the policy that reads the value
		stack  string
		typ    string
		res    string
		path   []string
	}{
		{"ack deadline", PolicyAckDeadline, "dev", typeSubscription, jobsSub, []string{"ackDeadlineSeconds"}},
		{"subscription name", PolicyAckDeadline, "dev", typeSubscription, jobsSub, []string{"name"}},
		{"dead-letter policy", PolicyDeadLetter, "dev", typeSubscription, jobsSub, []string{"deadLetterPolicy"}},
		{"dlq subscription's dead-letter policy", PolicyDeadLetter, "dev", typeSubscription, dlqSub, []string{"deadLetterPolicy"}},
		{"max delivery attempts", PolicyDeadLetter, "dev", typeSubscription, resultsSub, []string{"deadLetterPolicy", "maxDeliveryAttempts"}},
		{"dead-letter topic", PolicyDeadLetter, "dev", typeSubscription, resultsSub, []string{"deadLetterPolicy", "deadLetterTopic"}},
		{"own topic", PolicyDeadLetter, "dev", typeSubscription, jobsSub, []string{"topic"}},
		{"dead-letter topic in the stack", PolicyDeadLetterIAM, "prod", typeSubscription, jobsSub, []string{"deadLetterPolicy", "deadLetterTopic"}},
		{"dlq subscription's topic", PolicyDeadLetterIAM, "dev", typeSubscription, dlqSub, []string{"topic"}},
		{"agent's member", PolicyDeadLetterIAM, "dev", typeSubIAMMember, jobsSub + "-subscriber-agent", []string{"member"}},
		{"agent's role", PolicyDeadLetterIAM, "dev", typeTopicIAMMember, stem + "-dlq-publisher-agent", []string{"role"}},
		{"agent's subscription", PolicyDeadLetterIAM, "dev", typeSubIAMMember, resultsSub + "-subscriber-agent", []string{"subscription"}},
		{"agent's topic", PolicyDeadLetterIAM, "dev", typeTopicIAMMember, stem + "-dlq-publisher-agent", []string{"topic"}},
		{"ordering", PolicyMessageOrdering, "dev", typeSubscription, jobsSub, []string{"enableMessageOrdering"}},
		{"expiration policy", PolicyNoExpiration, "dev", typeSubscription, resultsSub, []string{"expirationPolicy"}},
		{"expiration ttl", PolicyNoExpiration, "dev", typeSubscription, resultsSub, []string{"expirationPolicy", "ttl"}},
		{"dlq retention", PolicyDLQRetention, "dev", typeSubscription, dlqSub, []string{"messageRetentionDuration"}},
		{"member", PolicyNoPublicMembers, "dev", typeTopicIAMMember, stem + "-jobs-publisher-app", []string{"member"}},
		{"role", PolicyPubSubRoles, "dev", typeSubIAMMember, jobsSub + "-subscriber-app", []string{"role"}},
		{"labels", PolicyRequiredLabels, "dev", typeTopic, stem + "-jobs", []string{"labels"}},
		{"one label", PolicyRequiredLabels, "dev", typeSubscription, dlqSub, []string{"labels", "env"}},
		{"topic name in prod", PolicyProdProtect, "prod", typeTopic, stem + "-results", []string{"name"}},
		{"subscription's topic", PolicyPipelineTopology, "dev", typeSubscription, resultsSub, []string{"topic"}},
		{"app's member", PolicyPipelineTopology, "dev", typeTopicIAMMember, stem + "-results-publisher-app", []string{"member"}},
		{"app's subscription", PolicyPipelineTopology, "prod", typeSubIAMMember, jobsSub + "-subscriber-app", []string{"subscription"}},
	}
	for _, tc := range cases {
		for form, unknown := range map[string]property.Value{"computed": computed, "sentinel": sentinel} {
			t.Run(tc.policy+"/"+tc.name+"/"+form, func(t *testing.T) {
				t.Parallel()
				rs := testkit.Set(tc.typ, tc.res, unknown, tc.path...)(t, fixture(tc.stack, stem))
				var vs []Violation
				require.NotPanics(t, func() {
					var err error
					vs, err = Evaluate(tc.stack, rs, nil)
					require.NoError(t, err)
				})
				assert.Empty(t, vs)
			})
		}
	}
}

// TestFoundationUnknownValuesAreSkipped: the same for the values the foundation's rules read.
func TestFoundationUnknownValuesAreSkipped(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, typ, res string
		path           []string
	}{
		{"versioning", typeBucket, stateBucket, []string{"versioning"}},
		{"versioning enabled", typeBucket, stateBucket, []string{"versioning", "enabled"}},
		{"public access prevention", typeBucket, stateBucket, []string{"publicAccessPrevention"}},
		{"uniform bucket-level access", typeBucket, stateBucket, []string{"uniformBucketLevelAccess"}},
		{"soft delete policy", typeBucket, stateBucket, []string{"softDeletePolicy"}},
		{"force destroy", typeBucket, stateBucket, []string{"forceDestroy"}},
		{"bucket labels", typeBucket, stateBucket, []string{"labels"}},
		{"attribute condition", typeProvider, githubProvider, []string{"attributeCondition"}},
		{"oidc", typeProvider, githubProvider, []string{"oidc"}},
		{"issuer", typeProvider, githubProvider, []string{"oidc", "issuerUri"}},
		{"jwks", typeProvider, githubProvider, []string{"oidc", "jwksJson"}},
		{"project grant's role", typeProjectIAM, previewGrant, []string{"role"}},
		{"project grant's member", typeProjectIAM, deployerGrant, []string{"member"}},
		{"project grant's project", typeProjectIAM, deployerGrant, []string{"project"}},
		{"impersonation member", typeSAIAM, deployerWIF, []string{"member"}},
		{"impersonation role", typeSAIAM, previewWIF, []string{"role"}},
		{"impersonated account", typeSAIAM, deployerWIF, []string{"serviceAccountId"}},
	}
	for _, tc := range cases {
		for form, unknown := range map[string]property.Value{"computed": computed, "sentinel": sentinel} {
			t.Run(tc.name+"/"+form, func(t *testing.T) {
				t.Parallel()
				rs := testkit.Set(tc.typ, tc.res, unknown, tc.path...)(t, foundationFixture("dev"))
				vs, err := Evaluate("dev", rs, foundationConfig(t, "dev"))
				require.NoError(t, err)
				assert.Empty(t, vs)
			})
		}
	}
	// The attribute a condition pins, mapped from a value not known yet.
	rs := testkit.Apply(t, foundationFixture("dev"),
		testkit.Set(typeProvider, githubProvider, "attribute.repository == '"+testRepository+"'", "attributeCondition"),
		testkit.Set(typeProvider, githubProvider, computed, "attributeMapping"))
	vs, err := Evaluate("dev", rs, foundationConfig(t, "dev"))
	require.NoError(t, err)
	assert.Empty(t, vs)
}

// TestUnknownTopicResolvesThroughDependencies gives subscriptions unknown topic ids, as a first
// preview does, with the dependency on the topic resource the engine sends along: the stack
// policies still see where each subscription is attached.
func TestUnknownTopicResolvesThroughDependencies(t *testing.T) {
	t.Parallel()
	unknownTopic := func(sub, topic string) testkit.Change {
		return func(t testing.TB, rs []policyx.AnalyzerResource) []policyx.AnalyzerResource {
			return testkit.Apply(t, rs, testkit.Set(typeSubscription, sub, computed, "topic"),
				testkit.Edit(typeSubscription, sub, func(r *policyx.AnalyzerResource) {
					r.PropertyDependencies = map[string][]string{"topic": {testURN("dev", typeTopic, topic)}}
				}))
		}
	}
	t.Run("attached right", func(t *testing.T) {
		t.Parallel()
		rs := fixture("dev", stem)
		for _, q := range queueRoles {
			rs = unknownTopic(stem+"-"+q+"-sub", stem+"-"+q)(t, rs)
		}
		vs, err := Evaluate("dev", rs, nil)
		require.NoError(t, err)
		assert.Empty(t, vs)
	})
	t.Run("attached wrong", func(t *testing.T) {
		t.Parallel()
		rs := unknownTopic(resultsSub, stem+"-jobs")(t, fixture("dev", stem))
		vs, err := Evaluate("dev", rs, nil)
		require.NoError(t, err)
		require.NotEmpty(t, vs)
		for _, v := range vs {
			assert.Equal(t, PolicyPipelineTopology, v.PolicyName)
		}
		assert.Contains(t, vs[0].Message, `subscription "aiprod-pipeline-results-sub"`)
	})
	t.Run("dlq topic's subscription found", func(t *testing.T) {
		t.Parallel()
		// Without the dependency the dlq subscription's topic is unknown and the check skipped;
		// with it, dropping the agent's grant is still found.
		rs := unknownTopic(dlqSub, stem+"-dlq")(t, fixture("dev", stem))
		rs = testkit.Drop(typeTopicIAMMember, stem+"-dlq-publisher-agent")(t, rs)
		vs, err := Evaluate("dev", rs, nil)
		require.NoError(t, err)
		require.Len(t, vs, 2)
		assert.Equal(t, PolicyDeadLetterIAM, vs[0].PolicyName)
	})
}

// TestUnknownServiceAgent: offline, the service agent's project number is known only at
// deploy. Its grants may be the ones a check misses, but only on their own target and role:
// the application's grants elsewhere are still checked.
func TestUnknownServiceAgent(t *testing.T) {
	t.Parallel()
	agentUnknown := []testkit.Change{
		testkit.Set(typeTopicIAMMember, stem+"-dlq-publisher-agent", computed, "member"),
		testkit.Set(typeSubIAMMember, stem+"-jobs-sub-subscriber-agent", computed, "member"),
		testkit.Set(typeSubIAMMember, stem+"-results-sub-subscriber-agent", computed, "member"),
	}
	vs, err := Evaluate("dev", testkit.Apply(t, fixture("dev", stem), agentUnknown...), nil)
	require.NoError(t, err)
	assert.Empty(t, vs)

	rs := testkit.Apply(t, fixture("dev", stem), append(agentUnknown, testkit.Drop(typeTopicIAMMember, stem+"-results-publisher-app"))...)
	vs, err = Evaluate("dev", rs, nil)
	require.NoError(t, err)
	require.Len(t, vs, 1)
	assert.Equal(t, PolicyPipelineTopology, vs[0].PolicyName)
	assert.Contains(t, vs[0].Message, `has no roles/pubsub.publisher on topic "aiprod-pipeline-results"`)
}
