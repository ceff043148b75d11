package plan

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// plain turns a property map into JSON-ready values the way a preview prints them: secrets as
// spec.Secret, values not known yet as spec.Unknown.
func plain(m resource.PropertyMap) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[string(k)] = plainValue(v)
	}
	return out
}

func plainValue(v resource.PropertyValue) any {
	switch {
	case v.IsNull():
		return nil
	case v.IsSecret():
		return spec.Secret
	case v.IsComputed():
		return spec.Unknown
	case v.IsOutput():
		o := v.OutputValue()
		switch {
		case o.Secret:
			return spec.Secret
		case !o.Known:
			return spec.Unknown
		}
		return plainValue(o.Element)
	case v.IsBool():
		return v.BoolValue()
	case v.IsNumber():
		n := v.NumberValue()
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return int64(n)
		}
		return n
	case v.IsString():
		return v.StringValue()
	case v.IsArray():
		arr := v.ArrayValue()
		out := make([]any, len(arr))
		for i, x := range arr {
			out[i] = plainValue(x)
		}
		return out
	case v.IsObject():
		return plain(v.ObjectValue())
	case v.IsResourceReference():
		return string(v.ResourceReferenceValue().URN)
	}
	return v.TypeString()
}

// fromPlain is the inverse of plain: spec.Unknown becomes a computed value.
func fromPlain(m map[string]any) resource.PropertyMap {
	return resource.NewPropertyMapFromMapRepl(m, nil, func(v any) (resource.PropertyValue, bool) {
		if s, ok := v.(string); ok && s == spec.Unknown {
			return resource.MakeComputed(resource.NewProperty("")), true
		}
		return resource.PropertyValue{}, false
	})
}

// lookup follows a property path (deadLetterPolicy.deadLetterTopic) through nested objects.
func lookup(m resource.PropertyMap, path string) (resource.PropertyValue, bool) {
	p, err := resource.ParsePropertyPath(path)
	if err != nil {
		return resource.PropertyValue{}, false
	}
	return p.Get(resource.NewProperty(m))
}

// unknownShown is how a value known only after deployment reads.
const unknownShown = "(known after deploy)"

// show prints the value at path for people: secrets as Secret, unknowns as "(known after
// deploy)", nothing as "".
func show(m resource.PropertyMap, path string) string {
	v, ok := lookup(m, path)
	if !ok || v.IsNull() {
		return ""
	}
	return showValue(v)
}

func showValue(v resource.PropertyValue) string {
	switch x := plainValue(v).(type) {
	case nil:
		return ""
	case string:
		if x == spec.Unknown {
			return unknownShown
		}
		return x
	case bool:
		return strconv.FormatBool(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case []any:
		parts := make([]string, 0, len(x))
		for _, e := range v.ArrayValue() {
			parts = append(parts, showValue(e))
		}
		return strings.Join(parts, ",")
	case map[string]any:
		obj := v.ObjectValue()
		keys := slices.Sorted(func(yield func(string) bool) {
			for k := range obj {
				if !yield(string(k)) {
					return
				}
			}
		})
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			parts = append(parts, k+"="+showProperty(k, showValue(obj[resource.PropertyKey(k)])))
		}
		return strings.Join(parts, ",")
	}
	return v.TypeString()
}
