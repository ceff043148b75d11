package emulator

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"time"

	"cloud.google.com/go/pubsub/v2"
	vkit "cloud.google.com/go/pubsub/v2/apiv1"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/aiprod/aiprod-pubsub/schemas"
	"github.com/aiprod/aiprod-pubsub/spec"
)

// scenarioTimeout bounds each scenario: a behaviour that never happens fails instead of hanging.
const scenarioTimeout = 30 * time.Second

// scenario is one behaviour the pipeline relies on, checked against a running server.
type scenario struct {
	Name string
	run  func(ctx context.Context, r *rehearsal, p Pipeline) (string, error)
}

// scenarios are the rehearsal's scenarios, in the order they run. Redelivery runs last because
// it moves the server's clock.
var scenarios = []scenario{
	{"per-user ordering", ordering},
	{"dead-lettering", deadLettering},
	{"results flow", resultsFlow},
	{"poison job replayed from the dlq", poisonReplay},
	{"redelivery after the ack deadline", redelivery},
}

// Outcome is how one scenario went for one pipeline.
type Outcome struct {
	Scenario, Pipeline string
	// Detail says what was observed when the scenario passed.
	Detail   string
	Err      error
	Duration time.Duration
}

// Passed reports whether the scenario passed.
func (o Outcome) Passed() bool { return o.Err == nil }

func (o Outcome) String() string {
	verdict, detail := "PASS", o.Detail
	if o.Err != nil {
		verdict, detail = "FAIL", o.Err.Error()
	}
	return fmt.Sprintf("%s  %-34s %-10s %6.2fs  %s", verdict, o.Scenario, o.Pipeline, o.Duration.Seconds(), detail)
}

type rehearsal struct {
	srv    *Server
	client *pubsub.Client
	// run tells this rehearsal's messages apart from anything else on the server.
	run string
}

// Rehearse runs every scenario for every pipeline of the server's topology with the official
// client library, writes one line per outcome to w as it goes, and returns the outcomes.
func Rehearse(ctx context.Context, srv *Server, w io.Writer) ([]Outcome, error) {
	client, err := srv.Client(ctx)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	if len(srv.Topology.Pipelines) == 0 {
		return nil, fmt.Errorf("the stack declares no %s to rehearse", spec.PipelineType)
	}
	r := &rehearsal{srv: srv, client: client, run: strconv.FormatInt(time.Now().UnixNano(), 36)}
	var outcomes []Outcome
	for _, sc := range scenarios {
		for _, p := range srv.Topology.Pipelines {
			sctx, cancel := context.WithTimeout(ctx, scenarioTimeout)
			start := time.Now()
			detail, err := sc.run(sctx, r, p)
			if err == nil && sctx.Err() != nil {
				err = fmt.Errorf("timed out after %s", scenarioTimeout)
			}
			cancel()
			o := Outcome{Scenario: sc.Name, Pipeline: p.Name, Detail: detail, Err: err, Duration: time.Since(start)}
			outcomes = append(outcomes, o)
			fmt.Fprintln(w, o)
		}
	}
	return outcomes, nil
}

// queues returns the full ids of a pipeline's topic and subscription for queue q.
func queues(p Pipeline, q spec.Queue) (topic, sub string, err error) {
	topic, sub = p.Topics[q], p.Subscriptions[q]
	if topic == "" || sub == "" {
		return "", "", fmt.Errorf("pipeline %q has no %s topic and subscription (topic %q, subscription %q)", p.Name, q, topic, sub)
	}
	return topic, sub, nil
}

// publish publishes msgs to topic, with ordering when any has an ordering key, and waits for
// the server to accept them all.
func (r *rehearsal) publish(ctx context.Context, topic string, msgs ...*pubsub.Message) ([]string, error) {
	pub := r.client.Publisher(topic)
	defer pub.Stop()
	pub.EnableMessageOrdering = slices.ContainsFunc(msgs, func(m *pubsub.Message) bool { return m.OrderingKey != "" })
	var results []*pubsub.PublishResult
	for _, m := range msgs {
		results = append(results, pub.Publish(ctx, m))
	}
	var ids []string
	for _, res := range results {
		id, err := res.Get(ctx)
		if err != nil {
			return nil, fmt.Errorf("publishing to %s: %w", topic, err)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// receive receives from sub until handle returns true or ctx ends; handle is called from
// several goroutines.
func (r *rehearsal) receive(ctx context.Context, sub string, handle func(*pubsub.Message) bool) error {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	err := r.client.Subscriber(sub).Receive(rctx, func(_ context.Context, m *pubsub.Message) {
		if handle(m) {
			cancel()
		}
	})
	if err != nil {
		return fmt.Errorf("receiving from %s: %w", sub, err)
	}
	return ctx.Err()
}

func (r *rehearsal) job(scenario string, i int, user string) schemas.JobMessage {
	return schemas.JobMessage{
		JobID:    fmt.Sprintf("rehearsal-%s-%s-%s-%d", r.run, scenario, user, i),
		UserID:   user,
		Content:  fmt.Sprintf("job %d of %s", i, user),
		Preset:   "default",
		Metadata: map[string]string{"rehearsal": scenario, "seq": fmt.Sprint(i)},
	}
}

// jobMessage is the Pub/Sub message the API publishes for j: JSON data, the user as ordering key.
func jobMessage(j schemas.JobMessage) (*pubsub.Message, error) {
	data, err := schemas.Encode(schemas.Job, j)
	if err != nil {
		return nil, err
	}
	return &pubsub.Message{
		Data:        data,
		OrderingKey: j.UserID,
		Attributes:  map[string]string{"job_id": j.JobID, "user_id": j.UserID, "preset": j.Preset},
	}, nil
}

// ordering publishes several jobs per user, interleaved, and checks that each user's jobs
// arrive on the jobs subscription in publish order.
func ordering(ctx context.Context, r *rehearsal, p Pipeline) (string, error) {
	topic, sub, err := queues(p, spec.Jobs)
	if err != nil {
		return "", err
	}
	const users, perUser = 3, 5
	want := map[string][]string{}
	var msgs []*pubsub.Message
	for i := range perUser {
		for u := range users {
			user := fmt.Sprintf("user-%d", u)
			j := r.job("order", i, user)
			m, err := jobMessage(j)
			if err != nil {
				return "", err
			}
			msgs = append(msgs, m)
			want[user] = append(want[user], j.JobID)
		}
	}
	if _, err := r.publish(ctx, topic, msgs...); err != nil {
		return "", err
	}
	var mu sync.Mutex
	got := map[string][]string{}
	total := 0
	err = r.receive(ctx, sub, func(m *pubsub.Message) bool {
		var j schemas.JobMessage
		if json.Unmarshal(m.Data, &j) != nil || !slices.Contains(want[j.UserID], j.JobID) {
			m.Ack() // not this scenario's
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		got[j.UserID] = append(got[j.UserID], j.JobID)
		total++
		m.Ack()
		return total >= users*perUser
	})
	mu.Lock()
	defer mu.Unlock()
	for _, user := range slices.Sorted(maps.Keys(want)) {
		if !slices.Equal(got[user], want[user]) {
			return "", fmt.Errorf("%s's jobs arrived as %v; published as %v", user, got[user], want[user])
		}
	}
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d jobs of %d users, interleaved, arrived in publish order per user", total, users), nil
}

// deadLettering nacks a job on every delivery and checks that it reaches the dlq subscription
// after exactly maxDeliveryAttempts deliveries, with its data and attributes intact.
func deadLettering(ctx context.Context, r *rehearsal, p Pipeline) (string, error) {
	topic, sub, err := queues(p, spec.Jobs)
	if err != nil {
		return "", err
	}
	_, dlqSub, err := queues(p, spec.DLQ)
	if err != nil {
		return "", err
	}
	w := poisonWatch{sub: sub, dlqSub: dlqSub, maxAttempts: spec.AttemptsRange.Min, policy: "no dead-letter policy"}
	if rendered := r.srv.Topology.Subscription(sub); rendered != nil && rendered.DeadLetterPolicy != nil {
		w.maxAttempts = int(rendered.DeadLetterPolicy.MaxDeliveryAttempts)
		w.policy = fmt.Sprintf("maxDeliveryAttempts %d", w.maxAttempts)
	}
	j := r.job("dead-letter", 0, "user-dl")
	msg, err := jobMessage(j)
	if err != nil {
		return "", err
	}
	if _, err := r.publish(ctx, topic, msg); err != nil {
		return "", err
	}
	w.watch(ctx, r, j.JobID)
	if err := w.verdict(msg); err != nil {
		return "", err
	}
	return fmt.Sprintf("nacked on each of %d deliveries (attempts %v), then on %s with data and attributes intact", w.maxAttempts, w.attempts, dlqSub), nil
}

// poisonWatch follows a job that every delivery nacks, on its subscription and on the dlq.
type poisonWatch struct {
	sub, dlqSub string
	maxAttempts int
	policy      string // the dead-letter policy, for messages

	mu sync.Mutex
	// attempts are the delivery attempt counters of each delivery; 0 when the server sets none.
	attempts []int
	dead     *pubsub.Message
	tooMany  bool
	errs     [2]error
}

// watch nacks the job on sub until it turns up on dlqSub, or until it was delivered more often
// than the policy allows.
func (w *poisonWatch) watch(ctx context.Context, r *rehearsal, jobID string) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		w.errs[0] = r.receive(ctx, w.sub, func(m *pubsub.Message) bool {
			if m.Attributes["job_id"] != jobID {
				m.Ack()
				return false
			}
			w.mu.Lock()
			defer w.mu.Unlock()
			w.attempts = append(w.attempts, deliveryAttempt(m))
			m.Nack()
			if len(w.attempts) > w.maxAttempts {
				w.tooMany = true
				cancel()
				return true
			}
			return false
		})
	})
	wg.Go(func() {
		w.errs[1] = r.receive(ctx, w.dlqSub, func(m *pubsub.Message) bool {
			if m.Attributes["job_id"] != jobID {
				m.Ack()
				return false
			}
			w.mu.Lock()
			defer w.mu.Unlock()
			w.dead = m
			m.Ack()
			cancel() // stops the jobs receiver too
			return true
		})
	})
	wg.Wait()
}

// verdict says what went wrong, if anything: too many deliveries, no dead letter, a wrong
// count, or a dead letter that differs from what was published.
func (w *poisonWatch) verdict(msg *pubsub.Message) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.tooMany:
		return fmt.Errorf("the job was delivered %d times on %s (%s) and never reached %s", len(w.attempts), w.sub, w.policy, w.dlqSub)
	case w.dead == nil:
		return fmt.Errorf("the job never reached %s after %d deliveries on %s (%s): %w", w.dlqSub, len(w.attempts), w.sub, w.policy, errors.Join(w.errs[:]...))
	case len(w.attempts) != w.maxAttempts:
		return fmt.Errorf("the job reached %s after %d deliveries; %s", w.dlqSub, len(w.attempts), w.policy)
	}
	for i, n := range w.attempts {
		if n != i+1 {
			return fmt.Errorf("delivery attempt counters were %v; want 1..%d", w.attempts, w.maxAttempts)
		}
	}
	if string(w.dead.Data) != string(msg.Data) {
		return fmt.Errorf("the dead letter's data is %q; published %q", w.dead.Data, msg.Data)
	}
	for k, v := range msg.Attributes {
		if w.dead.Attributes[k] != v {
			return fmt.Errorf("the dead letter's attribute %q is %q; published %q", k, w.dead.Attributes[k], v)
		}
	}
	return nil
}

// deliveryAttempt is the delivery attempt counter of m; 0 when the server sets none.
func deliveryAttempt(m *pubsub.Message) int {
	if m.DeliveryAttempt != nil {
		return *m.DeliveryAttempt
	}
	return 0
}

// resultsFlow publishes a worker's result and checks that it arrives on the results
// subscription as sent.
func resultsFlow(ctx context.Context, r *rehearsal, p Pipeline) (string, error) {
	topic, sub, err := queues(p, spec.Results)
	if err != nil {
		return "", err
	}
	want := schemas.ResultMessage{
		JobID:            r.job("result", 0, "user-r").JobID,
		Status:           schemas.StatusSuccess,
		Output:           map[string]string{"video": "gs://aiprod-rehearsal/output.mp4"},
		ProcessingTimeMS: 1234,
	}
	data, err := schemas.Encode(schemas.Result, want)
	if err != nil {
		return "", err
	}
	if _, err := r.publish(ctx, topic, &pubsub.Message{Data: data, Attributes: map[string]string{"job_id": want.JobID, "status": want.Status}}); err != nil {
		return "", err
	}
	var mu sync.Mutex
	var got *schemas.ResultMessage
	err = r.receive(ctx, sub, func(m *pubsub.Message) bool {
		var res schemas.ResultMessage
		if json.Unmarshal(m.Data, &res) != nil || res.JobID != want.JobID {
			m.Ack()
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		got = &res
		m.Ack()
		return true
	})
	mu.Lock()
	defer mu.Unlock()
	if got == nil {
		return "", fmt.Errorf("the result never arrived on %s: %w", sub, err)
	}
	if !reflect.DeepEqual(*got, want) {
		return "", fmt.Errorf("received %+v; published %+v", *got, want)
	}
	return fmt.Sprintf("a %s result for %s arrived on %s", want.Status, want.JobID, sub), nil
}

// redelivery pulls a job without acking it, moves the server's clock past the subscription's
// ack deadline and checks that the job is delivered again. It pulls with the unary API because
// the client library's Receive extends deadlines by itself.
func redelivery(ctx context.Context, r *rehearsal, p Pipeline) (string, error) {
	topic, sub, err := queues(p, spec.Jobs)
	if err != nil {
		return "", err
	}
	rendered := r.srv.Topology.Subscription(sub)
	if rendered == nil {
		return "", fmt.Errorf("%s was not created", sub)
	}
	deadline := time.Duration(cmp.Or(int(rendered.AckDeadlineSeconds), spec.DefaultAckDeadlineSeconds)) * time.Second
	j := r.job("redeliver", 0, "user-rd")
	msg, err := jobMessage(j)
	if err != nil {
		return "", err
	}
	ids, err := r.publish(ctx, topic, msg)
	if err != nil {
		return "", err
	}
	pl := puller{admin: r.client.SubscriptionAdminClient, sub: sub, id: ids[0]}
	first, err := pl.pull(ctx, true)
	if err != nil {
		return "", err
	}
	again, err := pl.pull(ctx, false)
	if err != nil {
		return "", err
	}
	if again != nil {
		return "", fmt.Errorf("the job was delivered again before its ack deadline of %s", deadline)
	}
	r.srv.advance(deadline + time.Second)
	second, err := pl.pull(ctx, true)
	if err != nil {
		return "", err
	}
	if err := pl.ack(ctx, second.AckId); err != nil {
		return "", err
	}
	if string(second.Message.Data) != string(msg.Data) {
		return "", fmt.Errorf("the redelivered job's data is %q; published %q", second.Message.Data, msg.Data)
	}
	if rendered.DeadLetterPolicy != nil && second.DeliveryAttempt != first.DeliveryAttempt+1 {
		return "", fmt.Errorf("delivery attempts were %d then %d; want consecutive", first.DeliveryAttempt, second.DeliveryAttempt)
	}
	return fmt.Sprintf("not redelivered within the %s ack deadline; redelivered (attempt %d) once the clock passed it", deadline, second.DeliveryAttempt), nil
}

// puller pulls one message from a subscription with the unary API, acking any other.
type puller struct {
	admin *vkit.SubscriptionAdminClient
	sub   string
	id    string // the message id to wait for
}

// pull returns the message's delivery. With wait it pulls until the message comes; without, it
// returns nil when the server has no delivery of it to give right now: the pull asks the
// emulator to answer at once with what it holds (ReturnImmediately, which the rehearsal may
// use because it talks to its own in-memory server, never to Pub/Sub).
func (pl puller) pull(ctx context.Context, wait bool) (*pubsubpb.ReceivedMessage, error) {
	for {
		//lint:ignore SA1019 the emulator honours it; the rehearsal never talks to Pub/Sub
		req := &pubsubpb.PullRequest{Subscription: pl.sub, MaxMessages: 100, ReturnImmediately: !wait}
		resp, err := pl.admin.Pull(ctx, req)
		if err != nil {
			return nil, fmt.Errorf("pulling from %s: %w", pl.sub, err)
		}
		mine, err := pl.keep(ctx, resp.ReceivedMessages)
		if err != nil || mine != nil || !wait {
			return mine, err
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
}

// keep returns the delivery of the message among received and acks the others.
func (pl puller) keep(ctx context.Context, received []*pubsubpb.ReceivedMessage) (*pubsubpb.ReceivedMessage, error) {
	var mine *pubsubpb.ReceivedMessage
	var others []string
	for _, rm := range received {
		if rm.Message.MessageId == pl.id {
			mine = rm
		} else {
			others = append(others, rm.AckId)
		}
	}
	if len(others) > 0 {
		if err := pl.ack(ctx, others...); err != nil {
			return nil, err
		}
	}
	return mine, nil
}

func (pl puller) ack(ctx context.Context, ackIDs ...string) error {
	if err := pl.admin.Acknowledge(ctx, &pubsubpb.AcknowledgeRequest{Subscription: pl.sub, AckIds: ackIDs}); err != nil {
		return fmt.Errorf("acking on %s: %w", pl.sub, err)
	}
	return nil
}
