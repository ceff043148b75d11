package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-gcp/sdk/v8/go/gcp/pubsub"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/aiprod/aiprod-pubsub/schemas"
)

// contractOf is the message contract each queue's topic enforces; the dlq has none.
var contractOf = map[Queue]schemas.Kind{Jobs: schemas.Job, Results: schemas.Result}

// SchemaName is the physical name of the schema of a queue's topic: <topic>-schema.
func SchemaName(prefix, pipeline string, q Queue) string {
	return TopicName(prefix, pipeline, q) + "-schema"
}

// schemas declares the Avro schemas of the jobs and results topics when contracts are enforced.
//
// How a contract evolves: the provider commits a change of definition as a new revision of the
// same schema, in place. The topics name the schema, not a revision, and validate against any
// of its revisions (pulumi-gcp v8 does not expose firstRevisionId/lastRevisionId), so a new
// revision never touches a topic and never replaces it. Only backward-compatible changes
// (a new field with a default) keep old and new publishers valid at once. GCP keeps at most 20
// revisions. A protected stack protects its schemas too: deleting one leaves its topics
// rejecting every message.
func (b builder) schemas() (map[Queue]*pubsub.Schema, error) {
	s := b.args.Settings
	out := map[Queue]*pubsub.Schema{}
	if !s.EnforceSchemas {
		return out, nil
	}
	for _, q := range Queues {
		kind, ok := contractOf[q]
		if !ok {
			continue
		}
		name := SchemaName(s.NamePrefix, b.args.Pipeline, q)
		schema, err := pubsub.NewSchema(b.ctx, name, &pubsub.SchemaArgs{
			Name:       pulumi.String(name),
			Project:    pulumi.String(b.args.Project),
			Type:       pulumi.String("AVRO"),
			Definition: pulumi.String(b.args.Schemas[kind]),
		}, b.opts()...)
		if err != nil {
			return nil, fmt.Errorf("creating schema %q: %w", name, err)
		}
		out[q] = schema
	}
	return out, nil
}
