package queue

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/action"
)

// TestEndpointTimeoutIsTheAttempts: an endpoint's timeout replaces the
// queue's attempt timeout, both ways, and a command that enforces it itself
// (action.Run) has its own error recorded, not the attempt's deadline.
func TestEndpointTimeoutIsTheAttempts(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bc backendCase) {
		const short, long = 50 * time.Millisecond, 400 * time.Millisecond
		slow := func(ctx context.Context, _ *hfhooks.Delivery) (any, error) {
			select {
			case <-time.After(2 * short): // longer than the queue's default
				// On a loaded machine both may be ready when this runs:
				// a run past its deadline has failed, whichever select picked.
				return nil, ctx.Err()
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		var hangErr atomic.Value
		hang := func(ctx context.Context, _ *hfhooks.Delivery) (any, error) {
			<-ctx.Done()
			hangErr.Store(ctx.Err())
			return nil, ctx.Err()
		}
		d := startHooks(t, openQueue(t, bc, WithAttemptTimeout(short), WithMaxAttempts(1)),
			hfhooks.EndpointSpec{Name: "slow", Handler: slow, Options: []hfhooks.EndpointOption{hfhooks.EndpointTimeout(long)}},
			hfhooks.EndpointSpec{Name: "hang", Handler: hang, Options: []hfhooks.EndpointOption{hfhooks.EndpointTimeout(short)}},
			hfhooks.EndpointSpec{Name: "cmd", Handler: action.Run(action.Command{Args: []string{"sleep", "5"}, Timeout: short}),
				Options: []hfhooks.EndpointOption{hfhooks.EndpointTimeout(short)}},
			hfhooks.EndpointSpec{Name: "default", Handler: slow},
		)
		ok := send(t, d.url+"/webhooks/slow", payload(t, "acme/slow"), nil)
		hung := send(t, d.url+"/webhooks/hang", payload(t, "acme/hang"), nil)
		cmd := send(t, d.url+"/webhooks/cmd", payload(t, "acme/cmd"), nil)
		def := send(t, d.url+"/webhooks/default", payload(t, "acme/default"), nil)
		if rec := waitFor(t, d.url, ok.ID, hfhooks.StateSucceeded, hfhooks.StateFailed); rec.State != hfhooks.StateSucceeded {
			t.Errorf("a run longer than the queue's timeout but within the endpoint's: %+v", rec)
		}
		if rec := waitFor(t, d.url, hung.ID, hfhooks.StateFailed); !errors.Is(hangErr.Load().(error), context.DeadlineExceeded) || rec.Duration >= long {
			t.Errorf("a hanging handler: %+v (%v), want cancelled near its endpoint's %v", rec, hangErr.Load(), short)
		}
		rec := waitFor(t, d.url, cmd.ID, hfhooks.StateFailed)
		if !strings.Contains(rec.Error, "sleep: timed out after 50ms and was killed") {
			t.Errorf("the command's record = %+v, want its own timeout error", rec)
		}
		if rec := waitFor(t, d.url, def.ID, hfhooks.StateFailed); !strings.Contains(rec.Error, "deadline exceeded") {
			t.Errorf("an endpoint without a timeout: %+v, want the queue's default timeout", rec)
		}
	})
}

// TestEndpointConcurrencyQueues: deliveries beyond an endpoint's
// concurrency wait, queued, and the wait is not part of their attempt;
// another endpoint is not held up.
func TestEndpointConcurrencyQueues(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bc backendCase) {
		var running, most atomic.Int32
		started := make(chan string, 10)
		release := make(chan struct{})
		one := func(_ context.Context, d *hfhooks.Delivery) (any, error) {
			n := running.Add(1)
			defer running.Add(-1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			started <- d.ID
			<-release
			return nil, nil
		}
		other := func(context.Context, *hfhooks.Delivery) (any, error) { return nil, nil }
		timeout := 300 * time.Millisecond
		d := startHooks(t, openQueue(t, bc, WithMaxAttempts(1)),
			hfhooks.EndpointSpec{Name: "one", Handler: one, Options: []hfhooks.EndpointOption{hfhooks.EndpointConcurrency(1), hfhooks.EndpointTimeout(timeout)}},
			hfhooks.EndpointSpec{Name: "other", Handler: other},
		)
		var ids []string
		for _, name := range []string{"acme/1", "acme/2", "acme/3"} {
			ids = append(ids, send(t, d.url+"/webhooks/one", payload(t, name), nil).ID)
		}
		first := <-started
		// The other endpoint runs while "one" is full.
		waitFor(t, d.url, send(t, d.url+"/webhooks/other", payload(t, "acme/other"), nil).ID, hfhooks.StateSucceeded)
		for _, id := range ids {
			if id != first {
				if rec := waitFor(t, d.url, id, hfhooks.StateQueued); rec.Attempts != 0 {
					t.Errorf("a delivery waiting for a slot: %+v, want queued with no attempt", rec)
				}
			}
		}
		// The others wait longer than their timeout, and still succeed.
		time.Sleep(timeout)
		close(release)
		for _, id := range ids {
			if rec := waitFor(t, d.url, id, hfhooks.StateSucceeded, hfhooks.StateFailed); rec.State != hfhooks.StateSucceeded || rec.Attempts != 1 {
				t.Errorf("delivery %s: %+v, want succeeded in one attempt", id, rec)
			}
		}
		if most.Load() != 1 {
			t.Errorf("%d ran at once, want 1", most.Load())
		}
	})
}

// TestRemovedEndpointWaits: deliveries for an endpoint the server no longer
// serves stay queued, and run when it serves it again.
func TestRemovedEndpointWaits(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bc backendCase) {
		ran := make(chan string, 1)
		hook := hfhooks.EndpointSpec{Name: "hook", Handler: func(_ context.Context, d *hfhooks.Delivery) (any, error) {
			ran <- d.ID
			return nil, nil
		}}
		other := hfhooks.EndpointSpec{Name: "other", Handler: func(context.Context, *hfhooks.Delivery) (any, error) { return nil, nil }}
		q := openQueue(t, bc)
		d := startHooks(t, q, hook, other)
		waitFor(t, d.url, send(t, d.url+"/webhooks/hook", payload(t, "acme/before"), nil).ID, hfhooks.StateSucceeded)
		<-ran
		if err := d.srv.ReplaceEndpoints([]hfhooks.EndpointSpec{other}); err != nil {
			t.Fatal(err)
		}
		r, err := q.Enqueue(context.Background(), &hfhooks.Delivery{Endpoint: "hook", Body: payload(t, "acme/waits"), ReceivedAt: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		// Another endpoint's delivery, queued after it, runs: the removed
		// one had its chance.
		waitFor(t, d.url, send(t, d.url+"/webhooks/other", payload(t, "acme/other"), nil).ID, hfhooks.StateSucceeded)
		staysQueued(t, d.url, r.ID)
		if err := d.srv.ReplaceEndpoints([]hfhooks.EndpointSpec{hook, other}); err != nil {
			t.Fatal(err)
		}
		waitFor(t, d.url, r.ID, hfhooks.StateSucceeded)
		if id := <-ran; id != r.ID {
			t.Errorf("ran %s, want %s", id, r.ID)
		}
	})
}

// TestOneOwnerPerEndpoint runs two processes with different endpoints on
// one PostgreSQL schema: each runs its own endpoint's deliveries, and a
// delivery for an endpoint no running process serves waits, queued, rather
// than failing in the other process.
func TestOneOwnerPerEndpoint(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bc backendCase) {
		if bc.name == "sqlite" {
			t.Skip("one process at a time uses an SQLite file")
		}
		var mu sync.Mutex
		ranBy := map[string]string{} // repo → process
		hook := func(process, path string) hfhooks.EndpointSpec {
			return hfhooks.EndpointSpec{Name: path, Handler: func(_ context.Context, d *hfhooks.Delivery) (any, error) {
				mu.Lock()
				defer mu.Unlock()
				ranBy[d.Payload.Repo.Name] = process + "/" + d.Endpoint
				return nil, nil
			}}
		}
		a := startHooks(t, openQueue(t, bc), hook("A", "a"))
		qb := openQueue(t, bc)
		b := startHooks(t, qb, hook("B", "b"))
		var ids []string
		for i := range 6 {
			url := a.url + "/webhooks/a"
			if i%2 == 1 {
				url = b.url + "/webhooks/b"
			}
			ids = append(ids, send(t, url, payload(t, "acme/"+string(rune('0'+i))), nil).ID)
		}
		for _, id := range ids {
			if rec := waitFor(t, a.url, id, hfhooks.StateSucceeded); rec.Attempts != 1 {
				t.Errorf("delivery %+v, want one attempt, in its endpoint's process", rec)
			}
		}
		mu.Lock()
		for repo, by := range ranBy {
			if by != "A/a" && by != "B/b" {
				t.Errorf("%s ran in %s", repo, by)
			}
		}
		mu.Unlock()

		// B stops; its endpoint's deliveries wait for a process serving it.
		if err := qb.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
		waiting := send(t, b.url+"/webhooks/b", payload(t, "acme/waits"), nil)
		waitFor(t, a.url, send(t, a.url+"/webhooks/a", payload(t, "acme/after"), nil).ID, hfhooks.StateSucceeded)
		staysQueued(t, a.url, waiting.ID)
		startHooks(t, openQueue(t, bc), hook("B2", "b"))
		waitFor(t, a.url, waiting.ID, hfhooks.StateSucceeded)
		mu.Lock()
		defer mu.Unlock()
		if by := ranBy["acme/waits"]; by != "B2/b" {
			t.Errorf("the waiting delivery ran in %s, want B2/b", by)
		}
	})
}

// staysQueued checks that delivery id is queued, not attempted, for a
// while: long enough for a worker that could take it to have done so.
func staysQueued(t *testing.T, url, id string) {
	t.Helper()
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if rec := waitFor(t, url, id, hfhooks.StateQueued, hfhooks.StateRunning, hfhooks.StateRetrying, hfhooks.StateFailed, hfhooks.StateSucceeded); rec.State != hfhooks.StateQueued || rec.Attempts != 0 {
			t.Fatalf("delivery %+v, want it queued, not attempted", rec)
		}
	}
}
