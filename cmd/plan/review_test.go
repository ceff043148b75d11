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
// messages, and the engine's errors first when the preview failed.
func TestPreviewReviews(t *testing.T) {
	t.Parallel()
	// The documents were captured before the pipeline declared alert policies: judged by
	// today's pack, each stack that exists in them lacks its dead-letter alerts.
	missingAlert := "monitoring-dead-letter-alert (mandatory)"
	cases := []struct {
		doc  string
		code int
		// shown are fragments the text review must hold; first, when set, must come before
		// every other line but the header.
		shown []string
		first string
	}{
		{doc: "dev-create", code: exitBlocked, shown: []string{"18 to create", "Resources", missingAlert}},
		{doc: "prod-create", code: exitBlocked, shown: []string{"to create", missingAlert}},
		{doc: "dev-no-change", code: exitBlocked, shown: []string{"Changes, most destructive first (17 unchanged)", "(nothing changes)", missingAlert}},
		{doc: "dev-update-ack-deadline", code: exitBlocked, shown: []string{
			"update  subscription  aiprod-pipeline-jobs-sub  updated: ackDeadlineSeconds 300 -> 120",
			"policy config pubsub-ack-deadline.jobsAckDeadlineSeconds"}},
		{doc: "dev-replace-ordering", code: exitBlocked, shown: []string{
			"replacing subscription aiprod-pipeline-jobs-sub drops its backlog: enableMessageOrdering changed",
			"replaced with aiprod-pipeline-jobs-sub (replaceWith)",
			"--accept-loss aiprod-pipeline-jobs-sub"}},
		{doc: "dev-rename-prefix", code: exitBlocked, shown: []string{
			"Message loss: 6 changes drop queued messages, 6 not accepted",
			"deleting topic aiprod-pipeline-jobs", "deleting subscription aiprod-pipeline-dlq-sub drops its backlog",
			"15 to create, 15 to delete"}},
		{doc: "dev-failed-config", code: exitBlocked, first: "The preview failed: 1 engine error",
			shown: []string{"aiprod-pubsub:maxDeliveryAttempts is 3; must be between 5 and 100", "none among the resources the failed preview lists"}},
		{doc: "prod-failed-protected-replace", code: exitBlocked, first: "The preview failed: 2 engine errors",
			shown: []string{"as it is currently marked for protection", "replacing subscription aiprod-pipeline-jobs-sub drops its backlog"}},
	}
	for _, tc := range cases {
		for format, ext := range map[string]string{"text": "txt", "markdown": "md"} {
			t.Run(tc.doc+"/"+format, func(t *testing.T) {
				t.Parallel()
				path := filepath.Join("testdata", "previews", tc.doc+".json")
				code, stdout, stderr := invoke(t, "--project-dir", projectDir, "--from", path, "--format", format)
				require.Equal(t, tc.code, code, "stderr: %s", stderr)
				assert.Empty(t, stderr)
				golden(t, filepath.Join("previews", tc.doc+".review."+ext), stdout)
				if format != "text" {
					return
				}
				for _, s := range tc.shown {
					assert.Contains(t, stdout, s)
				}
				if tc.first != "" {
					lines := strings.Split(stdout, "\n")
					assert.Equal(t, tc.first, strings.SplitN(lines[4], ";", 2)[0], "the engine's errors come first")
				}
			})
		}
	}
}

// TestAcceptLoss: a reviewer accepts each loss by name; then only the policy decides, and a
// name that loses nothing is pointed out.
func TestAcceptLoss(t *testing.T) {
	t.Parallel()
	path := filepath.Join("testdata", "previews", "dev-rename-prefix.json")
	// The document predates the alert policies; with that policy advisory, only the losses
	// decide.
	advisory := writeFile(t, "policy-config.json", `{"monitoring-dead-letter-alert": "advisory"}`)
	args := []string{"--project-dir", projectDir, "--from", path, "--policy-config", advisory}
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
