package hubtest_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/hub"
	"github.com/hfhooks/hfhooks/hubtest"
)

// benchReceiver is an hfhooks.Server with a secret and a no-op handler, on
// loopback.
func benchReceiver(b *testing.B) string {
	s := hfhooks.NewServer(hfhooks.WithSecret("bench"), hfhooks.WithLogger(slog.New(slog.DiscardHandler)), hfhooks.WithOutput(io.Discard))
	if err := s.AddEndpoint("hook", func(context.Context, *hfhooks.Delivery) (any, error) { return nil, nil }); err != nil {
		b.Fatal(err)
	}
	ts := httptest.NewServer(s)
	b.Cleanup(ts.Close)
	return ts.URL + "/webhooks/hook"
}

// benchHub starts an emulator without rate limit and with webhooks webhooks,
// all watching org acme and pointing at one receiver.
func benchHub(b *testing.B, webhooks int) *hubtest.Server {
	url := benchReceiver(b)
	srv := hubtest.NewServer(hubtest.WithRateLimit(0, 0), hubtest.WithRetrySchedule())
	b.Cleanup(srv.Close)
	c := client(b, srv, srv.Token)
	for range webhooks {
		create(b, c, hub.CreateWebhookOptions{URL: url, Secret: "bench", Watched: watch(hub.WatchedOrg, "acme")})
	}
	return srv
}

// BenchmarkFanOut emits one event to many webhooks per operation and waits
// until every delivery is done.
func BenchmarkFanOut(b *testing.B) {
	for _, n := range []int{10, 100, 1000} {
		b.Run("webhooks="+strconv.Itoa(n), func(b *testing.B) {
			srv := benchHub(b, n)
			ev := hubtest.Event{Kind: "repo.content", Repo: "model:acme/m"}
			ctx := context.Background()
			for b.Loop() {
				if _, err := srv.Emit(ctx, ev); err != nil {
					b.Fatal(err)
				}
				if err := srv.WaitIdle(ctx); err != nil {
					b.Fatal(err)
				}
			}
			reportDeliveries(b, srv, b.N*n)
		})
	}
}

// BenchmarkManyEvents emits b.N events to one receiver, through one webhook
// (one ordered queue) or ten, and waits until all are delivered.
func BenchmarkManyEvents(b *testing.B) {
	for _, n := range []int{1, 10} {
		b.Run("webhooks="+strconv.Itoa(n), func(b *testing.B) {
			srv := benchHub(b, n)
			ev := hubtest.Event{Kind: "repo.content", Repo: "model:acme/m"}
			ctx := context.Background()
			// Not b.Loop, which stops the timer before the final wait.
			for range b.N {
				if _, err := srv.Emit(ctx, ev); err != nil {
					b.Fatal(err)
				}
			}
			if err := srv.WaitIdle(ctx); err != nil {
				b.Fatal(err)
			}
			reportDeliveries(b, srv, b.N*n)
		})
	}
}

// reportDeliveries reports deliveries per second, then checks that the
// latest deliveries succeeded.
func reportDeliveries(b *testing.B, srv *hubtest.Server, total int) {
	b.Helper()
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "deliveries/s")
	b.StopTimer()
	hooks, err := client(b, srv, srv.Token).ListWebhooks(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	for _, w := range hooks {
		if a := activity(b, srv, w.ID); len(a) == 0 || a[0].State != hubtest.StateDelivered {
			b.Fatalf("webhook %s: %+v", w.ID, a)
		}
	}
}
