package stacks

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// Key is one config key of the namespace.
type Key struct {
	// Name is the key without its namespace.
	Name string
	// Type is the key's type as Pulumi.yaml declares it: string, integer, boolean, array or object.
	Type string
	// fields are the fields of the program's arguments that the key sets, as their problems
	// name them (spec.Problem.Field).
	fields []string
	get    func(Config) any
	set    func(*Config, any)
}

// Value returns the key's value in c: int, string, bool, []string or map[string]string.
func (k Key) Value(c Config) any { return k.get(c) }

// Keys lists every key of the namespace, in the order Pulumi.yaml declares them.
var Keys = []Key{
	field("pipelines", "array", "Pipeline", func(c *Config) *[]string { return &c.Pipelines }),
	field("namePrefix", "string", "NamePrefix", func(c *Config) *string { return &c.Settings.NamePrefix }),
	subscriptionKey("jobsAckDeadlineSeconds", "integer", "AckDeadlineSeconds", ackDeadline, spec.Jobs),
	subscriptionKey("resultsAckDeadlineSeconds", "integer", "AckDeadlineSeconds", ackDeadline, spec.Results),
	subscriptionKey("dlqAckDeadlineSeconds", "integer", "AckDeadlineSeconds", ackDeadline, spec.DLQ),
	field("maxDeliveryAttempts", "integer", "MaxDeliveryAttempts", func(c *Config) *int { return &c.Settings.MaxDeliveryAttempts }),
	subscriptionKey("deadLetterResults", "boolean", "DeadLetter", deadLetter, spec.Results),
	field("retryMinimumBackoffSeconds", "integer", "RetryMinimumBackoffSeconds", func(c *Config) *int { return &c.Settings.RetryMinimumBackoffSeconds }),
	field("retryMaximumBackoffSeconds", "integer", "RetryMaximumBackoffSeconds", func(c *Config) *int { return &c.Settings.RetryMaximumBackoffSeconds }),
	subscriptionKey("messageRetentionSeconds", "integer", "MessageRetentionSeconds", retention, spec.Jobs, spec.Results),
	subscriptionKey("dlqMessageRetentionSeconds", "integer", "MessageRetentionSeconds", retention, spec.DLQ),
	field("serviceAccountId", "string", "ServiceAccountID", func(c *Config) *string { return &c.ServiceAccountID }),
	field("createServiceAccount", "boolean", "CreateServiceAccount", func(c *Config) *bool { return &c.CreateServiceAccount }),
	{Name: "appSubscriptions", Type: "array", fields: []string{"AppSubscriptions"},
		get: func(c Config) any { return queueNames(c.Settings.AppSubscriptions) },
		set: func(c *Config, v any) { c.Settings.AppSubscriptions = queues(v.([]string)) }},
	field("projectNumber", "string", "ProjectNumber", func(c *Config) *string { return &c.ProjectNumber }),
	field("foundationStack", "string", "FoundationStack", func(c *Config) *string { return &c.FoundationStack }),
	field("protect", "boolean", "Protect", func(c *Config) *bool { return &c.Settings.Protect }),
	field("labels", "object", "Labels", func(c *Config) *map[string]string { return &c.Labels }),
	field("kmsKeyName", "string", "KMSKeyName", func(c *Config) *string { return &c.KMSKeyName }),
	field("allowedPersistenceRegions", "array", "AllowedPersistenceRegions", func(c *Config) *[]string { return &c.Settings.AllowedPersistenceRegions }),
	field("enforceSchemas", "boolean", "EnforceSchemas", func(c *Config) *bool { return &c.Settings.EnforceSchemas }),
	stalledKey("alertStalledJobsSeconds", spec.Jobs),
	stalledKey("alertStalledResultsSeconds", spec.Results),
	field("alertRetentionPercent", "integer", "Alerts.RetentionPercent", func(c *Config) *int { return &c.Settings.Alerts.RetentionPercent }),
	field("alertDeadLetterBacklogMinutes", "integer", "Alerts.DeadLetterBacklogMinutes", func(c *Config) *int { return &c.Settings.Alerts.DeadLetterBacklogMinutes }),
	field("alertPublishErrorPercent", "integer", "Alerts.PublishErrorPercent", func(c *Config) *int { return &c.Settings.Alerts.PublishErrorPercent }),
	field("alertNotificationChannels", "array", "Alerts.NotificationChannels", func(c *Config) *[]string { return &c.Settings.Alerts.NotificationChannels }),
	field("alertEmails", "array", "Alerts.Emails", func(c *Config) *[]string { return &c.Settings.Alerts.Emails }),
	field(DeployableKey, "boolean", "Deployable", func(c *Config) *bool { return &c.Deployable }),
}

// stalledKey is the key that overrides a queue's stalled-consumer threshold; 0 derives it.
func stalledKey(name string, q spec.Queue) Key {
	return Key{Name: name, Type: "integer", fields: []string{"Alerts.StalledSeconds[" + string(q) + "]"},
		get: func(c Config) any { return c.Settings.Alerts.StalledSeconds[q] },
		set: func(c *Config, v any) {
			if c.Settings.Alerts.StalledSeconds == nil {
				c.Settings.Alerts.StalledSeconds = map[spec.Queue]int{}
			}
			c.Settings.Alerts.StalledSeconds[q] = v.(int)
		}}
}

// field is a key that sets one field of Config.
func field[T any](name, typ, fieldName string, p func(*Config) *T) Key {
	return Key{Name: name, Type: typ, fields: []string{fieldName},
		get: func(c Config) any { return *p(&c) },
		set: func(c *Config, v any) { *p(c) = v.(T) }}
}

// subscriptionKey is a key that sets one field of some queues' subscription settings.
func subscriptionKey[T any](name, typ, fieldName string, p func(*spec.Subscription) *T, qs ...spec.Queue) Key {
	k := Key{Name: name, Type: typ}
	for _, q := range qs {
		k.fields = append(k.fields, spec.SubscriptionField(q, fieldName))
	}
	k.get = func(c Config) any {
		s := c.Settings.Subscriptions[qs[0]]
		return *p(&s)
	}
	k.set = func(c *Config, v any) {
		for _, q := range qs {
			s := c.Settings.Subscriptions[q]
			*p(&s) = v.(T)
			c.Settings.Subscriptions[q] = s
		}
	}
	return k
}

func ackDeadline(s *spec.Subscription) *int { return &s.AckDeadlineSeconds }
func retention(s *spec.Subscription) *int   { return &s.MessageRetentionSeconds }
func deadLetter(s *spec.Subscription) *bool { return &s.DeadLetter }

// parse reads a raw config value of the key's type.
func (k Key) parse(value string) (any, error) {
	switch k.Type {
	case "integer":
		n, err := strconv.Atoi(value)
		if err != nil {
			return nil, errors.New("must be an integer")
		}
		return n, nil
	case "boolean":
		b, err := strconv.ParseBool(value)
		if err != nil {
			return nil, errors.New("must be true or false")
		}
		return b, nil
	case "array":
		var xs []string
		if err := json.Unmarshal([]byte(value), &xs); err != nil {
			return nil, errors.New("must be a list of strings")
		}
		return xs, nil
	case "object":
		m := map[string]string{}
		if err := json.Unmarshal([]byte(value), &m); err != nil {
			return nil, errors.New("must be a map of strings to strings")
		}
		return m, nil
	}
	return value, nil
}

func queueNames(qs []spec.Queue) []string {
	out := make([]string, len(qs))
	for i, q := range qs {
		out[i] = string(q)
	}
	return out
}

func queues(names []string) []spec.Queue {
	out := make([]spec.Queue, len(names))
	for i, n := range names {
		out[i] = spec.Queue(n)
	}
	return out
}

// DeployableKey is the key (in Namespace) that marks a stack file that may be planned but not
// deployed; the deploy workflow reads it through the plan binary's --check-deployable.
const DeployableKey = "deployable"
