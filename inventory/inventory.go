// Package inventory is the neutral record of a stack's resources, as the engine sees them:
// what a program run registered, or what a preview document describes. The offline plan, the
// emulator and the tests read stacks through it, whatever produced them.
package inventory

import (
	"fmt"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Resource is one resource of a stack, as the engine sees it.
type Resource struct {
	URN    string
	Type   string
	Name   string
	Custom bool
	Parent string
	// ID is the provider's id; empty for a component.
	ID      string
	Protect bool
	// Inputs are the resource's inputs under the provider's property names.
	Inputs resource.PropertyMap
	// Outputs are the inputs plus what the provider computes (ids, emails, defaults).
	Outputs              resource.PropertyMap
	Dependencies         []string
	PropertyDependencies map[string][]string
	ReplaceWith          []string
	DeletedWith          string
	ReplaceOnChanges     []string
	DeleteBeforeReplace  bool
}

// Stack is a stack's resources and outputs.
type Stack struct {
	Project string
	Stack   string
	// Resources are sorted by URN; the stack itself is not among them.
	Resources []Resource
	// Outputs are the stack's outputs, resolved.
	Outputs map[string]any
}

// ByType returns the resources of one type token.
func (s *Stack) ByType(typ string) []Resource {
	var out []Resource
	for _, r := range s.Resources {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// ByName returns the resource of the given type and logical name.
func (s *Stack) ByName(typ, name string) (Resource, error) {
	i := slices.IndexFunc(s.Resources, func(r Resource) bool { return r.Type == typ && r.Name == name })
	if i < 0 {
		return Resource{}, fmt.Errorf("no %s named %q was registered", typ, name)
	}
	return s.Resources[i], nil
}
