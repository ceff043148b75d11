package redrive

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Status is what became of one selected dead letter.
type Status string

// The statuses. Every one but Replayed and Purged leaves the dead letter in the dlq.
const (
	// Replayed: republished to its source topic, the server confirmed it, then it was acked.
	Replayed Status = "replayed"
	// WouldReplay: a dry run would republish it.
	WouldReplay Status = "would replay"
	// Purged: written out, synced, then acked.
	Purged Status = "purged"
	// Failed: the publish failed, for example rejected by the topic's schema.
	Failed Status = "failed"
	// Skipped: an earlier dead letter with the same ordering key stays in the dlq, so this one
	// is not published either: the key's order must hold.
	Skipped Status = "skipped"
	// Left: its source is unknown, or the operation was interrupted before it was done.
	Left Status = "left"
	// NotAcked: it was republished (or written out) but the ack failed, so it is still in the
	// dlq too. Replaying it again would deliver it twice.
	NotAcked Status = "not acked"
)

// Outcome is what happened to one selected dead letter.
type Outcome struct {
	Message *Message
	Status  Status
	// NewID is the id of the republished copy.
	NewID string
	// Err says why it was not replayed or purged.
	Err error
}

// Report is what an operation did to the dead letters it selected.
type Report struct {
	DryRun bool
	// Outcomes are the selected dead letters, in the order they were taken: oldest first.
	Outcomes []*Outcome
	// NotSelected counts the dead letters pulled that the selection left out; they were
	// released. A selection by message id stops pulling once it holds them all.
	NotSelected int
	// Complete is false when the dlq held more than MaxMessages: the rest was not looked at.
	Complete bool
	// Duplicates counts the further deliveries of the dead letters replayed or purged, acked
	// with them (see Message.Copies).
	Duplicates int
	// OtherSubscriptions are, for each topic a replay publishes to (or would, or refused to),
	// its subscriptions other than the one the dead letters came from: each gets the copy too.
	OtherSubscriptions map[string][]string
	// done is the status of a dead letter that went as asked.
	done Status
}

// Count is how many outcomes have status s.
func (r *Report) Count(s Status) int {
	n := 0
	for _, o := range r.Outcomes {
		if o.Status == s {
			n++
		}
	}
	return n
}

// OK reports whether every selected dead letter was replayed or purged (or would be replayed,
// in a dry run).
func (r *Report) OK() bool {
	for _, o := range r.Outcomes {
		if o.Status != r.done {
			return false
		}
	}
	return true
}

// Summary counts the outcomes in one line.
func (r *Report) Summary() string {
	s := fmt.Sprintf("%d %s, %d failed, %d skipped, %d left", r.Count(r.done), r.done, r.Count(Failed), r.Count(Skipped), r.Count(Left))
	if n := r.Count(NotAcked); n > 0 {
		s += fmt.Sprintf(", %d republished but not acked (still in the dlq)", n)
	}
	s += fmt.Sprintf("; %d not selected", r.NotSelected)
	if r.Duplicates > 0 {
		s += fmt.Sprintf("; %d duplicate deliveries of them acked with them", r.Duplicates)
	}
	return s
}

// Replay republishes the dead letters sel selects, each to the topic of the subscription it
// was dead-lettered from, with its data, attributes (less the ones Pub/Sub added) and ordering
// key, oldest first. It acks a dead letter, and any further delivery of its message id, only
// once the server has confirmed its one copy. The dead letters of one topic and ordering key
// go one at a time, in order. After a failure, the rest of that lane stays in the dlq. A topic
// with other subscriptions than the source is refused unless AllowOtherSubscriptions. Whatever
// is not replayed is released back to the dlq. With dryRun it publishes and acks nothing, and
// the report says what it would do. A cancelled ctx stops it between messages.
func (d *DLQ) Replay(ctx context.Context, sel Selection, dryRun bool) (*Report, error) {
	p := d.startProgress("replayed")
	defer p.stop()
	l, msgs, complete, err := d.collect(ctx, p, sel.Filter.IDs...)
	if err != nil {
		return nil, err
	}
	selected, others := sel.pick(msgs, d.opts.Now())
	relErr := l.release(ctx, others)
	rep := &Report{DryRun: dryRun, NotSelected: len(others), Complete: complete, done: Replayed}
	if dryRun {
		rep.done = WouldReplay
	}
	for _, m := range selected {
		rep.Outcomes = append(rep.Outcomes, &Outcome{Message: m})
	}
	refused, err := d.checkTopics(ctx, rep)
	if err != nil {
		return nil, errors.Join(err, relErr, l.close(ctx))
	}
	ls := lanes(rep.Outcomes)
	p.act(len(rep.Outcomes), dryRun)
	step := func(o *Outcome) error { return d.replayOne(ctx, l, o) }
	if dryRun {
		step = func(*Outcome) error { return nil }
	}
	d.replayLanes(ls, p, func(o *Outcome) error {
		if err := refused[o.Message.Topic]; err != nil {
			return err
		}
		return step(o)
	})
	for _, o := range rep.Outcomes {
		if o.Status == Replayed {
			rep.Duplicates += o.Message.Copies
		}
	}
	return rep, errors.Join(relErr, l.close(ctx))
}

// laneKey names a lane: the dead letters of one topic and ordering key, which must go in
// order. The same key on two topics is two lanes: ordering holds per topic.
type laneKey struct{ topic, key string }

// lanes groups outcomes by topic and ordering key, keeping their order. A dead letter without
// a key is a lane of its own. A dead letter whose topic is unknown might belong to any topic,
// so its key is one lane across topics: it stays, and so does what follows it with that key.
func lanes(outs []*Outcome) [][]*Outcome {
	unknown := map[string]bool{}
	for _, o := range outs {
		unknown[o.Message.OrderingKey] = unknown[o.Message.OrderingKey] || o.Message.Topic == ""
	}
	var ls [][]*Outcome
	byKey := map[laneKey]int{}
	for _, o := range outs {
		key := laneKey{o.Message.Topic, o.Message.OrderingKey}
		if key.key == "" {
			ls = append(ls, []*Outcome{o})
			continue
		}
		if unknown[key.key] {
			key.topic = ""
		}
		i, ok := byKey[key]
		if !ok {
			i = len(ls)
			byKey[key] = i
			ls = append(ls, nil)
		}
		ls[i] = append(ls[i], o)
	}
	return ls
}

// replayLanes walks the lanes with step, Parallel at a time.
func (d *DLQ) replayLanes(ls [][]*Outcome, p *progress, step func(*Outcome) error) {
	work := make(chan []*Outcome)
	var wg sync.WaitGroup
	for range d.opts.Parallel {
		wg.Go(func() {
			for lane := range work {
				d.walk(lane, p, step)
			}
		})
	}
	for _, lane := range ls {
		work <- lane
	}
	close(work)
	wg.Wait()
}

// errInterrupted marks the dead letters an interruption left in the dlq.
var errInterrupted = errors.New("interrupted before its turn")

// walk takes one lane in order. step replays (or not, in a dry run) one dead letter and sets
// its outcome; once a dead letter stays in the dlq, the rest of the lane stays too.
func (d *DLQ) walk(lane []*Outcome, p *progress, step func(*Outcome) error) {
	var blocker *Outcome
	for _, o := range lane {
		switch {
		case blocker != nil && errors.Is(blocker.Err, errInterrupted):
			o.Status, o.Err = Left, errInterrupted
		case blocker != nil:
			o.Status = Skipped
			o.Err = fmt.Errorf("dead letter %s, earlier with ordering key %q, stays in the dlq (%s)", blocker.Message.ID, o.Message.OrderingKey, blocker.Status)
		case o.Message.Topic == "":
			o.Status, o.Err = Left, errors.New(o.Message.Unknown)
		default:
			if err := step(o); err != nil {
				o.Status, o.Err = Left, err
			} else if o.Status == "" {
				o.Status = WouldReplay
			}
		}
		if o.Status != Replayed && o.Status != WouldReplay && blocker == nil {
			blocker = o
		}
		p.done(o)
	}
}

// replayOne publishes one dead letter's copy and, once the server confirmed it, acks it.
func (d *DLQ) replayOne(ctx context.Context, l *lease, o *Outcome) error {
	if ctx.Err() != nil {
		return errInterrupted
	}
	id, err := d.opts.Publish(ctx, o.Message.Topic, o.Message.republished())
	if err != nil {
		if ctx.Err() != nil {
			// Whether the server stored it is unknown: it stays, and may come twice.
			o.Status, o.Err = Left, fmt.Errorf("interrupted while publishing to %q (if the copy got through, it will be delivered twice): %w", o.Message.Topic, err)
			return nil
		}
		o.Status, o.Err = Failed, fmt.Errorf("publishing to %q: %w", o.Message.Topic, err)
		return nil
	}
	o.NewID = id
	if err := l.ack(ctx, o.Message); err != nil {
		o.Status, o.Err = NotAcked, err
		return nil
	}
	o.Status = Replayed
	return nil
}
