package relay_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks/relay"
	"github.com/hfhooks/hfhooks/relay/relaystate"
)

// serving is a relay served by Serve on a real loopback listener, as
// "hfhooks relay" serves it.
type serving struct {
	URL  string
	addr string
	rs   *relay.Server
	stop func() // stops it, and waits until it has
}

// serveRelay serves a relay on addr ("127.0.0.1:0" for any port) until
// stop or the end of the test.
func serveRelay(t *testing.T, addr string, opts ...relay.Option) *serving {
	t.Helper()
	rs, err := relay.NewServer(append([]relay.Option{relay.WithLogger(quiet)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rs.Serve(ctx, ln) }()
	s := &serving{URL: "http://" + ln.Addr().String(), addr: ln.Addr().String(), rs: rs}
	stopped := false
	s.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}
	t.Cleanup(s.stop)
	return s
}

// openState opens the state file at path for the test.
func openState(t *testing.T, path string) *relaystate.Store {
	t.Helper()
	st, err := relaystate.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestRestartWithState: a relay with a store restarts mid-session; the
// listener reconnects to the same channel, and the channel's URL works as
// before, without a new channel.
func TestRestartWithState(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "relay.db")
	st := openState(t, path)
	first := serveRelay(t, "127.0.0.1:0", relay.WithStore(st))
	ch := newChannel(t, first.URL)
	local := newRecorder(t)
	created := make(chan relay.Channel, 1)
	connected, _ := listen(t, &relay.Listener{RelayURL: first.URL, Channel: ch, ForwardTo: local.URL,
		OnChannel: func(c relay.Channel) { created <- c }})
	await(t, connected, "connection")

	first.stop()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	second := serveRelay(t, first.addr, relay.WithStore(openState(t, path)))
	if n := second.rs.Stats().Channels; n != 1 {
		t.Fatalf("the restarted relay holds %d channels, want 1", n)
	}
	await(t, connected, "reconnection")
	if code, _, body := post(t, ch.URL+"/webhooks/x", []byte("{}"), nil); code != http.StatusOK {
		t.Fatalf("delivery after the restart: %d %s", code, body)
	}
	if hit := await(t, local.hits, "the delivery"); hit != "POST /webhooks/x" {
		t.Errorf("the local server got %s", hit)
	}
	select {
	case c := <-created:
		t.Errorf("the listener created channel %s; want it to keep its own", c.ID)
	default:
	}
}

// TestRestartWithoutState: a relay without a store restarts; the listener
// finds its channel gone, creates a new one, says so through OnChannel,
// and receives on the new URL.
func TestRestartWithoutState(t *testing.T) {
	t.Parallel()
	first := serveRelay(t, "127.0.0.1:0")
	ch := newChannel(t, first.URL)
	local := newRecorder(t)
	var logs syncBuffer
	created := make(chan relay.Channel, 1)
	connected, _ := listen(t, &relay.Listener{RelayURL: first.URL, Channel: ch, ForwardTo: local.URL,
		Logger:    slogTo(&logs),
		OnChannel: func(c relay.Channel) { created <- c }})
	await(t, connected, "connection")

	first.stop()
	serveRelay(t, first.addr)
	fresh := await(t, created, "a new channel")
	await(t, connected, "reconnection")
	if fresh.ID == ch.ID || !strings.HasPrefix(fresh.URL, first.URL+"/c/") {
		t.Fatalf("new channel %v; want another channel of the relay", fresh)
	}
	if code, _, body := post(t, fresh.URL+"/webhooks/x", []byte("{}"), nil); code != http.StatusOK {
		t.Fatalf("delivery to the new channel: %d %s", code, body)
	}
	await(t, local.hits, "the delivery")
	// One line per change of state: lost, channel gone, new channel,
	// reconnected; the retries in between log nothing at info level.
	waitFor(t, "the reconnected line", func() bool { return strings.Contains(logs.String(), "reconnected to the relay") })
	for _, want := range []string{"relay unreachable; reconnecting with backoff", "the relay no longer knows the channel", "created a new channel"} {
		if n := strings.Count(logs.String(), want); n != 1 {
			t.Errorf("%d lines %q in:\n%s", n, want, logs.String())
		}
	}
}

// TestListenerSurvivesOutage: while the relay is down, the listener keeps
// trying, within its backoff, and does not give up by default.
func TestListenerSurvivesOutage(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "relay.db")
	st := openState(t, path)
	first := serveRelay(t, "127.0.0.1:0", relay.WithStore(st))
	ch := newChannel(t, first.URL)
	attempts := make(chan struct{}, 64)
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		select {
		case attempts <- struct{}{}:
		default:
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	connected, done := listen(t, &relay.Listener{RelayURL: first.URL, Channel: ch, ForwardTo: "http://127.0.0.1:1/webhooks/x", HTTPClient: client})
	await(t, connected, "connection")
	first.stop()
	st.Close()
	for len(attempts) > 0 {
		<-attempts
	}
	for i := range 5 {
		await(t, attempts, fmt.Sprintf("attempt %d during the outage", i+1))
	}
	select {
	case err := <-done:
		t.Fatalf("the listener gave up during the outage: %v", err)
	default:
	}
	serveRelay(t, first.addr, relay.WithStore(openState(t, path)))
	await(t, connected, "reconnection after the outage")
}

// TestNewChannelRefused: when the relay refuses to create the channel the
// listener needs (here: a wrong relay token), Run ends with that error.
func TestNewChannelRefused(t *testing.T) {
	t.Parallel()
	rt := newRelay(t, relay.WithCreateToken("right"))
	_, done := listen(t, &relay.Listener{RelayURL: rt.URL, RelayToken: "wrong", ForwardTo: "http://127.0.0.1:1/webhooks/x"})
	err := await(t, done, "Run's end")
	var herr *relay.HTTPError
	if !errors.As(err, &herr) || herr.StatusCode != http.StatusUnauthorized {
		t.Errorf("Run: %v; want the relay's 401", err)
	}
}

// roundTripFunc is an http.RoundTripper of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// slogTo is a text logger writing to w.
func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// waitFor polls cond until it holds, or fails the test after a few seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
