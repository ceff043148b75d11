package infra

import (
	"fmt"
	"regexp"
	"strings"
)

// GCP's limits for Pub/Sub settings. The policy pack keeps its own copy on purpose: it judges
// what the engine sees and must not trust this package.
const (
	MinAckDeadlineSeconds = 10
	MaxAckDeadlineSeconds = 600

	MinDeliveryAttempts = 5
	MaxDeliveryAttempts = 100

	// Retention of a subscription or a topic: 10 minutes to 31 days.
	MinRetentionSeconds = 600
	MaxRetentionSeconds = 2678400

	MinBackoffSeconds = 0
	MaxBackoffSeconds = 600
)

// CheckRange reports whether v lies in min..max, as the tail of an error message.
func CheckRange(v, min, max int) error {
	if v < min || v > max {
		return fmt.Errorf("must be between %d and %d", min, max)
	}
	return nil
}

var resourceNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9\-_.~+%]{2,254}$`)

// CheckResourceName reports whether name is a valid Pub/Sub topic, subscription or schema name.
func CheckResourceName(name string) error {
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
	regionRE = regexp.MustCompile(`^[a-z]+-[a-z]+[0-9]+$`)
	kmsKeyRE = regexp.MustCompile(`^projects/[^/]+/locations/[^/]+/keyRings/[^/]+/cryptoKeys/[^/]+$`)
)

var (
	projectIDRE = regexp.MustCompile(`^[a-z][a-z0-9-]{4,28}[a-z0-9]$`)
	digitsRE    = regexp.MustCompile(`^[0-9]+$`)
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
