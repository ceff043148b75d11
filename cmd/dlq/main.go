// Command dlq inspects, replays and purges a pipeline's dead letters on its dlq subscription,
// in Pub/Sub (application default credentials) or in the local emulator (when
// PUBSUB_EMULATOR_HOST is set). It finds the queues from the stack the way the other commands
// do: it renders the stack offline and reads the pipeline component's outputs.
//
//	dlq inspect --stack dev [--pipeline <name>] [--page-size 20]
//	dlq replay  --stack dev [--attr k=v]... [--older-than 1h] [--id <id>]... [--limit N] [--yes]
//	dlq purge   --stack dev (--attr k=v | --older-than 1h | --id <id>)... --out purged.jsonl --yes
//	dlq poison  --stack dev [--user u1]     (the emulator only: one test dead letter)
//
// --timeout bounds every subcommand as a whole; progress goes to stderr every few seconds.
//
// Exit status: 0 every selected dead letter was replayed or purged (or a dry run, or an
// inspection); 1 some failed or were left in the dlq, or Pub/Sub could not be reached; 2 a
// usage or config error. `go run` turns every non-zero status into 1: build the binary where
// the status matters.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/aiprod/aiprod-pubsub/pubsubconn"
	"github.com/aiprod/aiprod-pubsub/redrive"
)

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1
	exitUsage  = 2
)

func main() {
	// Ctrl-C or SIGTERM cancels the context: a replay stops between messages and releases
	// what it holds, and a dead letter whose copy was confirmed is still acked.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command with args and returns its exit status. getenv is the environment:
// PUBSUB_EMULATOR_HOST chooses the emulator. --timeout bounds everything after the flags.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	o, code := parse(args, stderr)
	if code != exitOK || o.help {
		return code
	}
	emulator := getenv(pubsubconn.EmulatorHostEnv)
	if o.cmd == "poison" && emulator == "" {
		fmt.Fprintf(stderr, "dlq poison: it writes a test dead letter, so it works only against the emulator: set %s as `%s` prints it\n",
			pubsubconn.EmulatorHostEnv, pubsubconn.StartEmulator)
		return exitUsage
	}
	pipeline, project, err := o.target()
	if err != nil {
		fmt.Fprintf(stderr, "dlq: %v\n", err)
		return exitUsage
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	conn, err := pubsubconn.Dial(ctx, project, emulator, o.timeout)
	if err != nil {
		fmt.Fprintf(stderr, "dlq: %v\n", err)
		return exitFailed
	}
	defer conn.Close()
	d, err := redrive.New(conn.Client, pipeline, o.redriveOptions(stderr))
	if err != nil {
		fmt.Fprintf(stderr, "dlq: %v\n", err)
		return exitUsage
	}
	assumed := fmt.Sprintf("stack %s (project %s, pipeline %q)", o.stack, project, pipeline.Name)
	dlPolicy, err := d.Check(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "dlq: %v\n", conn.Explain(fmt.Sprintf("reading subscription %q", d.Subscription()), err, assumed))
		return exitFailed
	}
	fmt.Fprintf(stdout, "dead letters of pipeline %q (stack %s) on %s, through %s\n", pipeline.Name, o.stack, d.Subscription(), conn.Where())
	switch o.cmd {
	case "inspect":
		code = inspect(ctx, d, o, dlPolicy, stdout, stderr)
	case "replay":
		code = replay(ctx, d, o, stdout, stderr)
	case "poison":
		code = poison(ctx, conn, pipeline, o, stdout, stderr)
	default:
		code = purge(ctx, d, o, stdout, stderr)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		fmt.Fprintf(stderr, "dlq: --timeout %s ran out: what was not done stays in the dlq (a larger dlq needs a longer --timeout)\n", o.timeout)
		return exitFailed
	}
	return code
}

// inspect shows the count, the oldest dead letter's age and a page of dead letters.
func inspect(ctx context.Context, d *redrive.DLQ, o options, dlPolicy int, stdout, stderr io.Writer) int {
	insp, err := d.Inspect(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "dlq: inspecting: %v\n", err)
		return exitFailed
	}
	writeInspection(stdout, insp, o.pageSize, dlPolicy, time.Now())
	return exitOK
}

// replay replays, or in a dry run says what it would replay.
func replay(ctx context.Context, d *redrive.DLQ, o options, stdout, stderr io.Writer) int {
	if !o.yes {
		fmt.Fprintln(stdout, "dry run: nothing is published or acknowledged; add --yes to replay")
	}
	fmt.Fprintf(stdout, "selection: %s\n", describe(o.selection()))
	rep, err := d.Replay(ctx, o.selection(), !o.yes)
	if err != nil && rep == nil {
		fmt.Fprintf(stderr, "dlq: replaying: %v\n", err)
		return exitFailed
	}
	writeReport(stdout, rep, o.allowOthers)
	if err != nil {
		fmt.Fprintf(stderr, "dlq: %v\n", err)
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		fmt.Fprintln(stderr, "dlq: interrupted: what was not replayed stays in the dlq")
	}
	switch {
	case err != nil || (!rep.DryRun && !rep.OK()):
		return exitFailed
	case rep.DryRun && !rep.OK():
		fmt.Fprintln(stdout, "with --yes, what is not marked \"would replay\" stays in the dlq and the exit status is 1")
	}
	return exitOK
}

// purge writes the selected dead letters to --out, syncs it, and acks them.
func purge(ctx context.Context, d *redrive.DLQ, o options, stdout, stderr io.Writer) int {
	// O_EXCL: a purge never overwrites the record of an earlier one.
	f, err := os.OpenFile(o.out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		fmt.Fprintf(stderr, "dlq: --out: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "selection: %s\n", describe(o.selection()))
	rep, err := d.Purge(ctx, o.selection(), f)
	if cerr := f.Close(); cerr != nil && err == nil && rep == nil {
		err = cerr
	}
	if rep == nil {
		fmt.Fprintf(stderr, "dlq: purging: %v\n", err)
		return exitFailed
	}
	fmt.Fprintf(stdout, "wrote %d dead letter(s) to %s and synced it before acknowledging them\n", len(rep.Outcomes), o.out)
	writeReport(stdout, rep, false)
	if err != nil {
		fmt.Fprintf(stderr, "dlq: %v\n", err)
	}
	if !rep.OK() || err != nil {
		return exitFailed
	}
	return exitOK
}

// usage is the command's synopsis.
const usage = `usage: dlq inspect --stack <name> [flags]
       dlq replay  --stack <name> [filters] [--limit N] [--yes]
       dlq purge   --stack <name> filters --out <file> --yes
       dlq poison  --stack <name> [--user <id>]   (the emulator only)

Inspect, replay and purge a pipeline's dead letters, in Pub/Sub (application default
credentials) or in the emulator that PUBSUB_EMULATOR_HOST names; poison writes a test dead
letter to the emulator.
Run 'dlq <subcommand> -h' for its flags.

exit status: 0 done (or a dry run); 1 some dead letters failed or were left in the dlq, or
Pub/Sub could not be reached; 2 usage or config error
`

func printUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, usage)
	if fs != nil {
		fmt.Fprintf(w, "\nflags of %s:\n", fs.Name())
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
}
