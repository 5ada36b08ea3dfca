package metrics_test

import (
	"context"
	"log"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/metrics"
)

// Metrics is both the server's Observer and the handler of /metrics.
func ExampleNew() {
	// docs:begin metrics
	m := metrics.New()
	srv := hfhooks.NewServer(hfhooks.WithObserver(m), hfhooks.WithMetrics(m))
	// docs:end
	if err := srv.Run(context.Background()); err != nil {
		log.Fatal(err)
	}
}
