package relaystate_test

import (
	"crypto/sha256"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks/relay"
	"github.com/hfhooks/hfhooks/relay/relaystate"
)

// TestStore: channels saved are loaded back after a reopen, last-seen
// times only move forward, deleted channels are gone, and a second opener
// of the same file is refused while the first holds it.
func TestStore(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "relay.db")
	ctx := t.Context()
	st, err := relaystate.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := relaystate.Open(ctx, path); !errors.Is(err, relaystate.ErrLocked) {
		t.Errorf("second Open: %v; want ErrLocked", err)
	}
	created := time.Unix(1700000000, 123)
	seen := created.Add(time.Hour)
	a := relay.StoredChannel{ID: "A", TokenHash: sha256.Sum256([]byte("a")), Created: created}
	b := relay.StoredChannel{ID: "B", TokenHash: sha256.Sum256([]byte("b")), Created: created, LastSeen: seen}
	c := relay.StoredChannel{ID: "C", TokenHash: sha256.Sum256([]byte("c")), Created: created}
	for _, ch := range []relay.StoredChannel{a, b, c} {
		if err := st.Save(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	older := b
	older.LastSeen = created
	if err := st.Save(ctx, older); err != nil {
		t.Fatal(err)
	}
	if err := st.Delete(ctx, "C"); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	st, err = relaystate.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	got, err := st.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]relay.StoredChannel{"A": a, "B": b}
	if len(got) != len(want) {
		t.Fatalf("loaded %d channels, want %d: %+v", len(got), len(want), got)
	}
	for _, g := range got {
		w := want[g.ID]
		if g.TokenHash != w.TokenHash || !g.Created.Equal(w.Created) || !g.LastSeen.Equal(w.LastSeen) {
			t.Errorf("loaded %+v, want %+v", g, w)
		}
	}
}
