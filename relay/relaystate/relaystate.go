// Package relaystate keeps a relay's channels in an SQLite file, so that
// they survive a restart of the relay: "hfhooks relay --state PATH". It
// implements [relay.Store].
//
// The file holds, per channel, its id, the SHA-256 of its token (never the
// token), when it was created and when a listener was last seen on it. One
// relay owns the file at a time: Open fails while another holds its lock.
package relaystate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gofrs/flock"
	"github.com/hfhooks/hfhooks/relay"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// ErrLocked is returned by Open when another process holds the file.
var ErrLocked = errors.New("relaystate: the state file is in use")

// schema creates the table of channels. Times are Unix nanoseconds;
// last_seen is 0 until a listener connects.
const schema = `CREATE TABLE IF NOT EXISTS channels (
	id         TEXT PRIMARY KEY,
	token_hash BLOB NOT NULL,
	created    INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL DEFAULT 0
) STRICT`

// Store is a [relay.Store] in an SQLite file. Create one with Open; it is
// safe for concurrent use.
type Store struct {
	path string
	db   *sql.DB
	lock *flock.Flock
}

var _ relay.Store = (*Store)(nil)

// Open opens the state file at path, creating it if need be, and takes its
// lock (path + ".lock") until Close.
func Open(ctx context.Context, path string) (*Store, error) {
	lock := flock.New(path + ".lock")
	locked, err := lock.TryLock()
	if err != nil {
		return nil, fmt.Errorf("relaystate: locking %s: %w", lock.Path(), err)
	}
	if !locked {
		return nil, fmt.Errorf("%w: another relay uses %s (it holds %s); give each relay a state file of its own", ErrLocked, path, lock.Path())
	}
	v := url.Values{"_pragma": {"busy_timeout(5000)", "journal_mode(WAL)", "synchronous(NORMAL)"}}
	db, err := sql.Open("sqlite", "file:"+path+"?"+v.Encode())
	if err == nil {
		db.SetMaxOpenConns(1)
		_, err = db.ExecContext(ctx, schema)
	}
	if err != nil {
		if db != nil {
			db.Close()
		}
		return nil, errors.Join(fmt.Errorf("relaystate: opening %s: %w", path, err), lock.Unlock())
	}
	return &Store{path: path, db: db, lock: lock}, nil
}

// Close closes the file and releases its lock.
func (s *Store) Close() error {
	return errors.Join(s.db.Close(), s.lock.Unlock())
}

// Load returns every channel in the file.
func (s *Store) Load(ctx context.Context) ([]relay.StoredChannel, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, token_hash, created, last_seen FROM channels`)
	if err != nil {
		return nil, fmt.Errorf("relaystate: reading %s: %w", s.path, err)
	}
	defer rows.Close()
	var out []relay.StoredChannel
	for rows.Next() {
		var (
			ch              relay.StoredChannel
			hash            []byte
			created, latest int64
		)
		if err := rows.Scan(&ch.ID, &hash, &created, &latest); err != nil {
			return nil, fmt.Errorf("relaystate: reading %s: %w", s.path, err)
		}
		if len(hash) != len(ch.TokenHash) {
			return nil, fmt.Errorf("relaystate: reading %s: channel %s has a token hash of %d bytes, want %d", s.path, ch.ID, len(hash), len(ch.TokenHash))
		}
		copy(ch.TokenHash[:], hash)
		ch.Created = time.Unix(0, created)
		if latest != 0 {
			ch.LastSeen = time.Unix(0, latest)
		}
		out = append(out, ch)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("relaystate: reading %s: %w", s.path, err)
	}
	return out, nil
}

// Save stores ch, or updates the channel of the same id; its last-seen
// time only moves forward.
func (s *Store) Save(ctx context.Context, ch relay.StoredChannel) error {
	var latest int64
	if !ch.LastSeen.IsZero() {
		latest = ch.LastSeen.UnixNano()
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO channels (id, token_hash, created, last_seen) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)`,
		ch.ID, ch.TokenHash[:], ch.Created.UnixNano(), latest)
	if err != nil {
		return fmt.Errorf("relaystate: saving a channel in %s: %w", s.path, err)
	}
	return nil
}

// Delete forgets the channels of the given ids.
func (s *Store) Delete(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	q := `DELETE FROM channels WHERE id IN (?` + strings.Repeat(", ?", len(ids)-1) + `)`
	if _, err := s.db.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("relaystate: deleting channels from %s: %w", s.path, err)
	}
	return nil
}
