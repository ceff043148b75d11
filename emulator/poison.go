package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	vkit "cloud.google.com/go/pubsub/v2/apiv1"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/aiprod/aiprod-pubsub/redrive"
	"github.com/aiprod/aiprod-pubsub/schemas"
	"github.com/aiprod/aiprod-pubsub/spec"
)

// poisonContent is the job content the rehearsal's worker cannot process until it is fixed.
const poisonContent = "poison"

// redrivePullWait is how long the scenario's pulls, and the redrive's, wait for a message. The
// in-memory server answers a pull at once when it holds a message, so this only bounds the
// empty pulls.
const redrivePullWait = 50 * time.Millisecond

// poisonReplay publishes a job the worker cannot process and lets the worker fail it until
// Pub/Sub dead-letters it. It then fixes the worker, replays the job from the dlq with the
// redrive library, and checks three things: the worker processes it exactly once, the
// original is not delivered again, and the dlq is empty.
func poisonReplay(ctx context.Context, r *rehearsal, p Pipeline) (string, error) {
	pr, err := r.startPoison(ctx, p)
	if err != nil {
		return "", err
	}
	dead, err := pr.w.failUntilDeadLettered(ctx, pr.dlq, pr.maxAttempts, pr.policy)
	if err != nil {
		return "", err
	}
	if err := r.forgetDeadLettered(ctx, pr.w.sub); err != nil {
		return "", err
	}
	pr.w.fixed = true
	rep, err := pr.dlq.Replay(ctx, redrive.Selection{Filter: redrive.Filter{IDs: []string{dead.ID}}}, false)
	if err != nil {
		return "", err
	}
	if rep.Count(redrive.Replayed) != 1 || !rep.OK() {
		return "", fmt.Errorf("replaying the dead letter %q: %s", dead.ID, rep.Summary())
	}
	copyID := rep.Outcomes[0].NewID
	if err := pr.w.processOnce(ctx, r, pr.originalID, copyID, pr.maxAttempts); err != nil {
		return "", err
	}
	insp, err := pr.dlq.Inspect(ctx)
	if err != nil {
		return "", err
	}
	if n := len(insp.Messages); n != 0 {
		return "", fmt.Errorf("%q holds %d dead letters after the replay; want none", pr.dlq.Subscription(), n)
	}
	return fmt.Sprintf("failed on %d deliveries (attempts %v), dead-lettered, replayed to %s as %s (source assumed: pstest adds no %s), processed once, dlq empty",
		pr.maxAttempts, pr.w.attempts, pr.topic, copyID, redrive.SourceSubscriptionAttr), nil
}

// poisonRun is the scenario's state once the poison job is published.
type poisonRun struct {
	topic       string
	maxAttempts int
	policy      string // the jobs subscription's dead-letter policy, for messages
	originalID  string // the poison job's message id
	dlq         *redrive.DLQ
	w           *poisonWorker
}

// startPoison publishes the poison job to the jobs topic, with the worker and the dlq ready.
func (r *rehearsal) startPoison(ctx context.Context, p Pipeline) (*poisonRun, error) {
	topic, sub, err := queues(p, spec.Jobs)
	if err != nil {
		return nil, err
	}
	_, dlqSub, err := queues(p, spec.DLQ)
	if err != nil {
		return nil, err
	}
	pr := &poisonRun{topic: topic, maxAttempts: spec.AttemptsRange.Min, policy: "no dead-letter policy"}
	if rendered := r.srv.Topology.Subscription(sub); rendered != nil && rendered.DeadLetterPolicy != nil {
		pr.maxAttempts = int(rendered.DeadLetterPolicy.MaxDeliveryAttempts)
		pr.policy = fmt.Sprintf("maxDeliveryAttempts %d", pr.maxAttempts)
	}
	// The dead-lettering scenario's job keeps coming back to the dlq (see forgetDeadLettered);
	// start from the empty dlq that Pub/Sub would have.
	if err := r.forgetDeadLettered(ctx, sub, dlqSub); err != nil {
		return nil, err
	}
	// pstest forwards a dead letter without the CloudPubSubDeadLetterSource* attributes that
	// Pub/Sub adds, so the redrive cannot read where it came from. The rehearsal knows: it
	// published the job to the jobs topic and watched the jobs subscription fail it. It says so
	// with AssumeSource, which applies only to a dead letter that lacks the attribute, and it
	// selects the job's dead letter by its message id, so nothing else is touched. Against
	// Pub/Sub the attribute decides, and a dead letter without it stays in the dlq.
	// Three empty pulls in a row count as drained (the default), with pauses as short as the
	// pulls: the in-memory server holds nothing in flight.
	pr.dlq, err = redrive.New(r.client, redrive.Pipeline(p), redrive.Options{PullWait: redrivePullWait, EmptyBackoff: redrivePullWait, AssumeSource: spec.Jobs})
	if err != nil {
		return nil, err
	}
	j := r.job("poison", 0, "user-poison")
	j.Content = poisonContent
	msg, err := jobMessage(j)
	if err != nil {
		return nil, err
	}
	ids, err := r.publish(ctx, topic, msg)
	if err != nil {
		return nil, err
	}
	pr.originalID = ids[0]
	pr.w = &poisonWorker{admin: r.client.SubscriptionAdminClient, sub: sub, jobID: j.JobID}
	return pr, nil
}

// forgetDeadLettered works around the in-memory server (pstest v2.9.0). When it dead-letters
// a message, it acks it on its subscription with the message id instead of the ack id, which
// it then ignores. So the message stays on that subscription. It is forwarded to the dlq again
// every 10 ms, which undoes any ack or replay there. On an ordered subscription its ordering
// key delivers nothing more until pstest drops it, 10 minutes after it was published.
// TestPstestDeadLettering in package redrive pins this. Pub/Sub removes a message from its
// subscription when it dead-letters it. Seeking each subscription to the server's now drops
// everything published before, which at the points where the rehearsal calls this is what
// Pub/Sub would no longer hold.
func (r *rehearsal) forgetDeadLettered(ctx context.Context, subs ...string) error {
	// Just after the last message: pstest re-adds the messages published at or after the
	// target, and there are none.
	now := time.Now().Add(time.Duration(r.srv.offset.Load()) + time.Millisecond)
	for _, sub := range subs {
		req := &pubsubpb.SeekRequest{Subscription: sub, Target: &pubsubpb.SeekRequest_Time{Time: timestamppb.New(now)}}
		if _, err := r.client.SubscriptionAdminClient.Seek(ctx, req); err != nil {
			return fmt.Errorf("seeking %q to now: %w", sub, err)
		}
	}
	return nil
}

// poisonWorker is a worker that cannot process poison jobs until it is fixed. It pulls with
// the unary API, so that each of its nacks lands at once.
type poisonWorker struct {
	admin *vkit.SubscriptionAdminClient
	sub   string
	jobID string
	fixed bool
	// attempts are the delivery attempt counters of the job's failed deliveries.
	attempts []int
	// processed are the job's deliveries once fixed: its message ids.
	processed []string
}

// failUntilDeadLettered fails the job on every delivery until its dead letter shows on the
// dlq, and returns the dead letter. It fails when the job is delivered more often than the
// policy allows.
func (w *poisonWorker) failUntilDeadLettered(ctx context.Context, dlq *redrive.DLQ, maxAttempts int, policy string) (*redrive.Message, error) {
	for {
		// Once the job has failed maxAttempts times, a pull gets it again only when nothing
		// dead-letters it; the dlq is worth a look only after a pull that did not get it.
		got, err := w.step(ctx)
		if err != nil {
			return nil, err
		}
		if len(w.attempts) > maxAttempts {
			return nil, fmt.Errorf("the job was delivered %d times on %q (%s) and never reached %q", len(w.attempts), w.sub, policy, dlq.Subscription())
		}
		if got || len(w.attempts) < maxAttempts {
			continue
		}
		insp, err := dlq.Inspect(ctx)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(insp.Messages, func(m *redrive.Message) bool { return m.Attributes["job_id"] == w.jobID })
		if i >= 0 {
			return insp.Messages[i], nil
		}
	}
}

// processOnce lets the fixed worker take the replayed job, then checks on the server that the
// copy was delivered once and acked, and that the original was not delivered again.
func (w *poisonWorker) processOnce(ctx context.Context, r *rehearsal, originalID, copyID string, maxAttempts int) error {
	for len(w.processed) == 0 {
		if _, err := w.step(ctx); err != nil {
			return err
		}
	}
	if !slices.Equal(w.processed, []string{copyID}) {
		return fmt.Errorf("the fixed worker processed deliveries %q; want the replayed copy %q once", w.processed, copyID)
	}
	copied, original := r.srv.srv.Message(copyID), r.srv.srv.Message(originalID)
	switch {
	case copied == nil || original == nil:
		return fmt.Errorf("the server does not know message %q or %q", copyID, originalID)
	case copied.Deliveries != 1 || copied.Acks != 1:
		return fmt.Errorf("the replayed copy %q was delivered %d times and acked %d times; want once each", copyID, copied.Deliveries, copied.Acks)
	case original.Deliveries != maxAttempts:
		return fmt.Errorf("the original %q was delivered %d times; want the %d before it was dead-lettered", originalID, original.Deliveries, maxAttempts)
	}
	return nil
}

// step pulls what the jobs subscription gives now: it fails (nacks) the job while broken,
// processes and acks it once fixed, and acks what is not this scenario's. It reports whether
// it got the job.
func (w *poisonWorker) step(ctx context.Context) (got bool, err error) {
	// The server answers at once when it holds a message: the wait only bounds an empty pull.
	pctx, cancel := context.WithTimeout(ctx, redrivePullWait)
	resp, err := w.admin.Pull(pctx, &pubsubpb.PullRequest{Subscription: w.sub, MaxMessages: 100})
	cancel()
	switch {
	case err != nil && ctx.Err() == nil && pctx.Err() != nil:
		return false, nil // nothing right now
	case err != nil:
		return false, fmt.Errorf("pulling from %q: %w", w.sub, err)
	}
	var ack, nack []string
	for _, rm := range resp.ReceivedMessages {
		var j schemas.JobMessage
		switch {
		case json.Unmarshal(rm.Message.Data, &j) != nil || j.JobID != w.jobID:
			ack = append(ack, rm.AckId)
		case j.Content == poisonContent && !w.fixed:
			got = true
			w.attempts = append(w.attempts, int(rm.DeliveryAttempt))
			nack = append(nack, rm.AckId)
		default:
			got = true
			w.processed = append(w.processed, rm.Message.MessageId)
			ack = append(ack, rm.AckId)
		}
	}
	if len(nack) > 0 {
		if err := w.admin.ModifyAckDeadline(ctx, &pubsubpb.ModifyAckDeadlineRequest{Subscription: w.sub, AckIds: nack}); err != nil {
			return got, fmt.Errorf("nacking on %q: %w", w.sub, err)
		}
	}
	if len(ack) > 0 {
		if err := w.admin.Acknowledge(ctx, &pubsubpb.AcknowledgeRequest{Subscription: w.sub, AckIds: ack}); err != nil {
			return got, fmt.Errorf("acking on %q: %w", w.sub, err)
		}
	}
	return got, nil
}
