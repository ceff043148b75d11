package emulator

// JobMessage is a job execution request, as the API publishes it to the jobs topic with the
// user's id as ordering key.
type JobMessage struct {
	JobID    string         `json:"job_id"`
	UserID   string         `json:"user_id"`
	Content  string         `json:"content"`
	Preset   string         `json:"preset"`
	Metadata map[string]any `json:"metadata"`
}

// Result statuses a worker reports.
const (
	StatusSuccess = "success"
	StatusError   = "error"
	StatusTimeout = "timeout"
)

// ResultMessage is a job's outcome, as a worker publishes it to the results topic.
type ResultMessage struct {
	JobID            string `json:"job_id"`
	Status           string `json:"status"`
	Output           string `json:"output"`
	ErrorMessage     string `json:"error_message"`
	ProcessingTimeMS int64  `json:"processing_time_ms"`
}
