// Command fanout measures the Hub emulator's delivery rate: hubtest, with
// no rate limit and no retries, delivering events to webhooks that all
// point at one local receiver (an hfhooks.Server with a secret and a no-op
// handler, in the same process, on 127.0.0.1), in two patterns:
//
//   - fan-out: one event matched by -webhooks webhooks, then a wait until
//     every delivery is done, again and again (hubtest's BenchmarkFanOut);
//   - stream: -stream-webhooks webhooks, events emitted back to back in
//     bursts of 100 (each webhook delivers its events in order, one at a
//     time, as on the Hub), then a wait until idle (BenchmarkManyEvents).
//
// Each pattern runs for -duration (bounded in events too), and prints one
// line of JSON per pattern: deliveries received per second, and the number
// of deliveries that were not received (any is a failure).
//
// Usage:
//
//	fanout [-webhooks 100] [-stream-webhooks 10] [-duration 5s]
//
// Nothing is sent anywhere but 127.0.0.1.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/bench/internal/wire"
	"github.com/hfhooks/hfhooks/hub"
	"github.com/hfhooks/hfhooks/hubtest"
)

// maxEvents bounds the events of one pattern, whatever the duration.
const maxEvents = 1_000_000

func main() {
	log.SetFlags(0)
	log.SetPrefix("fanout: ")
	webhooks := flag.Int("webhooks", 100, "webhooks of the fan-out pattern, all matching every event")
	streamWebhooks := flag.Int("stream-webhooks", 10, "webhooks of the stream pattern")
	duration := flag.Duration("duration", 5*time.Second, "how long each pattern runs")
	flag.Parse()
	if *webhooks < 1 || *streamWebhooks < 1 || *duration <= 0 {
		log.Fatal("-webhooks, -stream-webhooks and -duration must be positive")
	}
	for _, p := range []struct {
		name     string
		webhooks int
		burst    int
	}{
		{"fan-out", *webhooks, 1},
		{"stream", *streamWebhooks, 100},
	} {
		r, err := measure(p.name, p.webhooks, p.burst, *duration)
		if err != nil {
			log.Fatal(err)
		}
		out, _ := json.Marshal(r)
		fmt.Println(string(out))
	}
}

// measure sets up a receiver and a Hub with n webhooks on it, then emits
// bursts of events, waiting until idle after each, for d.
func measure(pattern string, n, burst int, d time.Duration) (wire.Fanout, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d+2*time.Minute)
	defer cancel()
	var received atomic.Int64
	recv := hfhooks.NewServer(hfhooks.WithSecret("bench"), hfhooks.WithLogger(slog.New(slog.DiscardHandler)), hfhooks.WithOutput(io.Discard))
	if err := recv.AddEndpoint("inbox", func(context.Context, *hfhooks.Delivery) (any, error) {
		received.Add(1)
		return nil, nil
	}); err != nil {
		return wire.Fanout{}, err
	}
	ts := httptest.NewServer(recv) // 127.0.0.1
	defer ts.Close()

	srv := hubtest.NewServer(hubtest.WithRateLimit(0, 0), hubtest.WithRetrySchedule())
	defer srv.Close()
	c, err := hub.NewClient(hub.WithEndpoint(srv.URL), hub.WithToken(srv.Token))
	if err != nil {
		return wire.Fanout{}, err
	}
	for range n {
		if _, err := c.CreateWebhook(ctx, hub.CreateWebhookOptions{
			URL: ts.URL + "/webhooks/inbox", Secret: "bench",
			Watched: []hub.WatchedItem{{Type: hub.WatchedOrg, Name: "acme"}},
		}); err != nil {
			return wire.Fanout{}, err
		}
	}
	ev := hubtest.Event{Kind: "repo.content", Repo: "model:acme/m"}
	// One burst before the clock starts, to open the connections.
	if _, err := srv.Emit(ctx, ev); err != nil {
		return wire.Fanout{}, err
	}
	if err := srv.WaitIdle(ctx); err != nil {
		return wire.Fanout{}, err
	}
	received.Store(0)
	events := 0
	start := time.Now()
	for time.Since(start) < d && events < maxEvents {
		for range burst {
			if _, err := srv.Emit(ctx, ev); err != nil {
				return wire.Fanout{}, err
			}
			events++
		}
		if err := srv.WaitIdle(ctx); err != nil {
			return wire.Fanout{}, err
		}
	}
	took := time.Since(start)
	got := received.Load()
	return wire.Fanout{
		Pattern: pattern, Webhooks: n, Events: events, Deliveries: got,
		Missing: int64(events*n) - got, Seconds: took.Seconds(), Rate: float64(got) / took.Seconds(),
	}, nil
}
