package rules

import (
	"context"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// PolicyTopicSchema is the name of the policy on the message contracts.
const PolicyTopicSchema = "pubsub-topic-schema"

const configEnforceSchemas = "enforceSchemas"

// deletedSchema is what GCP reports as a topic's schema once the schema has been deleted.
const deletedSchema = "_deleted-schema_"

// topicSchema: without a schema Pub/Sub accepts any payload on the jobs and results topics, and
// a malformed message fails later in a worker, where it burns delivery attempts and ends in the
// dlq. The dlq topic takes both kinds of message and has none.
func topicSchema() policyx.ResourceValidationPolicy {
	return policyx.NewResourceValidationPolicy(PolicyTopicSchema, policyx.ResourceValidationPolicyArgs{
		Description:      "Jobs and results topics validate messages against a schema with JSON encoding, so a malformed message is rejected at publish time.",
		EnforcementLevel: policyx.EnforcementLevelMandatory,
		ConfigSchema: &policyx.ConfigSchema{Properties: map[string]map[string]any{
			configEnforceSchemas: {
				"type":        "boolean",
				"description": "whether the stack enforces the message contracts (false for a stack that is migrating)",
				"default":     spec.Defaults().EnforceSchemas,
			},
		}},
		ValidateResource: func(_ context.Context, args policyx.ResourceValidationArgs) error {
			r := args.Resource
			if r.Type != spec.TopicType {
				return nil
			}
			if _, q, _ := spec.TopicQueue(physicalName(r)); q.Contract() == "" {
				return nil
			}
			enforce, set, err := configBool(PolicyTopicSchema, args.Config, configEnforceSchemas)
			if err != nil {
				return err
			}
			if set && !enforce {
				return nil
			}
			settings := get(r.Properties, "schemaSettings")
			if settings.Unknown {
				return nil
			}
			if !settings.Set {
				args.Manager.ReportViolation(fmt.Sprintf(
					"%s has no schemaSettings; jobs and results topics need a schema with encoding JSON%s",
					describe(r), allowWith(PolicyTopicSchema, configEnforceSchemas+": false")), "")
				return nil
			}
			schema := get(r.Properties, "schemaSettings", "schema")
			switch {
			case schema.Unknown:
			case !schema.Set || !schema.IsString() || schema.AsString() == "":
				args.Manager.ReportViolation(fmt.Sprintf(
					"%s has no schemaSettings.schema; jobs and results topics need a schema", describe(r)), "")
			case schema.AsString() == deletedSchema:
				args.Manager.ReportViolation(fmt.Sprintf(
					"%s has schemaSettings.schema %s: its schema was deleted and the topic rejects every message", describe(r), show(schema.Value)), "")
			}
			encoding := get(r.Properties, "schemaSettings", "encoding")
			switch {
			case encoding.Unknown:
			case !encoding.Set:
				args.Manager.ReportViolation(fmt.Sprintf(
					"%s does not set schemaSettings.encoding; the publishers send JSON, so it must be JSON", describe(r)), "")
			case !encoding.IsString() || encoding.AsString() != spec.SchemaEncoding:
				args.Manager.ReportViolation(fmt.Sprintf(
					"%s has schemaSettings.encoding %s; the publishers send JSON, so it must be JSON", describe(r), show(encoding.Value)), "")
			}
			return nil
		},
	})
}
