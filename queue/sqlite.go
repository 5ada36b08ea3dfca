package queue

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofrs/flock"
	"github.com/hfhooks/hfhooks"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// ErrLocked is returned by Open for an SQLite file that another queue, in
// this process or another, has open.
var ErrLocked = errors.New("queue: the SQLite file is in use")

// sqlitePragmas configure every writer connection: write-ahead logging, so
// that readers never wait for the writer; synchronous=NORMAL, so that
// River's own writes (fetching jobs, completing them, scheduling retries)
// commit without a disk sync; and foreign keys. The commit of acknowledged
// deliveries is synced all the same: it runs with synchronous=FULL
// (withSyncedCommit), so that it is on disk before it returns and survives a
// power loss, not only a process crash (group commit pays that disk sync
// once per batch). Syncing the write-ahead log also syncs every commit
// before it; a fetch or a completion lost to a power cut, the only loss
// NORMAL allows, makes a delivery run again, as at-least-once allows. The
// busy timeout is set from the commit budget (see busyTimeout).
//
// The writer does not checkpoint the WAL into the database file as it
// commits: while history reads hold snapshots, a checkpoint on every commit
// (SQLite's default past 1000 pages) stalls intake. The checkpointer does it
// in the background; the automatic checkpoint stays, at a size the
// checkpointer keeps the WAL far below, as a safety net.
var sqlitePragmas = []string{"journal_mode(WAL)", "synchronous(NORMAL)", "foreign_keys(ON)", "wal_autocheckpoint(20000)"}

// sqliteFetchPoll is how often River looks for jobs on SQLite. It finds
// them without: the queue wakes its workers when it commits deliveries,
// when River makes a retry available and when a delivery is re-run (see
// wakeDriver). What is left to the poll is a retry of a later attempt,
// which River's scheduler makes available every 5 s: it starts within 10 s
// of its time.
const sqliteFetchPoll = 5 * time.Second

// readPause is how many times as long as it took a history read keeps its
// turn after it returns (see list).
const readPause = 3

// checkpointEvery is the least time between two background checkpoints.
const checkpointEvery = 200 * time.Millisecond

// sqliteBackend is the backend on an SQLite file, which one queue owns: its
// lock file is held from Open to Close.
type sqliteBackend struct {
	*riverBackend[*sql.Tx]
	path string
	lock *flock.Flock
	// reading admits one history read at a time (see list).
	reading chan struct{}
	// wake tells River's workers of the jobs just committed.
	wake *wakeListener
	// readDB serves the history and the checkpointer.
	readDB *sql.DB
	logger *slog.Logger

	// River's client runs only while there is work (see sleep.go): mu
	// serializes starting and stopping it; started is true between start
	// and stop; asleep while the client is stopped for idleness; active is
	// the time of the last activity, in Unix nanoseconds; nap calls tick.
	mu        sync.Mutex
	started   bool
	asleep    atomic.Bool
	active    atomic.Int64
	nap       *time.Timer
	idleAfter time.Duration
	stopWait  time.Duration // how long tick waits for River's client to stop (stopWait)
	// committed wakes the checkpointer after a commit; closing ends it,
	// and it closes checkpointed when it returns.
	committed, closing, checkpointed chan struct{}
}

// openSQLite opens the SQLite queue in the file at path.
//
// One queue at a time owns the file: it holds an exclusive OS lock (flock)
// on PATH.lock, a file of its own beside the database (SQLite's own locks
// live on the database file, and closing any descriptor of that file drops
// them, so they are left alone). The lock ends with the process, however it
// dies.
//
// Writes, River's and the queue's, go through one connection: SQLite has a
// single writer anyway, and this keeps its "database is locked" errors away.
// History reads have a read-only connection of their own, so that they never
// wait for, nor hold up, a commit.
//
// Because the file has one owner, a job that the file says is running was
// left so by a process that died: it is made available at once.
func openSQLite(ctx context.Context, path string, q *Queue) (backend, error) {
	lock := flock.New(path + ".lock")
	locked, err := lock.TryLock()
	if err != nil {
		return nil, fmt.Errorf("queue: locking %s: %w", lock.Path(), err)
	}
	if !locked {
		return nil, fmt.Errorf("%w: another hfhooks process (or queue) uses %s, and holds its lock file %s; give this one a file of its own (--queue sqlite:OTHER.db), or use PostgreSQL to share one queue between several processes", ErrLocked, path, lock.Path())
	}
	b, err := openSQLiteLocked(ctx, path, q)
	if err != nil {
		return nil, errors.Join(err, lock.Unlock())
	}
	b.lock = lock
	return b, nil
}

// openSQLiteLocked opens the SQLite queue in the file at path, once it is
// locked.
func openSQLiteLocked(ctx context.Context, path string, q *Queue) (*sqliteBackend, error) {
	if err := checkSQLite(ctx, path); err != nil {
		return nil, err
	}
	busy := strconv.FormatInt(busyTimeout(q.cfg.commitBudget).Milliseconds(), 10)
	v := url.Values{"_pragma": append([]string{"busy_timeout(" + busy + ")"}, sqlitePragmas...), "_txlock": {"immediate"}}
	connector, err := newStmtCacheConnector("file:" + path + "?" + v.Encode())
	if err != nil {
		return nil, fmt.Errorf("queue: opening %s: %w", path, err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(1)
	rb := &riverBackend[*sql.Tx]{
		fetchPoll: sqliteFetchPoll,
		begin: func(ctx context.Context) (*sql.Tx, sqlTx, error) {
			tx, err := db.BeginTx(ctx, nil)
			return tx, sqliteTx{tx}, err
		},
		end: func(_ context.Context, tx *sql.Tx, commit bool) error {
			if commit {
				return tx.Commit()
			}
			return tx.Rollback()
		},
	}
	b := &sqliteBackend{
		riverBackend: rb,
		path:         path,
		reading:      make(chan struct{}, 1),
		wake:         newWakeListener(),
		logger:       q.cfg.logger,
		idleAfter:    idleAfter,
		stopWait:     stopWait,
		committed:    make(chan struct{}, 1),
		closing:      make(chan struct{}),
		checkpointed: make(chan struct{}),
	}
	if err := newRiverBackend(ctx, q, wakeDriver{riversqlite.New(db), b.wake, db}, "", rb); err != nil {
		db.Close()
		return nil, fmt.Errorf("queue: opening %s: %w", path, err)
	}
	if err := b.requeueOrphans(ctx, q); err != nil {
		db.Close()
		return nil, err
	}
	// The readers' connections are read-only (query_only), and do not wait
	// for the writer: in WAL mode a reader sees the last commit. One serves
	// history reads, one the checkpointer.
	rv := url.Values{"_pragma": {"busy_timeout(" + busy + ")", "query_only(1)"}}
	rdb, err := sql.Open("sqlite", "file:"+path+"?"+rv.Encode())
	if err == nil {
		rdb.SetMaxOpenConns(2)
		rb.reader, err = river.NewClient(riversqlite.New(rdb), &river.Config{Logger: q.cfg.logger})
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("queue: opening %s for reading: %w", path, err)
	}
	rb.closeDB = func() error {
		close(b.closing)
		<-b.checkpointed
		return errors.Join(rdb.Close(), db.Close())
	}
	b.readDB = rdb
	b.wake.onWake = b.touch
	go b.checkpointLoop()
	return b, nil
}

// checkpointLoop copies the WAL into the database file, off the commit
// path, after commits, at most once per checkpointEvery: a passive
// checkpoint, which never waits for readers nor holds up the writer. Idle,
// it waits for the next commit, with no timer.
func (b *sqliteBackend) checkpointLoop() {
	defer close(b.checkpointed)
	for {
		select {
		case <-b.committed:
		case <-b.closing:
			return
		}
		if _, err := b.readDB.Exec("PRAGMA wal_checkpoint(PASSIVE)"); err != nil {
			b.logger.Warn("checkpointing the SQLite WAL", "queue", b.path, "err", err)
		}
		select {
		case <-time.After(checkpointEvery):
		case <-b.closing:
			return
		}
	}
}

// busyTimeout is how long an SQLite statement waits for a lock held by
// another connection (another process: the queue's own writes go through
// one connection): less than the commit budget, so that a commit blocked by
// a lock fails with the reason, rather than with its deadline.
func busyTimeout(budget time.Duration) time.Duration { return budget * 3 / 4 }

// checkSQLite refuses an existing file that SQLite's quick_check finds
// corrupt, naming the file and the first problem.
func checkSQLite(ctx context.Context, path string) error {
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		return nil // a new file: nothing to check; opening it reports other errors
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+url.Values{"_pragma": {"query_only(1)"}}.Encode())
	if err != nil {
		return fmt.Errorf("queue: opening %s: %w", path, err)
	}
	defer db.Close()
	first, err := quickCheck(ctx, db)
	switch code := sqliteCode(err); {
	case code == sqlite3.SQLITE_CORRUPT || code == sqlite3.SQLITE_NOTADB:
		first = err.Error()
	case err != nil:
		return fmt.Errorf("queue: checking %s: %w", path, err)
	case first == "ok":
		return nil
	}
	return fmt.Errorf("queue: %s is corrupt: %s; move it aside (hfhooks then starts on a new, empty file) and keep it to recover deliveries with the sqlite3 tool", path, first)
}

// quickCheck runs SQLite's quick_check on db and returns its first line:
// "ok" or the first problem found (after the line naming the database it
// is in).
func quickCheck(ctx context.Context, db *sql.DB) (string, error) {
	var out string
	if err := db.QueryRowContext(ctx, "PRAGMA quick_check(1)").Scan(&out); err != nil {
		return "", err
	}
	for line := range strings.Lines(out) {
		if line = strings.TrimSpace(line); !strings.HasPrefix(line, "*** in database") {
			return line, nil
		}
	}
	return out, nil
}

// sqliteCode returns the SQLite result code of err (its primary code, without
// the extended bits), or 0.
func sqliteCode(err error) int {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() & 0xff
	}
	return 0
}

// sqliteTime is the layout of River's times in SQLite, in UTC. (Parsed
// with time.DateTime, the fraction is optional, as CURRENT_TIMESTAMP has
// none.)
const sqliteTime = "2006-01-02 15:04:05.000"

// orphanError is the error recorded in the job of a delivery found running
// at open.
const orphanError = "interrupted: the process running it stopped (crash or kill)"

// requeueOrphans makes the jobs left running by a dead process available
// again, or failed if they used all their attempts, as River's rescuer would
// do, but at once, in one statement; with a give-up hook (WithGiveUp), it
// queues the give-ups of the deliveries that failed so, in the same
// transaction.
func (b *sqliteBackend) requeueOrphans(ctx context.Context, q *Queue) error {
	now := time.Now().UTC()
	at := now.Format(sqliteTime)
	var requeued, failed int
	var giveUps []river.InsertManyParams
	err := b.inTx(ctx, func(tx *sql.Tx, stx sqlTx) error {
		requeued, failed, giveUps = 0, 0, nil
		err := stx.query(ctx, `UPDATE river_job SET
			state = CASE WHEN attempt < max_attempts THEN 'available' ELSE 'discarded' END,
			scheduled_at = ?,
			finalized_at = CASE WHEN attempt < max_attempts THEN NULL ELSE ? END,
			errors = jsonb(json_insert(json(coalesce(errors, jsonb('[]'))), '$[#]',
				json_object('at', ?, 'attempt', attempt, 'error', ?, 'trace', '')))
			WHERE state = 'running'
			RETURNING id, kind, attempt, state, json(args)`,
			[]any{at, at, now.Format(time.RFC3339Nano), orphanError},
			func(scan func(...any) error) error {
				var id int64
				var attempt int
				var kind, state string
				var args []byte
				if err := scan(&id, &kind, &attempt, &state, &args); err != nil || kind != (deliveryArgs{}).Kind() {
					return err // a give-up interrupted by a crash is not run again
				}
				if state == "available" {
					requeued++
					return nil
				}
				failed++
				var a deliveryArgs
				if q.cfg.giveUp == nil || json.Unmarshal(args, &a) != nil {
					return nil
				}
				giveUps = append(giveUps, river.InsertManyParams{
					Args:       giveUpArgs{Delivery: a, DeliveryID: id, Attempts: attempt, Error: orphanError},
					InsertOpts: giveUpOpts,
				})
				return nil
			})
		if err != nil || len(giveUps) == 0 {
			return err
		}
		_, err = b.client.InsertManyTx(ctx, tx, giveUps)
		return err
	})
	if err != nil {
		return fmt.Errorf("queue: requeueing the deliveries of a crash in %s: %w", b.path, err)
	}
	if requeued > 0 {
		q.cfg.logger.Info(fmt.Sprintf("%d deliveries interrupted by a crash will run again", requeued), "queue", b.path)
	}
	if failed > 0 {
		q.cfg.logger.Warn(fmt.Sprintf("%d deliveries interrupted by a crash had used all their attempts: kept as failed", failed), "queue", b.path)
	}
	return nil
}

// list reads a page of the history on a reader's connection. A page of 500
// costs about 20 ms of CPU (SQLite translated to Go, and JSON), and readers
// in a loop would take every core from intake (on a small machine, an
// intake p99 of 5 to 10 times its own, measured): so reads take turns, and
// each keeps the turn for three times as long after it returns, which
// leaves history reads at most a quarter of one core, whatever their number.
func (b *sqliteBackend) list(ctx context.Context, states []rivertype.JobState, limit int, before int64) (hfhooks.HistoryPage, error) {
	select {
	case b.reading <- struct{}{}:
	case <-ctx.Done():
		return hfhooks.HistoryPage{}, fmt.Errorf("queue: listing deliveries: %w", ctx.Err())
	}
	start := time.Now()
	defer func() { time.AfterFunc(readPause*time.Since(start), func() { <-b.reading }) }()
	return b.riverBackend.list(ctx, states, limit, before)
}

func (b *sqliteBackend) insert(ctx context.Context, reqs []*request, now time.Time, window time.Duration) ([]hfhooks.Receipt, error) {
	r, err := b.riverBackend.insert(withSyncedCommit(ctx), reqs, now, window)
	if err != nil {
		return nil, b.unavailable(ctx, len(reqs), err)
	}
	queues := make([]string, len(reqs))
	for i, req := range reqs {
		queues[i] = riverQueue(req.args.Endpoint) // the queue of the delivery's job
	}
	b.wake.wake(queues...)
	select {
	case b.committed <- struct{}{}:
	default: // the checkpointer is already due
	}
	return r, nil
}

// giveUp records a give-up, then wakes the workers of give-ups.
func (b *sqliteBackend) giveUp(ctx context.Context, fail *riverdriver.JobSetStateIfRunningParams, args giveUpArgs) error {
	if err := b.riverBackend.giveUp(ctx, fail, args); err != nil {
		return err
	}
	b.wake.wake(giveUpQueue)
	return nil
}

// retry commits a re-run synced, as an intake commit (the operator is told
// it is queued), and wakes the workers.
func (b *sqliteBackend) retry(ctx context.Context, id int64) error {
	job, err := b.rerun(withSyncedCommit(ctx), id)
	if err != nil {
		return err
	}
	b.wake.wakeAt(job)
	return nil
}

func (b *sqliteBackend) check(ctx context.Context) error {
	if err := b.riverBackend.check(ctx); err != nil {
		return b.unavailable(ctx, 0, err)
	}
	return nil
}

// unavailable explains err, the failure of a commit of n deliveries (0 for
// a check), in hfhooks's words.
func (b *sqliteBackend) unavailable(ctx context.Context, n int, err error) error {
	var reason string
	switch sqliteCode(err) {
	case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
		reason = "database is locked (another process holds a write lock on " + b.path + ")"
	case sqlite3.SQLITE_FULL:
		reason = "the disk holding " + b.path + " is full"
	case sqlite3.SQLITE_READONLY:
		reason = b.path + " is read-only"
	case sqlite3.SQLITE_IOERR:
		reason = "I/O error on " + b.path
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		reason = b.path + " is corrupt"
	default:
		if ctx.Err() != nil {
			reason = "no commit within the budget: " + b.path + " is too slow, or locked by another process"
		} else {
			reason = err.Error()
		}
	}
	return &unavailableError{op: committing(n), reason: reason, err: err}
}

// Close releases the file's lock after closing the database.
func (b *sqliteBackend) close() error {
	return errors.Join(b.riverBackend.close(), b.lock.Unlock())
}

// sqliteTx is the sqlTx of a database/sql transaction.
type sqliteTx struct{ tx *sql.Tx }

func (t sqliteTx) query(ctx context.Context, query string, args []any, each func(scan func(...any) error) error) error {
	rs, err := t.tx.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	return eachRow(rs, each)
}

func (t sqliteTx) exec(ctx context.Context, query string, args ...any) error {
	_, err := t.tx.ExecContext(ctx, query, args...)
	return err
}
