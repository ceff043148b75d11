package stacks_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/gcpmock"
	"github.com/aiprod/aiprod-pubsub/inventory"
	"github.com/aiprod/aiprod-pubsub/schemas"
	"github.com/aiprod/aiprod-pubsub/spec"
	"github.com/aiprod/aiprod-pubsub/stackrun"
	"github.com/aiprod/aiprod-pubsub/stacks"
	"github.com/aiprod/aiprod-pubsub/testkit"
)

const (
	topicType   = spec.TopicType
	subType     = spec.SubscriptionType
	topicMember = spec.TopicIAMMemberType
	subMember   = spec.SubscriptionIAMMemberType
	accountType = spec.ServiceAccountType
	pipeType    = spec.PipelineType
	schemaType  = spec.SchemaType
)

// loadStack renders a stack of the repository's own files.
func loadStack(t *testing.T, stack string, edit func(map[string]string)) *stackrun.Result {
	t.Helper()
	res, _, err := stackrun.Stack("..", stack, edit)
	require.NoError(t, err)
	return res
}

// prop reads a property path of a resource's inputs as plain Go values.
func prop(r inventory.Resource, path string) any {
	p, err := resource.ParsePropertyPath(path)
	if err != nil {
		panic(err)
	}
	v, ok := p.Get(resource.NewProperty(r.Inputs))
	if !ok || v.IsNull() {
		return nil
	}
	return v.Mappable()
}

func mustGet(t *testing.T, res *stackrun.Result, typ, name string) inventory.Resource {
	t.Helper()
	r, err := res.ByName(typ, name)
	require.NoError(t, err)
	return r
}

func TestStacks(t *testing.T) {
	t.Parallel()
	cases := []struct {
		stack      string
		project    string
		protect    bool
		createsSA  bool
		counts     map[string]int
		saEmail    string
		saDepended bool
	}{
		{
			stack: "dev", project: "aiprod-dev-000000", protect: false, createsSA: true,
			counts: map[string]int{topicType: 3, subType: 3, topicMember: 4, subMember: 3, accountType: 1, pipeType: 1, schemaType: 2,
				spec.AlertPolicyType: 5, spec.DashboardType: 1},
			saEmail: "aiprod-sa@aiprod-dev-000000.iam.gserviceaccount.com",
		},
		{
			stack: "prod", project: "aiprod-prod-000000", protect: true, createsSA: false,
			counts: map[string]int{topicType: 3, subType: 3, topicMember: 4, subMember: 3, pipeType: 1, schemaType: 2,
				spec.AlertPolicyType: 5, spec.DashboardType: 1, spec.NotificationChannelType: 1},
			saEmail: "aiprod-sa@aiprod-prod-000000.iam.gserviceaccount.com",
		},
	}
	for _, tc := range cases {
		t.Run(tc.stack, func(t *testing.T) {
			t.Parallel()
			res := loadStack(t, tc.stack, nil)

			counts := map[string]int{}
			for _, r := range res.Resources {
				counts[r.Type]++
			}
			assert.Equal(t, tc.counts, counts, "resource counts by type")

			stackURN := fmt.Sprintf("urn:pulumi:%s::aiprod-pubsub::pulumi:pulumi:Stack::aiprod-pubsub-%s", tc.stack, tc.stack)
			pipe := mustGet(t, res, pipeType, "pipeline")
			assert.Equal(t, stackURN, pipe.Parent, "%s: parent", pipe.URN)
			assert.False(t, pipe.Custom, "%s: a component", pipe.URN)

			// The stack files name the foundation stack, whose output names the service agent.
			foundation := "organization/aiprod-foundation/" + tc.stack
			agent := "serviceAccount:service-" + gcpmock.ProjectNumber(foundation) + "@gcp-sa-pubsub.iam.gserviceaccount.com"
			app := "serviceAccount:" + tc.saEmail
			assert.Equal(t, []string{foundation}, res.StackReferences, "the foundation stack is read once")
			assert.Empty(t, res.Lookups, "with the foundation, the project number is never looked up")

			for _, r := range res.Resources {
				// The account, the dashboard and the notification channels serve every pipeline.
				if slices.Contains([]string{pipeType, accountType, spec.DashboardType, spec.NotificationChannelType}, r.Type) {
					continue
				}
				assert.Equal(t, pipe.URN, r.Parent, "%s: parent is the pipeline component", r.URN)
				assert.Equal(t, tc.project, prop(r, "project"), "%s: project", r.URN)
			}

			for _, q := range []string{"jobs", "results", "dlq"} {
				topic := mustGet(t, res, topicType, "aiprod-pipeline-"+q)
				sub := mustGet(t, res, subType, "aiprod-pipeline-"+q+"-sub")
				for _, r := range []inventory.Resource{topic, sub} {
					assert.Equal(t, map[string]any{"app": "aiprod", "component": "pipeline", "env": tc.stack, "managed-by": "pulumi"},
						prop(r, "labels"), "%s: labels", r.URN)
					assert.Equal(t, tc.protect, r.Protect, "%s: protect", r.URN)
				}
				assert.Equal(t, "aiprod-pipeline-"+q, prop(topic, "name"), "%s: name", topic.URN)
				assert.Equal(t, fmt.Sprintf("projects/%s/topics/aiprod-pipeline-%s", tc.project, q), topic.ID, "%s: id", topic.URN)
				assert.Equal(t, "aiprod-pipeline-"+q+"-sub", prop(sub, "name"), "%s: name", sub.URN)
				assert.Equal(t, fmt.Sprintf("projects/%s/topics/aiprod-pipeline-%s", tc.project, q), prop(sub, "topic"), "%s: topic", sub.URN)
				assert.Contains(t, sub.Dependencies, topic.URN, "%s: depends on its topic", sub.URN)
				assert.Equal(t, "", prop(sub, "expirationPolicy.ttl"), "%s: never expires", sub.URN)
				assert.Equal(t, "604800s", prop(sub, "messageRetentionDuration"), "%s: retention", sub.URN)
				assert.Nil(t, prop(sub, "pushConfig"), "%s: a pull subscription", sub.URN)

				member := mustGet(t, res, topicMember, "aiprod-pipeline-"+q+"-publisher-app")
				assert.Equal(t, "roles/pubsub.publisher", prop(member, "role"), "%s: role", member.URN)
				assert.Equal(t, app, prop(member, "member"), "%s: member", member.URN)
				assert.Equal(t, "aiprod-pipeline-"+q, prop(member, "topic"), "%s: topic", member.URN)
			}

			contracts := map[string]string{"jobs": "job.avsc", "results": "result.avsc"}
			for q, file := range contracts {
				def, err := fs.ReadFile(schemas.FS, file)
				require.NoError(t, err)
				schema := mustGet(t, res, schemaType, "aiprod-pipeline-"+q+"-schema")
				assert.Equal(t, "AVRO", prop(schema, "type"), "%s: type", schema.URN)
				assert.Equal(t, string(def), prop(schema, "definition"), "%s: the definition is %s", schema.URN, file)
				assert.Equal(t, tc.protect, schema.Protect, "%s: protect", schema.URN)
				topic := mustGet(t, res, topicType, "aiprod-pipeline-"+q)
				assert.Equal(t, fmt.Sprintf("projects/%s/schemas/aiprod-pipeline-%s-schema", tc.project, q),
					prop(topic, "schemaSettings.schema"), "%s: schema", topic.URN)
				assert.Equal(t, "JSON", prop(topic, "schemaSettings.encoding"), "%s: encoding", topic.URN)
				assert.Contains(t, topic.Dependencies, schema.URN, "%s: created after its schema", topic.URN)
			}
			dlqTopic := mustGet(t, res, topicType, "aiprod-pipeline-dlq")
			assert.Nil(t, prop(dlqTopic, "schemaSettings"), "%s: the dlq takes both kinds of message", dlqTopic.URN)

			dlqID := fmt.Sprintf("projects/%s/topics/aiprod-pipeline-dlq", tc.project)
			jobs := mustGet(t, res, subType, "aiprod-pipeline-jobs-sub")
			assert.EqualValues(t, 300, prop(jobs, "ackDeadlineSeconds"), "%s: ack deadline", jobs.URN)
			assert.Equal(t, true, prop(jobs, "enableMessageOrdering"), "%s: ordering", jobs.URN)
			assert.Equal(t, dlqID, prop(jobs, "deadLetterPolicy.deadLetterTopic"), "%s: dead-letter topic", jobs.URN)
			assert.EqualValues(t, 5, prop(jobs, "deadLetterPolicy.maxDeliveryAttempts"), "%s: attempts", jobs.URN)
			assert.Equal(t, "10s", prop(jobs, "retryPolicy.minimumBackoff"), "%s: min backoff", jobs.URN)
			assert.Equal(t, "600s", prop(jobs, "retryPolicy.maximumBackoff"), "%s: max backoff", jobs.URN)

			results := mustGet(t, res, subType, "aiprod-pipeline-results-sub")
			assert.EqualValues(t, 60, prop(results, "ackDeadlineSeconds"), "%s: ack deadline", results.URN)
			assert.Nil(t, prop(results, "enableMessageOrdering"), "%s: no ordering", results.URN)
			assert.Equal(t, dlqID, prop(results, "deadLetterPolicy.deadLetterTopic"), "%s: dead-letter topic", results.URN)
			assert.EqualValues(t, 5, prop(results, "deadLetterPolicy.maxDeliveryAttempts"), "%s: attempts", results.URN)
			assert.Equal(t, "10s", prop(results, "retryPolicy.minimumBackoff"), "%s: min backoff", results.URN)

			dlq := mustGet(t, res, subType, "aiprod-pipeline-dlq-sub")
			assert.EqualValues(t, 60, prop(dlq, "ackDeadlineSeconds"), "%s: ack deadline", dlq.URN)
			assert.Nil(t, prop(dlq, "deadLetterPolicy"), "%s: no dead-letter policy", dlq.URN)

			grants := []struct {
				typ, name, role, member, target string
			}{
				{topicMember, "aiprod-pipeline-dlq-publisher-agent", "roles/pubsub.publisher", agent, "aiprod-pipeline-dlq"},
				{subMember, "aiprod-pipeline-jobs-sub-subscriber-app", "roles/pubsub.subscriber", app, "aiprod-pipeline-jobs-sub"},
				{subMember, "aiprod-pipeline-jobs-sub-subscriber-agent", "roles/pubsub.subscriber", agent, "aiprod-pipeline-jobs-sub"},
				{subMember, "aiprod-pipeline-results-sub-subscriber-agent", "roles/pubsub.subscriber", agent, "aiprod-pipeline-results-sub"},
			}
			for _, g := range grants {
				m := mustGet(t, res, g.typ, g.name)
				assert.Equal(t, g.role, prop(m, "role"), "%s: role", m.URN)
				assert.Equal(t, g.member, prop(m, "member"), "%s: member", m.URN)
				key := "topic"
				if g.typ == subMember {
					key = "subscription"
				}
				assert.Equal(t, g.target, prop(m, key), "%s: target", m.URN)
			}

			// A member must follow its target: GCP drops the grant when the target is deleted.
			for _, m := range append(res.ByType(topicMember), res.ByType(subMember)...) {
				targetType, key := topicType, "topic"
				if m.Type == subMember {
					targetType, key = subType, "subscription"
				}
				target := mustGet(t, res, targetType, prop(m, key).(string))
				assert.Contains(t, m.Dependencies, target.URN, "%s: depends on its target", m.URN)
				assert.Equal(t, []string{target.URN}, m.ReplaceWith, "%s: replaced with its target", m.URN)
				assert.Equal(t, target.URN, m.DeletedWith, "%s: deleted with its target", m.URN)
				assert.False(t, m.Protect, "%s: a grant is not protected", m.URN)
				assert.NotEqual(t, "serviceAccount:", prop(m, "member"), "%s: member has an email", m.URN)
			}

			accounts := res.ByType(accountType)
			if tc.createsSA {
				require.Len(t, accounts, 1)
				sa := accounts[0]
				assert.Equal(t, "aiprod-sa", prop(sa, "accountId"), "%s: account id", sa.URN)
				assert.Equal(t, stackURN, sa.Parent, "%s: parent", sa.URN)
				assert.Equal(t, tc.protect, sa.Protect, "%s: protect", sa.URN)
				for _, m := range res.Resources {
					if prop(m, "member") == app {
						assert.Contains(t, m.Dependencies, sa.URN, "%s: waits for the account", m.URN)
					}
				}
			}

			pipelines := res.Outputs["pipelines"].(map[string]any)
			assert.Equal(t, map[string]any{
				"jobsTopic":           fmt.Sprintf("projects/%s/topics/aiprod-pipeline-jobs", tc.project),
				"resultsTopic":        fmt.Sprintf("projects/%s/topics/aiprod-pipeline-results", tc.project),
				"dlqTopic":            dlqID,
				"jobsSubscription":    fmt.Sprintf("projects/%s/subscriptions/aiprod-pipeline-jobs-sub", tc.project),
				"resultsSubscription": fmt.Sprintf("projects/%s/subscriptions/aiprod-pipeline-results-sub", tc.project),
				"dlqSubscription":     fmt.Sprintf("projects/%s/subscriptions/aiprod-pipeline-dlq-sub", tc.project),
				"serviceAccountEmail": tc.saEmail,
			}, pipelines["pipeline"], "stack outputs")
		})
	}
}

// TestVariants checks the config keys that the stack files leave at their defaults.
func TestVariants(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		edit  map[string]string
		check func(t *testing.T, res *stackrun.Result)
	}{
		{"results without dead-lettering", map[string]string{"aiprod-pubsub:deadLetterResults": "false"}, func(t *testing.T, res *stackrun.Result) {
			results := mustGet(t, res, subType, "aiprod-pipeline-results-sub")
			assert.Nil(t, prop(results, "deadLetterPolicy"), "%s: no dead-letter policy", results.URN)
			_, err := res.ByName(subMember, "aiprod-pipeline-results-sub-subscriber-agent")
			assert.Error(t, err, "no service-agent grant on a subscription that does not dead-letter")
			assert.Len(t, res.ByType(subMember), 2)
		}},
		{"app pulls results too", map[string]string{"aiprod-pubsub:appSubscriptions": `["jobs","results"]`}, func(t *testing.T, res *stackrun.Result) {
			m := mustGet(t, res, subMember, "aiprod-pipeline-results-sub-subscriber-app")
			assert.Equal(t, "roles/pubsub.subscriber", prop(m, "role"))
		}},
		{"adopted without the foundation: the number is looked up", map[string]string{"aiprod-pubsub:foundationStack": ""}, func(t *testing.T, res *stackrun.Result) {
			assert.Equal(t, []string{"aiprod-dev-000000"}, res.Lookups, "the project number is looked up once")
			assert.Empty(t, res.StackReferences, "no foundation, no stack reference")
			m := mustGet(t, res, topicMember, "aiprod-pipeline-dlq-publisher-agent")
			assert.Equal(t, spec.ServiceAgent(gcpmock.ProjectNumber("aiprod-dev-000000")), prop(m, "member"))
		}},
		{"project number from config", map[string]string{"aiprod-pubsub:projectNumber": "123456789012", "aiprod-pubsub:foundationStack": ""}, func(t *testing.T, res *stackrun.Result) {
			assert.Empty(t, res.Lookups, "no lookup when the number is configured")
			assert.Empty(t, res.StackReferences, "no foundation, no stack reference")
			m := mustGet(t, res, topicMember, "aiprod-pipeline-dlq-publisher-agent")
			assert.Equal(t, "serviceAccount:service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com", prop(m, "member"))
		}},
		{"two pipelines, one account", map[string]string{"aiprod-pubsub:pipelines": `["video","audio"]`, "aiprod-pubsub:namePrefix": "ai"}, func(t *testing.T, res *stackrun.Result) {
			assert.Len(t, res.ByType(topicType), 6)
			assert.Len(t, res.ByType(subType), 6)
			assert.Len(t, res.ByType(accountType), 1)
			for _, p := range []string{"video", "audio"} {
				pipe := mustGet(t, res, pipeType, p)
				topic := mustGet(t, res, topicType, "ai-"+p+"-jobs")
				assert.Equal(t, pipe.URN, topic.Parent)
				assert.Equal(t, p, prop(topic, "labels.component"))
			}
			assert.Len(t, res.Outputs["pipelines"].(map[string]any), 2)
		}},
		{"extra labels, kms, regions, tuned settings", map[string]string{
			"aiprod-pubsub:labels":                     `{"team":"media","cost-center":"42"}`,
			"aiprod-pubsub:kmsKeyName":                 "projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k",
			"aiprod-pubsub:allowedPersistenceRegions":  `["europe-west1"]`,
			"aiprod-pubsub:jobsAckDeadlineSeconds":     "600",
			"aiprod-pubsub:maxDeliveryAttempts":        "10",
			"aiprod-pubsub:retryMinimumBackoffSeconds": "0",
			"aiprod-pubsub:dlqMessageRetentionSeconds": "2678400",
		}, func(t *testing.T, res *stackrun.Result) {
			topic := mustGet(t, res, topicType, "aiprod-pipeline-jobs")
			assert.Equal(t, "media", prop(topic, "labels.team"))
			assert.Equal(t, "aiprod", prop(topic, "labels.app"))
			assert.Equal(t, "projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k", prop(topic, "kmsKeyName"))
			assert.Equal(t, []any{"europe-west1"}, prop(topic, "messageStoragePolicy.allowedPersistenceRegions"))
			jobs := mustGet(t, res, subType, "aiprod-pipeline-jobs-sub")
			assert.EqualValues(t, 600, prop(jobs, "ackDeadlineSeconds"))
			assert.EqualValues(t, 10, prop(jobs, "deadLetterPolicy.maxDeliveryAttempts"))
			assert.Equal(t, "0s", prop(jobs, "retryPolicy.minimumBackoff"))
			dlq := mustGet(t, res, subType, "aiprod-pipeline-dlq-sub")
			assert.Equal(t, "2678400s", prop(dlq, "messageRetentionDuration"))
		}},
		{"schemas not enforced", map[string]string{"aiprod-pubsub:enforceSchemas": "false"}, func(t *testing.T, res *stackrun.Result) {
			assert.Empty(t, res.ByType(schemaType))
			for _, topic := range res.ByType(topicType) {
				assert.Nil(t, prop(topic, "schemaSettings"), "%s: no schema", topic.URN)
			}
		}},
		{"protected dev protects the created account", map[string]string{"aiprod-pubsub:protect": "true", "aiprod-pubsub:alertEmails": `["oncall@example.com"]`}, func(t *testing.T, res *stackrun.Result) {
			sa := mustGet(t, res, accountType, "aiprod-sa")
			assert.True(t, sa.Protect)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := loadStack(t, "dev", func(v map[string]string) {
				for k, x := range tc.edit {
					v[k] = x
				}
			})
			tc.check(t, res)
		})
	}
}

// inventoryEntry is one resource of a golden inventory.
type inventoryEntry struct {
	Type        string         `json:"type"`
	Name        string         `json:"name"`
	Parent      string         `json:"parent,omitempty"`
	Protect     bool           `json:"protect,omitempty"`
	ID          string         `json:"id,omitempty"`
	Inputs      map[string]any `json:"inputs,omitempty"`
	DependsOn   []string       `json:"dependsOn,omitempty"`
	ReplaceWith []string       `json:"replaceWith,omitempty"`
}

type goldenInventory struct {
	Counts    map[string]int   `json:"counts"`
	Resources []inventoryEntry `json:"resources"`
	Outputs   map[string]any   `json:"outputs"`
}

func shortNames(urns []string) []string {
	var out []string
	for _, u := range urns {
		out = append(out, u[strings.LastIndex(u, "::")+2:])
	}
	slices.Sort(out)
	return out
}

// TestGoldenInventory compares each stack's resources with testdata/<stack>.inventory.json;
// `go test ./stacks -update` rewrites them.
func TestGoldenInventory(t *testing.T) {
	t.Parallel()
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			testkit.Golden(t, "./stacks", filepath.Join("..", "testdata", stack+".inventory.json"), inventoryJSON(t, loadStack(t, stack, nil)))
		})
	}
}

// inventoryJSON is a stack's golden inventory: counts by type, every resource and the outputs.
func inventoryJSON(t *testing.T, res *stackrun.Result) string {
	t.Helper()
	inv := goldenInventory{Counts: map[string]int{}, Outputs: res.Outputs}
	for _, r := range res.Resources {
		inv.Counts[r.Type]++
		inv.Resources = append(inv.Resources, inventoryEntry{
			Type: r.Type, Name: r.Name, Parent: shortNames([]string{r.Parent})[0], Protect: r.Protect, ID: r.ID,
			Inputs: r.Inputs.Mappable(), DependsOn: shortNames(r.Dependencies), ReplaceWith: shortNames(r.ReplaceWith),
		})
	}
	got, err := json.MarshalIndent(inv, "", "  ")
	require.NoError(t, err)
	return string(got) + "\n"
}

// TestPulumiYAMLMatchesDefaults keeps Pulumi.yaml's declared config equal to the program's keys
// and defaults.
func TestPulumiYAMLMatchesDefaults(t *testing.T) {
	t.Parallel()
	files, err := stackrun.Load("..", "dev", "")
	require.NoError(t, err)
	defaults := stacks.Defaults()
	var declared []string
	for k := range files.Declared {
		declared = append(declared, k)
	}
	var keys []string
	for _, k := range stacks.Keys {
		keys = append(keys, stacks.Namespace+":"+k.Name)
	}
	assert.ElementsMatch(t, keys, declared, "Pulumi.yaml declares exactly the program's keys")
	for _, k := range stacks.Keys {
		decl, ok := files.Declared[stacks.Namespace+":"+k.Name]
		if !assert.True(t, ok, "Pulumi.yaml declares %s", k.Name) {
			continue
		}
		assert.Equal(t, k.Type, decl.TypeName(), "%s: type", k.Name)
		assert.NotEmpty(t, decl.Description, "%s: description", k.Name)
		want, err := json.Marshal(k.Value(defaults))
		require.NoError(t, err)
		got, err := json.Marshal(decl.Default)
		require.NoError(t, err)
		if k.Type == "array" && string(want) == "null" {
			want = []byte("[]")
		}
		assert.JSONEq(t, string(want), string(got), "%s: Pulumi.yaml's default", k.Name)
	}
}
