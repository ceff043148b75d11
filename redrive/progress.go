package redrive

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// progress writes lines of counts to Options.Progress: every ProgressInterval, so that a long
// pull or replay is never silent, and every ProgressEvery finished dead letters. It says
// nothing of single messages: the Report does, once.
type progress struct {
	w      io.Writer
	verb   string
	every  int
	dryRun bool

	mu            sync.Mutex
	pulled, dups  int
	acting        bool
	total, n      int
	counts        map[Status]int
	quit, stopped chan struct{}
}

// startProgress starts the ticker of an operation whose dead letters end up verb.
func (d *DLQ) startProgress(verb string) *progress {
	p := &progress{w: d.opts.Progress, verb: verb, every: d.opts.ProgressEvery, counts: map[Status]int{},
		quit: make(chan struct{}), stopped: make(chan struct{})}
	if p.w == nil {
		close(p.stopped)
		return p
	}
	ticks := d.opts.ticks
	var t *time.Ticker
	if ticks == nil {
		t = time.NewTicker(d.opts.ProgressInterval)
		ticks = t.C
	}
	go func() {
		defer close(p.stopped)
		if t != nil {
			defer t.Stop()
		}
		for {
			select {
			case <-p.quit:
				return
			case <-ticks:
				p.mu.Lock()
				p.line()
				p.mu.Unlock()
			}
		}
	}()
	return p
}

// stop ends the ticker.
func (p *progress) stop() {
	if p.w == nil {
		return
	}
	close(p.quit)
	<-p.stopped
}

// pullCount counts a pull's new dead letters and duplicate deliveries.
func (p *progress) pullCount(fresh, dups int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pulled += fresh
	p.dups += dups
}

// act marks the end of the pulling: total dead letters are selected.
func (p *progress) act(total int, dryRun bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.acting, p.total, p.dryRun = true, total, dryRun
}

// done counts one finished dead letter, with a line every ProgressEvery and at the last.
// A dry run writes none: its report is the whole story.
func (p *progress) done(o *Outcome) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n++
	p.counts[o.Status]++
	if p.w != nil && !p.dryRun && (p.n%p.every == 0 || p.n == p.total) {
		p.line()
	}
}

// line writes the counts so far; the caller holds mu.
func (p *progress) line() {
	if !p.acting {
		fmt.Fprintf(p.w, "pulled %d dead letters so far (%d duplicate deliveries), still pulling\n", p.pulled, p.dups)
		return
	}
	fmt.Fprintf(p.w, "%d/%d done: %d %s, %d failed, %d skipped, %d left (pulled %d, %d duplicate deliveries)\n",
		p.n, p.total, p.counts[Replayed]+p.counts[Purged]+p.counts[WouldReplay], p.verb,
		p.counts[Failed], p.counts[Skipped], p.counts[Left], p.pulled, p.dups)
}
