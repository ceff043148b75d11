package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/aiprod/aiprod-pubsub/offline"
	"github.com/aiprod/aiprod-pubsub/redrive"
	"github.com/aiprod/aiprod-pubsub/spec"
	"github.com/aiprod/aiprod-pubsub/stacks"
)

// options are the command's subcommand and flags.
type options struct {
	cmd                                     string
	stack, pipeline, projectDir, configFile string
	wait, timeout, olderThan                time.Duration
	pageSize, limit, progressEvery          int
	emptyPulls                              int
	yes, help, allowOthers                  bool
	user, content                           string
	attrs                                   attrFlag
	ids                                     listFlag
	assumeSource                            spec.Queue
	out                                     string
}

// listFlag is a flag that may be given more than once.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// attrFlag is a repeatable key=value flag.
type attrFlag map[string]string

func (a attrFlag) String() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(a)) {
		parts = append(parts, k+"="+a[k])
	}
	return strings.Join(parts, ",")
}

func (a attrFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", v)
	}
	a[k] = val
	return nil
}

// queueFlag is --assume-source: jobs or results.
type queueFlag struct{ q *spec.Queue }

func (f queueFlag) String() string {
	if f.q == nil {
		return ""
	}
	return string(*f.q)
}

func (f queueFlag) Set(v string) error {
	if v != string(spec.Jobs) && v != string(spec.Results) {
		return fmt.Errorf("want jobs or results, got %q", v)
	}
	*f.q = spec.Queue(v)
	return nil
}

// flags declares the flags of subcommand cmd on fs.
func (o *options) flags(fs *flag.FlagSet, cmd string) {
	fs.StringVar(&o.stack, "stack", "", "stack `name`: reads Pulumi.<name>.yaml (required)")
	fs.StringVar(&o.pipeline, "pipeline", "", "pipeline `name` (default: the stack's only pipeline)")
	fs.StringVar(&o.projectDir, "project-dir", ".", "`directory` holding Pulumi.yaml")
	fs.StringVar(&o.configFile, "config", "", "stack config `file` to read instead of Pulumi.<stack>.yaml")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up after this long, whatever the step: what was not done stays in the dlq")
	if cmd == "poison" {
		fs.StringVar(&o.user, "user", "dev-user", "the test job's user_id, also its ordering key")
		fs.StringVar(&o.content, "content", "poison", "the test job's content")
		return
	}
	fs.DurationVar(&o.wait, "wait", 5*time.Second, "how long one pull waits for dead letters before it counts as empty")
	fs.IntVar(&o.emptyPulls, "empty-pulls", 3, "pulls in a row that bring nothing new before the dlq counts as drained (Pub/Sub may answer a pull with nothing while dead letters wait)")
	if cmd == "inspect" {
		fs.IntVar(&o.pageSize, "page-size", 20, "dead letters to show, oldest first")
		return
	}
	o.attrs = attrFlag{}
	fs.Var(o.attrs, "attr", "select dead letters with attribute `key=value` (repeatable; all must match)")
	fs.DurationVar(&o.olderThan, "older-than", 0, "select dead letters that reached the dlq longer ago than this `duration`")
	fs.Var(&o.ids, "id", "select the dead letter with this message `id` (repeatable)")
	fs.IntVar(&o.limit, "limit", 0, "take at most `N` selected dead letters, oldest first (0: all)")
	fs.BoolVar(&o.yes, "yes", false, "act; without it replay is a dry run and purge refuses")
	fs.IntVar(&o.progressEvery, "progress-every", 100, "write a progress line to stderr every `N` dead letters")
	if cmd == "replay" {
		fs.Var(queueFlag{&o.assumeSource}, "assume-source", "replay dead letters that lack the source attribute to the topic of this `queue`, jobs or results (the emulator adds no such attribute)")
		fs.BoolVar(&o.allowOthers, "allow-other-subscriptions", false, "replay to a topic that has subscriptions besides the source one; each of them gets the copy too")
		return
	}
	fs.StringVar(&o.out, "out", "", "`file` to write the purged dead letters to, as JSON lines; must not exist (required)")
}

// parse reads the subcommand and its flags; it returns exitOK when they are usable (or help
// was asked for), another status when not.
func parse(args []string, stderr io.Writer) (options, int) {
	var o options
	if len(args) == 0 || !slices.Contains([]string{"inspect", "replay", "purge", "poison"}, args[0]) {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			printUsage(stderr, nil)
			o.help = true
			return o, exitOK
		}
		if len(args) > 0 {
			fmt.Fprintf(stderr, "dlq: unknown subcommand %q\n", args[0])
		}
		printUsage(stderr, nil)
		return o, exitUsage
	}
	o.cmd = args[0]
	fs := flag.NewFlagSet("dlq "+o.cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { printUsage(stderr, fs) }
	o.flags(fs, o.cmd)
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			o.help = true
			return o, exitOK
		}
		return o, exitUsage
	}
	if err := o.check(fs.Args()); err != nil {
		fmt.Fprintf(stderr, "dlq %s: %v\n", o.cmd, err)
		return o, exitUsage
	}
	return o, exitOK
}

// check refuses what the flags cannot mean.
func (o *options) check(rest []string) error {
	switch {
	case len(rest) > 0:
		return fmt.Errorf("unexpected arguments %q", rest)
	case o.stack == "":
		return fmt.Errorf("--stack is required, e.g. --stack dev")
	case o.timeout <= 0:
		return fmt.Errorf("--timeout must be positive")
	case o.cmd == "poison":
		return nil
	case o.wait <= 0 || o.emptyPulls <= 0:
		return fmt.Errorf("--wait and --empty-pulls must be positive")
	case o.cmd == "inspect" && o.pageSize <= 0:
		return fmt.Errorf("--page-size must be positive")
	case o.cmd == "inspect":
		return nil
	case o.limit < 0 || o.olderThan < 0 || o.progressEvery <= 0:
		return fmt.Errorf("--limit and --older-than must not be negative, --progress-every must be positive")
	case o.cmd == "purge" && o.selection().Filter.Empty():
		return fmt.Errorf("purge deletes dead letters for good and needs a filter: --attr, --older-than or --id (see what a filter selects with 'dlq replay' without --yes)")
	case o.cmd == "purge" && !o.yes:
		return fmt.Errorf("purge deletes dead letters for good: add --yes (see what it would take with 'dlq replay' and the same filter, without --yes)")
	case o.cmd == "purge" && o.out == "":
		return fmt.Errorf("purge needs --out <file>: it writes every dead letter it removes there first")
	}
	return nil
}

// emptyBackoff is the pause after the first empty pull (redrive.Options.EmptyBackoff); zero
// keeps the library's default. The tests shorten it: their emulator answers a pull at once
// with all it holds, so pausing between empty pulls there proves nothing.
var emptyBackoff time.Duration

// redriveOptions are the library's options the flags set; progress goes to stderr.
func (o options) redriveOptions(stderr io.Writer) redrive.Options {
	return redrive.Options{PullWait: o.wait, EmptyPulls: o.emptyPulls, EmptyBackoff: emptyBackoff, Progress: stderr,
		ProgressEvery: o.progressEvery, AssumeSource: o.assumeSource, AllowOtherSubscriptions: o.allowOthers}
}

// selection is what the filter flags select.
func (o options) selection() redrive.Selection {
	return redrive.Selection{Filter: redrive.Filter{Attrs: o.attrs, OlderThan: o.olderThan, IDs: o.ids}, Limit: o.limit}
}

func describe(s redrive.Selection) string {
	if s.Limit > 0 {
		return fmt.Sprintf("%s, at most %d, oldest first", s.Filter, s.Limit)
	}
	return s.Filter.String()
}

// target renders the stack offline and returns the chosen pipeline's queues, read from the
// pipeline component's outputs, and the stack's project.
func (o options) target() (redrive.Pipeline, string, error) {
	files, err := offline.Load(o.projectDir, o.stack, o.configFile)
	if err != nil {
		return redrive.Pipeline{}, "", err
	}
	res, err := offline.Program(files.Project, o.stack, files.Config)
	if err != nil {
		var cfgErr *stacks.Error
		if errors.As(err, &cfgErr) {
			return redrive.Pipeline{}, "", cfgErr
		}
		return redrive.Pipeline{}, "", fmt.Errorf("rendering stack %q: %w", o.stack, err)
	}
	p, err := pickPipeline(res.Outputs, o.stack, o.pipeline)
	return p, files.Config.Values[stacks.ProjectKey], err
}

// pickPipeline reads pipeline name's queues from the stack outputs; without a name, the only
// pipeline's.
func pickPipeline(outputs map[string]any, stack, name string) (redrive.Pipeline, error) {
	all, _ := outputs[spec.PipelinesOutput].(map[string]any)
	names := slices.Sorted(maps.Keys(all))
	switch {
	case len(names) == 0:
		return redrive.Pipeline{}, fmt.Errorf("stack %q exports no %q", stack, spec.PipelinesOutput)
	case name == "" && len(names) > 1:
		return redrive.Pipeline{}, fmt.Errorf("stack %q has %d pipelines (%s): choose one with --pipeline", stack, len(names), strings.Join(names, ", "))
	case name == "":
		name = names[0]
	case !slices.Contains(names, name):
		return redrive.Pipeline{}, fmt.Errorf("stack %q has no pipeline %q; its pipelines: %s", stack, name, strings.Join(names, ", "))
	}
	values, _ := all[name].(map[string]any)
	p := redrive.Pipeline{Name: name, Topics: map[spec.Queue]string{}, Subscriptions: map[spec.Queue]string{}}
	for _, q := range spec.Queues {
		topic, _ := values[spec.TopicOutput(q)].(string)
		sub, _ := values[spec.SubscriptionOutput(q)].(string)
		if topic == "" || sub == "" {
			return redrive.Pipeline{}, fmt.Errorf("pipeline %q exports no %s and %s", name, spec.TopicOutput(q), spec.SubscriptionOutput(q))
		}
		p.Topics[q], p.Subscriptions[q] = topic, sub
	}
	return p, nil
}
