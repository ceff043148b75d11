package plan

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// WriteMermaid writes a Mermaid flowchart of the topology: topics feed their subscriptions,
// subscriptions dead-letter to topics, and principals hold roles on topics and subscriptions.
// Topics and subscriptions are grouped by pipeline.
func (p *Plan) WriteMermaid(w io.Writer) error {
	m := &mermaid{steps: ordered(p.Steps), ids: map[string]string{}, used: map[string]bool{}}
	m.b.WriteString("flowchart LR\n")
	m.nodes(p.stackURN())
	m.principals()
	m.contractEdges()
	m.deliveryEdges()
	m.grantEdges()
	m.alertEdges()
	m.foundation()
	_, err := io.WriteString(w, m.b.String())
	return err
}

// mermaid is a flowchart being written.
type mermaid struct {
	b     strings.Builder
	steps []Step
	ids   map[string]string // "t:"+name, "s:"+name, "c:"+name or "g:"+name -> node id
	used  map[string]bool
	// principal is the node id of each IAM member.
	principal map[string]string
}

// nodeID is the node of a topic ("t"), subscription ("s"), schema ("c") or group ("g").
func (m *mermaid) nodeID(prefix, name string) string {
	key := prefix + ":" + name
	if id, ok := m.ids[key]; ok {
		return id
	}
	id := prefix + "_" + sanitize(name)
	for base, n := id, 2; m.used[id]; n++ {
		id = fmt.Sprintf("%s_%d", base, n)
	}
	m.ids[key], m.used[id] = id, true
	return id
}

// node declares a topic, subscription or schema; "" for any other resource.
func (m *mermaid) node(r Step) string {
	in := r.Resource.Inputs
	name := show(in, "name")
	switch r.Resource.Type {
	case spec.TopicType:
		return fmt.Sprintf("%s[[%s]]", m.nodeID("t", name), label("topic "+name))
	case spec.SubscriptionType:
		return fmt.Sprintf("%s([%s])", m.nodeID("s", name), label("subscription "+name))
	case spec.SchemaType:
		return fmt.Sprintf("%s[/%s/]", m.nodeID("c", name), label("schema "+name))
	case spec.AlertPolicyType:
		return fmt.Sprintf("%s>%s]", m.nodeID("a", r.Resource.Name), label("alert "+r.Resource.Name))
	}
	return ""
}

// nodes declares the topics, subscriptions and schemas, grouped under their pipeline component.
func (m *mermaid) nodes(root string) {
	var top []string
	groups := map[string][]string{}
	for _, s := range m.steps {
		n := m.node(s)
		if n == "" {
			continue
		}
		if parent := s.Resource.Parent; parent != "" && parent != root {
			groups[parent] = append(groups[parent], n)
		} else {
			top = append(top, n)
		}
	}
	for _, s := range m.steps {
		r := s.Resource
		if ns, ok := groups[r.URN]; ok {
			fmt.Fprintf(&m.b, "  subgraph %s[%s]\n", m.nodeID("g", r.Name), label(kind(r.Type)+": "+r.Name))
			for _, n := range ns {
				fmt.Fprintf(&m.b, "    %s\n", n)
			}
			m.b.WriteString("  end\n")
		}
	}
	for _, n := range top {
		fmt.Fprintf(&m.b, "  %s\n", n)
	}
}

// principals declares the IAM members, numbered in sorted order.
func (m *mermaid) principals() {
	var members []string
	for _, s := range m.steps {
		if isMember(s.Resource.Type) {
			if member := show(s.Resource.Inputs, "member"); !slices.Contains(members, member) {
				members = append(members, member)
			}
		}
	}
	slices.Sort(members)
	m.principal = map[string]string{}
	for i, member := range members {
		m.principal[member] = fmt.Sprintf("p%d", i+1)
		name := principalName(member)
		if member == unknownShown && m.onlyAgents() {
			// The program names the service agent's grants <target>-<role>-<spec.ServiceAgentMemberKey>.
			name = "Pub/Sub service agent (its project number is known at deploy)"
		}
		fmt.Fprintf(&m.b, "  %s{{%s}}\n", m.principal[member], label(name))
	}
}

// onlyAgents reports whether every member known only at deploy is the service agent's grant.
func (m *mermaid) onlyAgents() bool {
	for _, s := range m.steps {
		if isMember(s.Resource.Type) && show(s.Resource.Inputs, "member") == unknownShown && !strings.HasSuffix(s.Resource.Name, "-"+spec.ServiceAgentMemberKey) {
			return false
		}
	}
	return true
}

// isMember reports whether typ is an IAM member on a topic or a subscription.
func isMember(typ string) bool {
	return typ == spec.TopicIAMMemberType || typ == spec.SubscriptionIAMMemberType
}

// contractEdges link each schema to the topics it validates.
func (m *mermaid) contractEdges() {
	for _, s := range m.steps {
		in := s.Resource.Inputs
		if s.Resource.Type != spec.TopicType {
			continue
		}
		if schema := show(in, "schemaSettings.schema"); schema != "" {
			fmt.Fprintf(&m.b, "  %s -.->|validates %s| %s\n", m.nodeID("c", spec.LastSegment(schema)),
				show(in, "schemaSettings.encoding"), m.nodeID("t", show(in, "name")))
		}
	}
}

// deliveryEdges link each topic to its subscriptions, and subscriptions to their dead-letter
// topics.
func (m *mermaid) deliveryEdges() {
	for _, s := range m.steps {
		in := s.Resource.Inputs
		if s.Resource.Type != spec.SubscriptionType {
			continue
		}
		sub := m.nodeID("s", show(in, "name"))
		fmt.Fprintf(&m.b, "  %s --> %s\n", m.nodeID("t", spec.LastSegment(show(in, "topic"))), sub)
		if dl := show(in, "deadLetterPolicy.deadLetterTopic"); dl != "" {
			fmt.Fprintf(&m.b, "  %s -.->|dead letters after %s| %s\n", sub,
				show(in, "deadLetterPolicy.maxDeliveryAttempts"), m.nodeID("t", spec.LastSegment(dl)))
		}
	}
}

// grantEdges link each principal to what it holds a role on.
func (m *mermaid) grantEdges() {
	for _, s := range m.steps {
		in := s.Resource.Inputs
		var target string
		switch s.Resource.Type {
		case spec.TopicIAMMemberType:
			target = m.nodeID("t", spec.LastSegment(show(in, "topic")))
		case spec.SubscriptionIAMMemberType:
			target = m.nodeID("s", spec.LastSegment(show(in, "subscription")))
		default:
			continue
		}
		fmt.Fprintf(&m.b, "  %s -->|%s| %s\n", m.principal[show(in, "member")], spec.RoleName(show(in, "role")), target)
	}
}

// alertEdges link each alert policy to the subscriptions and topics it watches.
func (m *mermaid) alertEdges() {
	for _, s := range m.steps {
		if s.Resource.Type != spec.AlertPolicyType {
			continue
		}
		seen := map[string]bool{}
		conds, _ := lookup(s.Resource.Inputs, "conditions")
		if !conds.IsArray() {
			continue
		}
		for _, c := range conds.ArrayValue() {
			if !c.IsObject() {
				continue
			}
			_, kind, name, ok := spec.ParseFilter(show(c.ObjectValue(), "conditionThreshold.filter"))
			prefix := map[string]string{"subscription": "s", "topic": "t"}[kind]
			if !ok || seen[kind+name] {
				continue
			}
			seen[kind+name] = true
			fmt.Fprintf(&m.b, "  %s -.- %s\n", m.nodeID(prefix, name), m.nodeID("a", s.Resource.Name))
		}
	}
}

// principalName shows an IAM member: the Pub/Sub service agent by its role, an account by
// its email.
func principalName(member string) string {
	email := spec.MemberEmail(member)
	if spec.IsServiceAgentEmail(email) {
		return "Pub/Sub service agent " + email
	}
	return email
}

// label quotes a Mermaid label.
func label(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, "#quot;") + `"`
}

// sanitize turns a name into a Mermaid node id.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' {
			return r
		}
		return '_'
	}, s)
}
