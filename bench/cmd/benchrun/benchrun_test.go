package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks/bench/internal/wire"
)

func TestMedian(t *testing.T) {
	if _, ok := median([]float64{}); ok {
		t.Error("median of nothing is ok")
	}
	for _, c := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3}, 3},
		{[]float64{5, 1, 3}, 3},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		in := slices.Clone(c.in)
		if got, ok := median(in); !ok || got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
		if !slices.Equal(in, c.in) {
			t.Errorf("median sorted its input: %v", in)
		}
	}
	if got, _ := median([]time.Duration{3, 1, 2}); got != 2 {
		t.Errorf("median of durations = %v", got)
	}
}

func TestFormats(t *testing.T) {
	for got, want := range map[string]string{
		thousands(0):                        "0",
		thousands(999.4):                    "999",
		thousands(1234):                     "1,234",
		thousands(1234567.8):                "1,234,568",
		ms(537 * time.Microsecond):          "537 µs",
		ms(4087 * time.Microsecond):         "4.09 ms",
		us(12345 * time.Nanosecond):         "12.3 µs",
		mib(12 * 1024):                      "12.0 MiB",
		plural(1, "round"):                  "1 round",
		plural(32, "connection"):            "32 connections",
		firstLine("a\nb"):                   "a",
		ratio(50, summary{}, "%.0f%%", 100): "–",
	} {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

// sampleResults has limit, hfhooks serve and Python (2 workers) over two
// rounds at 32 connections, with one failed run of hfhooks serve.
func sampleResults() *results {
	run := func(rps float64, p99 time.Duration, failure string) []loadRun {
		return []loadRun{{Conns: 32, RPS: rps, P50: p99 / 4, P99: p99, P999: 2 * p99, OK: int64(rps), Failure: failure, RSSKiB: 10240}}
	}
	return &results{
		Settings: settings{Rounds: 2, Warmup: time.Second, Duration: time.Second, Conns: []int{32}, Startups: 1, Payload: "testdata/payloads/x.json"},
		Servers:  []serverInfo{{limitKey, "limit"}, {headlineKey, "hfhooks serve"}, {pythonKey, "Python (2 workers)"}},
		Binaries: map[string]int64{"limit": 1 << 20, "hfhooks": 2 << 20},
		Startups: map[string][]time.Duration{limitKey: {time.Millisecond}},
		Rounds: []round{
			{Server: limitKey, Round: 1, Loads: run(50000, time.Millisecond, "")},
			{Server: headlineKey, Round: 1, Loads: run(1, time.Second, "3 non-2xx (3×500)")},
			{Server: pythonKey, Round: 1, Loads: run(10000, 20*time.Millisecond, "")},
			{Server: limitKey, Round: 2, Loads: run(30000, 3*time.Millisecond, "")},
			{Server: headlineKey, Round: 2, Loads: run(36000, 2*time.Millisecond, "")},
			{Server: pythonKey, Round: 2, Error: "py2 exited before it was ready\nlog"},
		},
	}
}

// A failed run counts as a run and in nothing else.
func TestSummarizeLeavesOutFailures(t *testing.T) {
	r := sampleResults()
	s := r.summarize(headlineKey, 32)
	if s.runs != 2 || s.ok != 1 || s.rps != 36000 || s.p99 != 2*time.Millisecond {
		t.Errorf("serve: %+v, want 1 of 2 runs ok at 36000 req/s, p99 2ms", s)
	}
	if s := r.summarize(limitKey, 32); s.rps != 40000 || s.p99 != 2*time.Millisecond {
		t.Errorf("limit: %+v, want the medians of two runs", s)
	}
	if s := r.summarize(pythonKey, 32); s.runs != 2 || s.ok != 1 {
		t.Errorf("python: %+v, want the broken round counted as a run", s)
	}
	if s := r.summarize(limitKey, 1); s.hasMedians || s.runs != 0 {
		t.Errorf("no runs at 1 connection: %+v", s)
	}
}

func TestMarkdown(t *testing.T) {
	md := sampleResults().markdown()
	for _, want := range []string{
		"| limit | 40,000 (30,000–50,000) | 100% | 4.00× | 500 µs | 2.00 ms | 4.00 ms |",
		"| hfhooks serve | 36,000 | 90% | 3.60× | 500 µs | 2.00 ms | 4.00 ms |",
		"| 1/2 |",
		"- hfhooks serve: 90% of limit (target ≥ 70%: met), 3.60× Python (2 workers) (target ≥ 4×: **missed**), p99 2.00 ms (target < 10 ms: met).",
		"- round 1, hfhooks serve, 32 connections: 3 non-2xx (3×500)",
		"- round 2, Python (2 workers): py2 exited before it was ready\n",
		"| limit | 1.00 ms | – | 10.0 MiB | – | 1.0 MiB |",
		"| Python (2 workers) | – | – | 10.0 MiB | – | n/a (interpreter) |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}

func TestParseFlags(t *testing.T) {
	h, err := parseFlags([]string{"--quick", "--rounds", "4", "--servers", "py2,limit", "--conns", "8,1"})
	if err != nil {
		t.Fatal(err)
	}
	if h.Rounds != 4 || h.Duration != 2*time.Second || h.Warmup != 500*time.Millisecond || h.Startups != 3 {
		t.Errorf("--quick with --rounds 4: %+v", h.settings)
	}
	if len(h.servers) != 2 || h.servers[0].key != limitKey || h.servers[1].key != pythonKey {
		t.Errorf("servers %v, want limit then py2 (table order)", h.servers)
	}
	if len(h.Conns) != 2 || h.Conns[0] != 8 || h.Conns[1] != 1 {
		t.Errorf("conns %v", h.Conns)
	}
	for _, bad := range [][]string{{"--servers", "nginx"}, {"--conns", "0"}, {"--rounds", "0"}, {"extra"}} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%q) = nil error", bad)
		}
	}
}

func TestProcReaders(t *testing.T) {
	m, err := treeMemory(os.Getpid())
	if err != nil || m.rss <= 0 || m.hwm < m.rss {
		t.Errorf("treeMemory(self) = %+v, %v", m, err)
	}
	if _, err := treeCPU(os.Getpid()); err != nil {
		t.Error(err)
	}
	if d := descendants(os.Getpid()); len(d) < 1 || d[0] != os.Getpid() {
		t.Errorf("descendants(self) = %v", d)
	}
	if _, err := treeMemory(1 << 30); err == nil {
		t.Error("treeMemory of a process that does not exist: nil error")
	}
}

// TestHarness runs the whole harness on the Go servers with tiny settings.
// It builds and starts processes, so it runs only with HFHOOKS_BENCH=1.
func TestHarness(t *testing.T) {
	if testing.Short() || os.Getenv("HFHOOKS_BENCH") != "1" {
		t.Skip("set HFHOOKS_BENCH=1 to run the benchmark harness")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip(err)
	}
	out := t.TempDir()
	h, err := parseFlags([]string{"-root", "../../..", "-out", out, "-servers", "limit,serve,hfsync",
		"-rounds", "1", "-startups", "1", "-warmup", "100ms", "-duration", "300ms", "-conns", "4", "-fanout", "0"})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(out, "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| limit (bare net/http) |", "| hfhooks serve --queue none |", "| hfhooks.Server, no logs |", "| 1/1 |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("results.md lacks %q:\n%s", want, md)
		}
	}
}

func keys(ss []server) string {
	var k []string
	for _, s := range ss {
		k = append(k, s.key)
	}
	return strings.Join(k, ",")
}

// The default rows leave out the optional ones, and the postgres ones
// without a database; naming a postgres row without one is an error.
func TestSelectServers(t *testing.T) {
	for _, c := range []struct {
		list     string
		postgres bool
		want     string
	}{
		{"", false, "limit,serve,hfsync,sqlite,py1,py2"},
		{"", true, "limit,serve,hfsync,sqlite,postgres,py1,py2"},
		{"all", false, "limit,serve,hfsync,sqlite,sqlite-intake,py1,py2"},
		{"all", true, "limit,serve,hfsync,sqlite,postgres,sqlite-intake,postgres-intake,py1,py2"},
		{"sqlite-intake,limit", false, "limit,sqlite-intake"},
	} {
		got, err := selectServers(c.list, c.postgres)
		if err != nil || keys(got) != c.want {
			t.Errorf("selectServers(%q, %v) = %s, %v; want %s", c.list, c.postgres, keys(got), err, c.want)
		}
	}
	for _, list := range []string{"postgres", "limit,postgres-intake"} {
		if _, err := selectServers(list, false); err == nil {
			t.Errorf("selectServers(%q) without PostgreSQL: nil error", list)
		}
	}
}

// The durable rows are quoted against the median of River's insert rates
// into the same kind of database; a failed ceiling run is left out.
func TestDurableReport(t *testing.T) {
	r := sampleResults()
	r.Servers = append(r.Servers, serverInfo{"sqlite", "hfhooks serve --queue sqlite"})
	r.Rounds = append(r.Rounds,
		round{Server: "sqlite", Round: 1, Loads: []loadRun{{Conns: 32, RPS: 7000, P99: 20 * time.Millisecond, OK: 7000, ServerCPU: 100 * time.Microsecond}}},
		round{Server: "sqlite", Round: 2, Loads: []loadRun{{Conns: 32, RPS: 8000, P99: 30 * time.Millisecond, OK: 8000, ServerCPU: 100 * time.Microsecond}}})
	r.Ceilings = []ceilingRun{
		{DB: "sqlite", Round: 1, Ceiling: wire.Ceiling{Batch: 100, Rate: 9000, CPUPerJob: 50e3}},
		{DB: "sqlite", Round: 2, Ceiling: wire.Ceiling{Batch: 100, Rate: 11000, CPUPerJob: 70e3}},
		{DB: "sqlite", Round: 2, Ceiling: wire.Ceiling{Batch: 100}, Error: "boom"},
		{DB: "sqlite", Round: 1, Ceiling: wire.Ceiling{Batch: 32, Rate: 7500}},
		{DB: "postgres", Round: 1, Ceiling: wire.Ceiling{Batch: 100, Rate: 1}},
	}
	r.Fanout = []wire.Fanout{{Pattern: "fan-out", Webhooks: 100, Events: 10, Deliveries: 1000, Rate: 12345.6}}
	md := r.markdown()
	for _, want := range []string{
		"| hfhooks serve --queue sqlite | 7,500 (7,000–8,000) | 25.00 ms | 100.0 µs | 10,000 | 75% | 7,500 | 100% | 60.0 µs | 2/3 |",
		"- hfhooks serve --queue sqlite: 75% of River's InsertMany×100 into sqlite (target ≥ 70%: met), p99 ack 25.00 ms (target < 25 ms: **missed**).",
		"| fan-out | 100 | 10 | 1,000 | 12,346 | 0 |",
		"| 2 | 30,000 | 36,000 | failed | 8,000 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}
