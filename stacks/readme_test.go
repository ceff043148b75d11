package stacks_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/render"
	"github.com/aiprod/aiprod-pubsub/stacks"
)

const readmePath = "../README.md"

// replaceBlock swaps what lies between the begin and end markers named name.
func replaceBlock(doc, name, body string) (string, error) {
	begin, end := "<!-- "+name+": begin -->\n", "<!-- "+name+": end -->"
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		return "", fmt.Errorf("README.md has no %q block", name)
	}
	return doc[:i+len(begin)] + body + doc[j:], nil
}

func configTable(t *testing.T) string {
	files, err := render.LoadStack("..", "dev", "")
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

func outputsTable(t *testing.T) string {
	res := loadStack(t, "dev", nil)
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

// TestReadmeTables keeps README.md's config and outputs tables equal to Pulumi.yaml and to
// what the program exports; `go test ./stacks -update` rewrites them.
func TestReadmeTables(t *testing.T) {
	doc, err := os.ReadFile(readmePath)
	require.NoError(t, err)
	want := string(doc)
	for name, body := range map[string]string{"config table": configTable(t), "outputs table": outputsTable(t)} {
		want, err = replaceBlock(want, name, body)
		require.NoError(t, err)
	}
	if *update {
		require.NoError(t, os.WriteFile(readmePath, []byte(want), 0o644))
		return
	}
	assert.Equal(t, want, string(doc), "README.md's tables are out of date: run `go test ./stacks -update`")
}
