package imports

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// spelledInSpec are string literals that spell one of the spec's facts: the standard labels'
// keys and the subscription names' suffix. Only package spec writes them; everything else asks
// it (spec.StandardLabels, spec.RequiredLabelKeys, spec.LabelEnv, spec.SubscriptionOf).
var spelledInSpec = []string{"app", "component", "env", "managed-by", "-sub"}

// allowedSpellings are the places outside spec where one of these strings means something
// else: infra's key for the application's grants in a member's logical name.
var allowedSpellings = map[string][]string{
	"infra/iam.go": {"app"},
}

// TestFactsAreSpelledInSpec: no production file outside spec spells a label key or the
// subscription suffix as a literal, so that a second copy cannot disagree with the first.
func TestFactsAreSpelledInSpec(t *testing.T) {
	t.Parallel()
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "spec" || d.Name() == "testdata" || (strings.HasPrefix(d.Name(), ".") && rel != ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") {
			return nil
		}
		for _, lit := range stringLiterals(t, path) {
			if slices.Contains(spelledInSpec, lit.value) && !slices.Contains(allowedSpellings[rel], lit.value) {
				t.Errorf("%s:%d spells %q; take it from package spec", rel, lit.line, lit.value)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// literal is a string literal's value and line.
type literal struct {
	value string
	line  int
}

// stringLiterals returns the string literals of a Go file.
func stringLiterals(t *testing.T, path string) []literal {
	t.Helper()
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
	if err != nil {
		t.Fatalf("parsing %s: %v", path, err)
	}
	var out []literal
	ast.Inspect(f, func(n ast.Node) bool {
		if b, ok := n.(*ast.BasicLit); ok && b.Kind == token.STRING {
			if v, err := strconv.Unquote(b.Value); err == nil {
				out = append(out, literal{v, fset.Position(b.Pos()).Line})
			}
		}
		return true
	})
	return out
}
