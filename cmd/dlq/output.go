package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/aiprod/aiprod-pubsub/redrive"
)

// connection is a Pub/Sub client, where it goes, and what to check when it cannot get there.
type connection struct {
	client      *pubsub.Client
	where, hint string
	conn        *grpc.ClientConn // the emulator's; the client does not close a connection it was given
}

func (c *connection) close() {
	c.client.Close()
	if c.conn != nil {
		c.conn.Close()
	}
}

// dial connects to the emulator that PUBSUB_EMULATOR_HOST names, without credentials, or else
// to Pub/Sub with application default credentials.
func dial(ctx context.Context, project string, getenv func(string) string) (*connection, error) {
	if host := getenv("PUBSUB_EMULATOR_HOST"); host != "" {
		conn, err := grpc.NewClient(host, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, fmt.Errorf("connecting to the emulator at %q (PUBSUB_EMULATOR_HOST): %w", host, err)
		}
		c, err := pubsub.NewClient(ctx, project, option.WithGRPCConn(conn))
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("creating a client for the emulator at %q: %w", host, err)
		}
		return &connection{client: c, conn: conn, where: "the emulator at " + host + " (PUBSUB_EMULATOR_HOST)",
			hint: "Is the emulator running at PUBSUB_EMULATOR_HOST=" + host + "? Start it with `go run ./cmd/emulator --stack dev`, or unset PUBSUB_EMULATOR_HOST to use Pub/Sub."}, nil
	}
	c, err := pubsub.NewClient(ctx, project)
	if err != nil {
		return nil, fmt.Errorf("creating a Pub/Sub client for project %q: %w (log in with `gcloud auth application-default login`)", project, err)
	}
	return &connection{client: c, where: "Pub/Sub in project " + project + " (application default credentials)",
		hint: "Check the credentials (`gcloud auth application-default login`), that they may read the subscription, and that the stack is deployed."}, nil
}

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

// writeReport writes one line per selected dead letter, then the summary.
func writeReport(w io.Writer, rep *redrive.Report) {
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
	if !rep.Complete {
		fmt.Fprintln(w, "note: the dlq held more dead letters than one run takes; run again for the rest")
	}
	fmt.Fprintf(w, "summary: %s\n", rep.Summary())
}
