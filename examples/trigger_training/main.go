// Command trigger_training is the guide's first webhook server: one
// endpoint on the default server that starts a training job when a dataset
// is updated. Run it with "go run ./examples/trigger_training".
package main

import (
	"context"
	"log"
	"log/slog"

	"github.com/hfhooks/hfhooks"
)

func main() {
	register()
	if err := hfhooks.Run(); err != nil {
		log.Fatal(err)
	}
}

// register declares the endpoints, as @webhook_endpoint does in Python.
func register() {
	hfhooks.Endpoint("trigger_training", triggerTraining)
}

// triggerTraining answers POST /webhooks/trigger_training.
func triggerTraining(_ context.Context, d *hfhooks.Delivery) (any, error) {
	p := d.Payload
	if p.Repo.Type == hfhooks.RepoDataset && p.Event.Action == hfhooks.ActionUpdate {
		// Trigger a training job if a dataset is updated.
		slog.Info("training triggered", "dataset", p.Repo.Name)
		return map[string]string{"training": "started", "dataset": p.Repo.Name}, nil
	}
	return map[string]string{"training": "skipped"}, nil
}
