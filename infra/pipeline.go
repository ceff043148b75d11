// Package infra declares a pipeline's Pub/Sub topology: topics, pull subscriptions, dead-letter
// routing and the IAM members that make it work.
package infra

import (
	"fmt"
	"maps"
	"slices"

	"github.com/pulumi/pulumi-gcp/sdk/v8/go/gcp/pubsub"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/aiprod/aiprod-pubsub/schemas"
)

// PipelineType is the type token of the Pipeline component.
const PipelineType = "aiprod:messaging:Pipeline"

// PipelineArgs are the inputs of NewPipeline.
type PipelineArgs struct {
	// Pipeline is the pipeline's short name, the middle part of every physical name. Required.
	Pipeline string
	// Project is the GCP project id the resources live in. Required.
	Project string
	// ProjectNumber is the project's number; it names the Pub/Sub service agent. Required.
	ProjectNumber string
	// Environment is the value of the env label, the stack's name. Required.
	Environment string
	// Labels are added to the standard labels of every topic and subscription. Optional.
	Labels map[string]string
	// AppMember is the application's IAM member, serviceAccount:<email>. Required.
	AppMember pulumi.StringInput
	// Settings are the pipeline's tunables. Required; start from DefaultSettings().
	Settings Settings
	// Schemas are the Avro definitions of the message contracts. Required when
	// Settings.EnforceSchemas is true: one for each of schemas.Kinds.
	Schemas map[schemas.Kind]string
}

// Pipeline is one pipeline's topology, the parent of all of its resources.
type Pipeline struct {
	pulumi.ResourceState

	Topics        map[Queue]*pubsub.Topic
	Subscriptions map[Queue]*pubsub.Subscription

	// Outputs are the full ids of the topics and subscriptions, keyed as in the stack outputs.
	Outputs pulumi.StringMap
}

func (a PipelineArgs) validate() error {
	var ps Problems
	if err := CheckProjectID(a.Project); err != nil {
		ps = append(ps, Problem{"project", a.Project, err.Error()})
	}
	if err := CheckProjectNumber(a.ProjectNumber); err != nil {
		ps = append(ps, Problem{"projectNumber", a.ProjectNumber, err.Error()})
	}
	if err := CheckLabel("env", a.Environment); a.Environment == "" || err != nil {
		ps = append(ps, Problem{"environment", a.Environment, "must be a non-empty label value ([a-z0-9_-], at most 63 characters)"})
	}
	if a.AppMember == nil {
		ps = append(ps, Problem{"appMember", "", "must be set"})
	}
	ps = append(ps, ValidateLabels(a.Labels)...)
	if a.Settings.EnforceSchemas {
		for _, k := range schemas.Kinds {
			if a.Schemas[k] == "" {
				ps = append(ps, Problem{"schemas", string(k), "a definition is required when enforceSchemas is true"})
			}
		}
	}
	ps = append(ps, ValidateNames(a.Settings.NamePrefix, a.Pipeline)...)
	ps = append(ps, a.Settings.Validate()...)
	if len(ps) > 0 {
		return ps
	}
	return nil
}

// NewPipeline declares a pipeline's topics, subscriptions and IAM members under one component.
// It validates every argument before it registers anything.
func NewPipeline(ctx *pulumi.Context, args PipelineArgs, opts ...pulumi.ResourceOption) (*Pipeline, error) {
	if err := args.validate(); err != nil {
		return nil, fmt.Errorf("pipeline %q: %w", args.Pipeline, err)
	}
	p := &Pipeline{}
	if err := ctx.RegisterComponentResource(PipelineType, args.Pipeline, p, opts...); err != nil {
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
	p.Topics, p.Subscriptions = topics, subs
	p.Outputs = pulumi.StringMap{}
	for _, q := range Queues {
		p.Outputs[string(q)+"Topic"] = topics[q].ID().ToStringOutput()
		p.Outputs[string(q)+"Subscription"] = subs[q].ID().ToStringOutput()
	}
	if err := ctx.RegisterResourceOutputs(p, toMap(p.Outputs)); err != nil {
		return nil, fmt.Errorf("registering outputs of pipeline %q: %w", args.Pipeline, err)
	}
	return p, nil
}

func toMap(m pulumi.StringMap) pulumi.Map {
	out := pulumi.Map{}
	for k, v := range m {
		out[k] = v
	}
	return out
}

// builder carries what every child resource needs.
type builder struct {
	ctx    *pulumi.Context
	args   PipelineArgs
	parent pulumi.Resource
}

// StandardLabelKeys are the labels every topic and subscription carries.
var StandardLabelKeys = []string{"app", "component", "env", "managed-by"}

// ValidateLabels checks extra labels: each in GCP's label format, none of the standard ones.
func ValidateLabels(labels map[string]string) Problems {
	var ps Problems
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		v := labels[k]
		if err := CheckLabel(k, v); err != nil {
			ps = append(ps, Problem{"labels", k + "=" + v, err.Error()})
		}
		if slices.Contains(StandardLabelKeys, k) {
			ps = append(ps, Problem{"labels", k + "=" + v, fmt.Sprintf("must not set %q, a label the program sets itself", k)})
		}
	}
	return ps
}

// labels are the standard labels plus the configured extra ones.
func (b builder) labels() pulumi.StringMap {
	m := pulumi.StringMap{}
	for k, v := range b.args.Labels {
		m[k] = pulumi.String(v)
	}
	m["app"] = pulumi.String("aiprod")
	m["component"] = pulumi.String(b.args.Pipeline)
	m["env"] = pulumi.String(b.args.Environment)
	m["managed-by"] = pulumi.String("pulumi")
	return m
}

// opts are the options of a topic or subscription: parented, and protected where asked.
func (b builder) opts() []pulumi.ResourceOption {
	return []pulumi.ResourceOption{pulumi.Parent(b.parent), pulumi.Protect(b.args.Settings.Protect)}
}

// serviceAgent is the Pub/Sub service agent of the project: it moves dead letters.
func (b builder) serviceAgent() pulumi.String {
	return pulumi.String(fmt.Sprintf("serviceAccount:service-%s@gcp-sa-pubsub.iam.gserviceaccount.com", b.args.ProjectNumber))
}
