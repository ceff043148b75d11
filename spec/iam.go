package spec

import (
	"regexp"
	"strings"
)

// GCP's IAM, storage and GitHub facts that the foundation's resources and the pack's rules on
// them share.

// BasicRoles are GCP's basic roles: each one reaches every service of the project.
var BasicRoles = []string{"roles/owner", "roles/editor", "roles/viewer"}

// FoundationAccountRoles is the one custom role each foundation identity holds on its project.
var FoundationAccountRoles = map[string]string{
	PreviewAccountID:  PreviewRoleID,
	DeployerAccountID: DeployerRoleID,
}

var customRoleRE = regexp.MustCompile(`^projects/([^/]+)/roles/([^/]+)$`)

// ParseCustomRole reads a project custom role's full name.
func ParseCustomRole(role string) (project, id string, ok bool) {
	m := customRoleRE.FindStringSubmatch(role)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

var serviceAccountMemberRE = regexp.MustCompile(`^serviceAccount:([a-z][a-z0-9-]*)@([a-z][a-z0-9-]*)\.iam\.gserviceaccount\.com$`)

// ParseServiceAccountMember reads a member serviceAccount:<id>@<project>.iam.gserviceaccount.com,
// the form of a service account that a project created; ok is false for any other member.
func ParseServiceAccountMember(member string) (id, project string, ok bool) {
	m := serviceAccountMemberRE.FindStringSubmatch(member)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// poolPrincipalRE matches the members that name identities of a workload identity pool: one
// subject (principal://.../subject/<s>), or those sharing a group or a mapped attribute
// (principalSet://.../group/<g>, .../attribute.<name>/<value>). The whole pool
// (principalSet://.../*) is not among them.
var poolPrincipalRE = regexp.MustCompile(`^(?:principal://iam\.googleapis\.com/projects/[0-9]+/locations/global/workloadIdentityPools/([a-z0-9-]+)/subject/.+|` +
	`principalSet://iam\.googleapis\.com/projects/[0-9]+/locations/global/workloadIdentityPools/([a-z0-9-]+)/(?:group/.+|attribute\.[a-z0-9_]+/.+))$`)

// PoolPrincipalPool is the pool of a member that names a subject, a group or an attribute
// value of a workload identity pool; ok is false for any other member.
func PoolPrincipalPool(member string) (pool string, ok bool) {
	m := poolPrincipalRE.FindStringSubmatch(member)
	if m == nil {
		return "", false
	}
	return m[1] + m[2], true
}

var environmentPrincipalRE = regexp.MustCompile(`^principal://iam\.googleapis\.com/projects/[0-9]+/locations/global/workloadIdentityPools/[a-z0-9-]+/subject/repo:([^:]+):environment:([^:]+)$`)

// ParseEnvironmentPrincipal reads the member that names the jobs of repository in a GitHub
// environment: the pool subject repo:<owner/name>:environment:<env>, GitHub's subject claim for
// a job that runs in an environment.
func ParseEnvironmentPrincipal(member string) (repository, environment string, ok bool) {
	m := environmentPrincipalRE.FindStringSubmatch(member)
	if m == nil {
		return "", "", false
	}
	return m[1], m[2], true
}

// GitHubRepositoryPattern is an owner/name GitHub repository: an owner of 1..39 letters, digits
// and hyphens, not starting with a hyphen, and a name of 1..100 letters, digits, '.', '_' and
// '-' other than "." and "..". It is a JSON schema pattern as well as a Go one.
const GitHubRepositoryPattern = `^[A-Za-z0-9][A-Za-z0-9-]{0,38}/(?:[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}|\.[A-Za-z0-9_-][A-Za-z0-9._-]{0,98}|\.\.[A-Za-z0-9._-]{1,98})$`

var gitHubRepositoryRE = regexp.MustCompile(GitHubRepositoryPattern)

// IsGitHubRepository reports whether s is an owner/name GitHub repository.
func IsGitHubRepository(s string) bool { return gitHubRepositoryRE.MatchString(s) }

// IsGitHubIssuer reports whether uri is GitHub Actions' OIDC issuer (GCP takes it with or without
// a trailing slash).
func IsGitHubIssuer(uri string) bool { return strings.TrimSuffix(uri, "/") == GitHubIssuer }

// Cloud Storage facts.
const (
	// PublicAccessPreventionEnforced is the bucket setting that refuses every public grant.
	PublicAccessPreventionEnforced = "enforced"
)

// SoftDeleteRetentionRange is the retention GCP accepts for a bucket's soft delete policy: 7 to
// 90 days; 0 turns soft delete off.
var SoftDeleteRetentionRange = Range{7 * 24 * 3600, 90 * 24 * 3600}
