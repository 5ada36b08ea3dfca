package main

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks/hub"
	"github.com/hfhooks/hfhooks/hubtest"
	"github.com/hfhooks/hfhooks/relay"
)

// TestServeRelay: "serve --relay" prints the public URL of its endpoint,
// and a delivery to it reaches the local endpoint with its secret.
func TestServeRelay(t *testing.T) {
	relayURL := startRelay(t)
	_, out, _ := startServe(t, "--queue", "none", "--secret", "s3cret", "--relay", relayURL)
	m := regexp.MustCompile(`- POST (\S+/c/\S+/webhooks/inbox)`).FindStringSubmatch(out.String())
	if m == nil || !strings.HasPrefix(m[1], relayURL) {
		t.Fatalf("no public URL in:\n%s", out)
	}
	code, tout, terr := run(t, "trigger", "repo.content", "--url", m[1], "--secret", "s3cret")
	if code != exitOK || !strings.Contains(tout, "200") || !strings.Contains(tout, `"status":"received"`) {
		t.Errorf("trigger through the relay: exit %d\n%s%s", code, tout, terr)
	}
	if code, tout, _ := run(t, "trigger", "repo.content", "--url", m[1], "--secret", "wrong"); code != exitFailure || !strings.Contains(tout, "403") {
		t.Errorf("wrong secret through the relay: exit %d\n%s", code, tout)
	}
}

// TestServeRelayTemporaryWebhooks: "serve --relay --watch" creates a
// temporary webhook per endpoint, with the server's secret, through which
// the Hub's events reach the local handler; the webhooks are gone once
// serve stops.
func TestServeRelayTemporaryWebhooks(t *testing.T) {
	isolateEnv(t)
	h, client := newTestHub(t)
	t.Setenv("HF_ENDPOINT", h.URL)
	t.Setenv("HF_TOKEN", h.Token)
	relayURL := startRelay(t)

	stopped := make(chan struct{})
	t.Run("serving", func(t *testing.T) {
		t.Cleanup(func() { close(stopped) })
		_, out, _ := startServe(t, "--queue", "none", "--secret", "s3cret", "--relay", relayURL, "--watch", "dataset:acme/reviews", "--domain", "repo")
		hooks := listHooks(t, client)
		if len(hooks) != 1 || !strings.HasSuffix(hooks[0].URL, "/webhooks/inbox?hfhooks-listen=1") || !strings.HasPrefix(hooks[0].URL, relayURL+"/c/") {
			t.Fatalf("webhooks while serving: %+v\n%s", hooks, out)
		}
		if hooks[0].Secret != "s3cret" || len(hooks[0].Domains) != 1 || hooks[0].Domains[0] != hub.DomainRepo {
			t.Errorf("temporary webhook = %+v, want the server's secret and the repo domain", hooks[0])
		}
		sent, err := h.Emit(t.Context(), hubtest.Event{Kind: "repo.content", Repo: "dataset:acme/reviews"})
		if err != nil || len(sent.Deliveries) != 1 {
			t.Fatalf("emit: %+v, %v", sent, err)
		}
		d, err := h.WaitForDelivery(t.Context(), sent.Deliveries[0].ID)
		if err != nil || d.State != hubtest.StateDelivered || d.Attempts[len(d.Attempts)-1].StatusCode != 200 {
			t.Errorf("delivery through the relay: %+v, %v", d, err)
		}
	})
	<-stopped
	if hooks := listHooks(t, client); len(hooks) != 0 {
		t.Errorf("webhooks after serve stopped: %+v", hooks)
	}
	var errOut bytes.Buffer
	if code := execute(t.Context(), []string{"serve", "--watch", "dataset:acme/reviews"}, &ioStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: &errOut}); code != exitUsage || !strings.Contains(errOut.String(), "add --relay") {
		t.Errorf("--watch without --relay: exit %d, %s", code, errOut.String())
	}
}

// restartRelay stops the relay command r and starts "hfhooks relay" again
// on the same address, with args.
func restartRelay(t *testing.T, r *started, relayURL string, args ...string) *started {
	t.Helper()
	r.stop()
	<-r.done
	addr := strings.TrimPrefix(relayURL, "http://")
	return startCmd(t, `Relay running on (\S+)`, append([]string{"relay", "--addr", addr}, args...)...)
}

// startListen runs listen with opts, on a terminal-less input and with a
// short backoff, until the test ends, and returns its output once it has
// connected to the relay.
func startListen(t *testing.T, opts *listenOptions) (out, errOut *syncBuffer) {
	t.Helper()
	out, errOut = &syncBuffer{}, &syncBuffer{}
	opts.IO = &ioStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut}
	opts.Backoff = 5 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runListen(ctx, opts) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("listen: %v", err)
		}
	})
	waitFor(t, "the listener", func() bool { return strings.Contains(errOut.String(), "connected to the relay") })
	return out, errOut
}

// TestServeRelayOutlivesRelay: "serve --relay --watch" against a relay
// without state that restarts: the local server answers local deliveries
// throughout; serve ends with a new channel, the emulator's webhook
// pointing at it and delivering through it; the relay's state changes are
// logged once each, with serve's logger (--log-format json).
func TestServeRelayOutlivesRelay(t *testing.T) {
	isolateEnv(t)
	h, client := newTestHub(t)
	t.Setenv("HF_ENDPOINT", h.URL)
	t.Setenv("HF_TOKEN", h.Token)
	t.Setenv(relayTokenEnv, "")
	r := startCmd(t, `Relay running on (\S+)`, "relay", "--addr", "127.0.0.1:0")
	relayURL := r.match
	if !strings.Contains(r.out.String(), "Channels are kept in memory: they are lost when the relay restarts (keep them with --state PATH).") {
		t.Errorf("relay start-up: %s", r.out)
	}
	local, out, errOut := startServe(t, "--queue", "none", "--log-format", "json", "--relay", relayURL, "--watch", "dataset:acme/reviews")
	hooks := listHooks(t, client)
	if len(hooks) != 1 {
		t.Fatalf("webhooks: %+v", hooks)
	}
	before := hooks[0].URL
	localDelivery := func(when string) {
		t.Helper()
		if code, tout, terr := run(t, "trigger", "repo.content", "--url", local+"/webhooks/inbox"); code != exitOK || !strings.Contains(tout, `"status":"received"`) {
			t.Errorf("local delivery %s: exit %d\n%s%s", when, code, tout, terr)
		}
	}

	r.stop()
	<-r.done
	localDelivery("while the relay is down")
	restartRelay(t, r, relayURL)
	waitFor(t, "the webhook to point at a new channel", func() bool {
		hooks := listHooks(t, client)
		return len(hooks) == 1 && hooks[0].URL != before && relay.IsTemporaryWebhookURL(hooks[0].URL, relayURL)
	})
	localDelivery("after the relay restarted")
	sent, err := h.Emit(t.Context(), hubtest.Event{Kind: "repo.content", Repo: "dataset:acme/reviews"})
	if err != nil || len(sent.Deliveries) != 1 {
		t.Fatalf("emit: %+v, %v", sent, err)
	}
	d, err := h.WaitForDelivery(t.Context(), sent.Deliveries[0].ID)
	if err != nil || d.State != hubtest.StateDelivered {
		t.Errorf("delivery through the new channel: %+v, %v\n%s", d, err, errOut)
	}
	if !strings.Contains(out.String(), "The relay no longer knows the channel (it expired, or the relay restarted without --state). New public URLs:\n  - POST "+relayURL+"/c/") ||
		!strings.Contains(out.String(), "Updated webhook "+hooks[0].ID+": it delivers to the new channel.") {
		t.Errorf("serve's output: %s", out)
	}
	for _, msg := range []string{"relay unreachable; reconnecting with backoff", "the relay no longer knows the channel", "created a new channel", "reconnected to the relay"} {
		if n := strings.Count(errOut.String(), `"msg":"`+msg); n != 1 {
			t.Errorf("%d JSON log lines %q; want 1:\n%s", n, msg, errOut)
		}
	}
}

// TestRelayStateRestart: "hfhooks relay --state" restarted mid-session
// keeps the channel: listen reconnects to it, and the same URL delivers
// again, with no new channel.
func TestRelayStateRestart(t *testing.T) {
	isolateEnv(t)
	t.Setenv(relayTokenEnv, "")
	state := filepath.Join(t.TempDir(), "relay.db")
	r := startCmd(t, `Relay running on (\S+)`, "relay", "--addr", "127.0.0.1:0", "--state", state)
	relayURL := r.match
	if !strings.Contains(r.out.String(), "Channels are kept in "+state+": they survive restarts.") {
		t.Errorf("relay start-up: %s", r.out)
	}
	local, _, _ := startServe(t, "--queue", "none")
	out, errOut := startListen(t, &listenOptions{Relay: relayURL, ForwardTo: local + "/webhooks/inbox"})
	m := regexp.MustCompile(`Forwarding (\S+) -> `).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no channel URL in %s", out.String())
	}
	deliver := func(when string) {
		t.Helper()
		if code, tout, terr := run(t, "trigger", "repo.content", "--url", m[1]); code != exitOK || !strings.Contains(tout, `"status":"received"`) {
			t.Errorf("delivery %s: exit %d\n%s%s", when, code, tout, terr)
		}
	}
	deliver("before the restart")
	restartRelay(t, r, relayURL, "--state", state)
	waitFor(t, "the listener to reconnect", func() bool { return strings.Contains(errOut.String(), "reconnected to the relay") })
	deliver("after the restart")
	if strings.Contains(out.String(), "no longer knows the channel") {
		t.Errorf("listen replaced its channel: %s", out.String())
	}
}

// TestListenNewChannel: listen --watch against a relay without state that
// restarts: listen creates a new channel, prints it, and points its
// temporary webhook at it.
func TestListenNewChannel(t *testing.T) {
	isolateEnv(t)
	_, client := newTestHub(t)
	t.Setenv(relayTokenEnv, "")
	r := startCmd(t, `Relay running on (\S+)`, "relay", "--addr", "127.0.0.1:0")
	relayURL := r.match
	out, _ := startListen(t, &listenOptions{
		HubClient: func() (*hub.Client, error) { return client, nil },
		Relay:     relayURL,
		ForwardTo: "http://127.0.0.1:1/webhooks/inbox",
		Watch:     []string{"user:me"},
	})
	before := listHooks(t, client)[0]

	restartRelay(t, r, relayURL)
	waitFor(t, "the webhook to point at a new channel", func() bool {
		return strings.Contains(out.String(), "Updated webhook "+before.ID+": it delivers to the new channel.")
	})
	after := listHooks(t, client)
	if len(after) != 1 || after[0].URL == before.URL || !relay.IsTemporaryWebhookURL(after[0].URL, relayURL) {
		t.Errorf("webhooks: %+v; want the one webhook on a new channel of the relay", after)
	}
	if !strings.Contains(out.String(), "The relay no longer knows the channel (it expired, or the relay restarted without --state): listening on a new one.\nForwarding "+strings.TrimSuffix(after[0].URL, "?hfhooks-listen=1")+" -> ") {
		t.Errorf("listen's output: %s", out.String())
	}
}
