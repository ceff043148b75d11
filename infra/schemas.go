package infra

import (
	"fmt"

	"github.com/pulumi/pulumi-gcp/sdk/v8/go/gcp/pubsub"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// schemas declares the Avro schemas of the jobs and results topics when contracts are enforced.
//
// How a contract evolves: the provider commits a change of definition as a new revision of the
// same schema, in place. The topics name the schema, not a revision, and validate against any
// of its revisions (pulumi-gcp v8 does not expose firstRevisionId/lastRevisionId), so a new
// revision never touches a topic and never replaces it. Only backward-compatible changes
// (a new field with a default) keep old and new publishers valid at once. GCP keeps at most 20
// revisions. A protected stack protects its schemas too: deleting one leaves its topics
// rejecting every message.
func (b builder) schemas() (map[spec.Queue]*pubsub.Schema, error) {
	s := b.args.Settings
	out := map[spec.Queue]*pubsub.Schema{}
	if !s.EnforceSchemas {
		return out, nil
	}
	for _, q := range spec.Queues {
		contract := q.Contract()
		if contract == "" {
			continue
		}
		name := spec.SchemaName(s.NamePrefix, b.args.Pipeline, q)
		schema, err := pubsub.NewSchema(b.ctx, name, &pubsub.SchemaArgs{
			Name:       pulumi.String(name),
			Project:    pulumi.String(b.args.Project),
			Type:       pulumi.String("AVRO"),
			Definition: pulumi.String(b.args.Schemas[contract]),
		}, b.opts()...)
		if err != nil {
			return nil, fmt.Errorf("creating schema %q: %w", name, err)
		}
		out[q] = schema
	}
	return out, nil
}
