// Command publish publishes one test job to a pipeline's jobs topic the way the API does (JSON
// JobMessage, the user's id as ordering key), in the emulator that PUBSUB_EMULATOR_HOST names,
// and optionally receives it back.
//
//	export PUBSUB_EMULATOR_HOST=127.0.0.1:8085 PUBSUB_PROJECT_ID=aiprod-dev-000000
//	go run ./cmd/emulator/publish --user u1 --content "hello" --receive
//
// --receive proves the job comes out of the topic. Before publishing, the helper creates a
// temporary subscription that only this job passes (a filter on its job_id attribute), then
// receives the job there, acks it and deletes the subscription. It never receives from the
// shared jobs subscription. There it would take other people's jobs, or use up their delivery
// attempts until they were dead-lettered. It would also wait forever behind an earlier job of
// the same user, since ordering delivers that one first. The job itself waits on the jobs
// subscription for a worker.
//
// --timeout bounds the whole run: reaching the emulator, publishing and receiving.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/aiprod/aiprod-pubsub/schemas"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// options are the command's flags.
type options struct {
	prefix, user, content, preset string
	receive                       bool
	timeout                       time.Duration
}

func parse(args []string, stderr io.Writer) (options, int) {
	var o options
	fs := flag.NewFlagSet("publish", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.prefix, "prefix", "aiprod-pipeline", "name prefix of the pipeline's topics and subscriptions")
	fs.StringVar(&o.user, "user", "dev-user", "user_id, also the ordering key")
	fs.StringVar(&o.content, "content", "hello from the emulator", "the job's content")
	fs.StringVar(&o.preset, "preset", "default", "the job's preset")
	fs.BoolVar(&o.receive, "receive", false, "then receive the job on a temporary subscription of its own, and ack it")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "give up after this long, whatever the step")
	if err := fs.Parse(args); err != nil {
		return o, 2
	}
	if fs.NArg() > 0 || o.timeout <= 0 {
		fmt.Fprintf(stderr, "publish: want flags only and a positive --timeout, got %q and %s\n", fs.Args(), o.timeout)
		return o, 2
	}
	return o, 0
}

func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o, code := parse(args, stderr)
	if code != 0 {
		return code
	}
	host, project := getenv("PUBSUB_EMULATOR_HOST"), getenv("PUBSUB_PROJECT_ID")
	if host == "" || project == "" {
		// The helper talks to the emulator only, never to the real Pub/Sub.
		fmt.Fprintln(stderr, "publish: set PUBSUB_EMULATOR_HOST and PUBSUB_PROJECT_ID as `go run ./cmd/emulator --stack dev` prints them")
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	e := &emulatorAt{host: host, project: project, prefix: o.prefix, timeout: o.timeout}
	if err := e.connect(ctx, o.prefix+"-jobs"); err != nil {
		fmt.Fprintf(stderr, "publish: %v\n", err)
		return 1
	}
	defer e.close()
	if err := publishJob(ctx, e, o, stdout); err != nil {
		fmt.Fprintf(stderr, "publish: %v\n", err)
		return 1
	}
	return 0
}

// publishJob publishes the job and, with --receive, receives it on a subscription of its own.
func publishJob(ctx context.Context, e *emulatorAt, o options, stdout io.Writer) error {
	job := schemas.JobMessage{
		JobID:    fmt.Sprintf("job-%d", time.Now().UnixNano()),
		UserID:   o.user,
		Content:  o.content,
		Preset:   o.preset,
		Metadata: map[string]string{"source": "cmd/emulator/publish"},
	}
	data, err := schemas.Encode(schemas.Job, job)
	if err != nil {
		return err
	}
	topic, sub := e.topicID(o.prefix+"-jobs"), e.subscriptionID(o.prefix+"-jobs-sub")
	var own string
	if o.receive {
		// Before publishing: a subscription only gets what is published after it exists.
		if own, err = e.createOwn(ctx, topic, o.prefix+"-jobs-receive-"+job.JobID, job.JobID); err != nil {
			return err
		}
		defer e.deleteOwn(ctx, own)
	}
	msg := &pubsubpb.PubsubMessage{Data: data, OrderingKey: job.UserID, Attributes: map[string]string{"job_id": job.JobID}}
	id, err := e.publish(ctx, topic, msg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "published %s as message %s to %s (ordering key %q)\n", job.JobID, id, topic, job.UserID)
	if !o.receive {
		fmt.Fprintf(stdout, "it waits on %s for a worker\n", sub)
		return nil
	}
	got, err := e.receiveOwn(ctx, own, id)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "received and acked on %s, a temporary subscription of its own (now deleted): %s\n", own, got)
	fmt.Fprintf(stdout, "the job also waits on %s for a worker, after any earlier job of user %q still queued there (the ordering key);\n"+
		"this helper does not receive from that shared subscription, where it would take other people's jobs or use up their delivery attempts\n", sub, job.UserID)
	return nil
}

// errNotArrived is a receive that timed out with the emulator answering.
var errNotArrived = errors.New("the job did not arrive")
