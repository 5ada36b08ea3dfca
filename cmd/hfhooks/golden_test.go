package main

import (
	"testing"

	goldenfile "github.com/hfhooks/hfhooks/internal/golden"
)

// golden compares got with the file testdata/name, or rewrites that file when
// the tests run with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	goldenfile.Check(t, name, got)
}
