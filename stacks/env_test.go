package stacks

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEnvConfig reads the config the way the engine hands it to `pulumi up`.
func TestEnvConfig(t *testing.T) {
	t.Setenv("PULUMI_CONFIG", `{"gcp:project":"aiprod-dev-000000","aiprod-pubsub:protect":"true"}`)
	t.Setenv("PULUMI_CONFIG_SECRET_KEYS", `["aiprod-pubsub:protect"]`)
	raw, err := envConfig()
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"gcp:project": "aiprod-dev-000000", "aiprod-pubsub:protect": "true"}, raw.Values)
	assert.Equal(t, []string{"aiprod-pubsub:protect"}, raw.Secret)

	t.Setenv("PULUMI_CONFIG", `{not json`)
	_, err = envConfig()
	assert.ErrorContains(t, err, "PULUMI_CONFIG")
}
