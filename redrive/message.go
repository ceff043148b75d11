package redrive

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/pubsub/v2/apiv1/pubsubpb"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// The attributes Pub/Sub adds to each message it forwards to a dead-letter topic.
const (
	deadLetterAttrPrefix = "CloudPubSubDeadLetter"
	// SourceSubscriptionAttr names the subscription the message was dead-lettered from.
	SourceSubscriptionAttr  = deadLetterAttrPrefix + "SourceSubscription"
	sourceProjectAttr       = deadLetterAttrPrefix + "SourceSubscriptionProject"
	sourceDeliveryCountAttr = deadLetterAttrPrefix + "SourceDeliveryCount"
	sourcePublishTimeAttr   = deadLetterAttrPrefix + "SourceTopicPublishTime"
)

// DeadLetterAttributes are the attributes Pub/Sub adds to a message it forwards to a
// dead-letter topic: from which subscription (a full id), after how many deliveries, and when
// the message was first published.
func DeadLetterAttributes(sourceSubscription string, deliveries int, published time.Time) map[string]string {
	return map[string]string{
		SourceSubscriptionAttr:  sourceSubscription,
		sourceProjectAttr:       spec.ParseSubscription(sourceSubscription).Project,
		sourceDeliveryCountAttr: fmt.Sprint(deliveries),
		sourcePublishTimeAttr:   published.UTC().Format(time.RFC3339Nano),
	}
}

// sources are the queues whose subscriptions dead-letter.
var sources = []spec.Queue{spec.Jobs, spec.Results}

// Message is one dead letter as the dlq subscription delivered it.
type Message struct {
	ID          string
	PublishTime time.Time
	// DeliveryAttempt is the dlq subscription's counter; 0 when it has no dead-letter policy.
	DeliveryAttempt int
	Attributes      map[string]string
	OrderingKey     string
	Data            []byte
	// SourceSubscription and SourceDeliveryCount are the attributes Pub/Sub adds: where the
	// message was dead-lettered from, after how many deliveries. "" when absent.
	SourceSubscription, SourceDeliveryCount string
	// Source is the pipeline's queue the message came from, jobs or results; "" when unknown.
	Source spec.Queue
	// Assumed says Source is Options.AssumeSource because the message carries no attribute.
	Assumed bool
	// Topic is where a replay republishes it, Source's topic; "" when unknown, and Unknown
	// says why.
	Topic, Unknown string
	// Contract is the contract of Source's topic, "" when unknown; ContractErr is nil when
	// Data conforms to it.
	Contract    spec.Contract
	ContractErr error

	// Copies counts the further deliveries of this message id during the operation: Pub/Sub
	// may redeliver a message, and the emulator forwards a dead letter to the dlq again and
	// again. They are acknowledged with the message, only once it is replayed or purged.
	Copies int

	ackID    string
	copyAcks []string // the ack ids of the copies
	// original is when the message was first published: the source publish time attribute
	// when present, else the dead letter's own publish time.
	original time.Time
}

// newMessage reads a delivery of the dlq subscription.
func newMessage(rm *pubsubpb.ReceivedMessage) *Message {
	pm := rm.GetMessage()
	m := &Message{
		ID:                  pm.GetMessageId(),
		PublishTime:         pm.GetPublishTime().AsTime(),
		DeliveryAttempt:     int(rm.GetDeliveryAttempt()),
		Attributes:          pm.GetAttributes(),
		OrderingKey:         pm.GetOrderingKey(),
		Data:                pm.GetData(),
		SourceSubscription:  pm.GetAttributes()[SourceSubscriptionAttr],
		SourceDeliveryCount: pm.GetAttributes()[sourceDeliveryCountAttr],
		ackID:               rm.GetAckId(),
	}
	m.original = m.PublishTime
	if t, err := time.Parse(time.RFC3339Nano, pm.GetAttributes()[sourcePublishTimeAttr]); err == nil {
		m.original = t
	}
	return m
}

// ackIDs are the ack ids of m and of its copies.
func (m *Message) ackIDs() []string { return append([]string{m.ackID}, m.copyAcks...) }

// byOriginal orders messages as they were first published, which is the order their ordering
// keys promise.
func byOriginal(a, b *Message) int {
	return cmp.Or(a.original.Compare(b.original), a.PublishTime.Compare(b.PublishTime), cmp.Compare(a.ID, b.ID))
}

// resolve finds where m was dead-lettered from, and checks its data against that queue's
// contract.
func (d *DLQ) resolve(m *Message) {
	switch {
	case m.SourceSubscription != "":
		ref := spec.ParseSubscription(m.SourceSubscription)
		if ref.Project == "" {
			ref.Project = m.Attributes[sourceProjectAttr]
		}
		for _, q := range sources {
			if id := d.pipeline.Subscriptions[q]; id != "" && spec.ParseSubscription(id).Matches(ref) {
				m.Source = q
			}
		}
		if m.Source == "" {
			m.Unknown = fmt.Sprintf("it was dead-lettered from %q, which is neither the jobs nor the results subscription of pipeline %q",
				m.SourceSubscription, d.pipeline.Name)
			return
		}
	case d.opts.AssumeSource != "":
		m.Source, m.Assumed = d.opts.AssumeSource, true
	default:
		m.Unknown = "it carries no " + SourceSubscriptionAttr + " attribute, so where it came from is unknown"
		return
	}
	m.Topic = d.pipeline.Topics[m.Source]
	if m.Topic == "" {
		m.Unknown = fmt.Sprintf("pipeline %q has no %s", d.pipeline.Name, spec.TopicOutput(m.Source))
		return
	}
	m.Contract = m.Source.Contract()
	if s := d.contracts[m.Contract]; s != nil {
		m.ContractErr = s.Validate(m.Data)
	}
}

// republished is the message a replay publishes: the dead letter's data, ordering key and
// attributes, without the ones Pub/Sub added when it dead-lettered it.
func (m *Message) republished() *pubsubpb.PubsubMessage {
	attrs := map[string]string{}
	for k, v := range m.Attributes {
		if !strings.HasPrefix(k, deadLetterAttrPrefix) {
			attrs[k] = v
		}
	}
	return &pubsubpb.PubsubMessage{Data: m.Data, Attributes: attrs, OrderingKey: m.OrderingKey}
}

// Filter selects dead letters. A message is selected when it matches every criterion given.
type Filter struct {
	// Attrs must each be present with this value.
	Attrs map[string]string
	// OlderThan selects dead letters published to the dlq topic longer ago than this.
	OlderThan time.Duration
	// IDs selects these message ids.
	IDs []string
}

// Empty reports whether f has no criterion, and so selects every dead letter.
func (f Filter) Empty() bool { return len(f.Attrs) == 0 && f.OlderThan <= 0 && len(f.IDs) == 0 }

func (f Filter) String() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(f.Attrs)) {
		parts = append(parts, fmt.Sprintf("attribute %s=%s", k, f.Attrs[k]))
	}
	if f.OlderThan > 0 {
		parts = append(parts, "older than "+f.OlderThan.String())
	}
	if len(f.IDs) > 0 {
		parts = append(parts, "id "+strings.Join(f.IDs, " or "))
	}
	if len(parts) == 0 {
		return "every dead letter"
	}
	return strings.Join(parts, ", ")
}

func (f Filter) match(m *Message, now time.Time) bool {
	for k, v := range f.Attrs {
		if got, ok := m.Attributes[k]; !ok || got != v {
			return false
		}
	}
	if f.OlderThan > 0 && now.Sub(m.PublishTime) <= f.OlderThan {
		return false
	}
	return len(f.IDs) == 0 || slices.Contains(f.IDs, m.ID)
}

// Selection is what an operation takes: the dead letters Filter selects, oldest first, at most
// Limit of them (0: all).
type Selection struct {
	Filter Filter
	Limit  int
}

// pick splits msgs, oldest first, into the selected and the others.
func (s Selection) pick(msgs []*Message, now time.Time) (selected, others []*Message) {
	for _, m := range msgs {
		if s.Filter.match(m, now) && (s.Limit <= 0 || len(selected) < s.Limit) {
			selected = append(selected, m)
		} else {
			others = append(others, m)
		}
	}
	return selected, others
}
