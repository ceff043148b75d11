package offline

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/aiprod/aiprod-pubsub/stacks"
)

// Files is a stack's config as the engine would hand it to the program: the stack file's
// values over Pulumi.yaml's defaults.
type Files struct {
	// Project is the Pulumi project's name.
	Project string
	// Config is the merged config. Secret values cannot be decrypted offline and read as
	// spec.Secret.
	Config stacks.Raw
	// Declared is Pulumi.yaml's config section.
	Declared map[string]workspace.ProjectConfigType
	// StackKeys are the keys the stack file sets, sorted; Config's other keys are
	// Pulumi.yaml's.
	StackKeys []string
}

// Load reads Pulumi.yaml from projectDir and the stack's file (stackFile, or
// Pulumi.<stack>.yaml beside Pulumi.yaml) with the SDK's loaders, and merges Pulumi.yaml's
// defaults into the stack's config the way the engine does.
func Load(projectDir, stack, stackFile string) (*Files, error) {
	proj, err := workspace.LoadProject(filepath.Join(projectDir, "Pulumi.yaml"))
	if err != nil {
		return nil, fmt.Errorf("loading the project: %w", err)
	}
	if stackFile == "" {
		stackFile = filepath.Join(projectDir, "Pulumi."+stack+".yaml")
	}
	if _, err := os.Stat(stackFile); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("stack %q has no config file %s", stack, stackFile)
		}
		return nil, err
	}
	ps, err := workspace.LoadProjectStack(nil, proj, stackFile)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", stackFile, err)
	}
	values, err := ps.Config.Decrypt(config.NewBlindingDecrypter())
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", stackFile, err)
	}
	raw := stacks.Raw{Values: map[string]string{}}
	set := []string{}
	for k, v := range values {
		raw.Values[k.String()] = v
		set = append(set, k.String())
	}
	slices.Sort(set)
	for _, k := range ps.Config.SecureKeys() {
		raw.Secret = append(raw.Secret, k.String())
	}
	slices.Sort(raw.Secret)
	for name, decl := range proj.Config {
		key := name
		if !strings.Contains(key, ":") {
			key = proj.Name.String() + ":" + key
		}
		if _, set := raw.Values[key]; set {
			continue
		}
		v := decl.Default
		if v == nil {
			v = decl.Value
		}
		if v == nil {
			continue
		}
		s, err := configString(v)
		if err != nil {
			return nil, fmt.Errorf("the default of %s in Pulumi.yaml: %w", key, err)
		}
		raw.Values[key] = s
	}
	return &Files{Project: proj.Name.String(), Config: raw, Declared: proj.Config, StackKeys: set}, nil
}

// configString renders a config value as the engine passes it: strings as they are, anything
// else as JSON.
func configString(v any) (string, error) {
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(b), nil
}
