package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestCheckDeployable reads stack files as the engine does: a stack is deployable unless its
// file sets aiprod-pubsub:deployable to false, in any form YAML and the program's boolean
// parsing take.
func TestCheckDeployable(t *testing.T) {
	t.Parallel()
	const head = "config:\n  gcp:project: aiprod-prod-000000\n"
	for _, tc := range []struct {
		name, file string
		want       int
		wantOut    string
	}{
		{"unset", head, exitOK, "is not set"},
		{"true", head + "  aiprod-pubsub:deployable: true\n", exitOK, "is true"},
		{"false", head + "  aiprod-pubsub:deployable: false\n", exitBlocked, "not deployable yet"},
		{"false quoted", head + "  aiprod-pubsub:deployable: \"false\"\n", exitBlocked, "not deployable yet"},
		{"False", head + "  aiprod-pubsub:deployable: False\n", exitBlocked, "not deployable yet"},
		{"quoted key, comment", head + "  \"aiprod-pubsub:deployable\": false # placeholders\n", exitBlocked, "not deployable yet"},
		{"flow mapping", "config: {gcp:project: aiprod-prod-000000, aiprod-pubsub:deployable: false}\n", exitBlocked, "not deployable yet"},
		{"false in a comment only", head + "  # aiprod-pubsub:deployable: false\n", exitOK, "is not set"},
		{"another key's false", head + "  aiprod-pubsub:protect: false\n", exitOK, "is not set"},
		{"neither true nor false", head + "  aiprod-pubsub:deployable: soon\n", exitError, `is "soon"; must be true or false`},
		{"a secret", head + "  aiprod-pubsub:deployable:\n    secure: AAABAJ0=\n", exitError, "is a secret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			file := writeFile(t, "Pulumi.prod.yaml", tc.file)
			code, stdout, stderr := invoke(t, "--project-dir", projectDir, "--stack", "prod", "--config", file, "--check-deployable")
			assert.Equal(t, tc.want, code, "stdout: %s\nstderr: %s", stdout, stderr)
			assert.Contains(t, stdout+stderr, tc.wantOut)
			if tc.want == exitBlocked {
				assert.Contains(t, stderr, filepath.Base(file), "the message names the stack file")
				assert.Contains(t, stderr, "set aiprod-pubsub:deployable to true or remove it")
			}
		})
	}
	// The shipped stack files as they are.
	for stack, want := range map[string]int{"dev": exitOK, "prod": exitBlocked} {
		code, stdout, stderr := invoke(t, "--project-dir", projectDir, "--stack", stack, "--check-deployable")
		assert.Equal(t, want, code, "stack %s: stdout: %s\nstderr: %s", stack, stdout, stderr)
	}
	code, _, stderr := invoke(t, "--project-dir", projectDir, "--from", "x.json", "--check-deployable")
	assert.Equal(t, exitError, code)
	assert.Contains(t, stderr, "--check-deployable reads the stack's file; it takes --stack, not --from")
}
