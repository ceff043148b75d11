package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// emulatorAt is the emulator the helper talks to, and a client connected to it. Every call
// runs under the caller's context, which carries --timeout.
type emulatorAt struct {
	host, project string
	timeout       time.Duration

	conn   *grpc.ClientConn
	client *pubsub.Client
}

func (e *emulatorAt) topicID(name string) string { return "projects/" + e.project + "/topics/" + name }
func (e *emulatorAt) subscriptionID(name string) string {
	return "projects/" + e.project + "/subscriptions/" + name
}

// connect connects to the emulator without credentials and checks that it serves topic.
func (e *emulatorAt) connect(ctx context.Context, topic string) error {
	conn, err := grpc.NewClient(e.host, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("connecting to the emulator at %q (PUBSUB_EMULATOR_HOST): %w", e.host, err)
	}
	client, err := pubsub.NewClient(ctx, e.project, option.WithGRPCConn(conn))
	if err != nil {
		conn.Close()
		return fmt.Errorf("creating a client for the emulator at %q: %w", e.host, err)
	}
	e.conn, e.client = conn, client
	_, err = client.TopicAdminClient.GetTopic(ctx, &pubsubpb.GetTopicRequest{Topic: e.topicID(topic)})
	switch {
	case status.Code(err) == codes.NotFound:
		err = fmt.Errorf("the emulator at %q has no topic %q: does it serve the stack of PUBSUB_PROJECT_ID=%s, with the pipeline of --prefix?", e.host, e.topicID(topic), e.project)
	case err != nil:
		err = e.explain("reaching the emulator", err)
	}
	if err != nil {
		e.close()
	}
	return err
}

func (e *emulatorAt) close() {
	e.client.Close()
	e.conn.Close()
}

// explain says what went wrong in step, with what to check when the emulator did not answer.
func (e *emulatorAt) explain(step string, err error) error {
	code := status.Code(err)
	if !errors.Is(err, context.DeadlineExceeded) && code != codes.DeadlineExceeded && code != codes.Unavailable {
		return fmt.Errorf("%s: %w", step, err)
	}
	return fmt.Errorf("%s: no answer from the Pub/Sub emulator at %q within --timeout %s (%v)\n"+
		"Is the emulator running at PUBSUB_EMULATOR_HOST=%s? Start it with `go run ./cmd/emulator --stack dev` "+
		"and export the PUBSUB_EMULATOR_HOST and PUBSUB_PROJECT_ID it prints", step, e.host, e.timeout, err, e.host)
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
