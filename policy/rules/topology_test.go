package rules

import (
	"testing"

	"github.com/aiprod/aiprod-pubsub/spec"
	"github.com/aiprod/aiprod-pubsub/testkit"
)

func TestDeadLetterIAM(t *testing.T) {
	t.Parallel()
	runCases(t, PolicyDeadLetterIAM, []ruleCase{
		{name: "spec grants pass"},
		{name: "no service-agent subscriber on the jobs subscription",
			changes: []testkit.Change{testkit.Drop(typeSubIAMMember, jobsSub+"-subscriber-agent")},
			want:    []string{`subscription "aiprod-pipeline-jobs-sub"`, "service agent", "roles/pubsub.subscriber"},
			wantURN: subURN(jobsSub)},
		{name: "service-agent grant with the wrong role",
			changes: []testkit.Change{testkit.Set(typeSubIAMMember, resultsSub+"-subscriber-agent", roleViewer, "role")},
			want:    []string{`subscription "aiprod-pipeline-results-sub"`, "roles/pubsub.subscriber"}},
		{name: "subscriber grant to another account",
			changes: []testkit.Change{testkit.Set(typeSubIAMMember, resultsSub+"-subscriber-agent", testApp, "member")},
			want:    []string{`subscription "aiprod-pipeline-results-sub"`, "service agent"}},
		{name: "grant naming the subscription by full id passes",
			changes: []testkit.Change{testkit.Set(typeSubIAMMember, jobsSub+"-subscriber-agent", "projects/"+testProject+"/subscriptions/"+jobsSub, "subscription")}},
		{name: "no service-agent publisher on the dlq topic",
			changes: []testkit.Change{testkit.Drop(typeTopicIAMMember, stem+"-dlq-publisher-agent")},
			want:    []string{`topic "aiprod-pipeline-dlq"`, "roles/pubsub.publisher"},
			count:   2},
		{name: "dlq topic without a subscription",
			changes: []testkit.Change{testkit.Drop(typeSubscription, dlqSub)},
			want:    []string{`topic "aiprod-pipeline-dlq"`, "no subscription", "lost"},
			count:   2, also: []string{PolicyPipelineTopology}},
		{name: "dead-lettering to a topic of another project",
			changes: []testkit.Change{testkit.Set(typeSubscription, jobsSub, "projects/other/topics/"+stem+"-dlq", "deadLetterPolicy", "deadLetterTopic")},
			want:    []string{`subscription "aiprod-pipeline-jobs-sub"`, `topic "aiprod-pipeline-dlq"`},
			count:   2},
	})
}

func TestPipelineTopology(t *testing.T) {
	t.Parallel()
	other := "serviceAccount:someone@" + testProject + ".iam.gserviceaccount.com"
	runCases(t, PolicyPipelineTopology, []ruleCase{
		{name: "spec pipeline passes"},
		{name: "another account id passes", changes: []testkit.Change{
			testkit.Set(typeTopicIAMMember, stem+"-jobs-publisher-app", other, "member"),
			testkit.Set(typeTopicIAMMember, stem+"-results-publisher-app", other, "member"),
			testkit.Set(typeTopicIAMMember, stem+"-dlq-publisher-app", other, "member"),
			testkit.Set(typeSubIAMMember, jobsSub+"-subscriber-app", other, "member"),
		}},
		{name: "no results topic", changes: []testkit.Change{testkit.Drop(typeTopic, stem+"-results")},
			want:    []string{`pipeline "aiprod-pipeline"`, `no topic "aiprod-pipeline-results"`},
			wantURN: subURN(resultsSub)},
		{name: "no jobs subscription", changes: []testkit.Change{testkit.Drop(typeSubscription, jobsSub)},
			want: []string{`no subscription "aiprod-pipeline-jobs-sub"`}},
		{name: "results subscription on the jobs topic",
			changes: []testkit.Change{testkit.Set(typeSubscription, resultsSub, "projects/"+testProject+"/topics/"+stem+"-jobs", "topic")},
			want:    []string{`subscription "aiprod-pipeline-results-sub"`, `topic "projects/aiprod-dev-000000/topics/aiprod-pipeline-jobs"`},
			count:   2},
		{name: "a second subscription on the jobs topic",
			changes: []testkit.Change{testkit.Add(newResource("dev", typeSubscription, "audit", map[string]any{
				"name": "audit", "project": testProject, "topic": "projects/" + testProject + "/topics/" + stem + "-jobs",
				"expirationPolicy": map[string]any{"ttl": ""}, "labels": map[string]any{"app": "a", "env": "dev", "managed-by": "pulumi"},
				"deadLetterPolicy": map[string]any{"deadLetterTopic": "projects/" + testProject + "/topics/" + stem + "-dlq", "maxDeliveryAttempts": 5},
			}))},
			want: []string{`topic "aiprod-pipeline-jobs"`, `subscription "audit"`},
			also: []string{PolicyDeadLetterAlert, PolicyDeadLetterIAM}},
		{name: "app not publisher on the jobs topic", changes: []testkit.Change{testkit.Drop(typeTopicIAMMember, stem+"-jobs-publisher-app")},
			want:    []string{`"` + testApp + `"`, "roles/pubsub.publisher", `topic "aiprod-pipeline-jobs"`},
			wantURN: testURN("dev", typeTopic, stem+"-jobs")},
		{name: "app not subscriber on the jobs subscription", changes: []testkit.Change{testkit.Drop(typeSubIAMMember, jobsSub+"-subscriber-app")},
			want:    []string{`"` + testApp + `"`, "roles/pubsub.subscriber", `subscription "aiprod-pipeline-jobs-sub"`},
			wantURN: subURN(jobsSub)},
		{name: "the service agent does not count as the app",
			changes: []testkit.Change{
				testkit.Drop(typeTopicIAMMember, stem+"-jobs-publisher-app"),
				testkit.Drop(typeTopicIAMMember, stem+"-results-publisher-app"),
				testkit.Drop(typeTopicIAMMember, stem+"-dlq-publisher-app"),
				testkit.Drop(typeSubIAMMember, jobsSub+"-subscriber-app"),
			},
			want: []string{`pipeline "aiprod-pipeline"`, "no application service account"}, count: 4},
	})
}

func TestDeadLetterAlert(t *testing.T) {
	t.Parallel()
	alert := stem + "-dead-letters-alert"
	failures := stem + "-dead-letter-forward-failures-alert"
	runCases(t, PolicyDeadLetterAlert, []ruleCase{
		{name: "every dead-lettering subscription watched passes"},
		{name: "no alert policy", changes: []testkit.Change{testkit.Drop(spec.AlertPolicyType, alert)},
			want: []string{`subscription "aiprod-pipeline-jobs-sub" dead-letters, but no alert policy watches its subscription/dead_letter_message_count`}, count: 2},
		{name: "results not watched", changes: []testkit.Change{testkit.Drop(spec.AlertPolicyType, alert),
			testkit.Add(deadLetterAlertResource("dev", stem, stem+"-jobs-sub"))},
			want: []string{`subscription "aiprod-pipeline-results-sub"`}, wantURN: subURN(resultsSub)},
		{name: "an alert on another metric does not count", changes: []testkit.Change{
			testkit.Set(spec.AlertPolicyType, alert, spec.SubscriptionFilter(spec.MetricUndelivered, stem+"-results-sub"), "conditions")},
			want: []string{"dead-letters"}, count: 2},
		{name: "results without dead-lettering need no alert",
			changes: []testkit.Change{testkit.Set(typeSubscription, resultsSub, nil, "deadLetterPolicy"), testkit.Drop(spec.AlertPolicyType, alert),
				testkit.Add(deadLetterAlertResource("dev", stem, stem+"-jobs-sub"))},
			also: []string{PolicyDeadLetter}},
		{name: "unknown conditions are not judged", changes: []testkit.Change{testkit.Set(spec.AlertPolicyType, alert, computed, "conditions")}},
		{name: "no failed-forward alert", changes: []testkit.Change{testkit.Drop(spec.AlertPolicyType, failures)},
			want: []string{`subscription "aiprod-pipeline-jobs-sub" dead-letters, but no alert policy watches the dead letters Pub/Sub fails to forward`}, count: 2},
		{name: "failed forwards of results not watched", changes: []testkit.Change{testkit.Drop(spec.AlertPolicyType, failures),
			testkit.Add(forwardFailuresAlertResource("dev", stem, stem+"-jobs-sub"))},
			want: []string{`subscription "aiprod-pipeline-results-sub"`, "fails to forward"}, wantURN: subURN(resultsSub)},
		{name: "failed forwards alone do not count as dead letters", changes: []testkit.Change{testkit.Drop(spec.AlertPolicyType, alert)},
			want: []string{"no alert policy watches its subscription/dead_letter_message_count"}, count: 2},
		{name: "one alert on every outcome watches both", changes: []testkit.Change{testkit.Drop(spec.AlertPolicyType, alert), testkit.Drop(spec.AlertPolicyType, failures),
			testkit.Set(typeSubscription, resultsSub, nil, "deadLetterPolicy"),
			testkit.Add(newResource("dev", spec.AlertPolicyType, "all", map[string]any{"conditions": []any{map[string]any{
				"conditionThreshold": map[string]any{"filter": spec.SubscriptionFilter(spec.MetricDeadLetters, jobsSub)}}}}))},
			also: []string{PolicyDeadLetter}},
	})
}
