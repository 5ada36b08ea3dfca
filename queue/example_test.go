package queue_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/hfhooks/hfhooks"
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
