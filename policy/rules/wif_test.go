package rules

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/spec"
	"github.com/aiprod/aiprod-pubsub/testkit"
)

func TestWIFRepository(t *testing.T) {
	t.Parallel()
	cond := func(c any) []testkit.Change {
		return []testkit.Change{testkit.Set(typeProvider, githubProvider, c, "attributeCondition")}
	}
	configured := map[string]any{"githubRepository": testRepository}
	provider := `workload identity pool provider "` + githubProvider + `"`
	runCases(t, PolicyWIFRepository, []ruleCase{
		{name: "the repository pinned passes", foundation: true},
		{name: "the configured repository passes", foundation: true, config: configured},
		{name: "double quotes, and more terms", foundation: true, config: configured,
			changes: cond(`assertion.repository == "aiprod/aiprod-pubsub" && assertion.ref == "refs/heads/main"`)},
		{name: "the literal first", foundation: true, config: configured, changes: cond(`'aiprod/aiprod-pubsub' == assertion.repository`)},
		{name: "nested conjunctions", foundation: true, config: configured,
			changes: cond(`(assertion.repository_owner == 'aiprod' && (assertion.repository == 'aiprod/aiprod-pubsub'))`)},
		{name: "an alternative inside another term narrows", foundation: true, config: configured,
			changes: cond(`assertion.repository == 'aiprod/aiprod-pubsub' && (assertion.ref == 'refs/heads/main' || assertion.environment == 'production')`)},
		{name: "the mapped attribute", foundation: true, config: configured, changes: cond(`attribute.repository == 'aiprod/aiprod-pubsub'`)},
		{name: "no condition", foundation: true, changes: cond(nil),
			want:    []string{provider, "has no attributeCondition", "every repository"},
			wantURN: foundationURN("dev", typeProvider, githubProvider)},
		{name: "an empty condition", foundation: true, config: configured, changes: cond("  "),
			want: []string{provider, "has no attributeCondition", `assertion.repository == "aiprod/aiprod-pubsub"`}},
		{name: "inequality", foundation: true, changes: cond(`assertion.repository != 'evil/repo'`),
			want: []string{provider, "attributeCondition", "does not pin assertion.repository by equality"}},
		{name: "the owner alone", foundation: true, changes: cond(`assertion.repository_owner == 'aiprod'`),
			want: []string{"does not pin assertion.repository"}},
		{name: "a prefix", foundation: true, changes: cond(`assertion.repository.startsWith('aiprod/')`),
			want: []string{"does not pin assertion.repository"}},
		{name: "a list of repositories", foundation: true, changes: cond(`assertion.repository in ['aiprod/aiprod-pubsub', 'evil/repo']`),
			want: []string{"does not pin assertion.repository"}},
		{name: "negated", foundation: true, changes: cond(`!(assertion.repository == 'evil/repo')`),
			want: []string{"does not pin assertion.repository"}},
		{name: "a longer field name", foundation: true, changes: cond(`assertion.repository_id == 'aiprod/aiprod-pubsub'`),
			want: []string{"does not pin assertion.repository"}},
		{name: "a concatenation", foundation: true, changes: cond(`assertion.repository == 'aiprod/' + assertion.actor`),
			want: []string{"does not pin assertion.repository"}},
		{name: "an alternative that widens", foundation: true,
			changes: cond(`assertion.repository == 'aiprod/aiprod-pubsub' || assertion.repository_owner == 'aiprod'`),
			want:    []string{provider, "not a conjunction", "||"}},
		{name: "an alternative around the conjunction", foundation: true,
			changes: cond(`(assertion.repository == 'aiprod/aiprod-pubsub' && assertion.ref == 'refs/heads/main') || true`),
			want:    []string{"not a conjunction"}},
		{name: "a choice", foundation: true, changes: cond(`assertion.repository == 'aiprod/aiprod-pubsub' ? true : true`),
			want: []string{"not a conjunction"}},
		{name: "a raw string", foundation: true, changes: cond(`assertion.repository == r'aiprod/aiprod-pubsub'`),
			want: []string{"cannot read"}},
		{name: "a comment", foundation: true, changes: cond("assertion.repository == 'aiprod/aiprod-pubsub' // || true"),
			want: []string{"cannot read"}},
		{name: "unbalanced", foundation: true, changes: cond(`(assertion.repository == 'aiprod/aiprod-pubsub'`),
			want: []string{"not a conjunction"}},
		{name: "another repository than configured", foundation: true, config: configured,
			changes: cond(`assertion.repository == 'aiprod/aiprod-pubsub-fork'`),
			want:    []string{`pins assertion.repository to "aiprod/aiprod-pubsub-fork"`, `the repository is "aiprod/aiprod-pubsub"`, "policy config iam-wif-repository.githubRepository"}},
		{name: "an owner, not a repository", foundation: true, changes: cond(`assertion.repository == 'aiprod'`),
			want: []string{`pins assertion.repository to "aiprod"`, "not an owner/name repository"}},
		{name: "two repositories", foundation: true,
			changes: cond(`assertion.repository == 'aiprod/aiprod-pubsub' && attribute.repository == 'aiprod/other'`),
			want:    []string{`each of ["aiprod/aiprod-pubsub" "aiprod/other"]`, "admits nothing"}},
		{name: "the attribute mapped from the owner", foundation: true, config: configured,
			changes: append(cond(`attribute.repository == 'aiprod/aiprod-pubsub'`),
				testkit.Set(typeProvider, githubProvider, "assertion.repository_owner + '/aiprod-pubsub'", "attributeMapping", "attribute.repository")),
			want: []string{"attributeMapping maps from \"assertion.repository_owner + '/aiprod-pubsub'\"", "must map from assertion.repository"}},
		{name: "the attribute not mapped", foundation: true,
			changes: append(cond(`attribute.repository == 'aiprod/aiprod-pubsub'`), testkit.Set(typeProvider, githubProvider, nil, "attributeMapping", "attribute.repository")),
			want:    []string{"attributeMapping maps from nothing"}},
		{name: "keys of its own", foundation: true,
			changes: []testkit.Change{testkit.Set(typeProvider, githubProvider, `{"keys":[]}`, "oidc", "jwksJson")},
			want:    []string{provider, "sets oidc.jwksJson"}},
		{name: "another issuer", foundation: true,
			changes: []testkit.Change{testkit.Set(typeProvider, githubProvider, "https://gitlab.com", "oidc", "issuerUri")},
			want:    []string{provider, `oidc.issuerUri "https://gitlab.com"`, spec.GitHubIssuer}},
		{name: "GitHub's issuer with a trailing slash passes", foundation: true,
			changes: []testkit.Change{testkit.Set(typeProvider, githubProvider, spec.GitHubIssuer+"/", "oidc", "issuerUri")}},
		{name: "a SAML provider", foundation: true,
			changes: []testkit.Change{testkit.Set(typeProvider, githubProvider, nil, "oidc"),
				testkit.Set(typeProvider, githubProvider, "<xml/>", "saml", "idpMetadataXml")},
			want: []string{provider, "has no oidc.issuerUri"}},
	})
}

func TestWIFPrincipalsOnly(t *testing.T) {
	t.Parallel()
	member := func(name, m string) []testkit.Change {
		return []testkit.Change{testkit.Set(typeSAIAM, name, m, "member")}
	}
	runCases(t, PolicyWIFPrincipalsOnly, []ruleCase{
		{name: "the foundation's principals pass", foundation: true},
		{name: "a GitHub group passes", foundation: true, changes: member(previewWIF, principalSetPfx+"/group/maintainers")},
		{name: "a person", foundation: true, changes: member(deployerWIF, "user:someone@example.com"),
			want:    []string{`IAMMember "` + deployerWIF + `"`, `role "roles/iam.workloadIdentityUser"`, `member "user:someone@example.com"`, "principal://"},
			wantURN: foundationURN("dev", typeSAIAM, deployerWIF)},
		{name: "a group", foundation: true, changes: member(previewWIF, "group:devs@example.com"), want: []string{`member "group:devs@example.com"`}},
		{name: "a domain", foundation: true, changes: member(previewWIF, "domain:example.com"), want: []string{`member "domain:example.com"`}},
		{name: "another service account", foundation: true, changes: member(deployerWIF, testApp), want: []string{`member "` + testApp + `"`}},
		{name: "the whole pool", foundation: true, changes: member(previewWIF, principalSetPfx+"/*"), want: []string{`/workloadIdentityPools/github/*"`}},
		{name: "another pool", foundation: true,
			changes: member(deployerWIF, "principal://iam.googleapis.com/projects/"+testNumber+"/locations/global/workloadIdentityPools/other/subject/x"),
			want:    []string{"/workloadIdentityPools/other/subject/x"}},
		{name: "a binding's members", foundation: true,
			changes: []testkit.Change{testkit.Add(newFoundationResource("dev", spec.ServiceAccountIAMBindingType, "sa-binding", map[string]any{
				"serviceAccountId": "projects/" + testProject + "/serviceAccounts/x", "role": "roles/iam.serviceAccountTokenCreator",
				"members": []string{principalSetPfx + "/attribute.repository/" + testRepository, "user:someone@example.com"},
			}))},
			want: []string{`IAMBinding "sa-binding"`, `members "user:someone@example.com"`},
			also: []string{PolicyAdditiveOnly}},
		{name: "the deployer reached by the whole repository", foundation: true,
			changes: member(deployerWIF, principalSetPfx+"/attribute.repository/"+testRepository),
			want:    []string{`IAMMember "` + deployerWIF + `"`, `attribute.repository/aiprod/aiprod-pubsub"`, `GitHub environment "dev"`, "pull request"}},
		{name: "the deployer reached by a branch", foundation: true,
			changes: member(deployerWIF, principalPrefix+"/subject/repo:"+testRepository+":ref:refs/heads/main"),
			want:    []string{`:ref:refs/heads/main"`, `GitHub environment "dev"`}},
		{name: "the prod deployer reached from the dev environment", foundation: true, stack: "prod",
			changes: member(deployerWIF, principalPrefix+"/subject/repo:"+testRepository+":environment:dev"),
			want:    []string{`stack "prod" deploys from GitHub environment "production", not "dev"`}},
		{name: "another stack's deployer in any environment passes", foundation: true, stack: "staging",
			changes: member(deployerWIF, principalPrefix+"/subject/repo:"+testRepository+":environment:qa")},
		{name: "another stack's deployer outside an environment", foundation: true, stack: "staging",
			changes: member(deployerWIF, principalSetPfx+"/attribute.repository/"+testRepository),
			want:    []string{"only by jobs in a GitHub environment"}},
		{name: "the preview account reached by the whole repository passes", foundation: true,
			changes: member(previewWIF, principalSetPfx+"/attribute.repository/"+testRepository)},
		{name: "a pipeline stack's service account IAM is judged too",
			changes: []testkit.Change{testkit.Add(newResource("dev", typeSAIAM, "sa-user", map[string]any{
				"serviceAccountId": "projects/" + testProject + "/serviceAccounts/aiprod-sa@" + testProject + ".iam.gserviceaccount.com",
				"role":             "roles/iam.serviceAccountUser", "member": "user:someone@example.com",
			}))},
			want: []string{`IAMMember "sa-user"`, `member "user:someone@example.com"`}},
	})
}

// TestEveryAcceptedRepositoryCanPassTheGate: every repository the policy config accepts (the
// edges of spec.GitHubRepositoryPattern) passes the pack when the provider pins it and the
// policy config names it; with the foundation's checked-in config, pinning another repository
// fails, and the violation names the setting that would allow it. A value the pattern refuses
// is refused by the config loader and by the pack alike.
func TestEveryAcceptedRepositoryCanPassTheGate(t *testing.T) {
	t.Parallel()
	accepted := []string{testRepository, "a/b", "A1-b2/.github", "aiprod/aiprod_pubsub.v2", "abcdefghijabcdefghijabcdefghijabcdefghi/x", "o/.x"}
	for _, repo := range accepted {
		t.Run(repo, func(t *testing.T) {
			t.Parallel()
			require.True(t, spec.IsGitHubRepository(repo))
			rs := testkit.Set(typeProvider, githubProvider, "assertion.repository == '"+repo+"'", "attributeCondition")(t, foundationFixture("dev"))
			matching := map[string]policyx.PolicyConfig{PolicyWIFRepository: {
				EnforcementLevel: policyx.EnforcementLevelMandatory, Properties: map[string]any{"githubRepository": repo}}}
			vs, err := Evaluate("dev", rs, matching)
			require.NoError(t, err)
			assert.Empty(t, vs, "with the matching policy config")

			vs, err = Evaluate("dev", rs, foundationConfig(t, "dev"))
			require.NoError(t, err)
			if repo != testRepository {
				require.NotEmpty(t, vs, "another repository than the checked-in one must fail the gate")
			}
			for _, v := range vs {
				assert.Contains(t, v.Message, "policy config "+PolicyWIFRepository+"."+configGitHubRepository)
			}
		})
	}
	for _, repo := range []string{"aiprod", "aiprod/", "aiprod/*", "-a/b", "a/..", "a/b/c"} {
		t.Run("refused "+repo, func(t *testing.T) {
			t.Parallel()
			_, err := LoadConfig(writeConfig(t, `{"iam-wif-repository": {"githubRepository": "`+repo+`"}}`))
			assert.ErrorContains(t, err, "githubRepository")
			_, err = Evaluate("dev", foundationFixture("dev"), map[string]policyx.PolicyConfig{PolicyWIFRepository: {
				EnforcementLevel: policyx.EnforcementLevelMandatory, Properties: map[string]any{"githubRepository": repo}}})
			assert.ErrorContains(t, err, "githubRepository")
		})
	}
}
