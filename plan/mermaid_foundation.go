package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// foundation draws a foundation stack: who may impersonate each CI identity through Workload
// Identity Federation, and the roles each holds on the project, the state bucket and the
// secrets key. It draws nothing for a pipeline stack.
func (m *mermaid) foundation() {
	if !slices.ContainsFunc(m.steps, func(s Step) bool { return s.Resource.Type == spec.FoundationType }) {
		return
	}
	accounts := map[string]string{} // member -> node id
	for _, s := range m.steps {
		r := s.Resource
		switch r.Type {
		case spec.WorkloadIdentityPoolProviderType:
			fmt.Fprintf(&m.b, "  %s[/%s/]\n", m.nodeID("w", r.Name), label("GitHub OIDC provider "+r.Name))
		case spec.ServiceAccountType:
			email := spec.ServiceAccountEmail(show(r.Inputs, "accountId"), show(r.Inputs, "project"))
			accounts[spec.ServiceAccountMember(email)] = m.nodeID("i", email)
			fmt.Fprintf(&m.b, "  %s{{%s}}\n", m.nodeID("i", email), label(email))
		case spec.BucketType:
			fmt.Fprintf(&m.b, "  %s[(%s)]\n", m.nodeID("b", "state"), label("state bucket "+show(r.Inputs, "name")))
		case spec.CryptoKeyType:
			fmt.Fprintf(&m.b, "  %s[/%s\\]\n", m.nodeID("k", "secrets"), label("secrets key "+show(r.Inputs, "name")))
		case spec.ProjectCustomRoleType:
			fmt.Fprintf(&m.b, "  %s>%s]\n", m.nodeID("r", show(r.Inputs, "roleId")), label("custom role "+show(r.Inputs, "roleId")))
		}
	}
	for _, s := range m.steps {
		in := s.Resource.Inputs
		switch s.Resource.Type {
		case spec.ServiceAccountIAMMemberType:
			who := "workflows of " + principalSubject(show(in, "member"))
			if show(in, "member") == unknownShown {
				who = "GitHub principal (the pool's project number is known at deploy)"
			}
			acct := spec.ServiceAccountMember(spec.LastSegment(show(in, "serviceAccountId")))
			fmt.Fprintf(&m.b, "  %s -->|%s| %s\n", m.nodeID("w", spec.WorkloadIdentityProviderID), label(who), accounts[acct])
		case spec.ProjectIAMMemberType:
			fmt.Fprintf(&m.b, "  %s -->|holds| %s\n", accounts[show(in, "member")], m.nodeID("r", spec.LastSegment(show(in, "role"))))
		case spec.BucketIAMMemberType:
			role := strings.TrimPrefix(show(in, "role"), "roles/")
			if c := show(in, "condition.title"); c != "" {
				role += " if " + c
			}
			fmt.Fprintf(&m.b, "  %s -->|%s| %s\n", accounts[show(in, "member")], label(role), m.nodeID("b", "state"))
		case spec.CryptoKeyIAMMemberType:
			if acct, ok := accounts[show(in, "member")]; ok {
				fmt.Fprintf(&m.b, "  %s -->|%s| %s\n", acct, strings.TrimPrefix(show(in, "role"), "roles/"), m.nodeID("k", "secrets"))
			}
		}
	}
}

// principalSubject is who a WIF principal is: the repository, or its jobs in an environment.
func principalSubject(member string) string {
	if _, env, ok := strings.Cut(member, ":environment:"); ok {
		repo := member[strings.Index(member, "/subject/repo:")+len("/subject/repo:") : strings.Index(member, ":environment:")]
		return repo + " in environment " + env
	}
	_, repo, _ := strings.Cut(member, "/attribute.repository/")
	return repo
}
