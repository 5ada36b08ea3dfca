package queue

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"
)

// backend is the database side of a Queue.
type backend interface {
	// insert commits the deliveries of reqs in one transaction, each in
	// the River queue of its endpoint, and returns their receipts in order.
	// With a window (deduplication on; no two of reqs with the same key),
	// it skips those whose key was committed since now-window.
	insert(ctx context.Context, reqs []*request, now time.Time, window time.Duration) ([]hfhooks.Receipt, error)
	sweep(ctx context.Context, before time.Time) error
	list(ctx context.Context, states []rivertype.JobState, limit int, before int64) (hfhooks.HistoryPage, error)
	retry(ctx context.Context, id int64) error
	// get returns the delivery job id, or an error wrapping
	// hfhooks.ErrDeliveryNotFound.
	get(ctx context.Context, id int64) (*rivertype.JobRow, error)
	// giveUp finalizes a running delivery with fail and queues its
	// give-up, in one transaction (see WithGiveUp).
	giveUp(ctx context.Context, fail *riverdriver.JobSetStateIfRunningParams, args giveUpArgs) error
	// check reports whether a transaction can be committed now.
	check(ctx context.Context) error
	// stats counts the deliveries waiting and running (see Queue.Stats).
	stats(ctx context.Context) (hfhooks.QueueStats, error)
	start(ctx context.Context) error
	// addQueue has this process work the River queue name, with workers;
	// removeQueue stops it, waiting for its running jobs until ctx ends.
	addQueue(name string, workers int) error
	removeQueue(ctx context.Context, name string) error
	stop(ctx context.Context) error
	stopAndCancel(ctx context.Context) error
	close() error
}

// sqlTx is what the queue's own SQL needs of a transaction, whatever the
// driver. Queries are written with ? placeholders.
type sqlTx interface {
	// query calls each for every row, with the row's Scan.
	query(ctx context.Context, sql string, args []any, each func(scan func(dest ...any) error) error) error
	exec(ctx context.Context, sql string, args ...any) error
}

// riverBackend is a backend on a River client, for a driver whose
// transactions are TTx.
type riverBackend[TTx any] struct {
	client *river.Client[TTx]
	driver riverdriver.Driver[TTx]
	schema string
	// reader, if set, is the client of history reads; else client.
	reader *river.Client[TTx]
	// fetchPoll, if set, is how often River looks for jobs; else 1 s.
	fetchPoll time.Duration
	// begin starts a transaction and gives its sqlTx; end commits it when
	// commit is true, else rolls it back.
	begin   func(ctx context.Context) (TTx, sqlTx, error)
	end     func(ctx context.Context, tx TTx, commit bool) error
	closeDB func() error
}

// newRiverBackend builds the River client for q on driver, migrates the
// schema (River's and the deduplication table) and returns the backend.
func newRiverBackend[TTx any](ctx context.Context, q *Queue, driver riverdriver.Driver[TTx], schema string, b *riverBackend[TTx]) error {
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &worker{q: q}); err != nil {
		return err
	}
	if err := river.AddWorkerSafely(workers, &giveUpWorker{q: q}); err != nil {
		return err
	}
	b.driver, b.schema = driver, schema
	riverLog := slog.New(debugHandler{q.cfg.logger.Handler()})
	migrator, err := rivermigrate.New(driver, &rivermigrate.Config{Schema: schema, Logger: riverLog})
	if err != nil {
		return err
	}
	res, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	if n := len(res.Versions); n > 0 {
		q.cfg.logger.Info("queue schema migrated", "river_version", res.Versions[n-1].Version, "steps", n)
	}
	if err := b.inTx(ctx, func(_ TTx, tx sqlTx) error {
		return tx.exec(ctx, `CREATE TABLE IF NOT EXISTS hfhooks_dedup (
			key TEXT PRIMARY KEY,
			job_id BIGINT,
			created_at BIGINT NOT NULL
		)`)
	}); err != nil {
		return fmt.Errorf("creating the deduplication table: %w", err)
	}
	queues := map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: q.cfg.workers}}
	if q.cfg.giveUp != nil {
		queues[giveUpQueue] = river.QueueConfig{MaxWorkers: q.cfg.workers}
	}
	b.client, err = river.NewClient(driver, &river.Config{
		Logger:               riverLog,
		MaxAttempts:          q.cfg.maxAttempts,
		JobTimeout:           q.cfg.attemptTimeout,
		RescueStuckJobsAfter: q.cfg.attemptTimeout + rescueMargin,
		RetryPolicy:          q.retry,
		// Deliveries go to their endpoint's queue, added by Queue.reconcile;
		// the default queue holds those queued before endpoint queues were;
		// give-ups have a queue of their own.
		Queues:            queues,
		FetchCooldown:     10 * time.Millisecond,
		FetchPollInterval: cmp.Or(b.fetchPoll, time.Second),
		Schema:            schema,
		Workers:           workers,
	})
	return err
}

// rescueMargin is how long after the default attempt timeout a job still
// marked running is taken for the job of a dead process, and run again;
// River's rescuer waits for a job's own timeout (worker.Timeout) when it is
// longer.
const rescueMargin = 10 * time.Second

// debugHandler logs River's records at debug level: the queue logs what
// happens to deliveries itself.
type debugHandler struct{ h slog.Handler }

func (d debugHandler) Enabled(ctx context.Context, _ slog.Level) bool {
	return d.h.Enabled(ctx, slog.LevelDebug)
}

func (d debugHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Level = slog.LevelDebug
	return d.h.Handle(ctx, r)
}

func (d debugHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return debugHandler{d.h.WithAttrs(attrs)}
}

func (d debugHandler) WithGroup(name string) slog.Handler { return debugHandler{d.h.WithGroup(name)} }

// inTx runs f in a transaction, committed if f returns no error.
func (b *riverBackend[TTx]) inTx(ctx context.Context, f func(TTx, sqlTx) error) (err error) {
	tx, stx, err := b.begin(ctx)
	if err != nil {
		return err
	}
	if err := f(tx, stx); err != nil {
		return errors.Join(err, b.end(ctx, tx, false))
	}
	return b.end(ctx, tx, true)
}

func (b *riverBackend[TTx]) insert(ctx context.Context, reqs []*request, now time.Time, window time.Duration) ([]hfhooks.Receipt, error) {
	receipts := make([]hfhooks.Receipt, len(reqs))
	err := b.inTx(ctx, func(tx TTx, stx sqlTx) error {
		// The jobs go in first and their keys are claimed after, with their
		// ids, in one statement: a repeat is rare, and its job is deleted
		// before the commit.
		params := make([]river.InsertManyParams, len(reqs))
		for i, r := range reqs {
			params[i] = r.args.insertParams()
		}
		res, err := b.client.InsertManyTx(ctx, tx, params)
		if err != nil {
			return fmt.Errorf("inserting jobs: %w", err)
		}
		ids := make([]int64, len(reqs))
		for i := range reqs {
			ids[i] = res[i].Job.ID
			receipts[i].ID = strconv.FormatInt(ids[i], 10)
		}
		if window == 0 {
			return nil
		}
		claimed, err := claim(ctx, stx, reqs, ids, now, window)
		if err != nil {
			return err
		}
		if len(claimed) < len(reqs) {
			if err := b.dropRepeats(ctx, tx, stx, reqs, ids, claimed); err != nil {
				return err
			}
		}
		for i := range reqs {
			receipts[i] = hfhooks.Receipt{ID: strconv.FormatInt(ids[i], 10), Duplicate: !claimed[reqs[i].key]}
		}
		return nil
	})
	if err != nil {
		return nil, err // the queue names the commit
	}
	return receipts, nil
}

// claim records the keys of reqs, with the ids of their jobs, as seen at now,
// unless a key was already seen since now-window, and returns the keys it
// recorded. In PostgreSQL the upsert locks each key until the commit, so two
// processes cannot both claim one; the keys go in sorted, so that two
// batches lock their common keys in the same order and cannot deadlock.
func claim(ctx context.Context, tx sqlTx, reqs []*request, ids []int64, now time.Time, window time.Duration) (map[string]bool, error) {
	order := make([]int, len(reqs))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(i, j int) int { return strings.Compare(reqs[i].key, reqs[j].key) })
	var sql strings.Builder
	args := make([]any, 0, 3*len(reqs)+1)
	sql.WriteString("INSERT INTO hfhooks_dedup (key, job_id, created_at) VALUES ")
	for n, i := range order {
		if n > 0 {
			sql.WriteString(", ")
		}
		sql.WriteString("(?, CAST(? AS BIGINT), ?)")
		args = append(args, reqs[i].key, ids[i], now.UnixNano())
	}
	sql.WriteString(` ON CONFLICT (key) DO UPDATE SET job_id = excluded.job_id, created_at = excluded.created_at
		WHERE hfhooks_dedup.created_at <= ? RETURNING key`)
	args = append(args, now.Add(-window).UnixNano())
	claimed := make(map[string]bool, len(reqs))
	err := tx.query(ctx, sql.String(), args, func(scan func(...any) error) error {
		var key string
		err := scan(&key)
		claimed[key] = true
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claiming deduplication keys: %w", err)
	}
	return claimed, nil
}

// dropRepeats deletes the jobs just inserted for the deliveries of reqs
// whose key was not claimed (repeats), and puts the job of the first
// delivery in their place in ids.
func (b *riverBackend[TTx]) dropRepeats(ctx context.Context, tx TTx, stx sqlTx, reqs []*request, ids []int64, claimed map[string]bool) error {
	var keys []any
	var drop []int64
	for i, r := range reqs {
		if !claimed[r.key] {
			keys = append(keys, r.key)
			drop = append(drop, ids[i])
		}
	}
	res, err := b.client.JobDeleteManyTx(ctx, tx, river.NewJobDeleteManyParams().IDs(drop...).First(len(drop)))
	if err != nil {
		return fmt.Errorf("deleting the jobs of repeats: %w", err)
	}
	if len(res.Jobs) != len(drop) {
		return fmt.Errorf("deleting the jobs of repeats: %d of %d deleted", len(res.Jobs), len(drop))
	}
	original := make(map[string]int64, len(keys))
	err = stx.query(ctx, "SELECT key, job_id FROM hfhooks_dedup WHERE key IN ("+placeholders(len(keys))+")", keys, func(scan func(...any) error) error {
		var key string
		var id int64
		err := scan(&key, &id)
		original[key] = id
		return err
	})
	if err != nil {
		return fmt.Errorf("looking up repeats: %w", err)
	}
	for i, r := range reqs {
		if !claimed[r.key] {
			ids[i] = original[r.key]
		}
	}
	return nil
}

// eachRow calls each for every row of rs, with the row's Scan.
func eachRow(rs interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}, each func(scan func(...any) error) error) error {
	for rs.Next() {
		if err := each(rs.Scan); err != nil {
			return err
		}
	}
	return rs.Err()
}

// placeholders returns n comma-separated ? placeholders.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?,", n), ",")
}

func (b *riverBackend[TTx]) sweep(ctx context.Context, before time.Time) error {
	return b.inTx(ctx, func(_ TTx, tx sqlTx) error {
		return tx.exec(ctx, "DELETE FROM hfhooks_dedup WHERE created_at <= ?", before.UnixNano())
	})
}

func (b *riverBackend[TTx]) list(ctx context.Context, states []rivertype.JobState, limit int, before int64) (hfhooks.HistoryPage, error) {
	params := river.NewJobListParams().Kinds(deliveryArgs{}.Kind()).States(states...).OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(limit + 1)
	if before > 0 {
		params = params.After(river.JobListCursorFromJob(&rivertype.JobRow{ID: before}))
	}
	res, err := cmp.Or(b.reader, b.client).JobList(ctx, params)
	if err != nil {
		return hfhooks.HistoryPage{}, fmt.Errorf("queue: listing deliveries: %w", err)
	}
	var page hfhooks.HistoryPage
	for i, job := range res.Jobs {
		if i == limit {
			page.Next = page.Deliveries[limit-1].ID
			break
		}
		page.Deliveries = append(page.Deliveries, record(job))
	}
	return page, nil
}

func (b *riverBackend[TTx]) retry(ctx context.Context, id int64) error {
	_, err := b.rerun(ctx, id)
	return err
}

// rerun makes the failed delivery id available again, in a transaction of
// its own, and returns its job.
func (b *riverBackend[TTx]) rerun(ctx context.Context, id int64) (*rivertype.JobRow, error) {
	job, err := b.get(ctx, id)
	if err != nil {
		return nil, err
	}
	if stateOf(job.State) != hfhooks.StateFailed {
		return nil, fmt.Errorf("queue: delivery %d is %s: %w", id, stateOf(job.State), hfhooks.ErrNotFailed)
	}
	err = b.inTx(ctx, func(tx TTx, _ sqlTx) error {
		job, err = b.client.JobRetryTx(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("queue: re-running delivery %d: %w", id, err)
	}
	return job, nil
}

func (b *riverBackend[TTx]) check(ctx context.Context) error {
	return b.inTx(ctx, func(TTx, sqlTx) error { return nil })
}

func (b *riverBackend[TTx]) start(ctx context.Context) error { return b.client.Start(ctx) }
func (b *riverBackend[TTx]) addQueue(name string, workers int) error {
	return b.client.Queues().Add(name, river.QueueConfig{MaxWorkers: workers})
}
func (b *riverBackend[TTx]) removeQueue(ctx context.Context, name string) error {
	return b.client.Queues().Remove(ctx, name)
}
func (b *riverBackend[TTx]) stop(ctx context.Context) error { return b.client.Stop(ctx) }
func (b *riverBackend[TTx]) stopAndCancel(ctx context.Context) error {
	return b.client.StopAndCancel(ctx)
}
func (b *riverBackend[TTx]) close() error { return b.closeDB() }

// stateOf maps a River job state to a delivery state.
func stateOf(s rivertype.JobState) hfhooks.DeliveryState {
	switch s {
	case rivertype.JobStateRunning:
		return hfhooks.StateRunning
	case rivertype.JobStateRetryable:
		return hfhooks.StateRetrying
	case rivertype.JobStateCompleted:
		return hfhooks.StateSucceeded
	case rivertype.JobStateDiscarded, rivertype.JobStateCancelled:
		return hfhooks.StateFailed
	}
	return hfhooks.StateQueued // available, pending, scheduled
}

// statesOf returns the River job states of a delivery state; all of them
// for the empty state, none for a state that jobs never have.
func statesOf(s hfhooks.DeliveryState) []rivertype.JobState {
	var out []rivertype.JobState
	for _, js := range rivertype.JobStates() {
		if s == "" || stateOf(js) == s {
			out = append(out, js)
		}
	}
	return out
}

// record is the history record of a delivery job.
func record(job *rivertype.JobRow) hfhooks.DeliveryRecord {
	a := argsOf(job)
	rec := hfhooks.DeliveryRecord{
		ID:         strconv.FormatInt(job.ID, 10),
		Time:       a.ReceivedAt,
		Endpoint:   a.Endpoint,
		Scope:      a.Scope,
		Action:     hfhooks.Action(a.Action),
		RepoType:   hfhooks.RepoType(a.RepoType),
		RepoName:   a.RepoName,
		StatusCode: http.StatusAccepted,
		State:      stateOf(job.State),
		Attempts:   job.Attempt,
	}
	if job.AttemptedAt != nil && job.FinalizedAt != nil {
		rec.Duration = job.FinalizedAt.Sub(*job.AttemptedAt)
	}
	if out := job.Output(); len(out) > 0 {
		_ = json.Unmarshal(out, &rec.Output) // recorded by the worker as a JSON string
	}
	if n := len(job.Errors); n > 0 {
		rec.Error = attemptError(job.Errors[n-1])
	}
	return rec
}

// argsOf decodes the arguments of a delivery job.
func argsOf(job *rivertype.JobRow) deliveryArgs {
	var a deliveryArgs
	_ = json.Unmarshal(job.EncodedArgs, &a) // a job of this kind always has these args
	return a
}
