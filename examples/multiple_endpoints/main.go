// Command multiple_endpoints is the guide's server with two endpoints: one
// trains when a dataset is updated, the other evaluates when a model is.
// Run it with "go run ./examples/multiple_endpoints".
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

// register declares both endpoints on the default server.
func register() {
	// docs:begin register
	hfhooks.Endpoint("trigger_training", onUpdateOf(hfhooks.RepoDataset, "training"))
	hfhooks.Endpoint("trigger_evaluation", onUpdateOf(hfhooks.RepoModel, "evaluation"))
	// docs:end
}

// onUpdateOf returns a handler that starts job when a repo of type t is
// updated, and skips every other event.
func onUpdateOf(t hfhooks.RepoType, job string) hfhooks.HandlerFunc {
	return func(_ context.Context, d *hfhooks.Delivery) (any, error) {
		p := d.Payload
		if p.Repo.Type != t || p.Event.Action != hfhooks.ActionUpdate {
			return map[string]string{job: "skipped"}, nil
		}
		slog.Info(job+" triggered", "repo", p.Repo.Name)
		return map[string]string{job: "started", "repo": p.Repo.Name}, nil
	}
}
