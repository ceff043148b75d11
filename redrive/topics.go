package redrive

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/api/iterator"
)

// ErrOtherSubscriptions marks a dead letter left in the dlq because its topic has other
// subscriptions than the one it came from, and AllowOtherSubscriptions is off.
var ErrOtherSubscriptions = errors.New("the topic has other subscriptions than the source, and each would get the copy too")

// checkTopics lists the subscriptions of every topic the selected dead letters go back to,
// records in rep those besides the source subscription, and returns for each topic where that
// refuses the replay the reason. Without AllowOtherSubscriptions, a topic whose subscriptions
// cannot be listed fails the replay: nothing is published that might reach unknown readers.
func (d *DLQ) checkTopics(ctx context.Context, rep *Report) (map[string]error, error) {
	source := map[string]string{} // topic -> the source subscription
	for _, o := range rep.Outcomes {
		if m := o.Message; m.Topic != "" {
			source[m.Topic] = d.pipeline.Subscriptions[m.Source]
		}
	}
	refused := map[string]error{}
	for _, topic := range slices.Sorted(maps.Keys(source)) {
		subs, err := d.topicSubscriptions(ctx, topic)
		if err != nil && !d.opts.AllowOtherSubscriptions {
			return nil, fmt.Errorf("listing the subscriptions of %q, to check that only %q gets the replayed copies (it needs a role that may list them, roles/pubsub.viewer for example): %w",
				topic, source[topic], err)
		}
		others := slices.DeleteFunc(subs, func(s string) bool { return s == source[topic] })
		if len(others) == 0 {
			continue
		}
		if rep.OtherSubscriptions == nil {
			rep.OtherSubscriptions = map[string][]string{}
		}
		rep.OtherSubscriptions[topic] = others
		if !d.opts.AllowOtherSubscriptions {
			refused[topic] = fmt.Errorf("%w: %q also feeds %s", ErrOtherSubscriptions, topic, strings.Join(quoteAll(others), ", "))
		}
	}
	return refused, nil
}

// topicSubscriptions lists the full ids of topic's subscriptions, sorted.
func (d *DLQ) topicSubscriptions(ctx context.Context, topic string) ([]string, error) {
	it := d.topics.ListTopicSubscriptions(ctx, &pubsubpb.ListTopicSubscriptionsRequest{Topic: topic})
	var subs []string
	for {
		s, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return nil, err
		}
		subs = append(subs, s)
	}
	slices.Sort(subs)
	return subs, nil
}

func quoteAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}
