package queue

import (
	"context"
	"time"
)

// idleAfter is how long River's client runs on SQLite with nothing to do
// before the queue stops it. Even idle, River wakes 20 times a second (its
// job completer) and writes to the file every 5 s (its leader election); a
// stopped client costs nothing, and the queue starts it again on the next
// commit, re-run or retry due.
const idleAfter = 30 * time.Second

// River's client may still be stopping when tick has put it to sleep: a
// delivery committed just then can start a job, which Stop waits for. Stop
// waits at most stopWait; then the client goes on stopping in the
// background, and tick looks every stoppingCheck whether it has stopped, to
// start it again.
const (
	stopWait      = 5 * time.Second
	stoppingCheck = 100 * time.Millisecond
)

// touch records activity, and starts River's client again if it is
// stopped for idleness.
func (b *sqliteBackend) touch() {
	b.active.Store(time.Now().UnixNano())
	if b.asleep.Load() {
		go b.tick()
	}
}

// start starts River's client, which then stops while idle.
func (b *sqliteBackend) start(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.client.Start(ctx); err != nil {
		return err
	}
	b.started = true
	b.active.Store(time.Now().UnixNano())
	b.nap = time.AfterFunc(b.idleAfter, b.tick)
	return nil
}

func (b *sqliteBackend) stop(ctx context.Context) error { return b.halt(ctx, b.client.Stop) }
func (b *sqliteBackend) stopAndCancel(ctx context.Context) error {
	return b.halt(ctx, b.client.StopAndCancel)
}

// halt stops River's client with stop, unless it is stopped for idleness,
// and keeps it stopped.
func (b *sqliteBackend) halt(ctx context.Context, stop func(context.Context) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.started = false
	if b.nap != nil {
		b.nap.Stop()
	}
	if b.asleep.Swap(false) && b.stopped() {
		return nil
	}
	return stop(ctx) // also waits for a client still stopping
}

// stopped reports whether River's client has stopped since its last start.
func (b *sqliteBackend) stopped() bool {
	select {
	case <-b.client.Stopped():
		return true
	default:
		return false
	}
}

// tick starts River's client if it is stopped for idleness. Else it stops
// the client if nothing happened for idleAfter and no job is running or
// due within idleAfter, and has tick called when the next job is due.
func (b *sqliteBackend) tick() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.started {
		return
	}
	if b.asleep.Load() {
		if !b.stopped() { // a job that started as it was put to sleep still runs
			b.nap.Reset(stoppingCheck)
			return
		}
		// River's client runs until its start's context ends.
		if err := b.client.Start(context.Background()); err != nil {
			b.logger.Error("starting the queue's workers again", "queue", b.path, "err", err)
			b.nap.Reset(time.Second)
			return
		}
		b.asleep.Store(false)
		b.nap.Reset(b.idleAfter)
		return
	}
	if quiet := time.Since(time.Unix(0, b.active.Load())); quiet < b.idleAfter {
		b.nap.Reset(b.idleAfter - quiet)
		return
	}
	// From here, activity calls tick again, which waits for this one.
	b.asleep.Store(true)
	next, err := b.nextDue()
	if busy := err == nil && !next.IsZero() && time.Until(next) < b.idleAfter; err != nil || busy {
		b.asleep.Store(false)
		if err != nil {
			b.logger.Warn("checking whether the queue is idle", "queue", b.path, "err", err)
		}
		b.nap.Reset(b.idleAfter)
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.stopWait)
	defer cancel()
	if err := b.client.Stop(ctx); err != nil {
		// It goes on stopping; the next tick starts it again once stopped.
		b.nap.Reset(stoppingCheck)
		return
	}
	if !next.IsZero() {
		b.nap.Reset(time.Until(next))
	}
}

// nextDue returns when the next job is due, or the zero time if none is
// queued; a job running, or left so by a crash, is due now.
func (b *sqliteBackend) nextDue() (time.Time, error) {
	ctx, cancel := context.WithTimeout(context.Background(), stopWait)
	defer cancel()
	var running bool
	var next *string
	err := b.readDB.QueryRowContext(ctx, `SELECT coalesce(max(state = 'running'), 0), min(scheduled_at) FROM river_job
		WHERE state IN ('available', 'pending', 'retryable', 'running', 'scheduled')`).Scan(&running, &next)
	switch {
	case err != nil:
		return time.Time{}, err
	case running:
		return time.Now(), nil
	case next == nil:
		return time.Time{}, nil
	}
	return time.Parse(time.DateTime, *next)
}
