package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-gcp/sdk/v8/go/gcp/pubsub"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// deadLetters reports whether the subscription on q forwards undeliverable messages to the dlq.
func (s Settings) deadLetters(q Queue) bool {
	switch q {
	case Jobs:
		return true
	case Results:
		return s.DeadLetterResults
	}
	return false
}

// subscriptions declares one pull subscription per topic.
func (b builder) subscriptions(topics map[Queue]*pubsub.Topic) (map[Queue]*pubsub.Subscription, error) {
	s := b.args.Settings
	ackDeadline := map[Queue]int{
		Jobs:    s.JobsAckDeadlineSeconds,
		Results: s.ResultsAckDeadlineSeconds,
		DLQ:     s.DLQAckDeadlineSeconds,
	}
	retention := map[Queue]int{
		Jobs:    s.MessageRetentionSeconds,
		Results: s.MessageRetentionSeconds,
		DLQ:     s.DLQMessageRetentionSeconds,
	}
	subs := map[Queue]*pubsub.Subscription{}
	for _, q := range Queues {
		name := SubscriptionName(s.NamePrefix, b.args.Pipeline, q)
		args := &pubsub.SubscriptionArgs{
			Name:                     pulumi.String(name),
			Project:                  pulumi.String(b.args.Project),
			Topic:                    topicID(topics[q]),
			Labels:                   b.labels(),
			AckDeadlineSeconds:       pulumi.Int(ackDeadline[q]),
			MessageRetentionDuration: pulumi.String(fmt.Sprintf("%ds", retention[q])),
			// Without an expiration policy GCP deletes a subscription after 31 days without
			// activity; an empty ttl means never.
			ExpirationPolicy: &pubsub.SubscriptionExpirationPolicyArgs{Ttl: pulumi.String("")},
		}
		if q == Jobs {
			// Publishers use user_id as the ordering key; GCP ignores ordering keys unless the
			// subscription enables ordering.
			args.EnableMessageOrdering = pulumi.Bool(true)
		}
		if s.deadLetters(q) {
			args.DeadLetterPolicy = &pubsub.SubscriptionDeadLetterPolicyArgs{
				DeadLetterTopic:     topicID(topics[DLQ]),
				MaxDeliveryAttempts: pulumi.Int(s.MaxDeliveryAttempts),
			}
		}
		if q != DLQ {
			args.RetryPolicy = &pubsub.SubscriptionRetryPolicyArgs{
				MinimumBackoff: pulumi.String(fmt.Sprintf("%ds", s.RetryMinimumBackoffSeconds)),
				MaximumBackoff: pulumi.String(fmt.Sprintf("%ds", s.RetryMaximumBackoffSeconds)),
			}
		}
		sub, err := pubsub.NewSubscription(b.ctx, name, args, b.opts()...)
		if err != nil {
			return nil, fmt.Errorf("creating subscription %q: %w", name, err)
		}
		subs[q] = sub
	}
	return subs, nil
}
