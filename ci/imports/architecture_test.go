package imports

import (
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aiprod/aiprod-pubsub/testkit/golden"
)

// architectureDoc is where the graph is drawn, relative to this package.
var architectureDoc = filepath.Join("..", "..", "docs", "architecture.md")

// TestArchitectureDoc keeps the diagram and the package table of docs/architecture.md equal to
// what allowed, descriptions and the tests' exceptions say; `go test ./ci/imports -update`
// rewrites them. It is the one test that writes that file.
func TestArchitectureDoc(t *testing.T) {
	t.Parallel()
	golden.ReadmeBlocks(t, "./ci/imports", architectureDoc, map[string]string{
		"package graph": architecture(allowed, descriptions),
	})
}

// TestEveryPackageDescribed: every package of the graph has a description for its node, and
// no description outlives its package.
func TestEveryPackageDescribed(t *testing.T) {
	t.Parallel()
	for pkg := range allowed {
		if descriptions[pkg] == "" {
			t.Errorf("package %q has no description: add one to descriptions in ci/imports, then run go test ./ci/imports -update", pkg)
		}
	}
	for pkg := range descriptions {
		if _, ok := allowed[pkg]; !ok {
			t.Errorf("descriptions has %q, which is not in allowed", pkg)
		}
	}
}

// TestArchitectureDrawsEveryEdge: the generator draws each package of a table, known or not,
// and each allowed import as one edge.
func TestArchitectureDrawsEveryEdge(t *testing.T) {
	t.Parallel()
	table := map[string][]string{"a": {}, "b/c": {"a"}, "": {"b/c", "a"}, "new": {"a", "b/c"}}
	got := architecture(table, map[string]string{"a": "the leaf"})
	for _, want := range []string{
		`  a["a: the leaf"]`,
		`  b_c["b/c"] --> a`,
		`  main["main.go"] --> a & b_c`,
		`  new["new"] --> a & b_c`,
		"| `new` |  | `a`, `b/c` |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("the generated architecture lacks %q:\n%s", want, got)
		}
	}
	if strings.Index(got, `  a[`) > strings.Index(got, `  b_c[`) || strings.Index(got, `  b_c[`) > strings.Index(got, `  main[`) {
		t.Errorf("a package is drawn before what it imports:\n%s", got)
	}
}

// architecture is the Mermaid graph of table (an arrow reads "imports"), bottom first, and a
// table of the packages with their descriptions, what they may import and what their tests may
// import besides.
func architecture(table map[string][]string, described map[string]string) string {
	var b strings.Builder
	b.WriteString("```mermaid\nflowchart BT\n")
	order := bottomFirst(table)
	for _, pkg := range order {
		label := displayName(pkg)
		if d := described[pkg]; d != "" {
			label += ": " + d
		}
		fmt.Fprintf(&b, "  %s[\"%s\"]", nodeID(pkg), strings.ReplaceAll(label, `"`, "#quot;"))
		deps := slices.Sorted(slices.Values(table[pkg]))
		for i, dep := range deps {
			deps[i] = nodeID(dep)
		}
		if len(deps) > 0 {
			b.WriteString(" --> " + strings.Join(deps, " & "))
		}
		b.WriteString("\n")
	}
	b.WriteString("```\n\n| package | what it is | imports | its tests also import |\n| --- | --- | --- | --- |\n")
	for _, pkg := range order {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", displayName(pkg), described[pkg],
			codeList(table[pkg]), codeList(testsImportBesides(pkg, table[pkg])))
	}
	return b.String()
}

// testsImportBesides are the module's packages that pkg's tests may import beyond what pkg
// itself may.
func testsImportBesides(pkg string, may []string) []string {
	var out []string
	for _, dep := range append(slices.Clone(testsMay), testsAlso[pkg]...) {
		if dep != pkg && !slices.Contains(may, dep) && !slices.Contains(testsMayNot[pkg], dep) && !slices.Contains(out, dep) {
			out = append(out, dep)
		}
	}
	return out
}

// bottomFirst orders the packages of table so that each comes after what it imports; ties,
// and the packages of a cycle, go by name.
func bottomFirst(table map[string][]string) []string {
	var order []string
	placed := map[string]bool{}
	for len(order) < len(table) {
		var ready []string
		for _, pkg := range slices.Sorted(maps.Keys(table)) {
			if !placed[pkg] && !slices.ContainsFunc(table[pkg], func(dep string) bool {
				_, known := table[dep]
				return known && !placed[dep] && dep != pkg
			}) {
				ready = append(ready, pkg)
			}
		}
		if len(ready) == 0 { // a cycle: draw what is left by name
			for _, pkg := range slices.Sorted(maps.Keys(table)) {
				if !placed[pkg] {
					ready = append(ready, pkg)
				}
			}
		}
		for _, pkg := range ready {
			placed[pkg] = true
		}
		order = append(order, ready...)
	}
	return order
}

// displayName is a package as the document names it; the module's root is main.go.
func displayName(pkg string) string {
	if pkg == "" {
		return "main.go"
	}
	return pkg
}

// nodeID is a package's Mermaid node id: its path with / and . as _ ("main" for the root).
func nodeID(pkg string) string {
	if pkg == "" {
		return "main"
	}
	return strings.NewReplacer("/", "_", ".", "_", "-", "_").Replace(pkg)
}

// codeList formats package names as a Markdown list of code spans.
func codeList(pkgs []string) string {
	names := make([]string, len(pkgs))
	for i, p := range slices.Sorted(slices.Values(pkgs)) {
		names[i] = "`" + displayName(p) + "`"
	}
	return strings.Join(names, ", ")
}
