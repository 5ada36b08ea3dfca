package queue

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"

	"github.com/riverqueue/river/riverdriver/riversqlite"
	_ "modernc.org/sqlite" // the pure-Go "sqlite" database/sql driver
)

// sqlitePragmas configure every connection: write-ahead logging; a busy
// timeout rather than an immediate SQLITE_BUSY; and synchronous=FULL, so
// that a commit (and so an acknowledged delivery) is on disk before it
// returns and survives a power loss, not only a process crash. Group commit
// pays that disk sync once per batch.
var sqlitePragmas = []string{"journal_mode(WAL)", "busy_timeout(10000)", "synchronous(FULL)", "foreign_keys(ON)"}

// openSQLite opens the SQLite queue in the file at path. One connection
// serves River and the queue: SQLite has a single writer anyway, and this
// keeps its "database is locked" errors away. One process at a time may use
// the file.
func openSQLite(ctx context.Context, path string, q *Queue) (backend, error) {
	v := url.Values{"_pragma": sqlitePragmas, "_txlock": {"immediate"}}
	db, err := sql.Open("sqlite", "file:"+path+"?"+v.Encode())
	if err != nil {
		return nil, fmt.Errorf("queue: opening %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	b := &riverBackend[*sql.Tx]{
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
		closeDB: db.Close,
	}
	if err := newRiverBackend(ctx, q, riversqlite.New(db), "", b); err != nil {
		db.Close()
		return nil, fmt.Errorf("queue: opening %s: %w", path, err)
	}
	return b, nil
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
