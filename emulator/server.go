package emulator

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cloud.google.com/go/pubsub/v2"
	"cloud.google.com/go/pubsub/v2/pstest"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// DefaultListen is where the emulator listens unless told otherwise; 8085 is the port of
// gcloud's Pub/Sub emulator, so clients configured for that work unchanged.
const DefaultListen = "127.0.0.1:8085"

// ListenError is a --listen address the emulator refuses.
type ListenError struct {
	Addr, Reason string
}

func (e *ListenError) Error() string { return fmt.Sprintf("listen address %q: %s", e.Addr, e.Reason) }

// CheckListen accepts only loopback addresses (127.0.0.0/8, ::1, localhost) with a port: the
// emulator has no authentication, so anyone who reaches it can read and publish every message.
func CheckListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return &ListenError{addr, "want host:port, such as " + DefaultListen}
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return &ListenError{addr, fmt.Sprintf("port %q is not a number between 0 and 65535", port)}
	}
	if strings.EqualFold(host, "localhost") {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return &ListenError{addr, "only loopback addresses are allowed (127.0.0.0/8, ::1, localhost): the emulator has no authentication"}
	}
	return nil
}

// Server is a running emulator: a pstest server holding a stack's topology.
type Server struct {
	// Addr is the address the server listens on, the value of PUBSUB_EMULATOR_HOST.
	Addr     string
	Topology *Topology

	srv   *pstest.Server
	mu    sync.Mutex
	conns []*grpc.ClientConn
	// offset is added to the wall clock the server reads; the rehearsal moves it forward to
	// expire ack deadlines without waiting for them.
	offset atomic.Int64

	closeOnce sync.Once
	closeErr  error
}

// Start listens on addr (a loopback address; port 0 picks a free one) and creates the
// topology's topics and subscriptions. Reactors change how the server answers a call; tests
// use them (the command serves pstest's own answers).
func Start(ctx context.Context, t *Topology, addr string, reactors ...pstest.ServerReactorOption) (*Server, error) {
	if err := CheckListen(addr); err != nil {
		return nil, err
	}
	srv, err := newPstest(addr, reactors)
	if err != nil {
		return nil, err
	}
	s := &Server{Addr: srv.Addr, Topology: t, srv: srv}
	srv.SetTimeNowFunc(func() time.Time { return time.Now().Add(time.Duration(s.offset.Load())) })
	for _, topic := range t.Topics {
		if _, err := srv.GServer.CreateTopic(ctx, topic); err != nil {
			_ = srv.Close()
			return nil, fmt.Errorf("creating topic %q: %w", topic.Name, err)
		}
	}
	for _, sub := range t.Subscriptions {
		if _, err := srv.GServer.CreateSubscription(ctx, sub); err != nil {
			_ = srv.Close()
			return nil, fmt.Errorf("creating subscription %q: %w", sub.Name, err)
		}
	}
	return s, nil
}

// newPstest starts a pstest server on addr. pstest panics when it cannot listen; this returns
// the error instead.
func newPstest(addr string, reactors []pstest.ServerReactorOption) (srv *pstest.Server, err error) {
	defer func() {
		if r := recover(); r != nil {
			msg := fmt.Sprint(r)
			if strings.Contains(msg, "address already in use") {
				err = fmt.Errorf("listening on %q: the address is in use (is another emulator running? choose another port with --listen)", addr)
				return
			}
			err = fmt.Errorf("listening on %q: %s", addr, strings.TrimPrefix(msg, "pstest.initNewServer: "))
		}
	}()
	return pstest.NewServerWithAddress(addr, reactors...), nil
}

// advance moves the server's clock forward by d.
func (s *Server) advance(d time.Duration) { s.offset.Add(int64(d)) }

// Client returns a client of the official library connected to the server, in the stack's
// project, without credentials.
func (s *Server) Client(ctx context.Context) (*pubsub.Client, error) {
	conn, err := grpc.NewClient(s.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, fmt.Errorf("connecting to the emulator at %s: %w", s.Addr, err)
	}
	c, err := pubsub.NewClient(ctx, s.Topology.Project, option.WithGRPCConn(conn))
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("creating a client for the emulator at %s: %w", s.Addr, err)
	}
	// The client does not own a connection it was given; the server closes it.
	s.mu.Lock()
	s.conns = append(s.conns, conn)
	s.mu.Unlock()
	return c, nil
}

// Close closes the clients' connections and stops the server; queued messages are lost. It
// may be called again.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		for _, c := range s.conns {
			_ = c.Close()
		}
		s.conns = nil
		s.mu.Unlock()
		s.closeErr = s.srv.Close()
	})
	return s.closeErr
}
