package hfhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for concurrent writes (logs).
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

// testServer is a Server behind a real loopback HTTP server.
type testServer struct {
	*Server
	URL  string
	logs *syncBuffer
}

func newTestServer(t *testing.T, opts ...Option) *testServer {
	t.Helper()
	t.Setenv("WEBHOOK_SECRET", "")
	logs := &syncBuffer{}
	opts = append([]Option{WithLogger(slog.New(slog.NewTextHandler(logs, nil))), WithOutput(io.Discard)}, opts...)
	s := NewServer(opts...)
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return &testServer{Server: s, URL: hs.URL, logs: logs}
}

func (ts *testServer) add(t *testing.T, path string, h HandlerFunc) {
	t.Helper()
	if err := ts.AddEndpoint(path, h); err != nil {
		t.Fatal(err)
	}
}

// post sends body to path with the given headers and returns the status and
// the decoded JSON body.
func post(t *testing.T, method, u string, body []byte, header map[string]string) (int, map[string]any, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if len(bytes.TrimSpace(raw)) > 0 && raw[0] == '{' {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("response %q: %v", raw, err)
		}
	}
	return resp.StatusCode, out, resp.Header
}

func scopeHandler(_ context.Context, d *Delivery) (any, error) {
	return map[string]string{"scope": d.Payload.Event.Scope}, nil
}

func TestRequestPath(t *testing.T) {
	valid := fixture(t, "discussion-pr-create-with-comment.json")
	tests := []struct {
		name      string
		secrets   []string
		method    string
		path      string
		body      []byte
		header    map[string]string
		want      int
		wantError string
	}{
		{name: "valid secret", secrets: []string{"s3cret"}, header: map[string]string{"X-Webhook-Secret": "s3cret"}, want: 200},
		{name: "header name is case-insensitive", secrets: []string{"s3cret"}, header: map[string]string{"x-webhook-secret": "s3cret"}, want: 200},
		{name: "missing secret", secrets: []string{"s3cret"}, want: 401, wantError: "x-webhook-secret header not set."},
		{name: "wrong secret", secrets: []string{"s3cret"}, header: map[string]string{"X-Webhook-Secret": "nope"}, want: 403, wantError: "Invalid webhook secret."},
		{name: "longer wrong secret", secrets: []string{"s3cret"}, header: map[string]string{"X-Webhook-Secret": "s3cret-and-more"}, want: 403, wantError: "Invalid webhook secret."},
		{name: "empty secret", secrets: []string{"s3cret"}, header: map[string]string{"X-Webhook-Secret": ""}, want: 403, wantError: "Invalid webhook secret."},
		{name: "secret in query", secrets: []string{"s3cret"}, path: "/webhooks/hook?secret=s3cret", want: 200},
		{name: "wrong secret in query", secrets: []string{"s3cret"}, path: "/webhooks/hook?secret=x", want: 403},
		{name: "rotation: old secret", secrets: []string{"new", "old"}, header: map[string]string{"X-Webhook-Secret": "old"}, want: 200},
		{name: "rotation: new secret", secrets: []string{"new", "old"}, header: map[string]string{"X-Webhook-Secret": "new"}, want: 200},
		{name: "no secret configured", want: 200},
		{name: "secret checked before body", secrets: []string{"s3cret"}, body: []byte("not json"), want: 401},
		{name: "wrong method", method: http.MethodGet, want: 405, wantError: "method GET not allowed"},
		{name: "method checked before secret", secrets: []string{"s3cret"}, method: http.MethodPut, want: 405},
		{name: "unknown path", path: "/webhooks/other", want: 404, wantError: "no endpoint is registered at /webhooks/other"},
		{name: "no body", body: []byte{}, want: 400, wantError: "empty"},
		{name: "invalid JSON", body: []byte(`{"event"`), want: 400, wantError: "invalid JSON"},
		{name: "JSON array", body: []byte(`[]`), want: 422, wantError: "JSON object, not array"},
		{name: "JSON string", body: []byte(`"x"`), want: 422, wantError: "JSON object, not string"},
		{name: "missing field", body: mutate(t, "discussion-pr-create-with-comment.json", del("repo.owner.id")), want: 422, wantError: "repo.owner.id"},
		{name: "wrong version", body: mutate(t, "discussion-pr-create-with-comment.json", set("webhook.version", 2)), want: 422, wantError: "got version 2"},
		{name: "unknown action accepted", body: mutate(t, "discussion-pr-create-with-comment.json", set("event.action", "rename")), want: 200},
		{name: "extra fields accepted", body: mutate(t, "discussion-pr-create-with-comment.json", set("brandNew.field", 1)), want: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, WithSecret(tt.secrets...))
			ts.add(t, "hook", scopeHandler)
			method, path, body := tt.method, tt.path, tt.body
			if method == "" {
				method = http.MethodPost
			}
			if path == "" {
				path = "/webhooks/hook"
			}
			if body == nil {
				body = valid
			}
			code, out, header := post(t, method, ts.URL+path, body, tt.header)
			if code != tt.want {
				t.Fatalf("status = %d (%v), want %d", code, out, tt.want)
			}
			if tt.want == 405 && header.Get("Allow") != "POST" {
				t.Errorf("Allow = %q, want POST", header.Get("Allow"))
			}
			if tt.wantError != "" {
				if msg, _ := out["error"].(string); !strings.Contains(msg, tt.wantError) {
					t.Errorf("error = %q, want it to contain %q", msg, tt.wantError)
				}
			}
			if tt.want == 200 && out["scope"] != "discussion" {
				t.Errorf("body = %v, want the handler's result", out)
			}
		})
	}
}

func TestSecretFromEnvironment(t *testing.T) {
	t.Setenv("WEBHOOK_SECRET", "from-env")
	s := NewServer(WithLogger(slog.New(slog.DiscardHandler)))
	s.AddEndpoint("hook", scopeHandler)
	hs := httptest.NewServer(s)
	defer hs.Close()
	body := fixture(t, "discussion-pr-create-with-comment.json")
	if code, _, _ := post(t, "POST", hs.URL+"/webhooks/hook", body, nil); code != 401 {
		t.Errorf("without secret: %d, want 401", code)
	}
	if code, _, _ := post(t, "POST", hs.URL+"/webhooks/hook", body, map[string]string{SecretHeader: "from-env"}); code != 200 {
		t.Errorf("with env secret: %d, want 200", code)
	}
	// The option wins over the environment.
	s2 := NewServer(WithSecret("option"), WithLogger(slog.New(slog.DiscardHandler)))
	if s2.secrets.check(httptest.NewRequest("POST", "/?secret=from-env", nil)) != secretWrong {
		t.Error("WithSecret must take precedence over WEBHOOK_SECRET")
	}
}

// countingReader counts the bytes read from it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestBodyLimit(t *testing.T) {
	s := NewServer(WithMaxBodyBytes(1024), WithLogger(slog.New(slog.DiscardHandler)))
	s.AddEndpoint("hook", scopeHandler)

	t.Run("declared length over the limit is refused unread", func(t *testing.T) {
		body := &countingReader{r: bytes.NewReader(make([]byte, 10<<20))}
		req := httptest.NewRequest("POST", "/webhooks/hook", body)
		req.ContentLength = 10 << 20
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != 413 || body.n != 0 {
			t.Errorf("status %d after reading %d bytes, want 413 after 0", rec.Code, body.n)
		}
	})
	t.Run("unknown length stops at the limit", func(t *testing.T) {
		body := &countingReader{r: bytes.NewReader(make([]byte, 10<<20))}
		req := httptest.NewRequest("POST", "/webhooks/hook", body)
		req.ContentLength = -1
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != 413 || body.n > 64<<10 {
			t.Errorf("status %d after reading %d bytes, want 413 after about 1 KiB", rec.Code, body.n)
		}
		if !strings.Contains(rec.Body.String(), "larger than 1024 bytes") {
			t.Errorf("body = %s", rec.Body)
		}
	})
	t.Run("over a real connection", func(t *testing.T) {
		hs := httptest.NewServer(s)
		defer hs.Close()
		code, out, _ := post(t, "POST", hs.URL+"/webhooks/hook", bytes.Repeat([]byte(" "), 4096), nil)
		if code != 413 {
			t.Errorf("status %d (%v), want 413", code, out)
		}
	})
}

func TestHandlerReceivesDelivery(t *testing.T) {
	ts := newTestServer(t)
	got := make(chan *Delivery, 1)
	ts.add(t, "/a/b/", func(_ context.Context, d *Delivery) (any, error) {
		got <- d
		return nil, nil
	})
	body := fixture(t, "repo-content-updated-refs.json")
	code, _, _ := post(t, "POST", ts.URL+"/webhooks/a/b", body, map[string]string{"X-Custom": "v"})
	if code != 200 {
		t.Fatalf("status %d", code)
	}
	d := <-got
	if !bytes.Equal(d.Body, body) {
		t.Error("raw body differs from what was sent")
	}
	if d.Endpoint != "a/b" || d.Header.Get("X-Custom") != "v" || d.ID == "" || d.ReceivedAt.IsZero() {
		t.Errorf("delivery = %+v", d)
	}
	if d.Payload.Repo.HeadSha == "" || d.Payload.Event.Scope != ScopeRepoContent {
		t.Errorf("payload = %+v", d.Payload)
	}
}

func TestNilResultIsJSONNull(t *testing.T) {
	ts := newTestServer(t)
	ts.add(t, "hook", func(context.Context, *Delivery) (any, error) { return nil, nil })
	resp, err := http.Post(ts.URL+"/webhooks/hook", "application/json", bytes.NewReader(fixture(t, "discussion-update-no-comment.json")))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || strings.TrimSpace(string(raw)) != "null" || resp.Header.Get("Content-Type") != "application/json" {
		t.Errorf("got %d %q %q", resp.StatusCode, raw, resp.Header.Get("Content-Type"))
	}
}

func TestHandlerErrors(t *testing.T) {
	ts := newTestServer(t)
	ts.add(t, "fail", func(context.Context, *Delivery) (any, error) { return nil, errors.New("cluster down") })
	ts.add(t, "teapot", func(context.Context, *Delivery) (any, error) { return nil, Error("no coffee", http.StatusTeapot) })
	ts.add(t, "wrapped", func(context.Context, *Delivery) (any, error) {
		return nil, &StatusError{Code: http.StatusServiceUnavailable, Err: errors.New("busy")}
	})
	ts.add(t, "panic", func(context.Context, *Delivery) (any, error) { panic("boom") })
	ts.add(t, "unencodable", func(context.Context, *Delivery) (any, error) { return func() {}, nil })
	ts.add(t, "ok", scopeHandler)
	body := fixture(t, "discussion-pr-create-with-comment.json")
	tests := []struct {
		path, wantErr string
		want          int
	}{
		{"fail", "cluster down", 500},
		{"teapot", "no coffee", 418},
		{"wrapped", "busy", 503},
		{"panic", "internal server error", 500},
		{"unencodable", "encoding the handler's result", 500},
		{"ok", "", 200}, // the server keeps serving after a panic
	}
	for _, tt := range tests {
		code, out, _ := post(t, "POST", ts.URL+"/webhooks/"+tt.path, body, nil)
		if code != tt.want || (tt.wantErr != "" && !strings.Contains(out["error"].(string), tt.wantErr)) {
			t.Errorf("%s: %d %v, want %d %q", tt.path, code, out, tt.want, tt.wantErr)
		}
	}
	logs := ts.logs.String()
	if !strings.Contains(logs, "handler panicked") || !strings.Contains(logs, "goroutine") {
		t.Errorf("panic not logged with its stack:\n%s", logs)
	}
}

func TestSlowHandlerAnswers202AndFinishes(t *testing.T) {
	ts := newTestServer(t, WithResponseDeadline(50*time.Millisecond))
	release, finished := make(chan struct{}), make(chan struct{})
	ts.add(t, "slow", func(ctx context.Context, _ *Delivery) (any, error) {
		<-release
		close(finished)
		return nil, ctx.Err()
	})
	code, out, _ := post(t, "POST", ts.URL+"/webhooks/slow", fixture(t, "discussion-pr-create-with-comment.json"), nil)
	if code != 202 || out["status"] != "accepted" {
		t.Fatalf("got %d %v, want 202 accepted", code, out)
	}
	// Shutdown waits for the background handler.
	shut := make(chan error, 1)
	go func() { shut <- ts.Shutdown(context.Background()) }()
	select {
	case <-shut:
		t.Fatal("Shutdown returned while a handler was running")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-finished
	if err := <-shut; err != nil {
		t.Fatal(err)
	}
	logs := ts.logs.String()
	for _, want := range []string{`msg="delivery accepted; its handler still runs" endpoint=slow status=202`, `msg="delivery handled" endpoint=slow status=202`} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
}

func TestShutdownGraceIsBounded(t *testing.T) {
	ts := newTestServer(t, WithResponseDeadline(10*time.Millisecond))
	cancelled := make(chan struct{})
	ts.add(t, "stuck", func(ctx context.Context, _ *Delivery) (any, error) {
		<-ctx.Done()
		close(cancelled)
		return nil, ctx.Err()
	})
	post(t, "POST", ts.URL+"/webhooks/stuck", fixture(t, "discussion-pr-create-with-comment.json"), nil)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := ts.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Shutdown = %v, want deadline exceeded", err)
	}
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("handler context was not cancelled after the grace period")
	}
}

func TestAddWebhookPaths(t *testing.T) {
	s := NewServer(WithLogger(slog.New(slog.DiscardHandler)))
	for _, p := range []string{"/say_hello", "goodbye", "a/b/", "webhooks/x"} {
		if err := s.AddEndpoint(p, scopeHandler); err != nil {
			t.Fatalf("AddEndpoint(%q): %v", p, err)
		}
	}
	want := []string{"a/b", "goodbye", "say_hello", "webhooks/x"}
	if got := s.Endpoints(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("Endpoints() = %v, want %v", got, want)
	}
	if err := s.AddEndpoint("/say_hello/", scopeHandler); !errors.Is(err, ErrDuplicateEndpoint) || !strings.Contains(err.Error(), "/webhooks/say_hello") {
		t.Errorf("duplicate: %v", err)
	}
	if err := s.AddEndpoint("//", scopeHandler); err == nil {
		t.Error("empty path accepted")
	}
	if err := s.AddEndpoint("x", nil); err == nil {
		t.Error("nil handler accepted")
	}
}

func TestWebhookAddedWhileServing(t *testing.T) {
	ts := newTestServer(t)
	body := fixture(t, "discussion-pr-create-with-comment.json")
	if code, _, _ := post(t, "POST", ts.URL+"/webhooks/late", body, nil); code != 404 {
		t.Fatalf("before registration: %d", code)
	}
	ts.add(t, "late", scopeHandler)
	if code, _, _ := post(t, "POST", ts.URL+"/webhooks/late", body, nil); code != 200 {
		t.Fatalf("after registration: %d", code)
	}
}

func TestDeliveriesAPI(t *testing.T) {
	ts := newTestServer(t, WithSecret("s"))
	ts.add(t, "hook", scopeHandler)
	post(t, "POST", ts.URL+"/webhooks/hook", fixture(t, "repo-content-updated-refs.json"), map[string]string{SecretHeader: "s"})
	post(t, "POST", ts.URL+"/webhooks/hook", fixture(t, "repo-content-updated-refs.json"), nil)

	code, out, _ := post(t, "GET", ts.URL+"/api/deliveries", nil, nil)
	if code != 200 {
		t.Fatal(code)
	}
	recs := out["deliveries"].([]any)
	if len(recs) != 2 {
		t.Fatalf("deliveries = %v", recs)
	}
	newest, oldest := recs[0].(map[string]any), recs[1].(map[string]any)
	if newest["statusCode"] != 401.0 || newest["error"] != "x-webhook-secret header not set." {
		t.Errorf("newest = %v", newest)
	}
	for k, v := range map[string]any{"endpoint": "hook", "scope": "repo.content", "action": "update", "repoType": "space", "repoName": "Wauplin/gradio-user-history", "statusCode": 200.0} {
		if oldest[k] != v {
			t.Errorf("oldest[%s] = %v, want %v", k, oldest[k], v)
		}
	}
	if _, ok := oldest["durationNs"]; !ok || oldest["time"] == nil || oldest["id"] == "" {
		t.Errorf("oldest lacks time, id or duration: %v", oldest)
	}
	if code, out, _ := post(t, "GET", ts.URL+"/api/deliveries?limit=1", nil, nil); code != 200 || len(out["deliveries"].([]any)) != 1 {
		t.Errorf("limit=1: %d %v", code, out)
	}
	if code, _, _ := post(t, "GET", ts.URL+"/api/deliveries?limit=x", nil, nil); code != 400 {
		t.Errorf("limit=x: %d", code)
	}
	if code, out, _ := post(t, "GET", ts.URL+"/healthz", nil, nil); code != 200 || out["status"] != "ok" {
		t.Errorf("healthz: %d %v", code, out)
	}

	if code, _, _ := post(t, "GET", ts.URL+"/metrics", nil, nil); code != http.StatusNotFound {
		t.Errorf("/metrics without WithMetrics: %d, want 404", code)
	}
}

// recordingObserver records what a server tells its Observer.
type recordingObserver struct {
	mu       sync.Mutex
	requests []string // endpoint status
	runs     chan string
}

func (o *recordingObserver) ObserveRequest(endpoint string, status int, took time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.requests = append(o.requests, fmt.Sprintf("%q %d", endpoint, status))
}

func (o *recordingObserver) ObserveRun(endpoint string, outcome RunOutcome, took time.Duration) {
	o.runs <- fmt.Sprintf("%s %s", endpoint, outcome)
}

func (o *recordingObserver) ObserveStart(string, time.Duration) {}

func TestObserver(t *testing.T) {
	obs := &recordingObserver{runs: make(chan string, 10)}
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "some_metric 1\n") })
	ts := newTestServer(t, WithSecret("s"), WithObserver(obs), WithMetrics(metrics))
	ts.add(t, "hook", scopeHandler)
	ts.add(t, "fail", func(context.Context, *Delivery) (any, error) { return nil, errors.New("down") })
	body := fixture(t, "repo-content-updated-refs.json")
	secret := map[string]string{SecretHeader: "s"}
	post(t, "POST", ts.URL+"/webhooks/hook", body, secret)
	post(t, "POST", ts.URL+"/webhooks/hook", body, nil)
	post(t, "POST", ts.URL+"/webhooks/fail", body, secret)
	post(t, "POST", ts.URL+"/webhooks/no/such?secret=x", body, secret)

	runs := []string{<-obs.runs, <-obs.runs}
	if strings.Join(runs, ",") != "hook succeeded,fail failed" {
		t.Errorf("runs = %q", runs)
	}
	obs.mu.Lock()
	got := strings.Join(obs.requests, ", ")
	obs.mu.Unlock()
	// An unknown name is observed as "", never as the path it came with.
	if want := `"hook" 200, "hook" 401, "fail" 500, "" 404`; got != want {
		t.Errorf("requests = %s, want %s", got, want)
	}
	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if b, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || string(b) != "some_metric 1\n" {
		t.Errorf("/metrics = %d %q, want the WithMetrics handler's answer", resp.StatusCode, b)
	}
}

func TestMemoryHistoryRing(t *testing.T) {
	h := newMemoryHistory(3)
	ctx := context.Background()
	if page, _ := h.List(ctx, HistoryQuery{Limit: 10}); len(page.Deliveries) != 0 || page.Next != "" {
		t.Fatalf("empty history: %+v", page)
	}
	for i := range 5 {
		state := StateSucceeded
		if i%2 == 1 {
			state = StateRejected
		}
		h.Record(ctx, DeliveryRecord{ID: fmt.Sprint("r", i), StatusCode: 200 + i, State: state})
	}
	codes := func(q HistoryQuery) (got []int, next string) {
		page, err := h.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Deliveries {
			got = append(got, r.StatusCode)
		}
		return got, page.Next
	}
	if got, next := codes(HistoryQuery{Limit: 10}); fmt.Sprint(got) != "[204 203 202]" || next != "" {
		t.Errorf("recent = %v %q, want [204 203 202] and no next page", got, next)
	}
	got, next := codes(HistoryQuery{Limit: 2})
	if fmt.Sprint(got) != "[204 203]" || next != "r3" {
		t.Errorf("first page = %v %q", got, next)
	}
	if got, next := codes(HistoryQuery{Limit: 2, Before: next}); fmt.Sprint(got) != "[202]" || next != "" {
		t.Errorf("second page = %v %q", got, next)
	}
	if got, _ := codes(HistoryQuery{Limit: 10, State: StateRejected}); fmt.Sprint(got) != "[203]" {
		t.Errorf("rejected = %v", got)
	}
	if got, _ := codes(HistoryQuery{Limit: 10, Before: "r0"}); len(got) != 0 {
		t.Errorf("before an overwritten record = %v, want nothing", got)
	}
}

func TestLandingPage(t *testing.T) {
	t.Setenv("SPACE_HOST", "")
	ts := newTestServer(t, WithSecret("super-secret-value"))
	ts.add(t, "trigger_training", scopeHandler)
	resp, err := http.Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{ts.URL + "/webhooks/trigger_training", "1 endpoint is registered", "Secret: <span class=\"ok\">set", "huggingface.co/settings/webhooks", "repo.content", `name="secret"`} {
		if !strings.Contains(string(page), want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(string(page), "super-secret-value") {
		t.Error("page shows the secret")
	}
	if bytes.Contains(page, []byte("http://cdn")) || bytes.Contains(page, []byte("<script src")) || bytes.Contains(page, []byte("<link")) {
		t.Error("page loads external resources")
	}
}

func TestLandingPageOnSpace(t *testing.T) {
	t.Setenv("SPACE_HOST", "acme-hooks.hf.space")
	t.Setenv("SPACE_ID", "acme/hooks")
	ts := newTestServer(t, WithOperatorToken("operator-token"))
	ts.add(t, "hook", scopeHandler)
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/", nil)
	req.Header.Set("Authorization", "Bearer operator-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	page, _ := io.ReadAll(resp.Body)
	for _, want := range []string{"https://acme-hooks.hf.space/webhooks/hook", "running on a Space", "not set</span>: these endpoints are open"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestTestForm(t *testing.T) {
	ts := newTestServer(t, WithSecret("s"))
	var got []string
	var mu sync.Mutex
	ts.add(t, "hook", func(_ context.Context, d *Delivery) (any, error) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, d.Payload.Event.Scope+"/"+string(d.Payload.Event.Action))
		return nil, nil
	})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(form url.Values) *http.Response {
		resp, err := noRedirect.PostForm(ts.URL+"/api/test", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	resp := send(url.Values{"kind": {"repo.content"}, "endpoint": {"hook"}, "secret": {"s"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "ok=1") {
		t.Errorf("good send: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp = send(url.Values{"kind": {"discussion.create"}, "endpoint": {"hook"}, "secret": {"wrong"}})
	if loc := resp.Header.Get("Location"); strings.Contains(loc, "ok=1") || !strings.Contains(loc, "403") {
		t.Errorf("wrong secret: %s", loc)
	}
	resp = send(url.Values{"kind": {"nope"}, "endpoint": {"hook"}, "secret": {"s"}})
	if loc, _ := url.QueryUnescape(resp.Header.Get("Location")); !strings.Contains(loc, "nope") {
		t.Errorf("unknown kind: %s", loc)
	}
	resp = send(url.Values{"kind": {"repo.content"}, "endpoint": {"missing"}})
	if loc, _ := url.QueryUnescape(resp.Header.Get("Location")); !strings.Contains(loc, `no endpoint named "missing"`) {
		t.Errorf("unknown endpoint: %s", loc)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != "repo.content/update" {
		t.Errorf("handler saw %v, want [repo.content/update]", got)
	}
	page, _ := ts.history.List(context.Background(), HistoryQuery{Limit: 10})
	recs := page.Deliveries
	if len(recs) != 2 || recs[0].StatusCode != 403 || recs[1].StatusCode != 200 {
		t.Errorf("history = %+v", recs)
	}
}

func TestCustomUIAndMounting(t *testing.T) {
	t.Setenv("WEBHOOK_SECRET", "")
	ui := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "my own page") })
	s := NewServer(WithUI(ui), WithLogger(slog.New(slog.DiscardHandler)))
	s.AddEndpoint("hook", scopeHandler)
	mux := http.NewServeMux()
	mux.Handle("/hooks/", http.StripPrefix("/hooks", s))
	hs := httptest.NewServer(mux)
	defer hs.Close()

	resp, err := http.Get(hs.URL + "/hooks/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(page) != "my own page" {
		t.Errorf("page = %q", page)
	}
	if code, _, _ := post(t, "POST", hs.URL+"/hooks/webhooks/hook", fixture(t, "discussion-pr-create-with-comment.json"), nil); code != 200 {
		t.Errorf("mounted webhook: %d", code)
	}
	if code, _, _ := post(t, "GET", hs.URL+"/hooks/healthz", nil, nil); code != 200 {
		t.Errorf("mounted healthz: %d", code)
	}
}

func TestServeBannerAndGracefulShutdown(t *testing.T) {
	t.Setenv("SPACE_HOST", "")
	t.Setenv("WEBHOOK_SECRET", "")
	var out bytes.Buffer
	s := NewServer(WithOutput(&out), WithLogger(slog.New(slog.DiscardHandler)), WithShutdownGrace(5*time.Second))
	started, release := make(chan struct{}), make(chan struct{})
	s.AddEndpoint("trigger_training", func(context.Context, *Delivery) (any, error) {
		close(started)
		<-release
		return "done", nil
	})
	s.AddEndpoint("trigger_evaluation", scopeHandler)
	base, cancel, served := serveLoopback(t, s)

	type result struct {
		code int
		body string
	}
	answered := make(chan result, 1)
	go func() {
		resp, err := http.Post(base+"/webhooks/trigger_training", "application/json", bytes.NewReader(fixture(t, "discussion-pr-create-with-comment.json")))
		if err != nil {
			answered <- result{code: -1, body: err.Error()}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		answered <- result{resp.StatusCode, strings.TrimSpace(string(b))}
	}()
	<-started
	cancel() // as SIGTERM would
	time.Sleep(50 * time.Millisecond)
	close(release)
	if r := <-answered; r.code != 200 || r.body != `"done"` {
		t.Errorf("in-flight request got %d %s, want 200 \"done\"", r.code, r.body)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve = %v", err)
	}
	want := "Webhook secret is not defined. This means your webhook endpoints will be open to everyone.\n"
	if !strings.HasPrefix(out.String(), want) {
		t.Errorf("banner starts %q", out.String())
	}
	for _, line := range []string{
		"Webhooks are correctly setup and ready to use:\n",
		"  - POST " + base + "/webhooks/trigger_evaluation\n  - POST " + base + "/webhooks/trigger_training\n",
		"Go to https://huggingface.co/settings/webhooks to setup your webhooks.\n",
	} {
		if !strings.Contains(out.String(), line) {
			t.Errorf("banner lacks %q:\n%s", line, out.String())
		}
	}
}

func TestBannerWithSecretOnSpace(t *testing.T) {
	t.Setenv("SPACE_HOST", "acme-hooks.hf.space")
	var out bytes.Buffer
	s := NewServer(WithSecret("x"), WithOutput(&out), WithLogger(slog.New(slog.DiscardHandler)))
	s.AddEndpoint("hook", scopeHandler)
	s.printBanner("http://127.0.0.1:7860")
	if !strings.HasPrefix(out.String(), "Webhook secret is correctly defined.\n") || !strings.Contains(out.String(), "  - POST https://acme-hooks.hf.space/webhooks/hook\n") {
		t.Errorf("banner:\n%s", out.String())
	}
}

func TestAddr(t *testing.T) {
	t.Setenv("SPACE_ID", "")
	if got := NewServer().Addr(); got != "127.0.0.1:7860" {
		t.Errorf("local default = %s", got)
	}
	t.Setenv("SPACE_ID", "acme/hooks")
	if got := NewServer().Addr(); got != "0.0.0.0:7860" {
		t.Errorf("Space default = %s", got)
	}
	if got := NewServer(WithAddr(":9000")).Addr(); got != ":9000" {
		t.Errorf("explicit = %s", got)
	}
}

func TestDefaultServerRejectsDuplicateBeforeStarting(t *testing.T) {
	Endpoint("dup_default", scopeHandler)
	Endpoint("/dup_default/", scopeHandler)
	if err := Run(); !errors.Is(err, ErrDuplicateEndpoint) {
		t.Errorf("Run = %v, want ErrDuplicateEndpoint", err)
	}
	if got := DefaultServer().Endpoints(); len(got) != 1 || got[0] != "dup_default" {
		t.Errorf("endpoints = %v", got)
	}
}

func TestEndpointSecret(t *testing.T) {
	ts := newTestServer(t, WithSecret("server"))
	ts.add(t, "shared", scopeHandler)
	if err := ts.AddEndpoint("own", scopeHandler, EndpointSecret("hook-a", "hook-b")); err != nil {
		t.Fatal(err)
	}
	body := fixture(t, "discussion-pr-create-with-comment.json")
	tests := []struct {
		path, secret string
		want         int
	}{
		{"shared", "server", 200},
		{"shared", "hook-a", 403},
		{"own", "hook-a", 200},
		{"own", "hook-b", 200},
		{"own", "server", 403},
		{"own", "", 401},
	}
	for _, tt := range tests {
		header := map[string]string{}
		if tt.secret != "" {
			header[SecretHeader] = tt.secret
		}
		if code, out, _ := post(t, "POST", ts.URL+"/webhooks/"+tt.path, body, header); code != tt.want {
			t.Errorf("%s with %q: %d %v, want %d", tt.path, tt.secret, code, out, tt.want)
		}
	}
}

func TestReplaceWebhooks(t *testing.T) {
	ts := newTestServer(t)
	started, release := make(chan struct{}), make(chan struct{})
	ts.add(t, "old", func(context.Context, *Delivery) (any, error) {
		close(started)
		<-release
		return "old handler", nil
	})
	ts.add(t, "kept", func(context.Context, *Delivery) (any, error) { return "v1", nil })
	body := fixture(t, "discussion-pr-create-with-comment.json")

	inflight := make(chan string, 1)
	go func() {
		resp, err := http.Post(ts.URL+"/webhooks/old", "application/json", bytes.NewReader(body))
		if err != nil {
			inflight <- err.Error()
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		inflight <- strings.TrimSpace(string(b))
	}()
	<-started

	if err := ts.ReplaceEndpoints([]EndpointSpec{{Name: "a", Handler: scopeHandler}, {Name: "/a/", Handler: scopeHandler}}); !errors.Is(err, ErrDuplicateEndpoint) {
		t.Fatalf("duplicate in the new set: %v", err)
	}
	if err := ts.ReplaceEndpoints([]EndpointSpec{{Name: "", Handler: scopeHandler}}); err == nil {
		t.Fatal("empty path accepted")
	}
	if got := ts.Endpoints(); strings.Join(got, ",") != "kept,old" {
		t.Fatalf("a failed replace changed the endpoints: %v", got)
	}

	err := ts.ReplaceEndpoints([]EndpointSpec{
		{Name: "kept", Handler: func(context.Context, *Delivery) (any, error) { return "v2", nil }},
		{Name: "new", Handler: scopeHandler, Options: []EndpointOption{EndpointSecret("n")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	close(release)
	if got := <-inflight; got != `"old handler"` {
		t.Fatalf("in-flight request got %s, want the old handler's answer", got)
	}
	if code, _, _ := post(t, "POST", ts.URL+"/webhooks/old", body, nil); code != 404 {
		t.Errorf("removed endpoint answered %d", code)
	}
	resp, err := http.Post(ts.URL+"/webhooks/kept", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if strings.TrimSpace(string(got)) != `"v2"` {
		t.Errorf("kept endpoint answered %s, want the new handler's \"v2\"", got)
	}
	if code, _, _ := post(t, "POST", ts.URL+"/webhooks/new", body, nil); code != 401 {
		t.Errorf("new endpoint without its secret: %d, want 401", code)
	}
}

func TestEndpointFilterIgnores(t *testing.T) {
	for _, durable := range []bool{false, true} {
		name := "sync"
		opts := []Option{}
		fq := &fakeQueue{seen: map[string]string{}}
		if durable {
			name = "durable"
			opts = append(opts, WithQueue(fq))
		}
		t.Run(name, func(t *testing.T) {
			ts := newTestServer(t, opts...)
			ran := 0
			var mu sync.Mutex
			f := Filter{Scopes: []string{ScopeRepoContent}, Refs: []string{"refs/heads/main"}}
			err := ts.AddEndpoint("push", func(context.Context, *Delivery) (any, error) {
				mu.Lock()
				defer mu.Unlock()
				ran++
				return nil, nil
			}, EndpointFilter(f))
			if err != nil {
				t.Fatal(err)
			}
			prRef := fixture(t, "repo-content-updated-refs.json") // refs/pr/5
			mainRef := mutate(t, "repo-content-updated-refs.json", set("updatedRefs", []any{map[string]any{"ref": "refs/heads/main", "oldSha": "a", "newSha": "b"}}))
			for _, body := range [][]byte{fixture(t, "discussion-pr-create-with-comment.json"), prRef} {
				code, out, _ := post(t, "POST", ts.URL+"/webhooks/push", body, nil)
				if code != 200 || out["status"] != "ignored" || out["reason"] == "" {
					t.Errorf("filtered out: %d %v, want 200 ignored with a reason", code, out)
				}
			}
			want := 200
			if durable {
				want = 202
			}
			if code, out, _ := post(t, "POST", ts.URL+"/webhooks/push", mainRef, nil); code != want {
				t.Errorf("matching delivery: %d %v, want %d", code, out, want)
			}
			if durable {
				if len(fq.queued) != 1 {
					t.Errorf("enqueued %d deliveries, want only the matching one", len(fq.queued))
				}
			} else if ran != 1 {
				t.Errorf("handler ran %d times, want 1", ran)
			}
			code, out, _ := post(t, "GET", ts.URL+"/api/deliveries?state=ignored", nil, nil)
			recs, _ := out["deliveries"].([]any)
			if code != 200 || len(recs) != 2 {
				t.Fatalf("ignored deliveries: %d %v", code, out)
			}
			for _, r := range recs {
				rec := r.(map[string]any)
				if rec["state"] != "ignored" || rec["statusCode"] != 200.0 || rec["error"] == "" {
					t.Errorf("ignored record = %v", rec)
				}
			}
		})
	}
}

// printed is a handler result or error that carries output.
type printed struct{ out string }

func (p printed) DeliveryOutput() string { return p.out }
func (p printed) Error() string          { return "command failed" }

func TestOutputKeptWithDelivery(t *testing.T) {
	ts := newTestServer(t)
	long := strings.Repeat("x", maxOutput) + "THE END"
	ts.add(t, "ok", func(context.Context, *Delivery) (any, error) { return printed{out: "trained 3 epochs"}, nil })
	ts.add(t, "fails", func(context.Context, *Delivery) (any, error) { return nil, fmt.Errorf("run: %w", printed{out: long}) })
	ts.add(t, "plain", scopeHandler)
	body := fixture(t, "discussion-pr-create-with-comment.json")
	for _, p := range []string{"ok", "fails", "plain"} {
		post(t, "POST", ts.URL+"/webhooks/"+p, body, nil)
	}
	page, err := ts.history.List(context.Background(), HistoryQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range page.Deliveries {
		got[r.Endpoint] = r.Output
	}
	if got["ok"] != "trained 3 epochs" || got["plain"] != "" {
		t.Errorf("outputs = %q", got)
	}
	if f := got["fails"]; len(f) > maxOutput+len("…") || !strings.HasSuffix(f, "THE END") || !strings.HasPrefix(f, "…") {
		t.Errorf("long output kept %d bytes, ending %q; want its last %d bytes", len(f), f[max(0, len(f)-10):], maxOutput)
	}
	resp, err := http.Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	html, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(html), "<summary>Output</summary><pre>trained 3 epochs</pre>") {
		t.Error("the page does not show the output")
	}
}

func TestDeliveryLogLines(t *testing.T) {
	t.Setenv("WEBHOOK_SECRET", "")
	// Each request, in order, and the line it logs; the lines at Warn and
	// above are exactly the failures.
	const allLines = `level=INFO msg="delivery handled" endpoint=hook status=200 scope=repo.content action=update repo=space:Wauplin/gradio-user-history
level=INFO msg="delivery ignored" endpoint=hook status=200 scope=discussion action=create repo=model:openai-community/gpt2 reason="scope \"discussion\" not in [repo.content]"
level=WARN msg="delivery refused" endpoint=hook status=403 err="Invalid webhook secret."
level=WARN msg="delivery refused" endpoint=hook status=400 err="invalid JSON: unexpected EOF (at byte 9)"
level=ERROR msg="delivery failed" endpoint=fail status=500 scope=repo.content action=update repo=space:Wauplin/gradio-user-history err="training cluster down"
level=INFO msg="delivery queued" endpoint=hook status=202 scope=repo.content action=update repo=space:Wauplin/gradio-user-history
level=INFO msg="delivery ignored" endpoint=hook status=200 scope=repo.content action=update repo=space:Wauplin/gradio-user-history reason="duplicate of #1"
level=ERROR msg="delivery refused" endpoint=fail status=503 scope=discussion action=create repo=model:openai-community/gpt2 err="the delivery could not be queued: disk full; the Hub will retry"
`
	push := fixture(t, "repo-content-updated-refs.json")
	discussion := fixture(t, "discussion-pr-create-with-comment.json")
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelWarn} {
		t.Run(level.String(), func(t *testing.T) {
			logs := &syncBuffer{}
			// The lines without their time, duration and random delivery id.
			logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: level, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
				switch a.Key {
				case slog.TimeKey, "duration", "delivery":
					return slog.Attr{}
				}
				return a
			}}))
			f := Filter{Scopes: []string{ScopeRepoContent}}
			hooks := func(s *Server) {
				s.AddEndpoint("hook", scopeHandler, EndpointFilter(f))
				s.AddEndpoint("fail", func(context.Context, *Delivery) (any, error) { return nil, errors.New("training cluster down") })
			}
			sync := httptest.NewServer(NewServer(WithSecret("s"), WithLogger(logger)))
			defer sync.Close()
			hooks(sync.Config.Handler.(*Server))
			fq := &fakeQueue{seen: map[string]string{}}
			durable := httptest.NewServer(NewServer(WithSecret("s"), WithLogger(logger), WithQueue(fq)))
			defer durable.Close()
			hooks(durable.Config.Handler.(*Server))

			ok := map[string]string{SecretHeader: "s"}
			for _, r := range []struct {
				url    string
				body   []byte
				header map[string]string
			}{
				{sync.URL + "/webhooks/hook", push, ok},
				{sync.URL + "/webhooks/hook", discussion, ok},
				{sync.URL + "/webhooks/hook", push, map[string]string{SecretHeader: "wrong"}},
				{sync.URL + "/webhooks/hook", []byte(`{"event":`), ok},
				{sync.URL + "/webhooks/fail", push, ok},
				{durable.URL + "/webhooks/hook", push, ok},
				{durable.URL + "/webhooks/hook", push, ok},
				{durable.URL + "/webhooks/fail", discussion, ok},
			} {
				if r.url == durable.URL+"/webhooks/fail" {
					fq.mu.Lock()
					fq.err = errors.New("disk full")
					fq.mu.Unlock()
				}
				post(t, "POST", r.url, r.body, r.header)
			}
			var want strings.Builder
			for line := range strings.Lines(allLines) {
				var l slog.Level
				lvl, _, _ := strings.Cut(strings.TrimPrefix(line, "level="), " ")
				if err := l.UnmarshalText([]byte(lvl)); err != nil {
					t.Fatal(err)
				}
				if l >= level {
					want.WriteString(line)
				}
			}
			if got := logs.String(); got != want.String() {
				t.Errorf("log lines at %s:\n%s\nwant:\n%s", level, got, want.String())
			}
		})
	}
}

func TestShutdownLogsWhatItWaitsForAndCloseStopsAtOnce(t *testing.T) {
	t.Setenv("WEBHOOK_SECRET", "")
	logs := &syncBuffer{}
	s := NewServer(WithLogger(slog.New(slog.NewTextHandler(logs, nil))), WithOutput(io.Discard),
		WithResponseDeadline(10*time.Millisecond), WithShutdownGrace(time.Minute))
	started := make(chan string, 3)
	cancelled := make(chan string, 3)
	blocking := func(ctx context.Context, d *Delivery) (any, error) {
		started <- d.Endpoint
		<-ctx.Done()
		cancelled <- d.Endpoint
		return nil, ctx.Err()
	}
	s.AddEndpoint("trigger_training", blocking)
	s.AddEndpoint("inbox", blocking)
	base, cancel, served := serveLoopback(t, s)
	for _, name := range []string{"trigger_training", "inbox", "inbox"} {
		if code, out, _ := post(t, "POST", base+"/webhooks/"+name, fixture(t, "discussion-pr-create-with-comment.json"), nil); code != http.StatusAccepted {
			t.Fatalf("%s: %d %v; want 202", name, code, out)
		}
		<-started
	}

	cancel() // as the first SIGTERM would
	const want = `msg="shutting down: waiting for 3 deliveries to finish (inbox: 2, trigger_training: 1), grace 1m0s left" running=3 grace=1m0s`
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("logs lack %q:\n%s", want, logs)
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-served:
		t.Fatalf("Serve returned %v while handlers were running, within the grace period", err)
	default:
	}

	start := time.Now()
	s.Close() // as the second signal would
	select {
	case err := <-served:
		if err == nil || !strings.Contains(err.Error(), "stopped at once") {
			t.Errorf("Serve = %v; want it stopped at once", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve still running 5s after Close")
	}
	if len(cancelled) != 3 {
		t.Errorf("%d handlers cancelled; want 3", len(cancelled))
	}
	t.Logf("Serve returned %v after Close", time.Since(start))
	if want := `level=WARN msg="stopping now: cancelling 3 deliveries (inbox: 2, trigger_training: 1)"`; !strings.Contains(logs.String(), want) {
		t.Errorf("logs lack %q:\n%s", want, logs)
	}
}

func TestEndpointOptionsRefuseInvalidValues(t *testing.T) {
	s := NewServer(WithOutput(io.Discard))
	for _, opt := range []struct {
		o    EndpointOption
		want []string // what the error names: the option, the field, the value
	}{
		{EndpointTimeout(0), []string{"EndpointTimeout(0s)"}},
		{EndpointTimeout(-time.Second), []string{"EndpointTimeout(-1s)"}},
		{EndpointConcurrency(0), []string{"EndpointConcurrency(0)"}},
		{EndpointFilter(Filter{Kind: "prs"}), []string{"EndpointFilter", "kind", `"prs"`}},
		{EndpointFilter(Filter{Refs: []string{"main"}, RepoTypes: []RepoType{"models"}}), []string{"EndpointFilter", "refs", `"main"`, "repoTypes", `"models"`}},
		{EndpointSecret(""), []string{"EndpointSecret", "empty"}},
	} {
		err := s.AddEndpoint("hook", scopeHandler, opt.o)
		for _, want := range append(opt.want, `"hook"`) {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s: AddEndpoint = %v, want an error naming %s", opt.want[0], err, want)
			}
		}
		if err := s.ReplaceEndpoints([]EndpointSpec{{Name: "hook", Handler: scopeHandler, Options: []EndpointOption{opt.o}}}); err == nil {
			t.Errorf("%s: ReplaceEndpoints accepted it", opt.want[0])
		}
	}
	if got := s.Endpoints(); len(got) != 0 {
		t.Errorf("endpoints %v registered, want none", got)
	}
	if err := s.AddEndpoint("hook", scopeHandler, EndpointFilter(Filter{Kind: KindPullRequest, Refs: []string{"refs/heads/*"}})); err != nil {
		t.Errorf("a valid filter: %v", err)
	}
}

// TestSyncEndpointTimeoutAndConcurrency: in sync mode the server cancels a
// handler at its endpoint's timeout (plus the grace), and runs one at a time
// at concurrency 1, the wait for a slot not counting against the timeout.
func TestSyncEndpointTimeoutAndConcurrency(t *testing.T) {
	body := fixture(t, "discussion-pr-create-with-comment.json")
	ts := newTestServer(t)
	const timeout = 100 * time.Millisecond
	var mu sync.Mutex
	running, most := 0, 0
	if err := ts.AddEndpoint("one", func(ctx context.Context, _ *Delivery) (any, error) {
		mu.Lock()
		running++
		most = max(most, running)
		mu.Unlock()
		defer func() {
			mu.Lock()
			running--
			mu.Unlock()
		}()
		select {
		case <-time.After(timeout * 3 / 4): // three in a row outlast one timeout
			return "done", nil
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}, EndpointConcurrency(1), EndpointTimeout(timeout)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if code, out, _ := post(t, http.MethodPost, ts.URL+"/webhooks/one", body, nil); code != http.StatusOK {
				t.Errorf("answer %d %v, want 200: the wait for a slot is not part of the run", code, out)
			}
		})
	}
	wg.Wait()
	if most != 1 {
		t.Errorf("%d handlers ran at once, want 1", most)
	}

	var left time.Duration
	if err := ts.AddEndpoint("timed", func(ctx context.Context, _ *Delivery) (any, error) {
		deadline, ok := ctx.Deadline()
		if !ok {
			return nil, errors.New("no deadline")
		}
		left = time.Until(deadline)
		<-ctx.Done()
		return nil, ctx.Err()
	}, EndpointTimeout(timeout)); err != nil {
		t.Fatal(err)
	}
	code, out, _ := post(t, http.MethodPost, ts.URL+"/webhooks/timed", body, nil)
	if code != http.StatusInternalServerError || !strings.Contains(fmt.Sprint(out), "deadline exceeded") {
		t.Errorf("answer %d %v, want the handler's deadline error", code, out)
	}
	if want := timeout + minTimeoutGrace; left > want || left < want-20*time.Millisecond {
		t.Errorf("the handler had %v, want its timeout plus the least grace, %v", left, want)
	}
}

// serveLoopback runs s.Serve on a free port of 127.0.0.1 and returns its
// base URL, the cancel of Serve's context, and where Serve's error arrives.
func serveLoopback(t *testing.T, s *Server) (base string, cancel context.CancelFunc, served <-chan error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx, ln) }()
	return "http://" + ln.Addr().String(), cancel, errc
}

// TestPageWhileEndpointsChange: the landing page lists the endpoints of one
// set, even while ReplaceEndpoints swaps sets under it (a reload of
// hooks.yaml), and never fails on an endpoint that just went away.
func TestPageWhileEndpointsChange(t *testing.T) {
	t.Parallel()
	s := NewServer(WithAccess(AccessPublic), WithLogger(slog.New(slog.DiscardHandler)))
	nop := func(context.Context, *Delivery) (any, error) { return nil, nil }
	sets := [][]EndpointSpec{{{Name: "a", Handler: nop}}, {{Name: "b", Handler: nop}}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := s.ReplaceEndpoints(sets[i%2]); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	defer func() {
		close(stop)
		wg.Wait()
	}()
	for range 2000 {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("GET / = %d", rec.Code)
		}
	}
}
