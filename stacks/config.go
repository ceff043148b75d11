// Package stacks turns a stack's config into the arguments of the pipeline components: typed,
// defaulted and validated before any resource is registered.
package stacks

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/aiprod/aiprod-pubsub/infra"
	"github.com/aiprod/aiprod-pubsub/schemas"
)

// Namespace is the project's config namespace.
const Namespace = "aiprod-pubsub"

// ProjectKey is the GCP provider's project key, the one required key outside the namespace.
const ProjectKey = "gcp:project"

// Blinded is what a secret value reads as when it cannot be decrypted, as in an offline plan.
const Blinded = infra.Blinded

// secretKey is the one key whose value may be a secret: names, numbers and switches end up in
// resource names or plain settings, where a secret would leak anyway.
const secretKey = "kmsKeyName"

// Config is a stack's validated config.
type Config struct {
	// Stack is the stack's name; it is the env label.
	Stack string
	// Project is the GCP project id (gcp:project).
	Project string
	// Pipelines are the pipelines to declare, each with its own topics and subscriptions.
	Pipelines []string
	// ServiceAccountID is the application service account's id, the part before the @.
	ServiceAccountID string
	// CreateServiceAccount makes the stack create the account instead of referencing it.
	CreateServiceAccount bool
	// ProjectNumber names the Pub/Sub service agent; empty means look it up.
	ProjectNumber string
	// Labels are added to the standard labels.
	Labels map[string]string
	// Settings are the pipelines' tunables.
	Settings infra.Settings
	// Schemas are the contracts' Avro definitions, loaded and parsed when Settings.EnforceSchemas.
	Schemas map[schemas.Kind]string
}

// Defaults returns the config of a stack that sets nothing but gcp:project. With
// infra.DefaultSettings it is the one place where defaults are defined; Pulumi.yaml declares
// the same values, and a test keeps the two equal.
func Defaults() Config {
	return Config{
		Pipelines:        []string{"pipeline"},
		ServiceAccountID: "aiprod-sa",
		Labels:           map[string]string{},
		Settings:         infra.DefaultSettings(),
	}
}

// Key is one config key of the namespace.
type Key struct {
	// Name is the key without its namespace.
	Name string
	// Type is the key's type as Pulumi.yaml declares it: string, integer, boolean, array or object.
	Type  string
	field func(*Config) any
}

// Keys lists every key of the namespace, in the order Pulumi.yaml declares them.
var Keys = []Key{
	{"pipelines", "array", func(c *Config) any { return &c.Pipelines }},
	{"namePrefix", "string", func(c *Config) any { return &c.Settings.NamePrefix }},
	{"jobsAckDeadlineSeconds", "integer", func(c *Config) any { return &c.Settings.JobsAckDeadlineSeconds }},
	{"resultsAckDeadlineSeconds", "integer", func(c *Config) any { return &c.Settings.ResultsAckDeadlineSeconds }},
	{"dlqAckDeadlineSeconds", "integer", func(c *Config) any { return &c.Settings.DLQAckDeadlineSeconds }},
	{"maxDeliveryAttempts", "integer", func(c *Config) any { return &c.Settings.MaxDeliveryAttempts }},
	{"deadLetterResults", "boolean", func(c *Config) any { return &c.Settings.DeadLetterResults }},
	{"retryMinimumBackoffSeconds", "integer", func(c *Config) any { return &c.Settings.RetryMinimumBackoffSeconds }},
	{"retryMaximumBackoffSeconds", "integer", func(c *Config) any { return &c.Settings.RetryMaximumBackoffSeconds }},
	{"messageRetentionSeconds", "integer", func(c *Config) any { return &c.Settings.MessageRetentionSeconds }},
	{"dlqMessageRetentionSeconds", "integer", func(c *Config) any { return &c.Settings.DLQMessageRetentionSeconds }},
	{"serviceAccountId", "string", func(c *Config) any { return &c.ServiceAccountID }},
	{"createServiceAccount", "boolean", func(c *Config) any { return &c.CreateServiceAccount }},
	{"appSubscriptions", "array", func(c *Config) any { return &c.Settings.AppSubscriptions }},
	{"projectNumber", "string", func(c *Config) any { return &c.ProjectNumber }},
	{"protect", "boolean", func(c *Config) any { return &c.Settings.Protect }},
	{"labels", "object", func(c *Config) any { return &c.Labels }},
	{"kmsKeyName", "string", func(c *Config) any { return &c.Settings.KMSKeyName }},
	{"allowedPersistenceRegions", "array", func(c *Config) any { return &c.Settings.AllowedPersistenceRegions }},
	{"enforceSchemas", "boolean", func(c *Config) any { return &c.Settings.EnforceSchemas }},
}

// Value returns the key's value in c: int, string, bool, []string or map[string]string.
func (k Key) Value(c Config) any {
	switch p := k.field(&c).(type) {
	case *int:
		return *p
	case *string:
		return *p
	case *bool:
		return *p
	case *[]string:
		return *p
	case *[]infra.Queue:
		out := make([]string, len(*p))
		for i, q := range *p {
			out[i] = string(q)
		}
		return out
	case *map[string]string:
		return *p
	}
	panic(fmt.Sprintf("stacks: key %q has a field of an unknown type", k.Name))
}

// Raw is a stack's config as the engine hands it to a program: full keys (namespace:name) to
// strings, arrays and objects as JSON, and the keys whose values are secret.
type Raw struct {
	Values map[string]string
	Secret []string
	// SchemaFiles holds the contracts' schema files. Optional; defaults to schemas.FS, the
	// files built into the program.
	SchemaFiles fs.FS
}

// Error lists every problem of a stack's config.
type Error struct {
	Problems []string
}

func (e *Error) Error() string {
	return "invalid stack config:\n  " + strings.Join(e.Problems, "\n  ")
}

// Parse reads, defaults and validates a stack's config. It returns an *Error listing every
// problem at once, each naming the key, its value and what is allowed.
func Parse(stack string, raw Raw) (*Config, error) {
	cfg := Defaults()
	cfg.Stack = stack
	var problems infra.Problems

	project, ok := raw.Values[ProjectKey]
	cfg.Project = project
	switch {
	case !ok || project == "":
		problems = append(problems, infra.Problem{Setting: ProjectKey, Value: project,
			Allowed: "must be set to the GCP project id (pulumi config set gcp:project <id>)"})
	default:
		if err := infra.CheckProjectID(project); err != nil {
			problems = append(problems, infra.Problem{Setting: ProjectKey, Value: project, Allowed: err.Error()})
		}
	}

	known := map[string]Key{}
	for _, k := range Keys {
		known[k.Name] = k
	}
	for _, full := range slices.Sorted(maps.Keys(raw.Values)) {
		ns, name, found := strings.Cut(full, ":")
		if !found || ns != Namespace {
			continue
		}
		k, ok := known[name]
		if !ok {
			problems = append(problems, infra.Problem{Setting: full, Value: raw.Values[full], Allowed: unknownKey(name)})
			continue
		}
		value := raw.Values[full]
		if slices.Contains(raw.Secret, full) {
			if name != secretKey {
				problems = append(problems, infra.Problem{Setting: name, Value: Blinded,
					Allowed: "must not be a secret; only " + Namespace + ":" + secretKey + " may be"})
				continue
			}
			cfg.Settings.SecretKMSKeyName = true
		}
		if err := set(k.field(&cfg), value); err != nil {
			problems = append(problems, infra.Problem{Setting: name, Value: value, Allowed: err.Error()})
		}
	}

	problems = append(problems, cfg.validate()...)
	var out []string
	if cfg.Settings.EnforceSchemas {
		defs, err := loadSchemas(raw.SchemaFiles)
		if err != nil {
			out = append(out, fmt.Sprintf("%s:enforceSchemas is true, but %v", Namespace, err))
		}
		cfg.Schemas = defs
	}
	for _, p := range problems {
		if _, ok := known[p.Setting]; ok {
			p.Setting = Namespace + ":" + p.Setting
		}
		out = append(out, p.String())
	}
	if len(out) > 0 {
		return nil, &Error{Problems: out}
	}
	return &cfg, nil
}

// validate checks the parsed config as a whole.
func (c Config) validate() infra.Problems {
	var ps infra.Problems
	if err := infra.CheckLabel("env", c.Stack); c.Stack == "" || err != nil {
		ps = append(ps, infra.Problem{Setting: "stack", Value: c.Stack,
			Allowed: "the stack name is the env label's value: it must use only [a-z0-9_-], at most 63 characters"})
	}
	if len(c.Pipelines) == 0 {
		ps = append(ps, infra.Problem{Setting: "pipelines", Value: "[]", Allowed: "must name at least one pipeline"})
	}
	seen := map[string]bool{}
	for _, p := range c.Pipelines {
		if seen[p] {
			ps = append(ps, infra.Problem{Setting: "pipelines", Value: p, Allowed: "pipeline names must be unique"})
		}
		seen[p] = true
		ps = append(ps, infra.ValidateNames(c.Settings.NamePrefix, p)...)
	}
	if err := infra.CheckServiceAccountID(c.ServiceAccountID); err != nil {
		ps = append(ps, infra.Problem{Setting: "serviceAccountId", Value: c.ServiceAccountID, Allowed: err.Error()})
	}
	if c.ProjectNumber != "" {
		if err := infra.CheckProjectNumber(c.ProjectNumber); err != nil {
			ps = append(ps, infra.Problem{Setting: "projectNumber", Value: c.ProjectNumber, Allowed: err.Error() + ", or empty to look it up"})
		}
	}
	ps = append(ps, infra.ValidateLabels(c.Labels)...)
	return append(ps, c.Settings.Validate()...)
}

// loadSchemas reads and parses the contracts' schema files; an error names the file.
func loadSchemas(fsys fs.FS) (map[schemas.Kind]string, error) {
	if fsys == nil {
		fsys = schemas.FS
	}
	all, err := schemas.Load(fsys)
	if err != nil {
		return nil, err
	}
	defs := map[schemas.Kind]string{}
	for k, s := range all {
		defs[k] = s.Definition
	}
	return defs, nil
}

// set parses a raw value into the field p points at.
func set(p any, value string) error {
	switch p := p.(type) {
	case *string:
		*p = value
	case *int:
		n, err := strconv.Atoi(value)
		if err != nil {
			return fmt.Errorf("must be an integer")
		}
		*p = n
	case *bool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return fmt.Errorf("must be true or false")
		}
		*p = b
	case *[]string:
		var xs []string
		if err := json.Unmarshal([]byte(value), &xs); err != nil {
			return fmt.Errorf("must be a list of strings")
		}
		*p = xs
	case *[]infra.Queue:
		var xs []infra.Queue
		if err := json.Unmarshal([]byte(value), &xs); err != nil {
			return fmt.Errorf("must be a list of strings")
		}
		*p = xs
	case *map[string]string:
		m := map[string]string{}
		if err := json.Unmarshal([]byte(value), &m); err != nil {
			return fmt.Errorf("must be a map of strings to strings")
		}
		*p = m
	default:
		return fmt.Errorf("has a type this program cannot read")
	}
	return nil
}

// unknownKey explains an unknown key, suggesting the closest known one: a typo must not fall
// back to a default silently.
func unknownKey(name string) string {
	best, bestDist := "", 4
	for _, k := range Keys {
		if d := distance(strings.ToLower(name), strings.ToLower(k.Name)); d < bestDist {
			best, bestDist = k.Name, d
		}
	}
	msg := "not a known key of " + Namespace
	if best != "" {
		msg += fmt.Sprintf(" (did you mean %s:%s?)", Namespace, best)
	}
	return msg
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
