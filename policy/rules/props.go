package rules

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// UnknownValue is the string the engine sends for a value that is not known until a resource
// is created (an id during a first preview); `pulumi preview --json` shows it as is.
const UnknownValue = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

// The type tokens the rules read.
const (
	typeTopic                  = "gcp:pubsub/topic:Topic"
	typeSubscription           = "gcp:pubsub/subscription:Subscription"
	typeServiceAccountKey      = "gcp:serviceaccount/key:Key"
	roleSubscriber             = "roles/pubsub.subscriber"
	rolePublisher              = "roles/pubsub.publisher"
	roleViewer                 = "roles/pubsub.viewer"
	defaultRetentionSeconds    = 7 * 24 * 3600
	maximumRetentionSeconds    = 31 * 24 * 3600
	defaultAckDeadlineSeconds  = 10
	minimumAckDeadlineSeconds  = 10
	maximumAckDeadlineSeconds  = 600
	minimumDeliveryAttempts    = 5
	maximumDeliveryAttempts    = 100
	defaultAppServiceAccountID = "aiprod-sa"
)

// isUnknown reports whether v is not known yet: computed, or the engine's unknown string.
func isUnknown(v property.Value) bool {
	return v.IsComputed() || (v.IsString() && v.AsString() == UnknownValue)
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
		return "[secret]"
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
	case typeTopic:
		return "topic"
	case typeSubscription:
		return "subscription"
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

// Queue roles, from the name suffixes the spec gives them.
const (
	roleJobs    = "jobs"
	roleResults = "results"
	roleDLQ     = "dlq"
)

var queueRoles = []string{roleJobs, roleResults, roleDLQ}

// subscriptionRole is the queue role of a subscription named `<stem>-<role>-sub`, or "".
func subscriptionRole(name string) string {
	for _, q := range queueRoles {
		if strings.HasSuffix(name, "-"+q+"-sub") {
			return q
		}
	}
	return ""
}

// isDeadLetterSubscriptionName reports whether a subscription's name marks it as the one on a
// dead-letter topic. A resource policy sees one resource only, so it goes by the name.
func isDeadLetterSubscriptionName(name string) bool {
	return subscriptionRole(name) == roleDLQ
}

// ref identifies a topic or a subscription: a full id `projects/<p>/<collection>/<n>` or a short
// name (project unknown).
type ref struct {
	project, name string
}

// id is the full id in collection ("topics", "subscriptions"), or the name when the project is
// not known.
func (r ref) id(collection string) string {
	if r.project == "" {
		return r.name
	}
	return "projects/" + r.project + "/" + collection + "/" + r.name
}

// parseRef reads a full id in collection ("topics", "subscriptions") or a short name.
func parseRef(s, collection string) ref {
	parts := strings.Split(s, "/")
	if len(parts) == 4 && parts[0] == "projects" && parts[2] == collection {
		return ref{project: parts[1], name: parts[3]}
	}
	return ref{name: s}
}

// matches reports whether a and b name the same thing; a missing project matches any project.
func (r ref) matches(o ref) bool {
	return r.name == o.name && (r.project == "" || o.project == "" || r.project == o.project)
}

var fullTopicID = regexp.MustCompile(`^projects/[^/]+/topics/[^/]+$`)

var serviceAgent = regexp.MustCompile(`^serviceAccount:service-[0-9]+@gcp-sa-pubsub\.iam\.gserviceaccount\.com$`)

// isServiceAgent reports whether member is a project's Pub/Sub service agent.
func isServiceAgent(member string) bool { return serviceAgent.MatchString(member) }

var gcpDuration = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,9})?s$`)

// durationSeconds parses a GCP duration such as "604800s" (up to nine fractional digits).
func durationSeconds(s string) (float64, bool) {
	if !gcpDuration.MatchString(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(s, "s"), 64)
	return f, err == nil
}

// num formats a number for a message, without an exponent.
func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
