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
	// args returns the command line that starts the server on addr.
	args func(h *harness, addr string) []string
}

// Keys of the servers the ratios are quoted against.
const (
	limitKey    = "limit"
	pythonKey   = "py2"
	headlineKey = "serve"
	// profileKey is the server that --profile runs: hfsync takes a
	// -cpuprofile flag, and -log to log as hfhooks serve does.
	profileKey = "hfsync"
)

// servers lists the servers compared, in the order of the tables.
//
// The durable rows (the SQLite and PostgreSQL queues) and the emulator's
// fan-out come with those merges: each is one more entry here (for
// example "hfhooks serve --queue sqlite:PATH" with a fresh PATH under the
// output directory).
var servers = []server{
	{
		key:    limitKey,
		name:   "limit (bare net/http)",
		binary: "limit",
		args: func(h *harness, addr string) []string {
			return []string{h.bin("limit"), "-addr", addr, "-secret", secret}
		},
	},
	{
		key:    headlineKey,
		name:   "hfhooks serve",
		binary: "hfhooks",
		args: func(h *harness, addr string) []string {
			return []string{h.bin("hfhooks"), "serve", "--addr", addr, "--secret", secret}
		},
	},
	{
		key:    profileKey,
		name:   "hfhooks.Server, no logs",
		binary: "hfsync",
		args: func(h *harness, addr string) []string {
			return []string{h.bin("hfsync"), "-addr", addr, "-secret", secret}
		},
	},
	{key: "py1", name: "Python (1 worker)", python: true, workers: 1, args: uvicorn(1)},
	{key: pythonKey, name: "Python (2 workers)", python: true, workers: 2, args: uvicorn(2)},
}

// uvicorn returns the command line of bench/python/app.py under uvicorn
// with n worker processes, on uvloop and httptools as huggingface_hub's
// WebhooksServer runs it (through Gradio) when they are installed, and
// without access logs, as Gradio runs it.
func uvicorn(n int) func(h *harness, addr string) []string {
	return func(h *harness, addr string) []string {
		host, port := splitAddr(addr)
		return []string{pythonBin, "-m", "uvicorn", "app:app",
			"--app-dir", filepath.Join(h.root, "bench", "python"),
			"--host", host, "--port", port,
			"--loop", "uvloop", "--http", "httptools",
			"--no-access-log", "--log-level", "info",
			"--workers", strconv.Itoa(n)}
	}
}
