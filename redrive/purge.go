package redrive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"
)

// Sink receives what a purge removes; *os.File is one.
type Sink interface {
	io.Writer
	Sync() error
}

// ErrNoFilter is Purge's refusal of a selection without a criterion.
var ErrNoFilter = errors.New("purge needs a filter: an attribute, an age or message ids")

// Record is a purged dead letter as Purge writes it, one JSON object per line. Data is base64.
type Record struct {
	ID           string            `json:"id"`
	PublishTime  time.Time         `json:"publish_time"`
	Attributes   map[string]string `json:"attributes,omitempty"`
	OrderingKey  string            `json:"ordering_key,omitempty"`
	Data         []byte            `json:"data"`
	Subscription string            `json:"subscription"`
}

// Purge removes the dead letters sel selects, for good. It writes each one whole to out as a
// JSON line (Record) and syncs out. Only then does it ack them, so a failed write purges
// nothing. sel must have a filter (ErrNoFilter). The dead letters it leaves out are released.
func (d *DLQ) Purge(ctx context.Context, sel Selection, out Sink) (*Report, error) {
	if sel.Filter.Empty() {
		return nil, ErrNoFilter
	}
	p := d.startProgress("purged")
	defer p.stop()
	l, msgs, complete, err := d.collect(ctx, p, sel.Filter.IDs...)
	if err != nil {
		return nil, err
	}
	defer l.close(ctx)
	selected, others := sel.pick(msgs, d.opts.Now())
	relErr := l.release(ctx, others)
	if err := d.write(out, selected); err != nil {
		return nil, errors.Join(fmt.Errorf("writing the dead letters to purge: %w; nothing was purged", err), relErr, l.close(ctx))
	}
	rep := &Report{NotSelected: len(others), Complete: complete, done: Purged}
	p.act(len(selected), false)
	for chunk := range slices.Chunk(selected, batchSize) {
		status, err := Purged, error(nil)
		if ctx.Err() != nil {
			status, err = Left, errInterrupted
		} else if err = l.ack(ctx, chunk...); err != nil {
			status = NotAcked
		}
		for _, m := range chunk {
			o := &Outcome{Message: m, Status: status, Err: err}
			rep.Outcomes = append(rep.Outcomes, o)
			if status == Purged {
				rep.Duplicates += m.Copies
			}
			p.done(o)
		}
	}
	return rep, errors.Join(relErr, l.close(ctx))
}

// write writes msgs to out as JSON lines and syncs it.
func (d *DLQ) write(out Sink, msgs []*Message) error {
	enc := json.NewEncoder(out)
	for _, m := range msgs {
		r := Record{ID: m.ID, PublishTime: m.PublishTime, Attributes: m.Attributes, OrderingKey: m.OrderingKey, Data: m.Data, Subscription: d.sub}
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return out.Sync()
}
