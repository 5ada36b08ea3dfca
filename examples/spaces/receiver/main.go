// Command receiver is a webhook receiver for a Hugging Face Docker Space:
// the guide's trigger_training endpoint, whose deliveries wait in a durable
// queue so that none is lost when the Space restarts.
package main

import (
	"context"
	"log"
	"log/slog"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/queue"
)

// queueDSN is the queue's SQLite file, in the working directory: /data in
// the Space's image, which is the Space's persistent storage when enabled.
const queueDSN = "sqlite:hfhooks.db"

func main() {
	if err := run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

// run serves the endpoint until SIGINT or SIGTERM. The webhook secret is
// WEBHOOK_SECRET; on a Space with hf_oauth: true, its owner signs in to
// the page.
func run(ctx context.Context) error {
	q, err := queue.Open(ctx, queueDSN)
	if err != nil {
		return err
	}
	defer q.Close()
	srv := hfhooks.NewServer(hfhooks.WithQueue(q))
	err = srv.AddEndpoint("trigger_training", triggerTraining,
		// Only dataset updates reach the handler; the Hub's other
		// deliveries are answered 200 {"status":"ignored"}.
		hfhooks.EndpointFilter(hfhooks.Filter{
			RepoTypes: []hfhooks.RepoType{hfhooks.RepoDataset},
			Actions:   []hfhooks.Action{hfhooks.ActionUpdate},
		}),
		hfhooks.EndpointTimeout(time.Hour),
		hfhooks.EndpointConcurrency(1),
	)
	if err != nil {
		return err
	}
	return srv.Run(ctx)
}

// triggerTraining starts a training job on the updated dataset. A failure
// is retried from the queue, with the same d.ID: use it to start each job
// once.
func triggerTraining(ctx context.Context, d *hfhooks.Delivery) (any, error) {
	repo := d.Payload.Repo
	// Trigger a training job here.
	slog.InfoContext(ctx, "training triggered", "dataset", repo.Name, "revision", repo.HeadSha, "delivery", d.ID)
	return map[string]string{"training": "started", "dataset": repo.Name}, nil
}
