// Package render runs the real program offline, under mocks that behave like the GCP provider,
// and returns what it registered. Tests, the offline plan and the local emulator share it.
package render

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/aiprod/aiprod-pubsub/stacks"
)

// Result is what a program registered and exported.
type Result struct {
	Project string
	Stack   string
	// Resources are the registered resources sorted by URN; the stack itself is not among them.
	Resources []Resource
	// Outputs are the stack's outputs, resolved.
	Outputs map[string]any
	// Lookups are the projects whose number the program looked up.
	Lookups []string
}

// Body is a program body that returns the outputs it exported.
type Body func(ctx *pulumi.Context) (pulumi.Map, error)

// Run runs body under mocks with the given config. The config reaches the program through
// RunInfo, never through the process environment, so runs in parallel do not leak into each
// other.
func Run(project, stack string, raw stacks.Raw, body Body) (*Result, error) {
	mocks := NewMocks(project, stack)
	res := &Result{Project: project, Stack: stack}
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
	})
	res.Resources = mocks.Resources()
	res.Lookups = mocks.Lookups()
	if bodyErr != nil {
		// The SDK wraps the body's error in a list of one; callers want it as it was.
		return res, bodyErr
	}
	return res, err
}

// Program runs the real program, stacks.Deploy, under mocks.
func Program(project, stack string, raw stacks.Raw) (*Result, error) {
	return Run(project, stack, raw, func(ctx *pulumi.Context) (pulumi.Map, error) {
		return stacks.Deploy(ctx, raw)
	})
}

// Stack loads a stack's files from projectDir and runs the program for it.
func Stack(projectDir, stack string) (*Result, error) {
	res, _, err := StackEdited(projectDir, stack, nil)
	return res, err
}

// StackEdited loads a stack's files from projectDir, lets edit change the config values (when
// edit is not nil), and runs the program for it. It returns the files too, config as edited.
func StackEdited(projectDir, stack string, edit func(values map[string]string)) (*Result, *StackFiles, error) {
	files, err := LoadStack(projectDir, stack, "")
	if err != nil {
		return nil, nil, err
	}
	if edit != nil {
		edit(files.Config.Values)
	}
	res, err := Program(files.Project, stack, files.Config)
	return res, files, err
}

// ByType returns the resources of one type token.
func (r *Result) ByType(typ string) []Resource {
	var out []Resource
	for _, res := range r.Resources {
		if res.Type == typ {
			out = append(out, res)
		}
	}
	return out
}

// ByName returns the resource of the given type and logical name.
func (r *Result) ByName(typ, name string) (Resource, error) {
	i := slices.IndexFunc(r.Resources, func(res Resource) bool { return res.Type == typ && res.Name == name })
	if i < 0 {
		return Resource{}, fmt.Errorf("no %s named %q was registered", typ, name)
	}
	return r.Resources[i], nil
}
