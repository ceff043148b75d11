package stacks_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/gcpmock"
	"github.com/aiprod/aiprod-pubsub/inventory"
	"github.com/aiprod/aiprod-pubsub/offline"
	"github.com/aiprod/aiprod-pubsub/spec"
	"github.com/aiprod/aiprod-pubsub/stacks"
	"github.com/aiprod/aiprod-pubsub/testkit/golden"
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
func loadStack(t *testing.T, stack string, edit func(map[string]string)) *offline.Result {
	t.Helper()
	res, _, err := offline.Stack("..", stack, edit)
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

func mustGet(t *testing.T, res *offline.Result, typ, name string) inventory.Resource {
	t.Helper()
	r, err := res.ByName(typ, name)
	require.NoError(t, err)
	return r
}

// TestStacks proves, per stack file, what the golden inventories (TestGoldenInventory) do not
// record; every value of every resource and output is pinned there.
func TestStacks(t *testing.T) {
	t.Parallel()
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack+"/the service agent comes from the foundation stack, never a lookup", func(t *testing.T) {
			t.Parallel()
			res := loadStack(t, stack, nil)
			assert.Equal(t, []string{"organization/aiprod-foundation/" + stack}, res.StackReferences, "the foundation stack is read once")
			assert.Empty(t, res.Lookups, "with the foundation, the project number is never looked up")
		})
	}
}

// TestVariants checks the config keys that the stack files leave at their defaults.
func TestVariants(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		edit  map[string]string
		check func(t *testing.T, res *offline.Result)
	}{
		{"results without dead-lettering", map[string]string{"aiprod-pubsub:deadLetterResults": "false"}, func(t *testing.T, res *offline.Result) {
			results := mustGet(t, res, subType, "aiprod-pipeline-results-sub")
			assert.Nil(t, prop(results, "deadLetterPolicy"), "%s: no dead-letter policy", results.URN)
			_, err := res.ByName(subMember, "aiprod-pipeline-results-sub-subscriber-agent")
			assert.Error(t, err, "no service-agent grant on a subscription that does not dead-letter")
			assert.Len(t, res.ByType(subMember), 2)
		}},
		{"app pulls results too", map[string]string{"aiprod-pubsub:appSubscriptions": `["jobs","results"]`}, func(t *testing.T, res *offline.Result) {
			m := mustGet(t, res, subMember, "aiprod-pipeline-results-sub-subscriber-app")
			assert.Equal(t, "roles/pubsub.subscriber", prop(m, "role"))
		}},
		{"adopted without the foundation: the number is looked up", map[string]string{"aiprod-pubsub:foundationStack": ""}, func(t *testing.T, res *offline.Result) {
			assert.Equal(t, []string{"aiprod-dev-000000"}, res.Lookups, "the project number is looked up once")
			assert.Empty(t, res.StackReferences, "no foundation, no stack reference")
			m := mustGet(t, res, topicMember, "aiprod-pipeline-dlq-publisher-agent")
			assert.Equal(t, spec.ServiceAgent(gcpmock.ProjectNumber("aiprod-dev-000000")), prop(m, "member"))
		}},
		{"project number from config", map[string]string{"aiprod-pubsub:projectNumber": "123456789012", "aiprod-pubsub:foundationStack": ""}, func(t *testing.T, res *offline.Result) {
			assert.Empty(t, res.Lookups, "no lookup when the number is configured")
			assert.Empty(t, res.StackReferences, "no foundation, no stack reference")
			m := mustGet(t, res, topicMember, "aiprod-pipeline-dlq-publisher-agent")
			assert.Equal(t, "serviceAccount:service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com", prop(m, "member"))
		}},
		{"two pipelines, one account", map[string]string{"aiprod-pubsub:pipelines": `["video","audio"]`, "aiprod-pubsub:namePrefix": "ai"}, func(t *testing.T, res *offline.Result) {
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
		}, func(t *testing.T, res *offline.Result) {
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
		{"schemas not enforced", map[string]string{"aiprod-pubsub:enforceSchemas": "false"}, func(t *testing.T, res *offline.Result) {
			assert.Empty(t, res.ByType(schemaType))
			for _, topic := range res.ByType(topicType) {
				assert.Nil(t, prop(topic, "schemaSettings"), "%s: no schema", topic.URN)
			}
		}},
		{"protected dev protects the created account", map[string]string{"aiprod-pubsub:protect": "true", "aiprod-pubsub:alertEmails": `["` + realAddress + `"]`}, func(t *testing.T, res *offline.Result) {
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
	DeletedWith string         `json:"deletedWith,omitempty"`
	// Component is true for a component resource, which has no provider of its own.
	Component bool `json:"component,omitempty"`
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

// inventoryJSON is a stack's golden inventory: every resource with its inputs, graph and
// options, the counts by type and the outputs.
func inventoryJSON(t *testing.T, res *offline.Result) string {
	t.Helper()
	inv := goldenInventory{Counts: map[string]int{}, Outputs: res.Outputs}
	for _, r := range res.Resources {
		inv.Counts[r.Type]++
		var deletedWith string
		if r.DeletedWith != "" {
			deletedWith = shortNames([]string{r.DeletedWith})[0]
		}
		inv.Resources = append(inv.Resources, inventoryEntry{
			Type: r.Type, Name: r.Name, Parent: shortNames([]string{r.Parent})[0], Protect: r.Protect, ID: r.ID,
			Inputs: r.Inputs.Mappable(), DependsOn: shortNames(r.Dependencies), ReplaceWith: shortNames(r.ReplaceWith),
			DeletedWith: deletedWith, Component: !r.Custom,
		})
	}
	got, err := json.MarshalIndent(inv, "", "  ")
	require.NoError(t, err)
	return string(got) + "\n"
}

func goldenPath(stack string) string { return filepath.Join("..", "testdata", stack+".inventory.json") }

// TestGoldenInventory compares each stack's resources with testdata/<stack>.inventory.json;
// `go test ./stacks -update` rewrites them.
func TestGoldenInventory(t *testing.T) {
	t.Parallel()
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			golden.File(t, "./stacks", goldenPath(stack), inventoryJSON(t, loadStack(t, stack, nil)))
		})
	}
}

// TestGoldenInventoryCatchesChanges: changing any one recorded value of one resource, or an
// output, makes the dev inventory differ from its golden file, so TestGoldenInventory fails.
func TestGoldenInventoryCatchesChanges(t *testing.T) {
	t.Parallel()
	want, err := os.ReadFile(goldenPath("dev"))
	require.NoError(t, err)
	edits := map[string]func(r *inventory.Resource, outs map[string]any){
		"an input": func(r *inventory.Resource, _ map[string]any) {
			r.Inputs["ackDeadlineSeconds"] = resource.NewProperty(301.0)
		},
		"protect":      func(r *inventory.Resource, _ map[string]any) { r.Protect = !r.Protect },
		"the id":       func(r *inventory.Resource, _ map[string]any) { r.ID += "x" },
		"the parent":   func(r *inventory.Resource, _ map[string]any) { r.Parent = "urn:pulumi:dev::aiprod-pubsub::x::other" },
		"a dependency": func(r *inventory.Resource, _ map[string]any) { r.Dependencies = nil },
		"replaceWith": func(r *inventory.Resource, _ map[string]any) {
			r.ReplaceWith = []string{"urn:pulumi:dev::aiprod-pubsub::x::other"}
		},
		"deletedWith": func(r *inventory.Resource, _ map[string]any) {
			r.DeletedWith = "urn:pulumi:dev::aiprod-pubsub::x::other"
		},
		"custom":         func(r *inventory.Resource, _ map[string]any) { r.Custom = !r.Custom },
		"an output":      func(_ *inventory.Resource, outs map[string]any) { outs["extra"] = "x" },
		"a resource out": nil,
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := loadStack(t, "dev", nil)
			require.Equal(t, string(want), inventoryJSON(t, res), "unedited, the inventory is the golden one")
			i := slices.IndexFunc(res.Resources, func(r inventory.Resource) bool { return r.Name == "aiprod-pipeline-jobs-sub" })
			require.GreaterOrEqual(t, i, 0)
			if edit == nil {
				res.Resources = slices.Delete(res.Resources, i, i+1)
			} else {
				res.Resources[i].Inputs = res.Resources[i].Inputs.Copy()
				edit(&res.Resources[i], res.Outputs)
			}
			assert.NotEqual(t, string(want), inventoryJSON(t, res))
		})
	}
}

// TestPulumiYAMLMatchesDefaults keeps Pulumi.yaml's declared config equal to the program's keys
// and defaults.
func TestPulumiYAMLMatchesDefaults(t *testing.T) {
	t.Parallel()
	files, err := offline.Load("..", "dev", "")
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
