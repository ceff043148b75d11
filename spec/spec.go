// Package spec is the one place for the pipeline's spec and for what the project relies on
// about GCP: the queues and their subscription settings with the spec's defaults, physical
// names, type tokens, id formats, limits, GCP's defaults for unset fields and the Pub/Sub
// service agent. It imports only the standard library, so that the program, the policy pack,
// the offline plan and the emulator can all ask it without depending on each other.
package spec

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

// Subscription is one queue's pull subscription, in the shape of cloud-foundation-fabric's
// subscriptions map. The spec's values are in Defaults.
type Subscription struct {
	// AckDeadlineSeconds is how long a consumer has to ack a delivery (AckDeadlineRange).
	AckDeadlineSeconds int
	// MessageRetentionSeconds is how long unacked messages are kept (RetentionRange).
	MessageRetentionSeconds int
	// DeadLetter forwards a message to the dlq topic after MaxDeliveryAttempts deliveries.
	DeadLetter bool
	// Ordered enables message ordering: publishers use user_id as the ordering key, which GCP
	// ignores unless the subscription enables ordering.
	Ordered bool
	// Retry gives the subscription an explicit retry policy (the pipeline's backoff).
	Retry bool
}

// Settings are the tunables shared by every pipeline of a stack. Start from Defaults: a zero
// value is not a default, and every field is checked by Validate.
type Settings struct {
	// NamePrefix starts every physical name: <prefix>-<pipeline>-<queue>. Default "aiprod".
	NamePrefix string
	// Subscriptions are the per-queue subscription settings; every queue has an entry.
	Subscriptions map[Queue]Subscription
	// MaxDeliveryAttempts is how many deliveries a message gets before it is dead-lettered.
	// Default 5.
	MaxDeliveryAttempts int
	// RetryMinimumBackoffSeconds and RetryMaximumBackoffSeconds bound the redelivery backoff
	// of subscriptions with Retry. Default 10 and 600.
	RetryMinimumBackoffSeconds int
	RetryMaximumBackoffSeconds int
	// AppSubscriptions are the queues whose subscription the application may pull from.
	// Default: jobs.
	AppSubscriptions []Queue
	// AllowedPersistenceRegions, when set, restricts where the topics store messages.
	// Default: none, every region.
	AllowedPersistenceRegions []string
	// EnforceSchemas gives the jobs and results topics their message contracts as Pub/Sub
	// schemas, so that a malformed message is rejected at publish time. Default true.
	EnforceSchemas bool
	// Protect protects topics, subscriptions, schemas and a created service account, so that a
	// destroy or a replacement cannot drop queued messages. Default false.
	Protect bool
	// Alerts are the alerting settings. Default: thresholds derived from the settings above.
	Alerts Alerts
}

// The spec's names: the default pipeline, prefix and application service account.
const (
	DefaultPipeline         = "pipeline"
	defaultNamePrefix       = "aiprod"
	DefaultServiceAccountID = "aiprod-sa"
)

// Defaults returns the spec's settings. It is the one place where they are decided.
func Defaults() Settings {
	return Settings{
		NamePrefix: defaultNamePrefix,
		Subscriptions: map[Queue]Subscription{
			// Jobs run for minutes before they are acked.
			Jobs: {AckDeadlineSeconds: 300, MessageRetentionSeconds: DefaultRetentionSeconds,
				DeadLetter: true, Ordered: true, Retry: true},
			// A poison result must not redeliver forever either.
			Results: {AckDeadlineSeconds: 60, MessageRetentionSeconds: DefaultRetentionSeconds,
				DeadLetter: true, Retry: true},
			// Dead letters are kept for someone to inspect and replay; a week covers a holiday.
			DLQ: {AckDeadlineSeconds: 60, MessageRetentionSeconds: DefaultRetentionSeconds},
		},
		MaxDeliveryAttempts:        5,
		RetryMinimumBackoffSeconds: 10,
		RetryMaximumBackoffSeconds: backoffRange.Max,
		AppSubscriptions:           []Queue{Jobs},
		EnforceSchemas:             true,
		Alerts:                     defaultAlerts(),
	}
}

// Contract names a message contract, the file schemas/<contract>.avsc.
type Contract string

// The two contracts: the jobs topic carries jobs, the results topic results.
const (
	JobContract    Contract = "job"
	ResultContract Contract = "result"
)

// Contracts lists the contracts in a stable order.
var Contracts = []Contract{JobContract, ResultContract}

// Contract is the message contract a queue's topic enforces, or "" for the dlq, which receives
// both kinds.
func (q Queue) Contract() Contract {
	switch q {
	case Jobs:
		return JobContract
	case Results:
		return ResultContract
	}
	return ""
}
