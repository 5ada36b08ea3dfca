package queue

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/hub"
	"github.com/hfhooks/hfhooks/hubtest"
	"github.com/jackc/pgx/v5"
)

// postgresEnv names the PostgreSQL server of the tests.
const postgresEnv = "HFHOOKS_TEST_POSTGRES_URL"

// backendCase is a database to run the queue on.
type backendCase struct {
	name string
	// dsn returns the data source and options of a database of the test's
	// own, the same on every call within one test.
	dsn func(t testing.TB) (string, []Option)
}

func backends() []backendCase {
	return []backendCase{
		{"sqlite", func(t testing.TB) (string, []Option) {
			return "sqlite:" + filepath.Join(testDir(t), "queue.db"), nil
		}},
		{"postgres", func(t testing.TB) (string, []Option) {
			return postgresURL(t), []Option{WithSchema(testSchema(t))}
		}},
	}
}

var (
	testDirs    sync.Map // *testing.T → string
	testSchemas sync.Map // *testing.T → string
)

func testDir(t testing.TB) string {
	if dir, ok := testDirs.Load(t); ok {
		return dir.(string)
	}
	dir := t.TempDir()
	testDirs.Store(t, dir)
	t.Cleanup(func() { testDirs.Delete(t) }) // a benchmark's B runs again
	return dir
}

func postgresURL(t testing.TB) string {
	u := os.Getenv(postgresEnv)
	if u == "" {
		t.Skip("PostgreSQL tests skipped: set " + postgresEnv + "=postgres://postgres@127.0.0.1:5432/test?sslmode=disable to run them")
	}
	return u
}

// testSchema is a schema of the test's own, dropped when it ends.
func testSchema(t testing.TB) string {
	if s, ok := testSchemas.Load(t); ok {
		return s.(string)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "hfhooks_test_" + hex.EncodeToString(b[:])
	testSchemas.Store(t, schema)
	t.Cleanup(func() {
		testSchemas.Delete(t)
		conn, err := pgx.Connect(context.Background(), postgresURL(t))
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Error(err)
		}
	})
	return schema
}

// testSecret is the webhook secret of the test servers.
const testSecret = "s3cret"

// fastOptions make retries quick.
var fastOptions = []Option{WithBackoff(5*time.Millisecond, 20*time.Millisecond), WithLogger(slog.New(slog.DiscardHandler))}

// openQueue opens the test's queue, closed when the test ends.
func openQueue(t testing.TB, bc backendCase, opts ...Option) *Queue {
	t.Helper()
	dsn, base := bc.dsn(t)
	q, err := Open(context.Background(), dsn, append(append(base, fastOptions...), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

// durable is a Server in durable mode behind a loopback HTTP server, with
// its queue's workers running.
type durable struct {
	srv *hfhooks.Server
	q   *Queue
	url string
}

func startDurable(t testing.TB, q *Queue, handlers map[string]hfhooks.HandlerFunc) *durable {
	t.Helper()
	var hooks []hfhooks.EndpointSpec
	for name, h := range handlers {
		hooks = append(hooks, hfhooks.EndpointSpec{Name: name, Handler: h})
	}
	return startHooks(t, q, hooks...)
}

// startHooks is startDurable with endpoint options.
func startHooks(t testing.TB, q *Queue, hooks ...hfhooks.EndpointSpec) *durable {
	t.Helper()
	srv := hfhooks.NewServer(hfhooks.WithQueue(q), hfhooks.WithSecret(testSecret), hfhooks.WithLogger(slog.New(slog.DiscardHandler)), hfhooks.WithOutput(io.Discard))
	if err := srv.ReplaceEndpoints(hooks); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	if err := q.Start(context.Background(), srv); err != nil {
		t.Fatal(err)
	}
	return &durable{srv: srv, q: q, url: hs.URL}
}

// payload returns a valid v3 payload whose repository is named name, so
// that each test delivery has its own body.
func payload(t testing.TB, name string) []byte {
	t.Helper()
	raw, err := os.ReadFile("../testdata/payloads/repo-content-updated-refs.json")
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	m["repo"].(map[string]any)["name"] = name
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type answer struct {
	Code   int
	Status string `json:"status"`
	ID     string `json:"id"`
	Error  string `json:"error"`
}

func send(t testing.TB, url string, body []byte, header http.Header) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if header != nil {
		req.Header = header.Clone()
	}
	if req.Header.Get(hfhooks.SecretHeader) == "" {
		req.Header.Set(hfhooks.SecretHeader, testSecret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{Code: resp.StatusCode}
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatal(err)
	}
	return a
}

// deliveries reads GET /api/deliveries with the query.
func deliveries(t testing.TB, url, query string) hfhooks.HistoryPage {
	t.Helper()
	resp, err := http.Get(url + "/api/deliveries?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /api/deliveries?%s: %d %s", query, resp.StatusCode, b)
	}
	var page hfhooks.HistoryPage
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	return page
}

// waitFor polls the delivery id until it is in one of states, and returns it.
func waitFor(t testing.TB, url, id string, states ...hfhooks.DeliveryState) hfhooks.DeliveryRecord {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last hfhooks.DeliveryRecord
	for time.Now().Before(deadline) {
		for _, rec := range deliveries(t, url, "limit=500").Deliveries {
			if rec.ID == id {
				last = rec
			}
		}
		if slices.Contains(states, last.State) {
			return last
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("delivery %s is %+v, want %v", id, last, states)
	return last
}

// forEachBackend runs test on every backend, in parallel.
func forEachBackend(t *testing.T, test func(t *testing.T, bc backendCase)) {
	t.Parallel()
	for _, bc := range backends() {
		t.Run(bc.name, func(t *testing.T) {
			t.Parallel()
			test(t, bc)
		})
	}
}

func TestRetriesThenSuccess(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bc backendCase) {
		var runs atomic.Int32
		var ids sync.Map
		d := startDurable(t, openQueue(t, bc, WithMaxAttempts(5)), map[string]hfhooks.HandlerFunc{
			"flaky": func(_ context.Context, d *hfhooks.Delivery) (any, error) {
				ids.Store(d.ID, true)
				if runs.Add(1) < 3 {
					return nil, errors.New("cluster down")
				}
				return nil, nil
			},
		})
		a := send(t, d.url+"/webhooks/flaky", payload(t, "acme/flaky"), nil)
		if a.Code != http.StatusAccepted || a.Status != "queued" || a.ID == "" {
			t.Fatalf("answer = %+v, want 202 queued with an id", a)
		}
		rec := waitFor(t, d.url, a.ID, hfhooks.StateSucceeded)
		if rec.Attempts != 3 || runs.Load() != 3 || rec.Error != "cluster down" {
			t.Errorf("record = %+v after %d runs, want 3 attempts and the last error", rec, runs.Load())
		}
		if _, ok := ids.Load(a.ID); !ok {
			t.Errorf("the handler did not see the delivery ID %s", a.ID)
		}
		if rec.RepoName != "acme/flaky" || rec.Scope != "repo.content" || rec.Endpoint != "flaky" {
			t.Errorf("record = %+v", rec)
		}
	})
}

func TestRetriesExhaustedThenRerun(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bc backendCase) {
		var healthy atomic.Bool
		var runs atomic.Int32
		d := startDurable(t, openQueue(t, bc, WithMaxAttempts(2)), map[string]hfhooks.HandlerFunc{
			"hook": func(context.Context, *hfhooks.Delivery) (any, error) {
				runs.Add(1)
				if !healthy.Load() {
					return nil, errors.New("still down")
				}
				return nil, nil
			},
		})
		a := send(t, d.url+"/webhooks/hook", payload(t, "acme/down"), nil)
		rec := waitFor(t, d.url, a.ID, hfhooks.StateFailed)
		if rec.Attempts != 2 || rec.Error != "still down" || runs.Load() != 2 {
			t.Errorf("failed record = %+v after %d runs", rec, runs.Load())
		}
		if page := deliveries(t, d.url, "state=failed"); len(page.Deliveries) != 1 || page.Deliveries[0].ID != a.ID {
			t.Errorf("state=failed = %+v", page)
		}
		page := get(t, d.url+"/")
		if !strings.Contains(page, `action="/api/deliveries/`+a.ID+`/retry"`) || !strings.Contains(page, "Re-run") {
			t.Errorf("the page has no Re-run button for %s:\n%s", a.ID, page)
		}

		healthy.Store(true)
		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noRedirect.Post(d.url+"/api/deliveries/"+a.ID+"/retry", "application/x-www-form-urlencoded", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "ok=1") {
			t.Fatalf("re-run: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		rec = waitFor(t, d.url, a.ID, hfhooks.StateSucceeded)
		if rec.Attempts != 3 || runs.Load() != 3 {
			t.Errorf("re-run record = %+v after %d runs", rec, runs.Load())
		}
		for id, want := range map[string]int{a.ID: http.StatusConflict, "999999": http.StatusNotFound, "x": http.StatusNotFound} {
			if a := send(t, d.url+"/api/deliveries/"+id+"/retry", nil, nil); a.Code != want {
				t.Errorf("re-run %s: %+v, want %d", id, a, want)
			}
		}
	})
}

func get(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestPanicIsRetried(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bc backendCase) {
		var runs atomic.Int32
		d := startDurable(t, openQueue(t, bc), map[string]hfhooks.HandlerFunc{
			"hook": func(context.Context, *hfhooks.Delivery) (any, error) {
				if runs.Add(1) == 1 {
					panic("boom")
				}
				return nil, nil
			},
		})
		a := send(t, d.url+"/webhooks/hook", payload(t, "acme/panic"), nil)
		rec := waitFor(t, d.url, a.ID, hfhooks.StateSucceeded)
		if rec.Attempts != 2 || !strings.Contains(rec.Error, "panicked: boom") {
			t.Errorf("record = %+v, want 2 attempts and the panic as the first error", rec)
		}
	})
}

func TestAttemptTimeout(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bc backendCase) {
		var runs atomic.Int32
		firstErr := make(chan error, 1)
		d := startDurable(t, openQueue(t, bc, WithAttemptTimeout(200*time.Millisecond)), map[string]hfhooks.HandlerFunc{
			"hook": func(ctx context.Context, _ *hfhooks.Delivery) (any, error) {
				if runs.Add(1) == 1 {
					<-ctx.Done() // hangs until the attempt times out
					firstErr <- ctx.Err()
					return nil, ctx.Err()
				}
				return nil, nil
			},
		})
		a := send(t, d.url+"/webhooks/hook", payload(t, "acme/slow"), nil)
		rec := waitFor(t, d.url, a.ID, hfhooks.StateSucceeded)
		if err := <-firstErr; !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("first attempt ended with %v, want its deadline", err)
		}
		if rec.Attempts != 2 {
			t.Errorf("record = %+v, want 2 attempts", rec)
		}
	})
}

func TestClientErrorIsNotRetried(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bc backendCase) {
		var runs atomic.Int32
		d := startDurable(t, openQueue(t, bc, WithMaxAttempts(5)), map[string]hfhooks.HandlerFunc{
			"hook": func(context.Context, *hfhooks.Delivery) (any, error) {
				runs.Add(1)
				return nil, hfhooks.Error("not a model repo", http.StatusUnprocessableEntity)
			},
		})
		a := send(t, d.url+"/webhooks/hook", payload(t, "acme/bad"), nil)
		rec := waitFor(t, d.url, a.ID, hfhooks.StateFailed)
		if rec.Attempts != 1 || runs.Load() != 1 || rec.Error != "not a model repo" {
			t.Errorf("record = %+v after %d runs, want one attempt", rec, runs.Load())
		}
	})
}

func TestDuplicateDelivery(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bc backendCase) {
		var mu sync.Mutex
		runs := map[string]int{}
		var headers []http.Header
		d := startDurable(t, openQueue(t, bc, WithDedupWindow(time.Hour)), map[string]hfhooks.HandlerFunc{
			"hook": func(_ context.Context, d *hfhooks.Delivery) (any, error) {
				mu.Lock()
				defer mu.Unlock()
				runs[d.Payload.Repo.Name]++
				headers = append(headers, d.Header)
				return nil, nil
			},
		})
		body := payload(t, "acme/once")
		first := send(t, d.url+"/webhooks/hook", body, http.Header{"X-Webhook-Secret": {"s3cret"}, "X-Trace": {"t1"}})
		again := send(t, d.url+"/webhooks/hook", body, nil)
		if first.Code != http.StatusAccepted || again.Code != http.StatusOK || again.Status != "duplicate" || again.ID != first.ID {
			t.Fatalf("answers %+v then %+v, want 202 queued then 200 duplicate with the same id", first, again)
		}
		waitFor(t, d.url, first.ID, hfhooks.StateSucceeded)
		// The repeat is in the history, ignored, naming the first.
		ignored := deliveries(t, d.url, "state=ignored").Deliveries
		if len(ignored) != 1 || ignored[0].DuplicateOf != first.ID || ignored[0].ID == first.ID || ignored[0].StatusCode != http.StatusOK {
			t.Errorf("ignored deliveries %+v, want the repeat, a duplicate of %s", ignored, first.ID)
		}
		if page := get(t, d.url+"/"); !strings.Contains(page, `duplicate of <a href="/deliveries/`+first.ID+`">#`+first.ID+`</a>`) {
			t.Errorf("the page does not show the duplicate of %s:\n%s", first.ID, page)
		}

		// Repeats within one group commit.
		burst := payload(t, "acme/burst")
		answers := make([]answer, 30)
		var wg sync.WaitGroup
		for i := range answers {
			wg.Go(func() { answers[i] = send(t, d.url+"/webhooks/hook", burst, nil) })
		}
		wg.Wait()
		queued := 0
		for _, a := range answers {
			if a.Code == http.StatusAccepted {
				queued++
			}
			if a.ID != answers[0].ID || (a.Code != http.StatusAccepted && a.Status != "duplicate") {
				t.Errorf("burst answer %+v, want all with id %s", a, answers[0].ID)
			}
		}
		if queued != 1 {
			t.Errorf("%d of the burst were queued, want 1", queued)
		}
		waitFor(t, d.url, answers[0].ID, hfhooks.StateSucceeded)
		if n := len(deliveries(t, d.url, "state=succeeded").Deliveries); n != 2 {
			t.Errorf("%d deliveries queued, want 2", n)
		}
		mu.Lock()
		defer mu.Unlock()
		if runs["acme/once"] != 1 || runs["acme/burst"] != 1 {
			t.Errorf("handler runs = %v, want one each", runs)
		}
		if h := headers[0]; h.Get("X-Trace") != "t1" || h.Get(hfhooks.SecretHeader) != "" {
			t.Errorf("handler headers = %v: want X-Trace kept and the secret never stored", h)
		}
	})
}

// TestRepeatsRunByDefault: without a dedup window, byte-identical
// deliveries are each queued and run, alone or in one group commit.
func TestRepeatsRunByDefault(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bc backendCase) {
		var runs atomic.Int32
		d := startDurable(t, openQueue(t, bc), map[string]hfhooks.HandlerFunc{
			"hook": func(context.Context, *hfhooks.Delivery) (any, error) { runs.Add(1); return nil, nil },
		})
		body := payload(t, "acme/twice")
		ids := map[string]bool{}
		for range 2 {
			a := send(t, d.url+"/webhooks/hook", body, nil)
			if a.Code != http.StatusAccepted || a.Status != "queued" || ids[a.ID] {
				t.Fatalf("answer %+v, want 202 queued with an id of its own", a)
			}
			ids[a.ID] = true
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		for range 10 {
			wg.Go(func() {
				a := send(t, d.url+"/webhooks/hook", body, nil)
				mu.Lock()
				defer mu.Unlock()
				if a.Code != http.StatusAccepted || ids[a.ID] {
					t.Errorf("answer %+v, want 202 with an id of its own", a)
				}
				ids[a.ID] = true
			})
		}
		wg.Wait()
		for id := range ids {
			waitFor(t, d.url, id, hfhooks.StateSucceeded)
		}
		if runs.Load() != 12 {
			t.Errorf("%d runs, want 12", runs.Load())
		}
	})
}

// TestReplayRunsAgain: the Hub's Replay sends the same body again; a
// receiver with the default options runs it again.
func TestReplayRunsAgain(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bc backendCase) {
		ctx := t.Context()
		runs := make(chan string, 2)
		d := startDurable(t, openQueue(t, bc), map[string]hfhooks.HandlerFunc{
			"sync": func(_ context.Context, d *hfhooks.Delivery) (any, error) { runs <- d.ID; return nil, nil },
		})
		h := hubtest.NewServer(hubtest.WithRetrySchedule())
		t.Cleanup(h.Close)
		client, err := hub.NewClient(hub.WithEndpoint(h.URL), hub.WithToken(h.Token))
		if err != nil {
			t.Fatal(err)
		}
		wh, err := client.CreateWebhook(ctx, hub.CreateWebhookOptions{
			URL: d.url + "/webhooks/sync", Secret: testSecret,
			Watched: []hub.WatchedItem{{Type: hub.WatchedDataset, Name: "acme/reviews"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		sent, err := h.Emit(ctx, hubtest.Event{Kind: "repo.content", Repo: "dataset:acme/reviews"})
		if err != nil {
			t.Fatal(err)
		}
		first, err := h.WaitForDelivery(ctx, sent.Deliveries[0].ID)
		if err != nil || first.State != hubtest.StateDelivered {
			t.Fatalf("delivery: %+v, %v", first, err)
		}
		again, err := h.Replay(ctx, wh.ID, sent.EventID)
		if err != nil || again.State != hubtest.StateDelivered {
			t.Fatalf("replay: %+v, %v", again, err)
		}
		if a, b := <-runs, <-runs; a == b {
			t.Errorf("the replay ran as delivery %s again, want a delivery of its own", a)
		}
	})
}

// TestDedupInAndAcrossBatches commits two batches straight with the
// committer's own function: repeats within the first batch, and repeats in
// the second of deliveries of the first, are duplicates of the first
// delivery, with its id, and leave no job of their own.
func TestDedupInAndAcrossBatches(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bc backendCase) {
		q := openQueue(t, bc, WithDedupWindow(time.Hour))
		delivery := func(name string) *hfhooks.Delivery {
			return &hfhooks.Delivery{Endpoint: "hook", Body: payload(t, "acme/"+name), ReceivedAt: time.Now()}
		}
		ids := map[string]string{}
		commit := func(names ...string) {
			t.Helper()
			var batch []*request
			for _, name := range names {
				batch = append(batch, q.newRequest(delivery(name)))
			}
			q.commitBatch(batch)
			for i, r := range batch {
				res := <-r.done
				if res.err != nil {
					t.Fatalf("%s: %v", names[i], res.err)
				}
				first, seen := ids[names[i]]
				if !seen {
					ids[names[i]] = res.receipt.ID
				}
				if res.receipt.Duplicate != seen || (seen && res.receipt.ID != first) {
					t.Errorf("%s (#%d of the batch): receipt %+v, want duplicate=%v of id %q", names[i], i, res.receipt, seen, first)
				}
			}
		}
		commit("a", "b", "a", "c", "a")
		commit("b", "d", "c", "d")
		page, err := q.List(context.Background(), hfhooks.HistoryQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		want := []string{ids["d"], ids["c"], ids["b"], ids["a"]}
		if got := recIDs(page.Deliveries); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("jobs %v, want only the first deliveries' %v", got, want)
		}
	})
}

// TestDedupAcrossProcesses enqueues the same deliveries at once through two
// queues on one PostgreSQL database, as two processes would: each is queued
// once, and every repeat answers with its id.
func TestDedupAcrossProcesses(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bc backendCase) {
		if bc.name == "sqlite" {
			t.Skip("one process at a time uses an SQLite file")
		}
		queues := []*Queue{openQueue(t, bc, WithDedupWindow(time.Hour)), openQueue(t, bc, WithDedupWindow(time.Hour))}
		const deliveries, repeats = 40, 4
		var mu sync.Mutex
		receipts := map[string][]hfhooks.Receipt{}
		var wg sync.WaitGroup
		for i := range deliveries * repeats {
			wg.Go(func() {
				name := fmt.Sprintf("acme/%d", i%deliveries)
				d := &hfhooks.Delivery{Endpoint: "hook", Body: payload(t, name), ReceivedAt: time.Now()}
				r, err := queues[i%2].Enqueue(context.Background(), d)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				receipts[name] = append(receipts[name], r)
				mu.Unlock()
			})
		}
		wg.Wait()
		for name, rs := range receipts {
			queued := 0
			for _, r := range rs {
				if !r.Duplicate {
					queued++
				}
				if r.ID != rs[0].ID {
					t.Errorf("%s: receipts %+v, want one id", name, rs)
					break
				}
			}
			if queued != 1 {
				t.Errorf("%s: queued %d times, want once", name, queued)
			}
		}
		page, err := queues[0].List(context.Background(), hfhooks.HistoryQuery{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(page.Deliveries); n != deliveries {
			t.Errorf("%d jobs, want %d", n, deliveries)
		}
	})
}

func TestDedupWindowExpires(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bc backendCase) {
		q := openQueue(t, bc, WithDedupWindow(time.Nanosecond))
		d := &hfhooks.Delivery{Endpoint: "hook", Body: payload(t, "acme/again"), ReceivedAt: time.Now()}
		first, err := q.Enqueue(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		second, err := q.Enqueue(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		if second.Duplicate || second.ID == first.ID {
			t.Errorf("receipts %+v then %+v: a repeat after the window must be queued again", first, second)
		}
	})
}

func TestGracefulShutdown(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bc backendCase) {
		var mu sync.Mutex
		ran := map[string]int{}
		started, release := make(chan struct{}), make(chan struct{})
		handler := func(_ context.Context, d *hfhooks.Delivery) (any, error) {
			mu.Lock()
			ran[d.Payload.Repo.Name]++
			mu.Unlock()
			if d.Payload.Repo.Name == "acme/long" {
				close(started)
				<-release
			}
			return nil, nil
		}
		q := openQueue(t, bc, WithWorkers(1))
		srv := hfhooks.NewServer(hfhooks.WithQueue(q), hfhooks.WithSecret(testSecret), hfhooks.WithLogger(slog.New(slog.DiscardHandler)), hfhooks.WithOutput(io.Discard), hfhooks.WithShutdownGrace(10*time.Second))
		srv.AddEndpoint("hook", handler)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ctx, ln) }()
		url := "http://" + ln.Addr().String()

		long := send(t, url+"/webhooks/hook", payload(t, "acme/long"), nil)
		<-started // the only worker is busy: the next two stay queued
		rest := []answer{send(t, url+"/webhooks/hook", payload(t, "acme/next1"), nil), send(t, url+"/webhooks/hook", payload(t, "acme/next2"), nil)}
		cancel() // as SIGTERM does
		select {
		case err := <-served:
			t.Fatalf("Serve returned (%v) while a handler was running", err)
		case <-time.After(100 * time.Millisecond):
		}
		close(release)
		if err := <-served; err != nil {
			t.Fatalf("Serve = %v", err)
		}
		mu.Lock()
		if ran["acme/long"] != 1 || ran["acme/next1"]+ran["acme/next2"] != 0 {
			t.Errorf("runs before the restart = %v, want only acme/long", ran)
		}
		mu.Unlock()
		if err := q.Close(); err != nil {
			t.Fatal(err)
		}

		// The next start runs what was left queued.
		d := startDurable(t, openQueue(t, bc), map[string]hfhooks.HandlerFunc{"hook": handler})
		if rec := waitFor(t, d.url, long.ID, hfhooks.StateSucceeded); rec.Attempts != 1 {
			t.Errorf("the running delivery: %+v, want it finished in one attempt", rec)
		}
		for _, a := range rest {
			waitFor(t, d.url, a.ID, hfhooks.StateSucceeded)
		}
		mu.Lock()
		defer mu.Unlock()
		if fmt.Sprint(ran) != "map[acme/long:1 acme/next1:1 acme/next2:1]" {
			t.Errorf("runs = %v, want one each", ran)
		}
	})
}

func TestHistorySurvivesReopenWithFilterAndPaging(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bc backendCase) {
		handlers := map[string]hfhooks.HandlerFunc{"hook": func(_ context.Context, d *hfhooks.Delivery) (any, error) {
			if strings.HasSuffix(d.Payload.Repo.Name, "odd") {
				return nil, hfhooks.Error("odd one", http.StatusBadRequest)
			}
			return nil, nil
		}}
		q := openQueue(t, bc)
		d := startDurable(t, q, handlers)
		var ids, odd []string // newest first
		for i := range 7 {
			name := fmt.Sprintf("acme/%d-even", i)
			if i%2 == 1 {
				name = fmt.Sprintf("acme/%d-odd", i)
			}
			a := send(t, d.url+"/webhooks/hook", payload(t, name), nil)
			ids = append([]string{a.ID}, ids...)
			if i%2 == 1 {
				odd = append([]string{a.ID}, odd...)
			}
			waitFor(t, d.url, a.ID, hfhooks.StateSucceeded, hfhooks.StateFailed)
		}
		if a := send(t, d.url+"/webhooks/hook", []byte("{"), nil); a.Code != http.StatusBadRequest {
			t.Fatalf("invalid body: %+v", a)
		}
		// Before the restart, the rejected request is in memory, newest.
		all := pageThrough(t, d.url, "", 3)
		if len(all) != 8 || all[0].State != hfhooks.StateRejected || fmt.Sprint(recIDs(all[1:])) != fmt.Sprint(ids) {
			t.Fatalf("all deliveries = %+v, want the rejected one then %v", all, ids)
		}
		if err := q.Close(); err != nil {
			t.Fatal(err)
		}

		d = startDurable(t, openQueue(t, bc), handlers)
		if got := recIDs(pageThrough(t, d.url, "", 3)); fmt.Sprint(got) != fmt.Sprint(ids) {
			t.Errorf("after reopening: %v, want %v", got, ids)
		}
		failed := pageThrough(t, d.url, "failed", 2)
		if fmt.Sprint(recIDs(failed)) != fmt.Sprint(odd) || failed[0].Error != "odd one" {
			t.Errorf("failed = %+v, want %v", failed, odd)
		}
		if n := len(pageThrough(t, d.url, "succeeded", 10)); n != 4 {
			t.Errorf("%d succeeded, want 4", n)
		}
		if n := len(pageThrough(t, d.url, "queued", 10)); n != 0 {
			t.Errorf("%d queued, want 0", n)
		}
		for _, bad := range []string{"state=lost", "limit=0", "before=x"} {
			resp, err := http.Get(d.url + "/api/deliveries?" + bad)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Errorf("%s: %d, want an error", bad, resp.StatusCode)
			}
		}
	})
}

// pageThrough reads every delivery in state, limit at a time.
func pageThrough(t *testing.T, url, state string, limit int) []hfhooks.DeliveryRecord {
	t.Helper()
	var all []hfhooks.DeliveryRecord
	before := ""
	for range 100 {
		page := deliveries(t, url, fmt.Sprintf("state=%s&limit=%d&before=%s", state, limit, before))
		if len(page.Deliveries) > limit {
			t.Fatalf("page of %d, limit %d", len(page.Deliveries), limit)
		}
		all = append(all, page.Deliveries...)
		if page.Next == "" {
			return all
		}
		before = page.Next
	}
	t.Fatal("paging does not end")
	return nil
}

func recIDs(recs []hfhooks.DeliveryRecord) []string {
	var ids []string
	for _, r := range recs {
		ids = append(ids, r.ID)
	}
	return ids
}

func TestOpenErrors(t *testing.T) {
	for dsn, want := range map[string]string{
		"mysql://u:pw@host/db": `unsupported data source "mysql://u:xxxxx@host/db"`,
		"hfhooks.db":           "want sqlite:PATH or a postgres:// URL",
		"sqlite:":              "needs a file path",
	} {
		if _, err := Open(context.Background(), dsn); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%q) = %v, want %q", dsn, err, want)
		}
	}
	if _, err := Open(context.Background(), "sqlite:x.db", WithMaxAttempts(0)); err == nil {
		t.Error("max attempts 0 accepted")
	}
}

func TestBackoff(t *testing.T) {
	b := backoff{base: 100 * time.Millisecond, limit: time.Second}
	for attempt, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 80: time.Second} {
		for range 50 {
			if d := b.delay(mrand.Int64(), attempt); d < want/2 || d > want {
				t.Fatalf("attempt %d: %v, want within [%v, %v]", attempt, d, want/2, want)
			}
		}
	}
}

// printed is a handler result or error that carries a command's output.
type printed string

func (p printed) DeliveryOutput() string { return string(p) }
func (p printed) Error() string          { return "exited with code 1" }

func TestOutputIsKept(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bc backendCase) {
		d := startDurable(t, openQueue(t, bc, WithMaxAttempts(1)), map[string]hfhooks.HandlerFunc{
			"ok":    func(context.Context, *hfhooks.Delivery) (any, error) { return printed("epoch 3: loss 0.12"), nil },
			"fails": func(context.Context, *hfhooks.Delivery) (any, error) { return nil, printed("Traceback: out of memory") },
		})
		ok := send(t, d.url+"/webhooks/ok", payload(t, "acme/ok"), nil)
		fails := send(t, d.url+"/webhooks/fails", payload(t, "acme/fails"), nil)
		if rec := waitFor(t, d.url, ok.ID, hfhooks.StateSucceeded); rec.Output != "epoch 3: loss 0.12" {
			t.Errorf("succeeded delivery's output = %q", rec.Output)
		}
		if rec := waitFor(t, d.url, fails.ID, hfhooks.StateFailed); rec.Output != "Traceback: out of memory" {
			t.Errorf("failed delivery's output = %q", rec.Output)
		}
	})
}
