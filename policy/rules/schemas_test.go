package rules

import (
	"testing"

	"github.com/aiprod/aiprod-pubsub/testkit"
)

func TestTopicSchema(t *testing.T) {
	t.Parallel()
	jobsTopic, resultsTopic := stem+"-jobs", stem+"-results"
	runCases(t, PolicyTopicSchema, []ruleCase{
		{name: "schemas on jobs and results pass"},
		{name: "jobs without schema settings", changes: []testkit.Change{testkit.Set(typeTopic, jobsTopic, nil, "schemaSettings")},
			want: []string{`topic "aiprod-pipeline-jobs"`, "no schemaSettings"}, wantURN: testURN("dev", typeTopic, jobsTopic)},
		{name: "results without a schema", changes: []testkit.Change{testkit.Set(typeTopic, resultsTopic, nil, "schemaSettings", "schema")},
			want: []string{`topic "aiprod-pipeline-results"`, "no schemaSettings.schema"}},
		{name: "binary encoding", changes: []testkit.Change{testkit.Set(typeTopic, jobsTopic, "BINARY", "schemaSettings", "encoding")},
			want: []string{`topic "aiprod-pipeline-jobs"`, `schemaSettings.encoding "BINARY"`, "must be JSON"}},
		{name: "no encoding", changes: []testkit.Change{testkit.Set(typeTopic, jobsTopic, nil, "schemaSettings", "encoding")},
			want: []string{`topic "aiprod-pipeline-jobs"`, "does not set schemaSettings.encoding"}},
		{name: "deleted schema", changes: []testkit.Change{testkit.Set(typeTopic, resultsTopic, "_deleted-schema_", "schemaSettings", "schema")},
			want: []string{`topic "aiprod-pipeline-results"`, `schemaSettings.schema "_deleted-schema_"`, "rejects every message"}},
		{name: "the dlq topic needs none", changes: []testkit.Change{testkit.Set(typeTopic, stem+"-dlq", nil, "schemaSettings")}},
		{name: "a stack that does not enforce schemas", config: map[string]any{"enforceSchemas": false},
			changes: []testkit.Change{testkit.Set(typeTopic, jobsTopic, nil, "schemaSettings")}},
		{name: "unknown settings are skipped", changes: []testkit.Change{testkit.Set(typeTopic, jobsTopic, computed, "schemaSettings")}},
		{name: "unknown schema id is skipped", changes: []testkit.Change{testkit.Set(typeTopic, jobsTopic, sentinel, "schemaSettings", "schema")}},
		{name: "unknown encoding is skipped", changes: []testkit.Change{testkit.Set(typeTopic, jobsTopic, computed, "schemaSettings", "encoding")}},
	})
}
