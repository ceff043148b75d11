// Package stacks turns a stack's config into the arguments of the pipeline components: typed,
// defaulted and validated before any resource is registered.
package stacks

import (
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"

	"github.com/agext/levenshtein"

	"github.com/aiprod/aiprod-pubsub/schemas"
	"github.com/aiprod/aiprod-pubsub/spec"
)

// Namespace is the project's config namespace.
const Namespace = "aiprod-pubsub"

// ProjectKey is the GCP provider's project key, the one required key outside the namespace.
const ProjectKey = "gcp:project"

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
	// FoundationStack is the foundation stack (<org>/aiprod-foundation/<stack>) whose outputs
	// name the Pub/Sub service agent; empty means the project has no foundation and the number
	// names it.
	FoundationStack string
	// Labels are added to the standard labels.
	Labels map[string]string
	// KMSKeyName, when set, encrypts the topics with this Cloud KMS key.
	KMSKeyName string
	// SecretKMSKeyName marks KMSKeyName as a secret: it stays encrypted in the state, and when
	// it cannot be decrypted (it reads as spec.Secret, in an offline plan) it is not checked.
	SecretKMSKeyName bool
	// Settings are the pipelines' tunables.
	Settings spec.Settings
	// Schemas are the contracts' Avro definitions, loaded and parsed when Settings.EnforceSchemas.
	Schemas map[spec.Contract]string
	// Deployable is false for a stack file that may be planned but not deployed: it may hold
	// placeholders (a reserved notification address), and the program refuses a real update.
	Deployable bool
}

// Defaults returns the config of a stack that sets nothing but gcp:project: the spec's
// settings. Pulumi.yaml declares the same values, and a test keeps the two equal.
func Defaults() Config {
	return Config{
		Pipelines:        []string{spec.DefaultPipeline},
		ServiceAccountID: spec.DefaultServiceAccountID,
		Labels:           map[string]string{},
		Settings:         spec.Defaults(),
		Deployable:       true,
	}
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
	problems := cfg.read(raw)
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
		if s := p.Rename(configKey).String(); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) > 0 {
		return nil, &Error{Problems: out}
	}
	return &cfg, nil
}

// read sets the config from the raw values, key by key.
func (c *Config) read(raw Raw) spec.Problems {
	var problems spec.Problems
	c.Project, problems = readProject(raw)
	known := map[string]Key{}
	for _, k := range Keys {
		known[k.Name] = k
	}
	for _, full := range slices.Sorted(maps.Keys(raw.Values)) {
		ns, name, found := strings.Cut(full, ":")
		if !found || ns != Namespace {
			if p, ok := unknownNamespace(full, raw.Values[full], namespaces); ok {
				problems = append(problems, p)
			}
			continue
		}
		value := raw.Values[full]
		k, ok := known[name]
		switch {
		case !ok:
			problems = append(problems, spec.Problem{Field: full, Value: value, Allowed: unknownKey(name)})
			continue
		case slices.Contains(raw.Secret, full) && name != secretKey:
			problems = append(problems, spec.Problem{Field: full, Value: spec.Secret,
				Allowed: "must not be a secret; only " + Namespace + ":" + secretKey + " may be"})
			continue
		case slices.Contains(raw.Secret, full):
			c.SecretKMSKeyName = true
		}
		v, err := k.parse(value)
		if err != nil {
			problems = append(problems, spec.Problem{Field: full, Value: value, Allowed: err.Error()})
			continue
		}
		k.set(c, v)
	}
	return problems
}

// readProject reads gcp:project, which must be set to a project id.
func readProject(raw Raw) (string, spec.Problems) {
	project, ok := raw.Values[ProjectKey]
	switch {
	case !ok || project == "":
		return project, spec.Problems{{Field: ProjectKey, Value: project,
			Allowed: "must be set to the GCP project id (pulumi config set gcp:project <id>)"}}
	case spec.CheckProjectID(project) != nil:
		return project, spec.Problems{{Field: ProjectKey, Value: project, Allowed: spec.CheckProjectID(project).Error()}}
	}
	return project, nil
}

// configKey names a field of the program's arguments by the config key that sets it.
func configKey(field string) string {
	for _, k := range Keys {
		if slices.Contains(k.fields, field) {
			return Namespace + ":" + k.Name
		}
	}
	return field
}

// validate checks the parsed config as a whole.
func (c Config) validate() spec.Problems {
	var ps spec.Problems
	if err := spec.CheckLabel(spec.LabelEnv, c.Stack); c.Stack == "" || err != nil {
		ps = append(ps, spec.Problem{Field: "stack", Value: c.Stack,
			Allowed: "the stack name is the env label's value: it must use only [a-z0-9_-], at most 63 characters"})
	}
	if len(c.Pipelines) == 0 {
		ps = append(ps, spec.Problem{Field: "Pipeline", Value: "[]", Allowed: "must name at least one pipeline"})
	}
	seen := map[string]bool{}
	for _, p := range c.Pipelines {
		if seen[p] {
			ps = append(ps, spec.Problem{Field: "Pipeline", Value: p, Allowed: "pipeline names must be unique"})
		}
		seen[p] = true
		ps = append(ps, spec.ValidateNames(c.Settings.NamePrefix, p)...)
	}
	if err := spec.CheckServiceAccountID(c.ServiceAccountID); err != nil {
		ps = append(ps, spec.Problem{Field: "ServiceAccountID", Value: c.ServiceAccountID, Allowed: err.Error()})
	}
	if c.ProjectNumber != "" {
		if err := spec.CheckProjectNumber(c.ProjectNumber); err != nil {
			ps = append(ps, spec.Problem{Field: "ProjectNumber", Value: c.ProjectNumber, Allowed: err.Error() + ", or empty to look it up"})
		}
	}
	ps = append(ps, c.validateFoundation()...)
	ps = append(ps, spec.ValidateLabels(c.Labels)...)
	ps = append(ps, c.Settings.Validate()...)
	if c.Settings.Protect && len(c.Settings.Alerts.NotificationChannels)+len(c.Settings.Alerts.Emails) == 0 {
		// A protected stack is a production stack: its alerts must reach someone.
		ps = append(ps, spec.Problem{Field: "Alerts.Emails", Value: "[]",
			Allowed: "a protected (production) stack needs a notification channel: set Alerts.Emails or Alerts.NotificationChannels",
			Refs:    []string{"Alerts.Emails", "Alerts.NotificationChannels"}})
	}
	ps = append(ps, c.placeholders()...)
	blind := c.SecretKMSKeyName && c.KMSKeyName == spec.Secret
	if c.KMSKeyName != "" && !blind {
		if err := spec.CheckKMSKeyName(c.KMSKeyName); err != nil {
			ps = append(ps, spec.Problem{Field: "KMSKeyName", Value: c.KMSKeyName, Allowed: err.Error()})
		}
	}
	return ps
}

// placeholders refuses, in a protected stack that may be deployed, notification addresses in
// reserved domains: the production alerts would reach nobody.
func (c Config) placeholders() spec.Problems {
	if !c.Settings.Protect || !c.Deployable {
		return nil
	}
	var ps spec.Problems
	for i, e := range c.Settings.Alerts.Emails {
		if spec.IsPlaceholderEmail(e) {
			ps = append(ps, spec.Problem{Field: "Alerts.Emails", Value: e, Refs: []string{"Deployable"},
				Allowed: fmt.Sprintf("a protected stack's alerts must reach someone, and this domain is reserved (RFC 2606, RFC 6761): "+
					"set a real address with `pulumi config set --stack %s --path '%s:alertEmails[%d]' <on-call address>`, "+
					"or set Deployable to false to plan the stack without deploying it", c.Stack, Namespace, i)})
		}
	}
	return ps
}

// NotDeployable says why the stack must not be deployed, naming the key and the value; "" when
// it may be.
func (c Config) NotDeployable() string {
	if c.Deployable {
		return ""
	}
	why := Namespace + ":deployable is false"
	var placeholders []string
	for _, e := range c.Settings.Alerts.Emails {
		if spec.IsPlaceholderEmail(e) {
			placeholders = append(placeholders, fmt.Sprintf("%q", e))
		}
	}
	if len(placeholders) > 0 {
		why += fmt.Sprintf("; %s:alertEmails holds the placeholder %s, which reaches nobody", Namespace, strings.Join(placeholders, ", "))
	}
	return why
}

// checkDeployable refuses a real update (not a preview) of a stack that is not deployable.
func (c Config) checkDeployable(dryRun bool) error {
	if why := c.NotDeployable(); why != "" && !dryRun {
		return fmt.Errorf("stack %q is not deployable (%s): set real values and `pulumi config set --stack %s %s:deployable true` before `pulumi up`",
			c.Stack, why, c.Stack, Namespace)
	}
	return nil
}

// validateFoundation checks the foundation stack, the one source of the service agent when set.
func (c Config) validateFoundation() spec.Problems {
	switch {
	case c.FoundationStack == "":
		return nil
	case spec.CheckStackReference(c.FoundationStack) != nil:
		return spec.Problems{{Field: "FoundationStack", Value: c.FoundationStack,
			Allowed: spec.CheckStackReference(c.FoundationStack).Error() + ", or empty for a project without the foundation"}}
	case c.ProjectNumber != "":
		return spec.Problems{{Field: "ProjectNumber", Value: c.ProjectNumber,
			Allowed: "must be empty when FoundationStack is set, whose outputs name the service agent; set one of them",
			Refs:    []string{"FoundationStack"}}}
	}
	return nil
}

// loadSchemas reads and parses the contracts' schema files; an error names the file.
func loadSchemas(fsys fs.FS) (map[spec.Contract]string, error) {
	if fsys == nil {
		fsys = schemas.FS
	}
	all, err := schemas.Load(fsys)
	if err != nil {
		return nil, err
	}
	defs := map[spec.Contract]string{}
	for k, s := range all {
		defs[k] = s.Definition
	}
	return defs, nil
}

// namespaces are the config namespaces a stack of this program may set: its own, the GCP
// provider's and Pulumi's.
var namespaces = []string{Namespace, "gcp", "pulumi"}

// unknownNamespace reports a key outside the namespaces a program knows, suggesting the
// namespace it is closest to: aiprod-pubsb:maxDeliveryAttempts would otherwise leave
// maxDeliveryAttempts at its default without a word.
func unknownNamespace(full, value string, namespaces []string) (spec.Problem, bool) {
	ns, name, _ := strings.Cut(full, ":")
	if slices.Contains(namespaces, ns) {
		return spec.Problem{}, false
	}
	msg := "not a key of a known namespace (" + strings.Join(namespaces, ", ") + ")"
	if best := closest(ns, namespaces); best != "" {
		msg += fmt.Sprintf(" (did you mean %s:%s?)", best, name)
	}
	return spec.Problem{Field: full, Value: value, Allowed: msg}, true
}

// closest is the candidate nearest to s, at most 3 edits away, or "".
func closest(s string, candidates []string) string {
	best, bestDist := "", 4
	for _, c := range candidates {
		if d := levenshtein.Distance(strings.ToLower(s), strings.ToLower(c), nil); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// unknownKey explains an unknown key, suggesting the closest known one: a typo must not fall
// back to a default silently.
func unknownKey(name string) string {
	names := make([]string, len(Keys))
	for i, k := range Keys {
		names[i] = k.Name
	}
	return unknownKeyOf(Namespace, name, names)
}

// unknownKeyOf explains an unknown key of namespace ns, suggesting the closest of names.
func unknownKeyOf(ns, name string, names []string) string {
	msg := "not a known key of " + ns
	if best := closest(name, names); best != "" {
		msg += fmt.Sprintf(" (did you mean %s:%s?)", ns, best)
	}
	return msg
}
