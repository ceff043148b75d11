package schemas

import (
	"encoding/json"
	"fmt"
	"sync"
)

// JobMessage is a job execution request, as the API publishes it to the jobs topic with the
// user's id as ordering key. Its JSON is the JobMessage contract (schemas/job.avsc).
type JobMessage struct {
	JobID    string            `json:"job_id"`
	UserID   string            `json:"user_id"`
	Content  string            `json:"content"`
	Preset   string            `json:"preset"`
	Metadata map[string]string `json:"metadata,omitempty"` // left out when empty: the contract defaults it to {}
}

// Result statuses a worker reports (the contract also allows "timeout").
const (
	StatusSuccess = "success"
	StatusError   = "error"
)

// ResultMessage is a job's outcome, as a worker publishes it to the results topic. Its JSON is
// the ResultMessage contract (schemas/result.avsc).
type ResultMessage struct {
	JobID            string            `json:"job_id"`
	Status           string            `json:"status"`
	Output           map[string]string `json:"output,omitempty"` // left out when empty: the contract defaults it to {}
	ErrorMessage     OptionalString    `json:"error_message"`
	ProcessingTimeMS int64             `json:"processing_time_ms"`
}

// OptionalString is a nullable string in Avro's JSON encoding: null, or {"string": "..."}.
type OptionalString struct {
	Value string
	Set   bool
}

// MarshalJSON writes null or {"string": value}.
func (o OptionalString) MarshalJSON() ([]byte, error) {
	if !o.Set {
		return []byte("null"), nil
	}
	return json.Marshal(map[string]string{"string": o.Value})
}

// UnmarshalJSON reads null or {"string": value}.
func (o *OptionalString) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*o = OptionalString{}
		return nil
	}
	var m map[string]string
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	v, ok := m["string"]
	if !ok || len(m) != 1 {
		return fmt.Errorf("an optional string is null or {\"string\": ...}, not %s", b)
	}
	*o = OptionalString{Value: v, Set: true}
	return nil
}

var contracts = sync.OnceValues(func() (map[Kind]*Schema, error) {
	return Load(FS)
})

// Encode returns msg's JSON after checking it against the contract of kind, so that a publisher
// is refused what the real topics would reject at publish time, even where nothing enforces
// topic schemas (the in-memory Pub/Sub).
func Encode(kind Kind, msg any) ([]byte, error) {
	all, err := contracts()
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(msg)
	if err != nil {
		return nil, err
	}
	if err := all[kind].Validate(data); err != nil {
		return nil, err
	}
	return data, nil
}
