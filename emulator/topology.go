// Package emulator runs a stack's Pub/Sub topology in an in-memory Pub/Sub server (the Go
// client's pstest) for local development, and rehearses the pipeline's behaviour against it.
// Its tests are cmd/emulator's: they serve the real stacks, which only a test binary that
// holds the program can render, and the command's test binary holds it anyway.
package emulator

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/aiprod/aiprod-pubsub/inventory"
	"github.com/aiprod/aiprod-pubsub/spec"
)

// maxSubscriptionRetention is the longest subscription retention pstest accepts; GCP allows 31
// days.
const maxSubscriptionRetention = 7 * 24 * time.Hour

// Topology is what the emulator creates for a stack: its topics and subscriptions as Pub/Sub
// API protos, and what it cannot represent.
type Topology struct {
	// Project is the stack's GCP project (gcp:project); every full id is in it.
	Project string
	// Topics and Subscriptions are in the order they are created: topics first, because a
	// subscription names its topic and its dead-letter topic.
	Topics        []*pubsubpb.Topic
	Subscriptions []*pubsubpb.Subscription
	// Pipelines are the pipeline components with their three queues, as their outputs name them.
	Pipelines []Pipeline
	// Skipped are the registered resources the emulator does not represent.
	Skipped []Skipped
	// Notes say where the emulator differs from the rendered settings, and why.
	Notes []string
}

// Pipeline is one pipeline's queues: full topic and subscription ids keyed by queue.
type Pipeline struct {
	Name          string
	Topics        map[spec.Queue]string
	Subscriptions map[spec.Queue]string
}

// Skipped is a registered resource the emulator does not create.
type Skipped struct {
	Type, Name, Reason string
}

func (s Skipped) String() string { return fmt.Sprintf("%s %s: %s", s.Type, s.Name, s.Reason) }

// skipReasons says why a resource type has no counterpart in the emulator.
var skipReasons = map[string]string{
	spec.TopicIAMMemberType:        "the emulator has no IAM; every client may publish and pull",
	spec.SubscriptionIAMMemberType: "the emulator has no IAM; every client may publish and pull",
	spec.ServiceAccountType:        "the emulator has no service accounts and needs no credentials",
	spec.SchemaType:                "the in-memory Pub/Sub does not enforce schemas; the rehearsal checks every message it publishes against schemas/ instead",
	spec.AlertPolicyType:           "the emulator has no Cloud Monitoring",
	spec.NotificationChannelType:   "the emulator has no Cloud Monitoring",
	spec.DashboardType:             "the emulator has no Cloud Monitoring",
	spec.CryptoKeyIAMMemberType:    "the emulator has no Cloud KMS; its topics are not encrypted",
}

// FromResult builds the topology of a rendered stack. project is the stack's gcp:project;
// every topic and subscription must be in it.
func FromResult(res *inventory.Stack, project string) (*Topology, error) {
	if project == "" {
		return nil, fmt.Errorf("the stack has no gcp:project")
	}
	t := &Topology{Project: project}
	var errs []string
	for _, r := range res.Resources {
		in := r.Inputs.Mappable()
		switch {
		case r.Type == spec.TopicType:
			topic, err := t.topic(in)
			if err != nil {
				errs = append(errs, fmt.Sprintf("topic %s: %v", r.URN, err))
				continue
			}
			t.Topics = append(t.Topics, topic)
		case r.Type == spec.SubscriptionType:
			sub, err := t.subscription(in)
			if err != nil {
				errs = append(errs, fmt.Sprintf("subscription %s: %v", r.URN, err))
				continue
			}
			t.Subscriptions = append(t.Subscriptions, sub)
		case r.Custom:
			reason, ok := skipReasons[r.Type]
			if !ok {
				reason = "not a Pub/Sub topic or subscription"
			}
			t.Skipped = append(t.Skipped, Skipped{Type: r.Type, Name: r.Name, Reason: reason})
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("the rendered stack cannot be emulated:\n  %s", strings.Join(errs, "\n  "))
	}
	pipelines, err := pipelinesOf(res.Outputs)
	if err != nil {
		return nil, err
	}
	t.Pipelines = pipelines
	return t, nil
}

// pipelinesOf reads the pipelines' queues from the stack's outputs, where each pipeline
// component exports its topic and subscription ids.
func pipelinesOf(outputs map[string]any) ([]Pipeline, error) {
	all, _ := outputs[spec.PipelinesOutput].(map[string]any)
	var out []Pipeline
	for _, name := range slices.Sorted(maps.Keys(all)) {
		values, _ := all[name].(map[string]any)
		p := Pipeline{Name: name, Topics: map[spec.Queue]string{}, Subscriptions: map[spec.Queue]string{}}
		for _, q := range spec.Queues {
			topic, _ := values[spec.TopicOutput(q)].(string)
			sub, _ := values[spec.SubscriptionOutput(q)].(string)
			if topic == "" || sub == "" {
				return nil, fmt.Errorf("pipeline %q exports no %s and %s", name, spec.TopicOutput(q), spec.SubscriptionOutput(q))
			}
			p.Topics[q], p.Subscriptions[q] = topic, sub
		}
		out = append(out, p)
	}
	return out, nil
}

// Subscription returns the subscription with the given full id, or nil.
func (t *Topology) Subscription(name string) *pubsubpb.Subscription {
	i := slices.IndexFunc(t.Subscriptions, func(s *pubsubpb.Subscription) bool { return s.Name == name })
	if i < 0 {
		return nil
	}
	return t.Subscriptions[i]
}

func (t *Topology) checkProject(in map[string]any) error {
	if p := str(in, "project"); p != "" && p != t.Project {
		return fmt.Errorf("project is %q; the stack's gcp:project is %q", p, t.Project)
	}
	return nil
}

func (t *Topology) topic(in map[string]any) (*pubsubpb.Topic, error) {
	name := str(in, "name")
	if name == "" {
		return nil, fmt.Errorf("no name")
	}
	if err := t.checkProject(in); err != nil {
		return nil, err
	}
	topic := &pubsubpb.Topic{
		Name:       spec.TopicID(t.Project, name),
		Labels:     strMap(in, "labels"),
		KmsKeyName: str(in, "kmsKeyName"),
	}
	if regions := strList(obj(in, "messageStoragePolicy"), "allowedPersistenceRegions"); len(regions) > 0 {
		topic.MessageStoragePolicy = &pubsubpb.MessageStoragePolicy{AllowedPersistenceRegions: regions}
	}
	if d, err := duration(in, "messageRetentionDuration"); err != nil {
		return nil, err
	} else if d > 0 {
		topic.MessageRetentionDuration = durationpb.New(d)
	}
	return topic, nil
}

func (t *Topology) subscription(in map[string]any) (*pubsubpb.Subscription, error) {
	name := str(in, "name")
	if name == "" {
		return nil, fmt.Errorf("no name")
	}
	if err := t.checkProject(in); err != nil {
		return nil, err
	}
	sub := &pubsubpb.Subscription{
		Name:                  spec.SubscriptionID(t.Project, name),
		Topic:                 t.fullTopic(str(in, "topic")),
		AckDeadlineSeconds:    int32(num(in, "ackDeadlineSeconds")),
		EnableMessageOrdering: boolean(in, "enableMessageOrdering"),
		Labels:                strMap(in, "labels"),
		Filter:                str(in, "filter"),
	}
	if sub.Topic == "" {
		return nil, fmt.Errorf("no topic")
	}
	if dl := obj(in, "deadLetterPolicy"); dl != nil {
		sub.DeadLetterPolicy = &pubsubpb.DeadLetterPolicy{
			DeadLetterTopic:     t.fullTopic(str(dl, "deadLetterTopic")),
			MaxDeliveryAttempts: int32(num(dl, "maxDeliveryAttempts")),
		}
	}
	if rp := obj(in, "retryPolicy"); rp != nil {
		minB, err := duration(rp, "minimumBackoff")
		if err != nil {
			return nil, err
		}
		maxB, err := duration(rp, "maximumBackoff")
		if err != nil {
			return nil, err
		}
		sub.RetryPolicy = &pubsubpb.RetryPolicy{MinimumBackoff: durationpb.New(minB), MaximumBackoff: durationpb.New(maxB)}
	}
	if ep := obj(in, "expirationPolicy"); ep != nil {
		// An empty ttl means never expire; the API says so with a policy without a ttl.
		sub.ExpirationPolicy = &pubsubpb.ExpirationPolicy{}
		if ttl, err := duration(ep, "ttl"); err != nil {
			return nil, err
		} else if ttl > 0 {
			sub.ExpirationPolicy.Ttl = durationpb.New(ttl)
		}
	}
	retention, err := duration(in, "messageRetentionDuration")
	if err != nil {
		return nil, err
	}
	if retention > maxSubscriptionRetention {
		t.Notes = append(t.Notes, fmt.Sprintf("subscription %s: retention %s is beyond the emulator's 7-day maximum (GCP allows 31 days); the emulator keeps 7 days",
			name, str(in, "messageRetentionDuration")))
		retention = maxSubscriptionRetention
	}
	if retention > 0 {
		sub.MessageRetentionDuration = durationpb.New(retention)
	}
	return sub, nil
}

// fullTopic turns a topic reference into a full id in the stack's project; the provider
// accepts a short name too.
func (t *Topology) fullTopic(ref string) string {
	if ref == "" || spec.IsTopicID(ref) {
		return ref
	}
	return spec.TopicID(t.Project, ref)
}

func str(m map[string]any, k string) string {
	s, _ := m[k].(string)
	return s
}

func num(m map[string]any, k string) float64 {
	n, _ := m[k].(float64)
	return n
}

func boolean(m map[string]any, k string) bool {
	b, _ := m[k].(bool)
	return b
}

func obj(m map[string]any, k string) map[string]any {
	o, _ := m[k].(map[string]any)
	return o
}

func strMap(m map[string]any, k string) map[string]string {
	out := map[string]string{}
	for key, v := range obj(m, k) {
		if s, ok := v.(string); ok {
			out[key] = s
		}
	}
	return out
}

func strList(m map[string]any, k string) []string {
	l, _ := m[k].([]any)
	var out []string
	for _, v := range l {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// duration reads a duration in the provider's format, seconds with an "s" suffix ("600s").
// A missing or empty value is 0.
func duration(m map[string]any, k string) (time.Duration, error) {
	s := str(m, k)
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s is %q; want a duration in seconds such as \"600s\"", k, s)
	}
	return d, nil
}
