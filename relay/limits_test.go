package relay_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks/relay"
)

// rawPost opens a connection to addr and sends the headers of a POST to
// path that announces contentLength bytes of body (none if negative:
// chunked), then body. It returns the connection, to read the answer
// from or to keep idle.
func rawPost(t *testing.T, addr, path string, contentLength int, body []byte) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	length := fmt.Sprintf("Content-Length: %d\r\n", contentLength)
	if contentLength < 0 {
		length = "Transfer-Encoding: chunked\r\n"
	}
	if _, err := fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n%s\r\n", path, addr, length); err != nil {
		t.Fatal(err)
	}
	if len(body) > 0 {
		go func() { _, _ = c.Write(body) }() // may block: the relay need not read it
	}
	return c
}

// answerOf reads the answer on c: its status and body.
func answerOf(t *testing.T, c net.Conn) (int, string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// pathOf is the path of a channel URL.
func pathOf(ch relay.Channel, relayURL string) string { return strings.TrimPrefix(ch.URL, relayURL) }

// waitStats waits until the relay's stats satisfy cond.
func waitStats(t *testing.T, rs *relay.Server, what string, cond func(relay.Stats) bool) {
	t.Helper()
	waitFor(t, what, func() bool { return cond(rs.Stats()) })
}

// TestLimitsBeforeBody: the channel, listener, pending, buffer and size
// limits answer before the body is read (the requests here send none),
// each with its own status and message; a body that does not arrive gets
// 408 after the read timeout.
func TestLimitsBeforeBody(t *testing.T) {
	t.Parallel()
	s := serveRelay(t, "127.0.0.1:0", relay.WithMaxPending(2), relay.WithMaxBufferedBytes(2500),
		relay.WithMaxBodyBytes(2000), relay.WithReadTimeout(200*time.Millisecond))
	idle := newChannel(t, s.URL) // no listener
	ch := newChannel(t, s.URL)
	slow, _, _ := newSlow(t)
	connected, _ := listen(t, &relay.Listener{RelayURL: s.URL, Channel: ch, ForwardTo: slow.URL + "/webhooks/x"})
	await(t, connected, "connection")
	other := newChannel(t, s.URL)
	connected, _ = listen(t, &relay.Listener{RelayURL: s.URL, Channel: other, ForwardTo: slow.URL + "/webhooks/x"})
	await(t, connected, "connection")

	// Two bodies announced, not sent: they hold the channel's two
	// pending slots and 2000 bytes of the relay's buffer.
	stalled := []net.Conn{rawPost(t, s.addr, pathOf(ch, s.URL), 1000, nil), rawPost(t, s.addr, pathOf(ch, s.URL), 1000, nil)}
	waitStats(t, s.rs, "two bodies reserved", func(st relay.Stats) bool { return st.BufferedBytes == 2000 })

	tests := []struct {
		name   string
		path   string
		length int
		status int
		msg    string
	}{
		{"unknown channel", "/c/NOPE", 10, http.StatusNotFound, "no such channel on this relay"},
		{"no listener", pathOf(idle, s.URL), 10, http.StatusServiceUnavailable, "no listener is connected to this channel"},
		{"too large", pathOf(other, s.URL), 2001, http.StatusRequestEntityTooLarge, "larger than this relay's limit of 2000 bytes"},
		{"pending", pathOf(ch, s.URL), 10, http.StatusTooManyRequests, "this channel's limit is 2"},
		{"buffer", pathOf(other, s.URL), 1000, http.StatusServiceUnavailable, "maximum of 2500 bytes of deliveries across all channels"},
		{"buffer, chunked", pathOf(other, s.URL), -1, http.StatusServiceUnavailable, "maximum of 2500 bytes of deliveries across all channels"},
	}
	for _, tt := range tests {
		code, body := answerOf(t, rawPost(t, s.addr, tt.path, tt.length, nil))
		if code != tt.status || !strings.Contains(body, tt.msg) {
			t.Errorf("%s: %d %s; want %d and %q", tt.name, code, body, tt.status, tt.msg)
		}
	}
	for _, c := range stalled {
		if code, body := answerOf(t, c); code != http.StatusRequestTimeout || !strings.Contains(body, "did not arrive within this relay's read timeout of 200ms") {
			t.Errorf("stalled body: %d %s", code, body)
		}
	}
	waitStats(t, s.rs, "the buffer released", func(st relay.Stats) bool { return st.BufferedBytes == 0 && st.Deliveries == 0 })
}

// TestConnectionTimeouts: a connection that sends half its headers, or
// none, or idles after a request, is closed after its timeout.
func TestConnectionTimeouts(t *testing.T) {
	t.Parallel()
	s := serveRelay(t, "127.0.0.1:0", relay.WithReadTimeout(100*time.Millisecond), relay.WithIdleTimeout(100*time.Millisecond))
	closedWithin := func(name string, c net.Conn, within time.Duration) {
		t.Helper()
		start := time.Now()
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := io.Copy(io.Discard, c)
		if err != nil || time.Since(start) > within {
			t.Errorf("%s: closed after %s (%v); want within %s", name, time.Since(start), err, within)
		}
	}
	dial := func() net.Conn {
		c, err := net.Dial("tcp", s.addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	silent := dial()
	half := dial()
	io.WriteString(half, "POST /channels HTTP/1.1\r\nHost: x\r\n")
	kept := dial()
	io.WriteString(kept, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	closedWithin("no request", silent, time.Second)
	closedWithin("half the headers", half, time.Second)
	closedWithin("idle after a request", kept, time.Second)
}

// TestCreateRate: channel creation is limited per client address, with
// Retry-After; behind a trusted proxy, the address is the one it appended
// to X-Forwarded-For, and without one the header is ignored.
func TestCreateRate(t *testing.T) {
	t.Parallel()
	create := func(relayURL, forwardedFor string) (int, string, string) {
		req, _ := http.NewRequestWithContext(ctxT(t), http.MethodPost, relayURL+"/channels", nil)
		if forwardedFor != "" {
			req.Header.Set("X-Forwarded-For", forwardedFor)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Retry-After"), string(b)
	}
	t.Run("direct", func(t *testing.T) {
		rt := newRelay(t, relay.WithCreateRate(2, time.Hour))
		for i, ff := range []string{"1.1.1.1", "2.2.2.2"} { // ignored: no proxy is trusted
			if code, _, body := create(rt.URL, ff); code != http.StatusCreated {
				t.Fatalf("channel %d: %d %s", i+1, code, body)
			}
		}
		code, retry, body := create(rt.URL, "3.3.3.3")
		if code != http.StatusTooManyRequests || retry != "3600" || !strings.Contains(body, "too many channels created from this address: the relay allows 2, then one every 1h0m0s") {
			t.Errorf("third channel: %d Retry-After %q %s", code, retry, body)
		}
	})
	t.Run("behind a proxy", func(t *testing.T) {
		rt := newRelay(t, relay.WithCreateRate(1, time.Hour), relay.WithTrustedProxies(1))
		tests := []struct {
			forwardedFor string
			status       int
		}{
			{"9.9.9.9, 1.1.1.1", http.StatusCreated},
			{"8.8.8.8, 1.1.1.1", http.StatusTooManyRequests}, // the client's own entry is not trusted
			{"2.2.2.2", http.StatusCreated},
			{"2001:db8::1", http.StatusCreated},
			{"2001:db8::2", http.StatusTooManyRequests}, // the same /64
		}
		for _, tt := range tests {
			if code, _, body := create(rt.URL, tt.forwardedFor); code != tt.status {
				t.Errorf("X-Forwarded-For %s: %d %s; want %d", tt.forwardedFor, code, body, tt.status)
			}
		}
	})
}

// TestUnclaimedExpiry: a channel no listener ever connected to expires
// after the unclaimed expiry; one that had a listener is kept for the
// idle expiry.
func TestUnclaimedExpiry(t *testing.T) {
	t.Parallel()
	rt := newRelay(t, relay.WithMaxChannels(1), relay.WithUnclaimedExpiry(30*time.Millisecond))
	unclaimed := newChannel(t, rt.URL)
	waitFor(t, "the unclaimed channel to expire", func() bool {
		_, err := relay.CreateChannel(ctxT(t), nil, rt.URL, "")
		return err == nil
	})
	if code, _, _ := post(t, unclaimed.URL, []byte("{}"), nil); code != http.StatusNotFound {
		t.Errorf("delivery to the expired channel: %d", code)
	}

	rt = newRelay(t, relay.WithMaxChannels(1), relay.WithUnclaimedExpiry(30*time.Millisecond))
	claimed := newChannel(t, rt.URL)
	ctx, cancel := context.WithCancel(context.Background())
	l := &relay.Listener{RelayURL: rt.URL, Channel: claimed, ForwardTo: "http://127.0.0.1:1/webhooks/x", Logger: quiet}
	connected := make(chan struct{}, 1)
	l.OnConnect = func() { connected <- struct{}{} }
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	await(t, connected, "connection")
	cancel()
	await(t, done, "the listener's end")
	time.Sleep(60 * time.Millisecond) // twice the unclaimed expiry: a span of time, not an event
	if _, err := relay.CreateChannel(ctxT(t), nil, rt.URL, ""); err == nil || !strings.Contains(err.Error(), "maximum of 1 channels") {
		t.Errorf("creating a channel while the claimed one is kept: %v", err)
	}
}

// killable is an HTTP client whose connections can all be cut at once,
// and which dials no more after that: a listener process killed.
type killable struct {
	mu    sync.Mutex
	conns []net.Conn
	dead  bool
}

func (k *killable) client() *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		k.mu.Lock()
		defer k.mu.Unlock()
		if k.dead {
			return nil, errors.New("killed")
		}
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			k.conns = append(k.conns, c)
		}
		return c, err
	}}}
}

func (k *killable) kill() {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.dead = true
	for _, c := range k.conns {
		c.Close()
	}
}

// TestListenerKilledMidDelivery: when the listener's connection drops
// while the local server works on a delivery, the sender gets 503 at once
// (well within a second), not the 504 of the response timeout.
func TestListenerKilledMidDelivery(t *testing.T) {
	t.Parallel()
	rt := newRelay(t)
	ch := newChannel(t, rt.URL)
	slow, arrived, _ := newSlow(t)
	var k killable
	connected, _ := listen(t, &relay.Listener{RelayURL: rt.URL, Channel: ch, ForwardTo: slow.URL + "/webhooks/x", HTTPClient: k.client()})
	await(t, connected, "connection")
	type result struct {
		code int
		body string
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Post(ch.URL, "application/json", strings.NewReader("{}"))
		if err != nil {
			res <- result{0, err.Error()}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		res <- result{resp.StatusCode, string(b)}
	}()
	await(t, arrived, "the delivery at the local server")
	killed := time.Now()
	k.kill()
	r := await(t, res, "the sender's answer")
	if took := time.Since(killed); r.code != http.StatusServiceUnavailable || !strings.Contains(r.body, "the listener disconnected before answering") || took > time.Second {
		t.Errorf("sender got %d %s after %s; want 503 within a second", r.code, r.body, took)
	}
}

// TestAbuseBoundedMemory: 120 connections each announce and send a body
// of 1 MiB minus one byte to a channel, then stall; the relay answers the
// ones over its limits at once without reading them, and those it admits
// 408 after the read timeout; its heap grows by about its buffer cap, not
// by the 120 MiB sent.
func TestAbuseBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 120 MiB over loopback")
	}
	const (
		conns    = 120
		size     = 1<<20 - 1
		capBytes = 4 << 20
	)
	s := serveRelay(t, "127.0.0.1:0", relay.WithMaxBufferedBytes(capBytes), relay.WithReadTimeout(500*time.Millisecond))
	ch := newChannel(t, s.URL)
	slow, _, _ := newSlow(t)
	connected, _ := listen(t, &relay.Listener{RelayURL: s.URL, Channel: ch, ForwardTo: slow.URL + "/webhooks/x"})
	await(t, connected, "connection")
	body := make([]byte, size-1) // one byte short: the body never completes

	before := heapInUse()
	answers := make(chan int, conns)
	var sent sync.WaitGroup
	for range conns {
		c := rawPost(t, s.addr, pathOf(ch, s.URL), size, body)
		sent.Add(1)
		go func() {
			defer sent.Done()
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				answers <- 0
				return
			}
			resp.Body.Close()
			answers <- resp.StatusCode
		}()
	}
	waitStats(t, s.rs, "the buffer to fill", func(st relay.Stats) bool { return st.BufferedBytes > capBytes-size })
	peak := heapInUse()
	sent.Wait()
	close(answers)
	counts := map[int]int{}
	for code := range answers {
		counts[code]++
	}
	if counts[http.StatusTooManyRequests]+counts[http.StatusServiceUnavailable]+counts[http.StatusRequestTimeout] != conns || counts[http.StatusRequestTimeout] == 0 {
		t.Errorf("answers by status: %v; want 429, 503 and 408 only", counts)
	}
	if grew := int64(peak) - int64(before); grew > capBytes+16<<20 {
		t.Errorf("the heap grew by %d MiB under abuse; want about the %d MiB cap", grew>>20, capBytes>>20)
	}
	t.Logf("heap: %d MiB before, %d MiB at the peak; answers %v", before>>20, peak>>20, counts)
}

// heapInUse is the heap in use after a collection.
func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestReadTimeoutSparesWaits: the read timeout bounds reading requests
// only: a listener's stream outlives it, and so does a delivery whose
// local answer takes longer.
func TestReadTimeoutSparesWaits(t *testing.T) {
	t.Parallel()
	const readTimeout = 50 * time.Millisecond
	s := serveRelay(t, "127.0.0.1:0", relay.WithReadTimeout(readTimeout))
	ch := newChannel(t, s.URL)
	local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(3 * readTimeout) // answers after the read timeout
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, "late but here")
	}))
	t.Cleanup(local.Close)
	connected, _ := listen(t, &relay.Listener{RelayURL: s.URL, Channel: ch, ForwardTo: local.URL + "/webhooks/x"})
	await(t, connected, "connection")
	time.Sleep(3 * readTimeout) // the stream lives past the read timeout: a span of time, not an event
	if code, _, body := post(t, ch.URL, []byte("{}"), nil); code != http.StatusAccepted || body != "late but here" {
		t.Errorf("delivery: %d %q; want the local 202", code, body)
	}
	select {
	case <-connected:
		t.Error("the listener reconnected: its stream did not outlive the read timeout")
	default:
	}
}
