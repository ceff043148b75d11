// Package golden compares what the code generates with the files that pin it: golden files,
// and the blocks of the README and the docs generated from the code. `go test <pkg> -update`
// rewrites them. It is standard library only, so a test that checks a document links nothing
// else. Only tests import it.
package golden

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

// update makes File and ReadmeBlocks rewrite their files instead of comparing them.
var update = flag.Bool("update", false, "rewrite the golden files and README blocks instead of comparing them")

// File compares got with the file at path, or rewrites the file under -update. pkg is the
// package whose test owns the file, as `go test` names it (./cmd/plan).
func File(t testing.TB, pkg, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden %s is missing; regenerate with: go test %s -update", path, pkg)
	}
	if string(want) != got {
		t.Errorf("%s is out of date; regenerate with: go test %s -update\n%s", path, pkg, firstDifference(string(want), got))
	}
}

// firstDifference shows the first line where want and got differ.
func firstDifference(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\n  want %q\n  got  %q", i+1, wl, gl)
		}
	}
	return "(they differ only in the end of the file)"
}

// ReadmeBlocks compares each named block of the Markdown file at path (the text between the
// lines "<!-- name: begin -->" and "<!-- name: end -->") with its generated body, or rewrites
// them all under -update. Only one test in the module calls it for a given file (README.md:
// cmd/plan; docs/architecture.md: ci/imports), so that -update never has two processes
// writing one file.
func ReadmeBlocks(t testing.TB, pkg, path string, blocks map[string]string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	for name, body := range blocks {
		next, err := replaceBlock(doc, name, body)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if !*update && next != doc {
			t.Errorf("the %s block of %s is out of date; regenerate with: go test %s -update\n%s",
				name, path, pkg, firstDifference(doc, next))
		}
		doc = next
	}
	if *update && doc != string(data) {
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// ReadmeBlock returns the body of the block named name in the README at path: the lines
// between "<!-- name: begin -->" and "<!-- name: end -->". Tests run the commands such a block
// shows, so that the README's walkthroughs work as written.
func ReadmeBlock(t testing.TB, path, name string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	begin, end := "<!-- "+name+": begin -->\n", "<!-- "+name+": end -->"
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no %q block: add the lines %q and %q, in that order", path, name, strings.TrimSpace(begin), end)
	}
	return doc[i+len(begin) : j]
}

// replaceBlock swaps what lies between the begin and end markers named name.
func replaceBlock(doc, name, body string) (string, error) {
	begin, end := "<!-- "+name+": begin -->\n", "<!-- "+name+": end -->"
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		return "", fmt.Errorf("no %q block: add the lines %q and %q, in that order", name, strings.TrimSpace(begin), end)
	}
	return doc[:i+len(begin)] + body + doc[j:], nil
}
