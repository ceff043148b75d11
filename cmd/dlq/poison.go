package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/aiprod/aiprod-pubsub/pubsubconn"
	"github.com/aiprod/aiprod-pubsub/redrive"
	"github.com/aiprod/aiprod-pubsub/schemas"
	"github.com/aiprod/aiprod-pubsub/spec"
)

// poison writes one test dead letter to the emulator's dlq topic: a job as Pub/Sub forwards
// it after the jobs subscription's maxDeliveryAttempts failed deliveries, with the attributes
// Pub/Sub adds. It does not make a worker fail the job on the jobs subscription: the emulator
// (pstest) would then forward it to the dlq again and again, without those attributes, and
// hold back the user's later jobs for ten minutes (see the README).
func poison(ctx context.Context, conn *pubsubconn.Conn, p redrive.Pipeline, o options, stdout, stderr io.Writer) int {
	jobsSub, dlqTopic := p.Subscriptions[spec.Jobs], p.Topics[spec.DLQ]
	sub, err := conn.Client.SubscriptionAdminClient.GetSubscription(ctx, &pubsubpb.GetSubscriptionRequest{Subscription: jobsSub})
	if err != nil {
		fmt.Fprintf(stderr, "dlq: %v\n", conn.Explain(fmt.Sprintf("reading subscription %q", jobsSub), err, "stack "+o.stack))
		return exitFailed
	}
	attempts := int(sub.GetDeadLetterPolicy().GetMaxDeliveryAttempts())
	job := schemas.JobMessage{
		JobID:    fmt.Sprintf("poison-%d", time.Now().UnixNano()),
		UserID:   o.user,
		Content:  o.content,
		Preset:   "default",
		Metadata: map[string]string{"source": "dlq poison"},
	}
	data, err := schemas.Encode(schemas.Job, job)
	if err != nil {
		fmt.Fprintf(stderr, "dlq: %v\n", err)
		return exitFailed
	}
	attrs := redrive.DeadLetterAttributes(jobsSub, attempts, time.Now())
	attrs["job_id"] = job.JobID
	msg := &pubsubpb.PubsubMessage{Data: data, Attributes: attrs, OrderingKey: job.UserID}
	resp, err := conn.Client.TopicAdminClient.Publish(ctx, &pubsubpb.PublishRequest{Topic: dlqTopic, Messages: []*pubsubpb.PubsubMessage{msg}})
	if err != nil {
		fmt.Fprintf(stderr, "dlq: %v\n", conn.Explain(fmt.Sprintf("publishing to %q", dlqTopic), err, "stack "+o.stack))
		return exitFailed
	}
	fmt.Fprintf(stdout, "dead-lettered test job %s (user %q) as message %s on %s, as Pub/Sub forwards a job from %s after %d failed deliveries\n",
		job.JobID, job.UserID, resp.MessageIds[0], dlqTopic, jobsSub, attempts)
	return exitOK
}
