package queue

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks"
)

// TestStats: the deliveries waiting for a worker, for a retry, and running
// are counted, with the age of the oldest queued one; done ones are not.
func TestStats(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bc backendCase) {
		q := openQueue(t, bc, WithBackoff(time.Hour, time.Hour))
		release := make(chan struct{})
		started := make(chan struct{}, 3)
		d := startHooks(t, q,
			hfhooks.EndpointSpec{Name: "slow", Handler: func(ctx context.Context, _ *hfhooks.Delivery) (any, error) {
				started <- struct{}{}
				<-release
				return nil, nil
			}, Options: []hfhooks.EndpointOption{hfhooks.EndpointConcurrency(1)}},
			hfhooks.EndpointSpec{Name: "down", Handler: func(context.Context, *hfhooks.Delivery) (any, error) {
				return nil, errors.New("down")
			}},
			hfhooks.EndpointSpec{Name: "ok", Handler: func(context.Context, *hfhooks.Delivery) (any, error) { return nil, nil }},
		)
		st, err := q.Stats(context.Background())
		if err != nil || st != (hfhooks.QueueStats{}) {
			t.Fatalf("Stats of an empty queue = %+v, %v", st, err)
		}
		ok := send(t, d.url+"/webhooks/ok", payload(t, "acme/ok"), nil)
		waitFor(t, d.url, ok.ID, hfhooks.StateSucceeded)
		for i := range 3 {
			send(t, d.url+"/webhooks/slow", payload(t, "acme/slow-"+string(rune('a'+i))), nil)
		}
		down := send(t, d.url+"/webhooks/down", payload(t, "acme/down"), nil)
		<-started
		waitFor(t, d.url, down.ID, hfhooks.StateRetrying)
		want := hfhooks.QueueStats{Queued: 2, Scheduled: 1, Running: 1}
		deadline := time.Now().Add(10 * time.Second)
		for {
			st, err = q.Stats(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			age := st.OldestAge
			st.OldestAge = 0
			if st == want && age > 0 && age < time.Minute {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("Stats = %+v (oldest %v), want %+v with an age", st, age, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
		close(release)
	})
}
