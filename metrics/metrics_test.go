package metrics_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/metrics"
)

func TestMetrics(t *testing.T) {
	m := metrics.New()
	srv := hfhooks.NewServer(hfhooks.WithSecret("s"), hfhooks.WithObserver(m), hfhooks.WithMetrics(m),
		hfhooks.WithLogger(slog.New(slog.DiscardHandler)), hfhooks.WithOutput(io.Discard))
	if err := srv.AddEndpoint("hook", func(context.Context, *hfhooks.Delivery) (any, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	body, err := os.ReadFile("../testdata/payloads/repo-content-updated-refs.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []struct{ path, secret string }{{"hook", "s"}, {"hook", ""}, {"no-such", "s"}} {
		req, _ := http.NewRequest("POST", ts.URL+"/webhooks/"+r.path, strings.NewReader(string(body)))
		if r.secret != "" {
			req.Header.Set(hfhooks.SecretHeader, r.secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	resp, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	got := string(b)
	for _, want := range []string{
		`hfhooks_deliveries_total{endpoint="hook",status="200"} 1`,
		`hfhooks_deliveries_total{endpoint="hook",status="401"} 1`,
		`hfhooks_deliveries_total{endpoint="",status="404"} 1`,
		`hfhooks_handler_duration_seconds_count{endpoint="hook"} 1`,
		`go_goroutines`,
		`process_cpu_seconds_total`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(got, "no-such") {
		t.Error("metrics name an unregistered path")
	}
}
