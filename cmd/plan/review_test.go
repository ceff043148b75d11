package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPreviewReviews reviews each real preview document in testdata/previews (see its README)
// and pins its text and Markdown reviews: what changes, most destructive first, what drops
// messages, the engine's errors first when the preview failed, and the verdict.
func TestPreviewReviews(t *testing.T) {
	t.Parallel()
	cases := []struct {
		doc  string
		code int
		// shown are fragments the text review must hold; first, when set, must come before
		// every other line but the header; verdict is its last line.
		shown          []string
		first, verdict string
	}{
		{doc: "dev-create", code: exitOK, shown: []string{"24 to create", "Resources",
			"Config (a preview document does not say which values the stack file set)"},
			verdict: "may go ahead: 24 creates, no violations"},
		{doc: "prod-create", code: exitOK, shown: []string{"24 to create", "email aiprod-oncall@example.com"},
			verdict: "may go ahead: 24 creates, no violations"},
		{doc: "dev-no-change", code: exitOK, shown: []string{"Changes, most destructive first (23 unchanged)", "(nothing changes)"},
			verdict: "may go ahead: no changes, no violations"},
		{doc: "dev-update-ack-deadline", code: exitBlocked, first: "The preview failed on the mandatory policy violations below",
			shown: []string{
				"update  subscription  aiprod-pipeline-jobs-sub       updated: ackDeadlineSeconds 5m -> 6m40s",
				"policy config pubsub-ack-deadline.jobsAckDeadlineSeconds"},
			verdict: "must not go ahead: 1 mandatory policy violation"},
		{doc: "dev-replace-ordering", code: exitBlocked, shown: []string{
			"replacing subscription aiprod-pipeline-jobs-sub drops its backlog: enableMessageOrdering changed",
			"replaced with aiprod-pipeline-jobs-sub (replaceWith)",
			"--accept-loss aiprod-pipeline-jobs-sub"},
			verdict: "must not go ahead: 1 mandatory policy violation, 1 unaccepted loss of messages (aiprod-pipeline-jobs-sub)"},
		{doc: "dev-rename-prefix", code: exitBlocked, shown: []string{
			"Message loss: 6 changes drop queued messages, 6 not accepted",
			"deleting topic aiprod-pipeline-jobs", "deleting subscription aiprod-pipeline-dlq-sub drops its backlog",
			"20 to create, 20 to delete, 3 to same, 1 to update"},
			verdict: "must not go ahead: 6 unaccepted losses of messages (aiprod-pipeline-dlq, aiprod-pipeline-jobs, aiprod-pipeline-results, " +
				"aiprod-pipeline-dlq-sub, aiprod-pipeline-jobs-sub, aiprod-pipeline-results-sub)"},
		{doc: "dev-failed-config", code: exitBlocked, first: "The preview failed: 1 engine error",
			shown:   []string{"aiprod-pubsub:maxDeliveryAttempts is 3; must be between 5 and 100", "none among the resources the failed preview lists"},
			verdict: "must not go ahead: 1 engine error"},
		{doc: "prod-failed-protected-replace", code: exitBlocked, first: "The preview failed: 1 engine error",
			shown:   []string{"as it is currently marked for protection", "replacing subscription aiprod-pipeline-jobs-sub drops its backlog"},
			verdict: "must not go ahead: 1 engine error, 1 mandatory policy violation, 1 unaccepted loss of messages (aiprod-pipeline-jobs-sub)"},
	}
	for _, tc := range cases {
		for format, ext := range map[string]string{"text": "txt", "markdown": "md"} {
			t.Run(tc.doc+"/"+format, func(t *testing.T) {
				t.Parallel()
				path := filepath.Join("testdata", "previews", tc.doc+".json")
				code, stdout, stderr := invoke(t, "--project-dir", projectDir, "--from", path, "--format", format)
				require.Equal(t, tc.code, code, "stderr: %s", stderr)
				assert.Empty(t, stderr)
				checkGolden(t, filepath.Join("previews", tc.doc+".review."+ext), stdout)
				if format != "text" {
					assert.Contains(t, stdout, "**verdict: "+tc.verdict+"**")
					return
				}
				for _, s := range tc.shown {
					assert.Contains(t, stdout, s)
				}
				lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
				if tc.first != "" {
					assert.Equal(t, tc.first, strings.SplitN(lines[4], ";", 2)[0], "the engine's errors come first")
				}
				assert.Equal(t, "verdict: "+tc.verdict, lines[len(lines)-1])
			})
		}
	}
}

// TestAcceptLoss: a reviewer accepts each loss by name; then only the policy decides, and a
// name that loses nothing is pointed out.
func TestAcceptLoss(t *testing.T) {
	t.Parallel()
	path := filepath.Join("testdata", "previews", "dev-rename-prefix.json")
	// The renamed stack violates no policy: only the losses decide.
	args := []string{"--project-dir", projectDir, "--from", path}
	queues := []string{"aiprod-pipeline-jobs", "aiprod-pipeline-results", "aiprod-pipeline-dlq",
		"aiprod-pipeline-jobs-sub", "aiprod-pipeline-results-sub", "aiprod-pipeline-dlq-sub"}
	for i, q := range queues {
		args = append(args, "--accept-loss", q)
		code, stdout, _ := invoke(t, args...)
		if i < len(queues)-1 {
			assert.Equal(t, exitBlocked, code, "%d of 6 losses accepted", i+1)
			continue
		}
		assert.Equal(t, exitOK, code, stdout)
		assert.Contains(t, stdout, "6 changes drop queued messages, 0 not accepted")
		assert.Contains(t, stdout, "\nverdict: may go ahead: 20 creates, 20 deletes, 1 update, no violations, 6 accepted losses of messages (")
		assert.Contains(t, stdout, "accepted by the reviewer (--accept-loss)")
	}
	code, _, stderr := invoke(t, append(args, "--accept-loss", "aiprod-pipeline-audit")...)
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stderr, "--accept-loss aiprod-pipeline-audit: the change neither deletes nor replaces")

	// Accepting the loss does not lift a mandatory policy: turning ordering off still fails.
	code, _, _ = invoke(t, "--project-dir", projectDir, "--from", filepath.Join("testdata", "previews", "dev-replace-ordering.json"),
		"--accept-loss", "aiprod-pipeline-jobs-sub")
	assert.Equal(t, exitBlocked, code)
}
