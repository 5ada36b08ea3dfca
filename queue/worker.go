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
}

// Kind is the River job kind of deliveries.
func (deliveryArgs) Kind() string { return "hfhooks_delivery" }

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

// Work runs one attempt. A handler error or panic is retried; so is a
// *hfhooks.StatusError with a 5xx code or 408, 425 or 429. Any other 4xx
// StatusError says the delivery itself is at fault: it fails at once (and
// can still be re-run).
func (w *worker) Work(ctx context.Context, job *river.Job[deliveryArgs]) error {
	d, err := job.Args.delivery(job.ID)
	if err != nil {
		return river.JobCancel(fmt.Errorf("decoding the stored delivery: %w", err))
	}
	exec := w.q.exec.Load()
	if exec == nil {
		return errors.New("queue: no executor") // cannot happen: Start sets it first
	}
	v, err := (*exec).Execute(ctx, d)
	if out := hfhooks.OutputOf(v, err); out != "" {
		if rerr := river.RecordOutput(ctx, out); rerr != nil {
			w.q.cfg.logger.Warn("recording a delivery's output", "delivery", d.ID, "err", rerr)
		}
	}
	if err != nil {
		if permanent(err) {
			return river.JobCancel(err)
		}
		return err
	}
	return nil
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
type backoff struct{ base, limit time.Duration }

// NextRetry implements river.ClientRetryPolicy.
func (b backoff) NextRetry(job *rivertype.JobRow) time.Time {
	return time.Now().Add(b.delay(job.Attempt))
}

func (b backoff) delay(attempt int) time.Duration {
	d := b.limit
	if shift := attempt - 1; shift < 62 && b.base<<shift > 0 && b.base<<shift < b.limit {
		d = b.base << shift
	}
	return d/2 + rand.N(d/2+1)
}
