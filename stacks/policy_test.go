package render

import (
	"slices"
	"testing"

	"github.com/pulumi/pulumi-gcp/sdk/v8/go/gcp/projects"
	"github.com/pulumi/pulumi-gcp/sdk/v8/go/gcp/pubsub"
	"github.com/pulumi/pulumi-gcp/sdk/v8/go/gcp/serviceaccount"
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/policy/rules"
	"github.com/aiprod/aiprod-pubsub/stacks"
)

const (
	typeTopic        = "gcp:pubsub/topic:Topic"
	typeSubscription = "gcp:pubsub/subscription:Subscription"
	typeTopicIAM     = "gcp:pubsub/topicIAMMember:TopicIAMMember"
	typeSubIAM       = "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember"
)

// analyzed runs the real program for a stack and returns its resources as the pack sees them.
func analyzed(t *testing.T, stack string) []policyx.AnalyzerResource {
	t.Helper()
	r, err := Stack("..", stack)
	require.NoError(t, err)
	return r.Analyzer()
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

// edit returns resources with one resource's property at path set to v.
func edit(typ, name string, v property.Value, path ...string) func(*testing.T, []policyx.AnalyzerResource) []policyx.AnalyzerResource {
	return func(t *testing.T, rs []policyx.AnalyzerResource) []policyx.AnalyzerResource {
		t.Helper()
		out := slices.Clone(rs)
		i := slices.IndexFunc(out, func(r policyx.AnalyzerResource) bool { return r.Type == typ && r.Name == name })
		require.GreaterOrEqual(t, i, 0, "no %s named %q", typ, name)
		segs := make([]property.PathSegment, len(path))
		for j, k := range path {
			segs[j] = property.NewSegment(k)
		}
		m, err := property.PathFromSegments(segs...).Set(property.New(out[i].Properties), v)
		require.NoError(t, err, out[i].URN)
		out[i].Properties = m.AsMap()
		return out
	}
}

// remove returns resources with one property of one resource deleted.
func remove(typ, name string, path ...string) func(*testing.T, []policyx.AnalyzerResource) []policyx.AnalyzerResource {
	return func(t *testing.T, rs []policyx.AnalyzerResource) []policyx.AnalyzerResource {
		t.Helper()
		out := slices.Clone(rs)
		i := slices.IndexFunc(out, func(r policyx.AnalyzerResource) bool { return r.Type == typ && r.Name == name })
		require.GreaterOrEqual(t, i, 0, "no %s named %q", typ, name)
		if len(path) == 1 {
			out[i].Properties = out[i].Properties.Delete(path[0])
			return out
		}
		inner := out[i].Properties.Get(path[0]).AsMap().Delete(path[1])
		out[i].Properties = out[i].Properties.Set(path[0], property.New(inner))
		return out
	}
}

// drop returns resources without one resource.
func drop(typ, name string) func(*testing.T, []policyx.AnalyzerResource) []policyx.AnalyzerResource {
	return func(t *testing.T, rs []policyx.AnalyzerResource) []policyx.AnalyzerResource {
		t.Helper()
		out := slices.DeleteFunc(slices.Clone(rs), func(r policyx.AnalyzerResource) bool { return r.Type == typ && r.Name == name })
		require.Len(t, out, len(rs)-1, "no %s named %q", typ, name)
		return out
	}
}

// unprotect returns resources with one resource's protect option off.
func unprotect(typ, name string) func(*testing.T, []policyx.AnalyzerResource) []policyx.AnalyzerResource {
	return func(t *testing.T, rs []policyx.AnalyzerResource) []policyx.AnalyzerResource {
		t.Helper()
		out := slices.Clone(rs)
		i := slices.IndexFunc(out, func(r policyx.AnalyzerResource) bool { return r.Type == typ && r.Name == name })
		require.GreaterOrEqual(t, i, 0)
		require.True(t, out[i].Options.Protect, out[i].URN)
		out[i].Options.Protect = false
		return out
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
		mutate func(*testing.T, []policyx.AnalyzerResource) []policyx.AnalyzerResource
		want   []string
	}{
		{"jobs ack deadline 30", "dev", edit(typeSubscription, jobsSub, property.New(30.0), "ackDeadlineSeconds"),
			[]string{rules.PolicyAckDeadline}},
		{"results ack deadline 300", "dev", edit(typeSubscription, resultsSub, property.New(300.0), "ackDeadlineSeconds"),
			[]string{rules.PolicyAckDeadline}},
		{"dlq ack deadline 700", "prod", edit(typeSubscription, dlqSub, property.New(700.0), "ackDeadlineSeconds"),
			[]string{rules.PolicyAckDeadline}},
		{"jobs topic without a schema", "dev", remove(typeTopic, "aiprod-pipeline-jobs", "schemaSettings"),
			[]string{rules.PolicyTopicSchema}},
		{"results topic with binary encoding", "prod", edit(typeTopic, "aiprod-pipeline-results", property.New("BINARY"), "schemaSettings", "encoding"),
			[]string{rules.PolicyTopicSchema}},
		{"jobs ordering off", "dev", edit(typeSubscription, jobsSub, property.New(false), "enableMessageOrdering"),
			[]string{rules.PolicyMessageOrdering}},
		{"jobs ordering unset", "prod", remove(typeSubscription, jobsSub, "enableMessageOrdering"),
			[]string{rules.PolicyMessageOrdering}},
		{"max delivery attempts 3", "dev", edit(typeSubscription, jobsSub, property.New(3.0), "deadLetterPolicy", "maxDeliveryAttempts"),
			[]string{rules.PolicyDeadLetter}},
		{"dead-letter topic as a short name", "dev", edit(typeSubscription, resultsSub, property.New("aiprod-pipeline-dlq"), "deadLetterPolicy", "deadLetterTopic"),
			[]string{rules.PolicyDeadLetter}},
		{"results without dead-letter policy", "dev", remove(typeSubscription, resultsSub, "deadLetterPolicy"),
			[]string{rules.PolicyDeadLetter}},
		{"dlq subscription dead-letters", "dev", edit(typeSubscription, dlqSub, property.New(map[string]property.Value{
			"deadLetterTopic": property.New("projects/aiprod-dev-000000/topics/aiprod-pipeline-jobs"), "maxDeliveryAttempts": property.New(5.0),
		}), "deadLetterPolicy"),
			// It also becomes a dead-lettering subscription without the service agent's grants.
			[]string{rules.PolicyDeadLetter, rules.PolicyDeadLetterIAM}},
		{"no service-agent grant on the jobs subscription", "dev", drop(typeSubIAM, "aiprod-pipeline-jobs-sub-subscriber-agent"),
			[]string{rules.PolicyDeadLetterIAM}},
		{"no service-agent grant on the results subscription", "prod", drop(typeSubIAM, "aiprod-pipeline-results-sub-subscriber-agent"),
			[]string{rules.PolicyDeadLetterIAM}},
		{"no service-agent publisher on the dlq topic", "dev", drop(typeTopicIAM, "aiprod-pipeline-dlq-publisher-agent"),
			[]string{rules.PolicyDeadLetterIAM}},
		{"dlq topic without its subscription", "dev", drop(typeSubscription, dlqSub),
			// Lost dead letters, and a pipeline missing a subscription.
			[]string{rules.PolicyDeadLetterIAM, rules.PolicyPipelineTopology}},
		{"expiration ttl 31 days", "dev", edit(typeSubscription, resultsSub, property.New("2678400s"), "expirationPolicy", "ttl"),
			[]string{rules.PolicyNoExpiration}},
		{"no expiration policy", "prod", remove(typeSubscription, dlqSub, "expirationPolicy"),
			[]string{rules.PolicyNoExpiration}},
		{"dlq retention 1 day", "dev", edit(typeSubscription, dlqSub, property.New("86400s"), "messageRetentionDuration"),
			[]string{rules.PolicyDLQRetention}},
		{"topic without env label", "dev", remove(typeTopic, "aiprod-pipeline-jobs", "labels", "env"),
			[]string{rules.PolicyRequiredLabels}},
		{"subscription without managed-by label", "prod", remove(typeSubscription, jobsSub, "labels", "managed-by"),
			[]string{rules.PolicyRequiredLabels}},
		{"prod topic unprotected", "prod", unprotect(typeTopic, "aiprod-pipeline-results"),
			[]string{rules.PolicyProdProtect}},
		{"prod subscription unprotected", "prod", unprotect(typeSubscription, dlqSub),
			[]string{rules.PolicyProdProtect}},
		{"app not publisher on the jobs topic", "dev", drop(typeTopicIAM, "aiprod-pipeline-jobs-publisher-app"),
			[]string{rules.PolicyPipelineTopology}},
		{"app not subscriber on the jobs subscription", "prod", drop(typeSubIAM, "aiprod-pipeline-jobs-sub-subscriber-app"),
			[]string{rules.PolicyPipelineTopology}},
		{"results subscription on the jobs topic", "dev", edit(typeSubscription, resultsSub, property.New("projects/aiprod-dev-000000/topics/aiprod-pipeline-jobs"), "topic"),
			[]string{rules.PolicyPipelineTopology}},
		{"no results topic", "dev", drop(typeTopic, "aiprod-pipeline-results"),
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

// withExtra runs the real program for dev and then registers one more resource.
func withExtra(t *testing.T, extra func(ctx *pulumi.Context, project string) error) []policyx.AnalyzerResource {
	t.Helper()
	files, err := LoadStack("..", "dev", "")
	require.NoError(t, err)
	project := files.Config.Values["gcp:project"]
	require.NotEmpty(t, project)
	r, err := Run(files.Project, "dev", files.Config, func(ctx *pulumi.Context) (pulumi.Map, error) {
		out, err := stacks.Deploy(ctx, files.Config)
		if err != nil {
			return nil, err
		}
		return out, extra(ctx, project)
	})
	require.NoError(t, err)
	return r.Analyzer()
}

func TestAddingAForbiddenResourceFiresItsPolicy(t *testing.T) {
	t.Parallel()
	app := func(project string) pulumi.String {
		return pulumi.String("serviceAccount:aiprod-sa@" + project + ".iam.gserviceaccount.com")
	}
	cases := []struct {
		name  string
		extra func(ctx *pulumi.Context, project string) error
		want  []string
	}{
		{"allUsers publisher on the jobs topic", func(ctx *pulumi.Context, project string) error {
			_, err := pubsub.NewTopicIAMMember(ctx, "public", &pubsub.TopicIAMMemberArgs{
				Project: pulumi.String(project), Topic: pulumi.String("aiprod-pipeline-jobs"),
				Role: pulumi.String("roles/pubsub.publisher"), Member: pulumi.String("allUsers"),
			})
			return err
		}, []string{rules.PolicyNoPublicMembers}},
		{"allAuthenticatedUsers subscriber on the results subscription", func(ctx *pulumi.Context, project string) error {
			_, err := pubsub.NewSubscriptionIAMMember(ctx, "public", &pubsub.SubscriptionIAMMemberArgs{
				Project: pulumi.String(project), Subscription: pulumi.String("aiprod-pipeline-results-sub"),
				Role: pulumi.String("roles/pubsub.subscriber"), Member: pulumi.String("allAuthenticatedUsers"),
			})
			return err
		}, []string{rules.PolicyNoPublicMembers}},
		{"an authoritative topic binding", func(ctx *pulumi.Context, project string) error {
			_, err := pubsub.NewTopicIAMBinding(ctx, "binding", &pubsub.TopicIAMBindingArgs{
				Project: pulumi.String(project), Topic: pulumi.String("aiprod-pipeline-jobs"),
				Role: pulumi.String("roles/pubsub.publisher"), Members: pulumi.StringArray{app(project)},
			})
			return err
		}, []string{rules.PolicyAdditiveOnly}},
		{"a project-level grant", func(ctx *pulumi.Context, project string) error {
			_, err := projects.NewIAMMember(ctx, "project-grant", &projects.IAMMemberArgs{
				Project: pulumi.String(project), Role: pulumi.String("roles/pubsub.subscriber"), Member: app(project),
			})
			return err
		}, []string{rules.PolicyAdditiveOnly}},
		{"pubsub admin on a topic", func(ctx *pulumi.Context, project string) error {
			_, err := pubsub.NewTopicIAMMember(ctx, "admin", &pubsub.TopicIAMMemberArgs{
				Project: pulumi.String(project), Topic: pulumi.String("aiprod-pipeline-results"),
				Role: pulumi.String("roles/pubsub.admin"), Member: app(project),
			})
			return err
		}, []string{rules.PolicyPubSubRoles}},
		{"a service account key", func(ctx *pulumi.Context, project string) error {
			_, err := serviceaccount.NewKey(ctx, "key", &serviceaccount.KeyArgs{
				ServiceAccountId: pulumi.String("projects/" + project + "/serviceAccounts/aiprod-sa@" + project + ".iam.gserviceaccount.com"),
			})
			return err
		}, []string{rules.PolicyNoServiceAccountKeys}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.ElementsMatch(t, tc.want, firing(t, "dev", withExtra(t, tc.extra)))
		})
	}
}

// TestUnknownIDsDuringPreview replaces every topic id the program passes on with the value a
// first preview has, unknown, and expects the pack to pass: the references resolve through the
// properties' dependencies or are skipped.
func TestUnknownIDsDuringPreview(t *testing.T) {
	t.Parallel()
	for _, unknown := range []property.Value{property.New(property.Computed), property.New(rules.UnknownValue)} {
		for _, stack := range []string{"dev", "prod"} {
			rs := analyzed(t, stack)
			for _, name := range []string{"aiprod-pipeline-jobs-sub", "aiprod-pipeline-results-sub", "aiprod-pipeline-dlq-sub"} {
				rs = edit(typeSubscription, name, unknown, "topic")(t, rs)
			}
			for _, name := range []string{"aiprod-pipeline-jobs-sub", "aiprod-pipeline-results-sub"} {
				rs = edit(typeSubscription, name, unknown, "deadLetterPolicy", "deadLetterTopic")(t, rs)
			}
			assert.Empty(t, firing(t, stack, rs), "stack %s, unknown %#v", stack, unknown)
		}
	}
}
