package queue

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/internal/redact"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// Get returns a queued delivery with its payload, as received, and its
// attempts (see hfhooks.QueueHistory). River keeps the error of every failed attempt and
// the output of the last one: an attempt before the last shows its error
// and when it ended, without its duration or output.
func (q *Queue) Get(ctx context.Context, id string) (hfhooks.DeliveryDetail, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n < 1 {
		return hfhooks.DeliveryDetail{}, fmt.Errorf("queue: delivery %q: %w", id, hfhooks.ErrDeliveryNotFound)
	}
	job, err := q.db.get(ctx, n)
	if err != nil {
		return hfhooks.DeliveryDetail{}, err
	}
	return detail(job), nil
}

func (b *riverBackend[TTx]) get(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	job, err := cmp.Or(b.reader, b.client).JobGet(ctx, id)
	switch {
	case errors.Is(err, river.ErrNotFound) || (err == nil && job.Kind != deliveryArgs{}.Kind()):
		return nil, fmt.Errorf("queue: delivery %d: %w", id, hfhooks.ErrDeliveryNotFound)
	case err != nil:
		return nil, fmt.Errorf("queue: delivery %d: %w", id, err)
	}
	return job, nil
}

// detail is the delivery of job: its record, its payload, and an attempt
// for each error River kept and for the last attempt.
func detail(job *rivertype.JobRow) hfhooks.DeliveryDetail {
	rec := record(job)
	d := hfhooks.DeliveryDetail{Delivery: rec, Payload: argsOf(job).Body, Attempts: []hfhooks.Attempt{}}
	for _, e := range job.Errors {
		d.Attempts = append(d.Attempts, hfhooks.Attempt{Number: e.Attempt, State: hfhooks.StateFailed, Ended: e.At, Error: attemptError(e)})
	}
	if job.Attempt == 0 {
		return d
	}
	last := len(d.Attempts) - 1
	if last < 0 || d.Attempts[last].Number != job.Attempt {
		// The last attempt has no error: it runs, or it succeeded.
		a := hfhooks.Attempt{Number: job.Attempt, State: hfhooks.StateRunning}
		if job.FinalizedAt != nil {
			a.State, a.Ended = hfhooks.StateSucceeded, *job.FinalizedAt
		}
		d.Attempts = append(d.Attempts, a)
		last++
	}
	a := &d.Attempts[last]
	a.Output = rec.Output
	if job.AttemptedAt != nil && !a.Ended.IsZero() {
		a.Duration = a.Ended.Sub(*job.AttemptedAt)
	}
	return d
}

// attemptError is the message of a failed attempt: a permanent failure is
// recorded through river.JobCancel, which prefixes its error.
func attemptError(e rivertype.AttemptError) string {
	return redact.String(strings.TrimPrefix(e.Error, "JobCancelError: "))
}
