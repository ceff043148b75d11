package stacks_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/gcpmock"
	"github.com/aiprod/aiprod-pubsub/infra"
	"github.com/aiprod/aiprod-pubsub/inventory"
	"github.com/aiprod/aiprod-pubsub/offline"
	"github.com/aiprod/aiprod-pubsub/spec"
	"github.com/aiprod/aiprod-pubsub/stacks"
	"github.com/aiprod/aiprod-pubsub/testkit/golden"
)

const foundationDir = "../foundation"

// loadFoundation renders a foundation stack of the repository's own files.
func loadFoundation(t *testing.T, stack string, edit func(map[string]string)) *offline.Result {
	t.Helper()
	res, files, err := offline.Stack(foundationDir, stack, edit)
	require.NoError(t, err)
	require.Equal(t, spec.FoundationProject, files.Project, "the runner picks the program by the project's name")
	return res
}

// TestFoundationGoldenInventory compares each foundation stack's resources with
// testdata/foundation-<stack>.inventory.json; `go test ./stacks -update` rewrites them.
func TestFoundationGoldenInventory(t *testing.T) {
	t.Parallel()
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			res := loadFoundation(t, stack, nil)
			golden.File(t, "./stacks", filepath.Join("..", "testdata", "foundation-"+stack+".inventory.json"), inventoryJSON(t, res))
		})
	}
}

// TestFoundation checks what each foundation stack declares: never-disabled APIs, the service
// agent, a protected state bucket and secrets key, WIF for the repository alone, and one
// identity per kind of job with its own custom role.
func TestFoundation(t *testing.T) {
	t.Parallel()
	cases := []struct{ stack, project, env string }{
		{"dev", "aiprod-dev-000000", "dev"},
		{"prod", "aiprod-prod-000000", "production"},
	}
	for _, tc := range cases {
		t.Run(tc.stack, func(t *testing.T) {
			t.Parallel()
			res := loadFoundation(t, tc.stack, nil)
			comp := mustGet(t, res, spec.FoundationType, tc.stack)
			var services, serviceURNs []string
			for _, r := range res.ByType(spec.ProjectServiceType) {
				serviceURNs = append(serviceURNs, r.URN)
			}
			for _, r := range res.Resources {
				if r.Type != spec.FoundationType {
					assert.Equal(t, comp.URN, r.Parent, "%s: parent is the foundation", r.URN)
				}
				if r.Type == spec.ProjectServiceType {
					services = append(services, prop(r, "service").(string))
					assert.Equal(t, false, prop(r, "disableOnDestroy"), "%s: never disabled on destroy", r.URN)
					assert.Equal(t, false, prop(r, "disableDependentServices"), r.URN)
				} else if r.Custom {
					assert.Subset(t, r.Dependencies, serviceURNs, "%s waits for the APIs", r.URN)
				}
				assert.NotContains(t, []string{spec.ServiceAccountKeyType, spec.ProjectIAMBindingType, spec.ProjectIAMPolicyType,
					spec.BucketIAMBindingType, spec.BucketIAMPolicyType, spec.ServiceAccountIAMBindingType, spec.ServiceAccountIAMPolicyType,
					spec.CryptoKeyIAMBindingType, spec.CryptoKeyIAMPolicyType}, r.Type, "%s: no keys, nothing authoritative", r.URN)
				if m, ok := prop(r, "member").(string); ok {
					assert.False(t, strings.HasPrefix(m, "user:") || strings.HasPrefix(m, "group:"), "%s: no user members", r.URN)
				}
			}
			assert.ElementsMatch(t, []string{"pubsub.googleapis.com", "monitoring.googleapis.com", "iam.googleapis.com", "iamcredentials.googleapis.com",
				"sts.googleapis.com", "storage.googleapis.com", "cloudresourcemanager.googleapis.com", "cloudkms.googleapis.com"}, services)

			agent := mustGet(t, res, spec.ServiceIdentityType, "pubsub-service-agent")
			assert.Equal(t, spec.PubSubService, prop(agent, "service"))
			assert.Equal(t, spec.ServiceAgent(gcpmock.ProjectNumber(tc.project)), res.Outputs[spec.ServiceAgentOutput])

			checkStateBucket(t, res, tc.project, tc.stack)
			checkIdentities(t, res, tc.project, tc.env)
		})
	}
}

// checkStateBucket checks the state bucket's protection and the secrets key.
func checkStateBucket(t *testing.T, res *offline.Result, project, stack string) {
	t.Helper()
	b := mustGet(t, res, spec.BucketType, project+"-pulumi-state")
	assert.True(t, b.Protect, "%s: protected", b.URN)
	assert.Equal(t, false, prop(b, "forceDestroy"))
	assert.Equal(t, true, prop(b, "versioning.enabled"))
	assert.Equal(t, true, prop(b, "uniformBucketLevelAccess"))
	assert.Equal(t, "enforced", prop(b, "publicAccessPrevention"))
	assert.Equal(t, float64(7*24*3600), prop(b, "softDeletePolicy.retentionDurationSeconds"))
	assert.Equal(t, map[string]any{"type": "Delete"}, prop(b, "lifecycleRules[0].action"))
	assert.Equal(t, float64(30), prop(b, "lifecycleRules[0].condition.daysSinceNoncurrentTime"))
	assert.Equal(t, float64(spec.StateNewerVersions), prop(b, "lifecycleRules[0].condition.numNewerVersions"))
	assert.Equal(t, "ARCHIVED", prop(b, "lifecycleRules[0].condition.withState"), "only noncurrent versions are deleted")
	assert.Equal(t, map[string]any{"app": "aiprod", "component": "foundation", "env": stack, "managed-by": "pulumi"}, prop(b, "labels"))
	assert.Nil(t, prop(b, "encryption"), "Google-managed keys unless configured")
	assert.Equal(t, "gs://"+project+"-pulumi-state", res.Outputs[spec.BackendURLOutput])

	ring := mustGet(t, res, spec.KeyRingType, spec.SecretsKeyRingID)
	key := mustGet(t, res, spec.CryptoKeyType, spec.SecretsKeyID)
	assert.True(t, ring.Protect && key.Protect, "the secrets key ring and key are protected")
	assert.Equal(t, "7776000s", prop(key, "rotationPeriod"))
	assert.Equal(t, ring.ID, prop(key, "keyRing"))
	assert.Equal(t, "gcpkms://projects/"+project+"/locations/global/keyRings/aiprod-pulumi/cryptoKeys/stack-secrets", res.Outputs[spec.SecretsProviderOutput])
}

// checkIdentities checks WIF and who may impersonate which identity with which role.
func checkIdentities(t *testing.T, res *offline.Result, project, env string) {
	t.Helper()
	number := gcpmock.ProjectNumber(project)
	pool := "projects/" + number + "/locations/global/workloadIdentityPools/github"
	provider := mustGet(t, res, spec.WorkloadIdentityPoolProviderType, spec.WorkloadIdentityProviderID)
	assert.Equal(t, spec.GitHubIssuer, prop(provider, "oidc.issuerUri"))
	assert.Equal(t, `assertion.repository == "aiprod/aiprod-pubsub" && (!assertion.sub.startsWith("repo:aiprod/aiprod-pubsub:environment:") || assertion.ref == "refs/heads/main")`,
		prop(provider, "attributeCondition"))
	assert.Equal(t, "assertion.sub", prop(provider, "attributeMapping[\"google.subject\"]"))
	assert.Equal(t, pool+"/providers/github-actions", res.Outputs[spec.WorkloadIdentityProviderOutput])
	for _, r := range append(res.ByType(spec.ServiceAccountType), provider, mustGet(t, res, spec.WorkloadIdentityPoolType, spec.WorkloadIdentityPoolID)) {
		assert.True(t, r.Protect, "%s: CI stops without it: protected", r.URN)
	}
	assert.Len(t, res.ByType(spec.ServiceAccountType), 2)

	who := map[string]string{
		spec.PreviewAccountID:  "principalSet://iam.googleapis.com/" + pool + "/attribute.repository/aiprod/aiprod-pubsub",
		spec.DeployerAccountID: "principal://iam.googleapis.com/" + pool + "/subject/repo:aiprod/aiprod-pubsub:environment:" + env,
	}
	roles := map[string][]string{spec.PreviewAccountID: spec.PreviewPermissions(), spec.DeployerAccountID: spec.DeployerPermissions()}
	roleIDs := map[string]string{spec.PreviewAccountID: spec.PreviewRoleID, spec.DeployerAccountID: spec.DeployerRoleID}
	for acct, principal := range who {
		email := acct + "@" + project + ".iam.gserviceaccount.com"
		members := res.ByType(spec.ServiceAccountIAMMemberType)
		i := slices.IndexFunc(members, func(m inventory.Resource) bool {
			return prop(m, "serviceAccountId") == "projects/"+project+"/serviceAccounts/"+email
		})
		require.GreaterOrEqual(t, i, 0, "%s is reachable through WIF", acct)
		assert.Equal(t, principal, prop(members[i], "member"), "%s: who may impersonate it", acct)
		assert.Equal(t, "roles/iam.workloadIdentityUser", prop(members[i], "role"))

		role := mustGet(t, res, spec.ProjectCustomRoleType, roleIDs[acct])
		assert.Equal(t, toAny(roles[acct]), prop(role, "permissions"), "%s: the role comes from the permission table", role.URN)
		grant := mustGet(t, res, spec.ProjectIAMMemberType, roleIDs[acct]+"-"+acct)
		assert.Equal(t, "projects/"+project+"/roles/"+roleIDs[acct], prop(grant, "role"))
		assert.Equal(t, "serviceAccount:"+email, prop(grant, "member"), "%s: granted to its own account only", grant.URN)
	}
	assert.Len(t, res.ByType(spec.ProjectIAMMemberType), 2, "no other project-level grant")
	assert.Equal(t, "aiprod-preview@"+project+".iam.gserviceaccount.com", res.Outputs[spec.PreviewAccountOutput])
	assert.Equal(t, "aiprod-deployer@"+project+".iam.gserviceaccount.com", res.Outputs[spec.DeployerAccountOutput])
	checkStateGrants(t, res, project)
}

// toAny converts strings to the values a property map reads as.
func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// checkStateGrants checks the bucket and key grants: the deployer writes state and encrypts,
// the preview reads state, takes the backend's lock only, and decrypts.
func checkStateGrants(t *testing.T, res *offline.Result, project string) {
	t.Helper()
	bucket := project + "-pulumi-state"
	type grant struct{ role, member, condition string }
	var got []grant
	for _, r := range res.ByType(spec.BucketIAMMemberType) {
		assert.Equal(t, bucket, prop(r, "bucket"), r.URN)
		c, _ := prop(r, "condition.expression").(string)
		got = append(got, grant{prop(r, "role").(string), prop(r, "member").(string), c})
	}
	preview := "serviceAccount:aiprod-preview@" + project + ".iam.gserviceaccount.com"
	deployer := "serviceAccount:aiprod-deployer@" + project + ".iam.gserviceaccount.com"
	assert.ElementsMatch(t, []grant{
		{"roles/storage.objectUser", deployer, ""},
		{"roles/storage.objectViewer", preview, ""},
		{"roles/storage.objectUser", preview, `resource.name.startsWith("projects/_/buckets/` + bucket + `/objects/.pulumi/locks/")`},
	}, got)
	keys := map[string]string{}
	for _, r := range res.ByType(spec.CryptoKeyIAMMemberType) {
		assert.Equal(t, spec.SecretsKeyName(project), prop(r, "cryptoKeyId"), r.URN)
		keys[prop(r, "member").(string)] = prop(r, "role").(string)
	}
	assert.Equal(t, map[string]string{deployer: "roles/cloudkms.cryptoKeyEncrypterDecrypter", preview: "roles/cloudkms.cryptoKeyDecrypter"}, keys)
}

// TestFoundationGitHubVariables: the printed commands store every value the workflows read,
// the deployer's in the stack's environment, the preview's in the repository by stack.
func TestFoundationGitHubVariables(t *testing.T) {
	t.Parallel()
	res := loadFoundation(t, "prod", nil)
	p := "aiprod-prod-000000"
	provider := "projects/" + gcpmock.ProjectNumber(p) + "/locations/global/workloadIdentityPools/github/providers/github-actions"
	want := strings.Join([]string{
		"gh variable set GCP_WORKLOAD_IDENTITY_PROVIDER --repo aiprod/aiprod-pubsub --env production --body " + provider,
		"gh variable set GCP_DEPLOYER_SERVICE_ACCOUNT --repo aiprod/aiprod-pubsub --env production --body aiprod-deployer@" + p + ".iam.gserviceaccount.com",
		"gh variable set PULUMI_BACKEND_URL --repo aiprod/aiprod-pubsub --env production --body gs://" + p + "-pulumi-state",
		"gh variable set GCP_WORKLOAD_IDENTITY_PROVIDER_PROD --repo aiprod/aiprod-pubsub --body " + provider,
		"gh variable set GCP_PREVIEW_SERVICE_ACCOUNT_PROD --repo aiprod/aiprod-pubsub --body aiprod-preview@" + p + ".iam.gserviceaccount.com",
		"gh variable set PULUMI_BACKEND_URL_PROD --repo aiprod/aiprod-pubsub --body gs://" + p + "-pulumi-state",
	}, "\n") + "\n"
	assert.Equal(t, want, res.Outputs[spec.GitHubVariablesOutput])
}

// TestFoundationOffline: offline, every value that holds the project's number is unknown, as
// before a deploy; the rest is known.
func TestFoundationOffline(t *testing.T) {
	t.Parallel()
	res := loadFoundation(t, "dev", nil)
	off := res.Offline()
	for _, k := range []string{spec.ServiceAgentOutput, spec.WorkloadIdentityProviderOutput, spec.GitHubVariablesOutput} {
		assert.Equal(t, spec.Unknown, off.Outputs[k], k)
	}
	assert.Equal(t, res.Outputs[spec.BackendURLOutput], off.Outputs[spec.BackendURLOutput])
	n := gcpmock.ProjectNumber("aiprod-dev-000000")
	for _, r := range off.Resources {
		assert.NotContains(t, fmt.Sprint(r.Inputs.Mappable(), r.Outputs.Mappable(), r.ID), n, r.URN)
	}
}

// TestFoundationConfig: a bad foundation config is refused whole, every problem naming the key,
// its value and what is allowed, before any resource is registered.
func TestFoundationConfig(t *testing.T) {
	t.Parallel()
	ns := func(k string) string { return stacks.FoundationNamespace + ":" + k }
	cases := []struct {
		name, key, value string
		del              bool
		want             string
	}{
		{"no repository", ns("githubRepository"), "", true, `aiprod-foundation:githubRepository is ""; must be a GitHub repository as owner/name`},
		{"repository without owner", ns("githubRepository"), "aiprod-pubsub", false, `aiprod-foundation:githubRepository is "aiprod-pubsub"; must be a GitHub repository as owner/name`},
		{"repository as a URL", ns("githubRepository"), "https://github.com/aiprod/aiprod-pubsub", false, `githubRepository is "https://github.com/aiprod/aiprod-pubsub"; must be`},
		{"bad state key", ns("stateKmsKeyName"), "my-key", false, `aiprod-foundation:stateKmsKeyName is "my-key"; must be projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>, or empty`},
		{"empty location", ns("stateLocation"), " ", false, `aiprod-foundation:stateLocation is " "; must be a Cloud Storage location`},
		{"typo of a key", ns("githubRepsitory"), "a/b", false, `aiprod-foundation:githubRepsitory is "a/b"; not a known key of aiprod-foundation (did you mean aiprod-foundation:githubRepository?)`},
		{"pipeline key in the foundation", "aiprod-pubsub:protect", "true", false, `aiprod-pubsub:protect is "true"; not a key of a known namespace (aiprod-foundation, gcp, pulumi)`},
		{"no project", "gcp:project", "", true, `gcp:project is ""; must be set to the GCP project id`},
		{"bad project", "gcp:project", "P", false, `gcp:project is "P"; must be a GCP project id`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, _, err := offline.Stack(foundationDir, "dev", func(v map[string]string) {
				if tc.del {
					delete(v, tc.key)
				} else {
					v[tc.key] = tc.value
				}
			})
			require.Error(t, err)
			var cfgErr *stacks.Error
			require.True(t, errors.As(err, &cfgErr), "a config error, not %T: %v", err, err)
			assert.Contains(t, err.Error(), tc.want)
			assert.Equal(t, 1, strings.Count(err.Error(), tc.key+" is "), "reported once: %v", err)
			assert.Empty(t, res.Resources, "nothing is registered")
		})
	}
	t.Run("a stack without a GitHub environment", func(t *testing.T) {
		t.Parallel()
		files, err := offline.Load(foundationDir, "dev", "")
		require.NoError(t, err)
		res, err := offline.Program(files.Project, "staging", files.Config)
		require.ErrorContains(t, err, `stack is "staging"; must be a stack with a GitHub environment: dev (dev), prod (production)`)
		assert.Empty(t, res.Resources)
	})
	t.Run("every problem at once, and secrets refused", func(t *testing.T) {
		t.Parallel()
		_, err := stacks.ParseFoundation("dev", stacks.Raw{Values: map[string]string{
			"gcp:project": "aiprod-dev-000000", ns("githubRepository"): "nope", ns("stateKmsKeyName"): "k", ns("stateLocation"): "EU",
		}, Secret: []string{ns("stateLocation")}})
		require.Error(t, err)
		assert.Len(t, err.(*stacks.Error).Problems, 3, "%v", err)
		assert.Contains(t, err.Error(), `aiprod-foundation:stateLocation is "[secret]"; must not be a secret`)
	})
}

// TestFoundationCMEK: a configured key encrypts the state bucket.
func TestFoundationCMEK(t *testing.T) {
	t.Parallel()
	key := "projects/aiprod-dev-000000/locations/us/keyRings/state/cryptoKeys/state"
	res := loadFoundation(t, "dev", func(v map[string]string) { v["aiprod-foundation:stateKmsKeyName"] = key })
	b := mustGet(t, res, spec.BucketType, "aiprod-dev-000000-pulumi-state")
	assert.Equal(t, key, prop(b, "encryption.defaultKmsKeyName"))
}

// TestFoundationPulumiYAML keeps foundation/Pulumi.yaml's declared config equal to the
// foundation's keys, and its defaults to the arguments' defaults.
func TestFoundationPulumiYAML(t *testing.T) {
	t.Parallel()
	files, err := offline.Load(foundationDir, "dev", "")
	require.NoError(t, err)
	var keys, declared []string
	for _, k := range stacks.FoundationKeys {
		keys = append(keys, stacks.FoundationNamespace+":"+k.Name)
		decl := files.Declared[stacks.FoundationNamespace+":"+k.Name]
		assert.Equal(t, "string", decl.TypeName(), k.Name)
		assert.NotEmpty(t, decl.Description, k.Name)
	}
	for k := range files.Declared {
		declared = append(declared, k)
	}
	assert.ElementsMatch(t, keys, declared, "foundation/Pulumi.yaml declares exactly the foundation's keys")
	assert.Equal(t, spec.DefaultStateLocation, files.Declared["aiprod-foundation:stateLocation"].Default)
	assert.Nil(t, files.Declared["aiprod-foundation:githubRepository"].Default, "the repository has no default: it must be set")
}

// TestFoundationProgramRunners: the foundation's program reads its config from the context,
// as an inline program receives it, and under pulumi-language-go refuses a key it does not
// read, a pipeline key included.
func TestFoundationProgramRunners(t *testing.T) {
	t.Setenv(pulumi.EnvConfig, "")
	t.Setenv(pulumi.EnvConfigSecretKeys, "")
	want, files, err := offline.Stack(foundationDir, "dev", nil)
	require.NoError(t, err)
	run := func(raw stacks.Raw) (*offline.Result, error) {
		return offline.Run(spec.FoundationProject, "dev", &raw, func(ctx *pulumi.Context) (pulumi.Map, error) {
			return pulumi.Map{}, stacks.FoundationProgram(ctx)
		})
	}
	got, err := run(files.Config)
	require.NoError(t, err)
	require.Len(t, got.Resources, len(want.Resources))
	for i, r := range got.Resources {
		assert.Equal(t, want.Resources[i].Inputs, r.Inputs, r.URN)
	}

	t.Setenv(pulumi.EnvConfig, `{"gcp:project":"aiprod-dev-000000","aiprod-foundation:githubRepository":"a/b","aiprod-pubsub:foundationStack":"x"}`)
	res, err := run(stacks.Raw{Values: map[string]string{"gcp:project": "aiprod-dev-000000", "aiprod-foundation:githubRepository": "a/b"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `aiprod-pubsub:foundationStack is "x"; not a key of a known namespace (aiprod-foundation, gcp, pulumi)`)
	assert.Empty(t, res.Resources, "nothing is registered")
}

// TestNewFoundationRejectsBadArgs: a caller of infra gets every problem by field name before
// anything is registered.
func TestNewFoundationRejectsBadArgs(t *testing.T) {
	t.Parallel()
	res, err := offline.Run(spec.FoundationProject, "dev", nil, func(ctx *pulumi.Context) (pulumi.Map, error) {
		_, err := infra.NewFoundation(ctx, infra.FoundationArgs{Project: "P", Stack: "qa", GitHubRepository: "x", StateKMSKeyName: "k"})
		return nil, err
	})
	require.Error(t, err)
	for _, want := range []string{`Project is "P"`, `Stack is "qa"`, `GitHubRepository is "x"`, `StateKMSKeyName is "k"`} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Empty(t, res.Resources, "nothing is registered")
}
