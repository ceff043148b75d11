// Command emulator serves a stack's Pub/Sub topology from an in-memory Pub/Sub server on
// loopback, for the API and the workers to develop against without a cloud project, or
// rehearses the pipeline's behaviour against it.
//
//	go run ./cmd/emulator --stack dev [--listen 127.0.0.1:8085]
//	go run ./cmd/emulator --stack dev --rehearse
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aiprod/aiprod-pubsub/emulator"
	"github.com/aiprod/aiprod-pubsub/offline"
	"github.com/aiprod/aiprod-pubsub/stacks"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	t := time.NewTicker(parentPoll)
	go watchParent(os.Getppid, t.C, stop, os.Stderr)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr, stop))
}

// parentPoll is how often the emulator checks that the process that started it still runs.
const parentPoll = time.Second

// watchParent stops the emulator (as SIGTERM would) once the process that started it is
// gone, which shows as a new parent process id: the orphan was adopted. Killing `go run` by
// its process id does not stop the program it built and started, which would go on holding
// the port; this does. ppid reads the parent's id at each tick.
func watchParent(ppid func() int, ticks <-chan time.Time, stop chan<- os.Signal, stderr io.Writer) {
	parent := ppid()
	for range ticks {
		if p := ppid(); p != parent {
			fmt.Fprintf(stderr, "emulator: the process that started it (pid %d) has ended; stopping\n", parent)
			select {
			case stop <- syscall.SIGTERM:
			default: // a signal is already waiting
			}
			return
		}
	}
}

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // the server could not start, or a rehearsal scenario failed
	exitUsage  = 2 // bad flags, a refused --listen, or a bad stack config
)

// options are the command's flags.
type options struct {
	stack, listen, configFile, dir string
	rehearse                       bool
}

// parse reads the flags; it returns exitOK when they are usable, another status when not.
func parse(args []string, stderr io.Writer) (options, int) {
	var o options
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.stack, "stack", "", "stack whose topology to serve (required), e.g. dev")
	fs.StringVar(&o.listen, "listen", emulator.DefaultListen, "loopback address to serve on (127.0.0.0/8, ::1 or localhost); port 0 picks a free port, as --rehearse does unless told otherwise")
	fs.BoolVar(&o.rehearse, "rehearse", false, "run the behaviour scenarios against the emulator and exit: 0 if all pass")
	fs.StringVar(&o.configFile, "config", "", "stack config file to use instead of Pulumi.<stack>.yaml")
	fs.StringVar(&o.dir, "dir", ".", "directory holding Pulumi.yaml")
	if err := fs.Parse(args); err != nil {
		return o, exitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "emulator: unexpected arguments %q\n", fs.Args())
		return o, exitUsage
	}
	if o.stack == "" {
		fmt.Fprintln(stderr, "emulator: --stack is required, e.g. --stack dev")
		return o, exitUsage
	}
	// The rehearsal needs no fixed port; a free one lets it run beside a serving emulator.
	listenSet := false
	fs.Visit(func(f *flag.Flag) { listenSet = listenSet || f.Name == "listen" })
	if o.rehearse && !listenSet {
		o.listen = "127.0.0.1:0"
	}
	// Refuse a non-loopback address before doing any work.
	if err := emulator.CheckListen(o.listen); err != nil {
		fmt.Fprintf(stderr, "emulator: %v\n", err)
		return o, exitUsage
	}
	return o, exitOK
}

// run is the command; it serves until stop delivers a value.
func run(args []string, stdout, stderr io.Writer, stop <-chan os.Signal) int {
	o, code := parse(args, stderr)
	if code != exitOK {
		return code
	}
	topo, code := o.topology(stderr)
	if code != exitOK {
		return code
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv, err := emulator.Start(ctx, topo, o.listen)
	if err != nil {
		fmt.Fprintf(stderr, "emulator: %v\n", err)
		var le *emulator.ListenError
		if errors.As(err, &le) {
			return exitUsage
		}
		return exitFailed
	}
	defer srv.Close()

	fmt.Fprintf(stdout, "Pub/Sub emulator for stack %s (project %s) on %s\n", o.stack, topo.Project, srv.Addr)
	describe(stdout, topo)
	if o.rehearse {
		go func() {
			select {
			case <-stop:
				cancel()
			case <-ctx.Done():
			}
		}()
		return rehearse(ctx, srv, stdout, stderr)
	}
	fmt.Fprintln(stdout, "\nPoint the client libraries at it (in another shell):")
	fmt.Fprintf(stdout, "export PUBSUB_EMULATOR_HOST=%s\n", srv.Addr)
	fmt.Fprintf(stdout, "export PUBSUB_PROJECT_ID=%s\n", topo.Project)
	fmt.Fprintln(stdout, "\nServing until interrupted (Ctrl-C); messages live in memory only.")
	<-stop
	fmt.Fprintln(stdout, "stopped")
	return exitOK
}

// topology renders the stack offline and builds what the emulator serves.
func (o options) topology(stderr io.Writer) (*emulator.Topology, int) {
	files, err := offline.Load(o.dir, o.stack, o.configFile)
	if err != nil {
		fmt.Fprintf(stderr, "emulator: %v\n", err)
		return nil, exitUsage
	}
	res, err := offline.Program(files.Project, o.stack, files.Config)
	if err != nil {
		var cfgErr *stacks.Error
		if errors.As(err, &cfgErr) {
			fmt.Fprintln(stderr, cfgErr.Error())
			return nil, exitUsage
		}
		fmt.Fprintf(stderr, "emulator: rendering stack %q: %v\n", o.stack, err)
		return nil, exitFailed
	}
	topo, err := emulator.FromResult(&res.Stack, files.Config.Values[stacks.ProjectKey])
	if err != nil {
		fmt.Fprintf(stderr, "emulator: %v\n", err)
		return nil, exitFailed
	}
	return topo, exitOK
}

// rehearse runs the scenarios and reports how they went.
func rehearse(ctx context.Context, srv *emulator.Server, stdout, stderr io.Writer) int {
	fmt.Fprintln(stdout, "\nRehearsal:")
	outcomes, err := emulator.Rehearse(ctx, srv, stdout)
	if err != nil {
		fmt.Fprintf(stderr, "emulator: %v\n", err)
		return exitFailed
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "emulator: rehearsal interrupted")
		return exitFailed
	}
	failed := 0
	for _, o := range outcomes {
		if !o.Passed() {
			failed++
		}
	}
	if failed > 0 {
		fmt.Fprintf(stdout, "%d of %d scenarios failed\n", failed, len(outcomes))
		return exitFailed
	}
	fmt.Fprintf(stdout, "all %d scenarios passed\n", len(outcomes))
	return exitOK
}

// describe lists what the emulator created, what it skipped and where it differs.
func describe(w io.Writer, t *emulator.Topology) {
	for _, topic := range t.Topics {
		fmt.Fprintf(w, "  topic         %s\n", topic.Name)
	}
	for _, s := range t.Subscriptions {
		var opts []string
		opts = append(opts, fmt.Sprintf("ack deadline %ds", s.AckDeadlineSeconds))
		if s.EnableMessageOrdering {
			opts = append(opts, "ordered")
		}
		if dl := s.DeadLetterPolicy; dl != nil {
			opts = append(opts, fmt.Sprintf("dead-letters to %s after %d deliveries", dl.DeadLetterTopic, dl.MaxDeliveryAttempts))
		}
		if s.MessageRetentionDuration != nil {
			opts = append(opts, fmt.Sprintf("retention %.0fs", s.MessageRetentionDuration.AsDuration().Seconds()))
		}
		if s.Filter != "" {
			opts = append(opts, fmt.Sprintf("filter %q", s.Filter))
		}
		fmt.Fprintf(w, "  subscription  %s <- %s (%s)\n", s.Name, s.Topic, strings.Join(opts, ", "))
	}
	for _, s := range t.Skipped {
		fmt.Fprintf(w, "  skipped       %s\n", s)
	}
	for _, n := range t.Notes {
		fmt.Fprintf(w, "  note          %s\n", n)
	}
}
