package stacks

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/pulumi/pulumi-gcp/sdk/v8/go/gcp/organizations"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/aiprod/aiprod-pubsub/infra"
	"github.com/aiprod/aiprod-pubsub/spec"
)

// Program is the Pulumi program: it reads the stack's config and declares the stack. main.go
// runs it under pulumi-language-go; an Automation API inline program runs it as it is.
//
// Every runner hands the config to the context, and the program reads its keys from there.
// pulumi-language-go also hands the whole config in the environment: there every key is
// checked, so that a typo, even in a namespace, is an error rather than a silent default. An
// inline program's caller holds the whole config itself; it checks it with CheckConfig.
func Program(ctx *pulumi.Context) error {
	keys := []string{}
	for _, k := range Keys {
		keys = append(keys, Namespace+":"+k.Name)
	}
	raw, err := runnerConfig(ctx, keys)
	if err != nil {
		return err
	}
	_, err = Deploy(ctx, raw)
	return err
}

// runnerConfig reads a program's config as its runner hands it: the given keys (and
// gcp:project) from the context, and from pulumi-language-go's environment every other key too,
// so that Parse reports a key the program does not read, even in a namespace, rather than
// ignoring it.
func runnerConfig(ctx *pulumi.Context, keys []string) (Raw, error) {
	raw := Raw{Values: map[string]string{}}
	for _, k := range append([]string{ProjectKey}, keys...) {
		if v, ok := ctx.GetConfig(k); ok {
			raw.Values[k] = v
			if ctx.IsConfigSecret(k) {
				raw.Secret = append(raw.Secret, k)
			}
		}
	}
	whole, err := envConfig()
	if err != nil {
		return Raw{}, err
	}
	for k, v := range whole.Values {
		if _, ok := raw.Values[k]; !ok {
			raw.Values[k] = v
		}
	}
	return raw, nil
}

// CheckConfig checks a stack's whole config, as an Automation API program holds it
// (auto.Stack.GetAllConfig): every problem Parse would report, unknown keys and namespaces
// included. Run it before an inline program's preview or up.
func CheckConfig(stack string, values map[string]string, secret []string) error {
	_, err := Parse(stack, Raw{Values: values, Secret: secret})
	return err
}

// envConfig reads the whole config that pulumi-language-go hands a program in its environment;
// empty under other runners.
func envConfig() (Raw, error) {
	raw := Raw{Values: map[string]string{}}
	if s := os.Getenv(pulumi.EnvConfig); s != "" {
		if err := json.Unmarshal([]byte(s), &raw.Values); err != nil {
			return Raw{}, fmt.Errorf("reading %s: %w", pulumi.EnvConfig, err)
		}
	}
	if s := os.Getenv(pulumi.EnvConfigSecretKeys); s != "" {
		if err := json.Unmarshal([]byte(s), &raw.Secret); err != nil {
			return Raw{}, fmt.Errorf("reading %s: %w", pulumi.EnvConfigSecretKeys, err)
		}
	}
	return raw, nil
}

// Deploy validates the config, then declares the application service account, the
// notification channels, the KMS key's grant, every pipeline and the dashboard, and exports
// the pipelines' ids. Nothing is registered when the config has a problem. It returns the
// stack's outputs, as exported.
func Deploy(ctx *pulumi.Context, raw Raw) (pulumi.Map, error) {
	cfg, err := Parse(ctx.Stack(), raw)
	if err != nil {
		return nil, err
	}
	if err := cfg.checkDeployable(ctx.DryRun()); err != nil {
		return nil, err
	}
	agent, err := serviceAgent(ctx, cfg)
	if err != nil {
		return nil, err
	}
	acct, err := infra.NewAppAccount(ctx, infra.AppAccountArgs{
		AccountID: cfg.ServiceAccountID,
		Project:   cfg.Project,
		Create:    cfg.CreateServiceAccount,
		Protect:   cfg.Settings.Protect,
	})
	if err != nil {
		return nil, err
	}
	shared := infra.PipelineArgs{Project: cfg.Project, ServiceAgent: agent, Environment: cfg.Stack, Labels: cfg.Labels,
		AppMember: acct.Member, KMSKeyName: cfg.kmsKeyName(), Settings: cfg.Settings, Schemas: cfg.Schemas}
	if shared.NotificationChannels, err = infra.NotificationChannels(ctx, cfg.Project, cfg.Settings.Alerts); err != nil {
		return nil, err
	}
	if key := cfg.kmsKeyName(); key != nil {
		grant, err := infra.KeyGrant(ctx, key.ToStringPtrOutput().Elem(), agent)
		if err != nil {
			return nil, err
		}
		shared.TopicsDependOn = []pulumi.Resource{grant}
	}
	var subscriptions []string
	pipelines := pulumi.Map{}
	for _, name := range cfg.Pipelines {
		args := shared
		args.Pipeline = name
		p, err := infra.NewPipeline(ctx, args)
		if err != nil {
			return nil, err
		}
		out := pulumi.Map{"serviceAccountEmail": acct.Email}
		for k, v := range p.IDs() {
			out[k] = v
		}
		pipelines[name] = out
		for _, q := range spec.Queues {
			subscriptions = append(subscriptions, spec.SubscriptionName(cfg.Settings.NamePrefix, name, q))
		}
	}
	if err := infra.NewDashboard(ctx, infra.DashboardArgs{Project: cfg.Project, Stack: cfg.Stack, Subscriptions: subscriptions}); err != nil {
		return nil, err
	}
	ctx.Export(spec.PipelinesOutput, pipelines)
	return pulumi.Map{spec.PipelinesOutput: pipelines}, nil
}

// serviceAgent is the project's Pub/Sub service agent as an IAM member: from the foundation
// stack's outputs when the config names it, which declares the agent, so the number is never
// looked up; otherwise from the project's number, configured or looked up, for a stack adopted
// onto a project without the foundation.
func serviceAgent(ctx *pulumi.Context, cfg *Config) (pulumi.StringInput, error) {
	if cfg.FoundationStack != "" {
		ref, err := pulumi.NewStackReference(ctx, "foundation", &pulumi.StackReferenceArgs{Name: pulumi.String(cfg.FoundationStack)})
		if err != nil {
			return nil, fmt.Errorf("reading the foundation stack %q: %w", cfg.FoundationStack, err)
		}
		return ref.GetStringOutput(pulumi.String(spec.ServiceAgentOutput)), nil
	}
	number, err := projectNumber(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return pulumi.String(spec.ServiceAgent(number)), nil
}

// projectNumber is the project's number: from the config, or looked up.
func projectNumber(ctx *pulumi.Context, cfg *Config) (string, error) {
	if cfg.ProjectNumber != "" {
		return cfg.ProjectNumber, nil
	}
	p, err := organizations.LookupProject(ctx, &organizations.LookupProjectArgs{ProjectId: &cfg.Project})
	if err != nil {
		return "", fmt.Errorf("looking up the number of project %q: %w", cfg.Project, err)
	}
	if err := spec.CheckProjectNumber(p.Number); err != nil {
		return "", fmt.Errorf("project %q has number %q: %w", cfg.Project, p.Number, err)
	}
	return p.Number, nil
}

// kmsKeyName is the topics' KMS key as the pipelines take it: nil when unset, and kept secret
// in the state when the config holds it as a secret.
func (c Config) kmsKeyName() pulumi.StringPtrInput {
	switch {
	case c.KMSKeyName == "":
		return nil
	case c.SecretKMSKeyName:
		return pulumi.ToSecret(pulumi.String(c.KMSKeyName)).(pulumi.StringOutput)
	}
	return pulumi.String(c.KMSKeyName)
}
