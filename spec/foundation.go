package spec

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
