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
		{name: "the state bucket without env", foundation: true, changes: []testkit.Change{testkit.Set(typeBucket, stateBucket, nil, "labels", "env")},
			want:    []string{`bucket "` + testBucket + `" has labels`, `without ["env"]`},
			wantURN: foundationURN("dev", typeBucket, stateBucket)},
		{name: "the state bucket without labels", foundation: true, changes: []testkit.Change{testkit.Set(typeBucket, stateBucket, nil, "labels")},
			want: []string{`bucket "` + testBucket + `" has labels (none)`}},
		{name: "the crypto key's labels are not required", foundation: true, changes: []testkit.Change{testkit.Set(spec.CryptoKeyType, "secrets-key", nil, "labels")}},
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
		{name: "the foundation's prod passes", stack: "prod", foundation: true},
		{name: "the foundation's dev unprotected passes", stack: "dev", foundation: true},
		{name: "the foundation's prod state bucket unprotected", stack: "prod", foundation: true,
			changes: []testkit.Change{testkit.Protect(typeBucket, stateBucket, false)},
			want:    []string{`bucket "` + testBucket + `" has protect false`, "set the protect option (a stack allows it"},
			wantURN: foundationURN("prod", typeBucket, stateBucket)},
		{name: "the foundation's prod secrets key unprotected", stack: "prod", foundation: true,
			changes: []testkit.Change{testkit.Protect(spec.CryptoKeyType, "secrets-key", false)},
			want:    []string{`crypto key "stack-secrets" has protect false`}},
		{name: "the foundation's prod deployer unprotected", stack: "prod", foundation: true,
			changes: []testkit.Change{testkit.Protect(spec.ServiceAccountType, spec.DeployerAccountID, false)},
			want:    []string{`service account "aiprod-deployer" has protect false`}},
		{name: "the foundation's prod key ring need not be protected", stack: "prod", foundation: true,
			changes: []testkit.Change{testkit.Protect(spec.KeyRingType, "secrets-ring", false)}},
		{name: "prod schema protected", stack: "prod",
			changes: []testkit.Change{testkit.Add(newResource("prod", spec.SchemaType, stem+"-jobs-schema", map[string]any{"name": stem + "-jobs-schema"})),
				testkit.Protect(spec.SchemaType, stem+"-jobs-schema", true)}},
	})
}
