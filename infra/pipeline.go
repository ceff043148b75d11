// Package infra declares a pipeline's Pub/Sub topology: topics, pull subscriptions, dead-letter
// routing and the IAM members that make it work.
package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-gcp/sdk/v8/go/gcp/pubsub"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// PipelineArgs are the inputs of NewPipeline.
type PipelineArgs struct {
	// Pipeline is the pipeline's short name, the middle part of every physical name. Required.
	Pipeline string
	// Project is the GCP project id the resources live in. Required.
	Project string
	// ServiceAgent is the project's Pub/Sub service agent as an IAM member,
	// serviceAccount:service-<number>@gcp-sa-pubsub.iam.gserviceaccount.com. Required.
	ServiceAgent pulumi.StringInput
	// Environment is the value of the env label, the stack's name. Required.
	Environment string
	// Labels are added to the standard labels of every topic and subscription. Optional.
	Labels map[string]string
	// AppMember is the application's IAM member, serviceAccount:<email>. Required.
	AppMember pulumi.StringInput
	// KMSKeyName is the Cloud KMS key that encrypts the topics; it may be a secret. Optional;
	// defaults to Google-managed keys.
	KMSKeyName pulumi.StringPtrInput
	// Settings are the pipeline's tunables. Required; start from spec.Defaults().
	Settings spec.Settings
	// Schemas are the Avro definitions of the message contracts, keyed by Queue.Contract().
	// Required when Settings.EnforceSchemas is true.
	Schemas map[spec.Contract]string
	// NotificationChannels are the channels the pipeline's alerts notify. Optional; defaults to
	// none (the alerts show in Cloud Monitoring only).
	NotificationChannels pulumi.StringArrayInput
	// TopicsDependOn are resources the topics must wait for: the service agent's grant on the
	// KMS key, without which GCP refuses an encrypted topic. Optional.
	TopicsDependOn []pulumi.Resource
}

// Pipeline is one pipeline's topology, the parent of all of its resources.
type Pipeline struct {
	pulumi.ResourceState

	// Topics are the pipeline's topics, one per queue.
	Topics map[spec.Queue]*pubsub.Topic
	// Subscriptions are the pipeline's pull subscriptions, one per queue, each on its queue's
	// topic.
	Subscriptions map[spec.Queue]*pubsub.Subscription
}

// IDs are the full ids of the topics and subscriptions, keyed as the component registers them
// and the stack exports them: <queue>Topic and <queue>Subscription.
func (p *Pipeline) IDs() pulumi.StringMap {
	ids := pulumi.StringMap{}
	for _, q := range spec.Queues {
		ids[spec.TopicOutput(q)] = p.Topics[q].ID().ToStringOutput()
		ids[spec.SubscriptionOutput(q)] = p.Subscriptions[q].ID().ToStringOutput()
	}
	return ids
}

// validate checks every argument and reports the problems by field name.
func (a PipelineArgs) validate() error {
	var ps spec.Problems
	if err := spec.CheckProjectID(a.Project); err != nil {
		ps = append(ps, spec.Problem{Field: "Project", Value: a.Project, Allowed: err.Error()})
	}
	if a.ServiceAgent == nil {
		ps = append(ps, spec.Problem{Field: "ServiceAgent", Value: "", Allowed: "must be set"})
	}
	if err := spec.CheckLabel(spec.LabelEnv, a.Environment); a.Environment == "" || err != nil {
		ps = append(ps, spec.Problem{Field: "Environment", Value: a.Environment, Allowed: "must be a non-empty label value ([a-z0-9_-], at most 63 characters)"})
	}
	if a.AppMember == nil {
		ps = append(ps, spec.Problem{Field: "AppMember", Value: "", Allowed: "must be set"})
	}
	ps = append(ps, spec.ValidateLabels(a.Labels)...)
	if a.Settings.EnforceSchemas {
		for _, q := range spec.Queues {
			if c := q.Contract(); c != "" && a.Schemas[c] == "" {
				ps = append(ps, spec.Problem{Field: "Schemas", Value: string(c),
					Allowed: "a definition is required when EnforceSchemas is true", Refs: []string{"EnforceSchemas"}})
			}
		}
	}
	ps = append(ps, spec.ValidateNames(a.Settings.NamePrefix, a.Pipeline)...)
	ps = append(ps, a.Settings.Validate()...)
	if len(ps) > 0 {
		return ps
	}
	return nil
}

// NewPipeline declares a pipeline's topics, subscriptions, IAM members and alert policies under
// one component.
// It validates every argument before it registers anything.
func NewPipeline(ctx *pulumi.Context, args PipelineArgs, opts ...pulumi.ResourceOption) (*Pipeline, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("pipeline %q: %w", args.Pipeline, err)
	}
	p := &Pipeline{}
	if err := ctx.RegisterComponentResource(spec.PipelineType, args.Pipeline, p, opts...); err != nil {
		return nil, fmt.Errorf("registering pipeline %q: %w", args.Pipeline, err)
	}
	b := builder{ctx: ctx, args: args, parent: p}
	contracts, err := b.schemas()
	if err != nil {
		return nil, err
	}
	topics, err := b.topics(contracts)
	if err != nil {
		return nil, err
	}
	subs, err := b.subscriptions(topics)
	if err != nil {
		return nil, err
	}
	if err := b.iam(topics, subs); err != nil {
		return nil, err
	}
	if err := b.alerts(); err != nil {
		return nil, err
	}
	p.Topics, p.Subscriptions = topics, subs
	outputs := pulumi.Map{}
	for k, v := range p.IDs() {
		outputs[k] = v
	}
	if err := ctx.RegisterResourceOutputs(p, outputs); err != nil {
		return nil, fmt.Errorf("registering outputs of pipeline %q: %w", args.Pipeline, err)
	}
	return p, nil
}

// builder carries what every child resource needs.
type builder struct {
	ctx    *pulumi.Context
	args   PipelineArgs
	parent pulumi.Resource
}

// labels are the standard labels plus the configured extra ones.
func (b builder) labels() pulumi.StringMap {
	m := pulumi.StringMap{}
	for k, v := range b.args.Labels {
		m[k] = pulumi.String(v)
	}
	for k, v := range spec.StandardLabels(b.args.Pipeline, b.args.Environment) {
		m[k] = pulumi.String(v)
	}
	return m
}

// opts are the options of a topic, subscription or schema: parented, and protected where asked.
func (b builder) opts() []pulumi.ResourceOption {
	return []pulumi.ResourceOption{pulumi.Parent(b.parent), pulumi.Protect(b.args.Settings.Protect)}
}

// topicName is the physical name of a queue's topic.
func (b builder) topicName(q spec.Queue) string {
	return spec.TopicName(b.args.Settings.NamePrefix, b.args.Pipeline, q)
}
