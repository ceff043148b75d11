package main

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/aiprod/aiprod-pubsub"

// deps lists each package of the module with everything it depends on, tests excluded.
func deps(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./...").Output()
	require.NoError(t, err)
	m := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		m[f[0]] = f[1:]
	}
	return m
}

// TestImportRules enforces the architecture's one-way data flow: infra never reads config,
// the policy pack never trusts the program's Go types, no library depends on a command, and the
// program itself stays lean (no engine packages).
func TestImportRules(t *testing.T) {
	all := deps(t)
	forbidden := []struct {
		from, to, why string
	}{
		{module + "/infra", module + "/stacks", "infra takes arguments; stacks turns config into them"},
		{module + "/infra", module + "/render", "infra must not depend on the offline renderer"},
		{module + "/policy", module + "/infra", "the pack judges what the engine sees"},
		{module + "/policy", module + "/stacks", "the pack judges what the engine sees"},
		{module + "/policy", module + "/render", "the pack judges what the engine sees"},
		{module, "github.com/pulumi/pulumi/pkg/v3", "the engine is far too heavy for the program"},
	}
	for pkg, ds := range all {
		for _, f := range forbidden {
			if pkg != f.from && !strings.HasPrefix(pkg, f.from+"/") {
				continue
			}
			if f.from == module && pkg != module {
				continue // the rule is about the program binary only
			}
			for _, d := range ds {
				assert.False(t, d == f.to || strings.HasPrefix(d, f.to+"/"), "%s imports %s: %s", pkg, d, f.why)
			}
		}
		if !strings.HasPrefix(pkg, module+"/cmd/") {
			for _, d := range ds {
				assert.False(t, strings.HasPrefix(d, module+"/cmd/"), "%s imports the command %s", pkg, d)
			}
		}
	}
}
