package queue

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/internal/redact"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"
)

// WithGiveUp sets f to run once for each delivery the queue gives up on:
// after its last attempt failed, or at once after a failure that retrying
// cannot help (a 4xx hfhooks.StatusError), or when a process died during
// its last attempt (SQLite, at the next Open). The give-up is recorded as a
// job of its own, in the same transaction as the delivery's failure, in the
// River queue "hfhooks_give_up", which only queues with a give-up hook
// work: it survives a restart between the give-up and its run. f is
// started once: its error (or panic) is logged at error and never retried,
// nor taken for a give-up itself, and a run cut short by a crash or by
// Stop's deadline is not run again.
func WithGiveUp(f hfhooks.GiveUpFunc) Option { return func(c *config) { c.giveUp = f } }

// giveUpArgs is a give-up as the queue stores it, until the give-up hook
// has run.
type giveUpArgs struct {
	Delivery   deliveryArgs `json:"delivery"`
	DeliveryID int64        `json:"delivery_id"`
	Attempts   int          `json:"attempts"`
	// Error is the last error, redacted.
	Error string `json:"error"`
}

// Kind is the River job kind of give-ups.
func (giveUpArgs) Kind() string { return "hfhooks_give_up" }

// giveUpQueue is the River queue of give-ups.
const giveUpQueue = "hfhooks_give_up"

// giveUpOpts puts a give-up in giveUpQueue, to be started once.
var giveUpOpts = &river.InsertOpts{Queue: giveUpQueue, MaxAttempts: 1}

// giveUp records that the queue gave up on job, whose last attempt failed
// with err and printed out: in one transaction, the job is finalized in
// state (cancelled or discarded) and a give-up job is queued. Without a
// give-up hook, or when the recording fails (logged), River records the
// failure itself when Work returns.
func (w *worker) giveUp(ctx context.Context, job *river.Job[deliveryArgs], state rivertype.JobState, out string, err error) {
	if w.q.cfg.giveUp == nil {
		return
	}
	now := time.Now().UTC()
	errData, _ := json.Marshal(rivertype.AttemptError{At: now, Attempt: job.Attempt, Error: err.Error()})
	var metadata []byte
	if out != "" {
		metadata, _ = json.Marshal(map[string]string{rivertype.MetadataKeyOutput: out})
	}
	fail := riverdriver.JobSetStateDiscarded(job.ID, now, errData, metadata)
	if state == rivertype.JobStateCancelled {
		fail = riverdriver.JobSetStateCancelled(job.ID, now, errData, metadata)
	}
	args := giveUpArgs{Delivery: job.Args, DeliveryID: job.ID, Attempts: job.Attempt, Error: redact.String(err.Error())}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.q.cfg.commitBudget)
	defer cancel()
	if err := w.q.db.giveUp(ctx, fail, args); err != nil {
		w.q.cfg.logger.Error("recording a give-up; its hook will not run", "endpoint", job.Args.Endpoint, "delivery", job.ID, "err", redact.Error(err))
	}
}

// giveUp finalizes a running job with fail and queues args, in one
// transaction; it does nothing when the job is no longer running (River's
// rescuer took it for the job of a dead process).
func (b *riverBackend[TTx]) giveUp(ctx context.Context, fail *riverdriver.JobSetStateIfRunningParams, args giveUpArgs) error {
	return b.inTx(ctx, func(tx TTx, _ sqlTx) error {
		exec := b.driver.UnwrapExecutor(tx)
		job, err := exec.JobGetByID(ctx, &riverdriver.JobGetByIDParams{ID: fail.ID, Schema: b.schema})
		if err != nil || job.State != rivertype.JobStateRunning {
			return err
		}
		_, err = exec.JobSetStateIfRunningMany(ctx, &riverdriver.JobSetStateIfRunningManyParams{
			ID:              []int64{fail.ID},
			Attempt:         []*int{nil},
			ErrData:         [][]byte{fail.ErrData},
			FinalizedAt:     []*time.Time{fail.FinalizedAt},
			MetadataDoMerge: []bool{fail.MetadataDoMerge},
			MetadataUpdates: [][]byte{fail.MetadataUpdates},
			ScheduledAt:     []*time.Time{nil},
			Schema:          b.schema,
			State:           []rivertype.JobState{fail.State},
		})
		if err != nil {
			return fmt.Errorf("finalizing the delivery: %w", err)
		}
		if _, err := b.client.InsertTx(ctx, tx, args, giveUpOpts); err != nil {
			return fmt.Errorf("queueing its give-up: %w", err)
		}
		return nil
	})
}

// giveUpWorker runs the queue's give-up hook.
type giveUpWorker struct {
	river.WorkerDefaults[giveUpArgs]
	q *Queue
}

// Work runs the give-up hook once, and logs its outcome.
func (w *giveUpWorker) Work(ctx context.Context, job *river.Job[giveUpArgs]) error {
	a := job.Args
	log := w.q.cfg.logger.With("endpoint", a.Delivery.Endpoint, "delivery", a.DeliveryID)
	f := w.q.cfg.giveUp
	if f == nil {
		log.Warn("a give-up is queued, but this queue has no give-up hook (WithGiveUp): skipped")
		return nil
	}
	d, err := a.Delivery.delivery(a.DeliveryID)
	if err == nil {
		err = callGiveUp(ctx, f, &hfhooks.GiveUp{Delivery: d, Attempts: a.Attempts, Error: a.Error})
	}
	if err != nil {
		log.Error("give-up hook failed", "err", redact.Error(err))
		return river.JobCancel(err)
	}
	log.Info("give-up hook ran", "attempts", a.Attempts)
	return nil
}

// callGiveUp runs f, turning a panic into an error.
func callGiveUp(ctx context.Context, f hfhooks.GiveUpFunc, g *hfhooks.GiveUp) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("give-up hook panicked: %v\n%s", p, debug.Stack())
		}
	}()
	return f(ctx, g)
}
