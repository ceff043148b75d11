package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-gcp/sdk/v8/go/gcp/pubsub"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// topics declares the jobs, results and dlq topics. The jobs and results topics enforce their
// contract when one is given; the dlq topic has none, it receives both kinds.
func (b builder) topics(contracts map[spec.Queue]*pubsub.Schema) (map[spec.Queue]*pubsub.Topic, error) {
	s := b.args.Settings
	topics := map[spec.Queue]*pubsub.Topic{}
	for _, q := range spec.Queues {
		name := b.topicName(q)
		args := &pubsub.TopicArgs{
			Name:       pulumi.String(name),
			Project:    pulumi.String(b.args.Project),
			Labels:     b.labels(),
			KmsKeyName: b.args.KMSKeyName,
		}
		if len(s.AllowedPersistenceRegions) > 0 {
			args.MessageStoragePolicy = &pubsub.TopicMessageStoragePolicyArgs{
				AllowedPersistenceRegions: pulumi.ToStringArray(s.AllowedPersistenceRegions),
			}
		}
		opts := append(b.opts(), pulumi.DependsOn(b.args.TopicsDependOn))
		if schema, ok := contracts[q]; ok {
			// The setting names the schema by its id, built from config rather than from the
			// schema's outputs: a new revision of the definition never changes the topic.
			args.SchemaSettings = &pubsub.TopicSchemaSettingsArgs{
				Schema:   pulumi.String(spec.SchemaID(b.args.Project, spec.SchemaName(s.NamePrefix, b.args.Pipeline, q))),
				Encoding: pulumi.String(spec.SchemaEncoding),
			}
			opts = append(opts, pulumi.DependsOn([]pulumi.Resource{schema}))
		}
		t, err := pubsub.NewTopic(b.ctx, name, args, opts...)
		if err != nil {
			return nil, fmt.Errorf("creating topic %q: %w", name, err)
		}
		topics[q] = t
	}
	return topics, nil
}

// topicID is the full id of a topic, projects/<project>/topics/<name>. It is built from the
// topic's inputs so that it is known during a preview, unlike the topic's id, and it keeps
// the dependency on the topic.
func topicID(t *pubsub.Topic) pulumi.StringOutput {
	return pulumi.All(t.Project, t.Name).ApplyT(func(v []any) string {
		return spec.TopicID(v[0].(string), v[1].(string))
	}).(pulumi.StringOutput)
}
