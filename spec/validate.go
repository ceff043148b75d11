package spec

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Problem is one invalid argument: the field it is in, its value and what is allowed. Field
// names a field of the caller's arguments (MaxDeliveryAttempts,
// Subscriptions[jobs].AckDeadlineSeconds); a layer that knows other names for them (config
// keys) translates Field and the fields Refs names inside Allowed.
type Problem struct {
	Field   string
	Value   any
	Allowed string
	// Refs are the other fields that Allowed names.
	Refs []string
}

func (p Problem) String() string {
	v := fmt.Sprint(p.Value)
	if s, ok := p.Value.(string); ok {
		v = fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%s is %s; %s", p.Field, v, p.Allowed)
}

// Rename returns p with its field, and the fields Allowed refers to, renamed by name.
func (p Problem) Rename(name func(field string) string) Problem {
	for _, ref := range p.Refs {
		p.Allowed = strings.ReplaceAll(p.Allowed, ref, name(ref))
	}
	p.Field = name(p.Field)
	p.Refs = nil
	return p
}

// Problems is a list of invalid arguments, reported together.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// SubscriptionField names a field of a queue's subscription settings, as Problems name it.
func SubscriptionField(q Queue, field string) string {
	return "Subscriptions[" + string(q) + "]." + field
}

// Validate checks every setting against GCP's limits and returns all problems found.
func (s Settings) Validate() Problems {
	var ps Problems
	inRange := func(field string, v int, r Range) {
		if !r.Contains(v) {
			ps = append(ps, Problem{Field: field, Value: v, Allowed: "must be " + r.String()})
		}
	}
	for _, q := range Queues {
		sub, ok := s.Subscriptions[q]
		if !ok {
			ps = append(ps, Problem{Field: "Subscriptions", Value: string(q), Allowed: "every queue needs its subscription settings"})
			continue
		}
		inRange(SubscriptionField(q, "AckDeadlineSeconds"), sub.AckDeadlineSeconds, AckDeadlineRange)
	}
	inRange("MaxDeliveryAttempts", s.MaxDeliveryAttempts, AttemptsRange)
	inRange("RetryMinimumBackoffSeconds", s.RetryMinimumBackoffSeconds, backoffRange)
	inRange("RetryMaximumBackoffSeconds", s.RetryMaximumBackoffSeconds, backoffRange)
	if s.RetryMinimumBackoffSeconds > s.RetryMaximumBackoffSeconds {
		ps = append(ps, Problem{Field: "RetryMinimumBackoffSeconds", Value: s.RetryMinimumBackoffSeconds,
			Allowed: fmt.Sprintf("must not exceed RetryMaximumBackoffSeconds (%d)", s.RetryMaximumBackoffSeconds),
			Refs:    []string{"RetryMaximumBackoffSeconds"}})
	}
	for _, q := range Queues {
		if sub, ok := s.Subscriptions[q]; ok {
			inRange(SubscriptionField(q, "MessageRetentionSeconds"), sub.MessageRetentionSeconds, RetentionRange)
		}
	}
	for _, q := range s.AppSubscriptions {
		if !slices.Contains(Queues, q) {
			ps = append(ps, Problem{Field: "AppSubscriptions", Value: string(q), Allowed: "each entry must be one of jobs, results, dlq"})
		}
	}
	if !slices.Contains(s.AppSubscriptions, Jobs) {
		// The application pulls the jobs; the policy pack's pipeline-topology requires the
		// grant, and a stack policy takes no config that could lift it.
		ps = append(ps, Problem{Field: "AppSubscriptions", Value: fmt.Sprint(s.AppSubscriptions),
			Allowed: "must include jobs: the application pulls the jobs subscription"})
	}
	if len(s.AppSubscriptions) != len(slices.Compact(slices.Sorted(slices.Values(s.AppSubscriptions)))) {
		ps = append(ps, Problem{Field: "AppSubscriptions", Value: fmt.Sprint(s.AppSubscriptions), Allowed: "entries must be unique"})
	}
	ps = append(ps, s.Alerts.validate()...)
	for _, r := range s.AllowedPersistenceRegions {
		if !regionRE.MatchString(r) {
			ps = append(ps, Problem{Field: "AllowedPersistenceRegions", Value: r, Allowed: "each entry must be a GCP region such as europe-west1"})
		}
	}
	return ps
}

// ValidateNames checks the names derived from the prefix and a pipeline name.
func ValidateNames(prefix, pipeline string) Problems {
	if pipeline == "" {
		return Problems{{Field: "Pipeline", Value: pipeline, Allowed: "pipeline names must not be empty"}}
	}
	if err := checkResourceName(prefix + "-x-jobs"); err != nil || prefix == "" {
		return Problems{{Field: "NamePrefix", Value: prefix, Allowed: fmt.Sprintf("the derived name %q is invalid: names %s",
			TopicName(prefix, pipeline, Jobs), nameRule)}}
	}
	if err := CheckLabel(labelComponent, pipeline); err != nil {
		return Problems{{Field: "Pipeline", Value: pipeline, Allowed: "pipeline names are the component label's value: " + err.Error()}}
	}
	for _, q := range Queues {
		// The schema's name is the longest a queue derives.
		name := SchemaName(prefix, pipeline, q)
		if err := checkResourceName(name); err != nil {
			return Problems{{Field: "Pipeline", Value: pipeline, Allowed: fmt.Sprintf("the derived name %q is invalid: names %s", name, nameRule)}}
		}
	}
	return nil
}

// ValidateLabels checks extra labels: each in GCP's label format, none of the standard ones.
func ValidateLabels(labels map[string]string) Problems {
	var ps Problems
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		v := labels[k]
		if err := CheckLabel(k, v); err != nil {
			ps = append(ps, Problem{Field: "Labels", Value: k + "=" + v, Allowed: err.Error()})
		}
		if slices.Contains(standardLabelKeys(), k) {
			ps = append(ps, Problem{Field: "Labels", Value: k + "=" + v, Allowed: fmt.Sprintf("must not set %q, a label the program sets itself", k)})
		}
	}
	return ps
}
