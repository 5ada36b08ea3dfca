package main

import (
	"path/filepath"
	"strconv"
)

// A server is one row of the comparison: how to start it and what it is.
// Every server listens on 127.0.0.1 on the port it is given, accepts
// POST /webhooks/inbox with the secret in X-Webhook-Secret (403 or 401
// without it), and answers GET /healthz with 200 once it is ready.
type server struct {
	// key names the server in --servers, in file names and in results.json.
	key string
	// name is the row's label in the tables.
	name string
	// binary is the Go program that runs the server, built into the output
	// directory by bench/run ("" when the server is not a Go program).
	binary string
	// python marks the servers that need Debian's Python packages.
	python bool
	// workers is the number of processes that must have logged uvicorn's
	// "Application startup complete." before the server is ready for load
	// (0: ready at the first 200 on /healthz).
	workers int
	// db is the kind of database of a durable row ("sqlite" or
	// "postgres"; "" for the others): each start gets a fresh one (see
	// harness.freshDB), thrown away when the server stops, and the run
	// measures River's own insert rate into the same kind (the ceiling).
	db string
	// optional rows are left out unless named in --servers (or "all").
	optional bool
	// args returns the command line that starts the server on addr; dsn is
	// the fresh database of a durable row.
	args func(h *harness, addr, dsn string) []string
}

// Keys of the servers the ratios are quoted against.
const (
	limitKey    = "limit"
	pythonKey   = "py2"
	headlineKey = "serve"
	// profileKey is the server that --profile runs: bench/hfserver takes a
	// -cpuprofile flag, and -log to log as hfhooks serve does.
	profileKey = "hfsync"
	// postgresKey is the row that runs only when HFHOOKS_TEST_POSTGRES_URL
	// names a database.
	postgresKey = "postgres"
)

// postgresEnv names the PostgreSQL database of the postgres row, as in the
// queue's tests: postgres://USER@127.0.0.1:5432/DB?sslmode=disable.
const postgresEnv = "HFHOOKS_TEST_POSTGRES_URL"

// servers lists the servers compared, in the order of the tables.
var servers = []server{
	{
		key:    limitKey,
		name:   "limit (bare net/http)",
		binary: "limit",
		args: func(h *harness, addr, _ string) []string {
			return []string{h.bin("limit"), "-addr", addr, "-secret", secret}
		},
	},
	{
		// hfhooks serve defaults to a durable SQLite queue (hfhooks.db in
		// the working directory): the sync row says --queue none.
		key:    headlineKey,
		name:   "hfhooks serve --queue none",
		binary: "hfhooks",
		args: func(h *harness, addr, _ string) []string {
			return []string{h.bin("hfhooks"), "serve", "--addr", addr, "--secret", secret, "--queue", "none"}
		},
	},
	{
		key:    profileKey,
		name:   "hfhooks.Server, no logs",
		binary: "hfserver",
		args: func(h *harness, addr, _ string) []string {
			return []string{h.bin("hfserver"), "-addr", addr, "-secret", secret}
		},
	},
	{
		key:    "sqlite",
		name:   "hfhooks serve --queue sqlite",
		binary: "hfhooks",
		db:     "sqlite",
		args:   durableArgs,
	},
	{
		key:    postgresKey,
		name:   "hfhooks serve --queue postgres",
		binary: "hfhooks",
		db:     "postgres",
		args:   durableArgs,
	},
	{
		key:      "sqlite-intake",
		name:     "hfhooks.Server + SQLite queue, intake only",
		binary:   "hfserver",
		db:       "sqlite",
		optional: true,
		args:     intakeArgs,
	},
	{
		key:      "postgres-intake",
		name:     "hfhooks.Server + PostgreSQL queue, intake only",
		binary:   "hfserver",
		db:       "postgres",
		optional: true,
		args:     intakeArgs,
	},
	{key: "py1", name: "Python (1 worker)", python: true, workers: 1, args: uvicorn(1)},
	{key: pythonKey, name: "Python (2 workers)", python: true, workers: 2, args: uvicorn(2)},
}

// durableArgs is the command line of hfhooks serve on a durable queue, as
// users run it: the CLI's defaults (10 workers run the inbox handler while
// deliveries come in, a log line per delivery) on the fresh database dsn.
func durableArgs(h *harness, addr, dsn string) []string {
	return []string{h.bin("hfhooks"), "serve", "--addr", addr, "--secret", secret, "--queue", dsn}
}

// intakeArgs is the command line of bench/hfserver on a queue with its
// workers off:
// the library's durable request path alone, with no logs and no deliveries
// run while the load goes on, which is what River's insert rate compares
// with.
func intakeArgs(h *harness, addr, dsn string) []string {
	return []string{h.bin("hfserver"), "-addr", addr, "-secret", secret, "-queue", dsn, "-workers=false"}
}

// workersArgs is the command line of bench/hfserver on a queue whose
// workers run the deliveries while they come in, logging as hfhooks serve
// does: the durable row's work, in a program that takes -cpuprofile.
func workersArgs(h *harness, addr, dsn string) []string {
	return []string{h.bin("hfserver"), "-addr", addr, "-secret", secret, "-queue", dsn, "-log"}
}

// uvicorn returns the command line of bench/python/app.py under uvicorn
// with n worker processes, on uvloop and httptools as huggingface_hub's
// WebhooksServer runs it (through Gradio) when they are installed, and
// without access logs, as Gradio runs it.
func uvicorn(n int) func(h *harness, addr, dsn string) []string {
	return func(h *harness, addr, _ string) []string {
		host, port := splitAddr(addr)
		return []string{pythonBin, "-m", "uvicorn", "app:app",
			"--app-dir", filepath.Join(h.root, "bench", "python"),
			"--host", host, "--port", port,
			"--loop", "uvloop", "--http", "httptools",
			"--no-access-log", "--log-level", "info",
			"--workers", strconv.Itoa(n)}
	}
}
