package render

import (
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Resource is one resource the program registered, as the engine sees it.
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

// Mocks answers the engine's calls the way the GCP provider does: ids in GCP's formats, the
// defaults GCP applies, computed emails and members, and project lookups. It records every
// resource registered. It is safe for concurrent use: the SDK registers resources on several
// goroutines.
type Mocks struct {
	// ProjectNumbers answers organizations.getProject; a project missing here gets a stable
	// 12-digit number derived from its id.
	ProjectNumbers map[string]string

	project, stack string

	mu        sync.Mutex
	resources []Resource
	lookups   []string
}

// NewMocks returns mocks for the given project and stack.
func NewMocks(project, stack string) *Mocks {
	return &Mocks{project: project, stack: stack}
}

// Resources returns what was registered, sorted by URN.
func (m *Mocks) Resources() []Resource {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := slices.Clone(m.resources)
	slices.SortFunc(out, func(a, b Resource) int { return strings.Compare(a.URN, b.URN) })
	return out
}

// Lookups returns the projects looked up through organizations.getProject.
func (m *Mocks) Lookups() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.lookups)
}

// ProjectNumber is the number the mocks give project.
func (m *Mocks) ProjectNumber(project string) string {
	if n, ok := m.ProjectNumbers[project]; ok {
		return n
	}
	h := fnv.New64a()
	h.Write([]byte(project))
	return fmt.Sprintf("%012d", h.Sum64()%1_000_000_000_000)
}

// Call answers invokes.
func (m *Mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	switch args.Token {
	case "gcp:organizations/getProject:getProject":
		project := m.project
		if v, ok := args.Args["projectId"]; ok && v.IsString() {
			project = v.StringValue()
		}
		m.mu.Lock()
		m.lookups = append(m.lookups, project)
		m.mu.Unlock()
		return resource.NewPropertyMapFromMap(map[string]any{
			"id":        "projects/" + project,
			"projectId": project,
			"name":      project,
			"number":    m.ProjectNumber(project),
		}), nil
	}
	return nil, fmt.Errorf("mocks: no answer for invoke %q", args.Token)
}

// NewResource answers a registration with the id and state the provider would return.
func (m *Mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	rpc := args.RegisterRPC
	r := Resource{
		Type:    args.TypeToken,
		Name:    args.Name,
		Custom:  args.Custom,
		Inputs:  args.Inputs.Copy(),
		Outputs: args.Inputs.Copy(),
	}
	if rpc != nil {
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

// provide fills in what the provider computes for r and returns its id.
func (m *Mocks) provide(r *Resource) (string, error) {
	in := r.Inputs
	str := func(k string) string {
		if v, ok := in[resource.PropertyKey(k)]; ok && v.IsString() {
			return v.StringValue()
		}
		return ""
	}
	set := func(k string, v any) { r.Outputs[resource.PropertyKey(k)] = resource.NewPropertyValue(v) }
	setDefault := func(k string, v any) {
		if _, ok := r.Outputs[resource.PropertyKey(k)]; !ok {
			set(k, v)
		}
	}
	project := str("project")
	if project == "" {
		project = m.project
		set("project", project)
	}
	labels := func() {
		if l, ok := in["labels"]; ok {
			r.Outputs["effectiveLabels"] = l
			r.Outputs["pulumiLabels"] = l
		}
	}
	switch r.Type {
	case TopicType:
		name := str("name")
		if name == "" {
			return "", fmt.Errorf("a topic needs a name")
		}
		labels()
		return fmt.Sprintf("projects/%s/topics/%s", project, name), nil
	case SchemaType:
		name := str("name")
		if name == "" || str("definition") == "" {
			return "", fmt.Errorf("a schema needs a name and a definition")
		}
		setDefault("type", "TYPE_UNSPECIFIED")
		return fmt.Sprintf("projects/%s/schemas/%s", project, name), nil
	case SubscriptionType:
		name, topic := str("name"), str("topic")
		if name == "" || topic == "" {
			return "", fmt.Errorf("a subscription needs a name and a topic")
		}
		if !strings.HasPrefix(topic, "projects/") {
			set("topic", fmt.Sprintf("projects/%s/topics/%s", project, topic))
		}
		// GCP's defaults for what the request leaves out.
		setDefault("ackDeadlineSeconds", 10)
		setDefault("messageRetentionDuration", "604800s")
		setDefault("expirationPolicy", map[string]any{"ttl": "2678400s"})
		setDefault("enableMessageOrdering", false)
		labels()
		return fmt.Sprintf("projects/%s/subscriptions/%s", project, name), nil
	case TopicMemberType, "gcp:pubsub/topicIAMBinding:TopicIAMBinding":
		set("etag", "BwY"+r.Name)
		return fmt.Sprintf("projects/%s/topics/%s %s %s", project, lastSegment(str("topic")), str("role"), iamWho(in)), nil
	case SubscriptionMemberType, "gcp:pubsub/subscriptionIAMBinding:SubscriptionIAMBinding":
		set("etag", "BwY"+r.Name)
		return fmt.Sprintf("projects/%s/subscriptions/%s %s %s", project, lastSegment(str("subscription")), str("role"), iamWho(in)), nil
	case "gcp:pubsub/topicIAMPolicy:TopicIAMPolicy":
		set("etag", "BwY"+r.Name)
		return fmt.Sprintf("projects/%s/topics/%s", project, lastSegment(str("topic"))), nil
	case "gcp:pubsub/subscriptionIAMPolicy:SubscriptionIAMPolicy":
		set("etag", "BwY"+r.Name)
		return fmt.Sprintf("projects/%s/subscriptions/%s", project, lastSegment(str("subscription"))), nil
	case "gcp:projects/iAMMember:IAMMember", "gcp:projects/iAMBinding:IAMBinding":
		set("etag", "BwY"+r.Name)
		return fmt.Sprintf("%s %s %s", project, str("role"), iamWho(in)), nil
	case ServiceAccountType:
		id := str("accountId")
		if id == "" {
			return "", fmt.Errorf("a service account needs an accountId")
		}
		email := fmt.Sprintf("%s@%s.iam.gserviceaccount.com", id, project)
		set("email", email)
		set("member", "serviceAccount:"+email)
		set("name", fmt.Sprintf("projects/%s/serviceAccounts/%s", project, email))
		set("uniqueId", m.ProjectNumber(email)+"000000000")
		return fmt.Sprintf("projects/%s/serviceAccounts/%s", project, email), nil
	case "gcp:serviceaccount/key:Key":
		account := str("serviceAccountId")
		set("privateKey", resource.MakeSecret(resource.NewProperty("mock-private-key")))
		return fmt.Sprintf("%s/keys/%s", account, m.ProjectNumber(account)), nil
	}
	return "", fmt.Errorf("resource type %q is not modelled by the mocks; model it in render/mocks.go", r.Type)
}

// iamWho is the member or members of an IAM resource, as its id spells them.
func iamWho(in resource.PropertyMap) string {
	if v, ok := in["member"]; ok && v.IsString() {
		return v.StringValue()
	}
	if v, ok := in["members"]; ok && v.IsArray() {
		var ms []string
		for _, x := range v.ArrayValue() {
			if x.IsString() {
				ms = append(ms, x.StringValue())
			}
		}
		return strings.Join(ms, ",")
	}
	return ""
}

func lastSegment(s string) string {
	return s[strings.LastIndex(s, "/")+1:]
}
