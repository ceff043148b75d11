// Command plan is the offline plan: it runs the real program under the provider-faithful mocks
// and the real policy pack over what it registers, with no cloud credentials, and prints what
// the stack would create and what violates the spec. With --from it reviews a real
// `pulumi preview --json` document instead: what changes, most destructive first, the changes
// that drop queued messages, and the engine's errors.
//
//	go build -o bin/plan ./cmd/plan
//	bin/plan --stack dev [--format text|json|markdown|mermaid]
//	bin/plan --from preview.json [--accept-loss <topic or subscription>]...
//	bin/plan --stack prod --check-deployable
//
// It exits 0 when the change may go ahead; 1 when it must not (a mandatory policy fails, a
// change drops messages no reviewer accepted, or the preview failed); and 2 for a usage or
// config error, which it writes to stderr alone. With --check-deployable it only reads the stack
// file: 0 the stack may be deployed, 1 it sets aiprod-pubsub:deployable to false. `go run` turns every non-zero status into 1:
// build the binary where the status matters.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/aiprod/aiprod-pubsub/offline"
	"github.com/aiprod/aiprod-pubsub/plan"
	"github.com/aiprod/aiprod-pubsub/policy/rules"
	"github.com/aiprod/aiprod-pubsub/stacks"
)

// Exit statuses.
const (
	exitOK      = 0
	exitBlocked = 1
	exitError   = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command's flags.
type options struct {
	stack, config, projectDir, format, from, emitImport, policyConfig string
	acceptLoss                                                        names
	checkDeployable                                                   bool
}

// names is a flag that may be given more than once.
type names []string

func (n *names) String() string     { return strings.Join(*n, ",") }
func (n *names) Set(v string) error { *n = append(*n, v); return nil }

var formats = map[string]func(*plan.Plan, io.Writer) error{
	"text":     (*plan.Plan).WriteText,
	"json":     (*plan.Plan).WriteJSON,
	"markdown": (*plan.Plan).WriteMarkdown,
	"mermaid":  (*plan.Plan).WriteMermaid,
}

// flags declares the command's flags on fs.
func (o *options) flags(fs *flag.FlagSet) {
	fs.StringVar(&o.stack, "stack", "", "stack `name`: reads Pulumi.<name>.yaml (required unless --from)")
	fs.StringVar(&o.config, "config", "", "stack config `file` to read instead of Pulumi.<stack>.yaml")
	fs.StringVar(&o.projectDir, "project-dir", ".", "`directory` holding Pulumi.yaml")
	fs.StringVar(&o.format, "format", "text", "output `format`: text, json, markdown or mermaid")
	fs.StringVar(&o.from, "from", "", "review the `file` written by 'pulumi preview --json' (or by --format json) instead of running the program")
	fs.StringVar(&o.emitImport, "emit-import", "", "also write to `file` the bulk import file that 'pulumi import --file' reads, to adopt existing resources")
	fs.StringVar(&o.policyConfig, "policy-config", "", "policy config `file`, as 'pulumi preview --policy-pack-config' takes it (default <project-dir>/policy/config/<stack>.json)")
	fs.BoolVar(&o.checkDeployable, "check-deployable", false, "only check that the stack's file does not set "+stacks.Namespace+":"+stacks.DeployableKey+" to false (exit 1 if it does); the deploy workflow runs it before each deploy")
	fs.Var(&o.acceptLoss, "accept-loss", "accept that the change drops the messages of this topic or subscription (`name`; repeatable)")
}

// run runs the command with args and returns its exit status. Nothing reaches stdout unless
// the plan was built.
func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o.flags(fs)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: plan --stack <name> [flags]\n       plan --from <preview.json> [flags]\n\nflags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nexit status: 0 the change may go ahead; 1 it must not (a mandatory policy fails, an unaccepted loss of messages, a failed preview); 2 usage or config error\n")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if err := o.check(fs.Args()); err != nil {
		fmt.Fprintf(stderr, "plan: %v\n", err)
		fs.Usage()
		return exitError
	}
	if o.checkDeployable {
		return o.deployable(stdout, stderr)
	}
	p, err := o.build()
	if err != nil {
		fmt.Fprintf(stderr, "plan: %v\n", err)
		return exitError
	}
	if code := o.write(p, stdout, stderr); code != exitOK {
		return code
	}
	for _, name := range p.UnusedAcceptances(o.acceptLoss) {
		fmt.Fprintf(stderr, "plan: --accept-loss %s: the change neither deletes nor replaces such a topic or subscription\n", name)
	}
	if p.Blocked() {
		return exitBlocked
	}
	return exitOK
}

// write renders the plan, and the import file when asked, before writing anything, so that a
// failure leaves stdout empty.
func (o options) write(p *plan.Plan, stdout, stderr io.Writer) int {
	var out bytes.Buffer
	if err := formats[o.format](p, &out); err != nil {
		fmt.Fprintf(stderr, "plan: writing the %s plan: %v\n", o.format, err)
		return exitError
	}
	if o.emitImport != "" {
		var f bytes.Buffer
		if err := p.WriteImport(&f); err != nil {
			fmt.Fprintf(stderr, "plan: %v\n", err)
			return exitError
		}
		if err := os.WriteFile(o.emitImport, f.Bytes(), 0o644); err != nil {
			fmt.Fprintf(stderr, "plan: writing the import file: %v\n", err)
			return exitError
		}
		for _, left := range p.ImportOmissions() {
			fmt.Fprintf(stderr, "plan: %s leaves out %s: %s", o.emitImport, left.Name, left.Reason)
			if left.NeedsProjectNumber {
				fmt.Fprintf(stderr, "; to include it, set %s:projectNumber and leave %s:foundationStack empty", stacks.Namespace, stacks.Namespace)
			}
			fmt.Fprintln(stderr)
		}
	}
	if _, err := stdout.Write(out.Bytes()); err != nil {
		fmt.Fprintf(stderr, "plan: %v\n", err)
		return exitError
	}
	return exitOK
}

// check validates the flags together.
func (o options) check(rest []string) error {
	var errs []error
	if len(rest) > 0 {
		errs = append(errs, fmt.Errorf("unexpected arguments %q", rest))
	}
	if _, ok := formats[o.format]; !ok {
		errs = append(errs, fmt.Errorf("--format is %q; must be text, json, markdown or mermaid", o.format))
	}
	switch {
	case o.from != "" && o.config != "":
		errs = append(errs, errors.New("--from reads resources from a preview document; it takes no --config"))
	case o.from == "" && o.stack == "":
		errs = append(errs, errors.New("--stack is required (or --from <preview.json>)"))
	case o.checkDeployable && o.from != "":
		errs = append(errs, errors.New("--check-deployable reads the stack's file; it takes --stack, not --from"))
	}
	return errors.Join(errs...)
}

// build makes the plan from a preview document or by running the program.
func (o options) build() (*plan.Plan, error) {
	if o.from != "" {
		return o.review()
	}
	opts, err := o.planOptions(o.stack)
	if err != nil {
		return nil, err
	}
	files, err := offline.Load(o.projectDir, o.stack, o.config)
	if err != nil {
		return nil, err
	}
	res, err := offline.Program(files.Project, o.stack, files.Config)
	if err != nil {
		var cfgErr *stacks.Error
		if errors.As(err, &cfgErr) {
			return nil, fmt.Errorf("stack %q (%s): %w", o.stack, o.stackFile(), cfgErr)
		}
		return nil, fmt.Errorf("running the program for stack %q: %w", o.stack, err)
	}
	if files.Project != stacks.FoundationNamespace {
		cfg, err := stacks.Parse(o.stack, files.Config)
		if err != nil {
			return nil, err
		}
		opts.NotDeployable = cfg.NotDeployable()
	}
	return plan.FromResult(res.Offline(), plan.StackConfig{Values: files.Config.Values, Secret: files.Config.Secret, StackKeys: files.StackKeys}, opts)
}

// review reads a preview document once, then judges it with the policy config of the stack it
// previews.
func (o options) review() (*plan.Plan, error) {
	data, err := os.ReadFile(o.from)
	if err != nil {
		return nil, err
	}
	p, err := plan.ReadPreview(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.from, err)
	}
	if o.stack != "" && o.stack != p.Stack {
		return nil, fmt.Errorf("--stack is %q but %s previews stack %q", o.stack, o.from, p.Stack)
	}
	opts, err := o.planOptions(p.Stack)
	if err != nil {
		return nil, err
	}
	return p, p.Judge(opts)
}

// planOptions reads the stack's policy config: --policy-config, else the stack's checked-in
// file when there is one.
func (o options) planOptions(stack string) (plan.Options, error) {
	opts := plan.Options{AcceptLoss: o.acceptLoss, PolicyConfigFile: o.policyConfig}
	path := o.policyConfig
	if path == "" {
		// Named as the pulumi commands name it, from the project's directory.
		opts.PolicyConfigFile = filepath.Join("policy", "config", stack+".json")
		path = filepath.Join(o.projectDir, opts.PolicyConfigFile)
		if _, err := os.Stat(path); err != nil {
			return plan.Options{AcceptLoss: o.acceptLoss}, nil
		}
	}
	cfg, err := rules.LoadConfig(path)
	if err != nil {
		return opts, err
	}
	opts.PolicyConfig = cfg
	return opts, nil
}

// stackFile is the config file the stack was read from.
func (o options) stackFile() string {
	if o.config != "" {
		return o.config
	}
	return filepath.Join(o.projectDir, "Pulumi."+o.stack+".yaml")
}
