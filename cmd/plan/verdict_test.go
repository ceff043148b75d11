package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// verdictCases are the plans the goldens pin: both stacks, every real preview and the dev
// plan with its jobs subscription broken.
func verdictCases(t *testing.T) map[string][]string {
	t.Helper()
	cases := map[string][]string{
		"stack dev":     {"--stack", "dev"},
		"stack prod":    {"--stack", "prod"},
		"dev violating": {"--from", violatingDoc(t)},
	}
	docs, err := filepath.Glob(filepath.Join("testdata", "previews", "*.json"))
	require.NoError(t, err)
	require.Len(t, docs, 8, "the eight real previews")
	for _, doc := range docs {
		cases[strings.TrimSuffix(filepath.Base(doc), ".json")] = []string{"--from", doc}
	}
	return cases
}

// TestVerdictAgreesWithExitStatus: the text ends with exactly one verdict line, the Markdown
// carries the same verdict, and it says "may go ahead" exactly when the status is 0 and "must
// not go ahead" exactly when it is 1, for every plan the goldens pin.
func TestVerdictAgreesWithExitStatus(t *testing.T) {
	t.Parallel()
	verdictRE := regexp.MustCompile(`^verdict: (may go ahead|must not go ahead): \S`)
	for name, args := range verdictCases(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			args := append([]string{"--project-dir", projectDir}, args...)
			code, text, stderr := invoke(t, args...)
			require.Contains(t, []int{exitOK, exitBlocked}, code, stderr)
			lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
			last := lines[len(lines)-1]
			m := verdictRE.FindStringSubmatch(last)
			require.NotNil(t, m, "the last line is the verdict: %q", last)
			assert.Equal(t, 1, strings.Count(text, "\nverdict: "), "exactly one verdict line")
			want := map[int]string{exitOK: "may go ahead", exitBlocked: "must not go ahead"}[code]
			assert.Equal(t, want, m[1], "exit status %d", code)

			mdCode, md, _ := invoke(t, append(args, "--format", "markdown")...)
			assert.Equal(t, code, mdCode)
			assert.Contains(t, md, "**"+last+"**", "the pull-request comment carries the same verdict")
		})
	}
}

// violatingDoc is the dev plan with its jobs subscription broken (ack deadline 30, ordering
// dropped), as a preview document.
func violatingDoc(t *testing.T) string {
	t.Helper()
	doc := devJSON(t)
	jobs := jobsSubInputs(t, doc)
	jobs["ackDeadlineSeconds"] = 30
	delete(jobs, "enableMessageOrdering")
	return writeJSON(t, doc)
}

// TestActionFirst: what a reviewer must act on (errors, losses, violations) comes before the
// resources and the config, and the config tells the stack file's values from Pulumi.yaml's
// defaults.
func TestActionFirst(t *testing.T) {
	t.Parallel()
	_, text, _ := invoke(t, "--project-dir", projectDir, "--from", filepath.Join("testdata", "previews", "dev-replace-ordering.json"))
	order := []string{"\nMessage loss:", "\nPolicy violations", "\nChanges, most destructive first", "\nConfig", "\nOutputs", "\nverdict:"}
	at := -1
	for _, s := range order {
		i := strings.Index(text, s)
		require.GreaterOrEqual(t, i, 0, "%q is shown", s)
		assert.Greater(t, i, at, "%q comes after %q", s, order)
		at = i
	}

	cfg := writeFile(t, "Pulumi.dev.yaml", "config:\n  gcp:project: aiprod-dev-000000\n  aiprod-pubsub:maxDeliveryAttempts: 7\n")
	code, text, stderr := invoke(t, "--project-dir", projectDir, "--stack", "dev", "--config", cfg)
	require.Equal(t, exitOK, code, stderr)
	set := section(t, text, "Config set by the stack file (2)")
	assert.Equal(t, []string{"aiprod-pubsub:maxDeliveryAttempts: 7", "gcp:project: aiprod-dev-000000"}, set)
	defaults := section(t, text, "Config left to Pulumi.yaml's defaults")
	assert.Contains(t, defaults, "aiprod-pubsub:createServiceAccount: false", "the default, as this stack file does not set it")
	assert.NotContains(t, strings.Join(defaults, "\n"), "maxDeliveryAttempts")
}

// section returns the indented lines under the line that starts with title.
func section(t *testing.T, text, title string) []string {
	t.Helper()
	i := strings.Index(text, "\n"+title)
	require.GreaterOrEqual(t, i, 0, "%q in\n%s", title, text)
	var out []string
	for _, line := range strings.Split(text[i+1:], "\n")[1:] {
		if !strings.HasPrefix(line, "  ") {
			break
		}
		out = append(out, strings.TrimPrefix(line, "  "))
	}
	return out
}

// TestDurationsOneWay: every duration prints in the same units, in every format: no alert
// threshold or setting in raw seconds.
func TestDurationsOneWay(t *testing.T) {
	t.Parallel()
	// 60 seconds or more in seconds, or an age threshold without a unit.
	rawSeconds := regexp.MustCompile(`\b([6-9][0-9]|[0-9]{3,})s\b|oldest_unacked_message_age > [0-9]+( |;|\||$)`)
	for _, format := range []string{"text", "markdown"} {
		code, out, stderr := invoke(t, "--project-dir", projectDir, "--stack", "dev", "--format", format)
		require.Equal(t, exitOK, code, stderr)
		for _, want := range []string{
			"oldest_unacked_message_age > 3d12h for 5m",  // the retention alert: half of 7d
			"oldest_unacked_message_age > 1h15m for 10m", // stalled jobs: 5 × (300 s + 600 s)
			"ack 5m", "retry 10s..10m", "retention 7d",
		} {
			assert.Contains(t, out, want, format)
		}
		assert.Empty(t, rawSeconds.FindAllString(out, -1), "%s: durations in raw seconds", format)
	}
	_, review, _ := invoke(t, "--project-dir", projectDir, "--from", filepath.Join("testdata", "previews", "dev-update-ack-deadline.json"))
	assert.Contains(t, review, "updated: ackDeadlineSeconds 5m -> 6m40s")
}

// TestEmitImportReasons: with the real previews, each IAM member the import file leaves out is
// named with its own reason: the service account this change creates, or the service agent's
// unknown project number; nothing is blamed on projectNumber that it would not fix.
func TestEmitImportReasons(t *testing.T) {
	t.Parallel()
	created := "its member is the service account aiprod-sa, which this change creates: its email is known only once it exists"
	agent := "its member is the Pub/Sub service agent, whose address needs the project's number; to include it, set aiprod-pubsub:projectNumber and leave aiprod-pubsub:foundationStack empty"
	tests := []struct {
		name string
		args []string
		// left maps each member left out to its reason.
		left map[string]string
	}{
		{name: "dev preview creates the service account", args: []string{"--from", filepath.Join("testdata", "previews", "dev-create.json")},
			left: map[string]string{
				"aiprod-pipeline-dlq-publisher-app": created, "aiprod-pipeline-jobs-publisher-app": created,
				"aiprod-pipeline-results-publisher-app": created, "aiprod-pipeline-jobs-sub-subscriber-app": created,
			}},
		{name: "prod preview references the account", args: []string{"--from", filepath.Join("testdata", "previews", "prod-create.json")},
			left: map[string]string{}},
		{name: "offline dev plan", args: []string{"--stack", "dev"},
			left: map[string]string{
				"aiprod-pipeline-dlq-publisher-agent": agent, "aiprod-pipeline-jobs-sub-subscriber-agent": agent,
				"aiprod-pipeline-results-sub-subscriber-agent": agent,
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "import.json")
			_, _, stderr := invoke(t, append([]string{"--project-dir", projectDir, "--emit-import", path}, tc.args...)...)
			got := map[string]string{}
			for line := range strings.Lines(stderr) {
				name, reason, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(line), "plan: "+path+" leaves out "), ": ")
				require.True(t, ok, "an omission per line: %q", line)
				got[name] = reason
			}
			assert.Equal(t, tc.left, got)
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			for name := range tc.left {
				assert.NotContains(t, string(b), `"`+name+`"`)
			}
		})
	}
}
