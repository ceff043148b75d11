package rules

import (
	"testing"

	"github.com/aiprod/aiprod-pubsub/spec"
	"github.com/aiprod/aiprod-pubsub/testkit"
)

func TestProjectCustomRoles(t *testing.T) {
	t.Parallel()
	setGrant := func(name string, v any, prop string) []testkit.Change {
		return []testkit.Change{testkit.Set(typeProjectIAM, name, v, prop)}
	}
	previewRole := spec.CustomRoleName(testProject, spec.PreviewRoleID)
	deployerRole := spec.CustomRoleName(testProject, spec.DeployerRoleID)
	runCases(t, PolicyProjectCustomRoles, []ruleCase{
		{name: "the foundation's grants pass", foundation: true},
		{name: "the foundation's grants pass in prod", foundation: true, stack: "prod"},
		{name: "a predefined role", foundation: true, changes: setGrant(previewGrant, "roles/pubsub.admin", "role"),
			want:    []string{`IAMMember "` + previewGrant + `"`, `role "roles/pubsub.admin"`, previewRole, deployerRole},
			wantURN: foundationURN("dev", typeProjectIAM, previewGrant)},
		{name: "another custom role", foundation: true, changes: setGrant(deployerGrant, spec.CustomRoleName(testProject, "anything"), "role"),
			want: []string{`role "projects/` + testProject + `/roles/anything"`}},
		{name: "an organization's custom role", foundation: true, changes: setGrant(deployerGrant, "organizations/1/roles/"+spec.DeployerRoleID, "role"),
			want: []string{`role "organizations/1/roles/aiprodDeployer"`}},
		{name: "the role of another project", foundation: true, changes: setGrant(deployerGrant, spec.CustomRoleName("aiprod-prod-000000", spec.DeployerRoleID), "role"),
			want: []string{`a role of project "aiprod-prod-000000"`, `project is "` + testProject + `"`}},
		{name: "no role", foundation: true, changes: setGrant(deployerGrant, nil, "role"),
			want: []string{`IAMMember "` + deployerGrant + `" grants no role`}},
		{name: "a person", foundation: true, changes: setGrant(previewGrant, "user:someone@example.com", "member"),
			want: []string{`grants to member "user:someone@example.com"`, accountMember(spec.PreviewAccountID), accountMember(spec.DeployerAccountID)}},
		{name: "the application's account", foundation: true, changes: setGrant(deployerGrant, testApp, "member"),
			want: []string{`member "` + testApp + `"`}},
		{name: "the deployer of another project", foundation: true,
			changes: setGrant(deployerGrant, spec.ServiceAccountMember(spec.ServiceAccountEmail(spec.DeployerAccountID, "aiprod-prod-000000")), "member"),
			want:    []string{`an account of project "aiprod-prod-000000"`}},
		{name: "the preview account with the deployer's role", foundation: true, changes: setGrant(previewGrant, deployerRole, "role"),
			want: []string{`grants role "` + deployerRole + `" to member "` + accountMember(spec.PreviewAccountID) + `"`, "holds only its own role " + previewRole}},
		{name: "the deployer with the preview role", foundation: true, changes: setGrant(deployerGrant, previewRole, "role"),
			want: []string{"account aiprod-deployer holds only its own role " + deployerRole}},
		{name: "a binding's members are judged too", foundation: true,
			changes: []testkit.Change{testkit.Add(newFoundationResource("dev", spec.ProjectIAMBindingType, "binding", map[string]any{
				"project": testProject, "role": previewRole, "members": []string{accountMember(spec.PreviewAccountID), "group:devs@example.com"},
			}))},
			want: []string{`IAMBinding "binding" grants to members "group:devs@example.com"`},
			also: []string{PolicyAdditiveOnly}},
		{name: "a pipeline stack's project grant is iam-additive-only's",
			changes: []testkit.Change{testkit.Add(newResource("dev", typeProjectIAM, "project-grant", map[string]any{
				"project": testProject, "role": "roles/pubsub.admin", "member": "user:someone@example.com",
			}))},
			also: []string{PolicyAdditiveOnly}},
	})
}
