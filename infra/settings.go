package infra

import (
	"fmt"
	"slices"
	"strings"
)

// Queue is one of a pipeline's three message flows; each has a topic and a pull subscription.
type Queue string

// The three queues of every pipeline.
const (
	Jobs    Queue = "jobs"
	Results Queue = "results"
	DLQ     Queue = "dlq"
)

// Queues lists every queue in the order resources are declared and shown.
var Queues = []Queue{Jobs, Results, DLQ}

// Settings are the tunables shared by every pipeline of a stack. Start from DefaultSettings:
// every field is checked and a zero value is not a default.
type Settings struct {
	// NamePrefix starts every physical name: <prefix>-<pipeline>-<queue>.
	NamePrefix string
	// JobsAckDeadlineSeconds is the jobs subscription's ack deadline; jobs run for minutes.
	JobsAckDeadlineSeconds int
	// ResultsAckDeadlineSeconds is the results subscription's ack deadline.
	ResultsAckDeadlineSeconds int
	// DLQAckDeadlineSeconds is the dead-letter subscription's ack deadline.
	DLQAckDeadlineSeconds int
	// MaxDeliveryAttempts is how many deliveries a message gets before it is dead-lettered.
	MaxDeliveryAttempts int
	// DeadLetterResults makes the results subscription dead-letter too, so that a poison result
	// does not redeliver forever.
	DeadLetterResults bool
	// RetryMinimumBackoffSeconds and RetryMaximumBackoffSeconds bound the redelivery backoff.
	RetryMinimumBackoffSeconds int
	RetryMaximumBackoffSeconds int
	// MessageRetentionSeconds is how long the jobs and results subscriptions keep unacked messages.
	MessageRetentionSeconds int
	// DLQMessageRetentionSeconds is how long the dead-letter subscription keeps messages.
	DLQMessageRetentionSeconds int
	// AppSubscriptions are the queues whose subscription the application may pull from.
	AppSubscriptions []Queue
	// KMSKeyName, when set, encrypts the topics with this Cloud KMS key.
	KMSKeyName string
	// SecretKMSKeyName marks KMSKeyName as a secret: it is kept encrypted in the state, and
	// when it could not be decrypted (it reads as Blinded, in an offline plan) it is not checked.
	SecretKMSKeyName bool
	// AllowedPersistenceRegions, when set, restricts where the topics store messages.
	AllowedPersistenceRegions []string
	// EnforceSchemas gives the jobs and results topics the message contracts as Pub/Sub
	// schemas, so that a malformed message is rejected at publish time.
	EnforceSchemas bool
	// Protect marks topics, subscriptions and a created service account as protected, so that a
	// destroy or a replacement cannot drop queued messages.
	Protect bool
}

// Blinded is what a secret reads as when it cannot be decrypted, as in an offline plan.
const Blinded = "[secret]"

// DefaultSettings returns the spec's settings. It is the one place where defaults are defined.
func DefaultSettings() Settings {
	return Settings{
		NamePrefix:                 "aiprod",
		JobsAckDeadlineSeconds:     300,
		ResultsAckDeadlineSeconds:  60,
		DLQAckDeadlineSeconds:      60,
		MaxDeliveryAttempts:        5,
		DeadLetterResults:          true,
		RetryMinimumBackoffSeconds: 10,
		RetryMaximumBackoffSeconds: 600,
		MessageRetentionSeconds:    604800,
		DLQMessageRetentionSeconds: 604800,
		AppSubscriptions:           []Queue{Jobs},
		EnforceSchemas:             true,
	}
}

// Problem is one invalid setting: its name (as in the stack config, without namespace), its
// value and what is allowed.
type Problem struct {
	Setting string
	Value   any
	Allowed string
}

func (p Problem) String() string {
	v := fmt.Sprint(p.Value)
	if s, ok := p.Value.(string); ok {
		v = fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%s is %s; %s", p.Setting, v, p.Allowed)
}

// Problems is a list of invalid settings, reported together.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Validate checks every setting against GCP's limits and returns all problems found.
func (s Settings) Validate() Problems {
	var ps Problems
	inRange := func(setting string, v, min, max int) {
		if err := CheckRange(v, min, max); err != nil {
			ps = append(ps, Problem{setting, v, err.Error()})
		}
	}
	inRange("jobsAckDeadlineSeconds", s.JobsAckDeadlineSeconds, MinAckDeadlineSeconds, MaxAckDeadlineSeconds)
	inRange("resultsAckDeadlineSeconds", s.ResultsAckDeadlineSeconds, MinAckDeadlineSeconds, MaxAckDeadlineSeconds)
	inRange("dlqAckDeadlineSeconds", s.DLQAckDeadlineSeconds, MinAckDeadlineSeconds, MaxAckDeadlineSeconds)
	inRange("maxDeliveryAttempts", s.MaxDeliveryAttempts, MinDeliveryAttempts, MaxDeliveryAttempts)
	inRange("retryMinimumBackoffSeconds", s.RetryMinimumBackoffSeconds, MinBackoffSeconds, MaxBackoffSeconds)
	inRange("retryMaximumBackoffSeconds", s.RetryMaximumBackoffSeconds, MinBackoffSeconds, MaxBackoffSeconds)
	if s.RetryMinimumBackoffSeconds > s.RetryMaximumBackoffSeconds {
		ps = append(ps, Problem{"retryMinimumBackoffSeconds", s.RetryMinimumBackoffSeconds,
			fmt.Sprintf("must not exceed retryMaximumBackoffSeconds (%d)", s.RetryMaximumBackoffSeconds)})
	}
	inRange("messageRetentionSeconds", s.MessageRetentionSeconds, MinRetentionSeconds, MaxRetentionSeconds)
	inRange("dlqMessageRetentionSeconds", s.DLQMessageRetentionSeconds, MinRetentionSeconds, MaxRetentionSeconds)
	for _, q := range s.AppSubscriptions {
		if !slices.Contains(Queues, q) {
			ps = append(ps, Problem{"appSubscriptions", string(q), "each entry must be one of jobs, results, dlq"})
		}
	}
	if hasDuplicates(s.AppSubscriptions) {
		ps = append(ps, Problem{"appSubscriptions", fmt.Sprint(s.AppSubscriptions), "entries must be unique"})
	}
	for _, r := range s.AllowedPersistenceRegions {
		if !regionRE.MatchString(r) {
			ps = append(ps, Problem{"allowedPersistenceRegions", r, "each entry must be a GCP region such as europe-west1"})
		}
	}
	blind := s.SecretKMSKeyName && s.KMSKeyName == Blinded
	if s.KMSKeyName != "" && !blind && !kmsKeyRE.MatchString(s.KMSKeyName) {
		ps = append(ps, Problem{"kmsKeyName", s.KMSKeyName,
			"must be projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>"})
	}
	return ps
}

// ValidateNames checks the names derived from the prefix and a pipeline name.
func ValidateNames(prefix, pipeline string) Problems {
	if pipeline == "" {
		return Problems{{"pipelines", pipeline, "pipeline names must not be empty"}}
	}
	if err := CheckResourceName(prefix + "-x-jobs"); err != nil || prefix == "" {
		return Problems{{"namePrefix", prefix, "the derived name " + fmt.Sprintf("%q ", prefix+"-"+pipeline+"-jobs") +
			"is invalid: names " + nameRule}}
	}
	if err := CheckLabel("component", pipeline); err != nil {
		return Problems{{"pipelines", pipeline, "pipeline names are the component label's value: " + err.Error()}}
	}
	for _, q := range Queues {
		// The schema's name is the longest a queue derives.
		name := SchemaName(prefix, pipeline, q)
		if err := CheckResourceName(name); err != nil {
			return Problems{{"pipelines", pipeline, fmt.Sprintf("the derived name %q is invalid: names %s", name, nameRule)}}
		}
	}
	return nil
}

const nameRule = "must start with a letter, use only [A-Za-z0-9-_.~+%], be 3 to 255 characters long and not start with \"goog\""

// TopicName is the physical name of a pipeline's topic: <prefix>-<pipeline>-<queue>.
func TopicName(prefix, pipeline string, q Queue) string {
	return prefix + "-" + pipeline + "-" + string(q)
}

// SubscriptionName is the physical name of the pull subscription on a topic: <topic>-sub.
func SubscriptionName(prefix, pipeline string, q Queue) string {
	return TopicName(prefix, pipeline, q) + "-sub"
}

func hasDuplicates[T comparable](xs []T) bool {
	seen := map[T]bool{}
	for _, x := range xs {
		if seen[x] {
			return true
		}
		seen[x] = true
	}
	return false
}
