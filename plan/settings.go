package plan

import (
	"cmp"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/aiprod/aiprod-pubsub/inventory"
	"github.com/aiprod/aiprod-pubsub/spec"
)

var kinds = map[string]string{
	spec.StackType:                 "stack",
	spec.TopicType:                 "topic",
	spec.SubscriptionType:          "subscription",
	spec.TopicIAMMemberType:        "topic IAM member",
	spec.SubscriptionIAMMemberType: "subscription IAM member",
	spec.ServiceAccountType:        "service account",
	spec.PipelineType:              "pipeline",
	spec.SchemaType:                "schema",
	spec.AlertPolicyType:           "alert policy",
	spec.NotificationChannelType:   "notification channel",
	spec.DashboardType:             "dashboard",
	spec.CryptoKeyIAMMemberType:    "KMS key IAM member",
}

// kind is a short name for a type token: "topic", "subscription IAM member"; the token itself
// for a type the plan does not know.
func kind(typ string) string {
	if k, ok := kinds[typ]; ok {
		return k
	}
	if k, ok := foundationKinds[typ]; ok {
		return k
	}
	return typ
}

// settings are a resource's key settings as short "name value" phrases: ack deadline,
// dead-letter target and attempts, ordering, retention, role and member.
func settings(r inventory.Resource) []string {
	in := r.Inputs
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	switch r.Type {
	case spec.TopicType:
		out = topicSettings(in)
	case spec.SchemaType:
		add("%s", show(in, "type"))
		if name := recordName(show(in, "definition")); name != "" {
			add("record %s", name)
		}
	case spec.SubscriptionType:
		out = subscriptionSettings(in)
	case spec.TopicIAMMemberType:
		add("%s on %s", show(in, "role"), spec.LastSegment(show(in, "topic")))
		add("member %s", show(in, "member"))
	case spec.SubscriptionIAMMemberType:
		add("%s on %s", show(in, "role"), spec.LastSegment(show(in, "subscription")))
		add("member %s", show(in, "member"))
	case spec.ServiceAccountType:
		add("account %s", show(in, "accountId"))
	case spec.AlertPolicyType:
		out = alertSettings(in)
	case spec.NotificationChannelType:
		add("%s %s", show(in, "type"), show(in, "labels.email_address"))
	case spec.DashboardType:
		add("backlog, oldest unacked age and dead letters per subscription")
	case spec.CryptoKeyIAMMemberType:
		add("%s on %s", show(in, "role"), show(in, "cryptoKeyId"))
		add("member %s", show(in, "member"))
	default:
		out = foundationSettings(r.Type, in)
	}
	if r.Protect {
		add("protected")
	}
	return out
}

// topicSettings are a topic's retention, encryption, regions and schema.
func topicSettings(in resource.PropertyMap) []string {
	var out []string
	if v := show(in, "messageRetentionDuration"); v != "" {
		out = append(out, "retention "+duration(v))
	}
	if v := show(in, "kmsKeyName"); v != "" {
		out = append(out, "kms "+v)
	}
	if v := show(in, "messageStoragePolicy.allowedPersistenceRegions"); v != "" {
		out = append(out, "regions "+v)
	}
	if v := show(in, "schemaSettings.schema"); v != "" {
		out = append(out, fmt.Sprintf("schema %s (%s)", spec.LastSegment(v), show(in, "schemaSettings.encoding")))
	}
	return out
}

// subscriptionSettings are a subscription's delivery settings, GCP's defaults shown where the
// program leaves a setting out.
func subscriptionSettings(in resource.PropertyMap) []string {
	out := []string{"topic " + spec.LastSegment(show(in, "topic"))}
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	add("ack %s", showProperty("ackDeadlineSeconds", cmp.Or(show(in, "ackDeadlineSeconds"), strconv.Itoa(spec.DefaultAckDeadlineSeconds))))
	if v := show(in, "enableMessageOrdering"); v == "true" {
		add("ordering on")
	} else {
		add("ordering off")
	}
	if t := show(in, "deadLetterPolicy.deadLetterTopic"); t != "" {
		add("dead-letter %s after %s", spec.LastSegment(t), show(in, "deadLetterPolicy.maxDeliveryAttempts"))
	}
	if v := show(in, "retryPolicy.minimumBackoff"); v != "" {
		add("retry %s..%s", duration(v), duration(show(in, "retryPolicy.maximumBackoff")))
	}
	add("retention %s", duration(cmp.Or(show(in, "messageRetentionDuration"), spec.Seconds(spec.DefaultRetentionSeconds))))
	if v, ok := lookup(in, "expirationPolicy.ttl"); ok && v.IsString() && v.StringValue() == "" {
		add("expires never")
	} else if ok {
		add("expires %s", duration(showValue(v)))
	} else {
		add("expires after %s idle", duration(spec.Seconds(spec.DefaultExpirationSeconds)))
	}
	if v := show(in, "filter"); v != "" {
		add("filter %q", v)
	}
	return out
}

// duration shows a duration in the provider's form ("86400s") as durationOf does ("1d"); any
// other text as it is.
func duration(s string) string {
	n, ok := spec.ParseSeconds(s)
	if !ok {
		return s
	}
	return durationOf(n)
}

// durationUnits are the units a duration is shown in, largest first.
var durationUnits = []struct {
	secs int64
	unit string
}{{86400, "d"}, {3600, "h"}, {60, "m"}, {1, "s"}}

// durationOf shows a number of seconds in whole units, largest first: 302400 is "3d12h",
// 4500 "1h15m", 600 "10m", 0 "0s"; a fraction of a second stays in seconds ("0.5s"). Every
// duration the plan shows, in every format, is shown by it.
func durationOf(secs float64) string {
	n := int64(secs)
	if float64(n) != secs || n < 0 {
		return strconv.FormatFloat(secs, 'f', -1, 64) + "s"
	}
	if n == 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range durationUnits {
		if n >= u.secs {
			fmt.Fprintf(&b, "%d%s", n/u.secs, u.unit)
			n %= u.secs
		}
	}
	return b.String()
}

// durationProperties are the resource properties that hold a duration: in the provider's
// form ("600s"), or a number of seconds (ackDeadlineSeconds).
var durationProperties = map[string]bool{
	"ackDeadlineSeconds": true, "messageRetentionDuration": true, "minimumBackoff": true,
	"maximumBackoff": true, "ttl": true, "duration": true, "alignmentPeriod": true,
}

// showProperty shows the value of the property key as durationOf does when the property holds
// a duration, else as it is.
func showProperty(key, value string) string {
	if !durationProperties[key[strings.LastIndex(key, ".")+1:]] {
		return value
	}
	if n, err := strconv.ParseFloat(value, 64); err == nil {
		return durationOf(n)
	}
	return duration(value)
}

// recordName is the name of the record an Avro definition declares, or "".
func recordName(definition string) string {
	var schema struct {
		Name string `json:"name"`
	}
	if json.Unmarshal([]byte(definition), &schema) != nil {
		return ""
	}
	return schema.Name
}

// alertSettings are an alert policy's conditions: what each watches, its threshold and how long
// it must hold, and the channels it notifies.
func alertSettings(in resource.PropertyMap) []string {
	out := alertConditions(in)
	if ch := show(in, "notificationChannels"); ch != "" {
		out = append(out, "notifies "+ch)
	}
	return out
}

// alertConditions are an alert policy's conditions: what each watches, its threshold and how
// long it must hold.
func alertConditions(in resource.PropertyMap) []string {
	var out []string
	conds, _ := lookup(in, "conditions")
	if conds.IsArray() {
		for _, c := range conds.ArrayValue() {
			if !c.IsObject() {
				continue
			}
			th := c.ObjectValue()
			metric, _, name, ok := spec.ParseFilter(show(th, "conditionThreshold.filter"))
			if !ok {
				continue
			}
			threshold := show(th, "conditionThreshold.thresholdValue")
			if n, err := strconv.ParseFloat(threshold, 64); err == nil && spec.MetricInSeconds(metric) {
				threshold = durationOf(n)
			}
			cond := fmt.Sprintf("%s %s > %s", name, spec.MetricName(metric), threshold)
			if show(th, "conditionThreshold.denominatorFilter") != "" {
				cond += " of requests"
			}
			if d := show(th, "conditionThreshold.duration"); d != "" && d != "0s" {
				cond += " for " + duration(d)
			}
			out = append(out, cond)
		}
	}
	return out
}
