package queue_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/metrics"
	"github.com/hfhooks/hfhooks/queue"
)

// A receiver whose deliveries survive restarts: each is committed to an
// SQLite file before the Hub gets its answer, and retried until its handler
// succeeds.
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "hfhooks-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	q, err := queue.Open(ctx, "sqlite:"+filepath.Join(dir, "hooks.db"),
		queue.WithMaxAttempts(5),
		queue.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		log.Fatal(err)
	}
	defer q.Close()

	srv := hfhooks.NewServer(hfhooks.WithQueue(q), hfhooks.WithSecret("my_secret_key"))
	if err := srv.AddEndpoint("trigger_training", func(ctx context.Context, d *hfhooks.Delivery) (any, error) {
		// d.ID is the same on every attempt: use it to make side effects idempotent.
		return nil, nil
	}); err != nil {
		log.Fatal(err)
	}
	// srv.Run(ctx) would start the queue's workers, serve, and on SIGTERM
	// stop intake, let running handlers finish and leave the rest queued.
	fmt.Println(srv.Endpoints())

	// Output: [trigger_training]
}

// One metrics.Metrics observes the server and the queue, and reads the
// queue's gauges at each scrape of /metrics.
func ExampleWithObserver() {
	ctx := context.Background()
	// docs:begin metrics
	m := metrics.New()
	q, err := queue.Open(ctx, "sqlite:hfhooks.db", queue.WithObserver(m))
	if err != nil {
		log.Fatal(err)
	}
	defer q.Close()
	m.CollectQueue(q) // the queue's gauges, read at each scrape
	srv := hfhooks.NewServer(hfhooks.WithQueue(q), hfhooks.WithObserver(m), hfhooks.WithMetrics(m))
	// docs:end
	if err := srv.Run(ctx); err != nil {
		log.Print(err)
	}
}

// alert stands for a way to tell someone.
func alert(ctx context.Context, format string, args ...any) error {
	slog.ErrorContext(ctx, fmt.Sprintf(format, args...))
	return nil
}

// A queue that tells someone when it gives up on a delivery.
func ExampleWithGiveUp() {
	ctx := context.Background()
	// docs:begin give-up
	q, err := queue.Open(ctx, "sqlite:hfhooks.db", queue.WithGiveUp(
		func(ctx context.Context, g *hfhooks.GiveUp) error {
			return alert(ctx, "delivery %s to %s failed after %d attempts: %s",
				g.Delivery.ID, g.Delivery.Endpoint, g.Attempts, g.Error)
		}))
	// or: queue.WithGiveUp(action.ForwardOnGiveUp(action.Target{URL: alertsURL}))
	// docs:end
	if err != nil {
		log.Fatal(err)
	}
	defer q.Close()
}
