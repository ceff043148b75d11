// Package redrive inspects, replays and purges a pipeline's dead letters: the messages Pub/Sub
// forwarded to the pipeline's dlq topic after maxDeliveryAttempts, held on its dlq
// subscription. It speaks the Pub/Sub API through the official client, so the same code runs
// against Pub/Sub and against the local emulator.
//
// Nothing is lost on the way. A dead letter is acknowledged only after its copy was published
// and the server confirmed it (replay), or after it was written out and synced (purge).
// Everything else is released back to the dlq subscription. At worst a message is delivered
// twice, so the workers must tolerate a duplicate.
package redrive

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"cloud.google.com/go/pubsub/v2"
	vkit "cloud.google.com/go/pubsub/v2/apiv1"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/aiprod/aiprod-pubsub/schemas"
	"github.com/aiprod/aiprod-pubsub/spec"
)

// Pipeline is one pipeline's queues: full topic and subscription ids keyed by queue, as the
// pipeline component's outputs name them.
type Pipeline struct {
	Name          string
	Topics        map[spec.Queue]string
	Subscriptions map[spec.Queue]string
}

// PublishFunc publishes one message to a topic (a full id) and returns its message id once the
// server has confirmed it.
type PublishFunc func(ctx context.Context, topic string, m *pubsubpb.PubsubMessage) (string, error)

// Options tune a DLQ. The zero value works against Pub/Sub.
type Options struct {
	// Publish republishes a dead letter; nil uses the client's Publish RPC. Tests make it fail
	// on purpose.
	Publish PublishFunc
	// PullWait is how long one pull waits for dead letters before it counts as empty.
	// Default 5 s.
	PullWait time.Duration
	// EmptyPulls is how many pulls in a row must bring nothing new before the dlq counts as
	// drained. Pub/Sub may answer a pull with fewer messages than asked, even none, while more
	// wait, and its API has no count of undelivered messages (that is a Cloud Monitoring
	// metric, minutes late), so one empty pull proves nothing. A pull that brings only
	// messages already held (a redelivery, or the emulator forwarding a dead letter again)
	// brings nothing new. Default 3.
	EmptyPulls int
	// EmptyBackoff is the pause after the first empty pull; it doubles after each further one.
	// Default 250 ms.
	EmptyBackoff time.Duration
	// AllowOtherSubscriptions lets replay publish to a topic that has subscriptions besides the
	// one the dead letter came from; each of them gets the copy too. Without it, such dead
	// letters stay in the dlq.
	AllowOtherSubscriptions bool
	// MaxMessages is the most dead letters one operation holds. Default 10000.
	MaxMessages int
	// Parallel is how many ordering keys are replayed at once. Default 4.
	Parallel int
	// AssumeSource is the queue (jobs or results) that replay assumes for a dead letter without
	// the source attribute. Pub/Sub always adds the attribute. Only the emulator, which does
	// not, and a message published to the dlq topic by hand lack it. Empty leaves such a
	// message in the dlq.
	AssumeSource spec.Queue
	// Progress gets a line of counts (pulled, replayed, left) every ProgressInterval and every
	// ProgressEvery finished messages; nil gets nothing. What became of each message is in the
	// Report, not here, so that a terminal showing both shows it once.
	Progress io.Writer
	// ProgressEvery defaults to 100.
	ProgressEvery int
	// ProgressInterval defaults to 2 s.
	ProgressInterval time.Duration
	// Now is the clock that ages are measured with; nil is time.Now.
	Now func() time.Time

	// ticks replaces the ProgressInterval ticker in tests.
	ticks <-chan time.Time
}

// DLQ is one pipeline's dead-letter subscription.
type DLQ struct {
	pipeline  Pipeline
	sub       string
	admin     *vkit.SubscriptionAdminClient
	topics    *vkit.TopicAdminClient
	opts      Options
	contracts map[schemas.Kind]*schemas.Schema
}

// Defaults of Options.
const (
	defaultPullWait         = 5 * time.Second
	defaultEmptyPulls       = 3
	defaultEmptyBackoff     = 250 * time.Millisecond
	defaultMaxMessages      = 10000
	defaultParallel         = 4
	defaultProgressEvery    = 100
	defaultProgressInterval = 2 * time.Second
)

// New returns the dlq of pipeline p, reached through client.
func New(client *pubsub.Client, p Pipeline, o Options) (*DLQ, error) {
	sub := p.Subscriptions[spec.DLQ]
	if sub == "" {
		return nil, fmt.Errorf("pipeline %q has no %s", p.Name, spec.SubscriptionOutput(spec.DLQ))
	}
	if o.AssumeSource != "" && !slices.Contains(sources, o.AssumeSource) {
		return nil, fmt.Errorf("cannot assume dead letters came from %q: choose jobs or results", o.AssumeSource)
	}
	contracts, err := schemas.Load(schemas.FS)
	if err != nil {
		return nil, err
	}
	if o.Publish == nil {
		o.Publish = rpcPublish(client.TopicAdminClient)
	}
	o.PullWait = orDefault(o.PullWait, defaultPullWait)
	o.EmptyPulls = orDefault(o.EmptyPulls, defaultEmptyPulls)
	o.EmptyBackoff = orDefault(o.EmptyBackoff, defaultEmptyBackoff)
	o.ProgressInterval = orDefault(o.ProgressInterval, defaultProgressInterval)
	o.MaxMessages = orDefault(o.MaxMessages, defaultMaxMessages)
	o.Parallel = orDefault(o.Parallel, defaultParallel)
	o.ProgressEvery = orDefault(o.ProgressEvery, defaultProgressEvery)
	if o.Now == nil {
		o.Now = time.Now
	}
	return &DLQ{pipeline: p, sub: sub, admin: client.SubscriptionAdminClient, topics: client.TopicAdminClient, opts: o, contracts: contracts}, nil
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Subscription is the dlq subscription's full id.
func (d *DLQ) Subscription() string { return d.sub }

// Check reads the dlq subscription. It fails when the subscription cannot be reached or does
// not exist. It returns the maxDeliveryAttempts of the subscription's own dead-letter policy,
// 0 for none, as the spec wants. With none, a pull on the dlq counts toward nothing.
func (d *DLQ) Check(ctx context.Context) (int, error) {
	s, err := d.admin.GetSubscription(ctx, &pubsubpb.GetSubscriptionRequest{Subscription: d.sub})
	if err != nil {
		return 0, fmt.Errorf("reading subscription %q: %w", d.sub, err)
	}
	return int(s.GetDeadLetterPolicy().GetMaxDeliveryAttempts()), nil
}

// rpcPublish publishes with one Publish RPC per message, which returns once the server has
// stored the message: the confirmation a dead letter's ack waits for.
func rpcPublish(c *vkit.TopicAdminClient) PublishFunc {
	return func(ctx context.Context, topic string, m *pubsubpb.PubsubMessage) (string, error) {
		resp, err := c.Publish(ctx, &pubsubpb.PublishRequest{Topic: topic, Messages: []*pubsubpb.PubsubMessage{m}})
		if err != nil {
			return "", err
		}
		if len(resp.MessageIds) != 1 {
			return "", fmt.Errorf("publishing to %q: the server returned %d message ids for 1 message", topic, len(resp.MessageIds))
		}
		return resp.MessageIds[0], nil
	}
}

// Inspection is one look at the dlq: every dead letter it gave, oldest first.
type Inspection struct {
	// Messages are the dead letters, each once, however often it was delivered.
	Messages []*Message
	// Duplicates counts the deliveries of a message already held (see Message.Copies).
	Duplicates int
	// Complete is false when the dlq held more than MaxMessages; Messages are those pulled.
	Complete bool
}

// Inspect pulls every dead letter and releases each at once (ack deadline 0), consuming none.
// A pull counts as a delivery on the dlq subscription only (see Check).
func (d *DLQ) Inspect(ctx context.Context) (*Inspection, error) {
	p := d.startProgress("inspected")
	defer p.stop()
	l, msgs, complete, err := d.collect(ctx, p)
	if err != nil {
		return nil, err
	}
	if err := l.close(ctx); err != nil {
		return nil, err
	}
	return &Inspection{Messages: msgs, Duplicates: duplicates(msgs), Complete: complete}, nil
}

// duplicates counts the further deliveries of msgs.
func duplicates(msgs []*Message) int {
	n := 0
	for _, m := range msgs {
		n += m.Copies
	}
	return n
}
