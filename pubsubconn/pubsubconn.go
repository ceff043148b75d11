// Package pubsubconn connects the commands to Pub/Sub, or to the local emulator that
// PUBSUB_EMULATOR_HOST names, and says what went wrong in words that tell what to do: a
// refused connection at once with how to start the emulator, a missing topic or subscription
// with the stack or prefix its name came from.
package pubsubconn

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// EmulatorHostEnv names the emulator; the client libraries read it too.
const EmulatorHostEnv = "PUBSUB_EMULATOR_HOST"

// StartEmulator is how to start the emulator, for messages.
const StartEmulator = "go run ./cmd/emulator --stack dev"

// ProbeWindow bounds the TCP connections to the emulator that Dial tries first, one every
// probeRetry while they are refused: an emulator started a moment before (`bin/emulator &`)
// gets that long to listen. The client library would retry a refused connection until the
// caller's deadline instead. The commands' tests shorten it.
var ProbeWindow = 3 * time.Second

const probeRetry = 100 * time.Millisecond

// Conn is a Pub/Sub client and where it goes.
type Conn struct {
	Client *pubsub.Client
	// Emulator is the emulator's address; "" for Pub/Sub.
	Emulator string
	// Timeout is the caller's --timeout, for messages.
	Timeout time.Duration

	conn *grpc.ClientConn // the client does not close a connection it was given
}

// Dial connects to the emulator at emulator (host:port) without credentials, once it accepts
// a TCP connection, or, when emulator is "", to Pub/Sub with application default credentials.
func Dial(ctx context.Context, project, emulator string, timeout time.Duration) (*Conn, error) {
	c := &Conn{Emulator: emulator, Timeout: timeout}
	if emulator == "" {
		client, err := pubsub.NewClient(ctx, project)
		if err != nil {
			return nil, fmt.Errorf("creating a Pub/Sub client for project %q: %w (log in with `gcloud auth application-default login`)", project, err)
		}
		c.Client = client
		return c, nil
	}
	if err := probe(ctx, emulator); err != nil {
		return nil, fmt.Errorf("nothing answers at %s=%s within %s: %w\n%s", EmulatorHostEnv, emulator, ProbeWindow, err, c.Hint())
	}
	conn, err := grpc.NewClient(emulator, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("connecting to the emulator at %q (%s): %w", emulator, EmulatorHostEnv, err)
	}
	client, err := pubsub.NewClient(ctx, project, option.WithGRPCConn(conn))
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("creating a client for the emulator at %q: %w", emulator, err)
	}
	c.Client, c.conn = client, conn
	return c, nil
}

// probe connects to addr over TCP, trying again while the connection is refused, for at most
// ProbeWindow.
func probe(ctx context.Context, addr string) error {
	ctx, cancel := context.WithTimeout(ctx, ProbeWindow)
	defer cancel()
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			return c.Close()
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(probeRetry):
		}
	}
}

// Close closes the client and its connection.
func (c *Conn) Close() {
	_ = c.Client.Close()
	if c.conn != nil {
		_ = c.conn.Close()
	}
}

// Where says where the connection goes.
func (c *Conn) Where() string {
	if c.Emulator != "" {
		return fmt.Sprintf("the emulator at %s (%s)", c.Emulator, EmulatorHostEnv)
	}
	return "Pub/Sub (application default credentials)"
}

// Hint says what to check when Pub/Sub or the emulator did not answer.
func (c *Conn) Hint() string {
	if c.Emulator != "" {
		return fmt.Sprintf("Is the emulator running at %s=%s? Start it with `%s` and export the %s and PUBSUB_PROJECT_ID it prints.",
			EmulatorHostEnv, c.Emulator, StartEmulator, EmulatorHostEnv)
	}
	return "Check the credentials (`gcloud auth application-default login`) and that they may use the topic or subscription."
}

// Explain says what went wrong in step: for a missing topic or subscription, that the name
// assumes what assumed says (a stack, a prefix); for no answer, what to check.
func (c *Conn) Explain(step string, err error, assumed string) error {
	code := status.Code(err)
	switch {
	case code == codes.NotFound && c.Emulator != "":
		return fmt.Errorf("%s: %s has no such resource; the name assumes %s (%w)\n"+
			"Does the emulator serve that stack? It serves the one it was started with: `go run ./cmd/emulator --stack <name>`",
			step, c.Where(), assumed, err)
	case code == codes.NotFound:
		return fmt.Errorf("%s: Pub/Sub has no such resource; the name assumes %s (%w)\nIs that stack deployed? `pulumi up` creates it", step, assumed, err)
	case errors.Is(err, context.DeadlineExceeded) || code == codes.DeadlineExceeded || code == codes.Unavailable:
		return fmt.Errorf("%s: no answer from %s within --timeout %s (%w)\n%s", step, c.Where(), c.Timeout, err, c.Hint())
	}
	return fmt.Errorf("%s: %w", step, err)
}
