package spec

import (
	"fmt"
	"regexp"
	"strings"
)

// TopicName is the physical name of a pipeline's topic: <prefix>-<pipeline>-<queue>.
func TopicName(prefix, pipeline string, q Queue) string {
	return StemTopicName(prefix+"-"+pipeline, q)
}

// StemTopicName is the name of a queue's topic in the pipeline whose names start with stem
// (<prefix>-<pipeline>, as TopicQueue parses it): <stem>-<queue>.
func StemTopicName(stem string, q Queue) string { return stem + "-" + string(q) }

// SubscriptionSuffix ends the name of the pull subscription on a topic.
const SubscriptionSuffix = "-sub"

// SubscriptionOf is the name of the pull subscription on the topic named topic: <topic>-sub.
func SubscriptionOf(topic string) string { return topic + SubscriptionSuffix }

// schemaSuffix ends the name of a topic's schema.
const schemaSuffix = "-schema"

// SubscriptionName is the physical name of the pull subscription on a topic: <topic>-sub.
func SubscriptionName(prefix, pipeline string, q Queue) string {
	return SubscriptionOf(TopicName(prefix, pipeline, q))
}

// SchemaName is the physical name of the schema of a queue's topic: <topic>-schema.
func SchemaName(prefix, pipeline string, q Queue) string {
	return TopicName(prefix, pipeline, q) + schemaSuffix
}

// TopicQueue parses a topic name <stem>-<queue>: the stem (<prefix>-<pipeline>) and the queue.
func TopicQueue(name string) (stem string, q Queue, ok bool) {
	for _, q := range Queues {
		if stem, found := strings.CutSuffix(name, StemTopicName("", q)); found && stem != "" {
			return stem, q, true
		}
	}
	return "", "", false
}

// SubscriptionQueue parses a subscription name <stem>-<queue>-sub.
func SubscriptionQueue(name string) (stem string, q Queue, ok bool) {
	topic, found := strings.CutSuffix(name, SubscriptionSuffix)
	if !found {
		return "", "", false
	}
	return TopicQueue(topic)
}

// nameRule says what a Pub/Sub topic, subscription or schema name may be.
const nameRule = "must start with a letter, use only [A-Za-z0-9-_.~+%], be 3 to 255 characters long and not start with \"goog\""

var resourceNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$`)

// checkResourceName reports whether name is a valid Pub/Sub topic, subscription or schema name.
func checkResourceName(name string) error {
	if !resourceNameRE.MatchString(name) {
		return fmt.Errorf("must start with a letter, use only [A-Za-z0-9-_.~+%%] and be 3 to 255 characters long")
	}
	if strings.HasPrefix(strings.ToLower(name), "goog") {
		return fmt.Errorf("must not start with \"goog\"")
	}
	return nil
}

var serviceAccountIDRE = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)

// CheckServiceAccountID reports whether id is a valid service account id (the part before the @).
func CheckServiceAccountID(id string) error {
	if !serviceAccountIDRE.MatchString(id) {
		return fmt.Errorf("must be 6 to 30 characters of [a-z0-9-], start with a letter and not end with a hyphen")
	}
	return nil
}

// Label keys: 1..63 characters, lowercase letters, digits, '_' and '-', starting with a lowercase
// letter. Values: 0..63 characters of the same set. International letters are allowed by GCP but
// are not used here.
var (
	labelKeyRE   = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,62}$`)
	labelValueRE = regexp.MustCompile(`^[a-z0-9_-]{0,63}$`)
)

// CheckLabel reports whether key=value is a valid GCP label.
func CheckLabel(key, value string) error {
	if !labelKeyRE.MatchString(key) {
		return fmt.Errorf("label key %q must start with a lowercase letter and use only [a-z0-9_-], at most 63 characters", key)
	}
	if !labelValueRE.MatchString(value) {
		return fmt.Errorf("label value %q must use only [a-z0-9_-], at most 63 characters", value)
	}
	return nil
}

var (
	projectIDRE = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	digitsRE    = regexp.MustCompile(`^[0-9]+$`)
	regionRE    = regexp.MustCompile(`^[a-z]+-[a-z]+[0-9]+$`)
	kmsKeyRE    = regexp.MustCompile(`^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$`)
)

// CheckProjectID reports whether id is a valid GCP project id.
func CheckProjectID(id string) error {
	if !projectIDRE.MatchString(id) {
		return fmt.Errorf("must be a GCP project id: 6 to 30 characters of [a-z0-9-], starting with a letter")
	}
	return nil
}

// CheckProjectNumber reports whether n is a project number.
func CheckProjectNumber(n string) error {
	if !digitsRE.MatchString(n) {
		return fmt.Errorf("must be the project's number, digits only")
	}
	return nil
}

// CheckKMSKeyName reports whether name is a Cloud KMS key's full name.
func CheckKMSKeyName(name string) error {
	if !kmsKeyRE.MatchString(name) {
		return fmt.Errorf("must be projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>")
	}
	return nil
}

// PipelinesOutput is the stack output that maps each pipeline to its component's outputs.
const PipelinesOutput = "pipelines"

// TopicOutput is the pipeline output holding a queue's topic id: jobsTopic.
func TopicOutput(q Queue) string { return string(q) + "Topic" }

// SubscriptionOutput is the pipeline output holding a queue's subscription id: jobsSubscription.
func SubscriptionOutput(q Queue) string { return string(q) + "Subscription" }

// AlertName is the logical name of one of a pipeline's alert policies:
// <prefix>-<pipeline>-<alert>-alert.
func AlertName(prefix, pipeline, alert string) string {
	return prefix + "-" + pipeline + "-" + alert + "-alert"
}

// The short keys that end the logical name of an IAM member, <target>-<role>-<key>, by whose
// grant it is.
const (
	AppMemberKey          = "app"
	ServiceAgentMemberKey = "agent"
)
