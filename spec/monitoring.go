package spec

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Type tokens of the monitoring and encryption resources the program creates.
const (
	AlertPolicyType                 = "gcp:monitoring/alertPolicy:AlertPolicy"
	NotificationChannelType         = "gcp:monitoring/notificationChannel:NotificationChannel"
	DashboardType                   = "gcp:monitoring/dashboard:Dashboard"
	CryptoKeyIAMMemberType          = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"
	RoleCryptoKeyEncrypterDecrypter = "roles/cloudkms.cryptoKeyEncrypterDecrypter"
)

// Pub/Sub metric types the alerts and the dashboard read (Google's list of Pub/Sub metrics;
// spec/testdata/pubsub-metrics.tsv keeps it, with its source and each metric's labels).
const (
	MetricDeadLetters      = "pubsub.googleapis.com/subscription/dead_letter_message_count"
	MetricOldestUnackedAge = "pubsub.googleapis.com/subscription/oldest_unacked_message_age"
	MetricUndelivered      = "pubsub.googleapis.com/subscription/num_undelivered_messages"
	MetricSendRequests     = "pubsub.googleapis.com/topic/send_request_count"
	subscriptionResource   = "pubsub_subscription"
	topicResource          = "pubsub_topic"
	// successResponse is the value of response_class and response_code for a request that
	// succeeded.
	successResponse = "success"
)

// Metrics lists every metric type the program uses.
var Metrics = []string{MetricDeadLetters, MetricOldestUnackedAge, MetricUndelivered, MetricSendRequests}

// Metric kinds (MetricDescriptor.MetricKind): a DELTA metric counts what happened in an
// interval and has no points when nothing happened; a GAUGE metric samples a state and has a
// point every sampling period, gaps aside.
const (
	KindDelta = "DELTA"
	KindGauge = "GAUGE"
)

// MetricKind is the kind of a metric the program uses, as Google's list gives it.
func MetricKind(metric string) string {
	if metric == MetricDeadLetters || metric == MetricSendRequests {
		return KindDelta
	}
	return KindGauge
}

// How an alert condition treats a time series that stops reporting
// (MetricThreshold.evaluationMissingData in google/monitoring/v3/alert.proto).
const (
	// MissingDataInactive counts missing data as not violating: the condition clears.
	MissingDataInactive = "EVALUATION_MISSING_DATA_INACTIVE"
	// MissingDataActive counts missing data as violating.
	MissingDataActive = "EVALUATION_MISSING_DATA_ACTIVE"
	// MissingDataNoOp keeps the condition as it was until data returns or auto-close fires.
	MissingDataNoOp = "EVALUATION_MISSING_DATA_NO_OP"
)

// Aggregation of a ratio condition: numerator and denominator must have the same labels after
// aggregation, so both are summed across series per topic. groupByFields name a monitored
// resource's label as resource.label.<key>, the form of Google's sample policies and the
// console.
const (
	ReduceSum    = "REDUCE_SUM"
	GroupByTopic = "resource.label.topic_id"
)

// SubscriptionFilter is a Cloud Monitoring filter of one metric of one subscription.
func SubscriptionFilter(metric, subscription string) string {
	return fmt.Sprintf(`metric.type = %q AND resource.type = %q AND resource.labels.subscription_id = %q`,
		metric, subscriptionResource, subscription)
}

// DeadLetterFilter is the filter of one subscription's dead letters: forwarded selects the
// messages Pub/Sub forwarded to the dead-letter topic (response_code success), otherwise the
// forwards that failed (the service agent may not publish to the topic, or the topic is gone).
func DeadLetterFilter(subscription string, forwarded bool) string {
	return SubscriptionFilter(MetricDeadLetters, subscription) + responseClause("response_code", forwarded)
}

// TopicFilter is a Cloud Monitoring filter of one metric of one topic; failed selects the
// requests whose response class is not success.
func TopicFilter(metric, topic string, failed bool) string {
	f := fmt.Sprintf(`metric.type = %q AND resource.type = %q AND resource.labels.topic_id = %q`, metric, topicResource, topic)
	if failed {
		f += responseClause("response_class", false)
	}
	return f
}

// responseClause selects the successful (or the failed) requests by a response label.
func responseClause(label string, success bool) string {
	op := "!="
	if success {
		op = "="
	}
	return fmt.Sprintf(` AND metric.labels.%s %s %q`, label, op, successResponse)
}

var (
	filterRE       = regexp.MustCompile(`metric\.type = "([^"]+)" AND resource\.type = "[^"]+" AND resource\.labels\.(subscription|topic)_id = "([^"]+)"`)
	responseCodeRE = regexp.MustCompile(`metric\.labels\.response_code (!?=) "` + successResponse + `"`)
)

// ParseFilter reads back a filter of SubscriptionFilter or TopicFilter: the metric, the kind
// of resource ("subscription" or "topic") and its name.
func ParseFilter(filter string) (metric, kind, name string, ok bool) {
	m := filterRE.FindStringSubmatch(filter)
	if m == nil {
		return "", "", "", false
	}
	return m[1], m[2], m[3], true
}

// SelectsResponse reports which outcomes a filter of a metric with a response_code label
// selects: the successful requests, the failed ones, or both when it does not choose.
func SelectsResponse(filter string) (success, failed bool) {
	m := responseCodeRE.FindStringSubmatch(filter)
	if m == nil {
		return true, true
	}
	return m[1] == "=", m[1] == "!="
}

// MetricName is a metric type without its service: "subscription/dead_letter_message_count".
func MetricName(metric string) string { return strings.TrimPrefix(metric, "pubsub.googleapis.com/") }

// Alerts are a stack's alerting settings; zero values take the spec's derivations, as the
// fields say.
type Alerts struct {
	// StalledSeconds overrides, for the jobs and results queues, the age of the oldest unacked
	// message above which the consumers count as stalled. 0 derives it: MaxDeliveryAttempts ×
	// (ack deadline + maximum backoff), how long a message may legitimately go unacked.
	StalledSeconds map[Queue]int
	// RetentionPercent is the share of a subscription's retention that the oldest unacked
	// message may reach before the retention alert fires. Default 50.
	RetentionPercent int
	// DeadLetterBacklogMinutes is how long the dlq subscription may hold messages before the
	// backlog alert fires. Default 60.
	DeadLetterBacklogMinutes int
	// PublishErrorPercent is the share of failed publish requests above which the publish
	// alert fires. Default 1.
	PublishErrorPercent int
	// NotificationChannels are existing channels to notify: projects/<p>/notificationChannels/<id>.
	NotificationChannels []string
	// Emails are addresses to notify, each through an email channel the stack creates.
	Emails []string
}

// The alerts' windows. Pub/Sub's backlog metrics have gaps, so no window is shorter than
// five minutes.
const (
	AlertWindowSeconds   = 300
	StalledForSeconds    = 600
	PublishWindowSeconds = 600
)

// AutoCloseSeconds is how long an alert's open incident waits for data before GCP closes it
// (alertStrategy.autoClose), by the kind of metric the alert reads. A count's condition clears
// as soon as nothing happens (missing data is inactive), so auto-close is only a backstop; a
// gauge's incident stays open across the metric's gaps and closes a day after the series is
// gone (the subscription was deleted or renamed).
var AutoCloseSeconds = map[string]int{KindDelta: 1800, KindGauge: 24 * 3600}

// The alerts' bounds.
var (
	RetentionPercentRange    = Range{1, 99}
	BacklogMinutesRange      = Range{AlertWindowSeconds / 60, 24 * 60}
	PublishErrorPercentRange = Range{1, 100}
	stalledSecondsRange      = Range{0, RetentionRange.Max}
)

func defaultAlerts() Alerts {
	return Alerts{RetentionPercent: 50, DeadLetterBacklogMinutes: 60, PublishErrorPercent: 1}
}

// StalledThreshold is the stalled-consumer threshold of a queue's subscription, in seconds.
func (s Settings) StalledThreshold(q Queue) int {
	if n := s.Alerts.StalledSeconds[q]; n > 0 {
		return n
	}
	return s.MaxDeliveryAttempts * (s.Subscriptions[q].AckDeadlineSeconds + s.RetryMaximumBackoffSeconds)
}

// RetentionThreshold is the retention alert's threshold of a queue's subscription, in seconds.
func (s Settings) RetentionThreshold(q Queue) int {
	return s.Subscriptions[q].MessageRetentionSeconds * s.Alerts.RetentionPercent / 100
}

var (
	channelRE = regexp.MustCompile(`^projects/[^/]+/notificationChannels/[0-9]+$`)
	emailRE   = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
)

// reservedDomains are the domains that reach nobody: example.com, example.net, example.org
// (RFC 2606 section 3) and the top-level domains .example, .invalid, .test and .localhost
// (RFC 2606 section 2, RFC 6761).
var reservedDomains = []string{"example.com", "example.net", "example.org", "example", "invalid", "test", "localhost"}

// IsPlaceholderEmail reports whether an address is in a reserved domain or one of its
// subdomains, a placeholder that no alert can reach.
func IsPlaceholderEmail(email string) bool {
	_, domain, ok := strings.Cut(email, "@")
	domain = strings.TrimSuffix(strings.ToLower(domain), ".")
	return ok && slices.ContainsFunc(reservedDomains, func(r string) bool {
		return domain == r || strings.HasSuffix(domain, "."+r)
	})
}

// validate checks the alerting settings.
func (a Alerts) validate() Problems {
	var ps Problems
	inRange := func(field string, v int, r Range) {
		if !r.Contains(v) {
			ps = append(ps, Problem{Field: field, Value: v, Allowed: "must be " + r.String()})
		}
	}
	for _, q := range []Queue{Jobs, Results} {
		inRange("Alerts.StalledSeconds["+string(q)+"]", a.StalledSeconds[q], stalledSecondsRange)
	}
	inRange("Alerts.RetentionPercent", a.RetentionPercent, RetentionPercentRange)
	inRange("Alerts.DeadLetterBacklogMinutes", a.DeadLetterBacklogMinutes, BacklogMinutesRange)
	inRange("Alerts.PublishErrorPercent", a.PublishErrorPercent, PublishErrorPercentRange)
	for _, c := range a.NotificationChannels {
		if !channelRE.MatchString(c) {
			ps = append(ps, Problem{Field: "Alerts.NotificationChannels", Value: c, Allowed: "each entry must be projects/<project>/notificationChannels/<number>"})
		}
	}
	for _, e := range a.Emails {
		if !emailRE.MatchString(e) {
			ps = append(ps, Problem{Field: "Alerts.Emails", Value: e, Allowed: "each entry must be an e-mail address"})
		}
	}
	return ps
}

// MetricInSeconds reports whether a metric's values, and so an alert's threshold on it, are a
// number of seconds.
func MetricInSeconds(metric string) bool { return metric == MetricOldestUnackedAge }
