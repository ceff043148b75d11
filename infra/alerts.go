package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-gcp/sdk/v8/go/gcp/monitoring"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// Aligners of the alerts' conditions: a DELTA metric is summed over the window, a GAUGE
// metric taken at its worst.
const (
	alignSum = "ALIGN_SUM"
	alignMax = "ALIGN_MAX"
)

// condition is one threshold condition of an alert policy.
type condition struct {
	name, filter, aligner string
	// denominator, when set, makes the condition a ratio of filter to it.
	denominator  string
	threshold    float64
	window, hold int // seconds: the alignment window, and how long the threshold must hold
}

// alert is one alert policy: what it means and what to do are its documentation.
type alert struct {
	key, title, runbook string
	conditions          []condition
}

// alerts declares the pipeline's alert policies: dead letters arriving, stalled consumers,
// retention about to run out, a dead-letter backlog and publish errors. Their thresholds come
// from the settings; their documentation names the runbook step.
func (b builder) alerts() error {
	for _, a := range b.alertSpecs() {
		if err := b.alertPolicy(spec.AlertName(b.args.Settings.NamePrefix, b.args.Pipeline, a.key), a); err != nil {
			return err
		}
	}
	return nil
}

// alertSpecs are the pipeline's alerts, from its settings.
func (b builder) alertSpecs() []alert {
	s := b.args.Settings
	sub := func(q spec.Queue) string { return spec.SubscriptionName(s.NamePrefix, b.args.Pipeline, q) }
	dlq := sub(spec.DLQ)
	redrive := fmt.Sprintf("go run ./cmd/dlq inspect --stack %s --pipeline %s", b.args.Environment, b.args.Pipeline)
	var dead, stalled, retention, publish []condition
	for _, q := range spec.Queues {
		if s.Subscriptions[q].DeadLetter {
			dead = append(dead, condition{name: "dead letters from " + sub(q), filter: spec.SubscriptionFilter(spec.MetricDeadLetters, sub(q)),
				aligner: alignSum, window: spec.AlertWindowSeconds})
		}
		if q != spec.DLQ {
			stalled = append(stalled, condition{name: "oldest unacked message of " + sub(q), filter: spec.SubscriptionFilter(spec.MetricOldestUnackedAge, sub(q)),
				aligner: alignMax, threshold: float64(s.StalledThreshold(q)), window: spec.AlertWindowSeconds, hold: spec.StalledForSeconds})
		}
		retention = append(retention, condition{name: "oldest unacked message of " + sub(q), filter: spec.SubscriptionFilter(spec.MetricOldestUnackedAge, sub(q)),
			aligner: alignMax, threshold: float64(s.RetentionThreshold(q)), window: spec.AlertWindowSeconds, hold: spec.AlertWindowSeconds})
		topic := spec.TopicName(s.NamePrefix, b.args.Pipeline, q)
		publish = append(publish, condition{name: "failed publishes to " + topic, filter: spec.TopicFilter(spec.MetricSendRequests, topic, true),
			denominator: spec.TopicFilter(spec.MetricSendRequests, topic, false), aligner: alignSum,
			threshold: float64(s.Alerts.PublishErrorPercent) / 100, window: spec.PublishWindowSeconds})
	}
	backlog := []condition{{name: "undelivered messages of " + dlq, filter: spec.SubscriptionFilter(spec.MetricUndelivered, dlq),
		aligner: alignMax, window: spec.AlertWindowSeconds, hold: s.Alerts.DeadLetterBacklogMinutes * 60}}
	return []alert{
		{"dead-letters", "Dead letters arriving", "A message failed every delivery and went to " + dlq + ". Inspect it: `" + redrive + "`; fix the worker or the message, then replay it: `go run ./cmd/dlq replay --yes ...` (dry run without --yes).", dead},
		{"stalled", "Consumers stalled", "Messages wait longer than every retry allows: the workers are down, stuck or too few. Check the workers' logs and scale them; nothing is lost yet.", stalled},
		{"retention", "Retention about to run out", "The oldest unacked message has waited half its subscription's retention; when retention runs out it is deleted. Drain the subscription (scale the workers), or for " + dlq + " replay or purge: `" + redrive + "`.", retention},
		{"dlq-backlog", "Dead-letter backlog", "Dead letters have waited in " + dlq + " for a while. Inspect and replay or purge them: `" + redrive + "`.", backlog},
		{"publish-errors", "Publish errors", "More publishes fail than the threshold allows: check the schema rejections (a publisher sending messages that break the contract), quotas and the publishers' credentials.", publish},
	}
}

// alertPolicy declares one alert policy, its conditions ORed.
func (b builder) alertPolicy(name string, a alert) error {
	var conds monitoring.AlertPolicyConditionArray
	for _, c := range a.conditions {
		t := &monitoring.AlertPolicyConditionConditionThresholdArgs{
			Filter:         pulumi.String(c.filter),
			Comparison:     pulumi.String("COMPARISON_GT"),
			ThresholdValue: pulumi.Float64(c.threshold),
			Duration:       pulumi.String(spec.Seconds(c.hold)),
			Aggregations: monitoring.AlertPolicyConditionConditionThresholdAggregationArray{&monitoring.AlertPolicyConditionConditionThresholdAggregationArgs{
				AlignmentPeriod: pulumi.String(spec.Seconds(c.window)), PerSeriesAligner: pulumi.String(c.aligner),
			}},
		}
		if c.denominator != "" {
			t.DenominatorFilter = pulumi.String(c.denominator)
			t.DenominatorAggregations = monitoring.AlertPolicyConditionConditionThresholdDenominatorAggregationArray{&monitoring.AlertPolicyConditionConditionThresholdDenominatorAggregationArgs{
				AlignmentPeriod: pulumi.String(spec.Seconds(c.window)), PerSeriesAligner: pulumi.String(c.aligner),
			}}
		}
		conds = append(conds, &monitoring.AlertPolicyConditionArgs{DisplayName: pulumi.String(c.name), ConditionThreshold: t})
	}
	_, err := monitoring.NewAlertPolicy(b.ctx, name, &monitoring.AlertPolicyArgs{
		Project:              pulumi.String(b.args.Project),
		DisplayName:          pulumi.String(fmt.Sprintf("%s: %s (%s)", a.title, b.args.Pipeline, b.args.Environment)),
		Combiner:             pulumi.String("OR"),
		Conditions:           conds,
		NotificationChannels: b.args.NotificationChannels,
		Documentation:        &monitoring.AlertPolicyDocumentationArgs{Content: pulumi.String(a.runbook), MimeType: pulumi.String("text/markdown")},
		UserLabels:           b.labels(),
	}, pulumi.Parent(b.parent))
	if err != nil {
		return fmt.Errorf("creating alert policy %q: %w", name, err)
	}
	return nil
}
