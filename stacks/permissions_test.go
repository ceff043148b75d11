package stacks_test

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/offline"
	"github.com/aiprod/aiprod-pubsub/spec"
)

// TestPermissionTableCoversThePipeline runs both real pipeline stacks offline, and the variants
// that reach the program's optional resources and calls, and checks that the permission table
// the foundation's custom roles come from has every custom resource type the program registers,
// and nothing the program never registers or calls.
func TestPermissionTableCoversThePipeline(t *testing.T) {
	t.Parallel()
	runs := map[string]func(map[string]string){
		"dev":  nil,
		"prod": nil,
		// An encrypted topic needs the service agent's grant on the key.
		"dev with a KMS key": func(v map[string]string) {
			v["aiprod-pubsub:kmsKeyName"] = "projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k"
		},
		// A stack adopted onto a project without the foundation looks the number up.
		"dev without the foundation": func(v map[string]string) { v["aiprod-pubsub:foundationStack"] = "" },
	}
	used := map[string]bool{}
	for _, name := range slices.Sorted(maps.Keys(runs)) {
		stack, _, _ := strings.Cut(name, " ")
		res, _, err := offline.Stack("..", stack, runs[name])
		require.NoError(t, err, name)
		for _, r := range res.Resources {
			if !r.Custom {
				continue // components need no permission
			}
			used[r.Type] = true
			_, ok := spec.PipelinePermissions[r.Type]
			assert.True(t, ok, "%s: the pipeline registers %s, which spec.PipelinePermissions lacks: the deployer could not create it", r.URN, r.Type)
		}
		if len(res.StackReferences) > 0 {
			used[spec.StackReferenceType] = true
		}
		if len(res.Lookups) > 0 {
			used[spec.GetProjectToken] = true
		}
	}
	for typ := range spec.PipelinePermissions {
		assert.True(t, used[typ], "spec.PipelinePermissions has %s, which the pipeline never registers or calls: drop it", typ)
	}
}

// TestRolesFromTheTable: the preview role reads and never writes; the deployer's adds the
// writes; both are exactly the table's.
func TestRolesFromTheTable(t *testing.T) {
	t.Parallel()
	preview, deployer := spec.PreviewPermissions(), spec.DeployerPermissions()
	assert.Subset(t, deployer, preview, "the deployer reads what the preview reads")
	for _, p := range preview {
		for _, verb := range []string{".create", ".update", ".delete", ".setIamPolicy", ".attachSubscription", ".commit", ".attach"} {
			assert.False(t, strings.HasSuffix(p, verb), "the preview role must change nothing: %s", p)
		}
	}
	var all []string
	for _, a := range spec.PipelinePermissions {
		all = append(all, a.Read...)
		all = append(all, a.Write...)
	}
	slices.Sort(all)
	assert.Equal(t, slices.Compact(all), deployer)
	assert.Contains(t, deployer, "pubsub.topics.setIamPolicy")
	assert.Contains(t, preview, "pubsub.topics.getIamPolicy")
}
