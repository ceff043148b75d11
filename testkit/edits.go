// Package testkit is what the tests of the pack and the program share: edits of the resources
// a policy pack sees. Golden files and generated README blocks are testkit/golden's, and the
// tests against an in-memory Pub/Sub server share testkit/pubsubtest. Only tests import it.
package testkit

import (
	"fmt"
	"slices"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// Change is one edit of the resources a policy pack sees.
type Change func(t testing.TB, rs []policyx.AnalyzerResource) []policyx.AnalyzerResource

// Apply applies changes in order to a copy of rs.
func Apply(t testing.TB, rs []policyx.AnalyzerResource, changes ...Change) []policyx.AnalyzerResource {
	t.Helper()
	rs = slices.Clone(rs)
	for _, c := range changes {
		rs = c(t, rs)
	}
	return rs
}

// find returns the index of the resource of type typ named name.
func find(t testing.TB, rs []policyx.AnalyzerResource, typ, name string) int {
	t.Helper()
	i := slices.IndexFunc(rs, func(r policyx.AnalyzerResource) bool { return r.Type == typ && r.Name == name })
	if i < 0 {
		t.Fatalf("no %s named %q", typ, name)
	}
	return i
}

// Set sets the property at path of one resource, creating the maps on the way; a nil v
// deletes it. v is a property.Value or a Go value (string, bool, int, float64, []string,
// []any, map[string]any).
func Set(typ, name string, v any, path ...string) Change {
	return func(t testing.TB, rs []policyx.AnalyzerResource) []policyx.AnalyzerResource {
		t.Helper()
		rs = slices.Clone(rs)
		i := find(t, rs, typ, name)
		rs[i].Properties = setIn(rs[i].Properties, Value(v), v == nil, path...)
		return rs
	}
}

func setIn(m property.Map, v property.Value, del bool, path ...string) property.Map {
	if len(path) == 1 {
		if del {
			return m.Delete(path[0])
		}
		return m.Set(path[0], v)
	}
	var inner property.Map
	if x := m.Get(path[0]); x.IsMap() {
		inner = x.AsMap()
	}
	return m.Set(path[0], property.New(setIn(inner, v, del, path[1:]...)))
}

// Drop removes one resource.
func Drop(typ, name string) Change {
	return func(t testing.TB, rs []policyx.AnalyzerResource) []policyx.AnalyzerResource {
		t.Helper()
		i := find(t, rs, typ, name)
		return slices.Delete(slices.Clone(rs), i, i+1)
	}
}

// Add appends a resource.
func Add(r policyx.AnalyzerResource) Change {
	return func(_ testing.TB, rs []policyx.AnalyzerResource) []policyx.AnalyzerResource {
		return append(slices.Clone(rs), r)
	}
}

// Protect sets one resource's protect option.
func Protect(typ, name string, on bool) Change {
	return Edit(typ, name, func(r *policyx.AnalyzerResource) { r.Options.Protect = on })
}

// Value converts a Go value to a property value; property.Values pass through.
func Value(v any) property.Value {
	switch v := v.(type) {
	case property.Value:
		return v
	case nil:
		return property.Value{}
	case string:
		return property.New(v)
	case bool:
		return property.New(v)
	case int:
		return property.New(float64(v))
	case float64:
		return property.New(v)
	case []string:
		out := make([]property.Value, len(v))
		for i, s := range v {
			out[i] = property.New(s)
		}
		return property.New(out)
	case []any:
		out := make([]property.Value, len(v))
		for i, s := range v {
			out[i] = Value(s)
		}
		return property.New(out)
	case map[string]any:
		out := make(map[string]property.Value, len(v))
		for k, x := range v {
			out[k] = Value(x)
		}
		return property.New(out)
	}
	panic(fmt.Sprintf("testkit.Value: unsupported %T", v))
}

// Edit changes one resource with edit.
func Edit(typ, name string, edit func(r *policyx.AnalyzerResource)) Change {
	return func(t testing.TB, rs []policyx.AnalyzerResource) []policyx.AnalyzerResource {
		t.Helper()
		rs = slices.Clone(rs)
		edit(&rs[find(t, rs, typ, name)])
		return rs
	}
}
