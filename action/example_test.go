package action_test

import (
	"log"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/action"
)

// The hook "retrain" of a hooks.yaml, in Go: run a script for each push to
// main on a dataset, one at a time, for up to two hours.
func ExampleRun() {
	srv := hfhooks.NewServer()
	// docs:begin retrain
	err := srv.AddEndpoint("retrain", action.Run(action.Command{Args: []string{"./jobs/retrain.sh"}, Timeout: 2 * time.Hour}),
		hfhooks.EndpointTimeout(2*time.Hour),
		hfhooks.EndpointConcurrency(1),
		hfhooks.EndpointFilter(hfhooks.Filter{
			Scopes:    []string{hfhooks.ScopeRepoContent},
			RepoTypes: []hfhooks.RepoType{hfhooks.RepoDataset},
			Refs:      []string{"refs/heads/main"},
		}),
		hfhooks.EndpointSecret("retrain-secret"))
	if err != nil {
		log.Fatal(err)
	}
	// docs:end
}
