package plan

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
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
	Diagnostics      []diagnostic      `json:"diagnostics,omitempty"`
	PolicyViolations []rules.Violation `json:"policyViolations"`
	CriticalPath     *criticalPathJSON `json:"criticalPath,omitempty"`
	// MessageLoss is the plan's own addition: the changes that drop queued messages.
	MessageLoss []Loss `json:"messageLoss,omitempty"`
	// StackConfigKeys is the plan's own addition: the config keys the stack file set.
	StackConfigKeys *[]string `json:"stackConfigKeys,omitempty"`
}

// previewFailed is the engine's closing error when a preview fails, after the errors it failed
// on, if any.
const previewFailed = "preview failed"

// documentStep is one step of a preview.
type documentStep struct {
	Op             string         `json:"op"`
	URN            string         `json:"urn"`
	OldState       *documentState `json:"oldState,omitempty"`
	NewState       *documentState `json:"newState,omitempty"`
	ReplaceReasons []string       `json:"replaceReasons,omitempty"`
	DiffReasons    []string       `json:"diffReasons,omitempty"`
}

// diagnostic is a message of the engine, as a preview document carries it.
type diagnostic struct {
	Message  string `json:"message"`
	Severity string `json:"severity"`
	URN      string `json:"urn,omitempty"`
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
		step := documentStep{Op: s.Op, URN: r.URN, NewState: st, ReplaceReasons: s.ReplaceReasons, DiffReasons: s.DiffReasons}
		if isDelete(s.Op) {
			step.OldState, step.NewState = st, nil
		}
		doc.Steps = append(doc.Steps, step)
	}
	if len(p.CriticalPath) > 0 {
		doc.CriticalPath = &criticalPathJSON{Length: len(p.CriticalPath), URNs: p.CriticalPath}
	}
	for _, e := range p.Errors {
		doc.Diagnostics = append(doc.Diagnostics, diagnostic{Message: "error: " + e, Severity: "error"})
	}
	if p.Failed {
		doc.Diagnostics = append(doc.Diagnostics, diagnostic{Message: "error: " + previewFailed, Severity: "error"})
	}
	doc.MessageLoss = p.Losses
	if p.StackKeys != nil {
		doc.StackConfigKeys = &p.StackKeys
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

// ReadPreview reads a `pulumi preview --json` document, or this package's own JSON, into a
// plan not judged yet, so that a caller can choose the options by the stack it previews (and
// then calls Judge). Deleted resources are kept as delete steps, from their
// old state, and left out of the policy evaluation, as are provider resources and the stack
// itself. Unknown values become computed values; the engine's errors are kept.
func ReadPreview(data []byte) (*Plan, error) {
	var doc document
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("reading a preview document: %w", err)
	}
	p := &Plan{Config: doc.Config, Outputs: doc.Outputs, fromPreview: true}
	byURN := map[string]int{}
	for i, s := range doc.Steps {
		step, err := p.readStep(s, &doc)
		if err != nil {
			return nil, fmt.Errorf("step %d: %w", i, err)
		}
		if step == nil {
			continue
		}
		// A replacement may show the same URN more than once: it stays a replacement.
		if j, ok := byURN[step.Resource.URN]; ok {
			if isReplace(p.Steps[j].Op) || isDelete(p.Steps[j].Op) && !isDelete(step.Op) {
				step.Op = "replace"
			}
			p.Steps[j] = *step
			continue
		}
		byURN[step.Resource.URN] = len(p.Steps)
		p.Steps = append(p.Steps, *step)
	}
	if p.Project == "" {
		return nil, fmt.Errorf("reading a preview document: it has no steps")
	}
	p.StackOp = cmp.Or(p.StackOp, "same")
	if p.Outputs == nil {
		p.Outputs = doc.Outputs
	}
	for _, d := range doc.Diagnostics {
		if d.Severity != "error" {
			continue
		}
		p.Failed = true
		if msg := strings.TrimSpace(strings.TrimPrefix(d.Message, "error: ")); msg != previewFailed {
			p.Errors = append(p.Errors, msg)
		}
	}
	if doc.StackConfigKeys != nil {
		p.StackKeys = append([]string{}, *doc.StackConfigKeys...)
	}
	return p, nil
}

// readStep reads one step of a preview: the resource as it will be (as it was, for a delete),
// or nil for the stack itself and providers, whose project, stack and outputs it records.
func (p *Plan) readStep(s documentStep, doc *document) (*Step, error) {
	st := s.NewState
	if isDelete(s.Op) || st == nil {
		st = s.OldState
	}
	if st == nil {
		return nil, nil
	}
	u, err := resource.ParseURN(cmp.Or(st.URN, s.URN))
	if err != nil {
		return nil, err
	}
	typ := cmp.Or(st.Type, string(u.Type()))
	if p.Project == "" || typ == spec.StackType {
		p.Project, p.Stack = string(u.Project()), string(u.Stack())
	}
	switch {
	case typ == spec.StackType:
		p.StackOp = s.Op
		if doc.Outputs == nil {
			doc.Outputs = st.Outputs
		}
		return nil, nil
	case strings.HasPrefix(typ, spec.ProviderTypePrefix):
		return nil, nil
	}
	step := &Step{Op: s.Op, Resource: st.resource(u, typ), ReplaceReasons: s.ReplaceReasons, DiffReasons: s.DiffReasons}
	if s.OldState != nil && s.NewState != nil {
		old := s.OldState.resource(u, typ)
		step.Old = &old
	}
	return step, nil
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
