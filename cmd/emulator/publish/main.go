// Command publish publishes one test job to a pipeline's jobs topic the way the API does (JSON
// JobMessage, the user's id as ordering key), through whatever PUBSUB_EMULATOR_HOST points at,
// and optionally waits for it on the jobs subscription.
//
//	export PUBSUB_EMULATOR_HOST=127.0.0.1:8085 PUBSUB_PROJECT_ID=aiprod-dev-000000
//	go run ./cmd/emulator/publish --user u1 --content "hello" --receive
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"cloud.google.com/go/pubsub/v2"

	"github.com/aiprod/aiprod-pubsub/schemas"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("publish", flag.ContinueOnError)
	fs.SetOutput(stderr)
	prefix := fs.String("prefix", "aiprod-pipeline", "name prefix of the pipeline's topics and subscriptions")
	user := fs.String("user", "dev-user", "user_id, also the ordering key")
	content := fs.String("content", "hello from the emulator", "the job's content")
	preset := fs.String("preset", "default", "the job's preset")
	receive := fs.Bool("receive", false, "then receive the job on the jobs subscription and ack it")
	timeout := fs.Duration("timeout", 30*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	host, project := getenv("PUBSUB_EMULATOR_HOST"), getenv("PUBSUB_PROJECT_ID")
	if host == "" || project == "" {
		// Without PUBSUB_EMULATOR_HOST the client would talk to the real Pub/Sub.
		fmt.Fprintln(stderr, "publish: set PUBSUB_EMULATOR_HOST and PUBSUB_PROJECT_ID as `go run ./cmd/emulator --stack dev` prints them")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	client, err := pubsub.NewClient(ctx, project)
	if err != nil {
		fmt.Fprintf(stderr, "publish: %v\n", err)
		return 1
	}
	defer client.Close()

	job := schemas.JobMessage{
		JobID:    fmt.Sprintf("job-%d", time.Now().UnixNano()),
		UserID:   *user,
		Content:  *content,
		Preset:   *preset,
		Metadata: map[string]string{"source": "cmd/emulator/publish"},
	}
	data, err := schemas.Encode(schemas.Job, job)
	if err != nil {
		fmt.Fprintf(stderr, "publish: %v\n", err)
		return 1
	}
	pub := client.Publisher(*prefix + "-jobs")
	pub.EnableMessageOrdering = true
	id, err := pub.Publish(ctx, &pubsub.Message{Data: data, OrderingKey: job.UserID}).Get(ctx)
	pub.Stop()
	if err != nil {
		fmt.Fprintf(stderr, "publish: publishing to %s-jobs on %s: %v\n", *prefix, host, err)
		return 1
	}
	fmt.Fprintf(stdout, "published %s as message %s to projects/%s/topics/%s-jobs\n", job.JobID, id, project, *prefix)
	if !*receive {
		return 0
	}
	got, err := receiveJob(ctx, client, *prefix+"-jobs-sub", job.JobID)
	if err != nil {
		fmt.Fprintf(stderr, "publish: receiving from %s-jobs-sub: %v\n", *prefix, err)
		return 1
	}
	fmt.Fprintf(stdout, "received and acked on projects/%s/subscriptions/%s-jobs-sub: %s\n", project, *prefix, got)
	return 0
}

// receiveJob receives the job with the given id on sub, acks it and returns its data.
func receiveJob(ctx context.Context, client *pubsub.Client, sub, jobID string) ([]byte, error) {
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	var got []byte
	err := client.Subscriber(sub).Receive(rctx, func(_ context.Context, m *pubsub.Message) {
		var j schemas.JobMessage
		if json.Unmarshal(m.Data, &j) != nil || j.JobID != jobID {
			m.Nack() // someone else's job: leave it for them
			return
		}
		got = m.Data
		m.Ack()
		stop()
	})
	if err == nil && got == nil {
		err = ctx.Err()
	}
	return got, err
}
