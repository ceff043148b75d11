package redrive

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"cloud.google.com/go/pubsub/v2/pstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/spec"
	"github.com/aiprod/aiprod-pubsub/testkit/pubsubtest"
)

// TestPstestDeadLettering pins what the emulator's server (pstest v2.9.0) does when it
// dead-letters, where it differs from Pub/Sub. It forwards the original's data, attributes and
// ordering key, without the CloudPubSubDeadLetterSource* attributes Pub/Sub adds. It also never
// removes the message from its source subscription: it acks it there with the message id
// instead of the ack id, which it ignores. So the message is forwarded again and again, and its
// ordering key delivers nothing more. The emulator's rehearsal works around both
// (emulator/poison.go). Should pstest change, this fails and the workarounds can go.
func TestPstestDeadLettering(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	jobsSub := f.pipeline.Subscriptions[spec.Jobs]
	id := f.srv.PublishOrdered(f.pipeline.Topics[spec.Jobs], []byte("poison"), map[string]string{"job_id": "j1"}, "u1")
	deliveries := 0
	for range 10 {
		//lint:ignore SA1019 pstest honours it and answers at once with what it holds; tests only, never Pub/Sub
		resp, err := f.client.SubscriptionAdminClient.Pull(ctx, &pubsubpb.PullRequest{Subscription: jobsSub, MaxMessages: 1, ReturnImmediately: true})
		require.NoError(t, err)
		if len(resp.ReceivedMessages) == 0 {
			break
		}
		deliveries++
		require.NoError(t, f.client.SubscriptionAdminClient.ModifyAckDeadline(ctx, &pubsubpb.ModifyAckDeadlineRequest{
			Subscription: jobsSub, AckIds: []string{resp.ReceivedMessages[0].AckId}}))
	}
	assert.Equal(t, 5, deliveries, "nacked on each delivery until dead-lettered")
	dead := f.drain(t, spec.DLQ)
	require.NotEmpty(t, dead)
	for _, m := range dead { // more than one when a forward came between the drain's pulls
		assert.Equal(t, id, m.MessageId, "the original, forwarded as it is")
		assert.Equal(t, "poison", string(m.Data))
		assert.Equal(t, "u1", m.OrderingKey)
		assert.Equal(t, map[string]string{"job_id": "j1"}, m.Attributes, "no CloudPubSubDeadLetter* attributes")
	}

	assert.Zero(t, f.srv.Message(id).Acks, "not acked on the jobs subscription")
	f.srv.PublishOrdered(f.pipeline.Topics[spec.Jobs], []byte("next"), nil, "u1")
	assert.Empty(t, f.drain(t, spec.Jobs), "u1's next job is stuck behind the dead-lettered one")
	// The dlq was drained (acked) above. A pull that waits (pstest waits half a second when it
	// holds nothing, then looks again) gets the dead letter once more.
	again, err := f.client.SubscriptionAdminClient.Pull(ctx, &pubsubpb.PullRequest{Subscription: f.pipeline.Subscriptions[spec.DLQ], MaxMessages: 10})
	require.NoError(t, err)
	require.NotEmpty(t, again.ReceivedMessages, "the dead letter, acked on the dlq, is forwarded again")
	assert.Equal(t, id, again.ReceivedMessages[0].Message.MessageId)
}

func TestReplayMovesExactlyN(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	base := time.Now().Add(-time.Hour)
	want := map[spec.Queue][]letter{}
	for i := range 12 {
		l := letter{source: spec.Jobs, key: fmt.Sprintf("u%d", i%4), data: job(t, fmt.Sprintf("j%d", i), fmt.Sprintf("u%d", i%4)),
			attrs: map[string]string{"job_id": fmt.Sprintf("j%d", i), "n": fmt.Sprint(i)}, original: base.Add(time.Duration(i) * time.Second)}
		want[spec.Jobs] = append(want[spec.Jobs], l)
	}
	for i := range 8 {
		l := letter{source: spec.Results, data: fmt.Sprintf(`{"job_id":"r%d"}`, i), attrs: map[string]string{"status": "success"}}
		want[spec.Results] = append(want[spec.Results], l)
	}
	for _, q := range sources {
		for _, l := range want[q] {
			f.deadLetter(t, l)
		}
	}
	var progress recorder
	rep, err := f.dlq(t, Options{Progress: &progress, ProgressEvery: 5}).Replay(context.Background(), Selection{}, false)
	require.NoError(t, err)
	assert.True(t, rep.OK(), rep.Summary())
	assert.Equal(t, 20, rep.Count(Replayed))
	assert.Equal(t, "20 replayed, 0 failed, 0 skipped, 0 left; 0 not selected", rep.Summary())
	assert.Contains(t, progress.String(), "5/20 done: 5 replayed")
	assert.Contains(t, progress.String(), "20/20 done: 20 replayed, 0 failed")

	after := f.drainAll(t, spec.DLQ, spec.Jobs, spec.Results)
	assert.Empty(t, after[spec.DLQ], "the dlq is empty")
	for _, q := range sources {
		got := after[q]
		require.Len(t, got, len(want[q]), q)
		byData := map[string]*pubsubpb.PubsubMessage{}
		for _, m := range got {
			byData[string(m.Data)] = m
		}
		for _, l := range want[q] {
			m := byData[l.data]
			require.NotNil(t, m, "%s never arrived on %s", l.data, q)
			assert.Equal(t, l.key, m.OrderingKey)
			assert.Equal(t, l.attrs, m.Attributes, "the attributes, without the ones Pub/Sub added")
		}
	}
}

// TestReplayFailureLosesNothing: a publish that fails leaves its dead letter in the dlq, not
// acked, and nothing is acked that was not published.
func TestReplayFailureLosesNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		reactor bool // the topic's schema rejects it (pstest reactor); else Publish fails
	}{
		{"rejected by the topic's schema", true},
		{"publish function fails", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, o := failingFixture(t, tc.reactor)
			good, bad := map[string]string{}, map[string]string{}
			for i := range 9 {
				if data := job(t, fmt.Sprintf("g%d", i), fmt.Sprintf("u%d", i)); i < 6 {
					good[f.deadLetter(t, letter{source: spec.Jobs, key: fmt.Sprintf("u%d", i), data: data})] = data
				} else {
					data = fmt.Sprintf("not json %d", i)
					bad[f.deadLetter(t, letter{source: spec.Jobs, key: fmt.Sprintf("u%d", i), data: data})] = data
				}
			}
			rep, err := f.dlq(t, o).Replay(context.Background(), Selection{}, false)
			require.NoError(t, err)
			assert.False(t, rep.OK())
			assert.Equal(t, 6, rep.Count(Replayed))
			assert.Equal(t, 3, rep.Count(Failed))
			for _, out := range rep.Outcomes {
				if out.Status == Failed {
					assert.Contains(t, bad, out.Message.ID)
					assert.ErrorContains(t, out.Err, "publishing to")
				}
			}
			for id := range bad {
				assert.Zero(t, f.srv.Message(id).Acks, "%s was acked but never published", id)
			}
			for id := range good {
				assert.Equal(t, 1, f.srv.Message(id).Acks, "%s was published but not acked", id)
			}
			after := f.drainAll(t, spec.DLQ, spec.Jobs)
			stillDead := datas(after[spec.DLQ])
			assert.ElementsMatch(t, slices.Collect(maps.Values(bad)), stillDead, "the failed ones stay in the dlq")
			arrived := datas(after[spec.Jobs])
			assert.ElementsMatch(t, slices.Collect(maps.Values(good)), arrived)
		})
	}
}

// failingFixture is a fixture where publishing a message that is not JSON fails: the jobs
// topic's schema rejects it (reactor), or else the Options' Publish fails.
func failingFixture(t *testing.T, reactor bool) (*fixture, Options) {
	t.Helper()
	if reactor {
		return newFixture(t, pstest.ServerReactorOption{FuncName: "Publish",
			Reactor: schemaReactor{topic: spec.TopicID(project, "t-jobs"), contract: spec.JobContract}}), Options{}
	}
	f := newFixture(t)
	real := rpcPublish(f.client.TopicAdminClient)
	return f, Options{Publish: func(ctx context.Context, topic string, m *pubsubpb.PubsubMessage) (string, error) {
		if !json.Valid(m.Data) {
			return "", fmt.Errorf("injected failure")
		}
		return real(ctx, topic, m)
	}}
}

// TestReplayCancelledLosesNothing cancels the replay after k confirmed publishes: every dead
// letter is then either republished or still in the dlq, and only republished ones were acked.
func TestReplayCancelledLosesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	const n, k = 30, 7
	var all []string
	for i := range n {
		key := ""
		if i%3 != 0 {
			key = fmt.Sprintf("u%d", i%5)
		}
		data := job(t, fmt.Sprintf("c%d", i), fmt.Sprintf("u%d", i%5))
		f.deadLetter(t, letter{source: spec.Jobs, key: key, data: data})
		all = append(all, data)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	real := rpcPublish(f.client.TopicAdminClient)
	var published atomic.Int32
	o := Options{Publish: func(ctx context.Context, topic string, m *pubsubpb.PubsubMessage) (string, error) {
		id, err := real(ctx, topic, m)
		if err == nil && published.Add(1) == k {
			cancel() // Ctrl-C, right after the k-th confirmation
		}
		return id, err
	}}
	rep, err := f.dlq(t, o).Replay(ctx, Selection{}, false)
	require.NoError(t, err)

	after := f.drainAll(t, spec.DLQ, spec.Jobs)
	stillDead, arrived := datas(after[spec.DLQ]), datas(after[spec.Jobs])
	assert.Subset(t, all, arrived)
	for _, d := range all {
		assert.True(t, slices.Contains(stillDead, d) || slices.Contains(arrived, d), "%s was lost", d)
	}
	for _, d := range all {
		if !slices.Contains(stillDead, d) {
			assert.Contains(t, arrived, d, "acked without being published")
		}
	}
	replayed := rep.Count(Replayed)
	assert.GreaterOrEqual(t, replayed, k)
	assert.Less(t, replayed, n, "the cancellation stopped it")
	assert.Equal(t, n-replayed, len(stillDead), "replayed %d, still in the dlq %d", replayed, len(stillDead))
	assert.Equal(t, n-replayed, rep.Count(Left)+rep.Count(Skipped))
	t.Logf("cancelled after %d publishes: %d replayed, %d still in the dlq", k, replayed, len(stillDead))
}

// TestReplayKeepsOrderPerKey: each key's dead letters are republished as they were first
// published, whatever order the dlq gives them in; after a failure, that key's later dead
// letters stay in the dlq, and other keys go on.
func TestReplayKeepsOrderPerKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t, pstest.ServerReactorOption{FuncName: "Publish",
		Reactor: schemaReactor{topic: spec.TopicID(project, "t-jobs"), contract: spec.JobContract}})
	base := time.Now().Add(-time.Hour)
	var letters []letter
	for i := range 6 {
		for _, user := range []string{"A", "B"} {
			data := job(t, fmt.Sprintf("%s%d", user, i), user)
			if user == "A" && i == 3 {
				data = "A3 does not conform"
			}
			letters = append(letters, letter{source: spec.Jobs, key: user, data: data, original: base.Add(time.Duration(len(letters)) * time.Second)})
		}
	}
	// The dlq gets them out of order, as dead-lettering from several subscribers may.
	for _, i := range []int{7, 2, 11, 0, 5, 9, 1, 4, 10, 3, 8, 6} {
		f.deadLetter(t, letters[i])
	}
	rep, err := f.dlq(t, Options{}).Replay(context.Background(), Selection{}, false)
	require.NoError(t, err)
	status := map[string]Status{}
	for _, o := range rep.Outcomes {
		status[string(o.Message.Data)] = o.Status
	}
	assert.Equal(t, Failed, status["A3 does not conform"])
	after := f.drainAll(t, spec.Jobs, spec.DLQ)
	arrived := map[string][]string{}
	for _, m := range after[spec.Jobs] {
		arrived[m.OrderingKey] = append(arrived[m.OrderingKey], string(m.Data))
	}
	var wantA, wantB, stays []string
	for i, l := range letters {
		switch {
		case l.key == "B":
			wantB = append(wantB, l.data)
		case i/2 < 3:
			wantA = append(wantA, l.data)
		default:
			stays = append(stays, l.data)
			if i/2 > 3 {
				assert.Equal(t, Skipped, status[l.data], "A%d", i/2)
			}
		}
	}
	assert.Equal(t, wantA, arrived["A"], "A's dead letters before the failure, in order")
	assert.Equal(t, wantB, arrived["B"], "B's dead letters, in order")
	assert.ElementsMatch(t, stays, datas(after[spec.DLQ]), "A3 and what follows it stay")
}

// TestDryRunChangesNothing: a dry run says what it would do, publishes nothing and leaves
// every dead letter in the dlq. A dead letter without a source stays, and so does what
// follows it on its ordering key, unless the source is assumed.
func TestDryRunChangesNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		assume spec.Queue
		want   []Status
	}{
		{"", []Status{WouldReplay, Left, Skipped, WouldReplay}},
		{spec.Jobs, []Status{WouldReplay, WouldReplay, WouldReplay, WouldReplay}},
	}
	for _, tc := range tests {
		t.Run("assume "+string(tc.assume), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			base := time.Now().Add(-time.Hour)
			f.deadLetter(t, letter{source: spec.Jobs, key: "u1", data: job(t, "j0", "u1"), original: base})
			f.deadLetter(t, letter{key: "u1", data: job(t, "j1", "u1"), original: base.Add(time.Second)})
			f.deadLetter(t, letter{source: spec.Jobs, key: "u1", data: job(t, "j2", "u1"), original: base.Add(2 * time.Second)})
			f.deadLetter(t, letter{source: spec.Results, data: `{"job_id":"j3"}`, original: base.Add(3 * time.Second)})
			var progress recorder
			rep, err := f.dlq(t, Options{AssumeSource: tc.assume, Progress: &progress}).Replay(context.Background(), Selection{}, true)
			require.NoError(t, err)
			var got []Status
			for _, o := range rep.Outcomes {
				got = append(got, o.Status)
			}
			assert.Equal(t, tc.want, got)
			assert.NotContains(t, progress.String(), "done:", "a dry run's report is the whole story")
			after := f.drainAll(t, spec.Jobs, spec.Results, spec.DLQ)
			assert.Empty(t, after[spec.Jobs], "nothing published")
			assert.Empty(t, after[spec.Results], "nothing published")
			assert.Len(t, after[spec.DLQ], 4, "nothing acked")
		})
	}
}

func TestInspectConsumesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	base := time.Now().Add(-2 * time.Hour)
	ids := []string{
		f.deadLetter(t, letter{source: spec.Jobs, key: "u1", data: job(t, "j1", "u1"), original: base}),
		f.deadLetter(t, letter{source: spec.Jobs, data: "garbage", original: base.Add(time.Second)}),
		f.deadLetter(t, letter{source: spec.Results, data: `{"job_id":"j3","status":"success","output":{},"error_message":null,"processing_time_ms":3}`, original: base.Add(2 * time.Second)}),
		f.deadLetter(t, letter{data: "no source", original: base.Add(3 * time.Second)}),
	}
	other := f.srv.PublishOrdered(f.pipeline.Topics[spec.DLQ], []byte("elsewhere"),
		map[string]string{SourceSubscriptionAttr: "other-sub", sourceProjectAttr: project}, "")
	d := f.dlq(t, Options{})
	n, err := d.Check(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n, "the dlq subscription has no dead-letter policy")
	for range 2 {
		insp, err := d.Inspect(context.Background())
		require.NoError(t, err)
		require.True(t, insp.Complete)
		require.Len(t, insp.Messages, 5, "inspecting again sees them all: none was consumed")
		m := insp.Messages
		assert.Equal(t, ids, []string{m[0].ID, m[1].ID, m[2].ID, m[3].ID}, "oldest first")
		assert.Equal(t, other, m[4].ID)
		assert.Equal(t, spec.Jobs, m[0].Source)
		assert.Equal(t, f.pipeline.Topics[spec.Jobs], m[0].Topic)
		assert.Equal(t, "5", m[0].SourceDeliveryCount)
		assert.Equal(t, spec.JobContract, m[0].Contract)
		assert.NoError(t, m[0].ContractErr)
		assert.ErrorContains(t, m[1].ContractErr, "job.avsc")
		assert.Equal(t, spec.ResultContract, m[2].Contract)
		assert.NoError(t, m[2].ContractErr)
		assert.Contains(t, m[3].Unknown, "carries no CloudPubSubDeadLetterSourceSubscription")
		assert.Contains(t, m[4].Unknown, `"other-sub"`)
	}
	for _, id := range append(ids, other) {
		assert.Zero(t, f.srv.Message(id).Acks, id)
	}
}

// syncCheck is a sink that, when synced, records whether any dead letter was acked already.
type syncCheck struct {
	bytes.Buffer
	f      *fixture
	ids    []string
	synced bool
	acked  []string
}

func (s *syncCheck) Sync() error {
	s.synced = true
	for _, id := range s.ids {
		if s.f.srv.Message(id).Acks > 0 {
			s.acked = append(s.acked, id)
		}
	}
	return nil
}

func TestPurge(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var doomed, kept []string
	for i := range 6 {
		attrs := map[string]string{"batch": "old"}
		if i%2 == 1 {
			attrs["batch"] = "new"
		}
		id := f.deadLetter(t, letter{source: spec.Jobs, key: "u", data: fmt.Sprintf("data %d", i), attrs: attrs})
		if i%2 == 0 {
			doomed = append(doomed, id)
		} else {
			kept = append(kept, id)
		}
	}
	d := f.dlq(t, Options{})
	ctx := context.Background()

	_, err := d.Purge(ctx, Selection{Limit: 3}, &syncCheck{})
	assert.ErrorIs(t, err, ErrNoFilter, "a limit is not a filter")
	_, err = d.Purge(ctx, Selection{Filter: Filter{Attrs: map[string]string{"batch": "old"}}}, &failingSink{})
	assert.ErrorContains(t, err, "nothing was purged")
	for _, id := range append(doomed, kept...) {
		assert.Zero(t, f.srv.Message(id).Acks, "acked %s though the file was not synced", id)
	}

	sink := &syncCheck{f: f, ids: doomed}
	rep, err := d.Purge(ctx, Selection{Filter: Filter{Attrs: map[string]string{"batch": "old"}}}, sink)
	require.NoError(t, err)
	assert.True(t, rep.OK())
	assert.Equal(t, 3, rep.Count(Purged))
	assert.Equal(t, 3, rep.NotSelected)
	assert.True(t, sink.synced)
	assert.Empty(t, sink.acked, "acked before the file was synced")
	var written []string
	for _, line := range strings.Split(strings.TrimSpace(sink.String()), "\n") {
		var r Record
		require.NoError(t, json.Unmarshal([]byte(line), &r))
		assert.Equal(t, "old", r.Attributes["batch"])
		assert.Equal(t, "u", r.OrderingKey)
		assert.Equal(t, f.pipeline.Subscriptions[spec.DLQ], r.Subscription)
		assert.Contains(t, line, `"data":"ZGF0YS`, "base64 data")
		written = append(written, r.ID)
	}
	assert.ElementsMatch(t, doomed, written)
	var left []string
	for _, m := range f.drain(t, spec.DLQ) {
		left = append(left, m.MessageId)
	}
	assert.ElementsMatch(t, kept, left, "exactly the selected ones are gone")
}

func TestSelection(t *testing.T) {
	t.Parallel()
	now := time.Now()
	msgs := []*Message{
		{ID: "a", PublishTime: now.Add(-3 * time.Hour), Attributes: map[string]string{"k": "v", "x": "1"}},
		{ID: "b", PublishTime: now.Add(-2 * time.Hour), Attributes: map[string]string{"k": "v"}},
		{ID: "c", PublishTime: now.Add(-time.Minute), Attributes: map[string]string{"k": "w"}},
		{ID: "d", PublishTime: now.Add(-time.Minute)},
	}
	tests := []struct {
		name string
		sel  Selection
		want []string
	}{
		{"everything", Selection{}, []string{"a", "b", "c", "d"}},
		{"attribute", Selection{Filter: Filter{Attrs: map[string]string{"k": "v"}}}, []string{"a", "b"}},
		{"two attributes", Selection{Filter: Filter{Attrs: map[string]string{"k": "v", "x": "1"}}}, []string{"a"}},
		{"absent attribute", Selection{Filter: Filter{Attrs: map[string]string{"k": ""}}}, nil},
		{"older than", Selection{Filter: Filter{OlderThan: time.Hour}}, []string{"a", "b"}},
		{"ids", Selection{Filter: Filter{IDs: []string{"d", "b"}}}, []string{"b", "d"}},
		{"all criteria", Selection{Filter: Filter{Attrs: map[string]string{"k": "v"}, OlderThan: time.Hour, IDs: []string{"b", "c"}}}, []string{"b"}},
		{"limit", Selection{Limit: 2}, []string{"a", "b"}},
		{"limit after the filter", Selection{Filter: Filter{OlderThan: 30 * time.Second}, Limit: 3}, []string{"a", "b", "c"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			selected, others := tc.sel.pick(msgs, now)
			var got []string
			for _, m := range selected {
				got = append(got, m.ID)
			}
			assert.Equal(t, tc.want, got)
			assert.Len(t, others, len(msgs)-len(got))
			assert.Equal(t, tc.sel.Filter.Empty(), tc.sel.Filter.String() == "every dead letter")
		})
	}
}

// TestSourceAttribute: Pub/Sub names the source subscription by full id or by name with the
// project beside it; either maps to the pipeline's queue.
func TestSourceAttribute(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	d := f.dlq(t, Options{})
	tests := []struct {
		attrs map[string]string
		want  spec.Queue
	}{
		{map[string]string{SourceSubscriptionAttr: spec.SubscriptionID(project, "t-jobs-sub")}, spec.Jobs},
		{map[string]string{SourceSubscriptionAttr: "t-results-sub", sourceProjectAttr: project}, spec.Results},
		{map[string]string{SourceSubscriptionAttr: "t-jobs-sub"}, spec.Jobs},
		{map[string]string{SourceSubscriptionAttr: "t-jobs-sub", sourceProjectAttr: "elsewhere"}, ""},
		{map[string]string{SourceSubscriptionAttr: spec.SubscriptionID(project, "t-dlq-sub")}, ""},
		{map[string]string{}, ""},
	}
	for _, tc := range tests {
		m := &Message{Attributes: tc.attrs, SourceSubscription: tc.attrs[SourceSubscriptionAttr]}
		d.resolve(m)
		assert.Equal(t, tc.want, m.Source, "%v", tc.attrs)
		assert.Equal(t, tc.want == "", m.Topic == "", "%v", tc.attrs)
	}
}

// TestSelectionByIDStopsPulling: a selection by message ids stops pulling once it holds them
// all: it makes no pull beyond the one that brought them, let alone an empty one.
func TestSelectionByIDStopsPulling(t *testing.T) {
	t.Parallel()
	pulls := &pullCounter{}
	f := newFixture(t, pstest.ServerReactorOption{FuncName: "Pull", Reactor: pulls})
	want := f.deadLetter(t, letter{source: spec.Jobs, key: "u1", data: job(t, "j1", "u1")})
	f.deadLetter(t, letter{source: spec.Jobs, key: "u2", data: job(t, "j2", "u2")})
	rep, err := f.dlq(t, Options{EmptyPulls: 3}).Replay(context.Background(), Selection{Filter: Filter{IDs: []string{want}}}, false)
	require.NoError(t, err)
	assert.Equal(t, int32(1), pulls.n.Load(), "pulls made")
	require.Len(t, rep.Outcomes, 1)
	assert.Equal(t, want, rep.Outcomes[0].Message.ID)
	assert.Equal(t, Replayed, rep.Outcomes[0].Status)
	assert.True(t, rep.Complete)
	assert.Len(t, f.drain(t, spec.DLQ), 1, "the other stays")
}

// pullCounter is a pstest reactor that counts Pull requests and answers the first empty of
// them with an empty response, as Pub/Sub may while messages wait.
type pullCounter struct {
	n     atomic.Int32
	empty int32
}

func (p *pullCounter) React(any) (bool, any, error) {
	if p.n.Add(1) <= p.empty {
		return true, &pubsubpb.PullResponse{}, nil
	}
	return false, nil, nil
}

// TestDrainedNeedsEvidence: Pub/Sub may answer a pull with no message while dead letters wait.
// The dlq counts as drained only after EmptyPulls empty pulls in a row.
func TestDrainedNeedsEvidence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		empty, emptyPulls int32
		want              int
	}{
		{"two empty answers, three needed", 2, 3, 3},
		{"one empty answer, the default three needed", 1, 0, 3},
		{"three empty answers, three needed", 3, 3, 0},
		{"one empty answer, one needed", 1, 1, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, pstest.ServerReactorOption{FuncName: "Pull", Reactor: &pullCounter{empty: tc.empty}})
			for i := range 3 {
				f.deadLetter(t, letter{source: spec.Jobs, key: "u", data: job(t, fmt.Sprint(i), "u")})
			}
			d, err := New(f.client, f.pipeline, Options{EmptyPulls: int(tc.emptyPulls), EmptyBackoff: time.Millisecond})
			require.NoError(t, err)
			insp, err := d.Inspect(context.Background())
			require.NoError(t, err)
			assert.Len(t, insp.Messages, tc.want)
		})
	}
}

// TestLanesByTopicAndKey: the same ordering key on two topics is two lanes. A failure on the
// jobs topic holds back that key's later jobs only, not a result with the same key.
func TestLanesByTopicAndKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t, pstest.ServerReactorOption{FuncName: "Publish",
		Reactor: schemaReactor{topic: spec.TopicID(project, "t-jobs"), contract: spec.JobContract}})
	base := time.Now().Add(-time.Hour)
	f.deadLetter(t, letter{source: spec.Jobs, key: "u1", data: "not a job", original: base})
	f.deadLetter(t, letter{source: spec.Results, key: "u1", data: `{"job_id":"r1"}`, original: base.Add(time.Second)})
	f.deadLetter(t, letter{source: spec.Jobs, key: "u1", data: job(t, "j2", "u1"), original: base.Add(2 * time.Second)})
	rep, err := f.dlq(t, Options{}).Replay(context.Background(), Selection{}, false)
	require.NoError(t, err)
	var got []Status
	for _, o := range rep.Outcomes {
		got = append(got, o.Status)
	}
	assert.Equal(t, []Status{Failed, Replayed, Skipped}, got)
	assert.Len(t, f.drain(t, spec.Results), 1, "the result went back")
}

// events is an ordered log of what a test saw happen, written from several goroutines.
type events struct {
	mu  sync.Mutex
	log []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.log = append(e.log, s)
}

func (e *events) all() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.log)
}

// ackLogger is a pstest reactor that logs each Acknowledge request on sub and lets it through.
type ackLogger struct {
	sub string
	ev  *events
}

func (a ackLogger) React(req any) (bool, any, error) {
	if r, ok := req.(*pubsubpb.AcknowledgeRequest); ok && r.Subscription == a.sub {
		a.ev.add("ack " + strings.Join(r.AckIds, " "))
	}
	return false, nil, nil
}

// TestReforwardedDeadLetterReplayedOnce: the in-memory server forwards a dead letter to the
// dlq again and again (TestPstestDeadLettering), so the same message id keeps coming. The
// replay finishes anyway, publishes the one copy once, and acks the dead letter and its
// duplicate deliveries only after that copy was confirmed.
func TestReforwardedDeadLetterReplayedOnce(t *testing.T) {
	t.Parallel()
	ev := &events{}
	f := newFixture(t, pstest.ServerReactorOption{FuncName: "Acknowledge",
		Reactor: ackLogger{sub: spec.SubscriptionID(project, "t-dlq-sub"), ev: ev}})
	id := f.srv.Publish(f.pipeline.Topics[spec.Jobs], []byte(job(t, "j1", "u1")), map[string]string{"job_id": "j1"})
	pubsubtest.NackUntilDeadLettered(t, f.client.SubscriptionAdminClient, f.pipeline.Subscriptions[spec.Jobs], id, 5)

	real := rpcPublish(f.client.TopicAdminClient)
	o := Options{AssumeSource: spec.Jobs, EmptyPulls: 3, EmptyBackoff: 20 * time.Millisecond,
		Publish: func(ctx context.Context, topic string, m *pubsubpb.PubsubMessage) (string, error) {
			newID, err := real(ctx, topic, m)
			ev.add("published " + newID)
			return newID, err
		}}
	rep, err := f.dlq(t, o).Replay(context.Background(), Selection{}, false)
	require.NoError(t, err)
	require.Len(t, rep.Outcomes, 1, "one dead letter, however often it came")
	assert.Equal(t, id, rep.Outcomes[0].Message.ID)
	assert.Equal(t, Replayed, rep.Outcomes[0].Status)
	assert.GreaterOrEqual(t, rep.Duplicates, 1, "the server forwarded it again while it was held")
	assert.Contains(t, rep.Summary(), "duplicate deliveries of them acked with them")

	log := ev.all()
	require.NotEmpty(t, log)
	assert.Equal(t, "published "+rep.Outcomes[0].NewID, log[0], "nothing acked before the copy was confirmed: %q", log)
	assert.Len(t, slices.DeleteFunc(slices.Clone(log), func(s string) bool { return !strings.HasPrefix(s, "published") }), 1, "one copy: %q", log)
	copies := pubsubtest.Drain(t, f.client.SubscriptionAdminClient, f.pipeline.Subscriptions[spec.Jobs])
	require.Len(t, copies, 1, "the copy arrives once")
	assert.Equal(t, rep.Outcomes[0].NewID, copies[0].MessageId)
}

// TestOtherSubscriptions: a topic with subscriptions besides the source would give each of
// them the copy. Replay refuses it and names them, unless allowed.
func TestOtherSubscriptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		allow      bool
		jobs       Status
		auditGets  int
		jobsArrive int
	}{
		{false, Left, 0, 0},
		{true, Replayed, 1, 1},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("allow %v", tc.allow), func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			audit := spec.SubscriptionID(project, "t-jobs-audit")
			_, err := f.srv.GServer.CreateSubscription(context.Background(), &pubsubpb.Subscription{Name: audit, Topic: f.pipeline.Topics[spec.Jobs]})
			require.NoError(t, err)
			f.deadLetter(t, letter{source: spec.Jobs, key: "u1", data: job(t, "j1", "u1")})
			f.deadLetter(t, letter{source: spec.Results, data: `{"job_id":"r1"}`})
			rep, err := f.dlq(t, Options{AllowOtherSubscriptions: tc.allow}).Replay(context.Background(), Selection{}, false)
			require.NoError(t, err)
			assert.Equal(t, map[string][]string{f.pipeline.Topics[spec.Jobs]: {audit}}, rep.OtherSubscriptions)
			for _, o := range rep.Outcomes {
				if o.Message.Source == spec.Results {
					assert.Equal(t, Replayed, o.Status, "the results topic has no other subscription")
					continue
				}
				assert.Equal(t, tc.jobs, o.Status)
				if !tc.allow {
					assert.ErrorIs(t, o.Err, ErrOtherSubscriptions)
					assert.ErrorContains(t, o.Err, `also feeds "`+audit+`"`)
				}
			}
			assert.Len(t, pubsubtest.Drain(t, f.client.SubscriptionAdminClient, audit), tc.auditGets)
			assert.Len(t, f.drain(t, spec.Jobs), tc.jobsArrive)
			assert.Len(t, f.drain(t, spec.DLQ), 1-tc.jobsArrive, "a refused dead letter stays")
		})
	}
}

// TestProgressOnEveryTick: while a replay waits on a publish, each tick of the progress clock
// writes a line of counts; no line names a single message (the report does, once).
func TestProgressOnEveryTick(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	id := f.deadLetter(t, letter{source: spec.Jobs, key: "u1", data: job(t, "j1", "u1")})
	f.deadLetter(t, letter{source: spec.Jobs, data: "no job"})
	ticks := make(chan time.Time)
	publishing, release := make(chan struct{}), make(chan struct{})
	var progress recorder
	o := Options{Progress: &progress, ticks: ticks, Parallel: 1,
		Publish: func(ctx context.Context, topic string, m *pubsubpb.PubsubMessage) (string, error) {
			if json.Valid(m.Data) {
				close(publishing)
				<-release
				return rpcPublish(f.client.TopicAdminClient)(ctx, topic, m)
			}
			return "", fmt.Errorf("injected failure")
		}}
	done := make(chan *Report)
	go func() {
		rep, err := f.dlq(t, o).Replay(context.Background(), Selection{}, false)
		assert.NoError(t, err)
		done <- rep
	}()
	<-publishing
	ticks <- time.Now()
	ticks <- time.Now() // the second send returns once the first tick's line is written
	assert.Contains(t, progress.String(), "/2 done: 0 replayed")
	assert.Contains(t, progress.String(), "(pulled 2, 0 duplicate deliveries)")
	close(release)
	rep := <-done
	assert.Equal(t, 1, rep.Count(Replayed))
	assert.Equal(t, 1, rep.Count(Failed))
	assert.Contains(t, progress.String(), "2/2 done: 1 replayed, 1 failed")
	assert.NotContains(t, progress.String(), id, "no line of its own for a message")
	for _, o := range rep.Outcomes {
		assert.NotContains(t, progress.String(), o.Message.ID)
	}
}
