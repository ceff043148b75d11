package stacks_test

import (
	"errors"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/offline"
	"github.com/aiprod/aiprod-pubsub/schemas"
	"github.com/aiprod/aiprod-pubsub/stacks"
)

func shippedSchema(t *testing.T, file string) []byte {
	t.Helper()
	b, err := fs.ReadFile(schemas.FS, file)
	require.NoError(t, err)
	return b
}

// TestSchemaFileErrors: a schema file that is missing or does not parse stops the run before
// anything is registered, and the error names the file.
func TestSchemaFileErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		fsys fstest.MapFS
		want string
	}{
		{"result schema missing", fstest.MapFS{"job.avsc": {Data: shippedSchema(t, "job.avsc")}}, "result.avsc"},
		{"job schema does not parse", fstest.MapFS{
			"job.avsc":    {Data: []byte(`{"type":"record","name":"JobMessage","fields":[{"name":"job_id"}]}`)},
			"result.avsc": {Data: shippedSchema(t, "result.avsc")},
		}, "job.avsc is not a valid Avro schema"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			files, err := offline.Load("..", "dev", "")
			require.NoError(t, err)
			files.Config.SchemaFiles = tc.fsys
			res, err := offline.Program(files.Project, "dev", files.Config)
			var cfgErr *stacks.Error
			require.True(t, errors.As(err, &cfgErr), "a config error, not %v", err)
			assert.Contains(t, err.Error(), "aiprod-pubsub:enforceSchemas is true")
			assert.Contains(t, err.Error(), tc.want)
			assert.Empty(t, res.Resources, "nothing is registered")
		})
	}

	// Without enforcement the files are not needed.
	files, err := offline.Load("..", "dev", "")
	require.NoError(t, err)
	files.Config.SchemaFiles = fstest.MapFS{}
	files.Config.Values["aiprod-pubsub:enforceSchemas"] = "false"
	_, err = offline.Program(files.Project, "dev", files.Config)
	assert.NoError(t, err)
}

// TestSchemaEvolution proves how a contract evolves: a new definition changes the schema's
// inputs only (the provider commits it as a new revision, in place), never the topic's, and
// nothing asks the engine to replace either.
func TestSchemaEvolution(t *testing.T) {
	t.Parallel()
	render2 := func(fsys fs.FS) *offline.Result {
		files, err := offline.Load("..", "prod", "")
		require.NoError(t, err)
		files.Config.SchemaFiles = fsys
		res, err := offline.Program(files.Project, "prod", files.Config)
		require.NoError(t, err)
		return res
	}
	before := render2(schemas.FS)
	evolved := []byte(`{"type":"record","name":"JobMessage","namespace":"aiprod.pipeline","fields":[
	  {"name":"job_id","type":"string"},{"name":"user_id","type":"string"},{"name":"content","type":"string"},
	  {"name":"preset","type":"string"},{"name":"metadata","type":{"type":"map","values":"string"},"default":{}},
	  {"name":"priority","type":"int","default":0}]}`)
	after := render2(fstest.MapFS{"job.avsc": {Data: evolved}, "result.avsc": {Data: shippedSchema(t, "result.avsc")}})

	for _, r := range before.Resources {
		other, err := after.ByName(r.Type, r.Name)
		require.NoError(t, err)
		if r.Type == schemaType && r.Name == "aiprod-pipeline-jobs-schema" {
			assert.NotEqual(t, r.Inputs["definition"], other.Inputs["definition"], "the new definition reaches the schema")
			assert.Equal(t, r.Inputs["name"], other.Inputs["name"], "same schema, new revision")
		} else {
			assert.Equal(t, r.Inputs, other.Inputs, "%s: unchanged by a new revision", r.URN)
		}
		assert.Empty(t, other.ReplaceOnChanges, "%s: no replace-on-change", r.URN)
		assert.False(t, other.DeleteBeforeReplace, "%s: never deleted before a replacement", r.URN)
		if r.Type == topicType {
			// The topic's setting is a literal id, not the schema's output.
			assert.NotContains(t, other.PropertyDependencies["schemaSettings"],
				"urn:pulumi:prod::aiprod-pubsub::aiprod:messaging:Pipeline$gcp:pubsub/schema:Schema::aiprod-pipeline-jobs-schema",
				"%s: schemaSettings does not follow the schema's outputs", r.URN)
		}
	}
}
