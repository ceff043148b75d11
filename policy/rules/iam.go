package rules

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// The IAM policies' names.
const (
	PolicyNoPublicMembers      = "iam-no-public-members"
	PolicyAdditiveOnly         = "iam-additive-only"
	PolicyPubSubRoles          = "iam-pubsub-roles"
	PolicyNoServiceAccountKeys = "no-service-account-keys"
	PolicyNoBasicRoles         = "iam-no-basic-roles"
)

// iamType splits a GCP IAM type token such as spec.TopicIAMMemberType into
// its module ("pubsub") and resource name ("TopicIAMMember"); ok is false for a type that is not
// a GCP IAM resource (its name does not contain "IAM").
func iamType(typ string) (module, name string, ok bool) {
	parts := strings.Split(typ, ":")
	if len(parts) != 3 || parts[0] != "gcp" || !strings.Contains(parts[2], "IAM") {
		return "", "", false
	}
	module, _, _ = strings.Cut(parts[1], "/")
	return module, parts[2], true
}

// isGrant reports whether an IAM type grants roles: a member, a binding or a whole policy.
func isGrant(name string) bool {
	return strings.HasSuffix(name, "IAMMember") || strings.HasSuffix(name, "IAMBinding") ||
		strings.HasSuffix(name, "IAMPolicy")
}

// binding is one role and its members, as an IAM resource grants them.
type binding struct {
	role    value
	members []value
	// prop is the property the members are read from: member, members or policyData.
	prop string
}

// memberText names a member and the property it is read from in a message:
// `member "user:a@example.com"`.
func (b binding) memberText(m value) string { return b.prop + " " + show(m.Value) }

// roleText names the role in a message: `role "roles/editor"`.
func (b binding) roleText() string {
	prop := "role"
	if b.prop == "policyData" {
		prop = "policyData role"
	}
	if !b.role.Set {
		return "no " + prop
	}
	return prop + " " + show(b.role.Value)
}

// bindings reads what an IAM resource grants: `role` with `member` or `members`, or the
// bindings in a `policyData` document. Unknown values come back marked Unknown.
func bindings(r policyx.AnalyzerResource) []binding {
	props := r.Properties
	if pd := get(props, "policyData"); pd.Set {
		if pd.Unknown || !pd.IsString() {
			return []binding{{role: value{Value: pd.Value, Set: true, Unknown: pd.Unknown}, prop: "policyData"}}
		}
		var doc struct {
			Bindings []struct {
				Role    string   `json:"role"`
				Members []string `json:"members"`
			} `json:"bindings"`
		}
		if err := json.Unmarshal([]byte(pd.AsString()), &doc); err != nil {
			return nil
		}
		var out []binding
		for _, b := range doc.Bindings {
			bb := binding{role: value{Value: property.New(b.Role), Set: true}, prop: "policyData"}
			for _, m := range b.Members {
				bb.members = append(bb.members, value{Value: property.New(m), Set: true})
			}
			out = append(out, bb)
		}
		return out
	}
	b := binding{role: get(props, "role"), prop: "member"}
	if m := get(props, "member"); m.Set {
		b.members = append(b.members, m)
	}
	if ms := get(props, "members"); ms.Set {
		b.prop = "members"
		if ms.Unknown || !ms.IsArray() {
			b.members = append(b.members, ms)
		} else {
			for _, m := range ms.AsArray().AsSlice() {
				b.members = append(b.members, value{Value: m, Set: !m.IsNull(), Unknown: isUnknown(m)})
			}
		}
	}
	return []binding{b}
}

// iamPolicy is a mandatory resource policy that sees GCP IAM resources only.
func iamPolicy(name, description string,
	check func(args policyx.ResourceValidationArgs, module, typeName string),
) policyx.ResourceValidationPolicy {
	return policyx.NewResourceValidationPolicy(name, policyx.ResourceValidationPolicyArgs{
		Description:      description,
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			if module, typeName, ok := iamType(args.Resource.Type); ok {
				check(args, module, typeName)
			}
			return nil
		},
	})
}

var publicMembers = []string{"allUsers", "allAuthenticatedUsers"}

// noPublicMembers: the topics carry job requests and results, the foundation's bucket every
// stack's state and its key the stacks' secrets; nobody outside the project may reach them. It
// judges every IAM resource of every kind (member, binding, policy document).
func noPublicMembers() policyx.ResourceValidationPolicy {
	return iamPolicy(PolicyNoPublicMembers,
		"No IAM resource grants allUsers or allAuthenticatedUsers.",
		func(args policyx.ResourceValidationArgs, _, typeName string) {
			if !isGrant(typeName) {
				return
			}
			for _, b := range bindings(args.Resource) {
				for _, m := range b.members {
					if m.Unknown || !m.IsString() || !slices.Contains(publicMembers, strings.TrimSpace(m.AsString())) {
						continue
					}
					role := "(unknown role)"
					if b.role.Set && !b.role.Unknown {
						role = show(b.role.Value)
					}
					args.Manager.ReportViolation(fmt.Sprintf("%s %q grants %s to member %s; public members are not allowed",
						typeName, args.Resource.Name, role, show(m.Value)), "")
				}
			}
		})
}

// projectLevelModules are the modules whose IAM resources grant on a whole project, folder or
// organization.
var projectLevelModules = []string{"projects", "folder", "organizations"}

// foundationProjectIAM are the project-level IAM resources a foundation stack holds: additive
// grants, and the custom roles they grant.
var foundationProjectIAM = []string{spec.ProjectIAMMemberType, spec.ProjectCustomRoleType}

// additiveOnly: *IAMPolicy and *IAMBinding are authoritative and erase grants made elsewhere;
// project-level grants reach every topic in the project, so a pipeline stack holds none, and
// the foundation only its own additive grants (iam-project-custom-roles says which).
func additiveOnly() policyx.ResourceValidationPolicy {
	return iamPolicy(PolicyAdditiveOnly,
		"IAM is additive: no *IAMPolicy or *IAMBinding of any kind; a pipeline stack holds no project, folder or organization IAM, the foundation only project IAMMember grants and custom roles.",
		func(args policyx.ResourceValidationArgs, module, typeName string) {
			r := args.Resource
			foundation := inFoundation(r)
			switch {
			case foundation && slices.Contains(foundationProjectIAM, r.Type):
			case foundation && slices.Contains(projectLevelModules, module):
				args.Manager.ReportViolation(fmt.Sprintf(
					"%s %q (type %s) is %s-level IAM; the foundation holds project-level IAM only as additive IAMMember grants (%s) and custom roles",
					typeName, r.Name, r.Type, strings.TrimSuffix(module, "s"), spec.ProjectIAMMemberType), "")
			case slices.Contains(projectLevelModules, module):
				args.Manager.ReportViolation(fmt.Sprintf(
					"%s %q (type %s) is %s-level IAM, which a pipeline stack never holds; grant on the topic or subscription instead",
					typeName, r.Name, r.Type, strings.TrimSuffix(module, "s")), "")
			case strings.HasSuffix(typeName, "IAMPolicy"), strings.HasSuffix(typeName, "IAMBinding"):
				args.Manager.ReportViolation(fmt.Sprintf(
					"%s %q (type %s) is authoritative and erases grants made elsewhere; use the matching IAMMember",
					typeName, r.Name, r.Type), "")
			}
		})
}

var pubsubRoles = []string{spec.RolePublisher, spec.RoleSubscriber, spec.RoleViewer}

// pubsubRoles: the pipeline only publishes, pulls and looks; admin or editor on a topic lets a
// worker delete it or change its IAM.
func pubsubRolesPolicy() policyx.ResourceValidationPolicy {
	return iamPolicy(PolicyPubSubRoles,
		"Pub/Sub IAM grants only "+strings.Join(pubsubRoles, ", ")+".",
		func(args policyx.ResourceValidationArgs, module, typeName string) {
			if module != "pubsub" || !isGrant(typeName) {
				return
			}
			for _, b := range bindings(args.Resource) {
				switch {
				case b.role.Unknown:
				case !b.role.Set:
					args.Manager.ReportViolation(fmt.Sprintf("%s %q has no role", typeName, args.Resource.Name), "")
				case !b.role.IsString() || !slices.Contains(pubsubRoles, b.role.AsString()):
					args.Manager.ReportViolation(fmt.Sprintf("%s %q grants role %s; allowed are %s",
						typeName, args.Resource.Name, show(b.role.Value), strings.Join(pubsubRoles, ", ")), "")
				}
			}
		})
}

// noServiceAccountKeys: a key is a long-lived secret that leaks; workloads use their attached
// service account or workload identity.
func noServiceAccountKeys() policyx.ResourceValidationPolicy {
	return policyx.NewResourceValidationPolicy(PolicyNoServiceAccountKeys, policyx.ResourceValidationPolicyArgs{
		Description:      "No service account keys (" + spec.ServiceAccountKeyType + "): they are long-lived secrets.",
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			r := args.Resource
			if r.Type != spec.ServiceAccountKeyType {
				return nil
			}
			account := "(unknown)"
			if v := get(r.Properties, "serviceAccountId"); v.Set {
				account = show(v.Value)
			}
			args.Manager.ReportViolation(fmt.Sprintf("Key %q (type %s) creates a key for serviceAccountId %s; use workload identity instead",
				r.Name, r.Type, account), "")
			return nil
		},
	})
}

// noBasicRoles: owner, editor and viewer reach every service of the project, whatever the
// resource they are granted on says (a topic's editor still edits the topic's IAM), and grow
// as Google adds permissions.
func noBasicRoles() policyx.ResourceValidationPolicy {
	return iamPolicy(PolicyNoBasicRoles,
		"No IAM resource of any kind grants a basic role ("+strings.Join(spec.BasicRoles, ", ")+").",
		func(args policyx.ResourceValidationArgs, _, typeName string) {
			if !isGrant(typeName) {
				return
			}
			for _, b := range bindings(args.Resource) {
				if b.role.Unknown || !b.role.Set || !b.role.IsString() || !slices.Contains(spec.BasicRoles, b.role.AsString()) {
					continue
				}
				args.Manager.ReportViolation(fmt.Sprintf("%s %q grants basic %s; grant a predefined or custom role with only the permissions needed",
					typeName, args.Resource.Name, b.roleText()), "")
			}
		})
}
