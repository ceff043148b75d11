package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/offline"
	"github.com/aiprod/aiprod-pubsub/policy/rules"
	"github.com/aiprod/aiprod-pubsub/spec"
	"github.com/aiprod/aiprod-pubsub/stacks"
	"github.com/aiprod/aiprod-pubsub/testkit/golden"
)

// configTable is the README's table of config keys, from the program's keys and Pulumi.yaml.
func configTable(t *testing.T) string {
	t.Helper()
	files, err := offline.Load(projectDir, "dev", "")
	require.NoError(t, err)
	var b strings.Builder
	b.WriteString("| key | type | default | meaning |\n| --- | --- | --- | --- |\n")
	for _, k := range stacks.Keys {
		decl := files.Declared[stacks.Namespace+":"+k.Name]
		def := fmt.Sprint(decl.Default)
		switch v := decl.Default.(type) {
		case []any:
			var parts []string
			for _, x := range v {
				parts = append(parts, fmt.Sprint(x))
			}
			def = "[" + strings.Join(parts, ", ") + "]"
		case map[string]any:
			def = "{}"
		case string:
			if v == "" {
				def = `""`
			}
		}
		fmt.Fprintf(&b, "| `%s:%s` | %s | `%s` | %s |\n", stacks.Namespace, k.Name, k.Type, def, decl.Description)
	}
	return b.String()
}

// outputsTable is the README's table of a pipeline's outputs, as the dev stack exports them.
func outputsTable(t *testing.T) string {
	t.Helper()
	res, _, err := offline.Stack(projectDir, "dev", nil)
	require.NoError(t, err)
	entry := res.Outputs["pipelines"].(map[string]any)["pipeline"].(map[string]any)
	keys := make([]string, 0, len(entry))
	for k := range entry {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString("| output | dev stack's value |\n| --- | --- |\n")
	for _, k := range keys {
		fmt.Fprintf(&b, "| `%s` | `%v` |\n", k, entry[k])
	}
	return b.String()
}

// foundationOutputsTable is the README's table of a foundation stack's outputs, as the dev
// foundation exports them offline: what only the cloud knows reads as known after deploy.
func foundationOutputsTable(t *testing.T) string {
	t.Helper()
	res, _, err := offline.Stack(filepath.Join(projectDir, "foundation"), "dev", nil)
	require.NoError(t, err)
	outputs := res.Offline().Outputs
	var b strings.Builder
	b.WriteString("| output | dev foundation's value, offline |\n| --- | --- |\n")
	for _, k := range slices.Sorted(maps.Keys(outputs)) {
		v := fmt.Sprint(outputs[k])
		if v == spec.Unknown {
			v = "(known after deploy)"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` |\n", k, v)
	}
	return b.String()
}

// policyConfigTable is the README's table of what a stack's policy config may set: every
// config property of the pack's policies, with its type, GCP's range, the spec's default and
// the pack's own description of it.
func policyConfigTable() string {
	var b strings.Builder
	b.WriteString("| policy | property | type | default | meaning |\n| --- | --- | --- | --- | --- |\n")
	for _, p := range rules.Policies("") {
		s := p.ConfigSchema()
		if s == nil {
			continue
		}
		for _, k := range slices.Sorted(maps.Keys(s.Properties)) {
			prop := s.Properties[k]
			fmt.Fprintf(&b, "| `%s` | `%s` | %s | %s | %v |\n", p.Name(), k, schemaType(prop), schemaDefault(prop), prop["description"])
		}
	}
	return b.String()
}

// schemaType is a config property's JSON schema type as the README states it.
func schemaType(prop map[string]any) string {
	switch prop["type"] {
	case "number":
		lo, hasMin := prop["minimum"].(float64)
		hi, hasMax := prop["maximum"].(float64)
		if hasMin && hasMax {
			return "number, " + strconv.FormatFloat(lo, 'f', -1, 64) + ".." + strconv.FormatFloat(hi, 'f', -1, 64)
		}
	case "array":
		if items, _ := prop["items"].(map[string]any); items["type"] == "string" {
			return "list of strings"
		}
	}
	return fmt.Sprint(prop["type"])
}

// schemaDefault is a config property's default as JSON, or "(absent)" when it has none.
func schemaDefault(prop map[string]any) string {
	d, ok := prop["default"]
	if !ok {
		return "(absent)"
	}
	j, err := json.Marshal(d)
	if err != nil {
		return fmt.Sprint(d)
	}
	return "`" + string(j) + "`"
}

// quote makes text a Markdown block quote.
func quote(text string) string {
	var b strings.Builder
	for line := range strings.Lines(text) {
		b.WriteString(strings.TrimRight("> "+line, " \n") + "\n")
	}
	return b.String()
}

// TestReadme keeps the generated blocks of README.md and docs/policy-pack.md equal to what the code says: the config table
// (the program's keys and Pulumi.yaml), the policy config table (the pack's config schemas), the outputs table (what the program exports), the
// diagram (the dev stack's mermaid plan) and the example review (of a real preview). `go test ./cmd/plan -update` rewrites them; it is
// the one test that writes the README.
func TestReadme(t *testing.T) {
	t.Parallel()
	code, diagram, stderr := invoke(t, "--project-dir", projectDir, "--stack", "dev", "--format", "mermaid")
	require.Equal(t, 0, code, stderr)
	_, review, _ := invoke(t, "--project-dir", projectDir, "--from", filepath.Join("testdata", "previews", "dev-replace-ordering.json"), "--format", "markdown")
	require.NotEmpty(t, review)
	// The verdicts docs/offline-plan.md quotes in its prose are the command's.
	readme, err := os.ReadFile(filepath.Join(projectDir, "docs", "offline-plan.md"))
	require.NoError(t, err)
	for _, args := range [][]string{{"--stack", "dev"}, {"--from", filepath.Join("testdata", "previews", "dev-replace-ordering.json")}} {
		_, text, _ := invoke(t, append([]string{"--project-dir", projectDir}, args...)...)
		lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		assert.Contains(t, string(readme), "\n"+lines[len(lines)-1]+"\n", "docs/offline-plan.md quotes the verdict of plan %v", args)
	}
	golden.ReadmeBlocks(t, "./cmd/plan", filepath.Join(projectDir, "README.md"), map[string]string{
		"plan --stack dev --format mermaid": "```mermaid\n" + diagram + "```\n",
		"config table":                      configTable(t),
		"outputs table":                     outputsTable(t),
		"foundation outputs table":          foundationOutputsTable(t),
		"review example":                    quote(review),
	})
	golden.ReadmeBlocks(t, "./cmd/plan", filepath.Join(projectDir, "docs", "policy-pack.md"), map[string]string{
		"policy config table": policyConfigTable(),
	})
}
