package rules

import (
	"testing"

	"github.com/aiprod/aiprod-pubsub/testkit"
)

const (
	jobsSub    = stem + "-jobs-sub"
	resultsSub = stem + "-results-sub"
	dlqSub     = stem + "-dlq-sub"
)

func subURN(name string) string { return testURN("dev", typeSubscription, name) }

func TestAckDeadline(t *testing.T) {
	t.Parallel()
	runCases(t, PolicyAckDeadline, []ruleCase{
		{name: "spec deadlines pass"},
		{name: "jobs 30", changes: []testkit.Change{testkit.Set(typeSubscription, jobsSub, 30, "ackDeadlineSeconds")},
			want: []string{`subscription "aiprod-pipeline-jobs-sub"`, "ackDeadlineSeconds 30", "jobs subscriptions need 300"}, wantURN: subURN(jobsSub)},
		{name: "results 300", changes: []testkit.Change{testkit.Set(typeSubscription, resultsSub, 300, "ackDeadlineSeconds")},
			want: []string{`subscription "aiprod-pipeline-results-sub"`, "ackDeadlineSeconds 300", "need 60"}},
		{name: "dlq 120", changes: []testkit.Change{testkit.Set(typeSubscription, dlqSub, 120, "ackDeadlineSeconds")},
			want: []string{`subscription "aiprod-pipeline-dlq-sub"`, "ackDeadlineSeconds 120", "need 60"}},
		{name: "jobs unset uses GCP's 10", changes: []testkit.Change{testkit.Set(typeSubscription, jobsSub, nil, "ackDeadlineSeconds")},
			want: []string{`subscription "aiprod-pipeline-jobs-sub"`, "does not set ackDeadlineSeconds", "need 300"}},
		{name: "jobs as a string", changes: []testkit.Change{testkit.Set(typeSubscription, jobsSub, "300", "ackDeadlineSeconds")},
			want: []string{`subscription "aiprod-pipeline-jobs-sub"`, `ackDeadlineSeconds "300"`}},
		{name: "other subscription within range passes",
			changes: []testkit.Change{testkit.Add(newResource("dev", typeSubscription, "audit", map[string]any{
				"name": "audit", "topic": "projects/p/topics/" + stem + "-results", "ackDeadlineSeconds": 600,
				"expirationPolicy": map[string]any{"ttl": ""}, "labels": map[string]any{"app": "a", "env": "dev", "managed-by": "pulumi"},
				"deadLetterPolicy": map[string]any{"deadLetterTopic": "projects/p/topics/" + stem + "-dlq", "maxDeliveryAttempts": 5},
			}))},
			also: []string{PolicyDeadLetterAlert, PolicyDeadLetterIAM}},
		{name: "other subscription above 600",
			changes: []testkit.Change{testkit.Set(typeSubscription, jobsSub, "aiprod-pipeline-jobs-worker", "name"), testkit.Set(typeSubscription, jobsSub, 601, "ackDeadlineSeconds")},
			// Renaming the jobs subscription also breaks the topology and the grants that name it.
			want: []string{`subscription "aiprod-pipeline-jobs-worker"`, "ackDeadlineSeconds 601", "between 10 and 600"},
			also: []string{PolicyDeadLetterAlert, PolicyPipelineTopology, PolicyDeadLetterIAM}},
		{name: "below 10 for an unnamed role",
			changes: []testkit.Change{testkit.Add(newResource("dev", typeSubscription, "x", map[string]any{"ackDeadlineSeconds": 5}))},
			want:    []string{`subscription "x"`, "ackDeadlineSeconds 5", "between 10 and 600"},
			also:    []string{PolicyDeadLetter, PolicyNoExpiration, PolicyRequiredLabels}},
		{name: "config changes the jobs deadline", config: map[string]any{"jobsAckDeadlineSeconds": 120.0},
			want: []string{`subscription "aiprod-pipeline-jobs-sub"`, "ackDeadlineSeconds 300", "need 120"}},
		{name: "config matching the spec passes", config: map[string]any{"jobsAckDeadlineSeconds": 300.0, "dlqAckDeadlineSeconds": 60}},
	})
}

func TestDeadLetter(t *testing.T) {
	t.Parallel()
	dlqID := "projects/" + testProject + "/topics/" + stem + "-dlq"
	runCases(t, PolicyDeadLetter, []ruleCase{
		{name: "spec dead-letter policies pass"},
		{name: "max attempts 100 passes", changes: []testkit.Change{testkit.Set(typeSubscription, jobsSub, 100, "deadLetterPolicy", "maxDeliveryAttempts")}},
		{name: "max attempts 3", changes: []testkit.Change{testkit.Set(typeSubscription, jobsSub, 3, "deadLetterPolicy", "maxDeliveryAttempts")},
			want: []string{`subscription "aiprod-pipeline-jobs-sub"`, "deadLetterPolicy.maxDeliveryAttempts 3", "between 5 and 100"}, wantURN: subURN(jobsSub)},
		{name: "max attempts 101", changes: []testkit.Change{testkit.Set(typeSubscription, resultsSub, 101, "deadLetterPolicy", "maxDeliveryAttempts")},
			want: []string{`subscription "aiprod-pipeline-results-sub"`, "deadLetterPolicy.maxDeliveryAttempts 101"}},
		{name: "max attempts unset", changes: []testkit.Change{testkit.Set(typeSubscription, resultsSub, nil, "deadLetterPolicy", "maxDeliveryAttempts")},
			want: []string{`subscription "aiprod-pipeline-results-sub"`, "no deadLetterPolicy.maxDeliveryAttempts"}},
		{name: "no dead-letter policy", changes: []testkit.Change{testkit.Set(typeSubscription, resultsSub, nil, "deadLetterPolicy")},
			want: []string{`subscription "aiprod-pipeline-results-sub"`, "no deadLetterPolicy"},
			// Without a dead-letter policy the dlq topic still has its subscription: nothing else fires.
		},
		{name: "results without dead-lettering names the policy config that allows it",
			changes: []testkit.Change{testkit.Set(typeSubscription, resultsSub, nil, "deadLetterPolicy")},
			want:    []string{"policy config pubsub-dead-letter.deadLetterResults: false"}},
		{name: "results without dead-lettering, allowed by policy config", config: map[string]any{"deadLetterResults": false},
			changes: []testkit.Change{testkit.Set(typeSubscription, resultsSub, nil, "deadLetterPolicy")}},
		{name: "jobs must dead-letter whatever the config", config: map[string]any{"deadLetterResults": false},
			changes: []testkit.Change{testkit.Set(typeSubscription, jobsSub, nil, "deadLetterPolicy")},
			want:    []string{`subscription "aiprod-pipeline-jobs-sub" has no deadLetterPolicy; a message that always fails would be redelivered forever`},
			// The service agent's subscriber grant on the jobs subscription is then one too many: fine.
		},
		{name: "dead-letter topic as a short name", changes: []testkit.Change{testkit.Set(typeSubscription, jobsSub, stem+"-dlq", "deadLetterPolicy", "deadLetterTopic")},
			want: []string{`subscription "aiprod-pipeline-jobs-sub"`, `deadLetterPolicy.deadLetterTopic "aiprod-pipeline-dlq"`, "full topic id"}},
		{name: "no dead-letter topic", changes: []testkit.Change{testkit.Set(typeSubscription, jobsSub, nil, "deadLetterPolicy", "deadLetterTopic")},
			want: []string{`subscription "aiprod-pipeline-jobs-sub"`, "no deadLetterPolicy.deadLetterTopic"}},
		{name: "dead-letters to its own topic",
			changes: []testkit.Change{testkit.Set(typeSubscription, jobsSub, "projects/"+testProject+"/topics/"+stem+"-jobs", "deadLetterPolicy", "deadLetterTopic")},
			want:    []string{`subscription "aiprod-pipeline-jobs-sub"`, `deadLetterTopic "projects/aiprod-dev-000000/topics/aiprod-pipeline-jobs"`, "its own topic"},
			// The service agent then lacks publisher on the jobs topic.
			also: []string{PolicyDeadLetterIAM}},
		{name: "dlq subscription with a dead-letter policy",
			changes: []testkit.Change{testkit.Set(typeSubscription, dlqSub, map[string]any{"deadLetterTopic": dlqID, "maxDeliveryAttempts": 5}, "deadLetterPolicy")},
			want:    []string{`subscription "aiprod-pipeline-dlq-sub"`, "deadLetterPolicy", `deadLetterTopic "` + dlqID + `"`},
			also:    []string{PolicyDeadLetterAlert, PolicyDeadLetterIAM}},
	})
}

func TestMessageOrdering(t *testing.T) {
	t.Parallel()
	runCases(t, PolicyMessageOrdering, []ruleCase{
		{name: "jobs ordered passes"},
		{name: "jobs ordering off", changes: []testkit.Change{testkit.Set(typeSubscription, jobsSub, false, "enableMessageOrdering")},
			want: []string{`subscription "aiprod-pipeline-jobs-sub"`, "enableMessageOrdering false", "need true"}, wantURN: subURN(jobsSub)},
		{name: "jobs ordering unset", changes: []testkit.Change{testkit.Set(typeSubscription, jobsSub, nil, "enableMessageOrdering")},
			want: []string{`subscription "aiprod-pipeline-jobs-sub"`, "does not set enableMessageOrdering"}},
		{name: "results unordered passes", changes: []testkit.Change{testkit.Set(typeSubscription, resultsSub, false, "enableMessageOrdering")}},
	})
}

func TestNoExpiration(t *testing.T) {
	t.Parallel()
	runCases(t, PolicyNoExpiration, []ruleCase{
		{name: "never expiring passes"},
		{name: "ttl 31 days", changes: []testkit.Change{testkit.Set(typeSubscription, resultsSub, "2678400s", "expirationPolicy", "ttl")},
			want: []string{`subscription "aiprod-pipeline-results-sub"`, `expirationPolicy.ttl "2678400s"`}, wantURN: subURN(resultsSub)},
		{name: "no expiration policy", changes: []testkit.Change{testkit.Set(typeSubscription, dlqSub, nil, "expirationPolicy")},
			want: []string{`subscription "aiprod-pipeline-dlq-sub"`, "does not set expirationPolicy.ttl"}},
		{name: "expiration policy without ttl", changes: []testkit.Change{testkit.Set(typeSubscription, jobsSub, nil, "expirationPolicy", "ttl")},
			want: []string{`subscription "aiprod-pipeline-jobs-sub"`, "does not set expirationPolicy.ttl"}},
	})
}

func TestDLQRetention(t *testing.T) {
	t.Parallel()
	runCases(t, PolicyDLQRetention, []ruleCase{
		{name: "7 days passes"},
		{name: "31 days passes", changes: []testkit.Change{testkit.Set(typeSubscription, dlqSub, "2678400s", "messageRetentionDuration")}},
		{name: "unset is GCP's 7 days", changes: []testkit.Change{testkit.Set(typeSubscription, dlqSub, nil, "messageRetentionDuration")}},
		{name: "1 day", changes: []testkit.Change{testkit.Set(typeSubscription, dlqSub, "86400s", "messageRetentionDuration")},
			want: []string{`subscription "aiprod-pipeline-dlq-sub"`, `messageRetentionDuration "86400s"`, "at least 604800s"}, wantURN: subURN(dlqSub)},
		{name: "32 days", changes: []testkit.Change{testkit.Set(typeSubscription, dlqSub, "2764800s", "messageRetentionDuration")},
			want: []string{`subscription "aiprod-pipeline-dlq-sub"`, `messageRetentionDuration "2764800s"`, "at most"}},
		{name: "not a duration", changes: []testkit.Change{testkit.Set(typeSubscription, dlqSub, "7d", "messageRetentionDuration")},
			want: []string{`subscription "aiprod-pipeline-dlq-sub"`, `messageRetentionDuration "7d"`}},
		{name: "1 day on jobs passes", changes: []testkit.Change{testkit.Set(typeSubscription, jobsSub, "86400s", "messageRetentionDuration")}},
		{name: "config asks for 14 days", config: map[string]any{"minimumRetentionSeconds": 1209600.0},
			want: []string{`subscription "aiprod-pipeline-dlq-sub"`, `messageRetentionDuration "604800s"`, "at least 1209600s"}},
	})
}
