// Package pubsubtest is what the tests against an in-memory Pub/Sub server (pstest, the
// emulator) share: draining a subscription and dead-lettering a message. It is a package of
// its own, apart from testkit, so that only the tests that talk to a server link the Pub/Sub
// client. Only tests import it.
package pubsubtest

import (
	"context"
	"sync"
	"testing"

	vkit "cloud.google.com/go/pubsub/v2/apiv1"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
)

// AnswerAtOnce makes a pstest server answer every pull at once with what it holds, as it
// answers a ReturnImmediately pull. Without it, a pull that finds nothing waits half a
// second and looks again; a test that pulls until its subscription is drained spends that
// half second on every empty pull, on the wall clock, while proving nothing more: the server
// is in memory, and what it holds at the pull is all it has. Tests whose point is how a
// command spends its time (a --timeout running out) leave it off.
var AnswerAtOnce = pstest.ServerReactorOption{FuncName: "Pull", Reactor: answerAtOnce{}}

type answerAtOnce struct{}

// React marks the pull ReturnImmediately and leaves it to the server.
func (answerAtOnce) React(req any) (handled bool, ret any, err error) {
	if p, ok := req.(*pubsubpb.PullRequest); ok {
		//lint:ignore SA1019 pstest honours it; tests only, never Pub/Sub
		p.ReturnImmediately = true
	}
	return false, nil, nil
}

// Drain pulls and acks everything sub gives and returns the messages in the order they came,
// each message id once. It stops at a pull that brings nothing new: the in-memory server
// answers ReturnImmediately pulls at once with what it holds, so that is proof it holds
// nothing more, and a message it hands out again (pstest forwards a dead letter to the dlq
// again and again) is not counted twice. On an ordered subscription each key's next message
// comes once the one before is acked. An error fails the test (it never counts as "empty"),
// and Drain may be called from several goroutines.
func Drain(t testing.TB, c *vkit.SubscriptionAdminClient, sub string) []*pubsubpb.PubsubMessage {
	t.Helper()
	ctx := context.Background()
	seen := map[string]bool{}
	var out []*pubsubpb.PubsubMessage
	for {
		//lint:ignore SA1019 pstest honours it and answers at once with what it holds; tests only, never Pub/Sub
		resp, err := c.Pull(ctx, &pubsubpb.PullRequest{Subscription: sub, MaxMessages: 1000, ReturnImmediately: true})
		if err != nil {
			t.Errorf("draining %s: pull: %v", sub, err)
			return out
		}
		var ids []string
		fresh := 0
		for _, rm := range resp.ReceivedMessages {
			ids = append(ids, rm.AckId)
			if !seen[rm.Message.MessageId] {
				seen[rm.Message.MessageId] = true
				out = append(out, rm.Message)
				fresh++
			}
		}
		if len(ids) > 0 {
			if err := c.Acknowledge(ctx, &pubsubpb.AcknowledgeRequest{Subscription: sub, AckIds: ids}); err != nil {
				t.Errorf("draining %s: ack: %v", sub, err)
				return out
			}
		}
		if fresh == 0 {
			return out
		}
	}
}

// DrainAll drains subs at once and returns what each held.
func DrainAll(t testing.TB, c *vkit.SubscriptionAdminClient, subs ...string) map[string][]*pubsubpb.PubsubMessage {
	t.Helper()
	out := map[string][]*pubsubpb.PubsubMessage{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, sub := range subs {
		wg.Go(func() {
			msgs := Drain(t, c, sub)
			mu.Lock()
			defer mu.Unlock()
			out[sub] = msgs
		})
	}
	wg.Wait()
	return out
}

// NackUntilDeadLettered fails the one message waiting on sub on each of its maxAttempts
// deliveries (a nack each time), as a worker that cannot process it does; the server then
// forwards it to sub's dead-letter topic. It fails the test unless each pull brings exactly
// that message.
func NackUntilDeadLettered(t testing.TB, c *vkit.SubscriptionAdminClient, sub, id string, maxAttempts int) {
	t.Helper()
	ctx := context.Background()
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		//lint:ignore SA1019 pstest honours it and answers at once with what it holds; tests only, never Pub/Sub
		resp, err := c.Pull(ctx, &pubsubpb.PullRequest{Subscription: sub, MaxMessages: 10, ReturnImmediately: true})
		if err != nil {
			t.Fatalf("delivery %d on %s: %v", attempt, sub, err)
		}
		if len(resp.ReceivedMessages) != 1 || resp.ReceivedMessages[0].Message.MessageId != id {
			t.Fatalf("delivery %d on %s brought %d messages; want %s alone", attempt, sub, len(resp.ReceivedMessages), id)
		}
		req := &pubsubpb.ModifyAckDeadlineRequest{Subscription: sub, AckIds: []string{resp.ReceivedMessages[0].AckId}}
		if err := c.ModifyAckDeadline(ctx, req); err != nil {
			t.Fatalf("nacking delivery %d on %s: %v", attempt, sub, err)
		}
	}
}
