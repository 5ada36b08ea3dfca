package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hfhooks/hfhooks/bench/internal/wire"
	"github.com/jackc/pgx/v5"
)

// dbTimeout bounds creating or dropping a fresh database.
const dbTimeout = 30 * time.Second

// freshDB creates a new, empty database of the given kind for one start of
// a durable row or one ceiling measurement, and returns the --queue value
// that names it and a function that throws it away:
//
//   - sqlite: a new file under <out>/db, removed with its -wal and -shm;
//   - postgres: a new schema bench_<random> in the database of
//     HFHOOKS_TEST_POSTGRES_URL, named by search_path in the URL, dropped
//     with everything in it.
func (h *harness) freshDB(kind string) (dsn string, drop func() error, err error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	switch kind {
	case "sqlite":
		dir := filepath.Join(h.out, "db")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", nil, err
		}
		path := filepath.Join(dir, "bench-"+id+".db")
		return "sqlite:" + path, func() error {
			var errs []error
			for _, p := range []string{path, path + "-wal", path + "-shm", path + "-journal"} {
				if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
					errs = append(errs, err)
				}
			}
			return errors.Join(errs...)
		}, nil
	case "postgres":
		if h.postgresURL == "" {
			return "", nil, fmt.Errorf("the postgres row needs %s", postgresEnv)
		}
		schema := "bench_" + id
		u, err := url.Parse(h.postgresURL)
		if err != nil {
			return "", nil, fmt.Errorf("%s: %w", postgresEnv, err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		if err := h.pgExec("CREATE SCHEMA " + pgx.Identifier{schema}.Sanitize()); err != nil {
			return "", nil, err
		}
		return u.String(), func() error {
			return h.pgExec("DROP SCHEMA IF EXISTS " + pgx.Identifier{schema}.Sanitize() + " CASCADE")
		}, nil
	}
	return "", nil, fmt.Errorf("unknown database kind %q", kind)
}

// pgExec runs one statement in the database of HFHOOKS_TEST_POSTGRES_URL.
func (h *harness) pgExec(sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), dbTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, h.postgresURL)
	if err != nil {
		return fmt.Errorf("connecting to PostgreSQL (%s): %w", postgresEnv, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("PostgreSQL: %s: %w", sql, err)
	}
	return nil
}

// ceilingBatches are the InsertMany batch sizes of the ceiling: 100, the
// ceiling the durable rows are quoted against, and 32, the most that 32
// connections, each waiting for its answer, can give one group commit.
var ceilingBatches = []int{100, 32}

// ceilingRun is one measurement of River's own insert rate, in a round,
// on a kind of database.
type ceilingRun struct {
	DB    string `json:"db"`
	Round int    `json:"round"`
	wire.Ceiling
	Error string `json:"error,omitempty"`
}

// measureCeilings runs bench/ceiling on a fresh database of the kind, once
// per batch size.
func (h *harness) measureCeilings(ctx context.Context, kind string, round int) []ceilingRun {
	var runs []ceilingRun
	for _, batch := range ceilingBatches {
		c := ceilingRun{DB: kind, Round: round, Ceiling: wire.Ceiling{Batch: batch}}
		if err := h.ceiling(ctx, &c); err != nil {
			c.Error = err.Error()
			log.Printf("round %d ceiling %s ×%d: %v", round, kind, batch, err)
		} else {
			log.Printf("round %d/%d ceiling %s InsertMany×%d: %.0f jobs/s (%d jobs), cpu/job %v", round, h.Rounds, kind, batch, c.Rate, c.Jobs, time.Duration(c.CPUPerJob))
		}
		runs = append(runs, c)
	}
	return runs
}

func (h *harness) ceiling(ctx context.Context, c *ceilingRun) error {
	dsn, drop, err := h.freshDB(c.DB)
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, h.bin("ceiling"), "-queue", dsn,
		"-payload", filepath.Join(h.root, h.Payload), "-stamp", h.Stamp,
		"-batch", strconv.Itoa(c.Batch), "-jobs", strconv.Itoa(h.CeilingJobs), "-max-time", "20s")
	cmd.Dir = h.root
	out, err := cmd.Output()
	err = errors.Join(err, drop())
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)))
		}
		return err
	}
	return json.Unmarshal(out, c)
}

// measureFanout runs bench/fanout once.
func (h *harness) measureFanout(ctx context.Context, res *results) error {
	cmd := exec.CommandContext(ctx, h.bin("fanout"), "-duration", h.FanoutTime.String())
	cmd.Dir = h.root
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("bench/fanout: %w", err)
	}
	for line := range strings.Lines(string(out)) {
		var f wire.Fanout
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			return fmt.Errorf("bench/fanout: %q: %w", line, err)
		}
		log.Printf("fan-out %s: %d webhooks, %.0f deliveries/s, %d missing", f.Pattern, f.Webhooks, f.Rate, f.Missing)
		res.Fanout = append(res.Fanout, f)
	}
	return nil
}

// loadAverage returns the first three fields of /proc/loadavg: the load
// average over 1, 5 and 15 minutes.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// busyCPU returns the CPU time that the whole machine has spent busy (not
// idle, not waiting for I/O) so far, from /proc/stat.
func busyCPU() (time.Duration, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return 0, errors.New("/proc/stat: no cpu line")
	}
	var busy int64
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, err
		}
		// user nice system idle iowait irq softirq steal [guest guest_nice,
		// which user and nice include already]
		if i != 3 && i != 4 && i < 8 {
			busy += n
		}
	}
	return time.Duration(busy) * clockTick, nil
}

// ownCPU returns the CPU time of the harness and of every process it has
// started and waited for (the servers, the ceiling and fan-out programs).
func ownCPU() time.Duration {
	var self, children syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	return time.Duration(self.Utime.Nano() + self.Stime.Nano() + children.Utime.Nano() + children.Stime.Nano())
}
