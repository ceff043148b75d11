package plan

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/aiprod/aiprod-pubsub/render"
)

// The type tokens the plan knows how to summarise.
const (
	TopicType              = render.TopicType
	SubscriptionType       = render.SubscriptionType
	TopicMemberType        = render.TopicMemberType
	SubscriptionMemberType = render.SubscriptionMemberType
	ServiceAccountType     = render.ServiceAccountType
	PipelineType           = render.PipelineType
	SchemaType             = render.SchemaType
)

var kinds = map[string]string{
	StackType:              "stack",
	TopicType:              "topic",
	SubscriptionType:       "subscription",
	TopicMemberType:        "topic IAM member",
	SubscriptionMemberType: "subscription IAM member",
	ServiceAccountType:     "service account",
	PipelineType:           "pipeline",
	SchemaType:             "schema",
}

// Kind is a short name for a type token: "topic", "subscription IAM member"; the token itself
// for a type the plan does not know.
func Kind(typ string) string {
	if k, ok := kinds[typ]; ok {
		return k
	}
	return typ
}

// Settings are a resource's key settings as short "name value" phrases: ack deadline,
// dead-letter target and attempts, ordering, retention, role and member.
func Settings(r render.Resource) []string {
	in := r.Inputs
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	switch r.Type {
	case TopicType:
		if v := show(in, "messageRetentionDuration"); v != "" {
			add("retention %s", duration(v))
		}
		if v := show(in, "kmsKeyName"); v != "" {
			add("kms %s", v)
		}
		if v := show(in, "messageStoragePolicy.allowedPersistenceRegions"); v != "" {
			add("regions %s", v)
		}
		if v := show(in, "schemaSettings.schema"); v != "" {
			add("schema %s (%s)", lastSegment(v), show(in, "schemaSettings.encoding"))
		}
	case SchemaType:
		add("%s", show(in, "type"))
		if name := recordName(show(in, "definition")); name != "" {
			add("record %s", name)
		}
	case SubscriptionType:
		add("topic %s", lastSegment(show(in, "topic")))
		ack := show(in, "ackDeadlineSeconds")
		if ack == "" {
			ack = "10" // GCP's default
		}
		add("ack %ss", ack)
		if v := show(in, "enableMessageOrdering"); v == "true" {
			add("ordering on")
		} else {
			add("ordering off")
		}
		if t := show(in, "deadLetterPolicy.deadLetterTopic"); t != "" {
			add("dead-letter %s after %s", lastSegment(t), show(in, "deadLetterPolicy.maxDeliveryAttempts"))
		}
		if v := show(in, "retryPolicy.minimumBackoff"); v != "" {
			add("retry %s..%s", v, show(in, "retryPolicy.maximumBackoff"))
		}
		retention := show(in, "messageRetentionDuration")
		if retention == "" {
			retention = "604800s"
		}
		add("retention %s", duration(retention))
		if v, ok := lookup(in, "expirationPolicy.ttl"); ok && v.IsString() && v.StringValue() == "" {
			add("expires never")
		} else if ok {
			add("expires %s", duration(showValue(v)))
		} else {
			add("expires after 31d idle")
		}
		if v := show(in, "filter"); v != "" {
			add("filter %q", v)
		}
	case TopicMemberType:
		add("%s on %s", show(in, "role"), lastSegment(show(in, "topic")))
		add("member %s", show(in, "member"))
	case SubscriptionMemberType:
		add("%s on %s", show(in, "role"), lastSegment(show(in, "subscription")))
		add("member %s", show(in, "member"))
	case ServiceAccountType:
		add("account %s", show(in, "accountId"))
	}
	if r.Protect {
		add("protected")
	}
	return out
}

// duration shows a protobuf duration ("604800s") in the largest whole unit ("7d").
func duration(s string) string {
	n, err := strconv.Atoi(strings.TrimSuffix(s, "s"))
	if err != nil || !strings.HasSuffix(s, "s") || n == 0 {
		return s
	}
	for _, u := range []struct {
		secs int
		unit string
	}{{86400, "d"}, {3600, "h"}, {60, "m"}} {
		if n%u.secs == 0 {
			return strconv.Itoa(n/u.secs) + u.unit
		}
	}
	return s
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
