package rules

import (
	"fmt"
	"strconv"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// isUnknown reports whether v is not known yet: computed, or the engine's unknown string,
// which a preview sends for a value not known until a resource is created.
func isUnknown(v property.Value) bool {
	return v.IsComputed() || (v.IsString() && v.AsString() == spec.Unknown)
}

// value is a property looked up by path.
type value struct {
	property.Value
	// Set is false when the property, or a map on its path, is missing or null.
	Set bool
	// Unknown is true when the property, or a map on its path, is not known yet.
	Unknown bool
}

// get looks up a nested property by its keys.
func get(m property.Map, keys ...string) value {
	cur := property.New(m)
	for _, k := range keys {
		if isUnknown(cur) {
			return value{Value: cur, Unknown: true}
		}
		if !cur.IsMap() {
			return value{}
		}
		v, ok := cur.AsMap().GetOk(k)
		if !ok || v.IsNull() {
			return value{}
		}
		cur = v
	}
	return value{Value: cur, Set: true, Unknown: isUnknown(cur)}
}

// knownString returns the property's string when it is set, known and a string.
func knownString(m property.Map, keys ...string) (string, bool) {
	v := get(m, keys...)
	if !v.Set || v.Unknown || !v.IsString() {
		return "", false
	}
	return v.AsString(), true
}

// show formats a value for a message.
func show(v property.Value) string {
	switch {
	case isUnknown(v):
		return "(unknown)"
	case v.Secret():
		return spec.Secret
	case v.IsString():
		return strconv.Quote(v.AsString())
	case v.IsNumber():
		return strconv.FormatFloat(v.AsNumber(), 'f', -1, 64)
	case v.IsBool():
		return strconv.FormatBool(v.AsBool())
	case v.IsNull():
		return "null"
	case v.IsMap():
		return "an object"
	case v.IsArray():
		return "a list"
	}
	return fmt.Sprintf("%#v", v)
}

// kind is a resource's kind as a message names it: "subscription", "topic", or its type token.
func kind(typ string) string {
	switch typ {
	case spec.TopicType:
		return "topic"
	case spec.SubscriptionType:
		return "subscription"
	case spec.SchemaType:
		return "schema"
	case spec.ServiceAccountType:
		return "service account"
	case spec.BucketType:
		return "bucket"
	case spec.CryptoKeyType:
		return "crypto key"
	case spec.WorkloadIdentityPoolProviderType:
		return "workload identity pool provider"
	}
	return typ
}

// physicalName is the resource's `name` property when known, else its logical name.
func physicalName(r policyx.AnalyzerResource) string {
	if n, ok := knownString(r.Properties, "name"); ok && n != "" {
		return n
	}
	return r.Name
}

// describe names a resource in a message: `subscription "aiprod-pipeline-jobs-sub"`.
func describe(r policyx.AnalyzerResource) string {
	return fmt.Sprintf("%s %q", kind(r.Type), physicalName(r))
}

// subscriptionQueue is the queue of a subscription named <stem>-<queue>-sub, or "". A resource
// policy sees one resource only, so it goes by the name.
func subscriptionQueue(name string) spec.Queue {
	_, q, _ := spec.SubscriptionQueue(name)
	return q
}

// refText shows a reference in a message: the full topic id when the project is known.
func refText(r spec.Ref) string {
	if r.Project == "" {
		return r.Name
	}
	return spec.TopicID(r.Project, r.Name)
}

// num formats a number for a message, without an exponent.
func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
