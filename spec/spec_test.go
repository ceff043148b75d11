package spec_test

import (
	"fmt"
	"testing"

	"github.com/aiprod/aiprod-pubsub/spec"
)

func ExampleSubscriptionName() {
	for _, q := range spec.Queues {
		fmt.Println(spec.TopicName("aiprod", "pipeline", q), "->", spec.SubscriptionName("aiprod", "pipeline", q))
	}
	// Output:
	// aiprod-pipeline-jobs -> aiprod-pipeline-jobs-sub
	// aiprod-pipeline-results -> aiprod-pipeline-results-sub
	// aiprod-pipeline-dlq -> aiprod-pipeline-dlq-sub
}

func ExampleSettings_Validate() {
	s := spec.Defaults()
	s.MaxDeliveryAttempts = 3
	s.RetryMinimumBackoffSeconds = 700
	fmt.Println(s.Validate())
	// Output:
	// MaxDeliveryAttempts is 3; must be between 5 and 100
	// RetryMinimumBackoffSeconds is 700; must be between 0 and 600
	// RetryMinimumBackoffSeconds is 700; must not exceed RetryMaximumBackoffSeconds (600)
}

func ExampleServiceAgent() {
	fmt.Println(spec.ServiceAgent("123456789012"))
	fmt.Println(spec.IsServiceAgent(spec.ServiceAgent("123456789012")), spec.IsServiceAgent(spec.ServiceAgent("<number>")))
	// Output:
	// serviceAccount:service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com
	// true false
}

// TestNamesParseBack: every name the spec derives parses back to its stem and queue.
func TestNamesParseBack(t *testing.T) {
	t.Parallel()
	for _, q := range spec.Queues {
		topic := spec.TopicName("aiprod", "batch-2", q)
		if stem, got, ok := spec.TopicQueue(topic); !ok || stem != "aiprod-batch-2" || got != q {
			t.Errorf("TopicQueue(%q) = %q, %q, %v", topic, stem, got, ok)
		}
		if derived := spec.StemTopicName("aiprod-batch-2", q); derived != topic {
			t.Errorf("StemTopicName(%q, %q) = %q; TopicName says %q", "aiprod-batch-2", q, derived, topic)
		}
		sub := spec.SubscriptionName("aiprod", "batch-2", q)
		if derived := spec.SubscriptionOf(topic); derived != sub {
			t.Errorf("SubscriptionOf(%q) = %q; SubscriptionName says %q", topic, derived, sub)
		}
		if stem, got, ok := spec.SubscriptionQueue(sub); !ok || stem != "aiprod-batch-2" || got != q {
			t.Errorf("SubscriptionQueue(%q) = %q, %q, %v", sub, stem, got, ok)
		}
	}
	for _, name := range []string{"jobs", "-jobs", "aiprod-pipeline-audit", "aiprod-pipeline-jobs-sub-sub"} {
		if _, _, ok := spec.TopicQueue(name); ok {
			t.Errorf("TopicQueue(%q) parsed a queue", name)
		}
	}
}

func ExampleStandardLabels() {
	fmt.Println(spec.StandardLabels("pipeline", "dev"))
	fmt.Println(spec.RequiredLabelKeys())
	// Output:
	// map[app:aiprod component:pipeline env:dev managed-by:pulumi]
	// [app env managed-by]
}

// TestStandardLabels: the standard labels are valid GCP labels, the required ones are among
// them, and extra labels may not override any of them.
func TestStandardLabels(t *testing.T) {
	t.Parallel()
	standard := spec.StandardLabels("pipeline", "dev")
	for k, v := range standard {
		t.Run(k, func(t *testing.T) {
			if err := spec.CheckLabel(k, v); err != nil {
				t.Errorf("standard label %s=%s: %v", k, v, err)
			}
			if ps := spec.ValidateLabels(map[string]string{k: "x"}); len(ps) != 1 {
				t.Errorf("ValidateLabels accepts the extra label %s=x, which would override a standard label: %v", k, ps)
			}
		})
	}
	for _, k := range spec.RequiredLabelKeys() {
		if _, ok := standard[k]; !ok {
			t.Errorf("required label %q is not a standard label: the program would fail its own policy", k)
		}
	}
	if got := standard[spec.LabelEnv]; got != "dev" {
		t.Errorf("the %s label is %q; want the environment, dev", spec.LabelEnv, got)
	}
}

// TestIDs: ids in GCP's formats, and references that read them back.
func TestIDs(t *testing.T) {
	t.Parallel()
	id := spec.TopicID("p1", "t1")
	if id != "projects/p1/topics/t1" || !spec.IsTopicID(id) || spec.IsTopicID("t1") {
		t.Errorf("TopicID = %q", id)
	}
	if r := spec.ParseTopic(id); r != (spec.Ref{Project: "p1", Name: "t1"}) {
		t.Errorf("ParseTopic(%q) = %+v", id, r)
	}
	if r := spec.ParseTopic(spec.SubscriptionID("p1", "t1")); r.Project != "" {
		t.Errorf("a subscription id parsed as a topic: %+v", r)
	}
	if !spec.ParseTopic("t1").Matches(spec.ParseTopic(id)) || spec.ParseTopic("projects/p2/topics/t1").Matches(spec.ParseTopic(id)) {
		t.Error("Matches: a short name matches any project, another project does not")
	}
	if got := spec.Seconds(spec.DefaultRetentionSeconds); got != "604800s" {
		t.Errorf("Seconds = %q", got)
	}
	if f, ok := spec.ParseSeconds("1.5s"); !ok || f != 1.5 {
		t.Errorf("ParseSeconds(1.5s) = %v, %v", f, ok)
	}
	if _, ok := spec.ParseSeconds("7d"); ok {
		t.Error("ParseSeconds accepted 7d")
	}
}

// TestDefaultsPassValidation: the spec's own settings are valid, and cover every queue.
func TestDefaultsPassValidation(t *testing.T) {
	t.Parallel()
	if ps := spec.Defaults().Validate(); len(ps) > 0 {
		t.Fatal(ps)
	}
	s := spec.Defaults()
	delete(s.Subscriptions, spec.DLQ)
	if ps := s.Validate(); len(ps) != 1 || ps[0].Field != "Subscriptions" {
		t.Errorf("a missing queue: %v", ps)
	}
}
