package metrics_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/metrics"
	"github.com/hfhooks/hfhooks/queue"
)

// scrape returns the metrics at base/metrics.
func scrape(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// post sends body to base/webhooks/path with the secret "s", and returns
// the answer's id.
func post(t *testing.T, base, path string, body []byte) string {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/webhooks/"+path, strings.NewReader(string(body)))
	req.Header.Set(hfhooks.SecretHeader, "s")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a struct{ ID string }
	_ = json.NewDecoder(resp.Body).Decode(&a)
	return a.ID
}

// waitState waits until the delivery id is in state.
func waitState(t *testing.T, base, id string, state hfhooks.DeliveryState) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/api/deliveries?state=" + string(state))
		if err != nil {
			t.Fatal(err)
		}
		var page hfhooks.HistoryPage
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(page.Deliveries, func(r hfhooks.DeliveryRecord) bool { return r.ID == id }) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("delivery %s is not %s", id, state)
}

// endpointLabel matches the endpoint labels of the metrics.
var endpointLabel = regexp.MustCompile(`endpoint="([^"]*)"`)

// exact are the metrics of which checkMetrics wants every series listed.
var exact = []string{"hfhooks_runs_total{", "hfhooks_deliveries_total{", "hfhooks_start_delay_seconds_count{"}

// checkMetrics checks that got has each line of want, and no other series
// of the exact metrics, and that its endpoint labels are among endpoints.
func checkMetrics(t *testing.T, got string, want []string, endpoints ...string) {
	t.Helper()
	lines := strings.Split(got, "\n")
	for _, w := range want {
		if !slices.Contains(lines, w) {
			t.Errorf("metrics lack %s", w)
		}
	}
	for _, l := range lines {
		if slices.ContainsFunc(exact, func(p string) bool { return strings.HasPrefix(l, p) }) && !slices.Contains(want, l) {
			t.Errorf("unexpected series %s", l)
		}
	}
	for _, m := range endpointLabel.FindAllStringSubmatch(got, -1) {
		if !slices.Contains(endpoints, m[1]) {
			t.Errorf("an endpoint label is %q, not an endpoint's name", m[1])
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", got)
	}
}

// TestDurableSequence: a success, a failure retried then succeeding, a
// client error and a delivery given up give exactly the expected runs,
// starts and requests; the queue's gauges are read at the scrape; requests
// to paths that are no endpoint are labelled "".
func TestDurableSequence(t *testing.T) {
	m := metrics.New()
	q, err := queue.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "q.db"),
		queue.WithMaxAttempts(2), queue.WithBackoff(time.Millisecond, time.Millisecond),
		queue.WithObserver(m), queue.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	m.CollectQueue(q)
	srv := hfhooks.NewServer(hfhooks.WithSecret("s"), hfhooks.WithQueue(q), hfhooks.WithObserver(m), hfhooks.WithMetrics(m),
		hfhooks.WithLogger(slog.New(slog.DiscardHandler)), hfhooks.WithOutput(io.Discard))
	var flaky atomic.Int32
	started, release := make(chan struct{}, 2), make(chan struct{})
	defer close(release)
	err = srv.ReplaceEndpoints([]hfhooks.EndpointSpec{
		{Name: "ok", Handler: func(context.Context, *hfhooks.Delivery) (any, error) { return nil, nil }},
		{Name: "flaky", Handler: func(context.Context, *hfhooks.Delivery) (any, error) {
			if flaky.Add(1) == 1 {
				return nil, errors.New("cluster down")
			}
			return nil, nil
		}},
		{Name: "bad", Handler: func(context.Context, *hfhooks.Delivery) (any, error) {
			return nil, hfhooks.Error("not a model repo", http.StatusUnprocessableEntity)
		}},
		{Name: "down", Handler: func(context.Context, *hfhooks.Delivery) (any, error) { return nil, errors.New("still down") }},
		{Name: "slow", Handler: func(context.Context, *hfhooks.Delivery) (any, error) {
			started <- struct{}{}
			<-release
			return nil, nil
		}, Options: []hfhooks.EndpointOption{hfhooks.EndpointConcurrency(1)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	if err := q.Start(context.Background(), srv); err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile("../testdata/payloads/repo-content-updated-refs.json")
	if err != nil {
		t.Fatal(err)
	}
	for path, state := range map[string]hfhooks.DeliveryState{
		"ok": hfhooks.StateSucceeded, "flaky": hfhooks.StateSucceeded, "bad": hfhooks.StateFailed, "down": hfhooks.StateFailed,
	} {
		waitState(t, ts.URL, post(t, ts.URL, path, body), state)
	}
	for _, path := range []string{"no-such", "ok/../../metrics", "%2e%2e"} {
		post(t, ts.URL, path, body)
	}

	got := scrape(t, ts.URL)
	checkDocs(t, got)
	checkMetrics(t, got, []string{
		`hfhooks_runs_total{endpoint="ok",outcome="succeeded"} 1`,
		`hfhooks_runs_total{endpoint="flaky",outcome="retried"} 1`,
		`hfhooks_runs_total{endpoint="flaky",outcome="succeeded"} 1`,
		`hfhooks_runs_total{endpoint="bad",outcome="failed"} 1`,
		`hfhooks_runs_total{endpoint="down",outcome="retried"} 1`,
		`hfhooks_runs_total{endpoint="down",outcome="gave_up"} 1`,
		`hfhooks_handler_duration_seconds_count{endpoint="ok"} 1`,
		`hfhooks_handler_duration_seconds_count{endpoint="flaky"} 2`,
		`hfhooks_handler_duration_seconds_count{endpoint="down"} 2`,
		`hfhooks_start_delay_seconds_count{endpoint="ok"} 1`,
		`hfhooks_start_delay_seconds_count{endpoint="flaky"} 1`,
		`hfhooks_start_delay_seconds_count{endpoint="down"} 1`,
		`hfhooks_start_delay_seconds_count{endpoint="bad"} 1`,
		`hfhooks_deliveries_total{endpoint="ok",status="202"} 1`,
		`hfhooks_deliveries_total{endpoint="flaky",status="202"} 1`,
		`hfhooks_deliveries_total{endpoint="bad",status="202"} 1`,
		`hfhooks_deliveries_total{endpoint="down",status="202"} 1`,
		`hfhooks_deliveries_total{endpoint="",status="404"} 3`,
		`hfhooks_request_duration_seconds_count{endpoint="ok"} 1`,
		`hfhooks_request_duration_seconds_count{endpoint=""} 3`,
		`hfhooks_queue_up 1`,
		`hfhooks_queue_deliveries{state="queued"} 0`,
		`hfhooks_queue_deliveries{state="scheduled"} 0`,
		`hfhooks_queue_deliveries{state="running"} 0`,
		`hfhooks_queue_oldest_age_seconds 0`,
	}, "ok", "flaky", "bad", "down", "")

	// One delivery runs, one waits for the endpoint's one worker.
	post(t, ts.URL, "slow", body)
	post(t, ts.URL, "slow", body)
	<-started
	got = scrape(t, ts.URL)
	for _, want := range []string{
		`hfhooks_queue_deliveries{state="queued"} 1`,
		`hfhooks_queue_deliveries{state="running"} 1`,
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("metrics lack %s", want)
		}
	}
	oldest := regexp.MustCompile(`\nhfhooks_queue_oldest_age_seconds (\S+)\n`).FindStringSubmatch(got)
	if oldest == nil {
		t.Fatal("metrics lack hfhooks_queue_oldest_age_seconds")
	}
	if age, err := strconv.ParseFloat(oldest[1], 64); err != nil || age <= 0 || age > 60 {
		t.Errorf("hfhooks_queue_oldest_age_seconds = %s, want a few seconds at most", oldest[1])
	}
}

// metricName matches the name of an hfhooks metric.
var metricName = regexp.MustCompile(`\bhfhooks_[a-z_]+`)

// checkDocs checks that the metrics that the alert rules use are exported,
// and that the table of docs/monitoring.md has a row for each exported.
func checkDocs(t *testing.T, got string) {
	t.Helper()
	alerts, err := os.ReadFile("../docs/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range metricName.FindAllString(string(alerts), -1) {
		if !strings.Contains(got, "# TYPE "+name+" ") {
			t.Errorf("docs/alerts.yaml uses %s, which is not exported", name)
		}
	}
	doc, err := os.ReadFile("../docs/monitoring.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`# TYPE (hfhooks_[a-z_]+) `).FindAllStringSubmatch(got, -1) {
		if !strings.Contains(string(doc), "| `"+m[1]) {
			t.Errorf("docs/monitoring.md has no row for %s", m[1])
		}
	}
}

// TestSyncSequence: in sync mode, runs succeed or fail, with the same
// names; a refused request is counted but not run; there is no start
// delay, and no queue; the Go and process collectors are there.
func TestSyncSequence(t *testing.T) {
	m := metrics.New()
	srv := hfhooks.NewServer(hfhooks.WithSecret("s"), hfhooks.WithObserver(m), hfhooks.WithMetrics(m),
		hfhooks.WithLogger(slog.New(slog.DiscardHandler)), hfhooks.WithOutput(io.Discard))
	for name, h := range map[string]hfhooks.HandlerFunc{
		"ok":   func(context.Context, *hfhooks.Delivery) (any, error) { return nil, nil },
		"down": func(context.Context, *hfhooks.Delivery) (any, error) { return nil, errors.New("still down") },
	} {
		if err := srv.AddEndpoint(name, h); err != nil {
			t.Fatal(err)
		}
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	body, err := os.ReadFile("../testdata/payloads/repo-content-updated-refs.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"ok", "down", "down", "no-such"} {
		post(t, ts.URL, path, body)
	}
	// Without the secret: refused before any run.
	resp, err := http.Post(ts.URL+"/webhooks/ok", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := scrape(t, ts.URL)
	checkMetrics(t, got, []string{
		`hfhooks_runs_total{endpoint="ok",outcome="succeeded"} 1`,
		`hfhooks_runs_total{endpoint="down",outcome="failed"} 2`,
		`hfhooks_handler_duration_seconds_count{endpoint="down"} 2`,
		`hfhooks_deliveries_total{endpoint="ok",status="200"} 1`,
		`hfhooks_deliveries_total{endpoint="ok",status="401"} 1`,
		`hfhooks_deliveries_total{endpoint="down",status="500"} 2`,
		`hfhooks_deliveries_total{endpoint="",status="404"} 1`,
		`hfhooks_request_duration_seconds_count{endpoint="down"} 2`,
	}, "ok", "down", "")
	for _, absent := range []string{"hfhooks_start_delay_seconds_count", "hfhooks_queue_"} {
		if strings.Contains(got, absent) {
			t.Errorf("sync mode reports %s", absent)
		}
	}
	for _, present := range []string{"\ngo_goroutines ", "\nprocess_cpu_seconds_total "} {
		if !strings.Contains(got, present) {
			t.Errorf("metrics lack%s", strings.TrimSuffix(present, " "))
		}
	}
}
