// Package gcpmock answers the Pulumi engine's calls the way the GCP provider does, for the
// resources this program creates: ids in GCP's formats, the defaults GCP applies, computed
// emails and members, and project lookups. It records every registered resource.
package gcpmock

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/aiprod/aiprod-pubsub/inventory"
	"github.com/aiprod/aiprod-pubsub/spec"
)

// Mocks implements pulumi.MockResourceMonitor. It is safe for concurrent use: the SDK registers
// resources on several goroutines.
type Mocks struct {
	project, stack string

	mu        sync.Mutex
	resources []inventory.Resource
	lookups   []string
	invented  []string
	refs      []string
}

// New returns mocks for the given Pulumi project and stack.
func New(project, stack string) *Mocks {
	return &Mocks{project: project, stack: stack}
}

// Resources returns what was registered, sorted by URN.
func (m *Mocks) Resources() []inventory.Resource {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.resources)
	slices.SortFunc(out, func(a, b inventory.Resource) int { return strings.Compare(a.URN, b.URN) })
	return out
}

// Lookups returns the projects looked up through organizations.getProject.
func (m *Mocks) Lookups() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.lookups)
}

// Invented returns the project numbers the mocks made up: looked up, read through a stack
// reference or computed by the provider. Only the cloud knows the real ones.
func (m *Mocks) Invented() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.invented)
}

// StackReferences returns the stacks read through stack references.
func (m *Mocks) StackReferences() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.refs)
}

// invent makes up the number of a project (or of the project behind a stack reference) and
// records it.
func (m *Mocks) invent(of string) string {
	n := ProjectNumber(of)
	m.mu.Lock()
	defer m.mu.Unlock()
	if !slices.Contains(m.invented, n) {
		m.invented = append(m.invented, n)
	}
	return n
}

// ProjectNumber is the number the mocks answer for a project: a stable 12-digit number derived
// from its id. It also makes a service account's unique id.
func ProjectNumber(s string) string {
	h := fnv.New64a()
	h.Write([]byte(s))
	return fmt.Sprintf("%012d", h.Sum64()%1_000_000_000_000)
}

// Call answers invokes.
func (m *Mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	if args.Token != spec.GetProjectToken {
		return nil, fmt.Errorf("mocks: no answer for invoke %q", args.Token)
	}
	project := m.project
	if v, ok := args.Args["projectId"]; ok && v.IsString() {
		project = v.StringValue()
	}
	m.mu.Lock()
	m.lookups = append(m.lookups, project)
	m.mu.Unlock()
	return resource.NewPropertyMapFromMap(map[string]any{
		"id":        spec.ProjectName(project),
		"projectId": project,
		"name":      project,
		"number":    m.invent(project),
	}), nil
}

// NewResource answers a registration with the id and state the provider would return.
func (m *Mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	if args.TypeToken == spec.StackReferenceType {
		return m.stackReference(args)
	}
	r := inventory.Resource{
		Type:    args.TypeToken,
		Name:    args.Name,
		Custom:  args.Custom,
		Inputs:  args.Inputs.Copy(),
		Outputs: args.Inputs.Copy(),
	}
	if rpc := args.RegisterRPC; rpc != nil {
		r.Parent = rpc.GetParent()
		r.Protect = rpc.GetProtect()
		r.Dependencies = slices.Sorted(slices.Values(rpc.GetDependencies()))
		r.ReplaceWith = slices.Clone(rpc.GetReplaceWith())
		r.DeletedWith = rpc.GetDeletedWith()
		r.ReplaceOnChanges = slices.Clone(rpc.GetReplaceOnChanges())
		r.DeleteBeforeReplace = rpc.GetDeleteBeforeReplace()
		if deps := rpc.GetPropertyDependencies(); len(deps) > 0 {
			r.PropertyDependencies = map[string][]string{}
			for k, v := range deps {
				r.PropertyDependencies[k] = slices.Sorted(slices.Values(v.GetUrns()))
			}
		}
	}
	r.URN = m.urn(r.Parent, r.Type, r.Name)
	if args.Custom {
		id, err := m.provide(&r)
		if err != nil {
			return "", nil, fmt.Errorf("mocks: %s: %w", r.URN, err)
		}
		r.ID = id
	}
	m.mu.Lock()
	m.resources = append(m.resources, r)
	m.mu.Unlock()
	return r.ID, r.Outputs, nil
}

// urn recomputes the resource's URN, which MockResourceArgs does not carry.
func (m *Mocks) urn(parent, typ, name string) string {
	parentType := tokens.Type("")
	if p := resource.URN(parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = p.QualifiedType()
	}
	return string(resource.NewURN(tokens.QName(m.stack), tokens.PackageName(m.project), parentType, tokens.Type(typ), name))
}

// stackReference answers a stack reference the way the engine does: the referenced stack's
// outputs under "outputs", the names of its secret ones under "secretOutputNames". The mocks
// know one stack output, the foundation's service agent, whose project number they make up.
// A stack reference is a read, not a resource the stack creates: it is not recorded with them.
func (m *Mocks) stackReference(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	name := args.ID
	if v, ok := args.Inputs["name"]; ok && v.IsString() {
		name = v.StringValue()
	}
	if err := spec.CheckStackReference(name); err != nil {
		return "", nil, fmt.Errorf("mocks: stack reference %q: %w", name, err)
	}
	m.mu.Lock()
	m.refs = append(m.refs, name)
	m.mu.Unlock()
	return name, resource.NewPropertyMapFromMap(map[string]any{
		"name":              name,
		"outputs":           map[string]any{spec.ServiceAgentOutput: spec.ServiceAgent(m.invent(name))},
		"secretOutputNames": []any{},
	}), nil
}
