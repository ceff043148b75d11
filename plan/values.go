package plan

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// Unknown is how a preview document spells a value that is known only after deployment.
const Unknown = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

// plain turns a property map into JSON-ready values the way a preview prints them: secrets as
// Secret, values not known yet as Unknown.
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
		return Secret
	case v.IsComputed():
		return Unknown
	case v.IsOutput():
		o := v.OutputValue()
		switch {
		case o.Secret:
			return Secret
		case !o.Known:
			return Unknown
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

// fromPlain is the inverse of plain: Unknown becomes a computed value.
func fromPlain(m map[string]any) resource.PropertyMap {
	return resource.NewPropertyMapFromMapRepl(m, nil, func(v any) (resource.PropertyValue, bool) {
		if s, ok := v.(string); ok && s == Unknown {
			return resource.MakeComputed(resource.NewProperty("")), true
		}
		return resource.PropertyValue{}, false
	})
}

// lookup follows a dotted path (deadLetterPolicy.deadLetterTopic) through nested objects.
func lookup(m resource.PropertyMap, path string) (resource.PropertyValue, bool) {
	var v resource.PropertyValue
	for i, key := range strings.Split(path, ".") {
		if i > 0 {
			if !v.IsObject() {
				return resource.PropertyValue{}, false
			}
			m = v.ObjectValue()
		}
		var ok bool
		if v, ok = m[resource.PropertyKey(key)]; !ok {
			return resource.PropertyValue{}, false
		}
	}
	return v, true
}

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
		if x == Unknown {
			return "(known after deploy)"
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
			parts = append(parts, k+"="+showValue(obj[resource.PropertyKey(k)]))
		}
		return strings.Join(parts, ",")
	}
	return v.TypeString()
}

// lastSegment is the last part of a /-separated id: the name in projects/p/topics/<name>.
func lastSegment(s string) string {
	return s[strings.LastIndex(s, "/")+1:]
}
