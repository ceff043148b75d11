// Package offline runs a stack without a cloud: it loads the stack's files the way the engine
// does and runs its project's program (the pipeline's or the foundation's) under the GCP mocks.
// Package stacks is the program itself; every command and every test that needs a stack's
// resources offline goes through this one.
package offline

import (
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/aiprod/aiprod-pubsub/gcpmock"
	"github.com/aiprod/aiprod-pubsub/inventory"
	"github.com/aiprod/aiprod-pubsub/spec"
	"github.com/aiprod/aiprod-pubsub/stacks"
)

// Result is what a program registered and exported.
type Result struct {
	inventory.Stack
	// Lookups are the projects whose number the program looked up.
	Lookups []string
	// Invented are the project numbers the mocks made up (looked up, read through a stack
	// reference, computed by the provider); only the cloud knows the real ones.
	Invented []string
	// StackReferences are the stacks the program read through stack references.
	StackReferences []string
}

// Body is a program body that returns the outputs it exported.
type Body func(ctx *pulumi.Context) (pulumi.Map, error)

// Run runs body under mocks, as a preview, with the given config (nil: none). The config reaches the program
// through RunInfo, never through the process environment, so runs in parallel do not leak into
// each other.
func Run(project, stack string, raw *stacks.Raw, body Body) (*Result, error) {
	if raw == nil {
		raw = &stacks.Raw{}
	}
	mocks := gcpmock.New(project, stack)
	res := &Result{Stack: inventory.Stack{Project: project, Stack: stack}}
	var bodyErr error
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		outputs, err := body(ctx)
		if err != nil {
			bodyErr = err
			return err
		}
		outputs.ToMapOutput().ApplyT(func(v map[string]any) error {
			res.Outputs = v
			return nil
		})
		return nil
	}, pulumi.WithMocks(project, stack, mocks), func(info *pulumi.RunInfo) {
		info.Config = raw.Values
		info.ConfigSecretKeys = raw.Secret
		// An offline run shows what would be created, as a preview does: a stack that may be
		// planned but not deployed runs too.
		info.DryRun = true
	})
	res.Resources = mocks.Resources()
	res.Lookups = mocks.Lookups()
	res.Invented = mocks.Invented()
	res.StackReferences = mocks.StackReferences()
	if bodyErr != nil {
		// The SDK wraps the body's error in a list of one; callers want it as it was.
		return res, bodyErr
	}
	return res, err
}

// Program runs the real program of the Pulumi project under mocks: stacks.DeployFoundation for
// the foundation's project (spec.FoundationProject), stacks.Deploy for any other.
func Program(project, stack string, raw stacks.Raw) (*Result, error) {
	deploy := stacks.Deploy
	if project == spec.FoundationProject {
		deploy = stacks.DeployFoundation
	}
	return Run(project, stack, &raw, func(ctx *pulumi.Context) (pulumi.Map, error) {
		return deploy(ctx, raw)
	})
}

// Stack loads a stack's files from projectDir, lets edit change the config values (when edit
// is not nil), and runs the program for it. It returns the files too, config as edited.
func Stack(projectDir, stack string, edit func(values map[string]string)) (*Result, *Files, error) {
	files, err := Load(projectDir, stack, "")
	if err != nil {
		return nil, nil, err
	}
	if edit != nil {
		edit(files.Config.Values)
	}
	res, err := Program(files.Project, stack, files.Config)
	return res, files, err
}

// Offline returns the stack as an offline plan shows it: every value derived from a project
// number that only the cloud can answer is unknown, as before a deploy, instead of the number
// the mocks made up. For a pipeline stack that is the Pub/Sub service agent's address in its
// grants, read from the foundation's outputs or derived from a looked-up number; for the
// foundation, the service agent and the workload identity pool's and provider's names.
func (r *Result) Offline() *inventory.Stack {
	invented := r.Invented
	out := r.Stack
	if len(invented) == 0 {
		return &out
	}
	out.Outputs = unknowableOutputs(r.Outputs, invented)
	out.Resources = make([]inventory.Resource, len(r.Resources))
	for i, res := range r.Resources {
		res.Inputs = unknowable(res.Inputs, invented)
		res.Outputs = unknowable(res.Outputs, invented)
		if containsAny(res.ID, invented) {
			res.ID = ""
		}
		out.Resources[i] = res
	}
	return &out
}

// unknowable returns a copy of m with every string that holds one of the invented values
// replaced by an unknown.
func unknowable(m resource.PropertyMap, invented []string) resource.PropertyMap {
	out := resource.PropertyMap{}
	for k, v := range m {
		out[k] = unknowableValue(v, invented)
	}
	return out
}

func unknowableValue(v resource.PropertyValue, invented []string) resource.PropertyValue {
	switch {
	case v.IsString() && containsAny(v.StringValue(), invented):
		return resource.MakeComputed(resource.NewProperty(""))
	case v.IsObject():
		return resource.NewProperty(unknowable(v.ObjectValue(), invented))
	case v.IsArray():
		arr := make([]resource.PropertyValue, len(v.ArrayValue()))
		for i, x := range v.ArrayValue() {
			arr[i] = unknowableValue(x, invented)
		}
		return resource.NewProperty(arr)
	case v.IsSecret():
		return resource.MakeSecret(unknowableValue(v.SecretValue().Element, invented))
	}
	return v
}

// containsAny reports whether s contains one of subs.
func containsAny(s string, subs []string) bool {
	return slices.ContainsFunc(subs, func(sub string) bool { return strings.Contains(s, sub) })
}

// unknowableOutputs returns a copy of the stack's outputs with every string that holds one of
// the invented values replaced by spec.Unknown, as a preview prints an unknown output.
func unknowableOutputs(m map[string]any, invented []string) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch v := v.(type) {
		case string:
			if containsAny(v, invented) {
				out[k] = spec.Unknown
				continue
			}
		case map[string]any:
			out[k] = unknowableOutputs(v, invented)
			continue
		}
		out[k] = v
	}
	return out
}
