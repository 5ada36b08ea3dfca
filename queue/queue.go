// Package queue runs Hugging Face Hub webhook deliveries durably, on River
// (github.com/riverqueue/river), for a Server in durable mode
// (hfhooks.WithQueue).
//
// Open takes a data source name: "sqlite:PATH" for an embedded SQLite file
// (pure Go, no cgo; one process), or a "postgres://" URL for PostgreSQL,
// where any number of processes share one database. Each accepted delivery
// is committed before the receiver answers; workers run the endpoint's
// handler, retrying errors and panics with exponential backoff and jitter up
// to a number of attempts, each with a timeout. A delivery that used all its
// attempts is kept as failed, visible in the history and re-runnable.
//
// # Endpoints
//
// The Server tells the queue its endpoints (Queue.SetEndpoints). Each
// endpoint has a River queue of its own, named "hook_", then the endpoint's
// name in lower case with every run of characters other than a-z and 0-9
// turned into "_" (at most 40 characters of it), then "_" and the first 8
// hex digits of the SHA-256 of the name: endpoint "trigger_training" has
// queue "hook_trigger_training_9838b628". A process works
// only the queues of the endpoints it serves, with as many workers as the
// endpoint's concurrency (hfhooks.EndpointConcurrency), else WithWorkers:
// deliveries waiting for a free worker stay queued, and processes serving
// different endpoints can share one PostgreSQL database, each running its
// own; a delivery for an endpoint that no running process serves waits,
// queued, for one that does. Deliveries queued before the endpoint queues
// existed, in River's default queue, are run by every process.
//
// An attempt's timeout is its endpoint's (hfhooks.EndpointTimeout, plus its
// grace), else WithAttemptTimeout, fixed when the delivery is queued.
//
// # Rescue
//
// A delivery still marked running when its process died is rescued and
// tried again (as one more attempt) by River's rescuer, which runs every
// 30 s in one of the processes: once max(its timeout, the rescuer's
// process's attempt timeout + 10 s) has passed since the attempt started.
// So a dead process's deliveries run again within that bound plus 30 s, and
// a long hook (a 2 h timeout) is never taken for dead while it runs.
//
// # Repeats
//
// The Hub sends no delivery id, and re-sends the same body when it retries,
// when a webhook is replayed, or when the same event happens twice. By
// default every delivery is queued and run. With WithDedupWindow, a
// delivery with the same endpoint, webhook id and raw body as one accepted
// within the window is not run again, and is answered as a duplicate of it:
// within the window, a genuinely repeated event is dropped. Execution is at
// least once, not exactly once: a process that dies after a handler's side
// effect but before its completion is recorded runs it again, so handlers
// must be idempotent (Delivery.ID is stable across attempts).
//
// # Logs
//
// The queue logs one line per attempt's outcome: "delivery succeeded" at
// info, "delivery failed; will retry" at warn and "delivery failed; giving
// up" at error; and, with a give-up hook (WithGiveUp), one line per run of
// the hook: "give-up hook ran" at info or "give-up hook failed" at error.
// River's own lines are logged at debug.
//
// # Monitoring
//
// Stats counts the deliveries waiting and running, for a receiver's
// /readyz and for package metrics; WithObserver reports each attempt's
// outcome and each delivery's wait before its first start.
package queue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/internal/redact"
)

// Defaults of the options.
const (
	DefaultMaxAttempts    = 10
	DefaultAttemptTimeout = time.Minute
	DefaultBackoffBase    = time.Second
	DefaultBackoffCap     = time.Hour
	DefaultWorkers        = 10
)

// maxBatch is the most deliveries committed in one transaction.
const maxBatch = 256

// Option configures a Queue.
type Option func(*config)

type config struct {
	maxAttempts    int
	attemptTimeout time.Duration
	backoffBase    time.Duration
	backoffCap     time.Duration
	dedupWindow    time.Duration
	workers        int
	logger         *slog.Logger
	schema         string
	commitBudget   time.Duration // CommitBudget; shorter in tests
	giveUp         hfhooks.GiveUpFunc
	observer       hfhooks.Observer
}

// WithMaxAttempts sets how many times a delivery's handler is run before the
// delivery is kept as failed (DefaultMaxAttempts).
func WithMaxAttempts(n int) Option { return func(c *config) { c.maxAttempts = n } }

// WithAttemptTimeout bounds one run of the handler of an endpoint without a
// timeout of its own (hfhooks.EndpointTimeout): its context is cancelled
// after d (DefaultAttemptTimeout). See the package documentation for when a
// delivery whose process died is tried again.
func WithAttemptTimeout(d time.Duration) Option { return func(c *config) { c.attemptTimeout = d } }

// WithBackoff sets the wait before a retry: base·2^(attempt-1), at most
// limit, of which a random half is jitter (DefaultBackoffBase,
// DefaultBackoffCap).
func WithBackoff(base, limit time.Duration) Option {
	return func(c *config) { c.backoffBase, c.backoffCap = base, limit }
}

// WithDedupWindow turns deduplication on: a delivery with the same
// endpoint, webhook id and raw body as one accepted less than d ago is not
// run, and is answered as a duplicate of it. Within the window a genuinely
// repeated event (the same push twice, a replay from the Hub) is dropped
// too. Zero, the default, turns it off: every delivery runs.
func WithDedupWindow(d time.Duration) Option { return func(c *config) { c.dedupWindow = d } }

// WithWorkers sets how many deliveries of one endpoint run at once in this
// process, for endpoints without a concurrency of their own
// (hfhooks.EndpointConcurrency) (DefaultWorkers).
func WithWorkers(n int) Option { return func(c *config) { c.workers = n } }

// WithLogger sets the logger of the queue and of River (slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// WithObserver makes the queue report each run of a handler, with its
// outcome (succeeded, retried, failed for a client error, or gave up on the
// last attempt), and the time from each delivery's acknowledgement to its
// first start, to o: give it the server's Observer (hfhooks.WithObserver),
// such as package metrics' collectors. By default nothing is observed.
func WithObserver(o hfhooks.Observer) Option { return func(c *config) { c.observer = o } }

// WithSchema sets the PostgreSQL schema of the queue's tables; it is created
// if missing. It is ignored for SQLite.
func WithSchema(name string) Option { return func(c *config) { c.schema = name } }

// ErrClosed is returned by Enqueue after Close.
var ErrClosed = errors.New("queue: closed")

// Queue is a durable hfhooks.Queue on River. It also implements
// hfhooks.QueueHistory, so that a Server shows its deliveries. Create one
// with Open and release it with Close.
type Queue struct {
	cfg   config
	db    backend
	retry backoff
	// exec runs the deliveries; set by Start before any worker runs.
	exec hfhooks.Executor

	// endpoints are the latest SetEndpoints, by name; changed signals a
	// new set to reconcile, which runs until stopReconcile, then closes
	// reconciled.
	endpoints     atomic.Pointer[map[string]hfhooks.EndpointSettings]
	changed       chan struct{}
	stopReconcile context.CancelFunc
	reconciled    chan struct{}

	requests chan *request
	closing  chan struct{}
	stopped  chan struct{} // closed when the committer has returned
	close    sync.Once
	started  atomic.Bool
	// lastCommit is the error of the last commit, nil before the first.
	lastCommit atomic.Pointer[error]
}

var (
	_ hfhooks.Queue        = (*Queue)(nil)
	_ hfhooks.QueueHistory = (*Queue)(nil)
	_ hfhooks.QueueHealth  = (*Queue)(nil)
)

// Open opens the queue named by dsn and brings its schema up to date:
//
//	sqlite:PATH               an SQLite file, created if missing
//	postgres://... (or postgresql://...)  a PostgreSQL database
func Open(ctx context.Context, dsn string, opts ...Option) (*Queue, error) {
	cfg := config{
		maxAttempts:    DefaultMaxAttempts,
		attemptTimeout: DefaultAttemptTimeout,
		backoffBase:    DefaultBackoffBase,
		backoffCap:     DefaultBackoffCap,
		workers:        DefaultWorkers,
		logger:         slog.Default(),
		commitBudget:   CommitBudget,
	}
	for _, o := range opts {
		o(&cfg)
	}
	switch {
	case cfg.maxAttempts < 1:
		return nil, fmt.Errorf("queue: max attempts must be at least 1, got %d", cfg.maxAttempts)
	case cfg.attemptTimeout <= 0, cfg.backoffBase <= 0, cfg.backoffCap < cfg.backoffBase:
		return nil, errors.New("queue: attempt timeout and backoff base must be positive and the backoff cap at least the base")
	case cfg.dedupWindow < 0:
		return nil, fmt.Errorf("queue: the dedup window must be 0 (off) or positive, got %v", cfg.dedupWindow)
	case cfg.workers < 1:
		return nil, fmt.Errorf("queue: workers must be at least 1, got %d", cfg.workers)
	}
	q := &Queue{
		cfg:        cfg,
		retry:      backoff{base: cfg.backoffBase, limit: cfg.backoffCap},
		requests:   make(chan *request, maxBatch),
		closing:    make(chan struct{}),
		stopped:    make(chan struct{}),
		changed:    make(chan struct{}, 1),
		reconciled: make(chan struct{}),
	}
	q.endpoints.Store(&map[string]hfhooks.EndpointSettings{})
	var err error
	switch scheme, rest, _ := strings.Cut(dsn, ":"); scheme {
	case "sqlite":
		if rest == "" {
			return nil, errors.New(`queue: "sqlite:" needs a file path, as in sqlite:hfhooks.db`)
		}
		q.db, err = openSQLite(ctx, rest, q)
	case "postgres", "postgresql":
		q.db, err = openPostgres(ctx, dsn, q)
	default:
		return nil, fmt.Errorf("queue: unsupported data source %q: want sqlite:PATH or a postgres:// URL", redact.URL(dsn))
	}
	if err != nil {
		return nil, err
	}
	go q.commitLoop()
	ctx, q.stopReconcile = context.WithCancel(context.WithoutCancel(ctx))
	go q.reconcile(ctx)
	return q, nil
}

// request is one Enqueue waiting for its batch to commit.
type request struct {
	args deliveryArgs
	key  string      // for deduplication; empty when it is off
	done chan result // buffered: the committer never waits for the caller
}

type result struct {
	receipt hfhooks.Receipt
	err     error
}

// Enqueue commits d to the queue before it returns (see hfhooks.Queue).
// Concurrent calls are committed together, in one transaction.
func (q *Queue) Enqueue(ctx context.Context, d *hfhooks.Delivery) (hfhooks.Receipt, error) {
	r := q.newRequest(d)
	select {
	case q.requests <- r:
	case <-q.closing:
		return hfhooks.Receipt{}, ErrClosed
	case <-ctx.Done():
		return hfhooks.Receipt{}, ctx.Err()
	}
	select {
	case res := <-r.done:
		return res.receipt, res.err
	case <-q.stopped:
		return hfhooks.Receipt{}, ErrClosed
	case <-ctx.Done():
		// The delivery may still be committed; a repeat of it will then be
		// answered as a duplicate.
		return hfhooks.Receipt{}, ctx.Err()
	}
}

func (q *Queue) newRequest(d *hfhooks.Delivery) *request {
	r := &request{args: newDeliveryArgs(d), done: make(chan result, 1)}
	r.args.Timeout = q.timeoutOf(d.Endpoint)
	if q.cfg.dedupWindow > 0 {
		r.key = dedupKey(d)
	}
	return r
}

// dedupKey identifies a delivery for deduplication: its endpoint, webhook id
// and raw body.
func dedupKey(d *hfhooks.Delivery) string {
	h := sha256.New()
	h.Write([]byte(d.Endpoint))
	h.Write([]byte{0})
	if d.Payload != nil {
		h.Write([]byte(d.Payload.Webhook.ID))
	}
	h.Write([]byte{0})
	h.Write(d.Body)
	return hex.EncodeToString(h.Sum(nil))
}

// commitLoop is the group committer: it takes whatever requests are waiting
// (at least one, at most maxBatch), commits them in one transaction, answers
// them all, and starts again. When idle it blocks for the next request, with
// no timer. Under load, the requests that arrive during a commit make the
// next batch, and after a batch of several it may linger (see fill).
func (q *Queue) commitLoop() {
	defer close(q.stopped)
	batch := make([]*request, 0, maxBatch)
	lastSweep := time.Now()
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	var last int               // size of the previous batch
	var lastTook time.Duration // how long committing it took
	for {
		select {
		case r := <-q.requests:
			batch = append(batch[:0], r)
		case <-q.closing:
			return
		}
		batch = q.fill(batch, last, min(lastTook, maxLinger), linger)
		last = len(batch)
		start := time.Now()
		q.commitBatch(batch)
		lastTook = time.Since(start)
		if q.cfg.dedupWindow > 0 && time.Since(lastSweep) > sweepInterval {
			lastSweep = time.Now()
			q.sweep()
		}
	}
}

// Lingering. Without it, concurrent callers split into two groups that take
// turns: while one group's batch commits, the other's requests arrive, and
// the callers just answered come back too late for the next batch, so that
// batches hold half of the callers. So after a batch of at least lingerFrom
// requests, the committer waits for as many as that batch had, but no
// longer than that batch took to commit, nor than maxLinger: at most one
// more commit's time of latency, only under load. A lone caller, or an idle
// queue, never waits.
const (
	lingerFrom = 4
	maxLinger  = 2 * time.Millisecond
)

// fill adds to batch the requests waiting; then, if the previous batch had
// last requests, lingers for up to wait to have as many.
func (q *Queue) fill(batch []*request, last int, wait time.Duration, timer *time.Timer) []*request {
	for len(batch) < maxBatch {
		select {
		case r := <-q.requests:
			batch = append(batch, r)
			continue
		default:
		}
		break
	}
	want := min(last, maxBatch)
	if last < lingerFrom || len(batch) >= want || wait <= 0 {
		return batch
	}
	timer.Reset(wait)
	defer timer.Stop()
	for len(batch) < want {
		select {
		case r := <-q.requests:
			batch = append(batch, r)
		case <-timer.C:
			return batch
		case <-q.closing:
			return batch
		}
	}
	return batch
}

// commitBatch commits a batch and answers its requests. With deduplication
// on, repeats within the batch are answered as duplicates of the first.
func (q *Queue) commitBatch(batch []*request) {
	unique, repeats := batch, map[string][]*request(nil)
	if q.cfg.dedupWindow > 0 {
		unique, repeats = nil, make(map[string][]*request, len(batch))
		for _, r := range batch {
			if _, seen := repeats[r.key]; !seen {
				unique = append(unique, r)
			}
			repeats[r.key] = append(repeats[r.key], r)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), q.cfg.commitBudget)
	defer cancel()
	receipts, err := q.db.insert(ctx, unique, time.Now(), q.cfg.dedupWindow)
	err = unavailable(len(unique), err)
	q.lastCommit.Store(&err)
	for i, r := range unique {
		res := result{err: err}
		if err == nil {
			res.receipt = receipts[i]
		}
		r.done <- res
		res.receipt.Duplicate = true
		for _, again := range repeats[r.key][min(1, len(repeats[r.key])):] {
			again.done <- res
		}
	}
}

// sweepInterval is how often remembered deliveries older than the
// deduplication window are deleted.
const sweepInterval = 10 * time.Minute

func (q *Queue) sweep() {
	ctx, cancel := context.WithTimeout(context.Background(), q.cfg.commitBudget)
	defer cancel()
	if err := q.db.sweep(ctx, time.Now().Add(-q.cfg.dedupWindow)); err != nil {
		q.cfg.logger.Warn("deleting expired deduplication keys", "err", err)
	}
}

// Start begins running queued deliveries with exec, until Stop.
func (q *Queue) Start(ctx context.Context, exec hfhooks.Executor) error {
	if !q.started.CompareAndSwap(false, true) {
		return errors.New("queue: already started")
	}
	q.exec = exec
	if err := q.db.start(ctx); err != nil {
		return fmt.Errorf("queue: starting workers: %w", err)
	}
	return nil
}

// stopCancelWait bounds how long Stop waits for handlers to return once
// their contexts are cancelled.
const stopCancelWait = 5 * time.Second

// Stop stops taking jobs and waits for running handlers until ctx is done;
// then it cancels their contexts, and their deliveries are retried later.
// Queued deliveries stay queued. Enqueue still works after Stop.
func (q *Queue) Stop(ctx context.Context) error {
	if !q.started.Load() {
		return nil
	}
	q.endReconcile()
	err := q.db.stop(ctx)
	if err != nil && ctx.Err() != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopCancelWait)
		defer cancel()
		err = errors.Join(err, q.db.stopAndCancel(cctx))
	}
	if err != nil {
		return fmt.Errorf("queue: stopping workers: %w", err)
	}
	return nil
}

// Close stops the workers (see Stop) if they run, ends intake and closes the
// database. Enqueue calls waiting for a commit get ErrClosed.
func (q *Queue) Close() error {
	var err error
	q.close.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), stopCancelWait)
		defer cancel()
		err = q.Stop(ctx)
		q.endReconcile()
		close(q.closing)
		<-q.stopped
		err = errors.Join(err, q.db.close())
	})
	return err
}

// endReconcile stops the changes of River queues and waits for the one in
// progress, if any.
func (q *Queue) endReconcile() {
	q.stopReconcile()
	<-q.reconciled
}

// List returns a page of the queue's deliveries, newest first (see
// hfhooks.QueueHistory), of at most MaxPageSize. Its cursor is a delivery
// ID. On SQLite, it reads on connections of its own, never holding up a
// commit.
func (q *Queue) List(ctx context.Context, hq hfhooks.HistoryQuery) (hfhooks.HistoryPage, error) {
	var before int64
	if hq.Before != "" {
		var err error
		if before, err = strconv.ParseInt(hq.Before, 10, 64); err != nil || before < 1 {
			return hfhooks.HistoryPage{}, fmt.Errorf("queue: bad cursor %q", hq.Before)
		}
	}
	states := statesOf(hq.State)
	if len(states) == 0 {
		return hfhooks.HistoryPage{}, nil // a state jobs never have, as rejected
	}
	return q.db.list(ctx, states, min(max(hq.Limit, 1), MaxPageSize), before)
}

// Retry makes a failed delivery run again, at once (see hfhooks.QueueHistory).
func (q *Queue) Retry(ctx context.Context, id string) error {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return fmt.Errorf("queue: delivery %q: %w", id, hfhooks.ErrDeliveryNotFound)
	}
	return q.db.retry(ctx, n)
}
