package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks/hub"
	"github.com/hfhooks/hfhooks/hubtest"
	"github.com/hfhooks/hfhooks/relay"
)

// started is a command running in the background for a test.
type started struct {
	out, errOut *syncBuffer
	match       string        // the submatch of the pattern its output showed
	stop        func()        // cancels its context
	code        chan int      // its exit code, once it ends
	done        chan struct{} // closed when it has ended
}

// startCmd runs "hfhooks args..." until the test ends, and waits until its
// stdout matches pattern, whose first submatch it returns.
func startCmd(t *testing.T, pattern string, args ...string) *started {
	t.Helper()
	s := &started{out: &syncBuffer{}, errOut: &syncBuffer{}, code: make(chan int, 1), done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go func() {
		defer close(s.done)
		s.code <- execute(ctx, args, &ioStreams{In: strings.NewReader(""), Out: s.out, ErrOut: s.errOut})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			t.Errorf("%v did not stop", args)
		}
	})
	re := regexp.MustCompile(pattern)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(s.out.String()); m != nil {
			s.match = m[1]
			return s
		}
		select {
		case <-s.done:
			t.Fatalf("%v ended early:\nstdout: %s\nstderr: %s", args, s.out, s.errOut)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("%v did not print %q:\nstdout: %s\nstderr: %s", args, pattern, s.out, s.errOut)
	return nil
}

// exitCode waits for the command to end and returns its exit code.
func (s *started) exitCode(t *testing.T) int {
	t.Helper()
	select {
	case c := <-s.code:
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("the command did not end")
		return -1
	}
}

// startRelay runs "hfhooks relay" on a free loopback port and returns its URL.
func startRelay(t *testing.T, args ...string) string {
	t.Helper()
	t.Setenv(relayTokenEnv, "")
	return startCmd(t, `Relay running on (\S+)`, append([]string{"relay", "--addr", "127.0.0.1:0"}, args...)...).match
}

// newTestHub starts the Hub emulator with fast retries and returns it with
// a client of its token.
func newTestHub(t *testing.T) (*hubtest.Server, *hub.Client) {
	t.Helper()
	h := hubtest.NewServer(hubtest.WithRetrySchedule(20*time.Millisecond, 20*time.Millisecond), hubtest.WithTimeout(5*time.Second))
	t.Cleanup(h.Close)
	c, err := hub.NewClient(hub.WithEndpoint(h.URL), hub.WithToken(h.Token), hub.WithRetry(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	return h, c
}

func listHooks(t *testing.T, c *hub.Client) []hub.Webhook {
	t.Helper()
	hooks, err := c.ListWebhooks(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return hooks
}

// TestListenEndToEnd: Hub emulator → hfhooks relay → hfhooks listen →
// hfhooks serve. listen creates a temporary webhook, prints a line per
// delivery with the local status, and deletes the webhook when it stops.
func TestListenEndToEnd(t *testing.T) {
	isolateEnv(t)
	h, client := newTestHub(t)
	relayURL := startRelay(t)
	local, _, serveLogs := startServe(t, "--queue", "none", "--secret", "s3cret")

	l := startCmd(t, `(Ready)\.`, "listen", "--relay", relayURL, "--forward-to", local+"/webhooks/inbox",
		"--watch", "org:acme", "--domain", "repo", "--secret", "s3cret", "--endpoint", h.URL, "--token", h.Token)
	hooks := listHooks(t, client)
	if len(hooks) != 1 || !relay.IsTemporaryWebhookURL(hooks[0].URL, relayURL) || hooks[0].Secret != "s3cret" {
		t.Fatalf("webhooks while listening: %+v", hooks)
	}

	e, err := h.Emit(t.Context(), hubtest.Event{Kind: "repo.content", Repo: "dataset:acme/reviews"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := h.WaitForDelivery(t.Context(), e.Deliveries[0].ID)
	if err != nil || d.State != hubtest.StateDelivered || d.Attempts[0].StatusCode != http.StatusOK {
		t.Fatalf("delivery: %+v, %v\nlisten: %s%s", d, err, l.out, l.errOut)
	}
	if !strings.Contains(serveLogs.String(), `msg="delivery handled" endpoint=inbox status=200`) {
		t.Errorf("serve logs: %s", serveLogs)
	}
	waitFor(t, "the delivery line", func() bool {
		return strings.Contains(l.out.String(), "repo.content update dataset:acme/reviews  200  ")
	})

	l.stop() // as SIGINT does
	if code := l.exitCode(t); code != exitOK {
		t.Errorf("listen exited %d: %s", code, l.errOut)
	}
	if hooks := listHooks(t, client); len(hooks) != 0 {
		t.Errorf("webhooks after listen stopped: %+v", hooks)
	}
	out := regexp.MustCompile(`/c/[A-Z2-7]+`).ReplaceAllString(l.out.String(), "/c/CHANNEL")
	out = regexp.MustCompile(`webhook [0-9a-f]+`).ReplaceAllString(out, "webhook ID")
	out = regexp.MustCompile(`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(.*)  200  \S+`).ReplaceAllString(out, "TIME$1  200  DURATION")
	out = strings.NewReplacer(relayURL, "RELAY", local, "LOCAL").Replace(out)
	golden(t, "listen/watch.golden", []byte(out))
}

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

// TestListenGivesUp: when the relay goes away, listen gives up after
// --max-reconnects attempts, deletes its temporary webhook and fails.
func TestListenGivesUp(t *testing.T) {
	isolateEnv(t)
	_, client := newTestHub(t)
	rs := newRelayServer(t)
	rt := httptest.NewServer(rs)
	t.Cleanup(rt.Close)
	var out, errOut syncBuffer
	opts := &listenOptions{
		IO:            &ioStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut},
		HubClient:     func() (*hub.Client, error) { return client, nil },
		Relay:         rt.URL,
		ForwardTo:     "http://127.0.0.1:1/webhooks/inbox",
		Watch:         []string{"user:me"},
		MaxReconnects: 2,
		Backoff:       time.Millisecond,
	}
	errc := make(chan error, 1)
	go func() { errc <- runListen(t.Context(), opts) }()
	waitFor(t, "the listener", func() bool { return strings.Contains(errOut.String(), "connected to the relay") })
	if n := len(listHooks(t, client)); n != 1 {
		t.Fatalf("%d webhooks while listening", n)
	}
	rs.Close()
	rt.Close()
	select {
	case err := <-errc:
		if err == nil || !strings.Contains(err.Error(), "giving up after 3 failed connection attempts") {
			t.Errorf("listen: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("listen did not give up")
	}
	if hooks := listHooks(t, client); len(hooks) != 0 {
		t.Errorf("webhooks after listen gave up: %+v", hooks)
	}
}

// TestListenCleanup: webhooks a crashed listen left on the same relay are
// reported; without a terminal to ask on, listen stops, and with --cleanup
// it deletes them; others are left alone.
func TestListenCleanup(t *testing.T) {
	isolateEnv(t)
	h, client := newTestHub(t)
	relayURL := startRelay(t)
	watch := []hub.WatchedItem{{Type: hub.WatchedUser, Name: "me"}}
	for _, u := range []string{relay.TemporaryWebhookURL(relayURL + "/c/OLD"), relay.TemporaryWebhookURL("https://other.example/c/OLD"), relayURL + "/c/KEPT"} {
		if _, err := client.CreateWebhook(t.Context(), hub.CreateWebhookOptions{URL: u, Watched: watch}); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"listen", "--relay", relayURL, "--forward-to", "http://127.0.0.1:1/webhooks/x", "--endpoint", h.URL, "--token", h.Token}

	code, _, errOut := run(t, append(args, "--watch", "user:me")...)
	if code != exitUsage || !strings.Contains(errOut, "Found 1 webhook(s) left by an earlier") || !strings.Contains(errOut, "stdin is not a terminal; pass --cleanup") {
		t.Errorf("without --cleanup: exit %d, stderr: %s", code, errOut)
	}
	if n := len(listHooks(t, client)); n != 3 {
		t.Errorf("%d webhooks after a listen without --cleanup, want 3", n)
	}

	l := startCmd(t, `(Ready)\.`, append(args, "--cleanup")...)
	if !strings.Contains(l.errOut.String(), "Deleted webhook") {
		t.Errorf("stderr: %s", l.errOut)
	}
	for _, w := range listHooks(t, client) {
		if relay.IsTemporaryWebhookURL(w.URL, relayURL) {
			t.Errorf("left over: %+v", w)
		}
	}
}

// TestListenWrongChannelToken: reusing a channel with a wrong token fails
// at once.
func TestListenWrongChannelToken(t *testing.T) {
	relayURL := startRelay(t)
	ch, err := relay.CreateChannel(t.Context(), nil, relayURL, "")
	if err != nil {
		t.Fatal(err)
	}
	code, _, errOut := run(t, "listen", "--relay", relayURL, "--forward-to", "http://127.0.0.1:1", "--channel", ch.ID, "--channel-token", "wrong")
	if code != exitFailure || !strings.Contains(errOut, "403 Forbidden: wrong token for channel "+ch.ID) {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

// TestListenHidesSecrets: the query values of --forward-to and of the
// deliveries show in no output, log line or 502 answer of listen, nor in
// the errors the CLI prints.
func TestListenHidesSecrets(t *testing.T) {
	const secret = "SEKRET"
	relayURL := startRelay(t)
	l := startCmd(t, `Forwarding (\S+) -> `, "listen", "--relay", relayURL, "--forward-to", "http://127.0.0.1:1/webhooks/x?token="+secret)
	if !strings.Contains(l.out.String(), " -> http://127.0.0.1:1/webhooks/x?token=xxxxx\n") {
		t.Errorf("stdout: %s", l.out)
	}
	resp, err := http.Post(l.match+"?secret="+secret, "application/json", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "secret=xxxxx") {
		t.Errorf("answer: %d %s", resp.StatusCode, body)
	}
	waitFor(t, "the delivery line", func() bool { return strings.Contains(l.out.String(), "  502  ") })
	l.stop()
	l.exitCode(t)

	base := startCmd(t, `(Ready)\.`, "listen", "--relay", relayURL, "--forward-to", "http://127.0.0.1:1/?token="+secret)
	if want := "/webhooks/NAME on a webhook at https://huggingface.co/settings/webhooks: it reaches /webhooks/NAME under http://127.0.0.1:1/?token=xxxxx; nothing else passes.\n"; !strings.Contains(base.out.String(), want) {
		t.Errorf("stdout: %s\nwant: %s", base.out, want)
	}
	base.stop()
	base.exitCode(t)

	_, _, invalid := run(t, "listen", "--relay", relayURL, "--forward-to", "ftp://127.0.0.1:1/?token="+secret)
	_, _, trigger := run(t, "trigger", "repo.content", "--url", "http://127.0.0.1:1/webhooks/x?secret="+secret)
	if !strings.Contains(invalid, "token=xxxxx") || !strings.Contains(trigger, "secret=xxxxx") {
		t.Errorf("errors:\n%s%s", invalid, trigger)
	}
	for _, s := range []string{string(body), l.out.String(), l.errOut.String(), base.out.String(), invalid, trigger} {
		if strings.Contains(s, secret) {
			t.Errorf("shows the secret: %s", s)
		}
	}
}

func TestListenUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no_relay", []string{"listen", "--forward-to", "http://127.0.0.1:7860"}},
		{"no_forward_to", []string{"listen", "--relay", "http://127.0.0.1:1"}},
		{"channel_without_token", []string{"listen", "--relay", "http://127.0.0.1:1", "--forward-to", "http://127.0.0.1:7860", "--channel", "X"}},
		{"secret_without_watch", []string{"listen", "--relay", "http://127.0.0.1:1", "--forward-to", "http://127.0.0.1:7860", "--secret", "s"}},
		{"bad_watch", []string{"listen", "--relay", "http://127.0.0.1:1", "--forward-to", "http://127.0.0.1:7860/webhooks/x", "--watch", "me"}},
		{"watch_needs_endpoint", []string{"listen", "--relay", "http://127.0.0.1:1", "--forward-to", "http://127.0.0.1:7860", "--watch", "user:me"}},
		{"relay_extra_arg", []string{"relay", "extra"}},
		{"relay_negative_expiry", []string{"relay", "--unclaimed-expiry", "-1m"}},
		{"relay_buffer_under_body", []string{"relay", "--max-buffered-bytes", "1000", "--max-body-bytes", "2000"}},
		{"relay_zero_channels", []string{"relay", "--max-channels", "0"}},
		{"relay_zero_create_every", []string{"relay", "--create-every", "0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, tt.args...)
			if code != exitUsage {
				t.Errorf("exit %d, want 2", code)
			}
			golden(t, "listen/"+tt.name+".golden", []byte(out+errOut))
		})
	}
}

// TestListenSIGINT runs listen as a process and stops it with SIGINT: the
// temporary webhook is deleted and the exit code is 0.
func TestListenSIGINT(t *testing.T) {
	isolateEnv(t)
	h, client := newTestHub(t)
	rs := newRelayServer(t)
	rt := httptest.NewServer(rs)
	t.Cleanup(func() {
		rs.Close()
		rt.Close()
	})

	cmd := hfhooksCmd(t, "listen", "--relay", rt.URL, "--forward-to", "http://127.0.0.1:1/webhooks/x", "--watch", "user:me", "--endpoint", h.URL, "--token", h.Token)
	var errOut syncBuffer
	cmd.Stderr = &errOut
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := bufio.NewScanner(stdout)
	for lines.Scan() && !strings.HasPrefix(lines.Text(), "Ready.") {
	}
	if n := len(listHooks(t, client)); n != 1 {
		t.Fatalf("%d webhooks while listening; stderr: %s", n, errOut.String())
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	var rest strings.Builder
	for lines.Scan() {
		rest.WriteString(lines.Text() + "\n")
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("listen after SIGINT: %v; stderr: %s", err, errOut.String())
	}
	if !strings.HasPrefix(rest.String(), "Deleted webhook ") {
		t.Errorf("output after SIGINT: %q", rest.String())
	}
	if hooks := listHooks(t, client); len(hooks) != 0 {
		t.Errorf("webhooks after SIGINT: %+v", hooks)
	}
}

// newRelayServer is a quiet relay.Server for the test.
func newRelayServer(t *testing.T) *relay.Server {
	t.Helper()
	rs, err := relay.NewServer(relay.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestRetargetFailureHint: when the Hub refuses to point a temporary
// webhook at the new channel, the command it prints sets the URL the
// listener would have set (quoted for the shell), with the marker that lets a later listen find
// the webhook if a crash leaves it behind.
func TestRetargetFailureHint(t *testing.T) {
	_, client := newTestHub(t)
	var out, errOut bytes.Buffer
	w := &temporaryWebhook{client: client, id: "0123456789abcdef01234567", path: "/webhooks/inbox"}
	w.retarget(t.Context(), &ioStreams{Out: &out, ErrOut: &errOut}, relay.Channel{ID: "NEW", URL: "https://relay.example/c/NEW"})
	want := "Do it with: hfhooks webhooks update 0123456789abcdef01234567 --url 'https://relay.example/c/NEW/webhooks/inbox?hfhooks-listen=1'\n"
	if !strings.HasSuffix(errOut.String(), want) {
		t.Errorf("stderr = %q; want it to end with %q", errOut.String(), want)
	}
}
