package queue

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// giveUps returns a give-up hook that sends each give-up on the channel it
// returns, and then returns err.
func giveUps(err error) (hfhooks.GiveUpFunc, <-chan *hfhooks.GiveUp) {
	ch := make(chan *hfhooks.GiveUp, 10)
	return func(_ context.Context, g *hfhooks.GiveUp) error {
		ch <- g
		return err
	}, ch
}

// giveUpJobs waits until the queue holds n give-ups, all in one of states,
// and returns them.
func giveUpJobs(t *testing.T, q *Queue, n int, states ...rivertype.JobState) []*rivertype.JobRow {
	t.Helper()
	var client interface {
		JobList(context.Context, *river.JobListParams) (*river.JobListResult, error)
	}
	switch b := q.db.(type) {
	case *sqliteBackend:
		client = b.client
	case *riverBackend[pgx.Tx]:
		client = b.client
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		res, err := client.JobList(context.Background(), river.NewJobListParams().Kinds(giveUpArgs{}.Kind()).States(states...))
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Jobs) == n {
			return res.Jobs
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d give-ups in states %v, want %d", len(res.Jobs), states, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestGiveUpHookRunsOnce: a delivery given up, after its last attempt or at
// once for a client error, runs the give-up hook once, with the delivery,
// its attempts and its last error, redacted; the delivery stays failed,
// with its output.
func TestGiveUpHookRunsOnce(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bc backendCase) {
		hook, got := giveUps(nil)
		q := openQueue(t, bc, WithMaxAttempts(2), WithGiveUp(hook))
		d := startDurable(t, q, map[string]hfhooks.HandlerFunc{
			"down": func(context.Context, *hfhooks.Delivery) (any, error) {
				return nil, errors.New("GET https://api.example/?token=hf_abc: 502")
			},
			"bad": func(context.Context, *hfhooks.Delivery) (any, error) {
				return nil, outputError{hfhooks.Error("not a model repo", http.StatusUnprocessableEntity)}
			},
			"ok": func(context.Context, *hfhooks.Delivery) (any, error) { return nil, nil },
		})
		down := send(t, d.url+"/webhooks/down", payload(t, "acme/down"), nil)
		bad := send(t, d.url+"/webhooks/bad", payload(t, "acme/bad"), nil)
		ok := send(t, d.url+"/webhooks/ok", payload(t, "acme/ok"), nil)
		want := map[string]hfhooks.GiveUp{
			down.ID: {Attempts: 2, Error: "GET https://api.example/?token=xxxxx: 502"},
			bad.ID:  {Attempts: 1, Error: "not a model repo"},
		}
		for range want {
			select {
			case g := <-got:
				w, found := want[g.Delivery.ID]
				if !found || g.Attempts != w.Attempts || g.Error != w.Error {
					t.Errorf("give-up %s: %d attempts, error %q; want %+v", g.Delivery.ID, g.Attempts, g.Error, w)
				}
				if g.Delivery.Payload == nil || !strings.HasPrefix(g.Delivery.Payload.Repo.Name, "acme/"+g.Delivery.Endpoint) {
					t.Errorf("give-up %s: delivery %+v", g.Delivery.ID, g.Delivery)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the give-up hook did not run")
			}
		}
		giveUpJobs(t, q, 2, rivertype.JobStateCompleted)
		select {
		case g := <-got:
			t.Errorf("the hook ran again, for %s", g.Delivery.ID)
		default:
		}
		waitFor(t, d.url, ok.ID, hfhooks.StateSucceeded)
		if rec := waitFor(t, d.url, bad.ID, hfhooks.StateFailed); rec.Attempts != 1 || rec.Error != "not a model repo" || rec.Output != "the output" {
			t.Errorf("record = %+v, want the failure with its output", rec)
		}
		if rec := waitFor(t, d.url, down.ID, hfhooks.StateFailed); rec.Attempts != 2 || !strings.Contains(rec.Error, "token=xxxxx") {
			t.Errorf("record = %+v", rec)
		}
	})
}

// outputError is an error with output.
type outputError struct{ error }

func (outputError) DeliveryOutput() string { return "the output" }
func (e outputError) Unwrap() error        { return e.error }

// TestGiveUpHookFailureIsLoggedNotLooped: a give-up hook that fails is
// logged at error, and neither retried nor given up on.
func TestGiveUpHookFailureIsLoggedNotLooped(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bc backendCase) {
		logs := &captured{level: slog.LevelInfo}
		hook, got := giveUps(errors.New("slack is down"))
		q := openQueue(t, bc, WithMaxAttempts(1), WithGiveUp(hook), WithLogger(slog.New(logs)))
		d := startDurable(t, q, map[string]hfhooks.HandlerFunc{
			"down": func(context.Context, *hfhooks.Delivery) (any, error) { return nil, errors.New("still down") },
		})
		a := send(t, d.url+"/webhooks/down", payload(t, "acme/down"), nil)
		<-got
		giveUpJobs(t, q, 1, rivertype.JobStateCancelled)
		select {
		case <-got:
			t.Error("the failed hook ran again")
		default:
		}
		var failed int
		for _, l := range logs.lines() {
			if l.msg == "give-up hook failed" && l.level == slog.LevelError && l.attrs["delivery"] == a.ID && l.attrs["err"] == "slack is down" {
				failed++
			}
		}
		if failed != 1 {
			t.Errorf("%d lines of the hook's failure, want 1: %+v", failed, logs.lines())
		}
	})
}

// TestGiveUpSurvivesRestart: a give-up recorded by a process that stops
// before its hook runs is run once by the next.
func TestGiveUpSurvivesRestart(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bc backendCase) {
		hookA, gotA := giveUps(nil)
		a := openQueue(t, bc, WithMaxAttempts(1), WithGiveUp(hookA))
		handlers := map[string]hfhooks.HandlerFunc{
			"down": func(context.Context, *hfhooks.Delivery) (any, error) { return nil, errors.New("still down") },
		}
		// The first process records give-ups but does not run them.
		if err := a.db.removeQueue(context.Background(), giveUpQueue); err != nil {
			t.Fatal(err)
		}
		da := startDurable(t, a, handlers)
		ans := send(t, da.url+"/webhooks/down", payload(t, "acme/down"), nil)
		waitFor(t, da.url, ans.ID, hfhooks.StateFailed)
		giveUpJobs(t, a, 1, rivertype.JobStateAvailable)
		if err := a.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-gotA:
			t.Fatal("the first process ran the hook")
		default:
		}

		hookB, gotB := giveUps(nil)
		b := openQueue(t, bc, WithGiveUp(hookB))
		startDurable(t, b, handlers)
		select {
		case g := <-gotB:
			if g.Delivery.ID != ans.ID || g.Attempts != 1 || g.Error != "still down" {
				t.Errorf("give-up = %+v, want delivery %s", g, ans.ID)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the give-up did not run after the restart")
		}
		giveUpJobs(t, b, 1, rivertype.JobStateCompleted)
		select {
		case <-gotB:
			t.Error("the hook ran twice")
		default:
		}
	})
}
