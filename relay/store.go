package relay

import (
	"context"
	"crypto/sha256"
	"time"
)

// StoredChannel is what a [Store] keeps of a channel: its id, the SHA-256
// of its token (never the token), and its times.
type StoredChannel struct {
	ID        string
	TokenHash [sha256.Size]byte
	Created   time.Time
	// LastSeen is when a listener was last seen connected; zero when none
	// ever connected.
	LastSeen time.Time
}

// A Store keeps a relay's channels across restarts (see [WithStore]). The
// Server loads them once, in [NewServer], and then writes each change
// through: a channel created, a listener connected or gone, a channel
// expired. Package relaystate stores them in an SQLite file.
type Store interface {
	// Load returns every channel stored.
	Load(ctx context.Context) ([]StoredChannel, error)
	// Save stores ch; for a channel already stored, it updates LastSeen,
	// never moving it back.
	Save(ctx context.Context, ch StoredChannel) error
	// Delete forgets the channels of the given ids.
	Delete(ctx context.Context, ids ...string) error
}
