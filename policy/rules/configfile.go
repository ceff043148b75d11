package rules

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"regexp"
	"slices"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// allPolicies is the key of a policy config file that sets every policy's enforcement level.
const allPolicies = "all"

// levels are the enforcement levels a policy config file may name.
var levels = map[string]policyx.EnforcementLevel{
	"advisory":  policyx.EnforcementLevelAdvisory,
	"mandatory": policyx.EnforcementLevelMandatory,
	"disabled":  policyx.EnforcementLevelDisabled,
}

// LoadConfig reads a policy config file in the format of `pulumi preview --policy-pack-config`:
// policy names to an enforcement level, or to an object of the policy's config properties with
// an optional "enforcementLevel"; "all" sets every policy's level. A policy the file does not
// name keeps its own level and defaults. It refuses what the pack would not take: an unknown
// policy or property, a value of the wrong type or that does not match the property's pattern,
// or properties for a stack policy, which SDK v3.274.1 hands no config.
func LoadConfig(path string) (map[string]policyx.PolicyConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var file map[string]json.RawMessage
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("policy config %s: %w", path, err)
	}
	cfg, err := parseConfig(file)
	if err != nil {
		return nil, fmt.Errorf("policy config %s: %w", path, err)
	}
	return cfg, nil
}

// parseConfig reads a policy config file's entries.
func parseConfig(file map[string]json.RawMessage) (map[string]policyx.PolicyConfig, error) {
	var all *policyx.EnforcementLevel
	if raw, ok := file[allPolicies]; ok {
		l, err := parseLevel(allPolicies, raw)
		if err != nil {
			return nil, err
		}
		all = &l
	}
	out := map[string]policyx.PolicyConfig{}
	var errs []error
	for _, p := range Policies("") {
		raw, named := file[p.Name()]
		if !named && all == nil {
			continue
		}
		c, err := parsePolicyConfig(p, raw, named, all)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out[p.Name()] = c
	}
	for _, name := range slices.Sorted(maps.Keys(file)) {
		if _, ok := out[name]; !ok && name != allPolicies && !slices.ContainsFunc(Policies(""), func(p policyx.Policy) bool { return p.Name() == name }) {
			errs = append(errs, fmt.Errorf("%q is not a policy of pack %s", name, PackName))
		}
	}
	return out, errors.Join(errs...)
}

// parsePolicyConfig reads one policy's entry: a level, or an object of properties with an
// optional level. Without a level it keeps all's, else its own.
func parsePolicyConfig(p policyx.Policy, raw json.RawMessage, named bool, all *policyx.EnforcementLevel) (policyx.PolicyConfig, error) {
	c := policyx.PolicyConfig{EnforcementLevel: p.EnforcementLevel()}
	if all != nil {
		c.EnforcementLevel = *all
	}
	if !named {
		return c, nil
	}
	var props map[string]any
	if json.Unmarshal(raw, &props) != nil {
		l, err := parseLevel(p.Name(), raw)
		c.EnforcementLevel = l
		return c, err
	}
	if l, ok := props["enforcementLevel"]; ok {
		b, _ := json.Marshal(l)
		level, err := parseLevel(p.Name(), b)
		if err != nil {
			return c, err
		}
		c.EnforcementLevel = level
		delete(props, "enforcementLevel")
	}
	if err := checkProperties(p, props); err != nil {
		return c, err
	}
	c.Properties = props
	return c, nil
}

// parseLevel reads an enforcement level.
func parseLevel(name string, raw json.RawMessage) (policyx.EnforcementLevel, error) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		if l, ok := levels[s]; ok {
			return l, nil
		}
	}
	return 0, fmt.Errorf("%s: enforcement level is %s; must be advisory, mandatory or disabled", name, raw)
}

// checkProperties refuses properties the policy does not declare, or of another type.
func checkProperties(p policyx.Policy, props map[string]any) error {
	if len(props) == 0 {
		return nil
	}
	if _, stack := p.(policyx.StackValidationPolicy); stack {
		return fmt.Errorf("%s is a stack policy, which takes no config properties (SDK v3.274.1 hands stack policies none); only its enforcementLevel may be set", p.Name())
	}
	schema := p.ConfigSchema()
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(props)) {
		decl, ok := map[string]any(nil), false
		if schema != nil {
			decl, ok = schema.Properties[k]
		}
		if !ok {
			errs = append(errs, fmt.Errorf("%s has no config property %q", p.Name(), k))
			continue
		}
		if !hasType(props[k], decl["type"]) {
			errs = append(errs, fmt.Errorf("%s.%s is %v; must be of type %v", p.Name(), k, props[k], decl["type"]))
			continue
		}
		if s, pattern := props[k], decl["pattern"]; pattern != nil && !regexp.MustCompile(fmt.Sprint(pattern)).MatchString(fmt.Sprint(s)) {
			errs = append(errs, fmt.Errorf("%s.%s is %q; must match %s", p.Name(), k, props[k], pattern))
		}
	}
	return errors.Join(errs...)
}

// hasType reports whether a JSON-decoded value has a JSON schema type.
func hasType(v any, typ any) bool {
	switch typ {
	case "number":
		_, ok := v.(float64)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	}
	return true
}
