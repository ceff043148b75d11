package stacks_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/offline"
	"github.com/aiprod/aiprod-pubsub/spec"
	"github.com/aiprod/aiprod-pubsub/stacks"
)

// TestBadConfig runs the program with one bad key at a time: the error names the key and the
// value, and nothing is registered.
func TestBadConfig(t *testing.T) {
	t.Parallel()
	ns := func(k string) string { return stacks.Namespace + ":" + k }
	cases := []struct {
		name  string
		key   string // the key the error must name
		value string // "" with del removes the key
		del   bool
		want  string // a fragment of the message
		quote string // how the message quotes the value, when not the whole value
	}{
		{"missing project", "gcp:project", "", true, "must be set", ""},
		{"bad project id", "gcp:project", "My_Project", false, "project id", ""},
		{"jobs ack deadline too low", ns("jobsAckDeadlineSeconds"), "9", false, "between 10 and 600", ""},
		{"jobs ack deadline too high", ns("jobsAckDeadlineSeconds"), "601", false, "between 10 and 600", ""},
		{"results ack deadline", ns("resultsAckDeadlineSeconds"), "0", false, "between 10 and 600", ""},
		{"dlq ack deadline", ns("dlqAckDeadlineSeconds"), "1000", false, "between 10 and 600", ""},
		{"ack deadline not a number", ns("jobsAckDeadlineSeconds"), "5m", false, "must be an integer", ""},
		{"attempts too low", ns("maxDeliveryAttempts"), "3", false, "between 5 and 100", ""},
		{"attempts too high", ns("maxDeliveryAttempts"), "101", false, "between 5 and 100", ""},
		{"retention too short", ns("messageRetentionSeconds"), "599", false, "between 600 and 2678400", ""},
		{"retention too long", ns("messageRetentionSeconds"), "2678401", false, "between 600 and 2678400", ""},
		{"dlq retention", ns("dlqMessageRetentionSeconds"), "60", false, "between 600 and 2678400", ""},
		{"negative backoff", ns("retryMinimumBackoffSeconds"), "-1", false, "between 0 and 600", ""},
		{"backoff too long", ns("retryMaximumBackoffSeconds"), "601", false, "between 0 and 600", ""},
		{"minimum above maximum", ns("retryMinimumBackoffSeconds"), "601", false, "between 0 and 600", ""},
		{"deadLetterResults not a bool", ns("deadLetterResults"), "yes", false, "true or false", ""},
		{"prefix starts with goog", ns("namePrefix"), "goog", false, "goog", ""},
		{"prefix starts with a digit", ns("namePrefix"), "1aiprod", false, "must start with a letter", ""},
		{"empty prefix", ns("namePrefix"), "", false, "must start with a letter", ""},
		{"pipeline with a space", ns("pipelines"), `["my pipeline"]`, false, "component label", `"my pipeline"`},
		{"empty pipeline name", ns("pipelines"), `[""]`, false, "must not be empty", `""`},
		{"duplicate pipelines", ns("pipelines"), `["a1","a1"]`, false, "unique", `"a1"`},
		{"no pipelines", ns("pipelines"), `[]`, false, "at least one", ""},
		{"pipelines not a list", ns("pipelines"), `pipeline`, false, "list of strings", ""},
		{"derived name too long", ns("namePrefix"), strings.Repeat("a", 250), false, "3 to 255", ""},
		{"app subscription unknown", ns("appSubscriptions"), `["jobs","audit"]`, false, "jobs, results, dlq", `"audit"`},
		{"service account id too short", ns("serviceAccountId"), "sa", false, "6 to 30", ""},
		{"service account id uppercase", ns("serviceAccountId"), "Aiprod-SA", false, "6 to 30", ""},
		{"service account id trailing hyphen", ns("serviceAccountId"), "aiprod-sa-", false, "6 to 30", ""},
		{"project number with letters", ns("projectNumber"), "12ab", false, "digits", ""},
		{"foundation stack not qualified", ns("foundationStack"), "dev", false, "must be a foundation stack as <org>/aiprod-foundation/<stack>", ""},
		{"foundation stack of another project", ns("foundationStack"), "organization/aiprod-pubsub/dev", false, "must be a foundation stack as <org>/aiprod-foundation/<stack>", ""},
		{"foundation stack and a project number", ns("projectNumber"), "123456789012", false,
			"must be empty when aiprod-pubsub:foundationStack is set, whose outputs name the service agent; set one of them", ""},
		{"label key uppercase", ns("labels"), `{"Team":"media"}`, false, "label key", `"Team=media"`},
		{"label value with a dot", ns("labels"), `{"team":"media.v2"}`, false, "label value", `"team=media.v2"`},
		{"label overrides a standard one", ns("labels"), `{"env":"prod"}`, false, "sets itself", `"env=prod"`},
		{"labels not an object", ns("labels"), `["a"]`, false, "map of strings", `"[\"a\"]"`},
		{"bad kms key", ns("kmsKeyName"), "my-key", false, "cryptoKeys", ""},
		{"bad region", ns("allowedPersistenceRegions"), `["Europe West"]`, false, "GCP region", `"Europe West"`},
		{"unknown key", ns("ackDeadline"), "300", false, "not a known key", ""},
		{"typo of a known key", ns("maxDeliveryAttempt"), "5", false, "did you mean aiprod-pubsub:maxDeliveryAttempts", ""},
		{"protect not a bool", ns("protect"), "on", false, "true or false", ""},
		{"namespace typo", "aiprod-pubsb:maxDeliveryAttempts", "10", false, "did you mean aiprod-pubsub:maxDeliveryAttempts?", ""},
		{"unknown namespace", "aws:region", "eu-west-1", false, "not a key of a known namespace (aiprod-pubsub, gcp, pulumi)", ""},
		{"app does not pull jobs", ns("appSubscriptions"), `["results"]`, false, "must include jobs", `"[results]"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files, err := offline.Load("..", "dev", "")
			require.NoError(t, err)
			if tc.del {
				delete(files.Config.Values, tc.key)
			} else {
				files.Config.Values[tc.key] = tc.value
			}
			res, err := offline.Program(files.Project, "dev", files.Config)
			require.Error(t, err)
			var cfgErr *stacks.Error
			require.True(t, errors.As(err, &cfgErr), "a config error, not %T: %v", err, err)
			assert.Contains(t, err.Error(), tc.key+" is ", "the error names the key")
			assert.Contains(t, err.Error(), tc.want)
			switch {
			case tc.quote != "":
				assert.Contains(t, err.Error(), tc.key+" is "+tc.quote, "the error quotes the offending value")
			case !tc.del && tc.value != "":
				assert.Contains(t, err.Error(), tc.value, "the error quotes the value")
			}
			assert.Empty(t, res.Resources, "nothing is registered")
			assert.Empty(t, res.Lookups, "nothing is looked up")
		})
	}
}

// TestAllProblemsAtOnce: one run reports every problem of a config.
func TestAllProblemsAtOnce(t *testing.T) {
	t.Parallel()
	raw := stacks.Raw{Values: map[string]string{
		"gcp:project":                          "aiprod-dev-000000",
		"aiprod-pubsub:jobsAckDeadlineSeconds": "5",
		"aiprod-pubsub:maxDeliveryAttempts":    "3",
		"aiprod-pubsub:nmePrefix":              "x",
	}}
	_, err := stacks.Parse("dev", raw)
	var cfgErr *stacks.Error
	require.True(t, errors.As(err, &cfgErr))
	assert.Len(t, cfgErr.Problems, 3)
	assert.Contains(t, err.Error(), "aiprod-pubsub:jobsAckDeadlineSeconds is 5; must be between 10 and 600")
	assert.Contains(t, err.Error(), "aiprod-pubsub:maxDeliveryAttempts is 3; must be between 5 and 100")
	assert.Contains(t, err.Error(), `aiprod-pubsub:nmePrefix is "x"; not a known key of aiprod-pubsub (did you mean aiprod-pubsub:namePrefix?)`)
}

// TestBadStackName: the stack's name is the env label, so it must be a label value.
func TestBadStackName(t *testing.T) {
	t.Parallel()
	_, err := stacks.Parse("Prod.EU", stacks.Raw{Values: map[string]string{"gcp:project": "aiprod-dev-000000"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `stack is "Prod.EU"`)
}

// TestSecretConfig: the KMS key name may be a secret, checked when it can be read and taken
// as it is when it cannot (offline); no other key may be a secret.
func TestSecretConfig(t *testing.T) {
	t.Parallel()
	key := "aiprod-pubsub:kmsKeyName"
	cases := []struct {
		name   string
		values map[string]string
		secret []string
		want   string // a fragment of the error; "" for none
	}{
		{"blinded key name", map[string]string{key: spec.Secret}, []string{key}, ""},
		{"decrypted key name", map[string]string{key: "projects/p/locations/l/keyRings/r/cryptoKeys/k"}, []string{key}, ""},
		{"decrypted key name is still checked", map[string]string{key: "my-key"}, []string{key}, `aiprod-pubsub:kmsKeyName is "my-key"`},
		{"a secret number", map[string]string{"aiprod-pubsub:maxDeliveryAttempts": "5"}, []string{"aiprod-pubsub:maxDeliveryAttempts"},
			`aiprod-pubsub:maxDeliveryAttempts is "[secret]"; must not be a secret`},
		{"a secret prefix", map[string]string{"aiprod-pubsub:namePrefix": spec.Secret}, []string{"aiprod-pubsub:namePrefix"},
			"aiprod-pubsub:namePrefix is \"[secret]\"; must not be a secret"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files, err := offline.Load("..", "dev", "")
			require.NoError(t, err)
			for k, v := range tc.values {
				files.Config.Values[k] = v
			}
			files.Config.Secret = tc.secret
			res, err := offline.Program(files.Project, "dev", files.Config)
			if tc.want != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.want)
				assert.Empty(t, res.Resources)
				return
			}
			require.NoError(t, err)
			topic, err := res.ByName("gcp:pubsub/topic:Topic", "aiprod-pipeline-jobs")
			require.NoError(t, err)
			v := topic.Inputs["kmsKeyName"]
			assert.True(t, v.IsSecret(), "%s: kmsKeyName is kept secret", topic.URN)
			assert.Equal(t, tc.values[key], v.SecretValue().Element.StringValue())
		})
	}
}
