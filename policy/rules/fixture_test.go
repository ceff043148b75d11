package rules

import (
	"fmt"
	"slices"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/spec"
	"github.com/aiprod/aiprod-pubsub/testkit"
)

// The tests build resources by hand, the way the engine sends them: package rules must not
// depend on the program it judges.

const (
	testProject = "aiprod-dev-000000"
	testAgent   = "serviceAccount:service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com"
	testApp     = "serviceAccount:aiprod-sa@aiprod-dev-000000.iam.gserviceaccount.com"

	typeTopic             = spec.TopicType
	typeSubscription      = spec.SubscriptionType
	typeTopicIAMMember    = spec.TopicIAMMemberType
	typeSubIAMMember      = spec.SubscriptionIAMMemberType
	typeServiceAccountKey = spec.ServiceAccountKeyType
	rolePublisher         = spec.RolePublisher
	roleSubscriber        = spec.RoleSubscriber
	roleViewer            = spec.RoleViewer
	roleJobs              = string(spec.Jobs)
	roleResults           = string(spec.Results)
	roleDLQ               = string(spec.DLQ)
)

var queueRoles = []string{roleJobs, roleResults, roleDLQ}

// computed and sentinel are the two ways an unknown value reaches a policy.
var (
	computed = property.New(property.Computed)
	sentinel = property.New(spec.Unknown)
)

func testURN(stack, typ, name string) string {
	return fmt.Sprintf("urn:pulumi:%s::aiprod-pubsub::aiprod:messaging:Pipeline$%s::%s", stack, typ, name)
}

func newResource(stack, typ, name string, props map[string]any) policyx.AnalyzerResource {
	return policyx.AnalyzerResource{
		Type:       typ,
		Name:       name,
		URN:        testURN(stack, typ, name),
		Properties: testkit.Value(props).AsMap(),
		Parent:     fmt.Sprintf("urn:pulumi:%s::aiprod-pubsub::aiprod:messaging:Pipeline::pipeline", stack),
	}
}

// fixture is the pipeline stem (e.g. "aiprod-pipeline") as the real program registers it for
// stack, every spec property right.
func fixture(stack, stem string) []policyx.AnalyzerResource {
	labels := func() map[string]any {
		return map[string]any{"app": "aiprod", "component": "pipeline", "env": stack, "managed-by": "pulumi"}
	}
	topicID := func(q string) string { return "projects/" + testProject + "/topics/" + stem + "-" + q }
	var rs []policyx.AnalyzerResource
	for _, q := range queueRoles {
		topic := map[string]any{"name": stem + "-" + q, "project": testProject, "labels": labels()}
		if q != roleDLQ {
			topic["schemaSettings"] = map[string]any{
				"schema":   "projects/" + testProject + "/schemas/" + stem + "-" + q + "-schema",
				"encoding": "JSON",
			}
		}
		rs = append(rs, newResource(stack, typeTopic, stem+"-"+q, topic))
		sub := map[string]any{
			"name": stem + "-" + q + "-sub", "project": testProject, "topic": topicID(q), "labels": labels(),
			"ackDeadlineSeconds":       map[string]int{roleJobs: 300, roleResults: 60, roleDLQ: 60}[q],
			"messageRetentionDuration": "604800s",
			"expirationPolicy":         map[string]any{"ttl": ""},
		}
		if q == roleJobs {
			sub["enableMessageOrdering"] = true
		}
		if q != roleDLQ {
			sub["deadLetterPolicy"] = map[string]any{"deadLetterTopic": topicID(roleDLQ), "maxDeliveryAttempts": 5}
			sub["retryPolicy"] = map[string]any{"minimumBackoff": "10s", "maximumBackoff": "600s"}
		}
		rs = append(rs, newResource(stack, typeSubscription, stem+"-"+q+"-sub", sub))
	}
	grant := func(typ, key, target, role, member, who string) {
		name := target + "-" + role[len("roles/pubsub."):] + "-" + who
		rs = append(rs, newResource(stack, typ, name, map[string]any{
			"project": testProject, key: target, "role": role, "member": member,
		}))
	}
	for _, q := range queueRoles {
		grant(typeTopicIAMMember, "topic", stem+"-"+q, rolePublisher, testApp, "app")
	}
	grant(typeTopicIAMMember, "topic", stem+"-dlq", rolePublisher, testAgent, "agent")
	grant(typeSubIAMMember, "subscription", stem+"-jobs-sub", roleSubscriber, testApp, "app")
	grant(typeSubIAMMember, "subscription", stem+"-jobs-sub", roleSubscriber, testAgent, "agent")
	grant(typeSubIAMMember, "subscription", stem+"-results-sub", roleSubscriber, testAgent, "agent")
	rs = append(rs, deadLetterAlertResource(stack, stem, stem+"-jobs-sub", stem+"-results-sub"),
		forwardFailuresAlertResource(stack, stem, stem+"-jobs-sub", stem+"-results-sub"))
	if stack == "prod" {
		for i := range rs {
			if isQueueResource(rs[i].Type) {
				rs[i].Options = pulumi.ResourceOptions{Protect: true}
			}
		}
	}
	return rs
}

// isQueueResource reports whether typ is a topic or a subscription.
func isQueueResource(typ string) bool { return typ == typeTopic || typ == typeSubscription }

// ruleCase is one case of a policy's table: the fixture with some changes, judged by the whole
// pack.
type ruleCase struct {
	name    string
	stack   string // "dev" when empty
	changes []testkit.Change
	config  map[string]any // the policy's config properties
	// want are substrings of the message of the one violation expected; none: no violation.
	want []string
	// wantURN is the URN of the violation, when not the changed resource's.
	wantURN string
	// count is the number of violations expected when more than one.
	count int
	// also are the other policies that the changes make fire; none by default.
	also []string
	// foundation judges the foundation's fixture instead of the pipeline's.
	foundation bool
}

const stem = "aiprod-pipeline"

// runCases judges each case with the whole pack and expects exactly the violations of policy
// that the case names, and none of any other policy.
func runCases(t *testing.T, policy string, cases []ruleCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			stack := tc.stack
			if stack == "" {
				stack = "dev"
			}
			base := fixture(stack, stem)
			if tc.foundation {
				base = foundationFixture(stack)
			}
			rs := testkit.Apply(t, base, tc.changes...)
			var config map[string]policyx.PolicyConfig
			if tc.config != nil {
				config = map[string]policyx.PolicyConfig{policy: {
					EnforcementLevel: policyx.EnforcementLevelMandatory, Properties: tc.config,
				}}
			}
			all, err := Evaluate(stack, rs, config)
			require.NoError(t, err)
			var vs []Violation
			others := []string{}
			for _, v := range all {
				if v.PolicyName == policy {
					vs = append(vs, v)
				} else if !slices.Contains(others, v.PolicyName) {
					others = append(others, v.PolicyName)
				}
			}
			assert.ElementsMatch(t, tc.also, others, "other policies fired: %v", all)
			if len(tc.want) == 0 {
				assert.Empty(t, vs)
				return
			}
			count := max(tc.count, 1)
			require.Len(t, vs, count, "violations: %v", vs)
			v := vs[0]
			assert.Equal(t, PackName, v.PolicyPack)
			assert.Equal(t, policy, v.PolicyName)
			assert.Equal(t, "mandatory", v.EnforcementLevel)
			if tc.wantURN != "" {
				assert.Equal(t, tc.wantURN, v.URN)
			} else {
				assert.NotEmpty(t, v.URN)
			}
			for _, w := range tc.want {
				assert.Contains(t, v.Message, w)
			}
		})
	}
}

func TestFixturePassesEveryPolicy(t *testing.T) {
	t.Parallel()
	for _, stack := range []string{"dev", "prod", "staging"} {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			rs := append(fixture(stack, "aiprod-pipeline"), fixture(stack, "aiprod-batch")...)
			vs, err := Evaluate(stack, rs, nil)
			require.NoError(t, err)
			assert.Empty(t, vs)
		})
	}
}

// deadLetterAlertResource is an alert policy on the dead letters forwarded from subs.
func deadLetterAlertResource(stack, stem string, subs ...string) policyx.AnalyzerResource {
	return deadLetterAlertOn(stack, stem+"-dead-letters-alert", true, subs...)
}

// forwardFailuresAlertResource is an alert policy on the dead letters Pub/Sub failed to forward
// from subs.
func forwardFailuresAlertResource(stack, stem string, subs ...string) policyx.AnalyzerResource {
	return deadLetterAlertOn(stack, stem+"-dead-letter-forward-failures-alert", false, subs...)
}

// deadLetterAlertOn is an alert policy named name on the dead letters of subs: forwarded, or
// failed forwards.
func deadLetterAlertOn(stack, name string, forwarded bool, subs ...string) policyx.AnalyzerResource {
	var conds []any
	for _, sub := range subs {
		conds = append(conds, map[string]any{"displayName": "dead letters of " + sub,
			"conditionThreshold": map[string]any{"filter": spec.DeadLetterFilter(sub, forwarded), "comparison": "COMPARISON_GT"}})
	}
	return newResource(stack, spec.AlertPolicyType, name, map[string]any{"displayName": "Dead letters", "conditions": conds})
}
