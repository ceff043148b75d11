package plan

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/inventory"
	"github.com/aiprod/aiprod-pubsub/policy/rules"
	"github.com/aiprod/aiprod-pubsub/spec"
)

func step(urn string, deps ...string) Step {
	return Step{Op: opCreate, Resource: inventory.Resource{URN: urn, Dependencies: deps}}
}

func TestCriticalPath(t *testing.T) {
	t.Parallel()
	same := step("x")
	same.Op = "same"
	tests := []struct {
		name  string
		steps []Step
		want  []string
	}{
		{name: "nothing", steps: nil, want: nil},
		{name: "one", steps: []Step{step("a")}, want: []string{"a"}},
		{name: "chain", steps: []Step{step("c", "b"), step("b", "a"), step("a")}, want: []string{"a", "b", "c"}},
		{name: "diamond ties go to the first URN", steps: []Step{
			step("t1"), step("t2"), step("s", "t2", "t1"), step("m", "s"),
		}, want: []string{"t1", "s", "m"}},
		{name: "longest wins", steps: []Step{
			step("a"), step("b", "a"), step("c", "b"), step("z"), step("y", "z"),
		}, want: []string{"a", "b", "c"}},
		{name: "existing resources are not waited for", steps: []Step{
			same, step("b", "x"), step("c", "b"),
		}, want: []string{"b", "c"}},
		{name: "dependencies outside the plan", steps: []Step{step("a", "elsewhere")}, want: []string{"a"}},
		{name: "a cycle terminates", steps: []Step{step("a", "b"), step("b", "a")}, want: []string{"b", "a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, criticalPath(tc.steps))
		})
	}
}

// TestReadPreview reads a document shaped like a real `pulumi preview --json`.
func TestReadPreview(t *testing.T) {
	t.Parallel()
	const stack = "urn:pulumi:prod::aiprod-pubsub::pulumi:pulumi:Stack::aiprod-pubsub-prod"
	const topic = "urn:pulumi:prod::aiprod-pubsub::gcp:pubsub/topic:Topic::t"
	const sub = "urn:pulumi:prod::aiprod-pubsub::gcp:pubsub/subscription:Subscription::s"
	doc := fmt.Sprintf(`{
	  "steps": [
	    {"op": "same", "urn": %[1]q, "newState": {"type": "pulumi:pulumi:Stack", "urn": %[1]q,
	      "outputs": {"topic": "projects/p/topics/t"}}},
	    {"op": "create", "urn": "urn:pulumi:prod::aiprod-pubsub::pulumi:providers:gcp::default",
	      "newState": {"type": "pulumi:providers:gcp", "urn": "urn:pulumi:prod::aiprod-pubsub::pulumi:providers:gcp::default", "custom": true}},
	    {"op": "create", "urn": %[2]q, "newState": {"type": "gcp:pubsub/topic:Topic", "urn": %[2]q, "custom": true,
	      "parent": %[1]q, "protect": true, "inputs": {"name": "t", "project": "p"}}},
	    {"op": "create", "urn": %[3]q, "newState": {"type": "gcp:pubsub/subscription:Subscription", "urn": %[3]q,
	      "custom": true, "parent": %[1]q, "dependencies": [%[2]q],
	      "inputs": {"name": "s", "project": "p", "topic": "04da6b54-80e4-46f7-96ec-b56ff0331ba9", "ackDeadlineSeconds": 300}}},
	    {"op": "delete", "urn": "urn:pulumi:prod::aiprod-pubsub::gcp:pubsub/topic:Topic::old",
	      "oldState": {"type": "gcp:pubsub/topic:Topic"}}
	  ]
	}`, stack, topic, sub)
	p, err := ReadPreview([]byte(doc))
	require.NoError(t, err)
	require.NoError(t, p.Judge(Options{}))
	assert.Equal(t, "aiprod-pubsub", p.Project)
	assert.Equal(t, "prod", p.Stack)
	assert.Equal(t, "same", p.StackOp)
	assert.Equal(t, map[string]any{"topic": "projects/p/topics/t"}, p.Outputs)
	require.Len(t, p.Steps, 3, "the provider and the stack are not planned resources; the deleted topic is")
	s, old, tp := p.Steps[0].Resource, p.Steps[1], p.Steps[2].Resource
	assert.Equal(t, "delete", old.Op)
	assert.Equal(t, spec.TopicType, old.Resource.Type, "a deleted resource is read from its old state")
	require.Len(t, p.Losses, 1, "deleting a topic loses messages")
	assert.Equal(t, "deleting topic old loses what is published until it exists again and detaches its subscriptions", p.Losses[0].Message)
	assert.True(t, p.Blocked(), "an unaccepted loss blocks the change")
	require.Equal(t, sub, s.URN)
	assert.True(t, s.Inputs["topic"].IsComputed(), "the unknown sentinel becomes a computed value")
	assert.Equal(t, resource.NewProperty(300.0), s.Inputs["ackDeadlineSeconds"])
	assert.True(t, tp.Protect, "protect is kept")
	assert.Equal(t, stack, tp.Parent, "parent is kept")
	assert.Equal(t, []string{topic, sub}, p.CriticalPath)
	assert.Equal(t, map[string]int{"same": 1, "create": 2, "delete": 1}, p.changeSummary())

	// The unknown is written back as the sentinel.
	var out map[string]any
	b, err := json.Marshal(p.document())
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &out))
	inputs := out["steps"].([]any)[1].(map[string]any)["newState"].(map[string]any)["inputs"].(map[string]any)
	assert.Equal(t, spec.Unknown, inputs["topic"])
}

func TestReadPreviewRejects(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, doc, want string }{
		{"not JSON", "steps:", "reading a preview document"},
		{"no steps", `{"steps": []}`, "no steps"},
		{"bad URN", `{"steps": [{"op": "create", "urn": "nope", "newState": {"urn": "nope"}}]}`, "step 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadPreview([]byte(tc.doc))
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

// The critical path of a pipeline: its IAM member waits for the subscription, which waits
// for its topic; the topic's own member waits for the topic alone.
func Example_criticalPath() {
	create := func(urn string, deps ...string) Step {
		return Step{Op: opCreate, Resource: inventory.Resource{URN: urn, Dependencies: deps}}
	}
	path := criticalPath([]Step{
		create("topic"),
		create("topic-publisher", "topic"),
		create("subscription", "topic"),
		create("subscription-subscriber", "subscription"),
	})
	fmt.Println(path)
	// Output: [topic subscription subscription-subscriber]
}

func TestDurationOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		secs float64
		want string
	}{
		{0, "0s"}, {10, "10s"}, {60, "1m"}, {300, "5m"}, {400, "6m40s"}, {3300, "55m"}, {4500, "1h15m"},
		{86400, "1d"}, {302400, "3d12h"}, {604800, "7d"}, {2678400, "31d"}, {90061, "1d1h1m1s"}, {0.5, "0.5s"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, durationOf(tc.secs))
			if tc.secs == float64(int(tc.secs)) {
				assert.Equal(t, tc.want, duration(spec.Seconds(int(tc.secs))), "the provider's form")
			}
		})
	}
	assert.Equal(t, "6m40s", showProperty("ackDeadlineSeconds", "400"), "a number of seconds")
	assert.Equal(t, "10m", showProperty("retryPolicy.maximumBackoff", "600s"), "a nested duration")
	assert.Equal(t, "400", showProperty("maxDeliveryAttempts", "400"), "not a duration")
}

// TestVerdict: the verdict counts each reason, and says "must not go ahead" exactly when
// Blocked is true.
func TestVerdict(t *testing.T) {
	t.Parallel()
	mandatory := rules.Violation{PolicyName: "p", EnforcementLevel: "mandatory"}
	advisory := rules.Violation{PolicyName: "q", EnforcementLevel: "advisory"}
	created := []Step{{Op: opCreate}, {Op: opCreate}}
	tests := []struct {
		name string
		plan Plan
		want string
	}{
		{name: "clean", plan: Plan{StackOp: opCreate, Steps: created}, want: "may go ahead: 3 creates, no violations"},
		{name: "nothing changes", plan: Plan{StackOp: "same", Steps: []Step{{Op: "same"}}}, want: "may go ahead: no changes, no violations"},
		{name: "advisory", plan: Plan{StackOp: "same", Steps: []Step{{Op: "update"}}, Violations: []rules.Violation{advisory}},
			want: "may go ahead: 1 update, 1 advisory policy violation"},
		{name: "accepted loss", plan: Plan{StackOp: "same", Steps: []Step{{Op: "delete"}}, Losses: []Loss{{Name: "t", Accepted: true}}},
			want: "may go ahead: 1 delete, no violations, 1 accepted loss of messages (t)"},
		{name: "everything", plan: Plan{StackOp: "same", Failed: true, Errors: []string{"e1", "e2"},
			Violations: []rules.Violation{mandatory, mandatory, advisory}, Losses: []Loss{{Name: "a"}, {Name: "b", Accepted: true}, {Name: "c"}}},
			want: "must not go ahead: 2 engine errors, 2 mandatory policy violations, 2 unaccepted losses of messages (a, c)"},
		{name: "failed on the policy", plan: Plan{StackOp: "same", Failed: true, Violations: []rules.Violation{mandatory}},
			want: "must not go ahead: 1 mandatory policy violation"},
		{name: "not deployable yet", plan: Plan{StackOp: opCreate, Steps: created, NotDeployable: "aiprod-pubsub:deployable is false"},
			want: "may go ahead: 3 creates, no violations; the stack is not deployable yet: aiprod-pubsub:deployable is false"},
		{name: "failed with no reason this review sees", plan: Plan{StackOp: "same", Failed: true},
			want: "must not go ahead: the preview failed without an error this review can name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, tc.plan.verdict())
			assert.Equal(t, strings.HasPrefix(tc.want, "must not"), tc.plan.Blocked())
		})
	}
}
