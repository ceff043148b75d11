package schemas

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEncode: what the rehearsal publishes conforms to the contracts, and a message the real
// topic would reject is refused before it reaches the in-memory Pub/Sub.
func TestEncode(t *testing.T) {
	t.Parallel()
	job := JobMessage{JobID: "j-1", UserID: "u-1", Content: "x", Preset: "fast", Metadata: map[string]string{"a": "b"}}
	ok := ResultMessage{JobID: "j-1", Status: StatusError, Output: map[string]string{}, ErrorMessage: OptionalString{Value: "boom", Set: true}, ProcessingTimeMS: 3}
	cases := []struct {
		name string
		kind Kind
		msg  any
		ok   bool
	}{
		{"a job", Job, job, true},
		{"a failed result", Result, ok, true},
		{"a successful result", Result, ResultMessage{JobID: "j-1", Status: StatusSuccess, ProcessingTimeMS: 1}, true},
		{"unknown status", Result, ResultMessage{JobID: "j-1", Status: "done", ProcessingTimeMS: 1}, false},
		{"a job on the results topic", Result, job, false},
		{"a result on the jobs topic", Job, ok, false},
		{"metadata that is not strings", Job, map[string]any{"job_id": "j", "user_id": "u", "content": "c", "preset": "p", "metadata": map[string]any{"n": 1}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			data, err := Encode(tc.kind, tc.msg)
			if !tc.ok {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.True(t, json.Valid(data))
		})
	}
}

func TestOptionalStringRoundTrip(t *testing.T) {
	t.Parallel()
	for _, o := range []OptionalString{{}, {Value: "boom", Set: true}, {Value: "", Set: true}} {
		b, err := json.Marshal(o)
		require.NoError(t, err)
		var back OptionalString
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, o, back, "%s", b)
	}
	var o OptionalString
	assert.Error(t, json.Unmarshal([]byte(`"boom"`), &o), "a bare string is not Avro's union encoding")
}
