package redrive

import (
	"cmp"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"github.com/stretchr/testify/require"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/aiprod/aiprod-pubsub/schemas"
	"github.com/aiprod/aiprod-pubsub/spec"
	"github.com/aiprod/aiprod-pubsub/testkit/pubsubtest"
)

const project = "redrive-test"

// fixture is a pstest server holding one pipeline's topology the way the stacks declare it:
// an ordered jobs subscription and a results subscription, both dead-lettering to the dlq
// topic after 5 deliveries, and a dlq subscription without a dead-letter policy. The server
// answers every pull at once (pubsubtest.AnswerAtOnce), before the reactors of opts.
type fixture struct {
	srv      *pstest.Server
	client   *pubsub.Client
	pipeline Pipeline
}

func newFixture(t *testing.T, opts ...pstest.ServerReactorOption) *fixture {
	t.Helper()
	srv := pstest.NewServer(append([]pstest.ServerReactorOption{pubsubtest.AnswerAtOnce}, opts...)...)
	conn, err := grpc.NewClient(srv.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	client, err := pubsub.NewClient(context.Background(), project, option.WithGRPCConn(conn))
	require.NoError(t, err)
	t.Cleanup(func() {
		client.Close()
		conn.Close()
		srv.Close()
	})
	f := &fixture{srv: srv, client: client, pipeline: Pipeline{Name: "p", Topics: map[spec.Queue]string{}, Subscriptions: map[spec.Queue]string{}}}
	ctx := context.Background()
	for _, q := range spec.Queues {
		f.pipeline.Topics[q] = spec.TopicID(project, "t-"+string(q))
		f.pipeline.Subscriptions[q] = spec.SubscriptionID(project, "t-"+string(q)+"-sub")
		_, err := srv.GServer.CreateTopic(ctx, &pubsubpb.Topic{Name: f.pipeline.Topics[q]})
		require.NoError(t, err)
	}
	for _, q := range spec.Queues {
		sub := &pubsubpb.Subscription{Name: f.pipeline.Subscriptions[q], Topic: f.pipeline.Topics[q], AckDeadlineSeconds: 60,
			EnableMessageOrdering: q == spec.Jobs, MessageRetentionDuration: durationpb.New(24 * time.Hour)}
		if q != spec.DLQ {
			sub.DeadLetterPolicy = &pubsubpb.DeadLetterPolicy{DeadLetterTopic: f.pipeline.Topics[spec.DLQ], MaxDeliveryAttempts: 5}
		}
		_, err := srv.GServer.CreateSubscription(ctx, sub)
		require.NoError(t, err)
	}
	return f
}

// dlq is the fixture's DLQ. Unless o says otherwise, one empty pull counts as drained: the
// fixture's server answers a pull with everything it holds, so in these tests one empty pull
// is proof. No wait is shorter than the server's.
func (f *fixture) dlq(t *testing.T, o Options) *DLQ {
	t.Helper()
	o.EmptyPulls = cmp.Or(o.EmptyPulls, 1)
	o.PullWait = cmp.Or(o.PullWait, time.Minute)
	d, err := New(f.client, f.pipeline, o)
	require.NoError(t, err)
	return d
}

// letter is a dead letter as Pub/Sub forwards it: the original message plus the attributes
// Pub/Sub adds. pstest adds none when it dead-letters (see TestPstestAddsNoSourceAttributes),
// so the tests publish dead letters to the dlq topic themselves, as Pub/Sub would.
type letter struct {
	source spec.Queue // "" for none
	key    string
	data   string
	attrs  map[string]string
	// original is the source topic's publish time; zero leaves the attribute out.
	original time.Time
}

func (f *fixture) deadLetter(t *testing.T, l letter) string {
	t.Helper()
	attrs := map[string]string{}
	for k, v := range l.attrs {
		attrs[k] = v
	}
	if l.source != "" {
		attrs[SourceSubscriptionAttr] = f.pipeline.Subscriptions[l.source]
		attrs[sourceProjectAttr] = project
		attrs[sourceDeliveryCountAttr] = "5"
	}
	if !l.original.IsZero() {
		attrs[sourcePublishTimeAttr] = l.original.Format(time.RFC3339Nano)
	}
	return f.srv.PublishOrdered(f.pipeline.Topics[spec.DLQ], []byte(l.data), attrs, l.key)
}

// drain pulls and acks everything queue q's subscription gives (pubsubtest.Drain).
func (f *fixture) drain(t *testing.T, q spec.Queue) []*pubsubpb.PubsubMessage {
	t.Helper()
	return pubsubtest.Drain(t, f.client.SubscriptionAdminClient, f.pipeline.Subscriptions[q])
}

// drainAll drains the subscriptions of qs at once.
func (f *fixture) drainAll(t *testing.T, qs ...spec.Queue) map[spec.Queue][]*pubsubpb.PubsubMessage {
	t.Helper()
	var subs []string
	for _, q := range qs {
		subs = append(subs, f.pipeline.Subscriptions[q])
	}
	got := pubsubtest.DrainAll(t, f.client.SubscriptionAdminClient, subs...)
	out := map[spec.Queue][]*pubsubpb.PubsubMessage{}
	for _, q := range qs {
		out[q] = got[f.pipeline.Subscriptions[q]]
	}
	return out
}

// datas are the data of msgs, as strings.
func datas(msgs []*pubsubpb.PubsubMessage) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, string(m.Data))
	}
	return out
}

// job is a valid JobMessage's JSON.
func job(t *testing.T, id, user string) string {
	t.Helper()
	b, err := schemas.Encode(schemas.Job, schemas.JobMessage{JobID: id, UserID: user, Content: "content of " + id, Preset: "fast"})
	require.NoError(t, err)
	return string(b)
}

// schemaReactor makes pstest's Publish behave like a topic with a JSON schema: a request to
// topic with a message that does not conform to the contract is refused, as Pub/Sub refuses
// it, with InvalidArgument (which the client does not retry).
type schemaReactor struct {
	topic    string
	contract spec.Contract
}

func (r schemaReactor) React(req any) (bool, any, error) {
	pr, ok := req.(*pubsubpb.PublishRequest)
	if !ok || pr.Topic != r.topic {
		return false, nil, nil
	}
	all, err := schemas.Load(schemas.FS)
	if err != nil {
		return true, nil, status.Error(codes.Internal, err.Error())
	}
	for _, m := range pr.Messages {
		if err := all[r.contract].Validate(m.Data); err != nil {
			return true, nil, status.Errorf(codes.InvalidArgument, "Invalid data in message: Message failed schema validation: %v", err)
		}
	}
	return false, nil, nil
}

// recorder is a Progress writer safe for concurrent writes.
type recorder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (r *recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.b.Write(p)
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.b.String()
}

// failingSink fails its Sync, as a full disk would.
type failingSink struct{ strings.Builder }

func (*failingSink) Sync() error { return fmt.Errorf("sync: no space left on device") }
