package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for a command writing while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs "hfhooks serve args..." on a free port until the test
// ends, and returns its base URL and its output streams.
func startServe(t *testing.T, args ...string) (base string, out, errOut *syncBuffer) {
	t.Helper()
	t.Setenv("WEBHOOK_SECRET", "")
	t.Setenv("SPACE_HOST", "")
	out, errOut = &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		args := append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)
		done <- execute(ctx, args, &ioStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut})
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != exitOK {
			t.Errorf("serve exited %d:\n%s", code, errOut)
		}
	})
	re := regexp.MustCompile(`Running on local URL:\s+(\S+)`)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1], out, errOut
		}
		select {
		case code := <-done:
			t.Fatalf("serve exited %d:\n%s", code, errOut)
		case <-time.After(10 * time.Millisecond):
		}
	}
	t.Fatalf("serve did not start:\nstdout: %s\nstderr: %s", out, errOut)
	return "", nil, nil
}

func TestServeReceivesTriggeredEvents(t *testing.T) {
	base, out, errOut := startServe(t, "--queue", "none", "--secret", "old", "--secret", "new")
	if !strings.Contains(out.String(), "Webhook secret is correctly defined.") || !strings.Contains(out.String(), "  - POST "+base+"/webhooks/inbox\n") {
		t.Errorf("banner:\n%s", out)
	}
	for _, secret := range []string{"old", "new"} {
		var tout, terr bytes.Buffer
		code := execute(context.Background(), []string{"trigger", "repo.content", "--url", base + "/webhooks/inbox", "--secret", secret, "--repo", "dataset:acme/reviews"}, &ioStreams{In: strings.NewReader(""), Out: &tout, ErrOut: &terr})
		if code != exitOK || !strings.Contains(tout.String(), "200") || !strings.Contains(tout.String(), `"status":"received"`) {
			t.Errorf("trigger with %q: exit %d\n%s%s", secret, code, tout.String(), terr.String())
		}
	}
	var tout bytes.Buffer
	if code := execute(context.Background(), []string{"trigger", "repo.content", "--url", base + "/webhooks/inbox", "--secret", "wrong"}, &ioStreams{In: strings.NewReader(""), Out: &tout, ErrOut: io.Discard}); code != exitFailure || !strings.Contains(tout.String(), "403") {
		t.Errorf("wrong secret: exit %d, %s", code, tout.String())
	}

	logs := errOut.String()
	if n := strings.Count(logs, `msg="delivery handled" endpoint=inbox status=200`); n != 2 {
		t.Errorf("want 2 delivery log lines, got %d:\n%s", n, logs)
	}
	for _, want := range []string{"scope=repo.content action=update repo=dataset:acme/reviews", `level=WARN msg="delivery refused" endpoint=inbox status=403`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	resp, err := http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	if n := strings.Count(string(page), "acme/reviews"); n != 2 {
		t.Errorf("page shows %d deliveries of acme/reviews, want 2", n)
	}
	mresp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer mresp.Body.Close()
	metrics, _ := io.ReadAll(mresp.Body)
	if want := `hfhooks_deliveries_total{endpoint="inbox",status="200"} 2`; !strings.Contains(string(metrics), want) {
		t.Errorf("/metrics lacks %s:\n%s", want, metrics)
	}
}

func TestServeQueuesInSQLiteByDefault(t *testing.T) {
	t.Chdir(t.TempDir())
	base, _, errOut := startServe(t, "--secret", "s")
	var tout bytes.Buffer
	code := execute(context.Background(), []string{"trigger", "repo.content", "--url", base + "/webhooks/inbox", "--secret", "s"}, &ioStreams{In: strings.NewReader(""), Out: &tout, ErrOut: io.Discard})
	if code != exitOK || !strings.Contains(tout.String(), "202") || !strings.Contains(tout.String(), `"status":"queued"`) {
		t.Fatalf("trigger: exit %d\n%s", code, tout.String())
	}
	if _, err := os.Stat("hfhooks.db"); err != nil {
		t.Errorf("no queue file in the working directory: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/api/deliveries?state=succeeded")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(b), `"attempts":1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the delivery did not succeed: %s\n%s", b, errOut)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestServeBadQueue(t *testing.T) {
	var errOut bytes.Buffer
	code := execute(context.Background(), []string{"serve", "--queue", "redis://x"}, &ioStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: &errOut})
	if code != exitFailure || !strings.Contains(errOut.String(), "want sqlite:PATH or a postgres:// URL") {
		t.Errorf("exit %d, %q", code, errOut.String())
	}
}

func TestServeUsageErrors(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"serve", "extra"}, `takes no arguments (got ["extra"])`},
		{[]string{"serve", "--nope"}, "unknown flag: --nope"},
		{[]string{"nope"}, "unknown command"},
		{[]string{"serve", "--ui", "open"}, `--ui: access mode "open": want auto, private, public or off`},
		{[]string{"serve", "--allow", "a b"}, `--allow: operator "a b": want a Hub user name (alice) or org:NAME (org:acme)`},
	}
	for _, tt := range tests {
		var errOut bytes.Buffer
		code := execute(context.Background(), tt.args, &ioStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: &errOut})
		if code != exitUsage || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tt.args, code, errOut.String(), tt.want)
		}
	}
}

func TestServeListenError(t *testing.T) {
	t.Chdir(t.TempDir())
	var errOut bytes.Buffer
	code := execute(context.Background(), []string{"serve", "--addr", "256.0.0.1:99999"}, &ioStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: &errOut})
	if code != exitFailure || !strings.Contains(errOut.String(), "listen tcp") {
		t.Errorf("exit %d, %q", code, errOut.String())
	}
}

func TestServeLogOptions(t *testing.T) {
	base, _, logs := startServe(t, "--queue", "none", "--secret", "s", "--log-level", "warn", "--log-format", "json")
	if code, out := trigger(t, "repo.content", "--url", base+"/webhooks/inbox", "--secret", "s"); code != exitOK {
		t.Fatalf("trigger: exit %d %s", code, out)
	}
	if code, _ := trigger(t, "repo.content", "--url", base+"/webhooks/inbox", "--secret", "wrong"); code != exitFailure {
		t.Fatal("wrong secret accepted")
	}
	eventually(t, "the failure's log line", func() bool { return strings.Contains(logs.String(), `"msg":"delivery refused"`) })
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if !strings.HasPrefix(line, "{") {
			t.Errorf("not a JSON line: %q", line)
		}
		if !strings.Contains(line, `"level":"WARN"`) {
			t.Errorf("a success was logged at --log-level warn: %s", line)
		}
	}

	for _, tt := range []struct{ args, want string }{
		{"--log-level loud", `--log-level: "loud" is not a level`},
		{"--log-format xml", `--log-format: "xml" is not a format`},
	} {
		var errOut bytes.Buffer
		args := append([]string{"serve", "--queue", "none"}, strings.Fields(tt.args)...)
		if code := execute(context.Background(), args, &ioStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: &errOut}); code != exitUsage || !strings.Contains(errOut.String(), tt.want) {
			t.Errorf("%s: exit %d, %q", tt.args, code, errOut.String())
		}
	}
}

func TestServeAccess(t *testing.T) {
	t.Setenv("HFHOOKS_UI_TOKEN", "")
	base, out, _ := startServe(t, "--queue", "none", "--ui", "private", "--ui-token", "op-token-not-printed", "--allow", "org:acme")
	if !strings.Contains(out.String(), "Page and API: private; sign in with the operator token") || strings.Contains(out.String(), "op-token-not-printed") {
		t.Errorf("start-up output:\n%s", out)
	}
	for bearer, want := range map[string]int{"": http.StatusUnauthorized, "wrong": http.StatusUnauthorized, "op-token-not-printed": http.StatusOK} {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/deliveries", nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("bearer %q: %s, want %d", bearer, resp.Status, want)
		}
	}
}

// TestServeDedupWindow triggers one event twice, byte for byte: by default
// both are queued and run; with --dedup-window the second is answered as a
// duplicate of the first.
func TestServeDedupWindow(t *testing.T) {
	trigger := func(base string) (status, id string) {
		t.Helper()
		var out bytes.Buffer
		args := []string{"trigger", "repo.content", "--url", base + "/webhooks/inbox", "--secret", "s", "--webhook-id", "6540a7b9c8d7e6f5a4b3c2d1",
			"--set", "repo.id=r", "--set", "repo.headSha=h", "--set", "repo.owner.id=o", "--set", `updatedRefs=[{"ref":"refs/heads/main","oldSha":"a","newSha":"b"}]`}
		if code := execute(context.Background(), args, &ioStreams{In: strings.NewReader(""), Out: &out, ErrOut: io.Discard}); code != exitOK {
			t.Fatalf("trigger: exit %d\n%s", code, out.String())
		}
		m := regexp.MustCompile(`"status":"(\w+)","id":"(\d+)"`).FindStringSubmatch(out.String())
		if m == nil {
			t.Fatalf("trigger printed no status and id:\n%s", out.String())
		}
		return m[1], m[2]
	}
	for _, tt := range []struct {
		name       string
		args       []string
		wantSecond string
	}{
		{"default", nil, "queued"},
		{"window", []string{"--dedup-window", "1h"}, "duplicate"},
		{"config", []string{"--config", "hooks.yaml"}, "duplicate"},
		{"flag over config", []string{"--config", "hooks.yaml", "--dedup-window", "0"}, "queued"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(t.TempDir())
			if err := os.WriteFile("hooks.yaml", []byte("dedupWindow: 1h\nhooks:\n  - name: inbox\n    run: {command: [\"true\"]}\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			base, _, _ := startServe(t, append([]string{"--secret", "s", "--queue", "sqlite:q.db"}, tt.args...)...)
			status1, id1 := trigger(base)
			status2, id2 := trigger(base)
			if status1 != "queued" || status2 != tt.wantSecond || (id1 == id2) != (tt.wantSecond == "duplicate") {
				t.Errorf("answers %s #%s then %s #%s, want queued then %s", status1, id1, status2, id2, tt.wantSecond)
			}
		})
	}
}
