package rules

import (
	"testing"

	"github.com/aiprod/aiprod-pubsub/spec"
	"github.com/aiprod/aiprod-pubsub/testkit"
)

func TestRequiredLabels(t *testing.T) {
	t.Parallel()
	runCases(t, PolicyRequiredLabels, []ruleCase{
		{name: "labelled passes"},
		{name: "topic without env", changes: []testkit.Change{testkit.Set(typeTopic, stem+"-jobs", nil, "labels", "env")},
			want:    []string{`topic "aiprod-pipeline-jobs"`, "labels", `["env"]`, "app=", "managed-by="},
			wantURN: testURN("dev", typeTopic, stem+"-jobs")},
		{name: "subscription without labels", changes: []testkit.Change{testkit.Set(typeSubscription, dlqSub, nil, "labels")},
			want: []string{`subscription "aiprod-pipeline-dlq-sub"`, "labels (none)", `["app" "env" "managed-by"]`}},
		{name: "empty managed-by", changes: []testkit.Change{testkit.Set(typeSubscription, jobsSub, "", "labels", "managed-by")},
			want: []string{`subscription "aiprod-pipeline-jobs-sub"`, `managed-by=""`, `["managed-by"]`}},
		{name: "component is not required", changes: []testkit.Change{testkit.Set(typeTopic, stem+"-dlq", nil, "labels", "component")}},
		{name: "config requires component", config: map[string]any{"labels": []any{"app", "component"}},
			changes: []testkit.Change{testkit.Set(typeTopic, stem+"-dlq", nil, "labels", "component")},
			want:    []string{`topic "aiprod-pipeline-dlq"`, `["component"]`}},
	})
}

func TestProdProtect(t *testing.T) {
	t.Parallel()
	prodURN := func(typ, name string) string { return testURN("prod", typ, name) }
	runCases(t, PolicyProdProtect, []ruleCase{
		{name: "prod protected passes", stack: "prod"},
		{name: "dev unprotected passes", stack: "dev"},
		{name: "prod topic unprotected", stack: "prod", changes: []testkit.Change{testkit.Protect(typeTopic, stem+"-results", false)},
			want:    []string{`topic "aiprod-pipeline-results"`, "protect false", `production stack "prod"`},
			wantURN: prodURN(typeTopic, stem+"-results")},
		{name: "prod subscription unprotected", stack: "prod", changes: []testkit.Change{testkit.Protect(typeSubscription, dlqSub, false)},
			want: []string{`subscription "aiprod-pipeline-dlq-sub"`, "protect false"}},
		{name: "config marks dev as production", stack: "dev", config: map[string]any{"production": true},
			want: []string{`protect false`, `production stack "dev"`}, count: 6},
		{name: "config lists production stacks", stack: "dev", config: map[string]any{"productionStacks": []any{"dev", "prod"}},
			want: []string{`protect false`}, count: 6},
		{name: "config says prod is not production", stack: "prod", config: map[string]any{"production": false},
			changes: []testkit.Change{testkit.Protect(typeTopic, stem+"-results", false)}},
		{name: "the violation names the policy config that lifts it", stack: "prod",
			changes: []testkit.Change{testkit.Protect(typeTopic, stem+"-results", false)},
			want:    []string{"policy config prod-protect.production: false"}},
		{name: "prod schema unprotected", stack: "prod",
			changes: []testkit.Change{testkit.Add(newResource("prod", spec.SchemaType, stem+"-jobs-schema", map[string]any{"name": stem + "-jobs-schema"}))},
			want:    []string{`schema "aiprod-pipeline-jobs-schema" has protect false`}},
		{name: "prod service account unprotected", stack: "prod",
			changes: []testkit.Change{testkit.Add(newResource("prod", spec.ServiceAccountType, "aiprod-sa", map[string]any{"accountId": "aiprod-sa"}))},
			want:    []string{`service account "aiprod-sa" has protect false`}},
		{name: "prod schema protected", stack: "prod",
			changes: []testkit.Change{testkit.Add(newResource("prod", spec.SchemaType, stem+"-jobs-schema", map[string]any{"name": stem + "-jobs-schema"})),
				testkit.Protect(spec.SchemaType, stem+"-jobs-schema", true)}},
	})
}
