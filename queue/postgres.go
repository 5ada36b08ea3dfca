package queue

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
)

// migrationLock is the PostgreSQL advisory lock that serializes migrations
// of processes starting together.
const migrationLock = 0x6866686f6f6b73 // "hfhooks"

// openPostgres opens the PostgreSQL queue at dsn, in the configured schema.
func openPostgres(ctx context.Context, dsn string, q *Queue) (backend, error) {
	pcfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("queue: parsing the PostgreSQL URL: %w", err)
	}
	if s := q.cfg.schema; s != "" {
		pcfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{s}.Sanitize()
	}
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return nil, fmt.Errorf("queue: connecting to PostgreSQL: %w", err)
	}
	b := &riverBackend[pgx.Tx]{
		begin: func(ctx context.Context) (pgx.Tx, sqlTx, error) {
			tx, err := pool.Begin(ctx)
			return tx, pgTx{tx}, err
		},
		end: func(ctx context.Context, tx pgx.Tx, commit bool) error {
			if commit {
				return tx.Commit(ctx)
			}
			return tx.Rollback(ctx)
		},
		closeDB: func() error { pool.Close(); return nil },
	}
	if err := migratePostgres(ctx, pool, q, b); err != nil {
		pool.Close()
		return nil, fmt.Errorf("queue: opening PostgreSQL: %w", err)
	}
	return b, nil
}

// migratePostgres creates the schema if needed and migrates it, holding an
// advisory lock so that processes starting together take turns.
func migratePostgres(ctx context.Context, pool *pgxpool.Pool, q *Queue, b *riverBackend[pgx.Tx]) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrationLock); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrationLock) //nolint:errcheck // the lock also ends with the session
	if s := q.cfg.schema; s != "" {
		if _, err := conn.Exec(ctx, "CREATE SCHEMA IF NOT EXISTS "+pgx.Identifier{s}.Sanitize()); err != nil {
			return err
		}
	}
	return newRiverBackend(ctx, q, riverpgxv5.New(pool), q.cfg.schema, b)
}

// pgTx is the sqlTx of a pgx transaction; it turns ? placeholders into $n.
type pgTx struct{ tx pgx.Tx }

func (t pgTx) query(ctx context.Context, query string, args []any, each func(scan func(...any) error) error) error {
	rs, err := t.tx.Query(ctx, dollarParams(query), args...)
	if err != nil {
		return err
	}
	defer rs.Close()
	return eachRow(rs, each)
}

func (t pgTx) exec(ctx context.Context, query string, args ...any) error {
	_, err := t.tx.Exec(ctx, dollarParams(query), args...)
	return err
}

// dollarParams numbers the ? placeholders of query as $1, $2...; the
// queue's own statements have no ? in literals.
func dollarParams(query string) string {
	var b strings.Builder
	n := 0
	for _, part := range strings.SplitAfter(query, "?") {
		if p, ok := strings.CutSuffix(part, "?"); ok {
			n++
			b.WriteString(p + "$" + strconv.Itoa(n))
		} else {
			b.WriteString(part)
		}
	}
	return b.String()
}
