package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/emulator"
	"github.com/aiprod/aiprod-pubsub/spec"
	"github.com/aiprod/aiprod-pubsub/testkit/golden"
	"github.com/aiprod/aiprod-pubsub/testkit/pubsubtest"
)

// walkthrough runs the README's dead-letter walkthrough line by line, in process: the
// emulator in this test binary, each `bin/dlq` line through run. It knows every kind of line
// the block may hold and fails on any other, so the block cannot say what is not run.
type walkthrough struct {
	t    *testing.T
	bins map[string]string // bin/x -> the package it was built from
	emu  *emu
	env  map[string]string
}

var quoted = regexp.MustCompile(`"([^"]+)"`)

// step runs one line; comment is what follows its '#', whose quoted parts the output must hold.
func (w *walkthrough) step(line, comment string) {
	t := w.t
	f := strings.Fields(line)
	switch {
	case len(f) == 5 && f[0] == "go" && f[1] == "build" && f[2] == "-o":
		_, err := os.Stat(filepath.Join("../..", f[4], "main.go"))
		require.NoError(t, err, "%s builds no command", line)
		w.bins[f[3]] = f[4]
	case f[0] == "bin/emulator" && f[len(f)-1] == "&":
		require.Equal(t, "./cmd/emulator", w.bins[f[0]], "%s is not built first", f[0])
		require.Equal(t, []string{"--stack", "dev"}, f[1:len(f)-1], "the test serves the dev stack")
		require.Contains(t, comment, emulator.DefaultListen)
		w.emu = startEmulator(t) // on a free port: the export line below is mapped to it
	case len(f) == 2 && f[0] == "export":
		k, v, _ := strings.Cut(f[1], "=")
		require.Equal(t, "PUBSUB_EMULATOR_HOST="+emulator.DefaultListen, k+"="+v)
		require.NotNil(t, w.emu, "exported before the emulator started")
		w.env[k] = w.emu.srv.Addr
	case f[0] == "bin/dlq":
		require.Equal(t, "./cmd/dlq", w.bins[f[0]], "%s is not built first", f[0])
		var out, errOut strings.Builder
		args := append(f[1:], "--project-dir", "../..")
		code := run(context.Background(), args, func(k string) string { return w.env[k] }, &out, &errOut)
		require.Equal(t, exitOK, code, "%s\nstdout:\n%s\nstderr:\n%s", line, out.String(), errOut.String())
		for _, m := range quoted.FindAllStringSubmatch(comment, -1) {
			assert.Contains(t, out.String(), m[1], line)
		}
	case len(f) == 2 && f[0] == "kill" && f[1] == "%1":
		require.NotNil(t, w.emu, "nothing to kill")
		jobs := pubsubtest.Drain(t, w.emu.client.SubscriptionAdminClient, w.emu.p.Subscriptions[spec.Jobs])
		require.Len(t, jobs, 1, "the replayed job waits for a worker")
		assert.Equal(t, "u1", jobs[0].OrderingKey)
		require.NoError(t, w.emu.srv.Close())
	default:
		t.Fatalf("the walkthrough has a line this test does not run: %q", line)
	}
}

// TestReadmeWalkthrough: the README's dead-letter walkthrough runs as written, in order.
func TestReadmeWalkthrough(t *testing.T) {
	t.Parallel()
	block := golden.ReadmeBlock(t, "../../README.md", "dlq-walkthrough")
	body, ok := strings.CutPrefix(block, "```sh\n")
	require.True(t, ok, "the block is one sh code block")
	body, ok = strings.CutSuffix(body, "```\n")
	require.True(t, ok, "the block is one sh code block")
	w := &walkthrough{t: t, bins: map[string]string{}, env: map[string]string{}}
	for _, raw := range strings.Split(strings.TrimSpace(body), "\n") {
		line, comment, _ := strings.Cut(raw, "#")
		w.step(strings.TrimSpace(line), comment)
	}
	require.NotNil(t, w.emu, "the walkthrough starts the emulator")
}
