package plan

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// importFile is the bulk import file that `pulumi import --file` reads.
type importFile struct {
	// NameTable maps names used as parents to the URNs of resources already in the stack.
	NameTable map[string]string `json:"nameTable,omitempty"`
	Resources []importResource  `json:"resources"`
}

// importResource is one resource to adopt, or a component to create as the parent of adopted
// resources.
type importResource struct {
	Type string `json:"type"`
	// Name is the resource's logical name; it is also how other entries name it as a parent.
	Name string `json:"name"`
	// ID is the provider's import id; empty for a component.
	ID string `json:"id,omitempty"`
	// Parent is the Name of the parent entry; empty for a resource under the stack.
	Parent    string `json:"parent,omitempty"`
	Component bool   `json:"component,omitempty"`
}

// importable are the types the import file adopts, in the order they are listed.
// The foundation's are those a hand-made setup may already hold: the state bucket and the
// workload identity pool and provider, whose ids GCP keeps for 30 days after a delete.
var importable = []string{spec.ServiceAccountType, spec.TopicType, spec.SubscriptionType, spec.TopicIAMMemberType, spec.SubscriptionIAMMemberType,
	spec.BucketType, spec.WorkloadIdentityPoolType, spec.WorkloadIdentityPoolProviderType}

// importFile returns the import file that adopts the plan's topics, subscriptions, IAM members and
// service account, with GCP's import ids, under the same parents as the program declares them,
// so that the program's next `pulumi up` finds them in the state instead of failing with
// "already exists". Components that parent adopted resources are listed as component entries.
func (p *Plan) importFile() (*importFile, error) {
	byURN := map[string]Step{}
	for _, s := range p.Steps {
		byURN[s.Resource.URN] = s
	}
	f := &importFile{}
	names := map[string]string{} // entry name -> URN, to refuse ambiguous parents
	addName := func(name, urn string) error {
		if other, ok := names[name]; ok && other != urn {
			return fmt.Errorf("two resources are named %q (%s and %s); the import file names parents by name", name, other, urn)
		}
		names[name] = urn
		return nil
	}
	var components, resources []importResource
	omitted := p.ImportOmissions()
	for _, s := range p.Steps {
		r := s.Resource
		if !slices.Contains(importable, r.Type) || slices.ContainsFunc(omitted, func(o Omission) bool { return o.Name == r.Name }) {
			continue
		}
		id, err := importID(r.Type, r.Inputs)
		if err != nil {
			return nil, fmt.Errorf("import id of %s: %w", r.URN, err)
		}
		entry := importResource{Type: r.Type, Name: r.Name, ID: id}
		if err := addName(r.Name, r.URN); err != nil {
			return nil, err
		}
		if r.Parent != "" && r.Parent != p.stackURN() {
			parent, ok := byURN[r.Parent]
			if !ok {
				return nil, fmt.Errorf("%s: parent %s is not in the plan", r.URN, r.Parent)
			}
			entry.Parent = parent.Resource.Name
			if parent.Resource.Parent != "" && parent.Resource.Parent != p.stackURN() {
				return nil, fmt.Errorf("%s: nested components are not supported by this import file", r.URN)
			}
			if err := addName(parent.Resource.Name, parent.Resource.URN); err != nil {
				return nil, err
			}
			c := importResource{Type: parent.Resource.Type, Name: parent.Resource.Name, Component: true}
			if !slices.Contains(components, c) {
				components = append(components, c)
			}
		}
		resources = append(resources, entry)
	}
	rank := func(typ string) int { return slices.Index(importable, typ) }
	slices.SortFunc(components, func(a, b importResource) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(resources, func(a, b importResource) int {
		return cmp.Or(cmp.Compare(rank(a.Type), rank(b.Type)), strings.Compare(a.Parent, b.Parent),
			strings.Compare(a.Name, b.Name))
	})
	f.Resources = append(components, resources...)
	return f, nil
}

// Omission is a resource the import file leaves out, and why.
type Omission struct {
	// Name is the resource's logical name.
	Name string
	// Reason says why its import id cannot be spelled before the deployment.
	Reason string
	// NeedsProjectNumber is true when the project's number, given in config, would include it:
	// its member is the Pub/Sub service agent.
	NeedsProjectNumber bool
}

// ImportOmissions are the IAM members whose member is known only at deploy, which the import
// file leaves out since it cannot spell their ids, each with its own reason: the member comes
// from a resource this change creates (the service account's email), or it is the Pub/Sub
// service agent, whose address needs the project's number.
func (p *Plan) ImportOmissions() []Omission {
	byURN := map[string]Step{}
	for _, s := range p.Steps {
		byURN[s.Resource.URN] = s
	}
	var out []Omission
	for _, s := range p.Steps {
		r := s.Resource
		if v, ok := r.Inputs["member"]; !ok || !isMember(r.Type) || !v.IsComputed() && !(v.IsOutput() && !v.OutputValue().Known) {
			continue
		}
		out = append(out, omission(r.Name, r.PropertyDependencies["member"], byURN))
	}
	return out
}

// omission says why the member of the IAM member name is not known: deps are the resources its
// member comes from.
func omission(name string, deps []string, byURN map[string]Step) Omission {
	for _, u := range deps {
		dep, ok := byURN[u]
		if !ok || dep.Op != opCreate && !isReplace(dep.Op) {
			continue
		}
		verb := "creates"
		if isReplace(dep.Op) {
			verb = "replaces"
		}
		reason := fmt.Sprintf("its member comes from %s %s, which this change %s: it is known only once that exists", kind(dep.Resource.Type), dep.Resource.Name, verb)
		if dep.Resource.Type == spec.ServiceAccountType {
			reason = fmt.Sprintf("its member is the service account %s, which this change %s: its email is known only once it exists", dep.Resource.Name, verb)
		}
		return Omission{Name: name, Reason: reason}
	}
	if strings.HasSuffix(name, "-"+spec.ServiceAgentMemberKey) {
		return Omission{Name: name, NeedsProjectNumber: true,
			Reason: "its member is the Pub/Sub service agent, whose address needs the project's number"}
	}
	return Omission{Name: name, Reason: "its member is known only at deploy"}
}

// WriteImport writes the import file as indented JSON.
func (p *Plan) WriteImport(w io.Writer) error {
	f, err := p.importFile()
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(f)
}

// importID is the id GCP's provider imports a resource by, built from its inputs.
func importID(typ string, in resource.PropertyMap) (string, error) {
	var problems []string
	get := func(key string) string {
		v, ok := lookup(in, key)
		switch {
		case !ok || v.IsNull():
			problems = append(problems, fmt.Sprintf("input %s is not set", key))
		case v.IsComputed() || (v.IsOutput() && !v.OutputValue().Known):
			problems = append(problems, fmt.Sprintf("input %s is not known before deployment", key))
		case v.IsSecret() || !v.IsString():
			problems = append(problems, fmt.Sprintf("input %s is not a plain string", key))
		default:
			return v.StringValue()
		}
		return ""
	}
	project := get("project")
	var id string
	switch typ {
	case spec.TopicType:
		id = spec.TopicID(project, get("name"))
	case spec.SubscriptionType:
		id = spec.SubscriptionID(project, get("name"))
	case spec.TopicIAMMemberType:
		id = spec.MemberID(spec.TopicID(project, spec.LastSegment(get("topic"))), get("role"), get("member"))
	case spec.SubscriptionIAMMemberType:
		id = spec.MemberID(spec.SubscriptionID(project, spec.LastSegment(get("subscription"))), get("role"), get("member"))
	case spec.ServiceAccountType:
		id = spec.ServiceAccountName(project, spec.ServiceAccountEmail(get("accountId"), project))
	case spec.BucketType:
		id = project + "/" + get("name")
	case spec.WorkloadIdentityPoolType:
		id = spec.WorkloadIdentityPoolName(project, get("workloadIdentityPoolId"))
	case spec.WorkloadIdentityPoolProviderType:
		id = spec.WorkloadIdentityProviderName(project, get("workloadIdentityPoolId"), get("workloadIdentityPoolProviderId"))
	default:
		return "", fmt.Errorf("type %q cannot be imported by this file", typ)
	}
	if len(problems) > 0 {
		return "", fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return id, nil
}
