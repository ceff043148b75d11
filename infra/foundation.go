package infra

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-gcp/sdk/v8/go/gcp/projects"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// FoundationArgs are the inputs of NewFoundation.
type FoundationArgs struct {
	// Project is the GCP project id the foundation lives in. Required.
	Project string
	// Stack is the pipeline stack the foundation serves (dev, prod): its env label, and the key
	// of its GitHub environment in spec.GitHubEnvironments. Required.
	Stack string
	// GitHubRepository is the repository whose workflows may use the identities, owner/name.
	// Required.
	GitHubRepository string
	// StateLocation is the state bucket's location. Optional; defaults to
	// spec.DefaultStateLocation.
	StateLocation string
	// StateKMSKeyName is the Cloud KMS key that encrypts the state bucket's objects (the Cloud
	// Storage service agent needs encrypt and decrypt on it). Optional; defaults to
	// Google-managed keys.
	StateKMSKeyName string
}

// Foundation is what the pipeline stacks stand on: the APIs, the Pub/Sub service agent, the
// state bucket, the secrets key, Workload Identity Federation and the CI identities.
type Foundation struct {
	pulumi.ResourceState

	// Outputs are the stack's outputs, keyed as spec names them.
	Outputs pulumi.Map
}

// withDefaults applies every default of the arguments.
func (a FoundationArgs) withDefaults() FoundationArgs {
	if a.StateLocation == "" {
		a.StateLocation = spec.DefaultStateLocation
	}
	return a
}

// Problems checks every argument, defaults applied, and reports the problems by field name.
func (a FoundationArgs) Problems() spec.Problems {
	a = a.withDefaults()
	var ps spec.Problems
	if err := spec.CheckProjectID(a.Project); err != nil {
		ps = append(ps, spec.Problem{Field: "Project", Value: a.Project, Allowed: err.Error()})
	}
	if _, ok := spec.GitHubEnvironments[a.Stack]; !ok {
		ps = append(ps, spec.Problem{Field: "Stack", Value: a.Stack, Allowed: "must be a stack with a GitHub environment: " + stackNames()})
	}
	if err := spec.CheckGitHubRepository(a.GitHubRepository); err != nil {
		ps = append(ps, spec.Problem{Field: "GitHubRepository", Value: a.GitHubRepository, Allowed: err.Error()})
	}
	if a.StateKMSKeyName != "" {
		if err := spec.CheckKMSKeyName(a.StateKMSKeyName); err != nil {
			ps = append(ps, spec.Problem{Field: "StateKMSKeyName", Value: a.StateKMSKeyName, Allowed: err.Error() + ", or empty for Google-managed keys"})
		}
	}
	if strings.TrimSpace(a.StateLocation) == "" {
		ps = append(ps, spec.Problem{Field: "StateLocation", Value: a.StateLocation, Allowed: "must be a Cloud Storage location, e.g. " + spec.DefaultStateLocation})
	}
	return ps
}

// stackNames lists the stacks that have a GitHub environment.
func stackNames() string {
	var names []string
	for _, s := range slices.Sorted(maps.Keys(spec.GitHubEnvironments)) {
		names = append(names, s+" ("+spec.GitHubEnvironments[s]+")")
	}
	return strings.Join(names, ", ")
}

// NewFoundation declares the foundation under one component. It validates every argument
// before it registers anything.
func NewFoundation(ctx *pulumi.Context, args FoundationArgs, opts ...pulumi.ResourceOption) (*Foundation, error) {
	args = args.withDefaults()
	if ps := args.Problems(); len(ps) > 0 {
		return nil, fmt.Errorf("foundation of %q: %w", args.Project, ps)
	}
	f := &Foundation{}
	if err := ctx.RegisterComponentResource(spec.FoundationType, args.Stack, f, opts...); err != nil {
		return nil, fmt.Errorf("registering the foundation: %w", err)
	}
	b := foundationBuilder{ctx: ctx, args: args, parent: f}
	services, err := b.services()
	if err != nil {
		return nil, err
	}
	b.after = services
	agent, err := projects.NewServiceIdentity(ctx, "pubsub-service-agent", &projects.ServiceIdentityArgs{
		Project: pulumi.String(args.Project), Service: pulumi.String(spec.PubSubService),
	}, b.opts()...)
	if err != nil {
		return nil, fmt.Errorf("declaring the Pub/Sub service identity: %w", err)
	}
	st, err := b.state()
	if err != nil {
		return nil, err
	}
	ids, err := b.identities(st)
	if err != nil {
		return nil, err
	}
	backend := st.bucket.Name.ApplyT(spec.BackendURL).(pulumi.StringOutput)
	f.Outputs = pulumi.Map{
		spec.ServiceAgentOutput:             agent.Member,
		spec.WorkloadIdentityProviderOutput: ids.provider,
		spec.PreviewAccountOutput:           ids.preview,
		spec.DeployerAccountOutput:          ids.deployer,
		spec.BackendURLOutput:               backend,
		spec.SecretsProviderOutput:          st.key.ID().ApplyT(func(id pulumi.ID) string { return spec.SecretsProvider(string(id)) }).(pulumi.StringOutput),
		spec.GitHubVariablesOutput: pulumi.All(ids.provider, ids.preview, ids.deployer, backend).ApplyT(func(v []any) string {
			return githubVariables(args.GitHubRepository, args.Stack, v[0].(string), v[1].(string), v[2].(string), v[3].(string))
		}).(pulumi.StringOutput),
	}
	if err := ctx.RegisterResourceOutputs(f, f.Outputs); err != nil {
		return nil, fmt.Errorf("registering the foundation's outputs: %w", err)
	}
	return f, nil
}

// foundationBuilder carries what every child of the foundation needs.
type foundationBuilder struct {
	ctx    *pulumi.Context
	args   FoundationArgs
	parent pulumi.Resource
	// after are the enabled APIs, which every other child waits for.
	after []pulumi.Resource
}

// opts parent a child and make it wait for the APIs.
func (b foundationBuilder) opts(more ...pulumi.ResourceOption) []pulumi.ResourceOption {
	return append([]pulumi.ResourceOption{pulumi.Parent(b.parent), pulumi.DependsOn(b.after)}, more...)
}

// labels are the labels of the foundation's labelled resources.
func (b foundationBuilder) labels() pulumi.StringMap {
	return pulumi.ToStringMap(spec.StandardLabels(spec.FoundationComponent, b.args.Stack))
}

// services enables the APIs. None is disabled on destroy, nor are the services that depend on
// it: other workloads of the project may use them.
func (b foundationBuilder) services() ([]pulumi.Resource, error) {
	var out []pulumi.Resource
	for _, svc := range spec.FoundationServices {
		s, err := projects.NewService(b.ctx, svc, &projects.ServiceArgs{
			Project:                  pulumi.String(b.args.Project),
			Service:                  pulumi.String(svc),
			DisableOnDestroy:         pulumi.Bool(false),
			DisableDependentServices: pulumi.Bool(false),
		}, pulumi.Parent(b.parent))
		if err != nil {
			return nil, fmt.Errorf("enabling %q: %w", svc, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// githubVariables are the gh commands that store the foundation's outputs where the workflows
// read them: the deployer's in the stack's GitHub environment, the preview's in the repository,
// suffixed by the stack, since pull requests and drift checks run in no environment.
func githubVariables(repo, stack, provider, preview, deployer, backend string) string {
	env := spec.GitHubEnvironments[stack]
	lines := []string{
		fmt.Sprintf("gh variable set %s --repo %s --env %s --body %s", spec.VarWorkloadIdentityProvider, repo, env, provider),
		fmt.Sprintf("gh variable set %s --repo %s --env %s --body %s", spec.VarDeployerAccount, repo, env, deployer),
		fmt.Sprintf("gh variable set %s --repo %s --env %s --body %s", spec.VarBackendURL, repo, env, backend),
		fmt.Sprintf("gh variable set %s --repo %s --body %s", spec.StackVariable(spec.VarWorkloadIdentityProvider, stack), repo, provider),
		fmt.Sprintf("gh variable set %s --repo %s --body %s", spec.StackVariable(spec.VarPreviewAccount, stack), repo, preview),
		fmt.Sprintf("gh variable set %s --repo %s --body %s", spec.StackVariable(spec.VarBackendURL, stack), repo, backend),
	}
	return strings.Join(lines, "\n") + "\n"
}
