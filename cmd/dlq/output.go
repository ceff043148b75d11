package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aiprod/aiprod-pubsub/redrive"
)

// previewBytes is how much of a dead letter's data inspect shows.
const previewBytes = 120

// preview is the start of data, escaped.
func preview(data []byte) string {
	if len(data) <= previewBytes {
		return strconv.Quote(string(data))
	}
	return fmt.Sprintf("%s... (%d bytes in all)", strconv.Quote(string(data[:previewBytes])), len(data))
}

// writeInspection writes the count, the oldest dead letter's age and the first page.
func writeInspection(w io.Writer, insp *redrive.Inspection, pageSize, dlPolicy int, now time.Time) {
	n := len(insp.Messages)
	more := ""
	if !insp.Complete {
		more = " or more: the command holds at most that many at once"
	}
	fmt.Fprintf(w, "count: %d%s\n", n, more)
	if insp.Duplicates > 0 {
		fmt.Fprintf(w, "duplicates: %d further deliveries of these message ids came while they were held, each counted once "+
			"(Pub/Sub may deliver a message twice; the emulator forwards a dead letter to the dlq again and again)\n", insp.Duplicates)
	}
	if n > 0 {
		oldest := insp.Messages[0].PublishTime
		fmt.Fprintf(w, "oldest: %s old (reached the dlq %s)\n", now.Sub(oldest).Round(time.Second), oldest.UTC().Format(time.RFC3339))
	}
	fmt.Fprintln(w, "Nothing was consumed: each dead letter was pulled and released at once (ack deadline 0).")
	if dlPolicy == 0 {
		fmt.Fprintln(w, "That pull counts as a delivery on the dlq subscription only, which has no dead-letter policy: inspecting brings no message closer to being dropped.")
	} else {
		fmt.Fprintf(w, "WARNING: the dlq subscription has a dead-letter policy (after %d deliveries): each inspection counts as a delivery toward it.\n", dlPolicy)
	}
	if n == 0 {
		return
	}
	page := min(pageSize, n)
	fmt.Fprintf(w, "\n%d of %d, oldest first:\n", page, n)
	for _, m := range insp.Messages[:page] {
		writeMessage(w, m, now)
	}
}

func writeMessage(w io.Writer, m *redrive.Message, now time.Time) {
	attempt := "none counted (no dead-letter policy on the dlq subscription)"
	if m.DeliveryAttempt > 0 {
		attempt = strconv.Itoa(m.DeliveryAttempt)
	}
	fmt.Fprintf(w, "- id %s, published %s (%s ago), delivery attempt %s\n", m.ID, m.PublishTime.UTC().Format(time.RFC3339), now.Sub(m.PublishTime).Round(time.Second), attempt)
	source := "none: no " + redrive.SourceSubscriptionAttr + " attribute"
	if m.SourceSubscription != "" {
		source = fmt.Sprintf("%s=%s", redrive.SourceSubscriptionAttr, m.SourceSubscription)
	}
	if m.SourceDeliveryCount != "" {
		source += ", CloudPubSubDeadLetterSourceDeliveryCount=" + m.SourceDeliveryCount
	}
	fmt.Fprintf(w, "  source:       %s\n", source)
	fmt.Fprintf(w, "  ordering key: %q\n", m.OrderingKey)
	contract := "not checked: " + m.Unknown
	switch {
	case m.Contract == "":
	case m.ContractErr != nil:
		contract = fmt.Sprintf("does NOT conform to the %s contract: %v", m.Contract, m.ContractErr)
	default:
		contract = fmt.Sprintf("conforms to the %s contract", m.Contract)
	}
	fmt.Fprintf(w, "  contract:     %s\n", contract)
	fmt.Fprintf(w, "  data:         %s\n", preview(m.Data))
}

// caveats are what a dry run should say about replaying m.
func caveats(m *redrive.Message) string {
	s := ""
	if m.Assumed {
		s += "; source assumed: no attribute"
	}
	if m.ContractErr != nil {
		s += fmt.Sprintf("; does NOT conform to the %s contract, so a topic that enforces it will reject it", m.Contract)
	}
	return s
}

// writeReport writes one line per selected dead letter, the topics that other subscriptions
// read too, then the summary.
func writeReport(w io.Writer, rep *redrive.Report, allowOthers bool) {
	for _, o := range rep.Outcomes {
		m := o.Message
		switch {
		case o.Status == redrive.WouldReplay:
			fmt.Fprintf(w, "%-12s %s -> %s (ordering key %q%s)\n", o.Status, m.ID, m.Topic, m.OrderingKey, caveats(m))
		case o.Status == redrive.Replayed:
			fmt.Fprintf(w, "%-12s %s -> %s as %s\n", o.Status, m.ID, m.Topic, o.NewID)
		case o.Err != nil:
			fmt.Fprintf(w, "%-12s %s: %v\n", o.Status, m.ID, o.Err)
		default:
			fmt.Fprintf(w, "%-12s %s\n", o.Status, m.ID)
		}
	}
	for _, topic := range slices.Sorted(maps.Keys(rep.OtherSubscriptions)) {
		subs := strings.Join(rep.OtherSubscriptions[topic], ", ")
		if allowOthers {
			fmt.Fprintf(w, "note: %s also feeds %s: each of them gets the copies too (--allow-other-subscriptions)\n", topic, subs)
		} else {
			fmt.Fprintf(w, "refused: %s also feeds %s, and each of them would get the copies too; its dead letters stay (--allow-other-subscriptions sends them anyway)\n", topic, subs)
		}
	}
	if !rep.Complete {
		fmt.Fprintln(w, "note: the dlq held more dead letters than one run takes; run again for the rest")
	}
	fmt.Fprintf(w, "summary: %s\n", rep.Summary())
}
