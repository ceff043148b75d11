// Package plan is the offline plan: what a stack would create, judged by the policy pack,
// without cloud credentials. It builds a plan from a program run under mocks (offline)
// or from a `pulumi preview --json` document, finds the deploy critical path, and writes the
// plan as text, preview-shaped JSON, Markdown, a Mermaid diagram or a bulk import file.
package plan

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/aiprod/aiprod-pubsub/inventory"
	"github.com/aiprod/aiprod-pubsub/policy/rules"
	"github.com/aiprod/aiprod-pubsub/spec"
)

// opCreate is the step operation of a resource that does not exist yet.
const opCreate = "create"

// Step is one resource and what the deployment would do with it.
type Step struct {
	// Op is the preview's operation: create, same, update, replace, delete, ...
	Op string
	// Resource is the resource's state after the step, or before it for a delete.
	Resource inventory.Resource
	// Old is the resource's state before an update or a replace, when the preview gives it.
	Old *inventory.Resource
	// ReplaceReasons and DiffReasons are the properties that force a replacement and those
	// that differ, as the engine reports them ("replaceWith" for a resource replaced because
	// another one is).
	ReplaceReasons, DiffReasons []string
}

// Options are what the caller decides about a plan: the policy config it is judged with and
// the message losses a reviewer accepted.
type Options struct {
	// PolicyConfig is the stack's policy config, as rules.LoadConfig reads it. Optional; nil
	// judges with every policy's defaults.
	PolicyConfig map[string]policyx.PolicyConfig
	// PolicyConfigFile names where PolicyConfig came from, for people. Optional.
	PolicyConfigFile string
	// AcceptLoss names the topics and subscriptions (logical or physical names) whose loss of
	// messages a reviewer accepted. Optional.
	AcceptLoss []string
	// NotDeployable, when set, says why the stack may be planned but not deployed, naming the
	// config key and value. Optional.
	NotDeployable string
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
	// StackKeys are the config keys the stack file set, sorted; the rest of Config are
	// Pulumi.yaml's defaults. Nil when that is not known (a real preview document does not
	// say).
	StackKeys []string
	// Steps are the stack's resources, the root stack excluded, sorted by URN.
	Steps []Step
	// Outputs are the stack's outputs.
	Outputs map[string]any
	// Violations are the policy pack's findings, sorted by policy, URN and message.
	Violations []rules.Violation
	// CriticalPath is the longest chain of create steps through dependencies, first created
	// first; every step on it waits for the one before.
	CriticalPath []string
	// Errors are the engine's errors in a preview document, its closing "preview failed" left
	// out: the preview failed on them, so its steps may not be all there is to it.
	Errors []string
	// Failed is true when the preview document reports that the preview failed: on Errors, or,
	// with no error of its own, on a mandatory policy violation.
	Failed bool
	// Losses are the steps that drop queued messages: topics and subscriptions deleted or
	// replaced.
	Losses []Loss
	// PolicyConfigFile names the policy config the plan was judged with; "" for the defaults.
	PolicyConfigFile string
	// NotDeployable says why the stack must not be deployed; "" when it may be.
	NotDeployable string
	// fromPreview is true for a plan read from a preview document, a review of a change.
	fromPreview bool
}

// title names the plan: an offline plan of the program, or a review of a real preview.
func (p *Plan) title() string {
	if p.fromPreview {
		return "Review of the preview"
	}
	return "Offline plan"
}

// stackURN is the URN of the plan's root stack resource.
func (p *Plan) stackURN() string {
	return fmt.Sprintf("urn:pulumi:%s::%s::%s::%s-%s", p.Stack, p.Project, spec.StackType, p.Project, p.Stack)
}

// StackConfig is the config a program ran with, as the stack loader read it.
type StackConfig struct {
	// Values are the config's values, Pulumi.yaml's defaults merged in.
	Values map[string]string
	// Secret are the keys whose values are secret; the plan never keeps their values.
	Secret []string
	// StackKeys are the keys the stack file set; the other keys of Values are Pulumi.yaml's
	// defaults.
	StackKeys []string
}

// FromResult builds the plan of a program run under mocks with cfg: every resource is a create
// step.
func FromResult(res *inventory.Stack, cfg StackConfig, opts Options) (*Plan, error) {
	steps := make([]Step, len(res.Resources))
	for i, r := range res.Resources {
		steps[i] = Step{Op: opCreate, Resource: r}
	}
	set := append([]string{}, cfg.StackKeys...) // known, even when the stack file sets nothing
	slices.Sort(set)
	p := &Plan{Project: res.Project, Stack: res.Stack, StackOp: opCreate, Config: maskConfig(cfg.Values, cfg.Secret),
		StackKeys: set, Steps: steps, Outputs: res.Outputs}
	return p, p.Judge(opts)
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

// Analyzed returns resources as the engine sends them to a policy pack: type token, inputs
// under the provider's property names, and options.
func Analyzed(resources ...inventory.Resource) []policyx.AnalyzerResource {
	out := make([]policyx.AnalyzerResource, len(resources))
	for i, r := range resources {
		out[i] = policyx.AnalyzerResource{
			Type:                 r.Type,
			Properties:           resource.FromResourcePropertyMap(r.Inputs),
			URN:                  r.URN,
			Name:                 r.Name,
			Options:              pulumi.ResourceOptions{Protect: r.Protect},
			Parent:               r.Parent,
			Dependencies:         r.Dependencies,
			PropertyDependencies: r.PropertyDependencies,
		}
	}
	return out
}

// Judge sorts the steps, parents top-level resources to the stack, evaluates the policy pack
// over what will exist, finds the critical path and the message losses.
func (p *Plan) Judge(opts Options) error {
	root := p.stackURN()
	for i := range p.Steps {
		if p.Steps[i].Resource.Parent == "" {
			p.Steps[i].Resource.Parent = root
		}
	}
	slices.SortFunc(p.Steps, func(a, b Step) int { return strings.Compare(a.Resource.URN, b.Resource.URN) })
	var live []inventory.Resource
	for _, s := range p.Steps {
		if !isDelete(s.Op) {
			live = append(live, s.Resource)
		}
	}
	resources := Analyzed(live...)
	vs, err := rules.Evaluate(p.Stack, resources, opts.PolicyConfig)
	if err != nil {
		return fmt.Errorf("evaluating policy pack %s: %w", rules.PackName, err)
	}
	p.Violations = vs // sorted by rules.Evaluate
	p.PolicyConfigFile = opts.PolicyConfigFile
	p.NotDeployable = opts.NotDeployable
	p.CriticalPath = criticalPath(p.Steps)
	p.Losses = losses(p.Steps, opts.AcceptLoss)
	return nil
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
