package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/emulator"
	"github.com/aiprod/aiprod-pubsub/stackrun"
	"github.com/aiprod/aiprod-pubsub/stacks"
)

// TestPublish runs the README's publish command against an emulator of the dev stack.
func TestPublish(t *testing.T) {
	files, err := stackrun.Load("../../..", "dev", "")
	require.NoError(t, err)
	res, err := stackrun.Program(files.Project, "dev", files.Config)
	require.NoError(t, err)
	topo, err := emulator.FromResult(&res.Stack, files.Config.Values[stacks.ProjectKey])
	require.NoError(t, err)
	srv, err := emulator.Start(context.Background(), topo, "127.0.0.1:0")
	require.NoError(t, err)
	defer srv.Close()
	// The client library reads PUBSUB_EMULATOR_HOST from the process environment.
	t.Setenv("PUBSUB_EMULATOR_HOST", srv.Addr)
	env := map[string]string{"PUBSUB_EMULATOR_HOST": srv.Addr, "PUBSUB_PROJECT_ID": topo.Project}

	tests := []struct {
		name   string
		args   []string
		env    map[string]string
		code   int
		stdout []string
		stderr string
	}{
		{"publish and receive", []string{"--user", "u1", "--content", "hello", "--receive", "--timeout", "20s"}, env, 0,
			[]string{"published job-", "to projects/aiprod-dev-000000/topics/aiprod-pipeline-jobs", `"user_id":"u1"`, `"content":"hello"`}, ""},
		{"no emulator", nil, map[string]string{}, 2, nil, "set PUBSUB_EMULATOR_HOST"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut strings.Builder
			code := run(tc.args, func(k string) string { return tc.env[k] }, &out, &errOut)
			assert.Equal(t, tc.code, code, "stderr: %s", errOut.String())
			for _, w := range tc.stdout {
				assert.Contains(t, out.String(), w)
			}
			assert.Contains(t, errOut.String(), tc.stderr)
		})
	}
}
