package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/aiprod/aiprod-pubsub/pubsubconn"
)

// emulatorAt is the emulator the helper talks to, and a client connected to it. Every call
// runs under the caller's context, which carries --timeout.
type emulatorAt struct {
	host, project, prefix string
	timeout               time.Duration

	conn   *pubsubconn.Conn
	client *pubsub.Client
}

func (e *emulatorAt) topicID(name string) string { return "projects/" + e.project + "/topics/" + name }
func (e *emulatorAt) subscriptionID(name string) string {
	return "projects/" + e.project + "/subscriptions/" + name
}

// connect connects to the emulator without credentials and checks that it serves topic.
func (e *emulatorAt) connect(ctx context.Context, topic string) error {
	conn, err := pubsubconn.Dial(ctx, e.project, e.host, e.timeout)
	if err != nil {
		return err
	}
	e.conn, e.client = conn, conn.Client
	if _, err = e.client.TopicAdminClient.GetTopic(ctx, &pubsubpb.GetTopicRequest{Topic: e.topicID(topic)}); err != nil {
		e.close()
		return e.explain(fmt.Sprintf("reading topic %q", e.topicID(topic)), err)
	}
	return nil
}

func (e *emulatorAt) close() { e.conn.Close() }

// explain says what went wrong in step (pubsubconn.Conn.Explain), with the names the helper
// assumed.
func (e *emulatorAt) explain(step string, err error) error {
	return e.conn.Explain(step, err, fmt.Sprintf("--prefix %q and PUBSUB_PROJECT_ID=%s", e.prefix, e.project))
}

// publish publishes msg with one Publish RPC, which returns once the emulator stored it.
func (e *emulatorAt) publish(ctx context.Context, topic string, msg *pubsubpb.PubsubMessage) (string, error) {
	resp, err := e.client.TopicAdminClient.Publish(ctx, &pubsubpb.PublishRequest{Topic: topic, Messages: []*pubsubpb.PubsubMessage{msg}})
	if err != nil {
		return "", e.explain(fmt.Sprintf("publishing to %q", topic), err)
	}
	if len(resp.MessageIds) != 1 {
		return "", fmt.Errorf("publishing to %q: the emulator returned %d message ids for 1 message", topic, len(resp.MessageIds))
	}
	return resp.MessageIds[0], nil
}

// createOwn creates subscription name on topic, which only the message with attribute
// job_id=jobID passes.
func (e *emulatorAt) createOwn(ctx context.Context, topic, name, jobID string) (string, error) {
	sub := &pubsubpb.Subscription{
		Name:               e.subscriptionID(name),
		Topic:              topic,
		Filter:             fmt.Sprintf("attributes.job_id = %q", jobID),
		AckDeadlineSeconds: 10,
	}
	if _, err := e.client.SubscriptionAdminClient.CreateSubscription(ctx, sub); err != nil {
		return "", e.explain(fmt.Sprintf("creating the temporary subscription %q", sub.Name), err)
	}
	return sub.Name, nil
}

// deleteOwn deletes the temporary subscription, even when ctx has ended.
func (e *emulatorAt) deleteOwn(ctx context.Context, sub string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_ = e.client.SubscriptionAdminClient.DeleteSubscription(ctx, &pubsubpb.DeleteSubscriptionRequest{Subscription: sub})
}

// receiveOwn receives message id on the temporary subscription, acks it and returns its data.
func (e *emulatorAt) receiveOwn(ctx context.Context, sub, id string) ([]byte, error) {
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	var mu sync.Mutex
	var got []byte
	err := e.client.Subscriber(sub).Receive(rctx, func(_ context.Context, m *pubsub.Message) {
		// The filter lets only this job through; ack it whatever it is, so nothing lingers.
		m.Ack()
		if m.ID == id {
			mu.Lock()
			got = m.Data
			mu.Unlock()
			stop()
		}
	})
	mu.Lock()
	defer mu.Unlock()
	switch {
	case got != nil:
		return got, nil
	case err == nil && ctx.Err() != nil:
		return nil, fmt.Errorf("receiving on %q: %w within --timeout %s", sub, errNotArrived, e.timeout)
	case err != nil:
		return nil, e.explain(fmt.Sprintf("receiving on %q", sub), err)
	}
	return nil, fmt.Errorf("receiving on %q: %w", sub, errNotArrived)
}
