package plan

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// WriteMermaid writes a Mermaid flowchart of the topology: topics feed their subscriptions,
// subscriptions dead-letter to topics, and principals hold roles on topics and subscriptions.
// Topics and subscriptions are grouped by pipeline.
func (p *Plan) WriteMermaid(w io.Writer) error {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	steps := ordered(p.Steps)

	ids := map[string]string{} // "t:"+name or "s:"+name -> node id
	used := map[string]bool{}
	nodeID := func(prefix, name string) string {
		key := prefix + ":" + name
		if id, ok := ids[key]; ok {
			return id
		}
		id := prefix + "_" + sanitize(name)
		for base, n := id, 2; used[id]; n++ {
			id = fmt.Sprintf("%s_%d", base, n)
		}
		ids[key], used[id] = id, true
		return id
	}
	node := func(s Step) string {
		r := s.Resource
		switch r.Type {
		case TopicType:
			return fmt.Sprintf("%s[[%s]]", nodeID("t", show(r.Inputs, "name")), label("topic "+show(r.Inputs, "name")))
		case SubscriptionType:
			return fmt.Sprintf("%s([%s])", nodeID("s", show(r.Inputs, "name")), label("subscription "+show(r.Inputs, "name")))
		case SchemaType:
			return fmt.Sprintf("%s[/%s/]", nodeID("c", show(r.Inputs, "name")), label("schema "+show(r.Inputs, "name")))
		}
		return ""
	}

	// Nodes, grouped under their pipeline component.
	var top []string
	groups := map[string][]string{}
	for _, s := range steps {
		n := node(s)
		if n == "" {
			continue
		}
		if parent := s.Resource.Parent; parent != "" && parent != p.StackURN() {
			groups[parent] = append(groups[parent], n)
		} else {
			top = append(top, n)
		}
	}
	for _, s := range steps {
		r := s.Resource
		if ns, ok := groups[r.URN]; ok {
			fmt.Fprintf(&b, "  subgraph %s[%s]\n", nodeID("g", r.Name), label(Kind(r.Type)+": "+r.Name))
			for _, n := range ns {
				fmt.Fprintf(&b, "    %s\n", n)
			}
			b.WriteString("  end\n")
		}
	}
	for _, n := range top {
		fmt.Fprintf(&b, "  %s\n", n)
	}

	// Principals, numbered in sorted order.
	var members []string
	for _, s := range steps {
		if s.Resource.Type == TopicMemberType || s.Resource.Type == SubscriptionMemberType {
			if m := show(s.Resource.Inputs, "member"); !slices.Contains(members, m) {
				members = append(members, m)
			}
		}
	}
	slices.Sort(members)
	principal := map[string]string{}
	for i, m := range members {
		principal[m] = fmt.Sprintf("p%d", i+1)
		fmt.Fprintf(&b, "  %s{{%s}}\n", principal[m], label(principalName(m)))
	}

	// Edges: contracts, delivery, dead letters, grants.
	for _, s := range steps {
		r := s.Resource
		if r.Type != TopicType {
			continue
		}
		if schema := show(r.Inputs, "schemaSettings.schema"); schema != "" {
			fmt.Fprintf(&b, "  %s -.->|validates %s| %s\n", nodeID("c", lastSegment(schema)),
				show(r.Inputs, "schemaSettings.encoding"), nodeID("t", show(r.Inputs, "name")))
		}
	}
	for _, s := range steps {
		r := s.Resource
		if r.Type != SubscriptionType {
			continue
		}
		sub := nodeID("s", show(r.Inputs, "name"))
		fmt.Fprintf(&b, "  %s --> %s\n", nodeID("t", lastSegment(show(r.Inputs, "topic"))), sub)
		if dl := show(r.Inputs, "deadLetterPolicy.deadLetterTopic"); dl != "" {
			fmt.Fprintf(&b, "  %s -.->|dead letters after %s| %s\n", sub,
				show(r.Inputs, "deadLetterPolicy.maxDeliveryAttempts"), nodeID("t", lastSegment(dl)))
		}
	}
	for _, s := range steps {
		r := s.Resource
		var target string
		switch r.Type {
		case TopicMemberType:
			target = nodeID("t", lastSegment(show(r.Inputs, "topic")))
		case SubscriptionMemberType:
			target = nodeID("s", lastSegment(show(r.Inputs, "subscription")))
		default:
			continue
		}
		role := strings.TrimPrefix(show(r.Inputs, "role"), "roles/pubsub.")
		fmt.Fprintf(&b, "  %s -->|%s| %s\n", principal[show(r.Inputs, "member")], role, target)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// principalName shows an IAM member: the Pub/Sub service agent by its role, an account by
// its email.
func principalName(member string) string {
	email := strings.TrimPrefix(member, "serviceAccount:")
	if strings.HasSuffix(email, "@gcp-sa-pubsub.iam.gserviceaccount.com") {
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
