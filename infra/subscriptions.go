package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-gcp/sdk/v8/go/gcp/pubsub"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// subscriptions declares one pull subscription per topic, with its queue's settings.
func (b builder) subscriptions(topics map[spec.Queue]*pubsub.Topic) (map[spec.Queue]*pubsub.Subscription, error) {
	s := b.args.Settings
	subs := map[spec.Queue]*pubsub.Subscription{}
	for _, q := range spec.Queues {
		qs := s.Subscriptions[q]
		name := spec.SubscriptionName(s.NamePrefix, b.args.Pipeline, q)
		args := &pubsub.SubscriptionArgs{
			Name:                     pulumi.String(name),
			Project:                  pulumi.String(b.args.Project),
			Topic:                    topicID(topics[q]),
			Labels:                   b.labels(),
			AckDeadlineSeconds:       pulumi.Int(qs.AckDeadlineSeconds),
			MessageRetentionDuration: pulumi.String(spec.Seconds(qs.MessageRetentionSeconds)),
			// Without an expiration policy GCP deletes a subscription after 31 days without
			// activity; an empty ttl means never.
			ExpirationPolicy: &pubsub.SubscriptionExpirationPolicyArgs{Ttl: pulumi.String("")},
		}
		if qs.Ordered {
			// Publishers use user_id as the ordering key; GCP ignores ordering keys unless the
			// subscription enables ordering.
			args.EnableMessageOrdering = pulumi.Bool(true)
		}
		if qs.DeadLetter {
			args.DeadLetterPolicy = &pubsub.SubscriptionDeadLetterPolicyArgs{
				DeadLetterTopic:     topicID(topics[spec.DLQ]),
				MaxDeliveryAttempts: pulumi.Int(s.MaxDeliveryAttempts),
			}
		}
		if qs.Retry {
			args.RetryPolicy = &pubsub.SubscriptionRetryPolicyArgs{
				MinimumBackoff: pulumi.String(spec.Seconds(s.RetryMinimumBackoffSeconds)),
				MaximumBackoff: pulumi.String(spec.Seconds(s.RetryMaximumBackoffSeconds)),
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
