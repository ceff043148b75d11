package imports

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
)

const module = "github.com/aiprod/aiprod-pubsub"

// allowed lists, for each package of the module, the module's packages it may import (its
// non-test files), bottom of the graph first. Data flows one way: config -> stacks -> infra
// -> resources; the policy pack judges what the engine sees and trusts nothing of the program;
// the offline runner sits on top of the program; commands sit on top of everything.
var allowed = map[string][]string{
	"spec":                 {},
	"schemas":              {"spec"},
	"infra":                {"spec"},
	"stacks":               {"spec", "schemas", "infra"},
	"inventory":            {},
	"gcpmock":              {"spec", "inventory"},
	"offline":              {"gcpmock", "inventory", "spec", "stacks"},
	"policy/rules":         {"spec"},
	"policy":               {"policy/rules"},
	"plan":                 {"spec", "inventory", "policy/rules"},
	"redrive":              {"spec", "schemas"},
	"pubsubconn":           {}, // a client for Pub/Sub or the emulator, and what to say when it fails
	"emulator":             {"spec", "inventory", "schemas", "redrive"},
	"testkit":              {},
	"testkit/pubsubtest":   {}, // the Pub/Sub client, apart from testkit: only tests that talk to a server link it
	"testkit/golden":       {}, // standard library only, apart from testkit: a test that checks a document links nothing else
	"ci/imports":           {},
	"ci/workflows":         {},
	"cmd/plan":             {"plan", "policy/rules", "offline", "stacks"},
	"cmd/emulator":         {"emulator", "offline", "stacks"},
	"cmd/emulator/publish": {"schemas", "pubsubconn"},
	"cmd/dlq":              {"redrive", "pubsubconn", "schemas", "spec", "offline", "stacks"},
	"":                     {"stacks"}, // the program itself
	"foundation":           {"stacks"}, // the foundation's program
}

// descriptions say in a few words what each package of allowed is; docs/architecture.md shows
// them on the graph's nodes (see TestArchitectureDoc).
var descriptions = map[string]string{
	"spec":                 "the spec and GCP's facts (standard library only)",
	"schemas":              "message contracts and types",
	"infra":                "the Pipeline and Foundation components",
	"stacks":               "config to arguments, the program",
	"inventory":            "a stack's resources, neutral",
	"gcpmock":              "the GCP provider, offline",
	"offline":              "load a stack, run the program under gcpmock",
	"policy/rules":         "the pack's rules",
	"policy":               "the pack binary",
	"plan":                 "the offline plan",
	"redrive":              "inspect, replay, purge dead letters",
	"emulator":             "the local Pub/Sub",
	"pubsubconn":           "reach Pub/Sub or the emulator, say what failed",
	"testkit/pubsubtest":   "drain a test server's subscription, dead-letter a message (tests only)",
	"foundation":           "the foundation's program",
	"testkit":              "edits of the resources the pack sees (tests only)",
	"testkit/golden":       "golden files, generated README and docs blocks (tests only)",
	"ci/imports":           "the package graph's check (tests only)",
	"ci/workflows":         "the CI workflows' checks (tests only)",
	"cmd/plan":             "the offline plan and review command",
	"cmd/emulator":         "serve a stack's topology locally",
	"cmd/emulator/publish": "publish a test job to the emulator",
	"cmd/dlq":              "the dead-letter command",
	"":                     "the program",
}

// testsMay are the packages a package's tests may import besides what the package may: the
// test kit, and the offline runner with the config it takes. Exceptions keep the pack and the
// spec apart from the program.
var testsMay = []string{"testkit", "testkit/golden", "offline", "inventory", "stacks", "spec", "schemas"}

// testsAlso are further packages some tests need: the publish command is tested against the
// emulator; the real stacks are judged by the pack, as the plan hands it resources, with the
// mocks' project numbers.
var testsAlso = map[string][]string{
	"cmd/emulator/publish": {"emulator", "testkit/pubsubtest"},
	"cmd/dlq":              {"emulator", "testkit/pubsubtest"},
	"redrive":              {"testkit/pubsubtest"},
	"cmd/plan":             {"gcpmock"},
	"stacks":               {"gcpmock", "policy/rules", "plan"},
}

// testsMayNot are what a package's tests must not import all the same.
var testsMayNot = map[string][]string{
	"spec":         {"testkit", "testkit/golden", "offline", "inventory", "stacks", "schemas"}, // the leaf tests itself alone
	"policy/rules": {"offline", "inventory", "stacks", "schemas"},                              // the pack is tested on hand-built resources
	"infra":        {"stacks"},                                                                 // infra never knows config
}

// pkgInfo is one package's imports as `go list` reports them.
type pkgInfo struct {
	path         string
	imports      []string
	testImports  []string // of the package's own _test files and its _test package
	dependencies []string // every package the non-test build needs
}

// list returns the module's packages, listed once for every test that asks: `go list` over the
// module costs a second of CPU.
func list(t *testing.T) []pkgInfo {
	t.Helper()
	pkgs, err := listed()
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

var listed = sync.OnceValues(func() ([]pkgInfo, error) {
	cmd := exec.Command("go", "list", "-f",
		`{{.ImportPath}}|{{join .Imports " "}}|{{join .TestImports " "}} {{join .XTestImports " "}}|{{join .Deps " "}}`,
		module+"/...")
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %w", err)
	}
	var pkgs []pkgInfo
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		pkgs = append(pkgs, pkgInfo{path: f[0], imports: strings.Fields(f[1]), testImports: strings.Fields(f[2]), dependencies: strings.Fields(f[3])})
	}
	return pkgs, nil
})

// local is a module package's path relative to the module ("" for the module's root), and
// whether path is in the module at all.
func local(path string) (string, bool) {
	if path == module {
		return "", true
	}
	rel, ok := strings.CutPrefix(path, module+"/")
	return rel, ok
}

// TestGraph: every package imports only what the graph allows, and its tests only that plus
// the test kit and the runner, with the exceptions above.
func TestGraph(t *testing.T) {
	t.Parallel()
	for _, p := range list(t) {
		name, _ := local(p.path)
		may, known := allowed[name]
		if !known {
			t.Errorf("package %q is not in the graph: add it to allowed in ci/imports", p.path)
			continue
		}
		for _, imp := range p.imports {
			if dep, ok := local(imp); ok && !slices.Contains(may, dep) {
				t.Errorf("%s imports %s, which the graph does not allow", p.path, imp)
			}
		}
		for _, imp := range p.testImports {
			dep, ok := local(imp)
			if !ok || dep == name {
				continue
			}
			permitted := slices.Contains(may, dep) || slices.Contains(testsMay, dep) || slices.Contains(testsAlso[name], dep)
			if !permitted || slices.Contains(testsMayNot[name], dep) {
				t.Errorf("the tests of %s import %s, which the graph does not allow", p.path, imp)
			}
		}
	}
}

// TestLeanBinaries: the spec is standard library only, production code is never built on the
// test kit, and the program and the policy pack do without the engine's heavy packages.
func TestLeanBinaries(t *testing.T) {
	t.Parallel()
	for _, p := range list(t) {
		name, _ := local(p.path)
		for _, d := range p.dependencies {
			if dep, ok := local(d); ok && (dep == "testkit" || strings.HasPrefix(dep, "testkit/")) {
				t.Errorf("%s is built on the test kit", p.path)
			}
			if (name == "" || name == "policy") && strings.HasPrefix(d, "github.com/pulumi/pulumi/pkg/v3") {
				t.Errorf("%s depends on %s: the engine is far too heavy for it", p.path, d)
			}
			if name == "spec" && strings.Contains(strings.SplitN(d, "/", 2)[0], ".") {
				t.Errorf("spec depends on %s; it imports only the standard library", d)
			}
		}
	}
}
