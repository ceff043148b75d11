package rules

import (
	"cmp"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/spec"
	"github.com/aiprod/aiprod-pubsub/testkit"
)

// The foundation as the engine would send it: the pack is tested without the foundation's
// program, on every resource the foundation declares, every value right.

const (
	testNumber     = "123456789012"
	testRepository = "aiprod/aiprod-pubsub"
	testPool       = "projects/" + testNumber + "/locations/global/workloadIdentityPools/" + spec.WorkloadIdentityPoolID
	testBucket     = testProject + "-pulumi-state"
	typeBucket     = spec.BucketType
	typeProvider   = spec.WorkloadIdentityPoolProviderType
	typeProjectIAM = spec.ProjectIAMMemberType
	typeSAIAM      = spec.ServiceAccountIAMMemberType
	// The fixture's resource names.
	stateBucket     = "state"
	githubProvider  = "github-actions"
	previewGrant    = "preview-project-role"
	deployerGrant   = "deployer-project-role"
	previewWIF      = "preview-wif"
	deployerWIF     = "deployer-wif"
	goodCondition   = "assertion.repository == '" + testRepository + "'"
	principalPrefix = "principal://iam.googleapis.com/" + testPool
	principalSetPfx = "principalSet://iam.googleapis.com/" + testPool
)

// foundationURN is a URN of a resource of the foundation's project: the component, or a child
// of it.
func foundationURN(stack, typ, name string) string {
	if typ == spec.FoundationType {
		return fmt.Sprintf("urn:pulumi:%s::%s::%s::%s", stack, spec.FoundationProject, typ, name)
	}
	return fmt.Sprintf("urn:pulumi:%s::%s::%s$%s::%s", stack, spec.FoundationProject, spec.FoundationType, typ, name)
}

func newFoundationResource(stack, typ, name string, props map[string]any) policyx.AnalyzerResource {
	r := policyx.AnalyzerResource{Type: typ, Name: name, URN: foundationURN(stack, typ, name), Properties: testkit.Value(props).AsMap()}
	if typ != spec.FoundationType {
		r.Parent = foundationURN(stack, spec.FoundationType, "foundation")
	}
	return r
}

// accountMember is a foundation identity as an IAM member.
func accountMember(id string) string {
	return spec.ServiceAccountMember(spec.ServiceAccountEmail(id, testProject))
}

// foundationFixture is the foundation's stack as its program would register it, every value
// right; in prod the state bucket, the key and the accounts are protected.
func foundationFixture(stack string) []policyx.AnalyzerResource {
	res := func(typ, name string, props map[string]any) policyx.AnalyzerResource {
		if _, ok := props["project"]; !ok && typ != spec.FoundationType {
			props["project"] = testProject
		}
		return newFoundationResource(stack, typ, name, props)
	}
	labels := map[string]any{"app": "aiprod", "env": stack, "managed-by": "pulumi"}
	rs := []policyx.AnalyzerResource{res(spec.FoundationType, "foundation", map[string]any{})}
	for _, api := range []string{"pubsub", "iam", "iamcredentials", "sts", "cloudkms", "storage", "monitoring", "cloudresourcemanager"} {
		rs = append(rs, res(spec.ProjectServiceType, api, map[string]any{"service": api + ".googleapis.com", "disableOnDestroy": false}))
	}
	keyRing := spec.ProjectName(testProject) + "/locations/europe-west1/keyRings/" + spec.SecretsKeyRingID
	rs = append(rs,
		res(spec.ServiceIdentityType, "pubsub-agent", map[string]any{"service": "pubsub.googleapis.com"}),
		res(typeBucket, stateBucket, map[string]any{"name": testBucket, "location": "EU", "labels": labels,
			"versioning": map[string]any{"enabled": true}, "publicAccessPrevention": "enforced", "uniformBucketLevelAccess": true,
			"softDeletePolicy": map[string]any{"retentionDurationSeconds": 604800}}),
		res(spec.KeyRingType, "secrets-ring", map[string]any{"name": spec.SecretsKeyRingID, "location": "europe-west1"}),
		res(spec.CryptoKeyType, "secrets-key", map[string]any{"name": spec.SecretsKeyID, "keyRing": keyRing, "labels": labels}),
		res(spec.WorkloadIdentityPoolType, "github", map[string]any{"workloadIdentityPoolId": spec.WorkloadIdentityPoolID}),
		res(typeProvider, githubProvider, map[string]any{
			"workloadIdentityPoolId": spec.WorkloadIdentityPoolID, "workloadIdentityPoolProviderId": spec.WorkloadIdentityProviderID,
			"attributeMapping": map[string]any{"google.subject": "assertion.sub", "attribute.repository": "assertion.repository",
				"attribute.environment": "assertion.environment", "attribute.ref": "assertion.ref"},
			"attributeCondition": goodCondition,
			"oidc":               map[string]any{"issuerUri": spec.GitHubIssuer},
		}),
	)
	for _, id := range []string{spec.PreviewAccountID, spec.DeployerAccountID} {
		who := id[len("aiprod-"):]
		email := spec.ServiceAccountEmail(id, testProject)
		rs = append(rs,
			res(spec.ServiceAccountType, id, map[string]any{"accountId": id}),
			res(spec.ProjectCustomRoleType, who+"-role", map[string]any{"roleId": spec.FoundationAccountRoles[id], "title": id,
				"permissions": []string{"pubsub.topics.get"}}),
			res(typeProjectIAM, who+"-project-role", map[string]any{"role": spec.CustomRoleName(testProject, spec.FoundationAccountRoles[id]), "member": accountMember(id)}),
			res(spec.BucketIAMMemberType, who+"-state", map[string]any{"bucket": testBucket, "role": "roles/storage.objectUser", "member": accountMember(id)}),
			res(spec.CryptoKeyIAMMemberType, who+"-secrets", map[string]any{"cryptoKeyId": keyRing + "/cryptoKeys/" + spec.SecretsKeyID,
				"role": "roles/cloudkms.cryptoKeyEncrypterDecrypter", "member": accountMember(id)}),
		)
		member := principalSetPfx + "/attribute.repository/" + testRepository
		if id == spec.DeployerAccountID {
			member = principalPrefix + "/subject/repo:" + testRepository + ":environment:" + cmp.Or(spec.GitHubEnvironments[stack], stack)
		}
		rs = append(rs, res(typeSAIAM, who+"-wif", map[string]any{"serviceAccountId": spec.ServiceAccountName(testProject, email),
			"role": spec.RoleWorkloadIdentityUser, "member": member}))
	}
	if stack == "prod" {
		for i := range rs {
			if slices.Contains(protectedTypes, rs[i].Type) {
				rs[i].Options = pulumi.ResourceOptions{Protect: true}
			}
		}
	}
	return rs
}

// foundationConfig is the foundation stack's checked-in policy config.
func foundationConfig(t *testing.T, stack string) map[string]policyx.PolicyConfig {
	t.Helper()
	cfg, err := LoadConfig(filepath.Join("..", "..", "foundation", "policy", "config", stack+".json"))
	require.NoError(t, err, stack)
	return cfg
}

// TestFoundationPassesEveryPolicy: the pack is one binary for both projects; on the foundation,
// with the defaults and with its checked-in policy config, no rule fires, the pipeline's
// included.
func TestFoundationPassesEveryPolicy(t *testing.T) {
	t.Parallel()
	for _, stack := range []string{"dev", "prod", "staging"} {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			vs, err := Evaluate(stack, foundationFixture(stack), nil)
			require.NoError(t, err)
			assert.Empty(t, vs)
		})
	}
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack+" with its policy config", func(t *testing.T) {
			t.Parallel()
			vs, err := Evaluate(stack, foundationFixture(stack), foundationConfig(t, stack))
			require.NoError(t, err)
			assert.Empty(t, vs)
		})
	}
}

// TestTheProjectDecidesWhoHoldsProjectIAM: the foundation's resources, foundation component
// and all, registered by a stack of another project are judged as a pipeline stack's: its
// project-level grants and custom roles fail iam-additive-only, and iam-project-custom-roles,
// the foundation's rule, says nothing.
func TestTheProjectDecidesWhoHoldsProjectIAM(t *testing.T) {
	t.Parallel()
	rs := foundationFixture("dev")
	for i := range rs {
		rs[i].URN = strings.Replace(rs[i].URN, "::"+spec.FoundationProject+"::", "::aiprod-pubsub::", 1)
		rs[i].Parent = strings.Replace(rs[i].Parent, "::"+spec.FoundationProject+"::", "::aiprod-pubsub::", 1)
	}
	vs, err := Evaluate("dev", rs, nil)
	require.NoError(t, err)
	var flagged []string
	for _, v := range vs {
		assert.Equal(t, PolicyAdditiveOnly, v.PolicyName, v.Message)
		assert.Contains(t, v.Message, "which a pipeline stack never holds")
		flagged = append(flagged, v.URN[strings.LastIndex(v.URN, "::")+2:])
	}
	assert.ElementsMatch(t, []string{previewGrant, deployerGrant, "preview-role", "deployer-role"}, flagged)
}
