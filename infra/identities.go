package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-gcp/sdk/v8/go/gcp/iam"
	"github.com/pulumi/pulumi-gcp/sdk/v8/go/gcp/projects"
	"github.com/pulumi/pulumi-gcp/sdk/v8/go/gcp/serviceaccount"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// ciIdentities are what the workflows authenticate with: the WIF provider's resource name and
// the identities' emails.
type ciIdentities struct {
	provider, preview, deployer pulumi.StringOutput
}

// identity is one kind of CI job's service account: who may impersonate it, and what it may do.
type identity struct {
	accountID, title, description string
	roleID                        string
	permissions                   []string
	// principal is who may impersonate it, from the pool's name.
	principal func(pool string) string
	bucket    []bucketRole
	keyRole   string
}

// identities declares Workload Identity Federation for the repository and one service account
// per kind of CI job, each reachable only through it, each with its own custom role.
func (b foundationBuilder) identities(st *stateStore) (*ciIdentities, error) {
	pool, provider, err := b.federation()
	if err != nil {
		return nil, err
	}
	repo, env := b.args.GitHubRepository, spec.GitHubEnvironments[b.args.Stack]
	bucket := spec.StateBucketName(b.args.Project)
	kinds := []identity{
		{accountID: spec.PreviewAccountID, title: "AIPROD pipeline preview",
			description: "Previews and drift checks of the pipeline stack: reads, changes nothing",
			roleID:      spec.PreviewRoleID, permissions: spec.PreviewPermissions(),
			principal: func(p string) string { return spec.RepositoryPrincipalSet(p, repo) },
			bucket:    []bucketRole{{key: "viewer", role: spec.RoleStorageObjectViewer}, lockRole(bucket)},
			keyRole:   spec.RoleCryptoKeyDecrypter},
		{accountID: spec.DeployerAccountID, title: "AIPROD pipeline deployer",
			description: "Deploys the pipeline stack from the GitHub environment " + env + " on main",
			roleID:      spec.DeployerRoleID, permissions: spec.DeployerPermissions(),
			principal: func(p string) string { return spec.EnvironmentPrincipal(p, repo, env) },
			bucket:    []bucketRole{{key: "user", role: spec.RoleStorageObjectUser}},
			keyRole:   spec.RoleCryptoKeyEncrypterDecrypter},
	}
	emails := map[string]pulumi.StringOutput{}
	for _, k := range kinds {
		email, err := b.identity(k, pool.Name, st)
		if err != nil {
			return nil, err
		}
		emails[k.accountID] = email
	}
	return &ciIdentities{provider: provider.Name, preview: emails[spec.PreviewAccountID], deployer: emails[spec.DeployerAccountID]}, nil
}

// federation declares the pool and GitHub's OIDC provider, which admits only the repository's
// tokens, and a job in an environment only on main. Both are protected, as are the identities:
// a deleted pool keeps its id for 30 days, and CI stops until they are back.
func (b foundationBuilder) federation() (*iam.WorkloadIdentityPool, *iam.WorkloadIdentityPoolProvider, error) {
	pool, err := iam.NewWorkloadIdentityPool(b.ctx, spec.WorkloadIdentityPoolID, &iam.WorkloadIdentityPoolArgs{
		Project:                pulumi.String(b.args.Project),
		WorkloadIdentityPoolId: pulumi.String(spec.WorkloadIdentityPoolID),
		DisplayName:            pulumi.String("GitHub Actions"),
		Description:            pulumi.String("CI of " + b.args.GitHubRepository),
	}, b.opts(pulumi.Protect(true))...)
	if err != nil {
		return nil, nil, fmt.Errorf("creating the workload identity pool %q: %w", spec.WorkloadIdentityPoolID, err)
	}
	mapping := pulumi.StringMap{}
	for k, v := range spec.GitHubAttributeMapping {
		mapping[k] = pulumi.String(v)
	}
	provider, err := iam.NewWorkloadIdentityPoolProvider(b.ctx, spec.WorkloadIdentityProviderID, &iam.WorkloadIdentityPoolProviderArgs{
		Project:                        pulumi.String(b.args.Project),
		WorkloadIdentityPoolId:         pool.WorkloadIdentityPoolId,
		WorkloadIdentityPoolProviderId: pulumi.String(spec.WorkloadIdentityProviderID),
		DisplayName:                    pulumi.String("GitHub Actions OIDC"),
		AttributeMapping:               mapping,
		AttributeCondition:             pulumi.String(spec.GitHubAttributeCondition(b.args.GitHubRepository)),
		Oidc:                           &iam.WorkloadIdentityPoolProviderOidcArgs{IssuerUri: pulumi.String(spec.GitHubIssuer)},
	}, b.opts(pulumi.Protect(true))...)
	if err != nil {
		return nil, nil, fmt.Errorf("creating the workload identity provider %q: %w", spec.WorkloadIdentityProviderID, err)
	}
	return pool, provider, nil
}

// identity declares one CI service account, the WIF principal that may impersonate it, its
// custom role from the permission table granted to it alone, and its state grants. It returns
// the account's email.
func (b foundationBuilder) identity(k identity, pool pulumi.StringOutput, st *stateStore) (pulumi.StringOutput, error) {
	project := pulumi.String(b.args.Project)
	acct, err := serviceaccount.NewAccount(b.ctx, k.accountID, &serviceaccount.AccountArgs{
		Project: project, AccountId: pulumi.String(k.accountID), DisplayName: pulumi.String(k.title), Description: pulumi.String(k.description),
	}, b.opts(pulumi.Protect(true))...)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("creating service account %q: %w", k.accountID, err)
	}
	if _, err := serviceaccount.NewIAMMember(b.ctx, k.accountID+"-workload-identity-user", &serviceaccount.IAMMemberArgs{
		ServiceAccountId: acct.Name,
		Role:             pulumi.String(spec.RoleWorkloadIdentityUser),
		Member:           pool.ApplyT(k.principal).(pulumi.StringOutput),
	}, b.opts()...); err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("letting GitHub impersonate %q: %w", k.accountID, err)
	}
	role, err := projects.NewIAMCustomRole(b.ctx, k.roleID, &projects.IAMCustomRoleArgs{
		Project: project, RoleId: pulumi.String(k.roleID), Title: pulumi.String(k.title),
		Description: pulumi.String("Derived from spec.PipelinePermissions; managed by aiprod-foundation"),
		Permissions: pulumi.ToStringArray(k.permissions), Stage: pulumi.String("GA"),
	}, b.opts()...)
	if err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("creating custom role %q: %w", k.roleID, err)
	}
	if _, err := projects.NewIAMMember(b.ctx, k.roleID+"-"+k.accountID, &projects.IAMMemberArgs{
		Project: project, Role: role.Name, Member: acct.Member,
	}, b.opts()...); err != nil {
		return pulumi.StringOutput{}, fmt.Errorf("granting %q to %q: %w", k.roleID, k.accountID, err)
	}
	if err := b.stateGrants(st, k.accountID, acct.Member, k.bucket, k.keyRole); err != nil {
		return pulumi.StringOutput{}, err
	}
	return acct.Email, nil
}
