package rules

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// The Workload Identity Federation policies' names.
const (
	PolicyWIFRepository     = "iam-wif-repository"
	PolicyWIFPrincipalsOnly = "iam-wif-principals-only"
)

const configGitHubRepository = "githubRepository"

// repositoryRoots are what a condition may pin the repository through: the token's claim
// (assertion.repository) or the attribute mapped from it (attribute.repository).
var repositoryRoots = []string{"assertion", "attribute"}

// wifRepository: GitHub's issuer signs a token for every workflow of every repository on
// GitHub; only the provider's condition keeps other repositories' workflows out of the pool.
func wifRepository() policyx.ResourceValidationPolicy {
	return policyx.NewResourceValidationPolicy(PolicyWIFRepository, policyx.ResourceValidationPolicyArgs{
		Description: "Every workload identity pool provider is GitHub's OIDC issuer with GitHub's own keys, and its attributeCondition admits one repository only: " +
			"a conjunction with the term assertion.repository == '<owner>/<name>' (the policy config's githubRepository when set).",
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ConfigSchema: &policyx.ConfigSchema{Properties: map[string]map[string]any{
			configGitHubRepository: {
				"type":        "string",
				"pattern":     spec.GitHubRepositoryPattern,
				"description": "the owner/name GitHub repository the providers admit; when absent, any one repository pinned by equality passes",
			},
		}},
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			if args.Resource.Type != spec.WorkloadIdentityPoolProviderType {
				return nil
			}
			repo, err := configRepository(args.Config)
			if err != nil {
				return err
			}
			if checkGitHubIssuer(args) {
				checkRepositoryCondition(args, repo)
			}
			return nil
		},
	})
}

// configRepository reads the configured repository, or "" when there is none.
func configRepository(cfg map[string]any) (string, error) {
	v, ok := cfg[configGitHubRepository]
	if !ok || v == nil {
		return "", nil
	}
	s, ok := v.(string)
	if !ok || !spec.IsGitHubRepository(s) {
		return "", fmt.Errorf("policy %s: config %s is %v (%T); must be an owner/name GitHub repository such as \"aiprod/aiprod-pubsub\"",
			PolicyWIFRepository, configGitHubRepository, v, v)
	}
	return s, nil
}

// checkGitHubIssuer reports a provider that is not GitHub's OIDC issuer with GitHub's keys, and
// returns whether its condition is to be judged.
func checkGitHubIssuer(args policyx.ResourceValidationArgs) bool {
	r := args.Resource
	issuer := get(r.Properties, "oidc", "issuerUri")
	switch {
	case issuer.Unknown:
		return false
	case !issuer.Set || !issuer.IsString() || !spec.IsGitHubIssuer(issuer.AsString()):
		got := "no oidc.issuerUri"
		if issuer.Set {
			got = "oidc.issuerUri " + show(issuer.Value)
		}
		args.Manager.ReportViolation(fmt.Sprintf(
			"%s has %s; every provider must be GitHub's issuer %q: the pool's principals admit the identities of every provider in the pool",
			describe(r), got, spec.GitHubIssuer), "")
		return false
	}
	if jwks := get(r.Properties, "oidc", "jwksJson"); jwks.Set && !jwks.Unknown && !(jwks.IsString() && jwks.AsString() == "") {
		args.Manager.ReportViolation(fmt.Sprintf(
			"%s sets oidc.jwksJson; tokens must be verified with the keys GitHub publishes, or whoever holds these keys signs any repository's token",
			describe(r)), "")
	}
	return true
}

// checkRepositoryCondition reports a condition that does not admit exactly one repository (repo
// when it is configured).
func checkRepositoryCondition(args policyx.ResourceValidationArgs, repo string) {
	r := args.Resource
	report := func(format string, a ...any) {
		args.Manager.ReportViolation(describe(r)+" "+fmt.Sprintf(format, a...), "")
	}
	want := repo
	if want == "" {
		want = "<owner>/<name>"
	}
	cond := get(r.Properties, "attributeCondition")
	switch {
	case cond.Unknown:
		return
	case !cond.Set || !cond.IsString() || strings.TrimSpace(cond.AsString()) == "":
		report("has no attributeCondition; GitHub's issuer then admits every repository's workflows: set it to assertion.repository == %q", want)
		return
	}
	expr := cond.AsString()
	toks, err := celTokens(expr)
	if err != nil {
		report("has attributeCondition %q, which the pack cannot read (%v); write assertion.repository == %q, joined to other terms with &&", expr, err, want)
		return
	}
	terms, ok := celConjuncts(toks)
	if !ok {
		report("has attributeCondition %q, which is not a conjunction: an || or ?: at its top level admits what any alternative admits; join terms with && only", expr)
		return
	}
	pins := repositoryPins(terms)
	if len(pins) == 0 {
		report("has attributeCondition %q, which does not pin assertion.repository by equality (repository_owner, !=, startsWith, matches or in admit other repositories); add the term assertion.repository == %q", expr, want)
		return
	}
	checkPins(report, r, pins, repo)
}

// repositoryPin is a term that pins the repository: root.repository == value.
type repositoryPin struct{ root, value string }

// repositoryPins returns the terms that pin the repository.
func repositoryPins(terms [][]celToken) []repositoryPin {
	var pins []repositoryPin
	for _, term := range terms {
		for _, root := range repositoryRoots {
			if v, ok := celPin(term, root, "repository"); ok {
				pins = append(pins, repositoryPin{root, v})
			}
		}
	}
	return pins
}

// checkPins reports pins of another repository than repo (when configured), of something that
// is not a repository, pins that contradict each other, and an attribute.repository that is
// not mapped from the token's repository claim.
func checkPins(report func(string, ...any), r policyx.AnalyzerResource, pins []repositoryPin, repo string) {
	var values []string
	for _, p := range pins {
		if p.root == "attribute" {
			m := get(r.Properties, "attributeMapping", "attribute.repository")
			if !m.Unknown && (!m.Set || !m.IsString() || strings.TrimSpace(m.AsString()) != "assertion.repository") {
				got := "nothing"
				if m.Set {
					got = show(m.Value)
				}
				report("pins attribute.repository in its attributeCondition, which attributeMapping maps from %s; it must map from assertion.repository", got)
			}
		}
		switch {
		case repo != "" && p.value != repo:
			report("pins %s.repository to %q in its attributeCondition; the repository is %q%s",
				p.root, p.value, repo, allowWith(PolicyWIFRepository, configGitHubRepository))
		case !spec.IsGitHubRepository(p.value):
			report("pins %s.repository to %q in its attributeCondition, which is not an owner/name repository", p.root, p.value)
		}
		if !slices.Contains(values, p.value) {
			values = append(values, p.value)
		}
	}
	if len(values) > 1 {
		report("pins the repository to each of %q in its attributeCondition, so it admits nothing; pin one", values)
	}
}

// wifPrincipalsOnly: a service account's IAM decides who can act as it; the foundation's
// accounts are for CI, which reaches them through the pool, so no person, group, domain or
// other account holds a role on one. The deployer changes the stack's resources: only a job in
// the stack's GitHub environment reaches it, never a pull request's workflow.
func wifPrincipalsOnly(stack string) policyx.ResourceValidationPolicy {
	return iamPolicy(PolicyWIFPrincipalsOnly,
		"Service accounts are reached only through Workload Identity Federation: their IAM names only principal:// subjects or principalSet:// groups and attribute values of pool "+
			spec.WorkloadIdentityPoolID+" (no user:, group:, domain:, serviceAccount: member, nor the whole pool), and "+spec.DeployerAccountID+
			" only the subject of a job in the stack's GitHub environment.",
		func(args policyx.ResourceValidationArgs, module, typeName string) {
			if module != "serviceaccount" || !isGrant(typeName) {
				return
			}
			deployer := targetsAccount(args.Resource, spec.DeployerAccountID)
			for _, b := range bindings(args.Resource) {
				for _, m := range b.members {
					if m.Unknown || !m.Set {
						continue
					}
					if msg := principalProblem(m, deployer, stack); msg != "" {
						args.Manager.ReportViolation(fmt.Sprintf("%s %q grants %s on a service account to %s; %s",
							typeName, args.Resource.Name, b.roleText(), b.memberText(m), msg), "")
					}
				}
			}
		})
}

// principalProblem says what is wrong with a member of a service account's IAM, or "".
func principalProblem(m value, deployer bool, stack string) string {
	pool, ok := "", m.IsString()
	if ok {
		pool, ok = spec.PoolPrincipalPool(m.AsString())
	}
	if !ok || pool != spec.WorkloadIdentityPoolID {
		return "only principal://iam.googleapis.com/projects/<number>/locations/global/workloadIdentityPools/" +
			spec.WorkloadIdentityPoolID + "/subject/... or principalSet://.../attribute.<name>/<value> members may"
	}
	if !deployer {
		return ""
	}
	env, known := spec.GitHubEnvironments[stack]
	_, got, ok := spec.ParseEnvironmentPrincipal(m.AsString())
	switch {
	case !ok && known:
		return fmt.Sprintf("the deployer is reached only by jobs in GitHub environment %q, the subject repo:<owner>/<name>:environment:%s (a pull request's workflow must never deploy)", env, env)
	case !ok:
		return "the deployer is reached only by jobs in a GitHub environment, the subject repo:<owner>/<name>:environment:<env> (a pull request's workflow must never deploy)"
	case known && got != env:
		return fmt.Sprintf("stack %q deploys from GitHub environment %q, not %q", stack, env, got)
	}
	return ""
}

// targetsAccount reports whether a service account IAM resource is on the account with id
// (serviceAccountId projects/<project>/serviceAccounts/<id>@<project>.iam.gserviceaccount.com).
func targetsAccount(r policyx.AnalyzerResource, id string) bool {
	name, ok := knownString(r.Properties, "serviceAccountId")
	if !ok {
		return false
	}
	got, _, ok := spec.ParseServiceAccountMember(spec.ServiceAccountMember(spec.LastSegment(name)))
	return ok && got == id
}
