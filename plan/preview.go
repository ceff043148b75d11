package plan

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/aiprod/aiprod-pubsub/inventory"
	"github.com/aiprod/aiprod-pubsub/policy/rules"
	"github.com/aiprod/aiprod-pubsub/spec"
)

// document is the plan in the shape of `pulumi preview --json`, so that tooling that reads a
// preview reads the plan too. CriticalPath is the plan's own addition.
type document struct {
	Config           map[string]string `json:"config,omitempty"`
	Steps            []documentStep    `json:"steps"`
	ChangeSummary    map[string]int    `json:"changeSummary"`
	Outputs          map[string]any    `json:"outputs,omitempty"`
	PolicyViolations []rules.Violation `json:"policyViolations"`
	CriticalPath     *criticalPathJSON `json:"criticalPath,omitempty"`
}

// documentStep is one step of a preview.
type documentStep struct {
	Op       string         `json:"op"`
	URN      string         `json:"urn"`
	NewState *documentState `json:"newState,omitempty"`
}

// documentState is a resource's state after the step, as a preview prints it.
type documentState struct {
	Type                 string              `json:"type"`
	URN                  string              `json:"urn"`
	Custom               bool                `json:"custom"`
	ID                   string              `json:"id,omitempty"`
	Parent               string              `json:"parent,omitempty"`
	Protect              bool                `json:"protect"`
	Inputs               map[string]any      `json:"inputs"`
	Dependencies         []string            `json:"dependencies,omitempty"`
	PropertyDependencies map[string][]string `json:"propertyDependencies,omitempty"`
	ReplaceWith          []string            `json:"replaceWith,omitempty"`
	DeletedWith          string              `json:"deletedWith,omitempty"`
	// Outputs are read from a real preview, whose stack step carries the stack's outputs; the
	// plan writes them at the top level instead.
	Outputs map[string]any `json:"outputs,omitempty"`
}

// criticalPathJSON is the deploy critical path: its length in steps and the URNs on it.
type criticalPathJSON struct {
	Length int      `json:"length"`
	URNs   []string `json:"urns"`
}

// document returns the plan as a preview document: the stack first, then every resource by
// URN. Create steps carry no id, as in a preview.
func (p *Plan) document() document {
	doc := document{
		Config:           p.Config,
		ChangeSummary:    p.changeSummary(),
		Outputs:          p.Outputs,
		PolicyViolations: p.Violations,
	}
	if doc.PolicyViolations == nil {
		doc.PolicyViolations = []rules.Violation{}
	}
	root := p.stackURN()
	doc.Steps = append(doc.Steps, documentStep{Op: p.StackOp, URN: root, NewState: &documentState{
		Type: spec.StackType, URN: root, Inputs: map[string]any{},
	}})
	for _, s := range p.Steps {
		r := s.Resource
		st := &documentState{
			Type:                 r.Type,
			URN:                  r.URN,
			Custom:               r.Custom,
			Parent:               r.Parent,
			Protect:              r.Protect,
			Inputs:               plain(r.Inputs),
			Dependencies:         r.Dependencies,
			PropertyDependencies: nonEmpty(r.PropertyDependencies),
			ReplaceWith:          r.ReplaceWith,
			DeletedWith:          r.DeletedWith,
		}
		if s.Op != opCreate {
			st.ID = r.ID
		}
		doc.Steps = append(doc.Steps, documentStep{Op: s.Op, URN: r.URN, NewState: st})
	}
	if len(p.CriticalPath) > 0 {
		doc.CriticalPath = &criticalPathJSON{Length: len(p.CriticalPath), URNs: p.CriticalPath}
	}
	return doc
}

// WriteJSON writes the plan as a preview document, indented, keys sorted.
func (p *Plan) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(p.document())
}

// gone are the operations after which a resource no longer exists.
var gone = []string{"delete", "delete-replaced", "discard", "discard-replaced", "remove-pending-replace"}

// FromPreview builds a plan from a `pulumi preview --json` document, or this package's own
// JSON, instead of running the program. Resources that the deployment would delete, provider
// resources and the stack itself are left out of the policy evaluation, as they are from a
// run under mocks. Unknown values become computed values.
func FromPreview(data []byte) (*Plan, error) {
	var doc document
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("reading a preview document: %w", err)
	}
	project, stack, stackOp := "", "", ""
	byURN := map[string]int{}
	var steps []Step
	for i, s := range doc.Steps {
		st := s.NewState
		if st == nil || slices.Contains(gone, s.Op) {
			continue
		}
		urn := cmp.Or(st.URN, s.URN)
		u, err := resource.ParseURN(urn)
		if err != nil {
			return nil, fmt.Errorf("step %d: %w", i, err)
		}
		typ := cmp.Or(st.Type, string(u.Type()))
		if typ == spec.StackType {
			project, stack, stackOp = string(u.Project()), string(u.Stack()), s.Op
			if doc.Outputs == nil {
				doc.Outputs = st.Outputs
			}
			continue
		}
		if strings.HasPrefix(typ, spec.ProviderTypePrefix) {
			continue
		}
		if project == "" {
			project, stack = string(u.Project()), string(u.Stack())
		}
		step := Step{Op: s.Op, Resource: st.resource(u, typ)}
		// A replacement shows the same URN more than once; its last state wins.
		if j, ok := byURN[urn]; ok {
			steps[j] = step
			continue
		}
		byURN[urn] = len(steps)
		steps = append(steps, step)
	}
	if project == "" {
		return nil, fmt.Errorf("reading a preview document: it has no steps")
	}
	if stackOp == "" {
		stackOp = "same"
	}
	return build(project, stack, stackOp, doc.Config, steps, doc.Outputs)
}

// resource is the state as the inventory records a resource; u is its URN, typ its type.
func (st *documentState) resource(u resource.URN, typ string) inventory.Resource {
	r := inventory.Resource{
		URN:                  string(u),
		Type:                 typ,
		Name:                 u.Name(),
		Custom:               st.Custom,
		Parent:               st.Parent,
		ID:                   st.ID,
		Protect:              st.Protect,
		Inputs:               fromPlain(st.Inputs),
		Dependencies:         st.Dependencies,
		PropertyDependencies: st.PropertyDependencies,
		ReplaceWith:          st.ReplaceWith,
		DeletedWith:          st.DeletedWith,
	}
	r.Outputs = r.Inputs
	return r
}

// nonEmpty keeps the properties that depend on some resource.
func nonEmpty(deps map[string][]string) map[string][]string {
	var out map[string][]string
	for k, v := range deps {
		if len(v) == 0 {
			continue
		}
		if out == nil {
			out = map[string][]string{}
		}
		out[k] = v
	}
	return out
}
