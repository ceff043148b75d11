package redrive

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	vkit "cloud.google.com/go/pubsub/v2/apiv1"
	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const (
	// leaseSeconds is the ack deadline held dead letters get, renewed every leaseRenew, so
	// that the dlq subscription gives them to nobody else while an operation runs.
	leaseSeconds = 120
	leaseRenew   = 40 * time.Second
	// settleTimeout bounds the acks and releases that still run after a cancellation: a dead
	// letter whose copy was confirmed is acked even when Ctrl-C came just after.
	settleTimeout = 15 * time.Second
	// batchSize is the most messages a pull returns and an ack or a release names.
	batchSize = 1000
)

// lease holds pulled dead letters until each is acked or released.
type lease struct {
	admin *vkit.SubscriptionAdminClient
	sub   string

	mu   sync.Mutex
	held map[string]bool // ack ids
	stop chan struct{}
	done chan struct{}
	once sync.Once
}

func (d *DLQ) newLease() *lease {
	l := &lease{admin: d.admin, sub: d.sub, held: map[string]bool{}, stop: make(chan struct{}), done: make(chan struct{})}
	go l.renew()
	return l
}

// collect pulls every dead letter the dlq subscription gives and returns them held, oldest
// first, each message id once (a further delivery of a held id becomes one of its Copies). It
// stops when EmptyPulls pulls in a row brought nothing new (see Options.EmptyPulls) or
// MaxMessages are held; complete is false when it stopped at MaxMessages. When ids are given,
// it stops as soon as it holds all of them: nothing else can be selected.
func (d *DLQ) collect(ctx context.Context, p *progress, ids ...string) (l *lease, msgs []*Message, complete bool, err error) {
	l = d.newLease()
	missing := map[string]bool{}
	for _, id := range ids {
		missing[id] = true
	}
	byID := map[string]*Message{}
	empty, pause := 0, d.opts.EmptyBackoff
	for len(msgs) < d.opts.MaxMessages && (len(ids) == 0 || len(missing) > 0) {
		batch, err := d.pull(ctx, min(batchSize, d.opts.MaxMessages-len(msgs)))
		if err != nil {
			return nil, nil, false, errors.Join(err, l.close(ctx))
		}
		l.hold(ctx, batch)
		fresh := 0
		for _, m := range batch {
			if first := byID[m.ID]; first != nil {
				first.Copies++
				first.copyAcks = append(first.copyAcks, m.ackID)
				continue
			}
			byID[m.ID] = m
			msgs = append(msgs, m)
			delete(missing, m.ID)
			fresh++
		}
		p.pullCount(fresh, len(batch)-fresh)
		if fresh > 0 {
			empty, pause = 0, d.opts.EmptyBackoff
			continue
		}
		if empty++; empty >= d.opts.EmptyPulls {
			complete = true
			break
		}
		if err := sleep(ctx, pause); err != nil {
			return nil, nil, false, errors.Join(fmt.Errorf("pulling from %q: %w", d.sub, err), l.close(ctx))
		}
		pause *= 2
	}
	complete = complete || (len(ids) > 0 && len(missing) == 0)
	for _, m := range msgs {
		d.resolve(m)
	}
	slices.SortStableFunc(msgs, byOriginal)
	return l, msgs, complete, nil
}

// sleep waits d, or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// pull pulls up to n dead letters; none when the subscription gave none within PullWait.
func (d *DLQ) pull(ctx context.Context, n int) ([]*Message, error) {
	pctx, cancel := context.WithTimeout(ctx, d.opts.PullWait)
	defer cancel()
	resp, err := d.admin.Pull(pctx, &pubsubpb.PullRequest{Subscription: d.sub, MaxMessages: int32(n)})
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return nil, fmt.Errorf("pulling from %q: %w", d.sub, ctx.Err())
	case pctx.Err() != nil || status.Code(err) == codes.DeadlineExceeded:
		return nil, nil // an empty pull
	default:
		return nil, fmt.Errorf("pulling from %q: %w", d.sub, err)
	}
	var out []*Message
	for _, rm := range resp.GetReceivedMessages() {
		out = append(out, newMessage(rm))
	}
	return out, nil
}

// hold adds msgs to the lease and gives them the lease's deadline at once.
func (l *lease) hold(ctx context.Context, msgs []*Message) {
	if len(msgs) == 0 {
		return
	}
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ackID
	}
	l.mu.Lock()
	for _, id := range ids {
		l.held[id] = true
	}
	l.mu.Unlock()
	// Best effort: should it fail, the subscription's own ack deadline still holds them, and
	// the renewal tries again.
	_ = l.modify(ctx, ids, leaseSeconds)
}

// renew extends the deadline of every held dead letter until the lease is closed.
func (l *lease) renew() {
	defer close(l.done)
	t := time.NewTicker(leaseRenew)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.mu.Lock()
			ids := make([]string, 0, len(l.held))
			for id := range l.held {
				ids = append(ids, id)
			}
			l.mu.Unlock()
			ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
			_ = l.modify(ctx, ids, leaseSeconds)
			cancel()
		}
	}
}

// settling is ctx without its cancellation, bounded by settleTimeout.
func settling(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
}

// ack acknowledges msgs, which leaves the dlq for good; they are no longer held either way.
func (l *lease) ack(ctx context.Context, msgs ...*Message) error {
	ids := l.drop(msgs)
	ctx, cancel := settling(ctx)
	defer cancel()
	for chunk := range slices.Chunk(ids, batchSize) {
		if err := l.admin.Acknowledge(ctx, &pubsubpb.AcknowledgeRequest{Subscription: l.sub, AckIds: chunk}); err != nil {
			return fmt.Errorf("acknowledging on %q: %w", l.sub, err)
		}
	}
	return nil
}

// release gives msgs back to the dlq subscription at once (ack deadline 0).
func (l *lease) release(ctx context.Context, msgs []*Message) error {
	ids := l.drop(msgs)
	ctx, cancel := settling(ctx)
	defer cancel()
	if err := l.modify(ctx, ids, 0); err != nil {
		return fmt.Errorf("releasing %d dead letters on %q (they return when their ack deadline passes): %w", len(ids), l.sub, err)
	}
	return nil
}

// drop removes msgs from the lease and returns their ack ids.
func (l *lease) drop(msgs []*Message) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var ids []string
	for _, m := range msgs {
		for _, id := range m.ackIDs() {
			if l.held[id] {
				delete(l.held, id)
				ids = append(ids, id)
			}
		}
	}
	return ids
}

// close stops the renewal and releases whatever is still held. It may be called again.
func (l *lease) close(ctx context.Context) error {
	var err error
	l.once.Do(func() {
		close(l.stop)
		<-l.done
		l.mu.Lock()
		ids := make([]string, 0, len(l.held))
		for id := range l.held {
			ids = append(ids, id)
		}
		l.held = map[string]bool{}
		l.mu.Unlock()
		sctx, cancel := settling(ctx)
		defer cancel()
		if e := l.modify(sctx, ids, 0); e != nil {
			err = fmt.Errorf("releasing %d dead letters on %q (they return when their ack deadline passes): %w", len(ids), l.sub, e)
		}
	})
	return err
}

func (l *lease) modify(ctx context.Context, ids []string, seconds int32) error {
	for chunk := range slices.Chunk(ids, batchSize) {
		req := &pubsubpb.ModifyAckDeadlineRequest{Subscription: l.sub, AckIds: chunk, AckDeadlineSeconds: seconds}
		if err := l.admin.ModifyAckDeadline(ctx, req); err != nil {
			return err
		}
	}
	return nil
}
