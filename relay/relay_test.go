package relay_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/hub"
	"github.com/hfhooks/hfhooks/hubtest"
	"github.com/hfhooks/hfhooks/relay"
)

var quiet = slog.New(slog.DiscardHandler)

// ctxT is a context that ends with the test or after 10 s.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newRelay starts a relay on loopback for the test.
func newRelay(t *testing.T, opts ...relay.Option) *httptest.Server {
	t.Helper()
	rs, err := relay.NewServer(append([]relay.Option{relay.WithLogger(quiet)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(rs)
	t.Cleanup(func() {
		rs.Close() // ends the streams, which httptest's Close would wait for
		ts.Close()
	})
	return ts
}

func newChannel(t *testing.T, relayURL string) relay.Channel {
	t.Helper()
	ch, err := relay.CreateChannel(ctxT(t), nil, relayURL, "")
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// got is what the receiver's handler saw.
type got struct {
	sum    [sha256.Size]byte
	secret string
	repo   string
}

// newReceiver is a real hfhooks.Server with the webhook "hook" and secret;
// it fails with 500 for the repo acme/fail.
func newReceiver(t *testing.T, secret string) (*httptest.Server, <-chan got) {
	t.Helper()
	seen := make(chan got, 16)
	srv := hfhooks.NewServer(hfhooks.WithSecret(secret), hfhooks.WithLogger(quiet), hfhooks.WithOutput(io.Discard))
	if err := srv.AddEndpoint("hook", func(_ context.Context, d *hfhooks.Delivery) (any, error) {
		seen <- got{sha256.Sum256(d.Body), d.Header.Get(hfhooks.SecretHeader), d.Payload.Repo.Name}
		if d.Payload.Repo.Name == "acme/fail" {
			return nil, hfhooks.Error("failing as asked", http.StatusInternalServerError)
		}
		return map[string]string{"ok": "yes"}, nil
	}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts, seen
}

// listen runs a Listener until the test ends; connected gets a value on
// each connection, and the returned channel Run's result.
func listen(t *testing.T, l *relay.Listener) (connected <-chan struct{}, done <-chan error) {
	t.Helper()
	conn := make(chan struct{}, 16)
	res := make(chan error, 1)
	stopped := make(chan struct{})
	if l.Logger == nil {
		l.Logger = quiet
	}
	l.Backoff, l.MaxBackoff = 5*time.Millisecond, 20*time.Millisecond
	l.OnConnect = func() { conn <- struct{}{} }
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		defer close(stopped)
		res <- l.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-stopped:
		case <-time.After(5 * time.Second):
			t.Error("the listener did not stop")
		}
	})
	return conn, res
}

// await waits for a value from c, or fails the test.
func await[T any](t *testing.T, c <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	panic("unreachable")
}

// newHub starts an emulator with a webhook on url and secret that watches
// the org acme, and the webhook's id; retries wait every.
func newHub(t *testing.T, url, secret string, every time.Duration, retries int) (*hubtest.Server, string) {
	t.Helper()
	waits := make([]time.Duration, retries)
	for i := range waits {
		waits[i] = every
	}
	h := hubtest.NewServer(hubtest.WithRetrySchedule(waits...), hubtest.WithTimeout(5*time.Second))
	t.Cleanup(h.Close)
	c, err := hub.NewClient(hub.WithEndpoint(h.URL), hub.WithToken(h.Token), hub.WithRetry(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	w, err := c.CreateWebhook(ctxT(t), hub.CreateWebhookOptions{URL: url, Secret: secret, Watched: []hub.WatchedItem{{Type: hub.WatchedOrg, Name: "acme"}}})
	if err != nil {
		t.Fatal(err)
	}
	return h, w.ID
}

// current returns delivery id of webhook hookID as it is now.
func current(t *testing.T, h *hubtest.Server, hookID, id string) hubtest.Delivery {
	t.Helper()
	acts, err := h.Activity(hookID)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range acts {
		if d.ID == id {
			return d
		}
	}
	t.Fatalf("no delivery %s in the activity", id)
	return hubtest.Delivery{}
}

// emit makes the Hub emit a repo.content event on repo and returns the
// delivery's id.
func emit(t *testing.T, h *hubtest.Server, repo string) string {
	t.Helper()
	e, err := h.Emit(ctxT(t), hubtest.Event{Kind: "repo.content", Repo: repo})
	if err != nil || len(e.Deliveries) != 1 {
		t.Fatalf("emit: %+v, %v", e, err)
	}
	return e.Deliveries[0].ID
}

func waitDelivery(t *testing.T, h *hubtest.Server, id string) hubtest.Delivery {
	t.Helper()
	d, err := h.WaitForDelivery(ctxT(t), id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestHubThroughRelay: Hub emulator → relay → listener → hfhooks server.
// The body arrives byte for byte with its secret, and the Hub's activity
// shows the local status.
func TestHubThroughRelay(t *testing.T) {
	rcv, seen := newReceiver(t, "s3cret")
	rt := newRelay(t)
	ch := newChannel(t, rt.URL)
	forwarded := make(chan relay.Forwarded, 16)
	connected, _ := listen(t, &relay.Listener{RelayURL: rt.URL, Channel: ch, ForwardTo: rcv.URL, OnForward: func(f relay.Forwarded) { forwarded <- f }})
	await(t, connected, "connection")
	h, _ := newHub(t, ch.URL+"/webhooks/hook", "s3cret", 5*time.Millisecond, 1)

	d := waitDelivery(t, h, emit(t, h, "dataset:acme/reviews"))
	if d.State != hubtest.StateDelivered || d.Attempts[0].StatusCode != http.StatusOK {
		t.Fatalf("delivery: %+v", d)
	}
	g := await(t, seen, "the receiver")
	if g.sum != sha256.Sum256(d.Payload) || g.secret != "s3cret" || g.repo != "acme/reviews" {
		t.Errorf("receiver saw %+v; want the Hub's body (sha256 %x) and secret", g, sha256.Sum256(d.Payload))
	}

	d = waitDelivery(t, h, emit(t, h, "model:acme/fail"))
	if d.State != hubtest.StateFailed || len(d.Attempts) != 2 {
		t.Fatalf("failing delivery: %+v", d)
	}
	for _, a := range d.Attempts {
		if a.StatusCode != http.StatusInternalServerError || !strings.Contains(a.Error, "failing as asked") {
			t.Errorf("attempt: %+v; want the local 500 and its body", a)
		}
	}

	// OnForward runs after the answer went back, so the Hub may be on to
	// the next delivery already: find the forward by its repo.
	var f relay.Forwarded
	for range 3 {
		if g := await(t, forwarded, "a forward"); g.Repo == "dataset:acme/reviews" {
			f = g
		}
	}
	if f.Scope != "repo.content" || f.Action != "update" || f.Repo != "dataset:acme/reviews" || f.Status != 200 || f.Target != rcv.URL+"/webhooks/hook" || f.Err != nil {
		t.Errorf("forward of acme/reviews: %+v", f)
	}
}

// TestNoListenerThenRetry: without a listener the relay answers 503, and the
// Hub's retry goes through once a listener connects.
func TestNoListenerThenRetry(t *testing.T) {
	rcv, seen := newReceiver(t, "")
	rt := newRelay(t)
	ch := newChannel(t, rt.URL)
	h, hookID := newHub(t, ch.URL+"/webhooks/hook", "", 50*time.Millisecond, 100)
	id := emit(t, h, "model:acme/late")

	deadline := time.Now().Add(5 * time.Second)
	for {
		if time.Now().After(deadline) {
			t.Fatal("no 503 attempt in the activity")
		}
		d := current(t, h, hookID, id)
		if len(d.Attempts) > 0 {
			if a := d.Attempts[0]; a.StatusCode != http.StatusServiceUnavailable || !strings.Contains(a.Error, "no listener") {
				t.Fatalf("first attempt: %+v", a)
			}
			break
		}
		time.Sleep(5 * time.Millisecond)
	}

	connected, _ := listen(t, &relay.Listener{RelayURL: rt.URL, Channel: ch, ForwardTo: rcv.URL})
	await(t, connected, "connection")
	d := waitDelivery(t, h, id)
	if d.State != hubtest.StateDelivered || d.Attempts[len(d.Attempts)-1].StatusCode != http.StatusOK {
		t.Fatalf("delivery: %+v", d)
	}
	await(t, seen, "the receiver")
}

// TestReconnect: when the relay drops the stream, the listener reconnects
// and the next delivery arrives.
func TestReconnect(t *testing.T) {
	rcv, seen := newReceiver(t, "")
	rt := newRelay(t)
	ch := newChannel(t, rt.URL)
	connected, _ := listen(t, &relay.Listener{RelayURL: rt.URL, Channel: ch, ForwardTo: rcv.URL})
	await(t, connected, "connection")
	h, _ := newHub(t, ch.URL+"/webhooks/hook", "", 20*time.Millisecond, 50)
	if d := waitDelivery(t, h, emit(t, h, "model:acme/one")); d.State != hubtest.StateDelivered {
		t.Fatalf("before the drop: %+v", d)
	}
	await(t, seen, "the first delivery")

	rt.CloseClientConnections() // drops the stream, server side
	await(t, connected, "reconnection")
	if d := waitDelivery(t, h, emit(t, h, "model:acme/two")); d.State != hubtest.StateDelivered {
		t.Fatalf("after the drop: %+v", d)
	}
	if g := await(t, seen, "the second delivery"); g.repo != "acme/two" {
		t.Errorf("got %+v", g)
	}
}

// TestListenRefused: a wrong token and a second listener each end Run
// with a clear error; no reconnect can cure them.
func TestListenRefused(t *testing.T) {
	rt := newRelay(t)
	ch := newChannel(t, rt.URL)
	tests := []struct {
		name string
		ch   relay.Channel
		want string
	}{
		{"wrong token", relay.Channel{ID: ch.ID, Token: "not-the-token"}, "403 Forbidden: wrong token for channel " + ch.ID},
		{"no token", relay.Channel{ID: ch.ID}, "401 Unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, done := listen(t, &relay.Listener{RelayURL: rt.URL, Channel: tt.ch, ForwardTo: "http://127.0.0.1:1"})
			if err := await(t, done, "Run's end"); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run: %v; want %q", err, tt.want)
			}
		})
	}

	t.Run("replaced", func(t *testing.T) {
		conn1, done1 := listen(t, &relay.Listener{RelayURL: rt.URL, Channel: ch, ForwardTo: "http://127.0.0.1:1"})
		await(t, conn1, "first connection")
		conn2, _ := listen(t, &relay.Listener{RelayURL: rt.URL, Channel: ch, ForwardTo: "http://127.0.0.1:1"})
		await(t, conn2, "second connection")
		if err := await(t, done1, "the first listener's end"); !errors.Is(err, relay.ErrReplaced) {
			t.Errorf("first listener: %v; want ErrReplaced", err)
		}
	})

	t.Run("gives up", func(t *testing.T) {
		_, done := listen(t, &relay.Listener{RelayURL: "http://127.0.0.1:1", Channel: ch, ForwardTo: "http://127.0.0.1:1", MaxReconnects: 2})
		if err := await(t, done, "Run's end"); err == nil || !strings.Contains(err.Error(), "giving up after 3 failed connection attempts") {
			t.Errorf("Run: %v", err)
		}
	})
}

// post sends body to url with headers and returns the status, the
// Content-Type and the body of the answer.
func post(t *testing.T, url string, body []byte, header http.Header) (int, string, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
}

// TestBytesAndHeaders: any body crosses the relay unchanged, with its path
// and query; only Content-Type and X-Webhook-Secret go along; the local
// status, Content-Type and body come back.
func TestBytesAndHeaders(t *testing.T) {
	type request struct {
		path   string
		body   []byte
		header http.Header
	}
	reqs := make(chan request, 1)
	local := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		reqs <- request{r.URL.RequestURI(), b, r.Header.Clone()}
		w.Header().Set("Content-Type", "text/x-teapot")
		w.Header().Set("X-Local-Only", "1")
		w.WriteHeader(http.StatusTeapot)
		io.WriteString(w, "short and stout")
	}))
	t.Cleanup(local.Close)
	rt := newRelay(t)
	ch := newChannel(t, rt.URL)
	connected, _ := listen(t, &relay.Listener{RelayURL: rt.URL, Channel: ch, ForwardTo: local.URL + "/base/"})
	await(t, connected, "connection")

	body := []byte("{\"a\": 1,  \"b\":\"\u2028<&>\"}\n\x00\xff trailing  ")
	status, ctype, answer := post(t, ch.URL+"/webhooks/x%20y?secret=q&hfhooks-listen=1", body, http.Header{
		"Content-Type":     {"application/json; charset=weird"},
		"X-Webhook-Secret": {"s3cret"},
		"X-Other":          {"dropped"},
		"Authorization":    {"Bearer dropped"},
	})
	if status != http.StatusTeapot || ctype != "text/x-teapot" || answer != "short and stout" {
		t.Errorf("answer: %d %q %q", status, ctype, answer)
	}
	r := await(t, reqs, "the local request")
	if !bytes.Equal(r.body, body) {
		t.Errorf("body: %q, want %q", r.body, body)
	}
	if r.path != "/base/webhooks/x%20y?secret=q&hfhooks-listen=1" {
		t.Errorf("path: %q", r.path)
	}
	if r.header.Get("Content-Type") != "application/json; charset=weird" || r.header.Get("X-Webhook-Secret") != "s3cret" || r.header.Get("X-Other") != "" || r.header.Get("Authorization") != "" {
		t.Errorf("headers: %v", r.header)
	}
}

// newSlow starts a local server that holds each request until it is
// released, and says when one arrives.
func newSlow(t *testing.T) (srv *httptest.Server, arrived <-chan struct{}, release chan<- struct{}) {
	rel, arr := make(chan struct{}), make(chan struct{}, 16)
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body) // so that the server notices when the client goes
		arr <- struct{}{}
		select {
		case <-rel:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	return srv, arr, rel
}

// TestLimits: each limit answers with its own status and message.
func TestLimits(t *testing.T) {
	t.Run("no listener", func(t *testing.T) {
		rt := newRelay(t)
		ch := newChannel(t, rt.URL)
		if code, _, body := post(t, ch.URL, []byte("{}"), nil); code != http.StatusServiceUnavailable || !strings.Contains(body, "no listener is connected") {
			t.Errorf("%d %s", code, body)
		}
	})
	t.Run("unknown channel and method", func(t *testing.T) {
		rt := newRelay(t)
		if code, _, body := post(t, rt.URL+"/c/nope/webhooks/x", []byte("{}"), nil); code != http.StatusNotFound || !strings.Contains(body, "no such channel") {
			t.Errorf("%d %s", code, body)
		}
		resp, err := http.Get(newChannel(t, rt.URL).URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("GET: %d", resp.StatusCode)
		}
	})
	t.Run("channels", func(t *testing.T) {
		rt := newRelay(t, relay.WithMaxChannels(1))
		newChannel(t, rt.URL)
		if _, err := relay.CreateChannel(ctxT(t), nil, rt.URL, ""); err == nil || !strings.Contains(err.Error(), "503 Service Unavailable: the relay holds its maximum of 1 channels") {
			t.Errorf("second channel: %v", err)
		}
	})
	t.Run("create token", func(t *testing.T) {
		rt := newRelay(t, relay.WithCreateToken("relay-token"))
		if _, err := relay.CreateChannel(ctxT(t), nil, rt.URL, "wrong"); err == nil || !strings.Contains(err.Error(), "401 Unauthorized: creating a channel needs this relay's token") {
			t.Errorf("wrong token: %v", err)
		}
		if _, err := relay.CreateChannel(ctxT(t), nil, rt.URL, "relay-token"); err != nil {
			t.Errorf("right token: %v", err)
		}
	})
	t.Run("idle expiry", func(t *testing.T) {
		rt := newRelay(t, relay.WithMaxChannels(1), relay.WithIdleExpiry(20*time.Millisecond))
		old := newChannel(t, rt.URL)
		deadline := time.Now().Add(5 * time.Second)
		for {
			if _, err := relay.CreateChannel(ctxT(t), nil, rt.URL, ""); err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("the idle channel never expired")
			}
			time.Sleep(5 * time.Millisecond)
		}
		if code, _, _ := post(t, old.URL, []byte("{}"), nil); code != http.StatusNotFound {
			t.Errorf("delivery to the expired channel: %d", code)
		}
	})
	t.Run("body size", func(t *testing.T) {
		rt := newRelay(t, relay.WithMaxBodyBytes(10))
		ch := newChannel(t, rt.URL)
		if code, _, body := post(t, ch.URL, []byte(strings.Repeat("x", 11)), nil); code != http.StatusRequestEntityTooLarge || !strings.Contains(body, "limit of 10 bytes") {
			t.Errorf("%d %s", code, body)
		}
	})

	t.Run("response timeout", func(t *testing.T) {
		rt := newRelay(t, relay.WithResponseTimeout(50*time.Millisecond))
		ch := newChannel(t, rt.URL)
		slow, _, _ := newSlow(t)
		connected, _ := listen(t, &relay.Listener{RelayURL: rt.URL, Channel: ch, ForwardTo: slow.URL + "/webhooks/slow"})
		await(t, connected, "connection")
		if code, _, body := post(t, ch.URL, []byte("{}"), nil); code != http.StatusGatewayTimeout || !strings.Contains(body, "did not answer within 50ms") {
			t.Errorf("%d %s", code, body)
		}
	})
	t.Run("pending", func(t *testing.T) {
		rt := newRelay(t, relay.WithMaxPending(1))
		ch := newChannel(t, rt.URL)
		slow, arrived, release := newSlow(t)
		connected, _ := listen(t, &relay.Listener{RelayURL: rt.URL, Channel: ch, ForwardTo: slow.URL + "/webhooks/slow"})
		await(t, connected, "connection")
		first := make(chan int, 1)
		go func() {
			resp, err := http.Post(ch.URL, "application/json", strings.NewReader("{}"))
			if err != nil {
				first <- 0
				return
			}
			resp.Body.Close()
			first <- resp.StatusCode
		}()
		await(t, arrived, "the first delivery at the local server")
		if code, _, body := post(t, ch.URL, []byte("{}"), nil); code != http.StatusTooManyRequests || !strings.Contains(body, "too many deliveries are waiting") {
			t.Errorf("second delivery: %d %s", code, body)
		}
		release <- struct{}{}
		if code := await(t, first, "the first delivery"); code != http.StatusOK {
			t.Errorf("first delivery: %d", code)
		}
	})
}

func TestIsTemporaryWebhookURL(t *testing.T) {
	tests := []struct {
		url, relay string
		want       bool
	}{
		{relay.TemporaryWebhookURL("https://me-relay.hf.space/c/abc"), "https://me-relay.hf.space", true},
		{relay.TemporaryWebhookURL("https://me-relay.hf.space/c/abc/webhooks/x"), "https://ME-relay.hf.space/", true},
		{relay.TemporaryWebhookURL("https://example.com/r/c/abc"), "https://example.com/r", true},
		{"https://me-relay.hf.space/c/abc", "https://me-relay.hf.space", false},
		{relay.TemporaryWebhookURL("https://other.hf.space/c/abc"), "https://me-relay.hf.space", false},
		{relay.TemporaryWebhookURL("https://me-relay.hf.space/webhooks/abc"), "https://me-relay.hf.space", false},
	}
	for _, tt := range tests {
		if got := relay.IsTemporaryWebhookURL(tt.url, tt.relay); got != tt.want {
			t.Errorf("IsTemporaryWebhookURL(%q, %q) = %t", tt.url, tt.relay, got)
		}
	}
}

// TestZeroOptions: zero durations keep channels and default timings instead
// of breaking the relay.
func TestZeroOptions(t *testing.T) {
	rt := newRelay(t, relay.WithHeartbeat(0), relay.WithResponseTimeout(0), relay.WithIdleExpiry(0))
	ch := newChannel(t, rt.URL)
	connected, _ := listen(t, &relay.Listener{RelayURL: rt.URL, Channel: ch, ForwardTo: "http://127.0.0.1:1/webhooks/x"})
	await(t, connected, "connection")
	if code, _, body := post(t, ch.URL, []byte("{}"), nil); code != http.StatusBadGateway || !strings.Contains(body, "could not reach the local server") {
		t.Errorf("delivery to an unreachable local server: %d %s", code, body)
	}
}

func TestChannelHidesToken(t *testing.T) {
	ch := relay.Channel{ID: "id", Token: "tok3n", URL: "https://r/c/id"}
	for _, s := range []string{fmt.Sprint(ch), fmt.Sprintf("%+v", ch), fmt.Sprintf("%#v", ch)} {
		if strings.Contains(s, "tok3n") {
			t.Errorf("printed: %s", s)
		}
	}
}

// recorder is a local server that records the requests it gets, as
// "METHOD PATH" lines. POST /webhooks/x answers 200, POST /webhooks/moved
// and POST /login answer 303 to /; the rest answers 200.
type recorder struct {
	*httptest.Server
	hits chan string
}

func newRecorder(t *testing.T) *recorder {
	t.Helper()
	r := &recorder{hits: make(chan string, 64)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.hits <- req.Method + " " + req.URL.EscapedPath()
		switch req.URL.Path {
		case "/webhooks/moved", "/login":
			http.Redirect(w, req, "/", http.StatusSeeOther)
		default:
			io.WriteString(w, "local page")
		}
	}))
	t.Cleanup(r.Close)
	return r
}

// seen returns the requests the recorder got so far.
func (r *recorder) seen() []string {
	var got []string
	for {
		select {
		case h := <-r.hits:
			got = append(got, h)
		default:
			return got
		}
	}
}

// send makes a request through the channel, never following a redirect,
// and returns the status and body.
func send(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctxT(t), method, url, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestChannelIsADoorForTheHubOnly: through a channel, only webhook POSTs
// reach the local server; its page, API, metrics and sign-in do not, with
// any method or path trick, and a redirect it answers is not followed.
func TestChannelIsADoorForTheHubOnly(t *testing.T) {
	local := newRecorder(t)
	rt := newRelay(t)
	server := newChannel(t, rt.URL) // forwarded to the server's base URL
	connected, _ := listen(t, &relay.Listener{RelayURL: rt.URL, Channel: server, ForwardTo: local.URL})
	await(t, connected, "connection")
	endpoint := newChannel(t, rt.URL) // forwarded to one endpoint's URL
	connected, _ = listen(t, &relay.Listener{RelayURL: rt.URL, Channel: endpoint, ForwardTo: local.URL + "/webhooks/x"})
	await(t, connected, "connection")

	tests := []struct {
		method, url string
		status      int
		body        string // a part of the answer
	}{
		{"GET", server.URL + "/", http.StatusMethodNotAllowed, "POST"},
		{"GET", server.URL + "/api/deliveries", http.StatusMethodNotAllowed, "POST"},
		{"GET", server.URL + "/webhooks/x", http.StatusMethodNotAllowed, "POST"},
		{"PUT", server.URL + "/webhooks/x", http.StatusMethodNotAllowed, "POST"},
		{"POST", server.URL, http.StatusNotFound, "this listener passes only webhook deliveries"},
		{"POST", server.URL + "/", http.StatusNotFound, "a channel passes only webhook deliveries"},
		{"POST", server.URL + "/api/deliveries/1/retry", http.StatusNotFound, "a channel passes only"},
		{"POST", server.URL + "/metrics", http.StatusNotFound, "a channel passes only"},
		{"POST", server.URL + "/oauth/callback", http.StatusNotFound, "a channel passes only"},
		{"POST", server.URL + "/login", http.StatusNotFound, "a channel passes only"},
		{"POST", server.URL + "/webhooks/x%2F..%2F..%2Fapi%2Fdeliveries", http.StatusNotFound, "a channel passes only"},
		{"POST", server.URL + "/webhooks/%2e%2e", http.StatusNotFound, "a channel passes only"},
		{"POST", endpoint.URL + "/webhooks/y", http.StatusNotFound, "this listener passes only webhook deliveries, to the channel's URL"},
		{"POST", endpoint.URL + "/api/deliveries", http.StatusNotFound, "a channel passes only"},
	}
	for _, tt := range tests {
		if code, body := send(t, tt.method, tt.url); code != tt.status || !strings.Contains(body, tt.body) {
			t.Errorf("%s %s: %d %s; want %d and %q", tt.method, tt.url, code, body, tt.status, tt.body)
		}
	}
	if hits := local.seen(); len(hits) > 0 {
		t.Errorf("the local server got %q; want nothing", hits)
	}

	// Webhook deliveries pass; a redirect comes back as it is, unfollowed.
	for _, tt := range []struct {
		url    string
		status int
		hit    string
	}{
		{server.URL + "/webhooks/x", http.StatusOK, "POST /webhooks/x"},
		{endpoint.URL, http.StatusOK, "POST /webhooks/x"},
		{server.URL + "/webhooks/moved", http.StatusSeeOther, "POST /webhooks/moved"},
	} {
		if code, body := send(t, "POST", tt.url); code != tt.status {
			t.Errorf("POST %s: %d %s; want %d", tt.url, code, body, tt.status)
		}
		if hits := local.seen(); len(hits) != 1 || hits[0] != tt.hit {
			t.Errorf("POST %s: the local server got %q; want %q only", tt.url, hits, tt.hit)
		}
	}
}

// TestListenerHidesSecrets: the query values and password of the local URL
// and of a delivery show in no error, log line or answer of the listener.
func TestListenerHidesSecrets(t *testing.T) {
	const secret = "SEKRET"
	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	rt := newRelay(t)
	ch := newChannel(t, rt.URL)
	forwarded := make(chan relay.Forwarded, 1)
	connected, _ := listen(t, &relay.Listener{RelayURL: rt.URL, Channel: ch, Logger: logger,
		ForwardTo: "http://u:" + secret + "@127.0.0.1:1/webhooks/x?token=" + secret,
		OnForward: func(f relay.Forwarded) { forwarded <- f }})
	await(t, connected, "connection")
	code, _, body := post(t, ch.URL+"?secret="+secret, []byte("{}"), nil)
	if code != http.StatusBadGateway || !strings.Contains(body, "could not reach the local server") || !strings.Contains(body, "token=xxxxx") || !strings.Contains(body, "secret=xxxxx") {
		t.Errorf("answer: %d %s", code, body)
	}
	f := await(t, forwarded, "the forward")
	if f.Err == nil || f.Target != "http://u:xxxxx@127.0.0.1:1/webhooks/x?token=xxxxx&secret=xxxxx" {
		t.Errorf("forward: %+v", f)
	}

	_, done := listen(t, &relay.Listener{RelayURL: "http://127.0.0.1:1/?token=" + secret, Channel: ch, Logger: logger,
		ForwardTo: "http://127.0.0.1:1/webhooks/x", MaxReconnects: 1})
	gaveUp := await(t, done, "Run's end")
	invalid := (&relay.Listener{ForwardTo: "ftp://h/?token=" + secret}).Run(ctxT(t))
	_, created := relay.CreateChannel(ctxT(t), nil, "http://127.0.0.1:1/?token="+secret, "")
	for _, s := range []string{body, f.Err.Error(), gaveUp.Error(), invalid.Error(), created.Error(), logs.String()} {
		if strings.Contains(s, secret) {
			t.Errorf("shows the secret: %s", s)
		}
	}
	if !strings.Contains(logs.String(), "token=xxxxx") || !strings.Contains(gaveUp.Error(), "token=xxxxx") {
		t.Errorf("the relay's URL is not in the error or logs, redacted:\n%v\n%s", gaveUp, logs.String())
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestCreateChannelHasADeadline: asking a relay for a channel is bounded in
// time, so that a relay that hangs cannot block a start-up or a
// reconnection.
func TestCreateChannelHasADeadline(t *testing.T) {
	t.Parallel()
	var deadline time.Time
	var hasDeadline bool
	client := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		deadline, hasDeadline = r.Context().Deadline()
		return nil, errors.New("no relay here")
	})}
	start := time.Now()
	if _, err := relay.CreateChannel(context.Background(), client, "http://relay.example", ""); err == nil {
		t.Fatal("CreateChannel succeeded without a relay")
	}
	if !hasDeadline || deadline.Sub(start) > time.Minute {
		t.Errorf("the request's deadline = %v (set: %v), want within a minute", deadline.Sub(start), hasDeadline)
	}
}
