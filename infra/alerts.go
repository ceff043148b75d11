package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-gcp/sdk/v8/go/gcp/monitoring"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// aligners are the alerts' per-series aligners by metric kind: a count (DELTA) is summed over
// the window, a gauge taken at its worst.
var aligners = map[string]string{spec.KindDelta: "ALIGN_SUM", spec.KindGauge: "ALIGN_MAX"}

// missingData is how a condition treats a series without points, by its metric's kind.
//   - A count (DELTA: dead letters, failed forwards, publish requests) has no points when
//     nothing happens, which is the healthy case: missing data is inactive, so the condition
//     clears, and the incident closes, once the failures stop.
//   - A gauge (backlog, oldest unacked age) has a point every minute except in Pub/Sub's
//     reporting gaps: a gap must neither open nor close an incident, so missing data changes
//     nothing; auto-close ends an incident whose series is gone for good.
var missingData = map[string]string{spec.KindDelta: spec.MissingDataInactive, spec.KindGauge: spec.MissingDataNoOp}

// condition is one threshold condition of an alert policy.
type condition struct {
	name, filter, metric string
	// denominator, when set, makes the condition a ratio of filter to it; both sides are then
	// summed across series per topic, so that they have the same labels.
	denominator  string
	threshold    float64
	window, hold int // seconds: the alignment window, and how long the threshold must hold
}

// alert is one alert policy: what it means and what to do are its documentation. All of its
// conditions read metrics of one kind, which decides its auto-close.
type alert struct {
	key, title, runbook string
	kind                string
	conditions          []condition
}

// alerts declares the pipeline's alert policies: dead letters arriving, dead letters Pub/Sub
// failed to forward, stalled consumers, retention about to run out, a dead-letter backlog and
// publish errors. Their thresholds come from the settings; their documentation names the
// runbook step.
func (b builder) alerts() error {
	for _, a := range b.alertSpecs() {
		if err := b.alertPolicy(spec.AlertName(b.args.Settings.NamePrefix, b.args.Pipeline, a.key), a); err != nil {
			return err
		}
	}
	return nil
}

// alertConditions are the conditions of the pipeline's alerts, by alert key.
func (b builder) alertConditions() map[string][]condition {
	s := b.args.Settings
	sub := func(q spec.Queue) string { return spec.SubscriptionName(s.NamePrefix, b.args.Pipeline, q) }
	out := map[string][]condition{}
	add := func(key string, c condition) { out[key] = append(out[key], c) }
	for _, q := range spec.Queues {
		if s.Subscriptions[q].DeadLetter {
			add(alertDeadLetters, condition{name: "dead letters from " + sub(q), filter: spec.DeadLetterFilter(sub(q), true),
				metric: spec.MetricDeadLetters, window: spec.AlertWindowSeconds})
			add(alertForwardFailures, condition{name: "failed dead-letter forwards from " + sub(q), filter: spec.DeadLetterFilter(sub(q), false),
				metric: spec.MetricDeadLetters, window: spec.AlertWindowSeconds})
		}
		if q != spec.DLQ {
			add(alertStalled, condition{name: "oldest unacked message of " + sub(q), filter: spec.SubscriptionFilter(spec.MetricOldestUnackedAge, sub(q)),
				metric: spec.MetricOldestUnackedAge, threshold: float64(s.StalledThreshold(q)), window: spec.AlertWindowSeconds, hold: spec.StalledForSeconds})
		}
		add(alertRetention, condition{name: "oldest unacked message of " + sub(q), filter: spec.SubscriptionFilter(spec.MetricOldestUnackedAge, sub(q)),
			metric: spec.MetricOldestUnackedAge, threshold: float64(s.RetentionThreshold(q)), window: spec.AlertWindowSeconds, hold: spec.AlertWindowSeconds})
		topic := spec.TopicName(s.NamePrefix, b.args.Pipeline, q)
		add(alertPublishErrors, condition{name: "failed publishes to " + topic, filter: spec.TopicFilter(spec.MetricSendRequests, topic, true),
			denominator: spec.TopicFilter(spec.MetricSendRequests, topic, false), metric: spec.MetricSendRequests,
			threshold: float64(s.Alerts.PublishErrorPercent) / 100, window: spec.PublishWindowSeconds})
	}
	add(alertBacklog, condition{name: "undelivered messages of " + sub(spec.DLQ), filter: spec.SubscriptionFilter(spec.MetricUndelivered, sub(spec.DLQ)),
		metric: spec.MetricUndelivered, window: spec.AlertWindowSeconds, hold: s.Alerts.DeadLetterBacklogMinutes * 60})
	return out
}

// The alerts' keys, the middle of their names.
const (
	alertDeadLetters     = "dead-letters"
	alertForwardFailures = "dead-letter-forward-failures"
	alertStalled         = "stalled"
	alertRetention       = "retention"
	alertBacklog         = "dlq-backlog"
	alertPublishErrors   = "publish-errors"
)

// alertSpecs are the pipeline's alerts, from its settings.
func (b builder) alertSpecs() []alert {
	s := b.args.Settings
	dlq := spec.SubscriptionName(s.NamePrefix, b.args.Pipeline, spec.DLQ)
	dlqTopic := spec.TopicName(s.NamePrefix, b.args.Pipeline, spec.DLQ)
	redrive := fmt.Sprintf("go run ./cmd/dlq inspect --stack %s --pipeline %s", b.args.Environment, b.args.Pipeline)
	conds := b.alertConditions()
	grants := fmt.Sprintf("Pub/Sub could not forward a message that failed every delivery to %s, so it stays in its subscription and is delivered again. "+
		"Forwarding is done by the project's Pub/Sub service agent (`service-<project number>@%s`, the foundation stack's output `%s`): it needs `%s` on the topic %s and `%s` on each dead-lettering subscription. "+
		"The stack grants both; check that they are still there (`gcloud pubsub topics get-iam-policy %s`, `gcloud pubsub subscriptions get-iam-policy <subscription>`) "+
		"and that %s exists, then run the deploy (or the drift check) to restore them.",
		dlqTopic, spec.ServiceAgentDomain, spec.ServiceAgentOutput, spec.RolePublisher, dlqTopic, spec.RoleSubscriber, dlqTopic, dlqTopic)
	out := []alert{
		{alertDeadLetters, "Dead letters arriving", "A message failed every delivery and went to " + dlq + ". Inspect it: `" + redrive + "`; fix the worker or the message, then replay it: `go run ./cmd/dlq replay --yes ...` (dry run without --yes).", spec.KindDelta, conds[alertDeadLetters]},
		{alertForwardFailures, "Dead letters not forwarded", grants, spec.KindDelta, conds[alertForwardFailures]},
		{alertStalled, "Consumers stalled", "Messages wait longer than every retry allows: the workers are down, stuck or too few. Check the workers' logs and scale them; nothing is lost yet.", spec.KindGauge, conds[alertStalled]},
		{alertRetention, "Retention about to run out", "The oldest unacked message has waited half its subscription's retention; when retention runs out it is deleted. Drain the subscription (scale the workers), or for " + dlq + " replay or purge: `" + redrive + "`.", spec.KindGauge, conds[alertRetention]},
		{alertBacklog, "Dead-letter backlog", "Dead letters have waited in " + dlq + " for a while. Inspect and replay or purge them: `" + redrive + "`.", spec.KindGauge, conds[alertBacklog]},
		{alertPublishErrors, "Publish errors", "More publishes fail than the threshold allows: check the schema rejections (a publisher sending messages that break the contract), quotas and the publishers' credentials.", spec.KindDelta, conds[alertPublishErrors]},
	}
	var kept []alert
	for _, a := range out {
		if len(a.conditions) > 0 { // no dead-lettering subscription, no dead-letter alerts
			kept = append(kept, a)
		}
	}
	return kept
}

// alertPolicy declares one alert policy, its conditions ORed. Every value is declared in the
// form GCP reads it back (spec.ReadBackRules): a zero threshold is left out, as GCP omits it.
func (b builder) alertPolicy(name string, a alert) error {
	var conds monitoring.AlertPolicyConditionArray
	for _, c := range a.conditions {
		conds = append(conds, &monitoring.AlertPolicyConditionArgs{DisplayName: pulumi.String(c.name), ConditionThreshold: threshold(c)})
	}
	args := &monitoring.AlertPolicyArgs{
		Project:       pulumi.String(b.args.Project),
		DisplayName:   pulumi.String(fmt.Sprintf("%s: %s (%s)", a.title, b.args.Pipeline, b.args.Environment)),
		Combiner:      pulumi.String("OR"),
		Conditions:    conds,
		AlertStrategy: &monitoring.AlertPolicyAlertStrategyArgs{AutoClose: pulumi.String(spec.Seconds(spec.AutoCloseSeconds[a.kind]))},
		Documentation: &monitoring.AlertPolicyDocumentationArgs{Content: pulumi.String(a.runbook), MimeType: pulumi.String("text/markdown")},
		UserLabels:    b.labels(),
	}
	if b.args.NotificationChannels != nil {
		args.NotificationChannels = b.args.NotificationChannels
	}
	if _, err := monitoring.NewAlertPolicy(b.ctx, name, args, pulumi.Parent(b.parent)); err != nil {
		return fmt.Errorf("creating alert policy %q: %w", name, err)
	}
	return nil
}

// threshold is a condition's threshold, aligned by its metric's kind. A ratio sums numerator
// and denominator across series per topic: without it each failing series (one per response
// code) would be divided by its own copy, a ratio of 1.
func threshold(c condition) *monitoring.AlertPolicyConditionConditionThresholdArgs {
	kind := spec.MetricKind(c.metric)
	t := &monitoring.AlertPolicyConditionConditionThresholdArgs{
		Filter:                pulumi.String(c.filter),
		Comparison:            pulumi.String("COMPARISON_GT"),
		Duration:              pulumi.String(spec.Seconds(c.hold)),
		EvaluationMissingData: pulumi.String(missingData[kind]),
	}
	if c.threshold != 0 {
		t.ThresholdValue = pulumi.Float64(c.threshold)
	}
	agg := &monitoring.AlertPolicyConditionConditionThresholdAggregationArgs{
		AlignmentPeriod: pulumi.String(spec.Seconds(c.window)), PerSeriesAligner: pulumi.String(aligners[kind]),
	}
	if c.denominator != "" {
		agg.CrossSeriesReducer = pulumi.String(spec.ReduceSum)
		agg.GroupByFields = pulumi.StringArray{pulumi.String(spec.GroupByTopic)}
		t.DenominatorFilter = pulumi.String(c.denominator)
		t.DenominatorAggregations = monitoring.AlertPolicyConditionConditionThresholdDenominatorAggregationArray{&monitoring.AlertPolicyConditionConditionThresholdDenominatorAggregationArgs{
			AlignmentPeriod: agg.AlignmentPeriod, PerSeriesAligner: agg.PerSeriesAligner,
			CrossSeriesReducer: agg.CrossSeriesReducer, GroupByFields: agg.GroupByFields,
		}}
	}
	t.Aggregations = monitoring.AlertPolicyConditionConditionThresholdAggregationArray{agg}
	return t
}
