package spec_test

import (
	"strings"
	"testing"

	"github.com/aiprod/aiprod-pubsub/spec"
)

func TestIsGitHubRepository(t *testing.T) {
	t.Parallel()
	cases := []struct {
		repo string
		ok   bool
	}{
		{"aiprod/aiprod-pubsub", true},
		{"a/b", true},
		{"A1-b2/.github", true},
		{"owner/name.with_dots-and_underscores", true},
		{"abcdefghijabcdefghijabcdefghijabcdefghi/x", true}, // a 39-character owner
		{"abcdefghijabcdefghijabcdefghijabcdefghij/x", false},
		{"aiprod-/x", true}, // as spec.CheckGitHubRepository, which the foundation's config uses
		{"a/" + strings.Repeat("x", 100), true},
		{"a/" + strings.Repeat("x", 101), false},
		{"a/..." + strings.Repeat("x", 97), true},
		{"a/.x", true},
		{"aiprod", false},
		{"aiprod/", false},
		{"/aiprod-pubsub", false},
		{"-aiprod/x", false},
		{"aiprod/aiprod-pubsub/extra", false},
		{"aiprod/.", false},
		{"aiprod/..", false},
		{"aiprod/a b", false},
		{"aiprod/*", false},
		{"", false},
	}
	for _, tc := range cases {
		t.Run(tc.repo, func(t *testing.T) {
			t.Parallel()
			if got := spec.IsGitHubRepository(tc.repo); got != tc.ok {
				t.Errorf("IsGitHubRepository(%q) = %v, want %v", tc.repo, got, tc.ok)
			}
		})
	}
}

func TestPoolPrincipalPool(t *testing.T) {
	t.Parallel()
	const pool = "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github"
	const set = "principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github"
	cases := []struct {
		member, pool string
	}{
		{pool + "/subject/repo:aiprod/aiprod-pubsub:environment:production", "github"},
		{set + "/attribute.repository/aiprod/aiprod-pubsub", "github"},
		{set + "/group/admins", "github"},
		{set + "/*", ""},
		{pool + "/attribute.repository/aiprod/aiprod-pubsub", ""},
		{set + "/subject/x", ""},
		{"principal://iam.googleapis.com/projects/p/locations/global/workloadIdentityPools/github/subject/x", ""},
		{"principal://iam.googleapis.com/locations/global/workforcePools/staff/subject/x", ""},
		{"user:someone@example.com", ""},
		{"serviceAccount:aiprod-sa@aiprod-dev-000000.iam.gserviceaccount.com", ""},
	}
	for _, tc := range cases {
		t.Run(tc.member, func(t *testing.T) {
			t.Parallel()
			got, ok := spec.PoolPrincipalPool(tc.member)
			if got != tc.pool || ok != (tc.pool != "") {
				t.Errorf("PoolPrincipalPool(%q) = %q, %v; want %q", tc.member, got, ok, tc.pool)
			}
		})
	}
}

func TestParseFoundationNames(t *testing.T) {
	t.Parallel()
	role := spec.CustomRoleName("aiprod-dev-000000", spec.PreviewRoleID)
	if p, id, ok := spec.ParseCustomRole(role); !ok || p != "aiprod-dev-000000" || id != spec.PreviewRoleID {
		t.Errorf("ParseCustomRole(%q) = %q, %q, %v", role, p, id, ok)
	}
	if _, _, ok := spec.ParseCustomRole("roles/pubsub.admin"); ok {
		t.Error("ParseCustomRole accepts a predefined role")
	}
	member := spec.ServiceAccountMember(spec.ServiceAccountEmail(spec.DeployerAccountID, "aiprod-prod-000000"))
	if id, p, ok := spec.ParseServiceAccountMember(member); !ok || id != spec.DeployerAccountID || p != "aiprod-prod-000000" {
		t.Errorf("ParseServiceAccountMember(%q) = %q, %q, %v", member, id, p, ok)
	}
	for _, m := range []string{"user:a@example.com", "serviceAccount:x@developer.gserviceaccount.com", "serviceAccount:x@p.iam.gserviceaccount.com.evil"} {
		if _, _, ok := spec.ParseServiceAccountMember(m); ok {
			t.Errorf("ParseServiceAccountMember(%q) is ok", m)
		}
	}
}

func TestParseEnvironmentPrincipal(t *testing.T) {
	t.Parallel()
	const pool = "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/subject/"
	cases := []struct {
		member, repo, env string
	}{
		{pool + "repo:aiprod/aiprod-pubsub:environment:production", "aiprod/aiprod-pubsub", "production"},
		{pool + "repo:aiprod/aiprod-pubsub:ref:refs/heads/main", "", ""},
		{pool + "repo:aiprod/aiprod-pubsub:pull_request", "", ""},
		{"principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/attribute.repository/aiprod/aiprod-pubsub", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.member, func(t *testing.T) {
			t.Parallel()
			repo, env, ok := spec.ParseEnvironmentPrincipal(tc.member)
			if repo != tc.repo || env != tc.env || ok != (tc.env != "") {
				t.Errorf("ParseEnvironmentPrincipal(%q) = %q, %q, %v", tc.member, repo, env, ok)
			}
		})
	}
}
