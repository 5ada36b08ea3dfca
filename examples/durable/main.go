// Command durable is a receiver whose deliveries survive restarts: each is
// committed to a queue before the Hub gets its answer, and its handler runs
// from there, with retries. Run it with "go run ./examples/durable".
package main

import (
	"context"
	"log"
	"log/slog"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/queue"
)

// docs:begin run
func main() {
	if err := run(context.Background(), "sqlite:hooks.db"); err != nil { // or "postgres://user@db/hooks"
		log.Fatal(err)
	}
}

// run serves until SIGINT or SIGTERM, then returns, so that the deferred
// Close runs (log.Fatal here would skip it).
func run(ctx context.Context, queueURL string, opts ...hfhooks.Option) error {
	q, err := queue.Open(ctx, queueURL,
		queue.WithMaxAttempts(5),
		queue.WithAttemptTimeout(2*time.Minute),
		queue.WithBackoff(time.Second, 10*time.Minute),
		queue.WithWorkers(10), // per endpoint without its own concurrency
	)
	if err != nil {
		return err
	}
	defer q.Close()

	srv := hfhooks.NewServer(append(opts, hfhooks.WithQueue(q), hfhooks.WithSecret("my_secret_key"))...)
	err = srv.AddEndpoint("trigger_training", func(ctx context.Context, d *hfhooks.Delivery) (any, error) {
		// d.ID is stable across attempts; ctx ends at the endpoint's timeout.
		return nil, startTraining(ctx, d.ID, d.Payload.Repo.Name)
	}, hfhooks.EndpointTimeout(2*time.Hour), hfhooks.EndpointConcurrency(1))
	if err != nil {
		return err
	}
	return srv.Run(ctx) // starts the workers; stops them gracefully on SIGINT or SIGTERM
}

// docs:end

// startTraining stands for the work: it would start a training job on the
// repository, once per delivery id.
func startTraining(_ context.Context, deliveryID, repo string) error {
	slog.Info("training triggered", "delivery", deliveryID, "repo", repo)
	return nil
}
