package queue

import (
	"context"
	"fmt"
	"time"

	"github.com/hfhooks/hfhooks"
)

// Stats counts the deliveries waiting and running, by state, and tells how
// long the oldest queued delivery has been due (see hfhooks.QueueStats).
// Deliveries of every process sharing the database are counted. On SQLite
// it reads on a connection of its own, never holding up a commit.
func (q *Queue) Stats(ctx context.Context) (hfhooks.QueueStats, error) {
	st, err := q.db.stats(ctx)
	if err != nil {
		return hfhooks.QueueStats{}, fmt.Errorf("queue: counting deliveries: %w", err)
	}
	return st, nil
}

// statsSQL counts the deliveries by River job state, with how many seconds
// ago the first of each state was due; %s is the driver's expression of
// that age.
const statsSQL = `SELECT state, count(*), %s FROM river_job
	WHERE kind = ? AND state IN ('available', 'pending', 'scheduled', 'retryable', 'running')
	GROUP BY state`

// Ages in seconds of the first scheduled_at of a group, for statsSQL.
const (
	postgresAge = `coalesce(extract(epoch FROM now() - min(scheduled_at)), 0)::float8`
	sqliteAge   = `coalesce((julianday('now') - julianday(min(scheduled_at))) * 86400.0, 0)`
)

// addStats adds to st the row of statsSQL of a River job state.
func addStats(st *hfhooks.QueueStats, state string, n int, age float64) {
	switch state {
	case "available", "pending":
		st.Queued += n
		st.OldestAge = max(st.OldestAge, time.Duration(age*float64(time.Second)))
	case "scheduled", "retryable":
		st.Scheduled += n
	case "running":
		st.Running += n
	}
}

// scanStats reads the rows of statsSQL into stats.
func scanStats(query func(sql string, each func(scan func(...any) error) error) error, age string) (hfhooks.QueueStats, error) {
	var st hfhooks.QueueStats
	err := query(fmt.Sprintf(statsSQL, age), func(scan func(...any) error) error {
		var state string
		var n int
		var secs float64
		if err := scan(&state, &n, &secs); err != nil {
			return err
		}
		addStats(&st, state, n, secs)
		return nil
	})
	return st, err
}

func (b *riverBackend[TTx]) stats(ctx context.Context) (hfhooks.QueueStats, error) {
	var st hfhooks.QueueStats
	err := b.inTx(ctx, func(_ TTx, tx sqlTx) error {
		var err error
		st, err = scanStats(func(sql string, each func(func(...any) error) error) error {
			return tx.query(ctx, sql, []any{deliveryArgs{}.Kind()}, each)
		}, postgresAge)
		return err
	})
	return st, err
}

func (b *sqliteBackend) stats(ctx context.Context) (hfhooks.QueueStats, error) {
	return scanStats(func(sql string, each func(func(...any) error) error) error {
		rs, err := b.readDB.QueryContext(ctx, sql, deliveryArgs{}.Kind())
		if err != nil {
			return err
		}
		defer rs.Close()
		return eachRow(rs, each)
	}, sqliteAge)
}
