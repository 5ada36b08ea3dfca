package queue

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/internal/redact"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// deliveryArgs is a delivery as the queue stores it: enough to rebuild the
// hfhooks.Delivery in a worker, and a summary for the history.
type deliveryArgs struct {
	Endpoint string `json:"endpoint"`
	// Body is the raw body; encoded as base64, it stays byte for byte
	// (PostgreSQL's jsonb would reformat a JSON value).
	Body       []byte      `json:"body"`
	Header     http.Header `json:"header,omitempty"`
	ReceivedAt time.Time   `json:"received_at"`
	Scope      string      `json:"scope,omitempty"`
	Action     string      `json:"action,omitempty"`
	RepoType   string      `json:"repo_type,omitempty"`
	RepoName   string      `json:"repo_name,omitempty"`
	// Timeout is the attempts' timeout, fixed when the delivery is queued
	// so that every process, River's rescuer included, sees the same; zero
	// (deliveries queued before it was stored) means the client's default.
	Timeout time.Duration `json:"timeout,omitempty"`
}

// JobKind is the River job kind of the deliveries a Queue stores, for
// programs that read its jobs with River's own API (river.JobListParams.Kinds).
const JobKind = "hfhooks_delivery"

// Kind is the River job kind of deliveries.
func (deliveryArgs) Kind() string { return JobKind }

// InsertParams returns the River job that runs d on a Queue's workers: its
// arguments, of kind JobKind (without the secret header and credentials),
// and the River queue of d's endpoint. With it, a program that shares the
// queue's PostgreSQL database can insert deliveries with its own River
// client, for example in its own transaction with Client.InsertManyTx (a
// client without the queue's workers needs
// river.Config.SkipUnknownJobCheck). Unlike Enqueue, nothing deduplicates
// such deliveries, and their attempts take the default timeout of the
// queue that runs them (WithAttemptTimeout).
func InsertParams(d *hfhooks.Delivery) river.InsertManyParams {
	return newDeliveryArgs(d).insertParams()
}

// insertParams returns the job of a: a's arguments in its endpoint's queue.
func (a deliveryArgs) insertParams() river.InsertManyParams {
	return river.InsertManyParams{Args: a, InsertOpts: &river.InsertOpts{Queue: riverQueue(a.Endpoint)}}
}

// secretHeaders are never stored: they carry credentials.
var secretHeaders = []string{hfhooks.SecretHeader, "Authorization", "Proxy-Authorization", "Cookie"}

func newDeliveryArgs(d *hfhooks.Delivery) deliveryArgs {
	header := d.Header.Clone()
	for _, h := range secretHeaders {
		header.Del(h)
	}
	a := deliveryArgs{Endpoint: d.Endpoint, Body: d.Body, Header: header, ReceivedAt: d.ReceivedAt}
	if p := d.Payload; p != nil {
		a.Scope, a.Action, a.RepoType, a.RepoName = p.Event.Scope, string(p.Event.Action), string(p.Repo.Type), p.Repo.Name
	}
	return a
}

// delivery rebuilds the delivery of job id.
func (a deliveryArgs) delivery(id int64) (*hfhooks.Delivery, error) {
	p, err := hfhooks.DecodePayload(a.Body)
	if err != nil {
		return nil, err
	}
	return &hfhooks.Delivery{ID: strconv.FormatInt(id, 10), Endpoint: a.Endpoint, Payload: p, Body: a.Body, Header: a.Header, ReceivedAt: a.ReceivedAt}, nil
}

// worker runs deliveries with the queue's executor.
type worker struct {
	river.WorkerDefaults[deliveryArgs]
	q *Queue
}

// Timeout is the timeout of the job's attempts (see deliveryArgs.Timeout).
func (w *worker) Timeout(job *river.Job[deliveryArgs]) time.Duration { return job.Args.Timeout }

// Work runs one attempt and logs its outcome. A handler error or panic is
// retried; so is a *hfhooks.StatusError with a 5xx code or 408, 425 or 429.
// Any other 4xx StatusError says the delivery itself is at fault: it fails
// at once (and can still be re-run).
func (w *worker) Work(ctx context.Context, job *river.Job[deliveryArgs]) error {
	log := w.q.cfg.logger.With("endpoint", job.Args.Endpoint, "delivery", job.ID)
	d, err := job.Args.delivery(job.ID)
	if err != nil {
		err = fmt.Errorf("decoding the stored delivery: %w", err)
		log.Error("delivery failed; giving up", "attempts", job.Attempt, "err", redact.Error(err))
		return river.JobCancel(err)
	}
	obs := w.q.cfg.observer
	if obs != nil && job.Attempt == 1 {
		obs.ObserveStart(job.Args.Endpoint, time.Since(job.CreatedAt))
	}
	start := time.Now()
	v, err := w.q.exec.Execute(ctx, d)
	took := time.Since(start)
	outcome := outcomeOf(err, job)
	if obs != nil {
		obs.ObserveRun(job.Args.Endpoint, outcome, took)
	}
	out := hfhooks.OutputOf(v, err)
	if out != "" {
		if rerr := river.RecordOutput(ctx, out); rerr != nil {
			log.Warn("recording a delivery's output", "err", rerr)
		}
	}
	switch outcome {
	case hfhooks.RunSucceeded:
		log.Info("delivery succeeded", "attempt", job.Attempt, "duration", took.Round(time.Microsecond))
		return nil
	case hfhooks.RunFailed:
		log.Error("delivery failed; giving up", "attempts", job.Attempt, "err", redact.Error(err))
		w.giveUp(ctx, job, rivertype.JobStateCancelled, out, err)
		return river.JobCancel(err)
	case hfhooks.RunGaveUp:
		log.Error("delivery failed; giving up", "attempts", job.Attempt, "err", redact.Error(err))
		w.giveUp(ctx, job, rivertype.JobStateDiscarded, out, err)
	default:
		log.Warn("delivery failed; will retry", "attempt", job.Attempt, "max_attempts", job.MaxAttempts,
			"err", redact.Error(err), "next_retry", w.q.retry.NextRetry(job.JobRow).Round(time.Millisecond))
	}
	return err
}

// outcomeOf is the outcome of an attempt of job that returned err, which
// decides what Work does next.
func outcomeOf(err error, job *river.Job[deliveryArgs]) hfhooks.RunOutcome {
	switch {
	case err == nil:
		return hfhooks.RunSucceeded
	case permanent(err):
		return hfhooks.RunFailed
	case job.Attempt >= job.MaxAttempts:
		return hfhooks.RunGaveUp
	}
	return hfhooks.RunRetried
}

// permanent reports whether err says that retrying cannot help.
func permanent(err error) bool {
	var se *hfhooks.StatusError
	if !errors.As(err, &se) || se.Code < 400 || se.Code > 499 {
		return false
	}
	switch se.Code {
	case http.StatusRequestTimeout, http.StatusTooEarly, http.StatusTooManyRequests:
		return false
	}
	return true
}

// backoff is the retry policy: exponential, capped, with equal jitter (half
// of the wait is random), so that retries of many deliveries spread out.
// The jitter is drawn from the job's id and attempt, so that the worker,
// which logs the next retry, and River, which schedules it, agree.
type backoff struct{ base, limit time.Duration }

// NextRetry implements river.ClientRetryPolicy.
func (b backoff) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(b.delay(job.ID, job.Attempt))
}

func (b backoff) delay(id int64, attempt int) time.Duration {
	d := b.limit
	if shift := attempt - 1; shift < 62 && b.base<<shift > 0 && b.base<<shift < b.limit {
		d = b.base << shift
	}
	jitter := rand.New(rand.NewPCG(uint64(id), uint64(attempt)))
	return d/2 + time.Duration(jitter.Int64N(int64(d/2)+1))
}
