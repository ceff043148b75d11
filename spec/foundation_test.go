package spec_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aiprod/aiprod-pubsub/spec"
)

func ExampleEnvironmentPrincipal() {
	pool := spec.WorkloadIdentityPoolName("123456789012", spec.WorkloadIdentityPoolID)
	fmt.Println(spec.EnvironmentPrincipal(pool, "aiprod/aiprod-pubsub", spec.GitHubEnvironments["prod"]))
	fmt.Println(spec.RepositoryPrincipalSet(pool, "aiprod/aiprod-pubsub"))
	// Output:
	// principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/subject/repo:aiprod/aiprod-pubsub:environment:production
	// principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/attribute.repository/aiprod/aiprod-pubsub
}

func TestCheckGitHubRepository(t *testing.T) {
	t.Parallel()
	cases := []struct {
		repo string
		ok   bool
	}{
		{"aiprod/aiprod-pubsub", true},
		{"Some-Org/repo.name_2", true},
		{"aiprod-pubsub", false},
		{"aiprod/aiprod-pubsub/extra", false},
		{"https://github.com/aiprod/aiprod-pubsub", false},
		{"-org/repo", false},
		{"org/..", false},
		{`org/repo" || true || "`, false}, // the condition quotes it: nothing may break out
		{"", false},
	}
	for _, tc := range cases {
		t.Run(tc.repo, func(t *testing.T) {
			t.Parallel()
			if err := spec.CheckGitHubRepository(tc.repo); (err == nil) != tc.ok {
				t.Errorf("CheckGitHubRepository(%q) = %v; want ok %v", tc.repo, err, tc.ok)
			}
		})
	}
}

func TestCheckStackReference(t *testing.T) {
	t.Parallel()
	cases := []struct {
		ref string
		ok  bool
	}{
		{"organization/aiprod-foundation/dev", true},
		{"acme/aiprod-foundation/prod", true},
		{"organization/aiprod-pubsub/dev", false},
		{"aiprod-foundation/dev", false},
		{"dev", false},
		{"organization/aiprod-foundation/", false},
	}
	for _, tc := range cases {
		t.Run(tc.ref, func(t *testing.T) {
			t.Parallel()
			if err := spec.CheckStackReference(tc.ref); (err == nil) != tc.ok {
				t.Errorf("CheckStackReference(%q) = %v; want ok %v", tc.ref, err, tc.ok)
			}
		})
	}
}

// TestGitHubAttributeCondition: the condition names the repository, and only the subject, which
// every token has, decides whether the job runs in an environment.
func TestGitHubAttributeCondition(t *testing.T) {
	t.Parallel()
	c := spec.GitHubAttributeCondition("aiprod/aiprod-pubsub")
	for _, want := range []string{`assertion.repository == "aiprod/aiprod-pubsub"`, `assertion.sub.startsWith("repo:aiprod/aiprod-pubsub:environment:")`, `assertion.ref == "refs/heads/main"`} {
		if !strings.Contains(c, want) {
			t.Errorf("condition %q lacks %q", c, want)
		}
	}
	if strings.Contains(c, "assertion.environment") {
		t.Errorf("condition %q reads the environment claim, which jobs without an environment lack", c)
	}
}

func TestSecretsProvider(t *testing.T) {
	t.Parallel()
	got := spec.SecretsProvider(spec.SecretsKeyName("aiprod-dev-000000"))
	want := "gcpkms://projects/aiprod-dev-000000/locations/global/keyRings/aiprod-pulumi/cryptoKeys/stack-secrets"
	if got != want {
		t.Errorf("SecretsProvider = %q; want %q", got, want)
	}
}

func TestFoundationServices(t *testing.T) {
	t.Parallel()
	for _, svc := range []string{"pubsub", "monitoring", "iam", "iamcredentials", "sts", "storage", "cloudresourcemanager", "cloudkms"} {
		if !slices.Contains(spec.FoundationServices, svc+".googleapis.com") {
			t.Errorf("FoundationServices lacks %s.googleapis.com", svc)
		}
	}
}
