package hfhooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeQueue is a Queue and QueueHistory in memory: it runs nothing.
type fakeQueue struct {
	mu     sync.Mutex
	err    error
	block  bool              // Enqueue waits for its context to end
	seen   map[string]string // body → id
	queued []DeliveryRecord  // newest last
}

func (f *fakeQueue) Enqueue(ctx context.Context, d *Delivery) (Receipt, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.block {
		<-ctx.Done()
		return Receipt{}, fmt.Errorf("fake: waiting for the database lock: %w", ctx.Err())
	}
	if f.err != nil {
		return Receipt{}, f.err
	}
	if id, ok := f.seen[string(d.Body)]; ok {
		return Receipt{ID: id, Duplicate: true}, nil
	}
	id := strconv.Itoa(len(f.queued) + 1)
	f.seen[string(d.Body)] = id
	f.queued = append(f.queued, DeliveryRecord{ID: id, Time: d.ReceivedAt, Endpoint: d.Endpoint, State: StateQueued})
	return Receipt{ID: id}, nil
}

func (f *fakeQueue) Start(context.Context, Executor) error { return nil }
func (f *fakeQueue) Stop(context.Context) error            { return nil }
func (f *fakeQueue) SetEndpoints([]EndpointSettings)       {}

func (f *fakeQueue) List(_ context.Context, q HistoryQuery) (HistoryPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	end := len(f.queued)
	if q.Before != "" {
		end, _ = strconv.Atoi(q.Before)
		end--
	}
	var page HistoryPage
	for i := end - 1; i >= 0; i-- {
		if len(page.Deliveries) == q.Limit {
			page.Next = page.Deliveries[q.Limit-1].ID
			break
		}
		page.Deliveries = append(page.Deliveries, f.queued[i])
	}
	return page, nil
}

func (f *fakeQueue) Get(_ context.Context, id string) (DeliveryDetail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, rec := range f.queued {
		if rec.ID == id {
			return DeliveryDetail{Delivery: rec, Attempts: []Attempt{}}, nil
		}
	}
	return DeliveryDetail{}, fmt.Errorf("fake: %s: %w", id, ErrDeliveryNotFound)
}

func (f *fakeQueue) Retry(_ context.Context, id string) error {
	return fmt.Errorf("fake: %s: %w", id, ErrNotFailed)
}

func TestDurableRequestPath(t *testing.T) {
	fq := &fakeQueue{seen: map[string]string{}}
	ts := newTestServer(t, WithQueue(fq), WithSecret("s"))
	ran := false
	ts.add(t, "hook", func(context.Context, *Delivery) (any, error) { ran = true; return nil, nil })
	body := fixture(t, "repo-content-updated-refs.json")
	secret := map[string]string{SecretHeader: "s"}

	code, out, _ := post(t, "POST", ts.URL+"/webhooks/hook", body, secret)
	if code != http.StatusAccepted || out["status"] != "queued" || out["id"] != "1" {
		t.Errorf("first: %d %v, want 202 queued 1", code, out)
	}
	code, out, _ = post(t, "POST", ts.URL+"/webhooks/hook", body, secret)
	if code != http.StatusOK || out["status"] != "duplicate" || out["id"] != "1" {
		t.Errorf("repeat: %d %v, want 200 duplicate 1", code, out)
	}
	if ran {
		t.Error("the handler ran on the request path in durable mode")
	}
	fq.mu.Lock()
	fq.err = errors.New("disk full")
	fq.mu.Unlock()
	code, out, _ = post(t, "POST", ts.URL+"/webhooks/hook", fixture(t, "discussion-update-no-comment.json"), secret)
	if code != http.StatusServiceUnavailable || out["error"] == nil {
		t.Errorf("queue down: %d %v, want 503", code, out)
	}
	post(t, "POST", ts.URL+"/webhooks/hook", body, nil) // 401

	// Queued deliveries come from the queue, refused ones from memory.
	var states []DeliveryState
	var dupOf []string
	before := ""
	for {
		page, err := ts.history.List(context.Background(), HistoryQuery{Limit: 1, Before: before})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Deliveries {
			states = append(states, r.State)
			dupOf = append(dupOf, r.DuplicateOf)
		}
		if page.Next == "" {
			break
		}
		before = page.Next
	}
	if fmt.Sprint(states) != "[rejected rejected ignored queued]" || fmt.Sprintf("%q", dupOf) != `["" "" "1" ""]` {
		t.Errorf("paged states = %v, duplicates of %q, want the 401, the 503, the repeat of 1, then the queued one", states, dupOf)
	}
	if code, out, _ := post(t, "POST", ts.URL+"/api/deliveries/1/retry", nil, nil); code != http.StatusConflict {
		t.Errorf("retry: %d %v", code, out)
	}
}

func TestRetryNeedsAQueue(t *testing.T) {
	ts := newTestServer(t)
	if code, _, _ := post(t, "POST", ts.URL+"/api/deliveries/1/retry", nil, nil); code != http.StatusNotFound {
		t.Errorf("retry in sync mode: %d, want 404", code)
	}
}

func TestExecute(t *testing.T) {
	s := NewServer(WithLogger(slog.New(slog.DiscardHandler)))
	s.AddEndpoint("hook", func(_ context.Context, d *Delivery) (any, error) { return d.ID, nil })
	s.AddEndpoint("panic", func(context.Context, *Delivery) (any, error) { panic("boom") })
	if v, err := s.Execute(context.Background(), &Delivery{ID: "7", Endpoint: "hook"}); v != "7" || err != nil {
		t.Errorf("Execute = %v, %v", v, err)
	}
	if _, err := s.Execute(context.Background(), &Delivery{Endpoint: "panic"}); !errors.Is(err, errPanic) {
		t.Errorf("panic: %v", err)
	}
	if _, err := s.Execute(context.Background(), &Delivery{Endpoint: "gone"}); !errors.Is(err, ErrUnknownEndpoint) {
		t.Errorf("unknown endpoint: %v", err)
	}
}

func TestSyncStates(t *testing.T) {
	ts := newTestServer(t, WithResponseDeadline(20*time.Millisecond))
	release := make(chan struct{})
	ts.add(t, "ok", scopeHandler)
	ts.add(t, "fail", func(context.Context, *Delivery) (any, error) { return nil, errors.New("x") })
	ts.add(t, "slow", func(context.Context, *Delivery) (any, error) { <-release; return nil, nil })
	body := fixture(t, "discussion-pr-create-with-comment.json")
	for _, p := range []string{"ok", "fail", "slow"} {
		post(t, "POST", ts.URL+"/webhooks/"+p, body, nil)
	}
	post(t, "GET", ts.URL+"/webhooks/ok", nil, nil)
	close(release)
	if err := ts.Shutdown(context.Background()); err != nil { // waits for slow
		t.Fatal(err)
	}
	page, _ := ts.history.List(context.Background(), HistoryQuery{Limit: 10})
	got := map[string]string{}
	for _, r := range page.Deliveries {
		got[fmt.Sprint(r.Endpoint, r.StatusCode)] = fmt.Sprint(r.State, r.Attempts)
	}
	want := map[string]string{"ok200": "succeeded1", "fail500": "failed1", "slow202": "succeeded1", "ok405": "rejected0"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("states = %v, want %v", got, want)
	}
}

func TestEnqueueTimeout(t *testing.T) {
	ts := newTestServer(t, WithQueue(&fakeQueue{block: true}), WithEnqueueTimeout(20*time.Millisecond))
	ts.add(t, "hook", scopeHandler)
	start := time.Now()
	code, out, _ := post(t, "POST", ts.URL+"/webhooks/hook", fixture(t, "repo-content-updated-refs.json"), nil)
	want := "the delivery could not be queued within 20ms: fake: waiting for the database lock: context deadline exceeded; the Hub will retry"
	if code != http.StatusServiceUnavailable || out["error"] != want {
		t.Errorf("answer %d %v; want 503 %q", code, out, want)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("answered after %v; want the enqueue timeout", d)
	}
}

// healthQueue is a fakeQueue that implements QueueHealth.
type healthQueue struct {
	fakeQueue
	err      error
	stats    QueueStats
	statsErr error
}

func (h *healthQueue) Health(context.Context) error { return h.err }

func (h *healthQueue) Stats(context.Context) (QueueStats, error) { return h.stats, h.statsErr }

func TestHealthz(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
		code int
		want string
	}{
		{name: "sync", code: 200, want: `{"status":"ok"}`},
		{name: "queue without health", opts: []Option{WithQueue(&fakeQueue{})}, code: 200, want: `{"status":"ok"}`},
		{name: "healthy queue", opts: []Option{WithQueue(&healthQueue{})}, code: 200, want: `{"status":"ok"}`},
		// Everyone may read /healthz: the cause (a path, a host) is logged, not shown.
		{name: "unavailable queue", opts: []Option{WithQueue(&healthQueue{err: errors.New("queue: /secret/path is locked")})},
			code: 503, want: `{"status":"unavailable"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, tt.opts...)
			resp, err := http.Get(ts.URL + "/healthz")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.code || strings.TrimSpace(string(body)) != tt.want {
				t.Errorf("GET /healthz = %d %s; want %d %s", resp.StatusCode, body, tt.code, tt.want)
			}
			if tt.code == 503 && !strings.Contains(ts.logs.String(), "/secret/path is locked") {
				t.Errorf("the cause is not in the log:\n%s", ts.logs.String())
			}
		})
	}
}

func TestReadyz(t *testing.T) {
	stats := QueueStats{Queued: 3, Scheduled: 2, Running: 1, OldestAge: 1500 * time.Millisecond}
	tests := []struct {
		name string
		opts []Option
		code int
		want string
	}{
		{name: "sync", code: 200, want: `{"status":"ready"}`},
		{name: "queue without health", opts: []Option{WithQueue(&fakeQueue{})}, code: 200, want: `{"status":"ready"}`},
		{name: "healthy queue", opts: []Option{WithQueue(&healthQueue{stats: stats})}, code: 200,
			want: `{"status":"ready","queue":{"canCommit":true,"queued":3,"scheduled":2,"running":1,"oldestAgeSeconds":1.5}}`},
		{name: "queue that cannot commit", opts: []Option{WithQueue(&healthQueue{err: errors.New("queue: /secret/path is locked"), stats: stats})}, code: 503,
			want: `{"status":"unavailable","queue":{"canCommit":false,"queued":3,"scheduled":2,"running":1,"oldestAgeSeconds":1.5}}`},
		{name: "queue that cannot count", opts: []Option{WithQueue(&healthQueue{statsErr: errors.New("queue: /secret/path: I/O error")})}, code: 503,
			want: `{"status":"unavailable","queue":{"canCommit":true,"queued":0,"scheduled":0,"running":0,"oldestAgeSeconds":0}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestServer(t, tt.opts...)
			resp, err := http.Get(ts.URL + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.code || strings.TrimSpace(string(body)) != tt.want {
				t.Errorf("GET /readyz = %d %s; want %d %s", resp.StatusCode, body, tt.code, tt.want)
			}
		})
	}
}

func TestDeliveriesPageSizeIsCapped(t *testing.T) {
	ts := newTestServer(t)
	if code, out, _ := post(t, "GET", ts.URL+"/api/deliveries?limit=500", nil, nil); code != http.StatusOK {
		t.Errorf("limit=500: %d %v; want 200", code, out)
	}
	code, out, _ := post(t, "GET", ts.URL+"/api/deliveries?limit=501", nil, nil)
	if want := "limit must be at most 500, got 501: page through with before"; code != http.StatusBadRequest || out["error"] != want {
		t.Errorf("limit=501: %d %v; want 400 %q", code, out, want)
	}
}

// TestDeliveriesBadState: an unknown state is a 400 that names every state,
// ignored included.
func TestDeliveriesBadState(t *testing.T) {
	ts := newTestServer(t)
	code, out, _ := post(t, "GET", ts.URL+"/api/deliveries?state=done", nil, nil)
	want := `state must be one of queued, running, retrying, succeeded, failed, rejected, ignored; got "done"`
	if code != http.StatusBadRequest || out["error"] != want {
		t.Errorf("state=done: %d %v; want 400 %q", code, out, want)
	}
}
