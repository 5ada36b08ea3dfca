package queue

import (
	"context"
	"database/sql/driver"
	"errors"

	"modernc.org/sqlite"
)

// maxCachedStmts bounds the statements a connection keeps prepared. River's
// statements on the writer are a few dozen texts; those whose text varies
// with a batch's size (the deduplication claim) take turns in what is left.
const maxCachedStmts = 64

// stmtCacheConnector opens connections of modernc's SQLite driver that keep
// their prepared statements (see stmtCacheConn).
type stmtCacheConnector struct{ driver.Connector }

// newStmtCacheConnector returns the connector of the SQLite database dsn.
func newStmtCacheConnector(dsn string) (driver.Connector, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return stmtCacheConnector{c}, nil
}

func (c stmtCacheConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &stmtCacheConn{conn: conn, stmts: map[string]*cachedStmt{}}, nil
}

// stmtCacheConn is a connection that prepares each statement text once and
// runs it again from then on. modernc's driver otherwise parses every
// statement at every run (the database/sql calls of River's SQLite driver
// and the queue's own SQL are not prepared), and parsing River's large
// statements was about a third of the CPU of a queue whose workers run
// while deliveries come in: River's completer, for one, sets the state of
// each finished job with a statement of its own.
//
// database/sql never uses a connection from two goroutines at once, so its
// cache needs no lock. A statement whose rows are still open when its text
// runs again (a nested query) is run once, unprepared, as the driver would.
type stmtCacheConn struct {
	conn  driver.Conn
	stmts map[string]*cachedStmt
}

// cachedStmt is a prepared statement; busy while its rows are open.
type cachedStmt struct {
	stmt driver.Stmt
	busy bool
}

// The optional interfaces of modernc's connections, which database/sql
// looks for, are forwarded.
var (
	_ driver.ConnBeginTx        = (*stmtCacheConn)(nil)
	_ driver.ConnPrepareContext = (*stmtCacheConn)(nil)
	_ driver.ExecerContext      = (*stmtCacheConn)(nil)
	_ driver.QueryerContext     = (*stmtCacheConn)(nil)
	_ driver.Pinger             = (*stmtCacheConn)(nil)
	_ driver.SessionResetter    = (*stmtCacheConn)(nil)
	_ driver.Validator          = (*stmtCacheConn)(nil)
)

// take returns the prepared statement of query, marked busy, preparing it
// if needed; nil if it is busy.
func (c *stmtCacheConn) take(ctx context.Context, query string) (*cachedStmt, error) {
	s, ok := c.stmts[query]
	if ok {
		if s.busy {
			return nil, nil
		}
		s.busy = true
		return s, nil
	}
	if len(c.stmts) >= maxCachedStmts {
		c.evict()
	}
	stmt, err := c.conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s = &cachedStmt{stmt: stmt, busy: true}
	c.stmts[query] = s
	return s, nil
}

// evict closes and forgets one statement that is not running.
func (c *stmtCacheConn) evict() {
	for query, s := range c.stmts {
		if !s.busy {
			s.stmt.Close()
			delete(c.stmts, query)
			return
		}
	}
}

// drop closes and forgets the statement of query after it failed, in case
// the failure left it unusable.
func (c *stmtCacheConn) drop(query string) {
	if s, ok := c.stmts[query]; ok {
		s.stmt.Close()
		delete(c.stmts, query)
	}
}

func (c *stmtCacheConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	s, err := c.take(ctx, query)
	switch {
	case err != nil:
		return nil, err
	case s == nil:
		return c.conn.(driver.QueryerContext).QueryContext(ctx, query, args)
	}
	rows, err := s.stmt.(driver.StmtQueryContext).QueryContext(ctx, args)
	if err != nil {
		c.drop(query)
		return nil, err
	}
	return &cachedRows{Rows: rows, stmt: s}, nil
}

func (c *stmtCacheConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	s, err := c.take(ctx, query)
	switch {
	case err != nil:
		return nil, err
	case s == nil:
		return c.conn.(driver.ExecerContext).ExecContext(ctx, query, args)
	}
	res, err := s.stmt.(driver.StmtExecContext).ExecContext(ctx, args)
	s.busy = false
	if err != nil {
		c.drop(query)
	}
	return res, err
}

// Close closes the prepared statements, then the connection.
func (c *stmtCacheConn) Close() error {
	var errs []error
	for query, s := range c.stmts {
		errs = append(errs, s.stmt.Close())
		delete(c.stmts, query)
	}
	return errors.Join(append(errs, c.conn.Close())...)
}

func (c *stmtCacheConn) Prepare(query string) (driver.Stmt, error) { return c.conn.Prepare(query) }

func (c *stmtCacheConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *stmtCacheConn) Begin() (driver.Tx, error) { return c.conn.Begin() }

// BeginTx begins a transaction; one begun with a context from
// withSyncedCommit has its commit synced to disk (see sqlitePragmas).
func (c *stmtCacheConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if ctx.Value(syncedCommitKey{}) == nil {
		return c.conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	}
	// SQLite refuses to change the setting inside a transaction.
	if _, err := c.conn.(driver.ExecerContext).ExecContext(ctx, "PRAGMA synchronous = FULL", nil); err != nil {
		return nil, err
	}
	tx, err := c.conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		c.relax()
		return nil, err
	}
	return &syncedTx{Tx: tx, conn: c}, nil
}

// relax sets the connection back to its default, synchronous=NORMAL. Should
// that fail, it stays at FULL: slower, never less safe.
func (c *stmtCacheConn) relax() {
	_, _ = c.conn.(driver.ExecerContext).ExecContext(context.Background(), "PRAGMA synchronous = NORMAL", nil)
}

// syncedCommitKey marks a context whose transaction commits synced.
type syncedCommitKey struct{}

// withSyncedCommit returns ctx marked so that the SQLite transaction begun
// with it syncs its commit to disk, through a power loss: the commit of
// acknowledged deliveries.
func withSyncedCommit(ctx context.Context) context.Context {
	return context.WithValue(ctx, syncedCommitKey{}, true)
}

// syncedTx is a transaction committed with synchronous=FULL, after which its
// connection goes back to NORMAL.
type syncedTx struct {
	driver.Tx
	conn *stmtCacheConn
}

func (t *syncedTx) Commit() error {
	defer t.conn.relax()
	return t.Tx.Commit()
}

func (t *syncedTx) Rollback() error {
	defer t.conn.relax()
	return t.Tx.Rollback()
}

func (c *stmtCacheConn) Ping(ctx context.Context) error { return c.conn.(driver.Pinger).Ping(ctx) }

func (c *stmtCacheConn) ResetSession(ctx context.Context) error {
	return c.conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *stmtCacheConn) IsValid() bool { return c.conn.(driver.Validator).IsValid() }

// Unwrap returns modernc's connection, as its package asks of wrappers.
func (c *stmtCacheConn) Unwrap() driver.Conn { return c.conn }

// cachedRows are the rows of a cached statement, which is free again once
// they are closed.
type cachedRows struct {
	driver.Rows
	stmt *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.stmt.busy = false
	return err
}
