package stacks_test

import (
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/offline"
	"github.com/aiprod/aiprod-pubsub/plan"
	"github.com/aiprod/aiprod-pubsub/policy/rules"
	"github.com/aiprod/aiprod-pubsub/spec"
	"github.com/aiprod/aiprod-pubsub/stacks"
	"github.com/aiprod/aiprod-pubsub/testkit"
)

const (
	typeTopic        = spec.TopicType
	typeSubscription = spec.SubscriptionType
	typeTopicIAM     = spec.TopicIAMMemberType
	typeSubIAM       = spec.SubscriptionIAMMemberType
)

// analyzed runs the real program for a stack and returns its resources as the pack sees them.
func analyzed(t *testing.T, stack string) []policyx.AnalyzerResource {
	t.Helper()
	r, _, err := offline.Stack("..", stack, nil)
	require.NoError(t, err)
	return plan.Analyzed(r.Resources...)
}

// firing is the set of policy names with a mandatory violation.
func firing(t *testing.T, stack string, resources []policyx.AnalyzerResource) []string {
	t.Helper()
	vs, err := rules.Evaluate(stack, resources, nil)
	require.NoError(t, err)
	var names []string
	for _, v := range vs {
		if v.EnforcementLevel == "mandatory" && !slices.Contains(names, v.PolicyName) {
			names = append(names, v.PolicyName)
		}
		t.Logf("%s %s: %s", v.PolicyName, v.URN, v.Message)
	}
	slices.Sort(names)
	return names
}

func TestPackPassesTheRealStacks(t *testing.T) {
	t.Parallel()
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			vs, err := rules.Evaluate(stack, analyzed(t, stack), nil)
			require.NoError(t, err)
			assert.Empty(t, vs)
			assert.False(t, rules.Mandatory(vs))
		})
	}
}

func TestBreakingOneSpecPropertyFiresItsPolicy(t *testing.T) {
	t.Parallel()
	const (
		jobsSub    = "aiprod-pipeline-jobs-sub"
		resultsSub = "aiprod-pipeline-results-sub"
		dlqSub     = "aiprod-pipeline-dlq-sub"
	)
	cases := []struct {
		name   string
		stack  string
		mutate testkit.Change
		want   []string
	}{
		{"jobs ack deadline 30", "dev", testkit.Set(typeSubscription, jobsSub, property.New(30.0), "ackDeadlineSeconds"),
			[]string{rules.PolicyAckDeadline}},
		{"results ack deadline 300", "dev", testkit.Set(typeSubscription, resultsSub, property.New(300.0), "ackDeadlineSeconds"),
			[]string{rules.PolicyAckDeadline}},
		{"dlq ack deadline 700", "prod", testkit.Set(typeSubscription, dlqSub, property.New(700.0), "ackDeadlineSeconds"),
			[]string{rules.PolicyAckDeadline}},
		{"jobs topic without a schema", "dev", testkit.Set(typeTopic, "aiprod-pipeline-jobs", nil, "schemaSettings"),
			[]string{rules.PolicyTopicSchema}},
		{"results topic with binary encoding", "prod", testkit.Set(typeTopic, "aiprod-pipeline-results", property.New("BINARY"), "schemaSettings", "encoding"),
			[]string{rules.PolicyTopicSchema}},
		{"jobs ordering off", "dev", testkit.Set(typeSubscription, jobsSub, property.New(false), "enableMessageOrdering"),
			[]string{rules.PolicyMessageOrdering}},
		{"jobs ordering unset", "prod", testkit.Set(typeSubscription, jobsSub, nil, "enableMessageOrdering"),
			[]string{rules.PolicyMessageOrdering}},
		{"max delivery attempts 3", "dev", testkit.Set(typeSubscription, jobsSub, property.New(3.0), "deadLetterPolicy", "maxDeliveryAttempts"),
			[]string{rules.PolicyDeadLetter}},
		{"dead-letter topic as a short name", "dev", testkit.Set(typeSubscription, resultsSub, property.New("aiprod-pipeline-dlq"), "deadLetterPolicy", "deadLetterTopic"),
			[]string{rules.PolicyDeadLetter}},
		{"results without dead-letter policy", "dev", testkit.Set(typeSubscription, resultsSub, nil, "deadLetterPolicy"),
			[]string{rules.PolicyDeadLetter}},
		{"dlq subscription dead-letters", "dev", testkit.Set(typeSubscription, dlqSub, property.New(map[string]property.Value{
			"deadLetterTopic": property.New("projects/aiprod-dev-000000/topics/aiprod-pipeline-jobs"), "maxDeliveryAttempts": property.New(5.0),
		}), "deadLetterPolicy"),
			// It also becomes a dead-lettering subscription without the service agent's grants
			// or a dead-letter alert.
			[]string{rules.PolicyDeadLetter, rules.PolicyDeadLetterIAM, rules.PolicyDeadLetterAlert}},
		{"no service-agent grant on the jobs subscription", "dev", testkit.Drop(typeSubIAM, "aiprod-pipeline-jobs-sub-subscriber-agent"),
			[]string{rules.PolicyDeadLetterIAM}},
		{"no service-agent grant on the results subscription", "prod", testkit.Drop(typeSubIAM, "aiprod-pipeline-results-sub-subscriber-agent"),
			[]string{rules.PolicyDeadLetterIAM}},
		{"no service-agent publisher on the dlq topic", "dev", testkit.Drop(typeTopicIAM, "aiprod-pipeline-dlq-publisher-agent"),
			[]string{rules.PolicyDeadLetterIAM}},
		{"dlq topic without its subscription", "dev", testkit.Drop(typeSubscription, dlqSub),
			// Lost dead letters, and a pipeline missing a subscription.
			[]string{rules.PolicyDeadLetterIAM, rules.PolicyPipelineTopology}},
		{"expiration ttl 31 days", "dev", testkit.Set(typeSubscription, resultsSub, property.New("2678400s"), "expirationPolicy", "ttl"),
			[]string{rules.PolicyNoExpiration}},
		{"no expiration policy", "prod", testkit.Set(typeSubscription, dlqSub, nil, "expirationPolicy"),
			[]string{rules.PolicyNoExpiration}},
		{"dlq retention 1 day", "dev", testkit.Set(typeSubscription, dlqSub, property.New("86400s"), "messageRetentionDuration"),
			[]string{rules.PolicyDLQRetention}},
		{"topic without env label", "dev", testkit.Set(typeTopic, "aiprod-pipeline-jobs", nil, "labels", "env"),
			[]string{rules.PolicyRequiredLabels}},
		{"subscription without managed-by label", "prod", testkit.Set(typeSubscription, jobsSub, nil, "labels", "managed-by"),
			[]string{rules.PolicyRequiredLabels}},
		{"prod topic unprotected", "prod", testkit.Protect(typeTopic, "aiprod-pipeline-results", false),
			[]string{rules.PolicyProdProtect}},
		{"prod subscription unprotected", "prod", testkit.Protect(typeSubscription, dlqSub, false),
			[]string{rules.PolicyProdProtect}},
		{"app not publisher on the jobs topic", "dev", testkit.Drop(typeTopicIAM, "aiprod-pipeline-jobs-publisher-app"),
			[]string{rules.PolicyPipelineTopology}},
		{"app not subscriber on the jobs subscription", "prod", testkit.Drop(typeSubIAM, "aiprod-pipeline-jobs-sub-subscriber-app"),
			[]string{rules.PolicyPipelineTopology}},
		{"results subscription on the jobs topic", "dev", testkit.Set(typeSubscription, resultsSub, property.New("projects/aiprod-dev-000000/topics/aiprod-pipeline-jobs"), "topic"),
			[]string{rules.PolicyPipelineTopology}},
		{"no results topic", "dev", testkit.Drop(typeTopic, "aiprod-pipeline-results"),
			[]string{rules.PolicyPipelineTopology}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rs := tc.mutate(t, analyzed(t, tc.stack))
			assert.ElementsMatch(t, tc.want, firing(t, tc.stack, rs))
		})
	}
}

// forbidden is a resource someone adds by hand beside the program's, as the engine sends it
// to the pack.
func forbidden(typ, name string, props map[string]any) policyx.AnalyzerResource {
	return policyx.AnalyzerResource{
		Type:       typ,
		Name:       name,
		URN:        "urn:pulumi:dev::aiprod-pubsub::" + typ + "::" + name,
		Properties: testkit.Value(props).AsMap(),
	}
}

func TestAddingAForbiddenResourceFiresItsPolicy(t *testing.T) {
	t.Parallel()
	const project = "aiprod-dev-000000"
	app := "serviceAccount:aiprod-sa@" + project + ".iam.gserviceaccount.com"
	cases := []struct {
		name  string
		extra policyx.AnalyzerResource
		want  []string
	}{
		{"allUsers publisher on the jobs topic", forbidden(typeTopicIAM, "public", map[string]any{
			"project": project, "topic": "aiprod-pipeline-jobs", "role": "roles/pubsub.publisher", "member": "allUsers",
		}), []string{rules.PolicyNoPublicMembers}},
		{"allAuthenticatedUsers subscriber on the results subscription", forbidden(typeSubIAM, "public", map[string]any{
			"project": project, "subscription": "aiprod-pipeline-results-sub", "role": "roles/pubsub.subscriber", "member": "allAuthenticatedUsers",
		}), []string{rules.PolicyNoPublicMembers}},
		{"an authoritative topic binding", forbidden("gcp:pubsub/topicIAMBinding:TopicIAMBinding", "binding", map[string]any{
			"project": project, "topic": "aiprod-pipeline-jobs", "role": "roles/pubsub.publisher", "members": []string{app},
		}), []string{rules.PolicyAdditiveOnly}},
		{"a project-level grant", forbidden("gcp:projects/iAMMember:IAMMember", "project-grant", map[string]any{
			"project": project, "role": "roles/pubsub.subscriber", "member": app,
		}), []string{rules.PolicyAdditiveOnly}},
		{"pubsub admin on a topic", forbidden(typeTopicIAM, "admin", map[string]any{
			"project": project, "topic": "aiprod-pipeline-results", "role": "roles/pubsub.admin", "member": app,
		}), []string{rules.PolicyPubSubRoles}},
		{"a service account key", forbidden(spec.ServiceAccountKeyType, "key", map[string]any{
			"serviceAccountId": "projects/" + project + "/serviceAccounts/aiprod-sa@" + project + ".iam.gserviceaccount.com",
		}), []string{rules.PolicyNoServiceAccountKeys}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rs := testkit.Apply(t, analyzed(t, "dev"), testkit.Add(tc.extra))
			assert.ElementsMatch(t, tc.want, firing(t, "dev", rs))
		})
	}
}

// TestUnknownIDsDuringPreview replaces every topic id the program passes on with the value a
// first preview has, unknown, and expects the pack to pass: the references resolve through the
// properties' dependencies or are skipped.
func TestUnknownIDsDuringPreview(t *testing.T) {
	t.Parallel()
	for _, unknown := range []property.Value{property.New(property.Computed), property.New(spec.Unknown)} {
		for _, stack := range []string{"dev", "prod"} {
			rs := analyzed(t, stack)
			for _, name := range []string{"aiprod-pipeline-jobs-sub", "aiprod-pipeline-results-sub", "aiprod-pipeline-dlq-sub"} {
				rs = testkit.Set(typeSubscription, name, unknown, "topic")(t, rs)
			}
			for _, name := range []string{"aiprod-pipeline-jobs-sub", "aiprod-pipeline-results-sub"} {
				rs = testkit.Set(typeSubscription, name, unknown, "deadLetterPolicy", "deadLetterTopic")(t, rs)
			}
			assert.Empty(t, firing(t, stack, rs), "stack %s, unknown %#v", stack, unknown)
		}
	}
}

// matchingPolicyConfig is the policy config a stack with cfg needs: what its
// policy/config/<stack>.json says, and what the README tells a stack to write to allow a
// deviation from the spec.
func matchingPolicyConfig(cfg *stacks.Config) map[string]policyx.PolicyConfig {
	subs := cfg.Settings.Subscriptions
	mandatory := func(props map[string]any) policyx.PolicyConfig {
		return policyx.PolicyConfig{EnforcementLevel: policyx.EnforcementLevelMandatory, Properties: props}
	}
	return map[string]policyx.PolicyConfig{
		rules.PolicyAckDeadline: mandatory(map[string]any{
			"jobsAckDeadlineSeconds":    float64(subs[spec.Jobs].AckDeadlineSeconds),
			"resultsAckDeadlineSeconds": float64(subs[spec.Results].AckDeadlineSeconds),
			"dlqAckDeadlineSeconds":     float64(subs[spec.DLQ].AckDeadlineSeconds),
		}),
		rules.PolicyDeadLetter:     mandatory(map[string]any{"deadLetterResults": subs[spec.Results].DeadLetter}),
		rules.PolicyDLQRetention:   mandatory(map[string]any{"minimumRetentionSeconds": float64(subs[spec.DLQ].MessageRetentionSeconds)}),
		rules.PolicyTopicSchema:    mandatory(map[string]any{"enforceSchemas": cfg.Settings.EnforceSchemas}),
		rules.PolicyProdProtect:    mandatory(map[string]any{"production": cfg.Settings.Protect}),
		rules.PolicyRequiredLabels: mandatory(map[string]any{"labels": []any{"app", "env", "managed-by"}}),
	}
}

// TestCheckedInPolicyConfigMatchesTheStacks: policy/config/<stack>.json is what the stack's
// config needs, and with it the stack passes the pack.
func TestCheckedInPolicyConfigMatchesTheStacks(t *testing.T) {
	t.Parallel()
	for _, stack := range []string{"dev", "prod"} {
		res, files, err := offline.Stack("..", stack, nil)
		require.NoError(t, err)
		cfg, err := stacks.Parse(stack, files.Config)
		require.NoError(t, err)
		got, err := rules.LoadConfig(filepath.Join("..", "policy", "config", stack+".json"))
		require.NoError(t, err)
		assert.Equal(t, matchingPolicyConfig(cfg), got, "policy/config/%s.json", stack)
		vs, err := rules.Evaluate(stack, plan.Analyzed(res.Resources...), got)
		require.NoError(t, err)
		assert.Empty(t, vs, stack)
	}
}

// TestEveryAcceptedConfigCanPassTheGate feeds every config the program accepts through the
// pack: both ends of every range in the config table and every boolean both ways. With the
// matching policy config each passes; with the stack's checked-in policy config, a deviation
// from it fails, and every violation names the policy-config setting that would allow it.
func TestEveryAcceptedConfigCanPassTheGate(t *testing.T) {
	t.Parallel()
	ranges := map[string]spec.Range{
		"jobsAckDeadlineSeconds": spec.AckDeadlineRange, "resultsAckDeadlineSeconds": spec.AckDeadlineRange,
		"dlqAckDeadlineSeconds": spec.AckDeadlineRange, "maxDeliveryAttempts": spec.AttemptsRange,
		// The minimum may not exceed the maximum (600 by default), nor the maximum go below the
		// minimum (10 by default).
		"retryMinimumBackoffSeconds": {Min: 0, Max: 600}, "retryMaximumBackoffSeconds": {Min: 10, Max: 600},
		"messageRetentionSeconds": spec.RetentionRange, "dlqMessageRetentionSeconds": spec.RetentionRange,
		"alertStalledJobsSeconds": {Min: 0, Max: spec.RetentionRange.Max}, "alertStalledResultsSeconds": {Min: 0, Max: spec.RetentionRange.Max},
		"alertRetentionPercent": spec.RetentionPercentRange, "alertDeadLetterBacklogMinutes": spec.BacklogMinutesRange,
		"alertPublishErrorPercent": spec.PublishErrorPercentRange,
	}
	type variant struct{ stack, key, value string }
	variants := []variant{
		{"dev", "appSubscriptions", `["jobs","results","dlq"]`},
		{"prod", "pipelines", `["video","audio"]`},
		{"dev", "namePrefix", "other"},
		{"dev", "labels", `{"team":"media"}`},
		{"prod", "kmsKeyName", "projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k"},
		{"prod", "allowedPersistenceRegions", `["europe-west1"]`},
		{"dev", "projectNumber", "123456789012"},
		{"dev", "serviceAccountId", "worker-sa"},
		{"dev", "alertEmails", `["oncall@example.com","team@example.com"]`},
		{"prod", "alertNotificationChannels", `["projects/aiprod-prod-000000/notificationChannels/123"]`},
	}
	for _, k := range stacks.Keys {
		for _, stack := range []string{"dev", "prod"} {
			switch k.Type {
			case "integer":
				r, ok := ranges[k.Name]
				require.True(t, ok, "no range for %s", k.Name)
				variants = append(variants, variant{stack, k.Name, strconv.Itoa(r.Min)}, variant{stack, k.Name, strconv.Itoa(r.Max)})
			case "boolean":
				variants = append(variants, variant{stack, k.Name, "true"}, variant{stack, k.Name, "false"})
			}
		}
	}
	for _, v := range variants {
		t.Run(v.stack+"/"+v.key+"="+v.value, func(t *testing.T) {
			t.Parallel()
			res, files, err := offline.Stack("..", v.stack, func(values map[string]string) {
				values[stacks.Namespace+":"+v.key] = v.value
				if v.key == "projectNumber" {
					// The number names the service agent of a stack without the foundation.
					values[stacks.Namespace+":foundationStack"] = ""
				}
				if v.key == "protect" && v.value == "true" || v.key == "deployable" && v.value == "true" {
					// A protected stack that may be deployed needs a notification channel that
					// reaches someone.
					values[stacks.Namespace+":alertEmails"] = `["` + realAddress + `"]`
				}
			})
			require.NoError(t, err, "the program accepts %s=%s", v.key, v.value)
			cfg, err := stacks.Parse(v.stack, files.Config)
			require.NoError(t, err)
			vs, err := rules.Evaluate(v.stack, plan.Analyzed(res.Resources...), matchingPolicyConfig(cfg))
			require.NoError(t, err)
			assert.Empty(t, vs, "with the matching policy config")

			checkedIn := defaultPolicyConfig(t, v.stack)
			settings := differing(checkedIn, matchingPolicyConfig(cfg))
			vs, err = rules.Evaluate(v.stack, plan.Analyzed(res.Resources...), checkedIn)
			require.NoError(t, err)
			// Keeping dead letters longer, or protecting a dev stack, is stricter than the spec.
			stricter := v.key == "dlqMessageRetentionSeconds" && v.value == strconv.Itoa(spec.RetentionRange.Max) ||
				v.key == "protect" && v.value == "true"
			if len(settings) > 0 && !stricter {
				require.NotEmpty(t, vs, "%v differ from the checked-in policy config: the gate must fail", settings)
			}
			for _, viol := range vs {
				assert.True(t, slices.ContainsFunc(settings, func(s string) bool { return strings.Contains(viol.Message, "policy config "+s) }),
					"%s: %q names none of %v", viol.URN, viol.Message, settings)
			}
		})
	}
}

// differing lists the policy-config settings (policy.property, with ": false" for a boolean
// that is switched off) where want differs from have.
func differing(have, want map[string]policyx.PolicyConfig) []string {
	var out []string
	for policy, w := range want {
		for k, v := range w.Properties {
			if reflect.DeepEqual(have[policy].Properties[k], v) {
				continue
			}
			s := policy + "." + k
			if v == false {
				s += ": false"
			}
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out
}

// defaultPolicyConfig is the stack's checked-in policy config, the spec's values.
func defaultPolicyConfig(t *testing.T, stack string) map[string]policyx.PolicyConfig {
	t.Helper()
	cfg, err := rules.LoadConfig(filepath.Join("..", "policy", "config", stack+".json"))
	require.NoError(t, err)
	return cfg
}
