package rules

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// PolicyProjectCustomRoles is the name of the policy on the foundation's project-level grants.
const PolicyProjectCustomRoles = "iam-project-custom-roles"

// foundationAccounts and foundationRoles list the foundation's identities and their custom
// roles, for messages.
var (
	foundationAccounts = slices.Sorted(maps.Keys(spec.FoundationAccountRoles))
	foundationRoles    = slices.Sorted(maps.Values(spec.FoundationAccountRoles))
)

// projectCustomRoles: a project-level grant reaches every resource of the project, so the
// foundation makes them only to the identities it declares, each with the custom role derived
// for it (the preview account must never hold the deployer's permissions). A pipeline stack
// holds none at all (iam-additive-only).
func projectCustomRoles() policyx.ResourceValidationPolicy {
	return iamPolicy(PolicyProjectCustomRoles,
		"In the foundation, a project-level grant gives one of its service accounts ("+strings.Join(foundationAccounts, ", ")+
			") the custom role made for it ("+strings.Join(foundationRoles, ", ")+") of the same project.",
		func(args policyx.ResourceValidationArgs, module, typeName string) {
			r := args.Resource
			if module != "projects" || !isGrant(typeName) || !inFoundation(r) {
				return
			}
			project, _ := knownString(r.Properties, "project")
			for _, b := range bindings(r) {
				roleID := checkCustomRole(args.Manager, r, typeName, project, b)
				for _, m := range b.members {
					checkFoundationMember(args.Manager, r, typeName, project, b, m, roleID)
				}
			}
		})
}

// checkCustomRole reports a role that is not one of the foundation's custom roles of project,
// and returns the role's id when it is one.
func checkCustomRole(m policyx.PolicyManager, r policyx.AnalyzerResource, typeName, project string, b binding) string {
	if b.role.Unknown {
		return ""
	}
	var roleProject, id string
	ok := b.role.Set && b.role.IsString()
	if ok {
		roleProject, id, ok = spec.ParseCustomRole(b.role.AsString())
	}
	if !ok || !slices.Contains(foundationRoles, id) {
		m.ReportViolation(fmt.Sprintf("%s %q grants %s; the foundation grants on its project only its custom roles %s",
			typeName, r.Name, b.roleText(), roleChoices(project)), "")
		return ""
	}
	if project != "" && roleProject != project {
		m.ReportViolation(fmt.Sprintf("%s %q grants %s, a role of project %q; project is %q: grant %s",
			typeName, r.Name, b.roleText(), roleProject, project, spec.CustomRoleName(project, id)), "")
	}
	return id
}

// checkFoundationMember reports a member that is not one of the foundation's service accounts
// of project, or that does not hold its own role.
func checkFoundationMember(m policyx.PolicyManager, r policyx.AnalyzerResource, typeName, project string, b binding, member value, roleID string) {
	if member.Unknown || !member.Set {
		return
	}
	var id, memberProject string
	ok := member.IsString()
	if ok {
		id, memberProject, ok = spec.ParseServiceAccountMember(member.AsString())
	}
	if !ok || !slices.Contains(foundationAccounts, id) {
		m.ReportViolation(fmt.Sprintf("%s %q grants to %s; the foundation grants project roles only to its own service accounts %s",
			typeName, r.Name, b.memberText(member), accountChoices(project)), "")
		return
	}
	if project != "" && memberProject != project {
		m.ReportViolation(fmt.Sprintf("%s %q grants to %s, an account of project %q; project is %q",
			typeName, r.Name, b.memberText(member), memberProject, project), "")
	}
	if want := spec.FoundationAccountRoles[id]; roleID != "" && roleID != want {
		m.ReportViolation(fmt.Sprintf("%s %q grants %s to %s; account %s holds only its own role %s",
			typeName, r.Name, b.roleText(), b.memberText(member), id, spec.CustomRoleName(projectOrPlaceholder(project), want)), "")
	}
}

// projectOrPlaceholder is project, or a placeholder when it is not known.
func projectOrPlaceholder(project string) string {
	if project == "" {
		return "<project>"
	}
	return project
}

// roleChoices lists the foundation's custom roles of project.
func roleChoices(project string) string {
	var out []string
	for _, id := range foundationRoles {
		out = append(out, spec.CustomRoleName(projectOrPlaceholder(project), id))
	}
	return strings.Join(out, " or ")
}

// accountChoices lists the foundation's service accounts of project as members.
func accountChoices(project string) string {
	var out []string
	for _, id := range foundationAccounts {
		out = append(out, spec.ServiceAccountMember(spec.ServiceAccountEmail(id, projectOrPlaceholder(project))))
	}
	return strings.Join(out, " or ")
}
