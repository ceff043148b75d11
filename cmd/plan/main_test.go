package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/gcpmock"
	"github.com/aiprod/aiprod-pubsub/testkit/golden"
)

const projectDir = "../.."

// invoke runs the command in-process.
func invoke(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// checkGolden compares got with testdata/name, or rewrites it under -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden.File(t, "./cmd/plan", filepath.Join("testdata", name), got)
}

// TestFoundationGolden: the plan of a foundation stack, the program picked by the project's
// name, in every format. It is judged with foundation/policy/config/<stack>.json.
func TestFoundationGolden(t *testing.T) {
	t.Parallel()
	exts := map[string]string{"text": "txt", "json": "json", "markdown": "md", "mermaid": "mmd"}
	invented := gcpmock.ProjectNumber("aiprod-dev-000000")
	for _, format := range []string{"text", "json", "markdown", "mermaid"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := invoke(t, "--project-dir", filepath.Join(projectDir, "foundation"), "--stack", "dev", "--format", format)
			// The pack has no foundation policies yet: its project-level IAM rule blocks the
			// foundation's own custom role grants (exit 1), which the golden shows.
			require.Contains(t, []int{0, 1}, code, "stderr: %s", stderr)
			assert.Empty(t, stderr)
			assert.Contains(t, stdout, "aiprod-dev-000000-pulumi-state")
			assert.NotContains(t, stdout, invented, "the project's number is known only at deploy")
			checkGolden(t, "foundation-dev."+exts[format], stdout)
		})
	}
}

// TestFoundationEmitImport: the foundation's import file adopts what a hand-made setup may
// already hold, with GCP's import ids.
func TestFoundationEmitImport(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "import.json")
	code, _, stderr := invoke(t, "--project-dir", filepath.Join(projectDir, "foundation"), "--stack", "dev", "--emit-import", path)
	require.Contains(t, []int{0, 1}, code, stderr)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	var f struct {
		Resources []struct{ Type, Name, ID, Parent string }
	}
	require.NoError(t, json.Unmarshal(got, &f))
	ids := map[string]string{}
	for _, r := range f.Resources {
		ids[r.Name] = r.ID
		if r.ID != "" {
			assert.Equal(t, "dev", r.Parent, "%s: under the foundation component", r.Name)
		}
	}
	assert.Equal(t, "projects/aiprod-dev-000000/locations/global/workloadIdentityPools/github", ids["github"])
	assert.Equal(t, "projects/aiprod-dev-000000/locations/global/workloadIdentityPools/github/providers/github-actions", ids["github-actions"])
	assert.Equal(t, "aiprod-dev-000000/aiprod-dev-000000-pulumi-state", ids["aiprod-dev-000000-pulumi-state"])
	assert.Equal(t, "projects/aiprod-dev-000000/serviceAccounts/aiprod-preview@aiprod-dev-000000.iam.gserviceaccount.com", ids["aiprod-preview"])
}

func TestGolden(t *testing.T) {
	t.Parallel()
	exts := map[string]string{"text": "txt", "json": "json", "markdown": "md", "mermaid": "mmd"}
	for _, stack := range []string{"dev", "prod"} {
		for _, format := range []string{"text", "json", "markdown", "mermaid"} {
			t.Run(stack+"/"+format, func(t *testing.T) {
				t.Parallel()
				code, stdout, stderr := invoke(t, "--project-dir", projectDir, "--stack", stack, "--format", format)
				require.Equal(t, 0, code, "stderr: %s\nstdout: %s", stderr, stdout)
				assert.Empty(t, stderr)
				checkGolden(t, stack+"."+exts[format], stdout)
			})
		}
	}
}

// TestDeterministic runs the same plan twice: the SDK registers resources concurrently, and
// the output must not depend on the order.
func TestDeterministic(t *testing.T) {
	t.Parallel()
	for _, format := range []string{"text", "json", "markdown", "mermaid"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			_, first, _ := invoke(t, "--project-dir", projectDir, "--stack", "dev", "--format", format)
			for range 3 {
				_, again, _ := invoke(t, "--project-dir", projectDir, "--stack", "dev", "--format", format)
				require.Equal(t, first, again)
			}
		})
	}
}

func TestEmitImport(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "import.json")
	code, _, stderr := invoke(t, "--project-dir", projectDir, "--stack", "dev", "--emit-import", path)
	require.Equal(t, 0, code, stderr)
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	checkGolden(t, "dev.import.json", string(got))

	var f struct {
		Resources []struct{ Type, Name, ID, Parent string }
	}
	require.NoError(t, json.Unmarshal(got, &f))
	ids := map[string]string{}
	for _, r := range f.Resources {
		ids[r.Name] = r.ID
	}
	// GCP's import id formats.
	assert.Equal(t, "projects/aiprod-dev-000000/topics/aiprod-pipeline-jobs", ids["aiprod-pipeline-jobs"])
	assert.Equal(t, "projects/aiprod-dev-000000/subscriptions/aiprod-pipeline-jobs-sub", ids["aiprod-pipeline-jobs-sub"])
	assert.Equal(t, "projects/aiprod-dev-000000/subscriptions/aiprod-pipeline-jobs-sub roles/pubsub.subscriber serviceAccount:aiprod-sa@aiprod-dev-000000.iam.gserviceaccount.com",
		ids["aiprod-pipeline-jobs-sub-subscriber-app"])
	assert.Equal(t, "projects/aiprod-dev-000000/serviceAccounts/aiprod-sa@aiprod-dev-000000.iam.gserviceaccount.com", ids["aiprod-sa"])
}

// devJSON is the dev stack's plan as a preview document.
func devJSON(t *testing.T) map[string]any {
	t.Helper()
	code, stdout, stderr := invoke(t, "--project-dir", projectDir, "--stack", "dev", "--format", "json")
	require.Equal(t, 0, code, stderr)
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &doc))
	return doc
}

// jobsSubInputs returns the inputs of the dev jobs subscription in a preview document.
func jobsSubInputs(t *testing.T, doc map[string]any) map[string]any {
	t.Helper()
	for _, s := range doc["steps"].([]any) {
		st := s.(map[string]any)["newState"].(map[string]any)
		if strings.HasSuffix(st["urn"].(string), "::aiprod-pipeline-jobs-sub") {
			return st["inputs"].(map[string]any)
		}
	}
	t.Fatal("the dev plan has no jobs subscription")
	return nil
}

func writeJSON(t *testing.T, doc any) string {
	t.Helper()
	b, err := json.Marshal(doc)
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "preview.json")
	require.NoError(t, os.WriteFile(path, b, 0o644))
	return path
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	return path
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	clean := writeJSON(t, devJSON(t))

	slow := devJSON(t)
	jobs := jobsSubInputs(t, slow)
	jobs["ackDeadlineSeconds"] = 30
	unordered := devJSON(t)
	delete(jobsSubInputs(t, unordered), "enableMessageOrdering")

	badConfig := writeFile(t, "Pulumi.dev.yaml", "config:\n  gcp:project: aiprod-dev-000000\n  aiprod-pubsub:maxDeliveryAttempts: 3\n")
	tests := []struct {
		name       string
		args       []string
		code       int
		stderrHas  string
		stdoutNone bool
	}{
		{name: "clean stack", args: []string{"--stack", "dev"}, code: 0},
		{name: "clean preview document", args: []string{"--from", clean}, code: 0},
		{name: "jobs ack deadline 30", args: []string{"--from", writeJSON(t, slow)}, code: 1},
		{name: "jobs ordering dropped", args: []string{"--from", writeJSON(t, unordered), "--format", "markdown"}, code: 1},
		{name: "bad config", args: []string{"--stack", "dev", "--config", badConfig}, code: 2,
			stderrHas: "aiprod-pubsub:maxDeliveryAttempts", stdoutNone: true},
		{name: "bad config as json", args: []string{"--stack", "dev", "--config", badConfig, "--format", "json"}, code: 2,
			stderrHas: "aiprod-pubsub:maxDeliveryAttempts", stdoutNone: true},
		{name: "no stack", args: nil, code: 2, stderrHas: "--stack is required", stdoutNone: true},
		{name: "unknown format", args: []string{"--stack", "dev", "--format", "yaml"}, code: 2, stderrHas: `"yaml"`, stdoutNone: true},
		{name: "unknown stack", args: []string{"--stack", "staging"}, code: 2, stderrHas: "Pulumi.staging.yaml", stdoutNone: true},
		{name: "unknown flag", args: []string{"--stack", "dev", "--colour"}, code: 2, stderrHas: "colour", stdoutNone: true},
		{name: "missing preview", args: []string{"--from", "no-such.json"}, code: 2, stderrHas: "no-such.json", stdoutNone: true},
		{name: "preview of another stack", args: []string{"--stack", "prod", "--from", clean}, code: 2, stderrHas: `"dev"`, stdoutNone: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := invoke(t, append([]string{"--project-dir", projectDir}, tc.args...)...)
			assert.Equal(t, tc.code, code, "stderr: %s\nstdout: %s", stderr, stdout)
			if tc.stderrHas != "" {
				assert.Contains(t, stderr, tc.stderrHas)
			}
			if tc.stdoutNone {
				assert.Empty(t, stdout)
			}
			if tc.code == 1 {
				assert.Contains(t, stdout, "mandatory")
			}
		})
	}
}

// TestFromOwnJSON reads the plan's own JSON back: the same plan comes out.
func TestFromOwnJSON(t *testing.T) {
	t.Parallel()
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			_, want, _ := invoke(t, "--project-dir", projectDir, "--stack", stack, "--format", "json")
			path := writeFile(t, "preview.json", want)
			code, got, stderr := invoke(t, "--from", path, "--format", "json")
			require.Equal(t, 0, code, stderr)
			assert.Equal(t, want, got)
		})
	}
}

// TestSecretsNotPrinted: a secure value prints as [secret], never as its ciphertext, in every
// format, in the import file and in errors.
func TestSecretsNotPrinted(t *testing.T) {
	t.Parallel()
	const ciphertext = "v1:abcDEF0123456789ciphertext=="
	stackFile := func(key string) string {
		return writeFile(t, "Pulumi.dev.yaml", "encryptionsalt: v1:c2FsdA==:v1:abc:def\nconfig:\n"+
			"  gcp:project: aiprod-dev-000000\n"+
			"  "+key+":\n    secure: "+ciphertext+"\n")
	}
	tests := []struct {
		name, key string
		// shown lists the formats whose output must show [secret]; the others must only not
		// leak the ciphertext.
		shown []string
	}{
		// A provider secret the program does not read: the plan lists it, masked.
		{name: "provider credentials", key: "gcp:credentials", shown: []string{"text", "json"}},
		// The program's one key that may be secret: planned offline without its value.
		{name: "kms key", key: "aiprod-pubsub:kmsKeyName", shown: []string{"text", "json"}},
	}
	for _, tc := range tests {
		cfg := stackFile(tc.key)
		for _, format := range []string{"text", "json", "markdown", "mermaid"} {
			t.Run(tc.name+"/"+format, func(t *testing.T) {
				t.Parallel()
				code, stdout, stderr := invoke(t, "--project-dir", projectDir, "--stack", "dev", "--config", cfg, "--format", format)
				assert.NotContains(t, stdout, ciphertext)
				assert.NotContains(t, stderr, ciphertext)
				require.Equal(t, 0, code, stderr)
				if slices.Contains(tc.shown, format) {
					assert.Contains(t, stdout, tc.key)
					assert.Contains(t, stdout, "[secret]")
				}
			})
		}
		t.Run(tc.name+"/import", func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "import.json")
			_, stdout, stderr := invoke(t, "--project-dir", projectDir, "--stack", "dev", "--config", cfg, "--emit-import", path)
			assert.NotContains(t, stdout+stderr, ciphertext)
			if b, err := os.ReadFile(path); err == nil {
				assert.NotContains(t, string(b), ciphertext)
			}
		})
	}
}

// TestGoldenViolations shows how violations print: the dev plan with its jobs subscription
// broken (ack deadline 30, ordering dropped), read back with --from.
func TestGoldenViolations(t *testing.T) {
	t.Parallel()
	path := violatingDoc(t)
	for format, ext := range map[string]string{"text": "txt", "markdown": "md"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := invoke(t, "--project-dir", projectDir, "--from", path, "--format", format)
			require.Equal(t, 1, code, stderr)
			checkGolden(t, "dev-violating."+ext, stdout)
		})
	}
}

// agentAddress is any spelled-out Pub/Sub service agent: a number, whichever, before its domain.
var agentAddress = regexp.MustCompile(`service-[0-9]+@gcp-sa-pubsub`)

// TestNoInventedNumbers: without projectNumber the plan shows the Pub/Sub service agent as
// known only at deploy, never the number the mocks answer, in every format, whether it comes
// from the foundation stack (the stack files) or a lookup; the import file leaves its grants
// out and says so. With projectNumber the agent is spelled out.
func TestNoInventedNumbers(t *testing.T) {
	t.Parallel()
	invented := gcpmock.ProjectNumber("organization/aiprod-foundation/dev")
	adopted := writeFile(t, "Pulumi.dev.yaml", "config:\n  gcp:project: aiprod-dev-000000\n")
	for _, format := range []string{"text", "json", "markdown", "mermaid"} {
		code, stdout, stderr := invoke(t, "--project-dir", projectDir, "--stack", "dev", "--format", format)
		require.Equal(t, 0, code, stderr)
		assert.NotContains(t, stdout, invented, format)
		assert.NotRegexp(t, agentAddress, stdout, format)
		code, stdout, stderr = invoke(t, "--project-dir", projectDir, "--stack", "dev", "--config", adopted, "--format", format)
		require.Equal(t, 0, code, stderr)
		assert.NotContains(t, stdout, gcpmock.ProjectNumber("aiprod-dev-000000"), "looked up: "+format)
		assert.NotRegexp(t, agentAddress, stdout, "looked up: "+format)
	}
	path := filepath.Join(t.TempDir(), "import.json")
	code, _, stderr := invoke(t, "--project-dir", projectDir, "--stack", "dev", "--emit-import", path)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, 3, strings.Count(stderr, "whose address needs the project's number; to include it, set aiprod-pubsub:projectNumber and leave aiprod-pubsub:foundationStack empty"), stderr)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.NotContains(t, string(b), invented)
	assert.NotContains(t, string(b), "-agent")

	cfg := writeFile(t, "Pulumi.dev.yaml", "config:\n  gcp:project: aiprod-dev-000000\n  aiprod-pubsub:projectNumber: \"123456789012\"\n")
	code, stdout, stderr := invoke(t, "--project-dir", projectDir, "--stack", "dev", "--config", cfg, "--emit-import", path)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "serviceAccount:service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com")
	assert.Empty(t, stderr)
	b, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Contains(t, string(b), "aiprod-pipeline-dlq-publisher-agent")
}

// asCommand makes the test binary run main() itself, as the built binary does, when a test
// starts it with this variable set.
const asCommand = "PLAN_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asCommand) == "1" {
		main() // exits with the command's status
	}
	os.Exit(m.Run())
}

// TestBuiltBinaryExitStatus runs the command as its own process, as `go build -o bin/plan
// ./cmd/plan` makes it, and reads the exit status the shell sees: 0, 1 and 2 stay apart, where
// `go run` would turn both 1 and 2 into 1.
func TestBuiltBinaryExitStatus(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args []string
		want int
	}{
		{[]string{"--project-dir", projectDir, "--stack", "dev"}, exitOK},
		{[]string{"--project-dir", projectDir, "--from", filepath.Join("testdata", "previews", "dev-failed-config.json")}, exitBlocked},
		{[]string{"--project-dir", projectDir, "--from", filepath.Join("testdata", "previews", "dev-replace-ordering.json")}, exitBlocked},
		{[]string{"--project-dir", projectDir, "--stack", "staging"}, exitError},
	}
	for _, tc := range cases {
		cmd := exec.Command(os.Args[0], tc.args...)
		cmd.Env = append(os.Environ(), asCommand+"=1")
		err := cmd.Run()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else {
			require.NoError(t, err)
		}
		assert.Equal(t, tc.want, code, "plan %v", tc.args)
	}
}

// TestNotDeployable: the shipped prod stack file is not deployable; its offline plan still
// runs, exits 0, and says so at the top, naming the key and the placeholder. A stack file that
// makes it deployable with the placeholder is a config error naming the key and the value.
func TestNotDeployable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, config string
		code         int
		stdout       []string
		stderr       string
	}{
		{"prod as shipped, text", "", 0, []string{"\nNOT DEPLOYABLE: aiprod-pubsub:deployable is false; aiprod-pubsub:alertEmails holds the placeholder \"aiprod-oncall@example.com\""}, ""},
		{"made deployable with the placeholder", "config:\n  gcp:project: aiprod-prod-000000\n  aiprod-pubsub:protect: true\n  aiprod-pubsub:alertEmails:\n    - aiprod-oncall@example.com\n",
			2, nil, `aiprod-pubsub:alertEmails is "aiprod-oncall@example.com"`},
		{"deployable with a real address", "config:\n  gcp:project: aiprod-prod-000000\n  aiprod-pubsub:protect: true\n  aiprod-pubsub:alertEmails:\n    - oncall@aiprod.io\n",
			0, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"--stack", "prod", "--project-dir", projectDir}
			if tc.config != "" {
				args = append(args, "--config", writeFile(t, "Pulumi.prod.yaml", tc.config))
			}
			code, stdout, stderr := invoke(t, args...)
			assert.Equal(t, tc.code, code, stderr)
			for _, s := range tc.stdout {
				assert.Contains(t, stdout, s)
			}
			if tc.stderr != "" {
				assert.Contains(t, stderr, tc.stderr)
			}
			if tc.code == 0 && tc.config != "" {
				assert.NotContains(t, stdout, "NOT DEPLOYABLE")
			}
		})
	}
}
