package rules

import (
	"fmt"
	"strings"
	"time"

	"github.com/aiprod/aiprod-pubsub/spec"
)

// The policies' descriptions and messages state the spec's numbers and names through these
// helpers, from spec, so that the prose cannot disagree with what the rules enforce.

// andList joins words as prose: "a", "a and b", "a, b and c".
func andList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}

// days is a number of seconds in whole days, as prose states retention and expiry.
func days(seconds int) int { return int(time.Duration(seconds) * time.Second / (24 * time.Hour)) }

// rangeText is a range as the descriptions write it: "10..600".
func rangeText(r spec.Range) string { return fmt.Sprintf("%d..%d", r.Min, r.Max) }

// subscriptionPattern names a queue's subscriptions in prose: "*-jobs-sub".
func subscriptionPattern(q spec.Queue) string {
	return spec.SubscriptionOf(spec.StemTopicName("*", q))
}
