package stacks

import (
	"maps"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/aiprod/aiprod-pubsub/infra"
	"github.com/aiprod/aiprod-pubsub/spec"
)

// FoundationNamespace is the foundation project's config namespace.
const FoundationNamespace = spec.FoundationProject

// FoundationKey is one config key of the foundation's namespace; every one is a string.
type FoundationKey struct {
	// Name is the key without its namespace.
	Name string
	// field is the argument it sets, as the foundation's problems name it.
	field string
	set   func(*infra.FoundationArgs, string)
}

// FoundationKeys lists every key of the foundation's namespace, in the order its Pulumi.yaml
// declares them.
var FoundationKeys = []FoundationKey{
	{"githubRepository", "GitHubRepository", func(a *infra.FoundationArgs, v string) { a.GitHubRepository = v }},
	{"stateLocation", "StateLocation", func(a *infra.FoundationArgs, v string) { a.StateLocation = v }},
	{"stateKmsKeyName", "StateKMSKeyName", func(a *infra.FoundationArgs, v string) { a.StateKMSKeyName = v }},
}

// foundationNamespaces are the namespaces a foundation stack may set.
var foundationNamespaces = []string{FoundationNamespace, "gcp", "pulumi"}

// ParseFoundation reads and validates a foundation stack's config into the foundation's
// arguments. It returns an *Error listing every problem at once, each naming the key, its
// value and what is allowed.
func ParseFoundation(stack string, raw Raw) (*infra.FoundationArgs, error) {
	args := infra.FoundationArgs{Stack: stack}
	project, problems := readProject(raw)
	args.Project = project
	names := make([]string, len(FoundationKeys))
	for i, k := range FoundationKeys {
		names[i] = k.Name
	}
	for _, full := range slices.Sorted(maps.Keys(raw.Values)) {
		ns, name, _ := strings.Cut(full, ":")
		i := slices.Index(names, name)
		switch {
		case ns != FoundationNamespace:
			if p, ok := unknownNamespace(full, raw.Values[full], foundationNamespaces); ok {
				problems = append(problems, p)
			}
		case i < 0:
			problems = append(problems, spec.Problem{Field: full, Value: raw.Values[full], Allowed: unknownKeyOf(FoundationNamespace, name, names)})
		case slices.Contains(raw.Secret, full):
			problems = append(problems, spec.Problem{Field: full, Value: spec.Secret, Allowed: "must not be a secret; the foundation's config holds names only"})
		default:
			FoundationKeys[i].set(&args, raw.Values[full])
		}
	}
	seen := map[string]bool{}
	var out []string
	for _, p := range append(problems, args.Problems()...) {
		p = p.Rename(foundationKey)
		if !seen[p.Field] { // gcp:project's problem is read once, not again from the arguments
			out = append(out, p.String())
		}
		seen[p.Field] = true
	}
	if len(out) > 0 {
		return nil, &Error{Problems: out}
	}
	return &args, nil
}

// foundationKey names a field of the foundation's arguments by the config key that sets it.
func foundationKey(field string) string {
	switch field {
	case "Project":
		return ProjectKey
	case "Stack":
		return "stack"
	}
	for _, k := range FoundationKeys {
		if k.field == field {
			return FoundationNamespace + ":" + k.Name
		}
	}
	return field
}

// FoundationProgram is the foundation's Pulumi program, as foundation/main.go runs it: the
// config from the context, checked whole when pulumi-language-go also hands it in the
// environment.
func FoundationProgram(ctx *pulumi.Context) error {
	keys := []string{}
	for _, k := range FoundationKeys {
		keys = append(keys, FoundationNamespace+":"+k.Name)
	}
	raw, err := runnerConfig(ctx, keys)
	if err != nil {
		return err
	}
	_, err = DeployFoundation(ctx, raw)
	return err
}

// DeployFoundation validates the foundation's config, then declares the foundation and
// exports its outputs. Nothing is registered when the config has a problem. It returns the
// outputs, as exported.
func DeployFoundation(ctx *pulumi.Context, raw Raw) (pulumi.Map, error) {
	args, err := ParseFoundation(ctx.Stack(), raw)
	if err != nil {
		return nil, err
	}
	f, err := infra.NewFoundation(ctx, *args)
	if err != nil {
		return nil, err
	}
	for k, v := range f.Outputs {
		ctx.Export(k, v)
	}
	return f.Outputs, nil
}
