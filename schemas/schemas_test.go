package schemas_test

import (
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aiprod/aiprod-pubsub/schemas"
)

// Samples are messages as publishers send them: the good ones Pub/Sub accepts on a topic with
// the schema, the bad ones it rejects at publish time, each for one reason.
var samples = []struct {
	name string
	kind schemas.Kind
	msg  string
	ok   bool
}{
	{"job: every field", schemas.Job, `{"job_id":"j-1","user_id":"u-1","content":"a cat on a boat","preset":"fast","metadata":{"source":"api"}}`, true},
	{"job: empty metadata", schemas.Job, `{"job_id":"j-2","user_id":"u-1","content":"x","preset":"hq","metadata":{}}`, true},
	{"job: metadata left out takes its default", schemas.Job, `{"job_id":"j-3","user_id":"u-2","content":"x","preset":"hq"}`, true},
	{"job: empty strings", schemas.Job, `{"job_id":"","user_id":"","content":"","preset":"","metadata":{}}`, true},
	{"job: unicode content", schemas.Job, `{"job_id":"j-4","user_id":"u-3","content":"un chat sur un bateau, été","preset":"fast","metadata":{"lang":"fr"}}`, true},
	{"job: several metadata entries", schemas.Job, `{"job_id":"j-5","user_id":"u-3","content":"x","preset":"fast","metadata":{"a":"1","b":"2","c":"3"}}`, true},
	{"result: success", schemas.Result, `{"job_id":"j-1","status":"success","output":{"url":"gs://b/o.mp4"},"error_message":null,"processing_time_ms":1200}`, true},
	{"result: error with a message", schemas.Result, `{"job_id":"j-1","status":"error","output":{},"error_message":{"string":"model crashed"},"processing_time_ms":5}`, true},
	{"result: timeout", schemas.Result, `{"job_id":"j-1","status":"timeout","output":{},"error_message":{"string":"300 s"},"processing_time_ms":300000}`, true},
	{"result: defaults left out", schemas.Result, `{"job_id":"j-1","status":"success","processing_time_ms":0}`, true},
	{"result: long processing time", schemas.Result, `{"job_id":"j-1","status":"success","output":{},"error_message":null,"processing_time_ms":9007199254740991}`, true},

	{"job: job_id missing", schemas.Job, `{"user_id":"u-1","content":"x","preset":"fast","metadata":{}}`, false},
	{"job: user_id missing", schemas.Job, `{"job_id":"j-1","content":"x","preset":"fast","metadata":{}}`, false},
	{"job: content missing", schemas.Job, `{"job_id":"j-1","user_id":"u-1","preset":"fast","metadata":{}}`, false},
	{"job: preset missing", schemas.Job, `{"job_id":"j-1","user_id":"u-1","content":"x","metadata":{}}`, false},
	{"job: job_id a number", schemas.Job, `{"job_id":42,"user_id":"u-1","content":"x","preset":"fast","metadata":{}}`, false},
	{"job: user_id null", schemas.Job, `{"job_id":"j-1","user_id":null,"content":"x","preset":"fast","metadata":{}}`, false},
	{"job: metadata value a number", schemas.Job, `{"job_id":"j-1","user_id":"u-1","content":"x","preset":"fast","metadata":{"retries":3}}`, false},
	{"job: metadata a list", schemas.Job, `{"job_id":"j-1","user_id":"u-1","content":"x","preset":"fast","metadata":["a"]}`, false},
	{"job: not JSON", schemas.Job, `job_id=j-1`, false},
	{"job: a result sent to the jobs topic", schemas.Job, `{"job_id":"j-1","status":"success","output":{},"error_message":null,"processing_time_ms":1}`, false},
	{"result: unknown status", schemas.Result, `{"job_id":"j-1","status":"done","output":{},"error_message":null,"processing_time_ms":1}`, false},
	{"result: status missing", schemas.Result, `{"job_id":"j-1","output":{},"error_message":null,"processing_time_ms":1}`, false},
	{"result: status upper case", schemas.Result, `{"job_id":"j-1","status":"SUCCESS","output":{},"error_message":null,"processing_time_ms":1}`, false},
	{"result: processing time a string", schemas.Result, `{"job_id":"j-1","status":"success","output":{},"error_message":null,"processing_time_ms":"12"}`, false},
	{"result: processing time fractional", schemas.Result, `{"job_id":"j-1","status":"success","output":{},"error_message":null,"processing_time_ms":1.5}`, false},
	{"result: processing time missing", schemas.Result, `{"job_id":"j-1","status":"success","output":{},"error_message":null}`, false},
	{"result: error message not in Avro's union form", schemas.Result, `{"job_id":"j-1","status":"error","output":{},"error_message":"boom","processing_time_ms":1}`, false},
	{"result: output value an object", schemas.Result, `{"job_id":"j-1","status":"success","output":{"video":{"url":"x"}},"error_message":null,"processing_time_ms":1}`, false},
	{"result: a job sent to the results topic", schemas.Result, `{"job_id":"j-1","user_id":"u-1","content":"x","preset":"fast","metadata":{}}`, false},
}

func TestSamples(t *testing.T) {
	t.Parallel()
	all, err := schemas.Load(schemas.FS)
	require.NoError(t, err)
	good, bad := 0, 0
	for _, tc := range samples {
		if tc.ok {
			good++
		} else {
			bad++
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := all[tc.kind].Validate([]byte(tc.msg))
			if tc.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err, "Pub/Sub would have to reject %s", tc.msg)
			}
		})
	}
	assert.GreaterOrEqual(t, good, 10)
	assert.GreaterOrEqual(t, bad, 10)
}

func TestLoadErrorsNameTheFile(t *testing.T) {
	t.Parallel()
	good, err := fs.ReadFile(schemas.FS, "job.avsc")
	require.NoError(t, err)
	cases := []struct {
		name string
		fsys fstest.MapFS
		want string
	}{
		{"missing result schema", fstest.MapFS{"job.avsc": {Data: good}}, "schema file result.avsc"},
		{"job schema not JSON", fstest.MapFS{"job.avsc": {Data: []byte("{")}, "result.avsc": {Data: good}}, "schema file job.avsc is not a valid Avro schema"},
		{"job schema with an unknown type", fstest.MapFS{"job.avsc": {Data: []byte(`{"type":"record","name":"J","fields":[{"name":"a","type":"strng"}]}`)}, "result.avsc": {Data: good}}, "job.avsc"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := schemas.Load(tc.fsys)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
