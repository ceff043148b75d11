package rules

import (
	"context"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// The subscription policies' names.
const (
	PolicyAckDeadline     = "pubsub-ack-deadline"
	PolicyDeadLetter      = "pubsub-dead-letter"
	PolicyMessageOrdering = "pubsub-message-ordering"
	PolicyNoExpiration    = "pubsub-no-expiration"
	PolicyDLQRetention    = "pubsub-dlq-retention"
)

// subscriptionPolicy is a mandatory resource policy that sees subscriptions only.
func subscriptionPolicy(name, description string, schema *policyx.ConfigSchema,
	check func(args policyx.ResourceValidationArgs) error,
) policyx.ResourceValidationPolicy {
	return policyx.NewResourceValidationPolicy(name, policyx.ResourceValidationPolicyArgs{
		Description:      description,
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ConfigSchema:     schema,
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			if args.Resource.Type != spec.SubscriptionType {
				return nil
			}
			return check(args)
		},
	})
}

// ackDeadlineKey is the config key of the expected ack deadline of a queue's subscriptions.
func ackDeadlineKey(q spec.Queue) string { return string(q) + "AckDeadlineSeconds" }

// specAckDeadline is the spec's ack deadline of a queue's subscriptions.
func specAckDeadline(q spec.Queue) float64 {
	return float64(spec.Defaults().Subscriptions[q].AckDeadlineSeconds)
}

// ackDeadline: GCP accepts 10..600 s; the pipeline's workers are sized for the spec's deadlines
// (a job runs up to 5 minutes before it must be acked), so a shorter deadline redelivers jobs
// that are still running.
func ackDeadline() policyx.ResourceValidationPolicy {
	schema := &policyx.ConfigSchema{Properties: map[string]map[string]any{}}
	for _, q := range spec.Queues {
		schema.Properties[ackDeadlineKey(q)] = numberSchema(
			fmt.Sprintf("the ack deadline, in seconds, of subscriptions named %s", subscriptionPattern(q)),
			specAckDeadline(q), spec.AckDeadlineRange)
	}
	return subscriptionPolicy(PolicyAckDeadline,
		"Subscriptions have an ack deadline of "+rangeText(spec.AckDeadlineRange)+" s, and the pipeline's subscriptions the one the spec gives their role.",
		schema,
		func(args policyx.ResourceValidationArgs) error {
			r := args.Resource
			role := subscriptionQueue(physicalName(r))
			var want float64
			if role != "" {
				w, err := configNumber(PolicyAckDeadline, args.Config, ackDeadlineKey(role), specAckDeadline(role))
				if err != nil {
					return err
				}
				if !inRange(w, spec.AckDeadlineRange) {
					return fmt.Errorf("policy %s: config %s is %s; must be %s",
						PolicyAckDeadline, ackDeadlineKey(role), num(w), spec.AckDeadlineRange)
				}
				want = w
			}
			v := get(r.Properties, "ackDeadlineSeconds")
			switch {
			case v.Unknown:
				return nil
			case !v.Set:
				if role != "" && want != spec.DefaultAckDeadlineSeconds {
					args.Manager.ReportViolation(fmt.Sprintf(
						"%s does not set ackDeadlineSeconds (GCP defaults to %d); %s subscriptions need %s%s",
						describe(r), spec.DefaultAckDeadlineSeconds, role, num(want), allowWith(PolicyAckDeadline, ackDeadlineKey(role))), "")
				}
			case !v.IsNumber():
				args.Manager.ReportViolation(fmt.Sprintf("%s has ackDeadlineSeconds %s; must be a number of seconds",
					describe(r), show(v.Value)), "")
			case !inRange(v.AsNumber(), spec.AckDeadlineRange):
				args.Manager.ReportViolation(fmt.Sprintf("%s has ackDeadlineSeconds %s; must be %s",
					describe(r), show(v.Value), spec.AckDeadlineRange), "")
			case role != "" && v.AsNumber() != want:
				args.Manager.ReportViolation(fmt.Sprintf("%s has ackDeadlineSeconds %s; %s subscriptions need %s%s",
					describe(r), show(v.Value), role, num(want), allowWith(PolicyAckDeadline, ackDeadlineKey(role))), "")
			}
			return nil
		})
}

const configDeadLetterResults = "deadLetterResults"

// deadLetter: without a dead-letter policy a message that always fails is redelivered forever;
// GCP requires the dead-letter topic as a full id, and forwarding to the subscription's own
// topic would redeliver it to the same subscription.
func deadLetter() policyx.ResourceValidationPolicy {
	schema := &policyx.ConfigSchema{Properties: map[string]map[string]any{
		configDeadLetterResults: {
			"type":        "boolean",
			"description": "whether subscriptions named " + subscriptionPattern(spec.Results) + " must dead-letter (false for a stack that sets aiprod-pubsub:deadLetterResults false)",
			"default":     spec.Defaults().Subscriptions[spec.Results].DeadLetter,
		},
	}}
	return subscriptionPolicy(PolicyDeadLetter,
		"Subscriptions other than dead-letter ones dead-letter after "+rangeText(spec.AttemptsRange)+" attempts to another topic, given as a full topic id; dead-letter subscriptions do not.",
		schema,
		func(args policyx.ResourceValidationArgs) error {
			r := args.Resource
			dlp := get(r.Properties, "deadLetterPolicy")
			queue := subscriptionQueue(physicalName(r))
			if queue == spec.DLQ {
				checkNoDeadLetter(args, dlp)
				return nil
			}
			switch {
			case dlp.Unknown:
				return nil
			case !dlp.Set || !dlp.IsMap():
				return checkMissingDeadLetter(args, queue)
			}
			checkAttempts(args)
			checkDeadLetterTopic(args)
			return nil
		})
}

// checkNoDeadLetter reports a dead-letter subscription that dead-letters itself.
func checkNoDeadLetter(args policyx.ResourceValidationArgs, dlp value) {
	if !dlp.Set || dlp.Unknown {
		return
	}
	r := args.Resource
	topic := "(none)"
	if t := get(r.Properties, "deadLetterPolicy", "deadLetterTopic"); t.Set {
		topic = show(t.Value)
	}
	args.Manager.ReportViolation(fmt.Sprintf(
		"%s is a dead-letter subscription but has a deadLetterPolicy (deadLetterTopic %s); a dead-letter subscription must not dead-letter",
		describe(r), topic), "")
}

// checkMissingDeadLetter reports a subscription without a dead-letter policy, unless it is a
// results subscription of a stack whose policy config lets results go without one.
func checkMissingDeadLetter(args policyx.ResourceValidationArgs, queue spec.Queue) error {
	msg := fmt.Sprintf("%s has no deadLetterPolicy; a message that always fails would be redelivered forever", describe(args.Resource))
	if queue == spec.Results {
		required, set, err := configBool(PolicyDeadLetter, args.Config, configDeadLetterResults)
		if err != nil {
			return err
		}
		if set && !required {
			return nil
		}
		msg += allowWith(PolicyDeadLetter, configDeadLetterResults+": false")
	}
	args.Manager.ReportViolation(msg, "")
	return nil
}

// checkAttempts reports a dead-letter policy's attempts outside GCP's range.
func checkAttempts(args policyx.ResourceValidationArgs) {
	r := args.Resource
	attempts := get(r.Properties, "deadLetterPolicy", "maxDeliveryAttempts")
	switch {
	case attempts.Unknown:
	case !attempts.Set:
		args.Manager.ReportViolation(fmt.Sprintf(
			"%s has no deadLetterPolicy.maxDeliveryAttempts; must be %s",
			describe(r), spec.AttemptsRange), "")
	case !attempts.IsNumber() || !inRange(attempts.AsNumber(), spec.AttemptsRange):
		args.Manager.ReportViolation(fmt.Sprintf(
			"%s has deadLetterPolicy.maxDeliveryAttempts %s; must be %s",
			describe(r), show(attempts.Value), spec.AttemptsRange), "")
	}
}

// checkDeadLetterTopic reports a dead-letter topic that is missing, not a full id, or the
// subscription's own topic.
func checkDeadLetterTopic(args policyx.ResourceValidationArgs) {
	r := args.Resource
	topic := get(r.Properties, "deadLetterPolicy", "deadLetterTopic")
	switch {
	case topic.Unknown:
	case !topic.Set || (topic.IsString() && topic.AsString() == ""):
		args.Manager.ReportViolation(fmt.Sprintf("%s has no deadLetterPolicy.deadLetterTopic", describe(r)), "")
	case !topic.IsString() || !spec.IsTopicID(topic.AsString()):
		args.Manager.ReportViolation(fmt.Sprintf(
			"%s has deadLetterPolicy.deadLetterTopic %s; GCP requires a full topic id projects/<project>/topics/<name>",
			describe(r), show(topic.Value)), "")
	default:
		own, ok := knownString(r.Properties, "topic")
		if ok && spec.ParseTopic(own).Matches(spec.ParseTopic(topic.AsString())) {
			args.Manager.ReportViolation(fmt.Sprintf(
				"%s has deadLetterPolicy.deadLetterTopic %s, its own topic; dead letters must go to another topic",
				describe(r), show(topic.Value)), "")
		}
	}
}

// messageOrdering: publishers use user_id as the ordering key, which GCP ignores unless the
// subscription enables ordering.
func messageOrdering() policyx.ResourceValidationPolicy {
	return subscriptionPolicy(PolicyMessageOrdering,
		"Jobs subscriptions enable message ordering, or GCP ignores the publishers' ordering keys.",
		nil,
		func(args policyx.ResourceValidationArgs) error {
			r := args.Resource
			if subscriptionQueue(physicalName(r)) != spec.Jobs {
				return nil
			}
			v := get(r.Properties, "enableMessageOrdering")
			switch {
			case v.Unknown:
			case !v.Set:
				args.Manager.ReportViolation(fmt.Sprintf(
					"%s does not set enableMessageOrdering (GCP defaults to false); jobs subscriptions need true", describe(r)), "")
			case !v.IsBool() || !v.AsBool():
				args.Manager.ReportViolation(fmt.Sprintf(
					"%s has enableMessageOrdering %s; jobs subscriptions need true", describe(r), show(v.Value)), "")
			}
			return nil
		})
}

// noExpiration: without an expiration policy GCP deletes a subscription after 31 days without
// activity, and its backlog with it.
func noExpiration() policyx.ResourceValidationPolicy {
	return subscriptionPolicy(PolicyNoExpiration,
		fmt.Sprintf(`Subscriptions never expire: expirationPolicy.ttl is "" (otherwise GCP deletes an idle subscription after %d days).`,
			days(spec.DefaultExpirationSeconds)),
		nil,
		func(args policyx.ResourceValidationArgs) error {
			r := args.Resource
			ttl := get(r.Properties, "expirationPolicy", "ttl")
			switch {
			case ttl.Unknown:
			case !ttl.Set:
				args.Manager.ReportViolation(fmt.Sprintf(
					`%s does not set expirationPolicy.ttl; GCP then deletes it after %d days without activity; set ttl to ""`,
					describe(r), days(spec.DefaultExpirationSeconds)), "")
			case !ttl.IsString() || ttl.AsString() != "":
				args.Manager.ReportViolation(fmt.Sprintf(
					`%s has expirationPolicy.ttl %s; must be "" (never expire)`, describe(r), show(ttl.Value)), "")
			}
			return nil
		})
}

const configMinimumRetention = "minimumRetentionSeconds"

// dlqRetention: dead letters are kept for someone to inspect and replay; a week covers a
// holiday.
func dlqRetention() policyx.ResourceValidationPolicy {
	schema := &policyx.ConfigSchema{Properties: map[string]map[string]any{
		configMinimumRetention: numberSchema("the least message retention, in seconds, of a dead-letter subscription",
			specDLQRetention(), spec.RetentionRange),
	}}
	return subscriptionPolicy(PolicyDLQRetention,
		fmt.Sprintf("Dead-letter subscriptions retain messages at least %d days (and at most GCP's %d).",
			days(int(specDLQRetention())), days(spec.RetentionRange.Max)),
		schema,
		func(args policyx.ResourceValidationArgs) error {
			r := args.Resource
			if subscriptionQueue(physicalName(r)) != spec.DLQ {
				return nil
			}
			minimum, err := configNumber(PolicyDLQRetention, args.Config, configMinimumRetention, specDLQRetention())
			if err != nil {
				return err
			}
			v := get(r.Properties, "messageRetentionDuration")
			switch {
			case v.Unknown:
				return nil
			case !v.Set:
				if spec.DefaultRetentionSeconds < minimum {
					args.Manager.ReportViolation(fmt.Sprintf(
						"%s does not set messageRetentionDuration (GCP defaults to %s); must be at least %ss%s",
						describe(r), spec.Seconds(spec.DefaultRetentionSeconds), num(minimum), allowWith(PolicyDLQRetention, configMinimumRetention)), "")
				}
				return nil
			}
			s, ok := "", v.IsString()
			if ok {
				s = v.AsString()
			}
			seconds, ok := spec.ParseSeconds(s)
			switch {
			case !ok:
				args.Manager.ReportViolation(fmt.Sprintf(
					"%s has messageRetentionDuration %s; must be a duration in seconds such as %q",
					describe(r), show(v.Value), spec.Seconds(spec.DefaultRetentionSeconds)), "")
			case seconds < minimum:
				args.Manager.ReportViolation(fmt.Sprintf(
					"%s has messageRetentionDuration %s; a dead-letter subscription must retain messages at least %ss%s",
					describe(r), show(v.Value), num(minimum), allowWith(PolicyDLQRetention, configMinimumRetention)), "")
			case seconds > float64(spec.RetentionRange.Max):
				args.Manager.ReportViolation(fmt.Sprintf(
					"%s has messageRetentionDuration %s; GCP allows at most %s",
					describe(r), show(v.Value), spec.Seconds(spec.RetentionRange.Max)), "")
			}
			return nil
		})
}

// specDLQRetention is the spec's retention of the dead-letter subscription.
func specDLQRetention() float64 {
	return float64(spec.Defaults().Subscriptions[spec.DLQ].MessageRetentionSeconds)
}

// inRange reports whether f lies in the GCP range r.
func inRange(f float64, r spec.Range) bool { return f >= float64(r.Min) && f <= float64(r.Max) }

// allowWith names the policy-config setting that lets a stack have another value: what a
// violation of a tunable threshold says.
func allowWith(policy, setting string) string {
	return fmt.Sprintf(" (a stack allows it with policy config %s.%s)", policy, setting)
}
