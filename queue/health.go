package queue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hfhooks/hfhooks"
)

// CommitBudget bounds one commit of deliveries: a commit that cannot finish
// within it fails with an error wrapping ErrUnavailable, and the receiver
// answers 503, so that the Hub sends the deliveries again.
const CommitBudget = 10 * time.Second

// MaxPageSize is the most deliveries List returns in one page, as the
// receiver's /api/deliveries takes; a larger limit is taken as MaxPageSize.
const MaxPageSize = hfhooks.MaxPageSize

// ErrUnavailable is wrapped by the errors of Enqueue and Health when the
// queue cannot commit: the database is locked by another process, full,
// unreachable, or slower than CommitBudget. The error also wraps its cause.
var ErrUnavailable = errors.New("queue unavailable")

// unavailableError is a failure to commit, in hfhooks's words, wrapping
// ErrUnavailable and the cause.
type unavailableError struct {
	op     string // what failed, as in "committing delivery"
	reason string
	err    error
}

func (e *unavailableError) Error() string   { return "queue: " + e.op + ": " + e.reason }
func (e *unavailableError) Unwrap() []error { return []error{ErrUnavailable, e.err} }

// committing names a commit of n deliveries, or for 0, a check.
func committing(n int) string {
	switch n {
	case 0:
		return "checking that it can commit"
	case 1:
		return "committing delivery"
	}
	return fmt.Sprintf("committing %d deliveries", n)
}

// unavailable wraps err, the failure of a commit of n deliveries (0 for a
// check), with ErrUnavailable, unless the backend did.
func unavailable(n int, err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	return &unavailableError{op: committing(n), reason: err.Error(), err: err}
}

// Health reports whether the queue can commit now: nil when its last commit
// succeeded, else (or before any commit) the result of a quick check that
// it can, an error wrapping ErrUnavailable that names the reason. A
// receiver's health check (as /healthz) can call it.
func (q *Queue) Health(ctx context.Context) error {
	if last := q.lastCommit.Load(); last != nil && *last == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, q.cfg.commitBudget)
	defer cancel()
	return unavailable(0, q.db.check(ctx))
}
