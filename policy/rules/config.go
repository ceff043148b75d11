package rules

import (
	"fmt"
	"slices"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// Policy config arrives JSON-decoded: numbers are float64, lists are []any. Go callers of
// Evaluate may also pass ints and []string.

// configNumber reads a number, or def when the key is absent.
func configNumber(policy string, cfg map[string]any, key string, def float64) (float64, error) {
	v, ok := cfg[key]
	if !ok || v == nil {
		return def, nil
	}
	switch n := v.(type) {
	case float64:
		return n, nil
	case float32:
		return float64(n), nil
	case int:
		return float64(n), nil
	case int64:
		return float64(n), nil
	}
	return 0, fmt.Errorf("policy %s: config %s is %v (%T); must be a number", policy, key, v, v)
}

// configBool reads a boolean; set is false when the key is absent.
func configBool(policy string, cfg map[string]any, key string) (b, set bool, err error) {
	v, ok := cfg[key]
	if !ok || v == nil {
		return false, false, nil
	}
	b, ok = v.(bool)
	if !ok {
		return false, false, fmt.Errorf("policy %s: config %s is %v (%T); must be true or false", policy, key, v, v)
	}
	return b, true, nil
}

// configStrings reads a list of strings, or def when the key is absent.
func configStrings(policy string, cfg map[string]any, key string, def []string) ([]string, error) {
	v, ok := cfg[key]
	if !ok || v == nil {
		return slices.Clone(def), nil
	}
	switch l := v.(type) {
	case []string:
		return slices.Clone(l), nil
	case []any:
		out := make([]string, 0, len(l))
		for _, x := range l {
			s, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("policy %s: config %s has %v (%T); must be a list of strings", policy, key, x, x)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("policy %s: config %s is %v (%T); must be a list of strings", policy, key, v, v)
}

// numberSchema is the JSON schema of a number property with a default and bounds.
func numberSchema(description string, def float64, r spec.Range) map[string]any {
	return map[string]any{
		"type":        "number",
		"description": description,
		"default":     def,
		"minimum":     float64(r.Min),
		"maximum":     float64(r.Max),
	}
}

// anyList is a list of strings as policy config arrives, JSON-decoded: a schema's default.
func anyList(l []string) []any {
	out := make([]any, len(l))
	for i, s := range l {
		out[i] = s
	}
	return out
}
