// Package plan is the offline plan: what a stack would create, judged by the policy pack,
// without cloud credentials. It builds a plan from a program run under mocks (stackrun)
// or from a `pulumi preview --json` document, finds the deploy critical path, and writes the
// plan as text, preview-shaped JSON, Markdown, a Mermaid diagram or a bulk import file.
package plan

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/aiprod/aiprod-pubsub/inventory"
	"github.com/aiprod/aiprod-pubsub/policy/rules"
	"github.com/aiprod/aiprod-pubsub/spec"
)

// opCreate is the step operation of a resource that does not exist yet.
const opCreate = "create"

// Step is one resource and what the deployment would do with it.
type Step struct {
	// Op is the preview's operation: create, same, update, replace, ...
	Op       string
	Resource inventory.Resource
}

// Plan is what a stack would deploy and what the policy pack says about it.
type Plan struct {
	Project string
	Stack   string
	// StackOp is what happens to the root stack resource: create for a new stack.
	StackOp string
	// Config is the stack's config with every secret value replaced by spec.Secret; nil when the
	// plan was read from a preview document without config.
	Config map[string]string
	// Steps are the stack's resources, the root stack excluded, sorted by URN.
	Steps []Step
	// Outputs are the stack's outputs.
	Outputs map[string]any
	// Violations are the policy pack's findings, sorted by policy, URN and message.
	Violations []rules.Violation
	// CriticalPath is the longest chain of create steps through dependencies, first created
	// first; every step on it waits for the one before.
	CriticalPath []string
}

// stackURN is the URN of the plan's root stack resource.
func (p *Plan) stackURN() string {
	return fmt.Sprintf("urn:pulumi:%s::%s::%s::%s-%s", p.Stack, p.Project, spec.StackType, p.Project, p.Stack)
}

// FromResult builds the plan of a program run under mocks: every resource is a create step.
// raw is the config the program ran with; its secret values are never kept.
func FromResult(res *inventory.Stack, raw map[string]string, secret []string) (*Plan, error) {
	steps := make([]Step, len(res.Resources))
	for i, r := range res.Resources {
		steps[i] = Step{Op: opCreate, Resource: r}
	}
	return build(res.Project, res.Stack, opCreate, maskConfig(raw, secret), steps, res.Outputs)
}

// maskConfig returns a copy of config with the values of the secret keys replaced by
// spec.Secret.
func maskConfig(config map[string]string, secret []string) map[string]string {
	if config == nil {
		return nil
	}
	out := maps.Clone(config)
	for _, k := range secret {
		if _, ok := out[k]; ok {
			out[k] = spec.Secret
		}
	}
	return out
}

// build sorts the steps, parents top-level resources to the stack, evaluates the policy pack
// and finds the critical path.
func build(project, stack, stackOp string, config map[string]string, steps []Step, outputs map[string]any) (*Plan, error) {
	p := &Plan{Project: project, Stack: stack, StackOp: stackOp, Config: config, Steps: steps, Outputs: outputs}
	root := p.stackURN()
	for i := range p.Steps {
		if p.Steps[i].Resource.Parent == "" {
			p.Steps[i].Resource.Parent = root
		}
	}
	slices.SortFunc(p.Steps, func(a, b Step) int { return strings.Compare(a.Resource.URN, b.Resource.URN) })
	resources := make([]policyx.AnalyzerResource, len(p.Steps))
	for i, s := range p.Steps {
		resources[i] = s.Resource.Analyzer()
	}
	vs, err := rules.Evaluate(stack, resources, nil)
	if err != nil {
		return nil, fmt.Errorf("evaluating policy pack %s: %w", rules.PackName, err)
	}
	p.Violations = vs // sorted by rules.Evaluate
	p.CriticalPath = criticalPath(p.Steps)
	return p, nil
}

// Mandatory reports whether a mandatory policy fails.
func (p *Plan) Mandatory() bool { return rules.Mandatory(p.Violations) }

// changeSummary counts the steps by operation, the stack's own included, as a preview does.
func (p *Plan) changeSummary() map[string]int {
	out := map[string]int{p.StackOp: 1}
	for _, s := range p.Steps {
		out[s.Op]++
	}
	return out
}
