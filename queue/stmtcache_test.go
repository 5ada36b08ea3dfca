package queue

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// openCachingDB opens a new SQLite file through the statement cache, on one
// connection, as the queue's writer is.
func openCachingDB(t *testing.T) *sql.DB {
	t.Helper()
	c, err := newStmtCacheConnector("file:" + filepath.Join(t.TempDir(), "cache.db"))
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec("CREATE TABLE t (n INTEGER)"); err != nil {
		t.Fatal(err)
	}
	return db
}

// cached returns the statements that db's connection keeps prepared.
func cached(t *testing.T, db *sql.DB) map[string]*cachedStmt {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var stmts map[string]*cachedStmt
	if err := conn.Raw(func(dc any) error {
		stmts = dc.(*stmtCacheConn).stmts
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return stmts
}

func TestStmtCacheReusesStatements(t *testing.T) {
	t.Parallel()
	db := openCachingDB(t)
	const insert = "INSERT INTO t (n) VALUES (?)"
	if _, err := db.Exec(insert, 1); err != nil {
		t.Fatal(err)
	}
	first := cached(t, db)[insert]
	if first == nil {
		t.Fatalf("%q is not kept prepared after it ran", insert)
	}
	if _, err := db.Exec(insert, 2); err != nil {
		t.Fatal(err)
	}
	if again := cached(t, db)[insert]; again != first {
		t.Fatalf("%q was prepared again: %p, then %p", insert, first, again)
	}
	var sum int
	if err := db.QueryRow("SELECT sum(n) FROM t").Scan(&sum); err != nil {
		t.Fatal(err)
	}
	if sum != 3 {
		t.Fatalf("sum = %d after inserting 1 and 2 with one statement, want 3", sum)
	}
}

// A query whose text runs again while its rows are open (nested) runs
// unprepared, and both give their rows.
func TestStmtCacheNestedQuery(t *testing.T) {
	t.Parallel()
	db := openCachingDB(t)
	for i := range 3 {
		if _, err := db.Exec("INSERT INTO t (n) VALUES (?)", i); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	const query = "SELECT n FROM t ORDER BY n"
	outer, err := tx.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	var pairs int
	for outer.Next() {
		inner, err := tx.Query(query)
		if err != nil {
			t.Fatal(err)
		}
		for inner.Next() {
			pairs++
		}
		if err := inner.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := outer.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if pairs != 9 {
		t.Fatalf("nested queries of 3 rows gave %d pairs, want 9", pairs)
	}
	if s := cached(t, db)[query]; s == nil || s.busy {
		t.Fatalf("after the rows are closed, %q is %+v, want prepared and free", query, s)
	}
}

func TestStmtCacheBoundAndFailures(t *testing.T) {
	t.Parallel()
	db := openCachingDB(t)
	for i := range maxCachedStmts + 10 {
		if _, err := db.Exec(fmt.Sprintf("INSERT INTO t (n) VALUES (%d)", i)); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(cached(t, db)); n > maxCachedStmts {
		t.Fatalf("%d statements kept prepared, want at most %d", n, maxCachedStmts)
	}
	if _, err := db.Exec("INSERT INTO nowhere (n) VALUES (1)"); err == nil {
		t.Fatal("an insert into a missing table succeeded")
	}
	if _, err := db.Exec("CREATE TABLE u (n INTEGER CHECK (n > 0))"); err != nil {
		t.Fatal(err)
	}
	const insert = "INSERT INTO u (n) VALUES (?)"
	if _, err := db.Exec(insert, 0); err == nil {
		t.Fatal("a row failing its CHECK was inserted")
	}
	if _, ok := cached(t, db)[insert]; ok {
		t.Fatalf("%q is still kept after it failed", insert)
	}
	if _, err := db.Exec(insert, 1); err != nil {
		t.Fatalf("%q after a failure: %v", insert, err)
	}
}

// TestSyncedCommit: a transaction begun with withSyncedCommit runs with
// synchronous=FULL, and its connection goes back to the queue's NORMAL after
// its commit or rollback; other transactions run with NORMAL.
func TestSyncedCommit(t *testing.T) {
	t.Parallel()
	c, err := newStmtCacheConnector("file:" + filepath.Join(t.TempDir(), "sync.db") + "?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)")
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	const normal, full = 1, 2
	level := func(q interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}) int {
		t.Helper()
		var n int
		if err := q.QueryRowContext(context.Background(), "PRAGMA synchronous").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, tt := range []struct {
		name   string
		ctx    context.Context
		commit bool
		want   int
	}{
		{"plain", context.Background(), true, normal},
		{"synced, committed", withSyncedCommit(context.Background()), true, full},
		{"synced, rolled back", withSyncedCommit(context.Background()), false, full},
	} {
		tx, err := db.BeginTx(tt.ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := level(tx); got != tt.want {
			t.Errorf("%s: synchronous = %d inside the transaction, want %d", tt.name, got, tt.want)
		}
		if tt.commit {
			err = tx.Commit()
		} else {
			err = tx.Rollback()
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := level(db); got != normal {
			t.Errorf("%s: synchronous = %d after the transaction, want %d", tt.name, got, normal)
		}
	}
}
