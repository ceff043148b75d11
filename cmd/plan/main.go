// Command plan is the offline plan: it runs the real program under the provider-faithful mocks
// and the real policy pack over what it registers, with no cloud credentials, and prints what
// the stack would create and what violates the spec.
//
//	go run ./cmd/plan --stack dev [--format text|json|markdown|mermaid]
//
// It exits 0 when no mandatory policy fails, 1 when one does, and 2 for a usage or config
// error, which it writes to stderr alone.
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

	"github.com/aiprod/aiprod-pubsub/plan"
	"github.com/aiprod/aiprod-pubsub/stackrun"
	"github.com/aiprod/aiprod-pubsub/stacks"
)

// Exit statuses.
const (
	exitOK        = 0
	exitMandatory = 1
	exitError     = 2
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command's flags.
type options struct {
	stack, config, projectDir, format, from, emitImport string
}

var formats = map[string]func(*plan.Plan, io.Writer) error{
	"text":     (*plan.Plan).WriteText,
	"json":     (*plan.Plan).WriteJSON,
	"markdown": (*plan.Plan).WriteMarkdown,
	"mermaid":  (*plan.Plan).WriteMermaid,
}

// run runs the command with args and returns its exit status. Nothing reaches stdout unless
// the plan was built.
func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.stack, "stack", "", "stack `name`: reads Pulumi.<name>.yaml (required unless --from)")
	fs.StringVar(&o.config, "config", "", "stack config `file` to read instead of Pulumi.<stack>.yaml")
	fs.StringVar(&o.projectDir, "project-dir", ".", "`directory` holding Pulumi.yaml")
	fs.StringVar(&o.format, "format", "text", "output `format`: text, json, markdown or mermaid")
	fs.StringVar(&o.from, "from", "", "check the resources of the `file` written by 'pulumi preview --json' (or by --format json) instead of running the program")
	fs.StringVar(&o.emitImport, "emit-import", "", "also write to `file` the bulk import file that 'pulumi import --file' reads, to adopt existing resources")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: plan --stack <name> [flags]\n\nflags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nexit status: 0 no mandatory policy fails, 1 one does, 2 usage or config error\n")
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
	p, err := o.build()
	if err != nil {
		fmt.Fprintf(stderr, "plan: %v\n", err)
		return exitError
	}
	// Render before writing anything, so that a failure leaves stdout empty.
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
		if left := p.UnknownMembers(); len(left) > 0 {
			fmt.Fprintf(stderr, "plan: %s leaves out %d IAM members whose member is known only at deploy (%s): the Pub/Sub service agent's address needs the project's number; set %s:projectNumber to include them\n",
				o.emitImport, len(left), strings.Join(left, ", "), stacks.Namespace)
		}
	}
	if _, err := stdout.Write(out.Bytes()); err != nil {
		fmt.Fprintf(stderr, "plan: %v\n", err)
		return exitError
	}
	if p.Mandatory() {
		return exitMandatory
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
	}
	return errors.Join(errs...)
}

// build makes the plan from a preview document or by running the program.
func (o options) build() (*plan.Plan, error) {
	if o.from != "" {
		data, err := os.ReadFile(o.from)
		if err != nil {
			return nil, err
		}
		p, err := plan.FromPreview(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", o.from, err)
		}
		if o.stack != "" && o.stack != p.Stack {
			return nil, fmt.Errorf("--stack is %q but %s previews stack %q", o.stack, o.from, p.Stack)
		}
		return p, nil
	}
	files, err := stackrun.Load(o.projectDir, o.stack, o.config)
	if err != nil {
		return nil, err
	}
	res, err := stackrun.Program(files.Project, o.stack, files.Config)
	if err != nil {
		var cfgErr *stacks.Error
		if errors.As(err, &cfgErr) {
			return nil, fmt.Errorf("stack %q (%s): %w", o.stack, o.stackFile(), cfgErr)
		}
		return nil, fmt.Errorf("running the program for stack %q: %w", o.stack, err)
	}
	return plan.FromResult(res.Offline(), files.Config.Values, files.Config.Secret)
}

// stackFile is the config file the stack was read from.
func (o options) stackFile() string {
	if o.config != "" {
		return o.config
	}
	return filepath.Join(o.projectDir, "Pulumi."+o.stack+".yaml")
}
