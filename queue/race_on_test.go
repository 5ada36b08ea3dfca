//go:build race

package queue

// raceEnabled is true when the tests run with the race detector, which
// slows SQLite's work several times over: timing tests then skip, and
// .ci/run runs them again without it.
const raceEnabled = true
