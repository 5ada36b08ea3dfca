// Command ceiling measures the ceiling of the durable rows of the
// benchmark: River inserting delivery jobs straight into a fresh database
// with InsertMany, a batch at a time, with no HTTP, no receiver and no
// deduplication. It mirrors the queue package's own ceiling
// (BenchmarkIntake's ceiling-insertmany cases in queue/bench_test.go, which
// is not exported): the same River driver and connection settings as
// queue.Open, and the queue's own jobs (queue.InsertParams), built from the
// benchmark's payload with a distinct body per job.
//
// Usage:
//
//	ceiling -queue sqlite:PATH|postgres://... -payload FILE -stamp ID [-batch 100] [-jobs 20000] [-max-time 20s]
//
// It prints one line of JSON: {"batch":100,"jobs":N,"seconds":S,"rate":R},
// R being jobs per second. The jobs are left in the database, which the
// caller throws away.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/bench/internal/wire"
	"github.com/hfhooks/hfhooks/queue"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	_ "modernc.org/sqlite" // the pure-Go "sqlite" database/sql driver, as the queue uses
)

// sqlitePragmas are the queue's (queue/sqlite.go).
var sqlitePragmas = []string{"journal_mode(WAL)", "busy_timeout(10000)", "synchronous(FULL)", "foreign_keys(ON)"}

func main() {
	log.SetFlags(0)
	log.SetPrefix("ceiling: ")
	dsn := flag.String("queue", "", "the database: sqlite:`PATH` or postgres://... (a fresh one)")
	payload := flag.String("payload", "testdata/payloads/discussion-pr-create-with-comment.json", "`FILE` whose body every job carries")
	stampFlag := flag.String("stamp", "6399f58518721fdd27fc9caa", "a hexadecimal `ID` in the payload, replaced per job to make every body distinct")
	batch := flag.Int("batch", 100, "jobs per InsertMany call")
	jobs := flag.Int("jobs", 20000, "`N` jobs to insert at most")
	maxTime := flag.Duration("max-time", 20*time.Second, "stop inserting after this long, even if fewer than -jobs are in")
	flag.Parse()
	if *dsn == "" || *batch < 1 || *jobs < 1 || *maxTime <= 0 {
		log.Fatal("-queue is required; -batch, -jobs and -max-time must be positive")
	}
	ctx, cancel := context.WithTimeout(context.Background(), *maxTime+time.Minute)
	defer cancel()
	body, err := os.ReadFile(*payload)
	if err != nil {
		log.Fatal(err)
	}
	params, err := buildJobs(body, []byte(*stampFlag), *jobs)
	if err != nil {
		log.Fatal(err)
	}
	res, err := run(ctx, *dsn, params, *batch, *maxTime)
	if err != nil {
		log.Fatal(err)
	}
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}

// buildJobs returns n of the queue's jobs, each with the payload's body
// with the stamp replaced by a distinct hexadecimal number.
func buildJobs(body, stamp []byte, n int) ([]river.InsertManyParams, error) {
	at := bytes.Index(body, stamp)
	if at < 0 {
		return nil, fmt.Errorf("-stamp %q does not occur in the payload", stamp)
	}
	p, err := hfhooks.DecodePayload(body)
	if err != nil {
		return nil, err
	}
	header := http.Header{"Content-Type": {"application/json"}, "User-Agent": {"hfhooks-bench"}}
	params := make([]river.InsertManyParams, n)
	for i := range params {
		b := bytes.Clone(body)
		hex := fmt.Sprintf("%0*x", len(stamp), i)
		copy(b[at:at+len(stamp)], hex[len(hex)-len(stamp):])
		params[i] = queue.InsertParams(&hfhooks.Delivery{Endpoint: "inbox", Payload: p, Body: b, Header: header, ReceivedAt: time.Now()})
	}
	return params, nil
}

// run opens the database, migrates it and inserts params, batch at a time,
// until all are in or maxTime has passed.
func run(ctx context.Context, dsn string, params []river.InsertManyParams, batch int, maxTime time.Duration) (wire.Ceiling, error) {
	insert, closeDB, err := open(ctx, dsn)
	if err != nil {
		return wire.Ceiling{}, err
	}
	defer closeDB()
	start, cpu0 := time.Now(), processCPU()
	n := 0
	for n < len(params) && time.Since(start) < maxTime {
		end := min(n+batch, len(params))
		if err := insert(ctx, params[n:end]); err != nil {
			return wire.Ceiling{}, fmt.Errorf("InsertMany: %w", err)
		}
		n = end
	}
	took, cpu := time.Since(start), processCPU()-cpu0
	return wire.Ceiling{Batch: batch, Jobs: n, Seconds: took.Seconds(), Rate: float64(n) / took.Seconds(), CPUPerJob: float64(cpu) / float64(n)}, nil
}

// processCPU returns the CPU time this process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// open returns InsertMany on a River client for dsn, with the database's
// River schema migrated, configured as queue.Open configures its own.
func open(ctx context.Context, dsn string) (insert func(context.Context, []river.InsertManyParams) error, closeDB func(), err error) {
	switch scheme, rest, _ := strings.Cut(dsn, ":"); scheme {
	case "sqlite":
		v := url.Values{"_pragma": sqlitePragmas, "_txlock": {"immediate"}}
		db, err := sql.Open("sqlite", "file:"+rest+"?"+v.Encode())
		if err != nil {
			return nil, nil, err
		}
		db.SetMaxOpenConns(1)
		client, err := newClient(ctx, riversqlite.New(db))
		if err != nil {
			db.Close()
			return nil, nil, err
		}
		return func(ctx context.Context, p []river.InsertManyParams) error {
			_, err := client.InsertMany(ctx, p)
			return err
		}, func() { db.Close() }, nil
	case "postgres", "postgresql":
		pool, err := pgxpool.New(ctx, dsn)
		if err != nil {
			return nil, nil, err
		}
		client, err := newClient[pgx.Tx](ctx, riverpgxv5.New(pool))
		if err != nil {
			pool.Close()
			return nil, nil, err
		}
		return func(ctx context.Context, p []river.InsertManyParams) error {
			_, err := client.InsertMany(ctx, p)
			return err
		}, pool.Close, nil
	}
	return nil, nil, errors.New("-queue: want sqlite:PATH or a postgres:// URL")
}

// newClient migrates River's schema and returns an insert-only client with
// the queue's setting that matters to inserts: its default number of
// attempts, stored with each job.
func newClient[TTx any](ctx context.Context, driver riverdriver.Driver[TTx]) (*river.Client[TTx], error) {
	migrator, err := rivermigrate.New(driver, nil)
	if err != nil {
		return nil, err
	}
	if _, err := migrator.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("migrating: %w", err)
	}
	return river.NewClient(driver, &river.Config{MaxAttempts: queue.DefaultMaxAttempts, SkipUnknownJobCheck: true})
}
