package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stopped is a stop channel that has already fired: the server starts, reports and stops.
func stopped() <-chan os.Signal {
	c := make(chan os.Signal, 1)
	c <- os.Interrupt
	return c
}

// never is a stop channel that never fires.
func never() <-chan os.Signal { return make(chan os.Signal) }

func runCmd(stop <-chan os.Signal, args ...string) (code int, stdout, stderr string) {
	var out, errOut strings.Builder
	code = run(append([]string{"--dir", "../.."}, args...), &out, &errOut, stop)
	return code, out.String(), errOut.String()
}

func TestRun(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	badConfig := filepath.Join(t.TempDir(), "Pulumi.dev.yaml")
	require.NoError(t, os.WriteFile(badConfig, []byte("config:\n  gcp:project: aiprod-dev-000000\n  aiprod-pubsub:maxDeliveryAttempts: 3\n"), 0o600))

	tests := []struct {
		name string
		// interrupt makes the stop channel fire at once; otherwise it never fires.
		interrupt bool
		args      []string
		code      int
		// stdout and stderr list fragments each stream must contain; nil means the stream is empty.
		stdout, stderr []string
	}{
		// Without --listen the rehearsal picks a free port, so it runs beside a serving emulator.
		{name: "rehearse dev", args: []string{"--stack", "dev", "--rehearse"}, code: 0,
			stdout: []string{"PASS  per-user ordering", "PASS  dead-lettering", "PASS  results flow", "PASS  redelivery", "all 5 scenarios passed"}},
		{name: "rehearse prod", args: []string{"--stack", "prod", "--rehearse", "--listen", "127.0.0.1:0"}, code: 0,
			stdout: []string{"project aiprod-prod-000000", "all 5 scenarios passed"}},
		{name: "interrupted rehearsal", interrupt: true, args: []string{"--stack", "dev", "--rehearse", "--listen", "127.0.0.1:0"}, code: 1,
			stdout: []string{"Rehearsal:"}, stderr: []string{"rehearsal interrupted"}},
		{name: "serve dev", interrupt: true, args: []string{"--stack", "dev", "--listen", "127.0.0.1:0"}, code: 0,
			stdout: []string{
				"topic         projects/aiprod-dev-000000/topics/aiprod-pipeline-jobs\n",
				"subscription  projects/aiprod-dev-000000/subscriptions/aiprod-pipeline-jobs-sub <- projects/aiprod-dev-000000/topics/aiprod-pipeline-jobs (ack deadline 300s, ordered, dead-letters to projects/aiprod-dev-000000/topics/aiprod-pipeline-dlq after 5 deliveries, retention 604800s)",
				"skipped       gcp:serviceaccount/account:Account aiprod-sa: ",
				"skipped       gcp:pubsub/topicIAMMember:TopicIAMMember aiprod-pipeline-dlq-publisher-agent: ",
				"export PUBSUB_EMULATOR_HOST=127.0.0.1:",
				"export PUBSUB_PROJECT_ID=aiprod-dev-000000\n",
				"stopped",
			}},
		{name: "all interfaces", args: []string{"--stack", "dev", "--listen", "0.0.0.0:8085"}, code: 2,
			stderr: []string{`"0.0.0.0:8085"`, "only loopback addresses"}},
		{name: "private address", args: []string{"--stack", "dev", "--listen", "10.0.0.1:1"}, code: 2,
			stderr: []string{`"10.0.0.1:1"`, "only loopback addresses"}},
		{name: "no port", args: []string{"--stack", "dev", "--listen", "localhost"}, code: 2,
			stderr: []string{"want host:port"}},
		{name: "address in use", interrupt: true, args: []string{"--stack", "dev", "--listen", busy.Addr().String()}, code: 1,
			stderr: []string{busy.Addr().String(), "the address is in use"}},
		{name: "bad config file", args: []string{"--stack", "dev", "--config", badConfig, "--rehearse"}, code: 2,
			stderr: []string{"aiprod-pubsub:maxDeliveryAttempts is 3", "between 5 and 100"}},
		{name: "unknown stack", args: []string{"--stack", "staging"}, code: 2,
			stderr: []string{`stack "staging" has no config file`}},
		{name: "no stack", args: []string{}, code: 2, stderr: []string{"--stack is required"}},
		{name: "unknown flag", args: []string{"--stack", "dev", "--port", "1"}, code: 2, stderr: []string{"-port"}},
	}
	// The rehearsals wait on the client library's batching more than they compute: every case
	// runs at once, rather than two at a time as parallel subtests would, and is judged after.
	type result struct {
		code           int
		stdout, stderr string
	}
	results := make([]result, len(tests))
	var wg sync.WaitGroup
	for i, tc := range tests {
		wg.Go(func() {
			stop := never()
			if tc.interrupt {
				stop = stopped()
			}
			r := &results[i]
			r.code, r.stdout, r.stderr = runCmd(stop, tc.args...)
		})
	}
	wg.Wait()
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, stdout, stderr := results[i].code, results[i].stdout, results[i].stderr
			assert.Equal(t, tc.code, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
			check := func(stream, got string, want []string) {
				if want == nil {
					assert.Empty(t, got, stream)
					return
				}
				for _, w := range want {
					assert.Contains(t, got, w, stream)
				}
			}
			check("stdout", stdout, tc.stdout)
			if tc.code == 0 {
				check("stderr", stderr, nil)
			} else {
				check("stderr", stderr, tc.stderr)
			}
		})
	}
}

// TestWatchParent: once the process that started the emulator is gone (under `go run`, the go
// command killed by its pid), the emulator stops as on SIGTERM; while it runs, nothing happens.
func TestWatchParent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ppid []int // the parent id at start, then at each tick
		stop bool
	}{
		{"parent still there", []int{4242, 4242, 4242, 4242}, false},
		{"parent gone, adopted by init", []int{4242, 4242, 1}, true},
		{"parent gone, adopted by a subreaper", []int{4242, 77}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			calls := 0
			ppid := func() int {
				calls++
				return tc.ppid[calls-1]
			}
			ticks := make(chan time.Time)
			stop := make(chan os.Signal, 1)
			var stderr strings.Builder
			done := make(chan struct{})
			go func() {
				defer close(done)
				watchParent(ppid, ticks, stop, &stderr)
			}()
			for range len(tc.ppid) - 1 {
				select {
				case ticks <- time.Now():
				case <-done: // it returned after the parent changed
				}
			}
			close(ticks)
			<-done
			if !tc.stop {
				assert.Empty(t, stop)
				assert.Empty(t, stderr.String())
				return
			}
			require.Len(t, stop, 1)
			assert.Equal(t, syscall.SIGTERM, <-stop)
			assert.Contains(t, stderr.String(), "the process that started it (pid 4242) has ended; stopping")
		})
	}
}
