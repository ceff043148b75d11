package spec

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// The foundation: what the pipeline stacks stand on, declared by the Pulumi project in
// foundation/ (one stack per GCP project: dev, prod). A person runs it once with their own
// credentials; from then on CI changes the pipeline stacks with the identities it declares.

// Type tokens of the foundation's resources, as the engine sees them.
const (
	FoundationType                   = "aiprod:foundation:Foundation"
	ProjectServiceType               = "gcp:projects/service:Service"
	ServiceIdentityType              = "gcp:projects/serviceIdentity:ServiceIdentity"
	BucketType                       = "gcp:storage/bucket:Bucket"
	BucketIAMMemberType              = "gcp:storage/bucketIAMMember:BucketIAMMember"
	BucketIAMBindingType             = "gcp:storage/bucketIAMBinding:BucketIAMBinding"
	BucketIAMPolicyType              = "gcp:storage/bucketIAMPolicy:BucketIAMPolicy"
	KeyRingType                      = "gcp:kms/keyRing:KeyRing"
	CryptoKeyType                    = "gcp:kms/cryptoKey:CryptoKey"
	CryptoKeyIAMBindingType          = "gcp:kms/cryptoKeyIAMBinding:CryptoKeyIAMBinding"
	CryptoKeyIAMPolicyType           = "gcp:kms/cryptoKeyIAMPolicy:CryptoKeyIAMPolicy"
	WorkloadIdentityPoolType         = "gcp:iam/workloadIdentityPool:WorkloadIdentityPool"
	WorkloadIdentityPoolProviderType = "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider"
	ProjectCustomRoleType            = "gcp:projects/iAMCustomRole:IAMCustomRole"
	ProjectIAMMemberType             = "gcp:projects/iAMMember:IAMMember"
	ProjectIAMBindingType            = "gcp:projects/iAMBinding:IAMBinding"
	ProjectIAMPolicyType             = "gcp:projects/iAMPolicy:IAMPolicy"
	ServiceAccountIAMMemberType      = "gcp:serviceaccount/iAMMember:IAMMember"
	ServiceAccountIAMBindingType     = "gcp:serviceaccount/iAMBinding:IAMBinding"
	ServiceAccountIAMPolicyType      = "gcp:serviceaccount/iAMPolicy:IAMPolicy"
	StackReferenceType               = "pulumi:pulumi:StackReference"
)

// FoundationProject is the foundation's Pulumi project name; its stacks are named like the
// pipeline's (dev, prod), one per GCP project.
const FoundationProject = "aiprod-foundation"

// FoundationComponent is the component label of the foundation's labelled resources, as a
// pipeline's name is of its queues.
const FoundationComponent = "foundation"

// The foundation's identities: one service account per kind of CI job. Their account ids are
// <id>@<project>.iam.gserviceaccount.com in the stack's project.
const (
	// PreviewAccountID runs pull-request previews and drift checks: it reads the stack's
	// resources and state and decrypts its secrets; it changes nothing.
	PreviewAccountID = "aiprod-preview"
	// DeployerAccountID runs `pulumi up` of the stack's pipeline, from the stack's GitHub
	// environment only.
	DeployerAccountID = "aiprod-deployer"
)

// Custom role ids (projects/<project>/roles/<id>), each derived from the permission table.
const (
	PreviewRoleID  = "aiprodPreview"
	DeployerRoleID = "aiprodDeployer"
)

// Workload Identity Federation for GitHub Actions.
const (
	WorkloadIdentityPoolID     = "github"
	WorkloadIdentityProviderID = "github-actions"
	GitHubIssuer               = "https://token.actions.githubusercontent.com"
)

// GitHubEnvironments is the GitHub environment each stack's deploy runs in; its deployer can be
// impersonated only from a job in that environment on main.
var GitHubEnvironments = map[string]string{"dev": "dev", "prod": "production"}

// The stacks' secrets provider: a Cloud KMS key in the stack's project.
const (
	SecretsKeyRingID = "aiprod-pulumi"
	SecretsKeyID     = "stack-secrets"
)

// ServiceAgentOutput is the foundation's output that holds the Pub/Sub service agent's
// member ("serviceAccount:service-<number>@gcp-sa-pubsub.iam.gserviceaccount.com"), read by a
// pipeline stack through a stack reference (aiprod-pubsub:foundationStack).
const ServiceAgentOutput = "pubsubServiceAgent"

// FoundationServices are the APIs the foundation enables in the stack's project: Pub/Sub and
// Monitoring for the pipeline, IAM, IAM credentials and STS for Workload Identity Federation,
// Storage for the state bucket, Resource Manager for the project itself and Cloud KMS for the
// secrets key. None is ever disabled on destroy: other workloads may use them.
var FoundationServices = []string{
	"cloudkms.googleapis.com",
	"cloudresourcemanager.googleapis.com",
	"iam.googleapis.com",
	"iamcredentials.googleapis.com",
	"monitoring.googleapis.com",
	PubSubService,
	"storage.googleapis.com",
	"sts.googleapis.com",
}

// PubSubService is the Pub/Sub API, whose service identity is the service agent.
const PubSubService = "pubsub.googleapis.com"

// The state bucket's protection: every overwrite keeps the previous version of a state file,
// and a deleted object stays recoverable for a while.
const (
	// StateNoncurrentDays is how long a replaced version of a state file is kept.
	StateNoncurrentDays = 30
	// StateNewerVersions is how many newer versions a noncurrent version needs before the
	// lifecycle rule may delete it: the last ones survive whatever their age.
	StateNewerVersions = 10
	// StateSoftDeleteSeconds is the soft delete retention, in seconds as GCP stores it (7 d).
	StateSoftDeleteSeconds = 7 * 24 * 3600
	// DefaultStateLocation is the state bucket's location unless the config names another.
	DefaultStateLocation = "US"
)

// StateBucketName is the state bucket of a project: bucket names are global, so it carries the
// project id.
func StateBucketName(project string) string { return project + "-pulumi-state" }

// BackendURL is the Pulumi backend URL of a bucket.
func BackendURL(bucket string) string { return "gs://" + bucket }

// SecretsKeyRotationSeconds is the secrets key's rotation period (90 d): new versions encrypt,
// old ones still decrypt.
const SecretsKeyRotationSeconds = 90 * 24 * 3600

// KMSLocation is where the secrets key ring lives.
const KMSLocation = "global"

// SecretsKeyName is the secrets key's full name in project.
func SecretsKeyName(project string) string {
	return ProjectName(project) + "/locations/" + KMSLocation + "/keyRings/" + SecretsKeyRingID + "/cryptoKeys/" + SecretsKeyID
}

// SecretsProvider is the Pulumi secrets provider URL of a Cloud KMS key, by its full name.
func SecretsProvider(keyName string) string { return "gcpkms://" + keyName }

// WorkloadIdentityPoolName is a pool's resource name: projects/<number>/locations/global/workloadIdentityPools/<pool>.
func WorkloadIdentityPoolName(projectNumber, pool string) string {
	return ProjectName(projectNumber) + "/locations/global/workloadIdentityPools/" + pool
}

// WorkloadIdentityProviderName is a pool provider's resource name, what
// google-github-actions/auth takes as workload_identity_provider.
func WorkloadIdentityProviderName(projectNumber, pool, provider string) string {
	return WorkloadIdentityPoolName(projectNumber, pool) + "/providers/" + provider
}

// Roles the foundation grants on the state bucket and the secrets key.
const (
	RoleStorageObjectUser    = "roles/storage.objectUser"
	RoleStorageObjectViewer  = "roles/storage.objectViewer"
	RoleCryptoKeyDecrypter   = "roles/cloudkms.cryptoKeyDecrypter"
	RoleWorkloadIdentityUser = "roles/iam.workloadIdentityUser"
)

const (
	// githubMainRef is the only ref from which a job in an environment is admitted.
	githubMainRef = "refs/heads/main"
	// githubRepositoryAttribute is the mapped attribute that names the repository.
	githubRepositoryAttribute = "attribute.repository"
)

// CustomRoleName is a project's custom role: projects/<project>/roles/<id>.
func CustomRoleName(project, id string) string { return ProjectName(project) + "/roles/" + id }

// GitHubAttributeMapping maps the claims of GitHub's OIDC token to the attributes the
// condition and the principals use.
var GitHubAttributeMapping = map[string]string{
	"google.subject":          "assertion.sub",
	"attribute.repository":    "assertion.repository",
	"attribute.repository_id": "assertion.repository_id",
	"attribute.ref":           "assertion.ref",
	// Only jobs in an environment have the claim.
	"attribute.environment":  `"environment" in assertion ? assertion.environment : ""`,
	"attribute.actor":        "assertion.actor",
	"attribute.workflow_ref": "assertion.job_workflow_ref",
	"attribute.event_name":   "assertion.event_name",
}

// GitHubAttributeCondition admits a token only from repository, and a job that runs in a
// GitHub environment only on main. GitHub sends the environment claim only for jobs that have
// one, so the condition reads the subject, which every token has and which names the
// environment (repo:<owner/name>:environment:<env>): a pull request's job in an environment
// has ref refs/pull/<n>/merge and is refused.
func GitHubAttributeCondition(repository string) string {
	return `assertion.repository == "` + repository + `" && ` +
		`(!assertion.sub.startsWith("` + environmentSubjectPrefix(repository) + `") || assertion.ref == "` + githubMainRef + `")`
}

// environmentSubjectPrefix starts the subject of every job of repository in an environment.
func environmentSubjectPrefix(repository string) string {
	return "repo:" + repository + ":environment:"
}

// RepositoryPrincipalSet is every identity of repository's workflows in pool (a pool's name).
func RepositoryPrincipalSet(poolName, repository string) string {
	return "principalSet://iam.googleapis.com/" + poolName + "/" + githubRepositoryAttribute + "/" + repository
}

// EnvironmentPrincipal is the identity of repository's jobs in a GitHub environment: GitHub's
// subject claim for them is repo:<owner/name>:environment:<env>.
func EnvironmentPrincipal(poolName, repository, environment string) string {
	return "principal://iam.googleapis.com/" + poolName + "/subject/" + environmentSubjectPrefix(repository) + environment
}

// CheckGitHubRepository reports whether s is a GitHub repository as owner/name.
func CheckGitHubRepository(s string) error {
	if !IsGitHubRepository(s) {
		return errors.New("must be a GitHub repository as owner/name ([A-Za-z0-9-] owner, [A-Za-z0-9._-] name)")
	}
	return nil
}

// Outputs of the foundation stack, beside ServiceAgentOutput.
const (
	WorkloadIdentityProviderOutput = "workloadIdentityProvider"
	PreviewAccountOutput           = "previewServiceAccount"
	DeployerAccountOutput          = "deployerServiceAccount"
	BackendURLOutput               = "backendUrl"
	SecretsProviderOutput          = "secretsProvider"
	GitHubVariablesOutput          = "githubVariables"
)

// GitHub Actions variables the workflows read: the deployer's are scoped to the stack's GitHub
// environment; the preview's are the repository's, suffixed by the stack (_DEV, _PROD), since
// pull requests and drift checks run in no environment.
const (
	VarWorkloadIdentityProvider = "GCP_WORKLOAD_IDENTITY_PROVIDER"
	VarDeployerAccount          = "GCP_DEPLOYER_SERVICE_ACCOUNT"
	VarPreviewAccount           = "GCP_PREVIEW_SERVICE_ACCOUNT"
	VarBackendURL               = "PULUMI_BACKEND_URL"
)

// StackVariable is a repository-scoped variable of a stack: GCP_PREVIEW_SERVICE_ACCOUNT_DEV.
func StackVariable(name, stack string) string { return name + "_" + strings.ToUpper(stack) }

var stackReferenceRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$`)

// CheckStackReference reports whether s is a fully qualified stack name, <org>/<project>/<stack>
// (organization/<project>/<stack> on a DIY backend), of the foundation's project.
func CheckStackReference(s string) error {
	parts := strings.Split(s, "/")
	if !stackReferenceRE.MatchString(s) || parts[1] != FoundationProject {
		return fmt.Errorf("must be a foundation stack as <org>/%s/<stack>, e.g. organization/%s/dev", FoundationProject, FoundationProject)
	}
	return nil
}

// stateLocksPrefix is where Pulumi's DIY backend keeps its stack locks in the bucket.
const stateLocksPrefix = ".pulumi/locks/"

// StateLocksCondition is the IAM condition that limits a bucket role to the lock files.
func StateLocksCondition(bucket string) string {
	return `resource.name.startsWith("projects/_/buckets/` + bucket + `/objects/` + stateLocksPrefix + `")`
}
