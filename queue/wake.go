package queue

import (
	"context"
	"database/sql"
	"encoding/json"
	"sync"
	"time"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"
)

// wakeDriver is River's SQLite driver with an in-process notifier. River's
// own SQLite notifier writes a row to a table for each insert and polls the
// table every 50 ms, which was most of an idle server's CPU; on SQLite the
// queue is the only user of its file, so it knows when jobs become available
// and wakes River's workers itself, through the wakeListener: when it
// commits deliveries (sqliteBackend.insert) or a re-run
// (sqliteBackend.retry), and when River makes a retry due soon available
// (wakeExecutor). River then needs to
// poll for jobs only rarely (sqliteFetchPoll).
type wakeDriver struct {
	*riversqlite.Driver
	listener *wakeListener
	db       *sql.DB // the file's writer, on which completeMany runs
}

// GetExecutor returns River's executor, which wakes the workers of the jobs
// it makes available.
func (d wakeDriver) GetExecutor() riverdriver.Executor {
	return wakeExecutor{d.Driver.GetExecutor(), d.listener, d.db}
}

// SupportsListenNotify is false: River writes no notifications.
func (d wakeDriver) SupportsListenNotify() bool { return false }

// GetListener returns the in-process listener.
func (d wakeDriver) GetListener(*riverdriver.GetListenenerParams) riverdriver.Listener {
	return d.listener
}

// wakeExecutor is River's executor, waking the workers of the jobs that
// River makes available: the completer sets a failed attempt due within the
// scheduler's interval straight to available, with the time of the retry.
type wakeExecutor struct {
	riverdriver.Executor
	listener *wakeListener
	db       *sql.DB
}

// JobSetStateIfRunningMany records the outcomes of finished jobs: when they
// all succeeded, in one statement (see completeMany); else with River's
// driver, which runs a statement per job.
func (e wakeExecutor) JobSetStateIfRunningMany(ctx context.Context, params *riverdriver.JobSetStateIfRunningManyParams) ([]*rivertype.JobRow, error) {
	completed, rest, err := completeMany(ctx, e.db, params)
	if err != nil || rest == nil {
		return completed, err // completed jobs wake nothing
	}
	jobs, err := e.Executor.JobSetStateIfRunningMany(ctx, rest)
	for _, job := range jobs {
		e.listener.wakeAt(job)
	}
	return append(completed, jobs...), err
}

// insertTopic is the topic of River's notifications of inserted jobs, for
// which its producers fetch jobs at once.
const insertTopic = "river_insert"

// wakeEvery is the least time between two wakes of River's workers: each
// makes them fetch jobs, a write on the file's one connection, and under
// load one a commit would compete with intake. A wake after a quiet spell
// is told at once.
const wakeEvery = 50 * time.Millisecond

// wakeListener is a riverdriver.Listener that hears only the queue: wake
// notifies River that jobs are available in queues.
type wakeListener struct {
	// onWake, if set, is called on each wake, before River is told.
	onWake func()

	mu      sync.Mutex
	pending map[string]bool // queues to notify
	woken   chan struct{}   // holds a token after a wake

	// Used by WaitForNotification only (River calls it from one goroutine
	// at a time): the queues of the notifications to return, and when the
	// first of them was.
	burst []string
	told  time.Time
}

func newWakeListener() *wakeListener {
	return &wakeListener{pending: map[string]bool{}, woken: make(chan struct{}, 1)}
}

// wake tells River's producers of queues that they have jobs to fetch.
func (l *wakeListener) wake(queues ...string) {
	if l.onWake != nil {
		l.onWake()
	}
	l.mu.Lock()
	for _, q := range queues {
		l.pending[q] = true
	}
	l.mu.Unlock()
	select {
	case l.woken <- struct{}{}:
	default: // already woken
	}
}

// wakeAt wakes the workers of job's queue when it is due, if it is
// available.
func (l *wakeListener) wakeAt(job *rivertype.JobRow) {
	if job.State != rivertype.JobStateAvailable {
		return
	}
	if d := time.Until(job.ScheduledAt); d > 0 {
		time.AfterFunc(d, func() { l.wake(job.Queue) })
		return
	}
	l.wake(job.Queue)
}

// WaitForNotification returns an insert notification for each woken
// queue, the queues woken together at once, and bursts at least wakeEvery
// apart.
func (l *wakeListener) WaitForNotification(ctx context.Context) (*riverdriver.Notification, error) {
	if len(l.burst) == 0 {
		if wait := time.Until(l.told.Add(wakeEvery)); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			}
		}
		for len(l.burst) == 0 {
			select {
			case <-l.woken:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			l.mu.Lock()
			for q := range l.pending {
				l.burst = append(l.burst, q)
			}
			clear(l.pending)
			l.mu.Unlock()
		}
		l.told = time.Now()
	}
	q := l.burst[0]
	l.burst = l.burst[1:]
	payload, err := json.Marshal(struct {
		Queue string `json:"queue"`
	}{q})
	return &riverdriver.Notification{Topic: insertTopic, Payload: string(payload)}, err
}

func (l *wakeListener) Close(context.Context) error          { return nil }
func (l *wakeListener) Connect(context.Context) error        { return nil }
func (l *wakeListener) Listen(context.Context, string) error { return nil }
func (l *wakeListener) Ping(context.Context) error           { return nil }
func (l *wakeListener) Schema() string                       { return "" }
func (l *wakeListener) SetAfterConnectExec(string)           {}
func (l *wakeListener) Unlisten(context.Context, string) error {
	return nil
}
