package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks"
)

// withCommitBudget shortens the commit budget, so that the tests of a
// blocked database are quick.
func withCommitBudget(d time.Duration) Option { return func(c *config) { c.commitBudget = d } }

// openSQLiteFile opens the queue in the SQLite file at path, closed when
// the test ends.
func openSQLiteFile(t testing.TB, path string, opts ...Option) *Queue {
	t.Helper()
	q, err := Open(context.Background(), "sqlite:"+path, append(append([]Option{}, fastOptions...), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

// enqueueN enqueues n distinct deliveries concurrently.
func enqueueN(t testing.TB, q *Queue, prefix string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			d := &hfhooks.Delivery{Endpoint: "hook", Body: payload(t, fmt.Sprintf("acme/%s-%d", prefix, i)), ReceivedAt: time.Now()}
			if _, err := q.Enqueue(context.Background(), d); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}

func TestSQLiteHasOneOwner(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hfhooks.db")
	first := openSQLiteFile(t, path)
	_, err := Open(context.Background(), "sqlite:"+path, fastOptions...)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open = %v, want ErrLocked", err)
	}
	for _, want := range []string{path, "--queue sqlite:", "PostgreSQL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	openSQLiteFile(t, path) // the lock went with the first queue
}

func TestSQLiteCorruptFileRefused(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hfhooks.db")
	q := openSQLiteFile(t, path)
	enqueueN(t, q, "corrupt", 200)
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte(strings.Repeat("garbage!", 1024)), fi.Size()/2); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = Open(context.Background(), "sqlite:"+path, fastOptions...)
	if err == nil {
		t.Fatal("a corrupt file was opened")
	}
	// The first problem quick_check found, as "Tree 2 page 44: ...".
	if want := regexp.MustCompile(regexp.QuoteMeta(path) + ` is corrupt: [^;\s][^;]*; move it aside`); !want.MatchString(err.Error()) {
		t.Errorf("error %q does not match %q", err, want)
	}
}

// TestSQLiteLockedFailsFastThenRecovers holds SQLite's write lock from
// another connection, as another program would: a commit fails within
// about the budget, naming the cause, Health says why, and both recover
// when the lock is released.
func TestSQLiteLockedFailsFastThenRecovers(t *testing.T) {
	t.Parallel()
	const budget = time.Second // short, with room for a loaded machine under -race
	path := filepath.Join(t.TempDir(), "hfhooks.db")
	q := openSQLiteFile(t, path, withCommitBudget(budget))
	ctx := context.Background()
	if err := q.Health(ctx); err != nil {
		t.Fatalf("Health before any commit = %v", err)
	}
	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}

	d := &hfhooks.Delivery{Endpoint: "hook", Body: payload(t, "acme/locked"), ReceivedAt: time.Now()}
	start := time.Now()
	_, err = q.Enqueue(ctx, d)
	took := time.Since(start)
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Enqueue on a locked file = %v, want ErrUnavailable", err)
	}
	if want := "queue: committing delivery: database is locked (another process holds a write lock on " + path + ")"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if took > 3*budget { // without the budget it would wait 30 s
		t.Errorf("Enqueue failed after %v, want within about %v", took, budget)
	}
	// The check names the lock: SQLite's "database is locked", or, when a
	// loaded machine lets the budget run out first, "locked by another process".
	if err := q.Health(ctx); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "locked") {
		t.Errorf("Health while locked = %v, want the lock named", err)
	}

	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := q.Health(ctx); err != nil {
		t.Errorf("Health after the lock = %v", err)
	}
	if _, err := q.Enqueue(ctx, d); err != nil {
		t.Fatalf("Enqueue after the lock = %v", err)
	}
	if err := q.Health(ctx); err != nil {
		t.Errorf("Health after a commit = %v", err)
	}
}

// TestSQLiteOrphansRunAtOnce leaves a job running in the file, as a process
// killed under it does: the next Open makes it available at once (River's
// rescuer would wait for the attempt timeout and its own interval), and logs
// it; a job that had used its attempts is kept as failed, and its give-up
// hook runs.
func TestSQLiteOrphansRunAtOnce(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hfhooks.db")
	q := openSQLiteFile(t, path, WithMaxAttempts(3))
	enqueueN(t, q, "orphan", 2)
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	// The first as in its first attempt, the second in its last.
	if _, err := db.Exec(`UPDATE river_job SET state = 'running', attempted_at = datetime('now'),
		attempt = CASE WHEN id = (SELECT min(id) FROM river_job) THEN 1 ELSE max_attempts END`); err != nil {
		t.Fatal(err)
	}
	db.Close()

	var logs strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))
	ran := make(chan string, 2)
	hook, gaveUp := giveUps(nil)
	q = openSQLiteFile(t, path, WithLogger(logger), WithAttemptTimeout(time.Hour), WithGiveUp(hook))
	d := startDurable(t, q, map[string]hfhooks.HandlerFunc{"hook": func(_ context.Context, d *hfhooks.Delivery) (any, error) {
		ran <- d.ID
		return nil, nil
	}})
	select {
	case <-ran:
	case <-time.After(5 * time.Second):
		t.Fatal("the interrupted delivery did not run again within 5 s")
	}
	page := deliveries(t, d.url, "limit=10")
	if len(page.Deliveries) != 2 {
		t.Fatalf("deliveries = %+v", page.Deliveries)
	}
	if last := page.Deliveries[0]; last.State != hfhooks.StateFailed || last.Error != orphanError {
		t.Errorf("the delivery interrupted in its last attempt = %+v, want failed with %q", last, orphanError)
	}
	select {
	case g := <-gaveUp:
		if g.Delivery.ID != page.Deliveries[0].ID || g.Attempts != 3 || g.Error != orphanError {
			t.Errorf("give-up = %+v, %d attempts, %q; want delivery %s", g.Delivery, g.Attempts, g.Error, page.Deliveries[0].ID)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the give-up hook of the interrupted delivery did not run")
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), `msg="1 deliveries interrupted by a crash will run again"`) {
		t.Errorf("logs:\n%s", logs.String())
	}
}

// lockedWriter serializes writes to w.
type lockedWriter struct {
	mu *sync.Mutex
	w  *strings.Builder
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestListClampsLimit(t *testing.T) {
	t.Parallel()
	q := openSQLiteFile(t, filepath.Join(t.TempDir(), "hfhooks.db"))
	enqueueN(t, q, "many", MaxPageSize+1)
	page, err := q.List(context.Background(), hfhooks.HistoryQuery{Limit: 100_000})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Deliveries) != MaxPageSize || page.Next == "" {
		t.Errorf("List with limit 100000: %d deliveries, next %q; want %d and a next page", len(page.Deliveries), page.Next, MaxPageSize)
	}
}

// TestListDoesNotStallIntake measures the time to commit a delivery alone,
// then while 8 readers list pages of 500 deliveries in a loop: intake's p99
// stays within 2x of the unloaded p99. (Measured on 2 busy cores: with the
// reads on the writer's connection, 2 s against 16 ms; on connections of
// their own but with SQLite checkpointing at every commit and the readers
// unthrottled, 350 ms against 13 ms.)
//
// The test does not run in parallel with the package's others. The phases
// alternate for several rounds and the medians of their p99s are compared,
// with a floor of 10 ms under which a difference is taken for the noise of
// a machine shared with other test processes rather than a stall.
func TestListDoesNotStallIntake(t *testing.T) {
	if raceEnabled {
		t.Skip("a timing test: the race detector slows reads too much; .ci/run runs it without -race")
	}
	q := openSQLiteFile(t, filepath.Join(t.TempDir(), "hfhooks.db"))
	enqueueN(t, q, "seed", MaxPageSize+100)
	const rounds, samples, readers = 5, 100, 8
	n := 0
	p99 := func() time.Duration {
		took := make([]time.Duration, samples)
		for i := range took {
			n++
			d := &hfhooks.Delivery{Endpoint: "hook", Body: payload(t, fmt.Sprintf("acme/intake-%d", n)), ReceivedAt: time.Now()}
			start := time.Now()
			if _, err := q.Enqueue(context.Background(), d); err != nil {
				t.Fatal(err)
			}
			took[i] = time.Since(start)
		}
		slices.Sort(took)
		return took[samples*99/100]
	}
	var alone, loaded []time.Duration
	reads := 0
	for range rounds {
		alone = append(alone, p99())
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		var mu sync.Mutex
		for range readers {
			wg.Go(func() {
				for ctx.Err() == nil {
					page, err := q.List(ctx, hfhooks.HistoryQuery{Limit: MaxPageSize})
					if err != nil && ctx.Err() == nil {
						t.Error(err)
						return
					}
					if len(page.Deliveries) == MaxPageSize {
						mu.Lock()
						reads++
						mu.Unlock()
					}
				}
			})
		}
		loaded = append(loaded, p99())
		cancel()
		wg.Wait()
	}
	slices.Sort(alone)
	slices.Sort(loaded)
	base, got := alone[rounds/2], loaded[rounds/2]
	t.Logf("intake p99 alone %v, with %d readers %v (%d pages of %d read); per round: %v, %v", base, readers, got, reads, MaxPageSize, alone, loaded)
	if reads < rounds {
		t.Fatalf("the readers read %d full pages", reads)
	}
	if limit := max(2*base, base+10*time.Millisecond); got > limit {
		t.Errorf("intake p99 with readers %v, want at most %v (2x %v alone)", got, limit, base)
	}
}

// TestSQLiteCheckpointsInBackground checks that commits reach the database
// file without a close, although the writer leaves checkpoints to the
// checkpointer: the WAL does not grow without end.
func TestSQLiteCheckpointsInBackground(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "hfhooks.db")
	q := openSQLiteFile(t, path)
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	enqueueN(t, q, "checkpoint", 100)
	for deadline := time.Now().Add(5 * time.Second); size() <= before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the database file stayed at %d bytes: the WAL was not checkpointed", before)
		}
	}
}

// TestSQLiteCommitWakesWorkers checks that a delivery committed in the
// process starts at once, although River polls for jobs only every 5 s on
// SQLite: the commit wakes the workers.
func TestSQLiteCommitWakesWorkers(t *testing.T) {
	t.Parallel()
	q := openSQLiteFile(t, filepath.Join(t.TempDir(), "hfhooks.db"))
	started := make(chan time.Time, 3)
	startDurable(t, q, map[string]hfhooks.HandlerFunc{"hook": func(context.Context, *hfhooks.Delivery) (any, error) {
		started <- time.Now()
		return nil, nil
	}})
	for i := range 3 { // the first may be fetched by River's start
		d := &hfhooks.Delivery{Endpoint: "hook", Body: payload(t, fmt.Sprintf("acme/wake-%d", i)), ReceivedAt: time.Now()}
		if _, err := q.Enqueue(context.Background(), d); err != nil {
			t.Fatal(err)
		}
		committed := time.Now()
		select {
		case at := <-started:
			// Well before River's poll: a loaded machine may take a while.
			if took := at.Sub(committed); took > time.Second {
				t.Errorf("delivery %d started %v after its commit, want within 1 s (River polls every 5 s)", i, took)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("delivery %d did not start within 3 s of its commit", i)
		}
	}
}

// TestSQLiteRetryAndRerunWakeWorkers checks that a retry due soon and a
// re-run start on time, not at River's next poll for jobs (5 s on SQLite):
// River making them available wakes the workers.
func TestSQLiteRetryAndRerunWakeWorkers(t *testing.T) {
	t.Parallel()
	q := openSQLiteFile(t, filepath.Join(t.TempDir(), "hfhooks.db"), WithMaxAttempts(2))
	started := make(chan time.Time, 3)
	d := startDurable(t, q, map[string]hfhooks.HandlerFunc{"hook": func(context.Context, *hfhooks.Delivery) (any, error) {
		started <- time.Now()
		return nil, errors.New("down")
	}})
	a := send(t, d.url+"/webhooks/hook", payload(t, "acme/retry"), nil)
	next := func(what string, since time.Time) time.Time {
		t.Helper()
		select {
		case at := <-started:
			if took := at.Sub(since); took > time.Second {
				t.Errorf("%s started %v after its time, want within 1 s", what, took)
			}
			return at
		case <-time.After(3 * time.Second):
			t.Fatalf("%s did not start within 3 s", what)
		}
		return time.Time{}
	}
	first := next("the first attempt", time.Now())
	next("the retry", first.Add(20*time.Millisecond)) // fastOptions: backoff of at most 20 ms
	waitFor(t, d.url, a.ID, hfhooks.StateFailed)
	rerun := time.Now()
	if err := q.Retry(context.Background(), a.ID); err != nil {
		t.Fatal(err)
	}
	next("the re-run", rerun)
}

// TestSQLiteIdleWorkersStopAndStartAgain has River's client stop while the
// queue is idle (after 50 ms here), and checks that a commit, then a retry
// falling due, start it again on time.
func TestSQLiteIdleWorkersStopAndStartAgain(t *testing.T) {
	t.Parallel()
	q := openSQLiteFile(t, filepath.Join(t.TempDir(), "hfhooks.db"), WithBackoff(300*time.Millisecond, 300*time.Millisecond))
	b := q.db.(*sqliteBackend)
	b.idleAfter = 50 * time.Millisecond
	started := make(chan time.Time, 3)
	var once sync.Once
	startDurable(t, q, map[string]hfhooks.HandlerFunc{"hook": func(context.Context, *hfhooks.Delivery) (any, error) {
		started <- time.Now()
		var err error
		once.Do(func() { err = errors.New("down, once") })
		return nil, err
	}})
	asleep := func() {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !b.asleep.Load(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("River's client still runs after 5 s idle")
			}
		}
	}
	startsWithin := func(what string, since time.Time, within time.Duration) {
		t.Helper()
		select {
		case at := <-started:
			if took := at.Sub(since); took > within {
				t.Errorf("%s started after %v, want within %v", what, took, within)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s did not start within 5 s", what)
		}
	}
	asleep()
	d := &hfhooks.Delivery{Endpoint: "hook", Body: payload(t, "acme/idle"), ReceivedAt: time.Now()}
	if _, err := q.Enqueue(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	failed := time.Now()
	// The bounds are well under River's 5 s poll, with room for a loaded machine.
	startsWithin("a delivery committed while idle", failed, 2*time.Second)
	asleep() // the retry is due in 150 to 300 ms
	startsWithin("its retry", failed, 300*time.Millisecond+3*time.Second)
}

// TestSQLiteIdleStopThatTimesOut puts River's client to sleep with a stop
// that gives up at once, so that the client goes on stopping in the
// background: a delivery committed then still starts, once it has stopped.
func TestSQLiteIdleStopThatTimesOut(t *testing.T) {
	q := openSQLiteFile(t, filepath.Join(t.TempDir(), "hfhooks.db"))
	b := q.db.(*sqliteBackend)
	b.idleAfter, b.stopWait = 50*time.Millisecond, time.Nanosecond
	started := make(chan struct{}, 1)
	startDurable(t, q, map[string]hfhooks.HandlerFunc{"hook": func(context.Context, *hfhooks.Delivery) (any, error) {
		started <- struct{}{}
		return nil, nil
	}})
	for deadline := time.Now().Add(5 * time.Second); !b.asleep.Load(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("River's client still runs after 5 s idle")
		}
	}
	d := &hfhooks.Delivery{Endpoint: "hook", Body: payload(t, "acme/idle"), ReceivedAt: time.Now()}
	if _, err := q.Enqueue(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("a delivery committed while the client was still stopping did not start within 5 s")
	}
}
