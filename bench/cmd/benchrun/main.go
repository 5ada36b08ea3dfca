// Command benchrun is the benchmark harness behind bench/run: it builds the
// servers, starts each on 127.0.0.1, drives it with the load generator of
// package bench/load, stops it, and prints a markdown table that quotes
// every server against the bare net/http limit and against the Python
// server with 2 workers.
//
// Servers run one at a time and alternate (A B C … A B C …) for a number
// of rounds; the table quotes the medians over the rounds. A run that got
// any error or non-2xx response is reported as failed and left out of the
// medians. No traffic goes anywhere but 127.0.0.1.
//
// Usage (from the repository's root; bench/run does this):
//
//	(cd bench && go build -o out/benchrun ./cmd/benchrun) && bench/out/benchrun [flags]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hfhooks/hfhooks/bench/load"
)

// The request every server gets.
const (
	secret      = "bench-secret"
	webhookPath = "/webhooks/inbox"
)

// settings are what the flags set.
type settings struct {
	Quick    bool          `json:"quick"`
	Rounds   int           `json:"rounds"`
	Warmup   time.Duration `json:"warmupNs"`
	Duration time.Duration `json:"durationNs"`
	Conns    []int         `json:"connections"`
	Startups int           `json:"startups"`
	Payload  string        `json:"payload"`
	// Stamp is the id in the payload that the load generator replaces in
	// each request, so that no two bodies are the same: a durable receiver
	// would take a repeat for a duplicate delivery.
	Stamp       string        `json:"stamp"`
	Profile     bool          `json:"profile"`
	CeilingJobs int           `json:"ceilingJobs"`
	FanoutTime  time.Duration `json:"fanoutNs"`
}

// harness is one benchmark run.
type harness struct {
	settings
	root    string // the repository's root: hfhooks' module, with bench's in it
	out     string // where binaries, logs, profiles and results go
	servers []server
	body    []byte
	report  string // a results.json to print instead of running
	// postgresURL is HFHOOKS_TEST_POSTGRES_URL: the database in which the
	// postgres row and its ceiling get fresh schemas.
	postgresURL string
}

func main() {
	log.SetFlags(0)
	log.SetPrefix("benchrun: ")
	h, err := parseFlags(os.Args[1:])
	if err != nil {
		log.Fatal(err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if h.report != "" {
		err = printReport(h.report)
	} else {
		err = h.run(ctx)
	}
	if err != nil {
		log.Fatal(err)
	}
}

// printReport prints the tables of a saved results.json.
func printReport(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var res results
	if err := json.Unmarshal(b, &res); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	fmt.Print(res.markdown())
	return nil
}

func parseFlags(args []string) (*harness, error) {
	fs := flag.NewFlagSet("benchrun", flag.ContinueOnError)
	h := &harness{}
	fs.BoolVar(&h.Quick, "quick", false, "a short run (2 rounds, 0.5s warm-up, 2s measured, 3 start-ups) unless the other flags say otherwise")
	fs.IntVar(&h.Rounds, "rounds", 5, "`N` rounds of every server at every concurrency")
	fs.DurationVar(&h.Warmup, "warmup", 2*time.Second, "warm-up before each measured run")
	fs.DurationVar(&h.Duration, "duration", 10*time.Second, "length of each measured run")
	conns := fs.String("conns", "32,1", "comma-separated `LIST` of concurrencies (connections); the first is the headline")
	fs.IntVar(&h.Startups, "startups", 7, "`N` start-up time measurements per server")
	names := fs.String("servers", "", "comma-separated `KEYS` of the servers to run, or all (default: all but the optional intake-only rows; "+
		"the postgres rows need "+postgresEnv+"): "+strings.Join(serverKeys(), ","))
	fs.StringVar(&h.Payload, "payload", "testdata/payloads/discussion-pr-create-with-comment.json", "`FILE` to POST, relative to the repository's root")
	fs.StringVar(&h.Stamp, "stamp", "6399f58518721fdd27fc9caa", "hexadecimal `ID` in the payload that each request replaces with a number of its own, so that every body is distinct (\"\" sends the payload as it is)")
	fs.IntVar(&h.CeilingJobs, "ceiling-jobs", 20000, "`N` jobs per measurement of River's insert rate (the durable rows' ceiling), once per round and database")
	fs.DurationVar(&h.FanoutTime, "fanout", 5*time.Second, "length of each pattern of the emulator's fan-out (bench/fanout); 0 leaves it out")
	fs.BoolVar(&h.Profile, "profile", false, "after the table, CPU-profile hfhooks.Server (with and without logs, and on an SQLite queue, intake only and with workers) under load at the headline concurrency")
	fs.StringVar(&h.root, "root", ".", "the repository's root `DIR`")
	fs.StringVar(&h.out, "out", "bench/out", "output `DIR`, relative to the repository's root")
	fs.StringVar(&h.report, "report", "", "print the tables of a saved results.json `FILE` and run nothing")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if h.Quick {
		// Shorten what was not set explicitly.
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		for name, value := range map[string]string{"rounds": "2", "warmup": "500ms", "duration": "2s", "startups": "3", "ceiling-jobs": "5000", "fanout": "1s"} {
			if !set[name] {
				if err := fs.Set(name, value); err != nil {
					return nil, err
				}
			}
		}
	}
	if h.Rounds < 1 || h.Startups < 1 || h.Duration <= 0 || h.Warmup < 0 || h.CeilingJobs < 1 || h.FanoutTime < 0 {
		return nil, fmt.Errorf("-rounds, -startups and -ceiling-jobs must be at least 1, -duration positive and -warmup and -fanout not negative")
	}
	for _, s := range strings.Split(*conns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("-conns: %q is not a positive number", s)
		}
		h.Conns = append(h.Conns, n)
	}
	var err error
	if h.root, err = filepath.Abs(h.root); err != nil {
		return nil, err
	}
	if !filepath.IsAbs(h.out) {
		h.out = filepath.Join(h.root, h.out)
	}
	h.postgresURL = os.Getenv(postgresEnv)
	h.servers, err = selectServers(*names, h.postgresURL != "")
	return h, err
}

func serverKeys() []string {
	keys := make([]string, len(servers))
	for i, s := range servers {
		keys[i] = s.key
	}
	return keys
}

// selectServers returns the servers named in the comma-separated list, in
// table order. An empty list means every row but the optional ones, and
// but the postgres rows when there is no PostgreSQL database; "all" means
// every row (the postgres ones only with a database).
func selectServers(list string, postgres bool) ([]server, error) {
	if list == "" || list == "all" {
		var out []server
		for _, s := range servers {
			if (s.db != "postgres" || postgres) && (!s.optional || list == "all") {
				out = append(out, s)
			}
		}
		return out, nil
	}
	want := map[string]bool{}
	for _, k := range strings.Split(list, ",") {
		k = strings.TrimSpace(k)
		s, ok := serverByKey(k)
		if !ok {
			return nil, fmt.Errorf("-servers: unknown server %q (known: %s, or all)", k, strings.Join(serverKeys(), ", "))
		}
		if s.db == "postgres" && !postgres {
			return nil, fmt.Errorf("-servers: %s needs %s (postgres://USER@127.0.0.1:5432/DB?sslmode=disable)", k, postgresEnv)
		}
		want[k] = true
	}
	var out []server
	for _, s := range servers {
		if want[s.key] {
			out = append(out, s)
		}
	}
	return out, nil
}

// bin returns the path of a binary built into the output directory.
func (h *harness) bin(name string) string { return filepath.Join(h.out, name) }

func (h *harness) run(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(h.root, "go.mod")); err != nil {
		return fmt.Errorf("-root %s is not the repository's root: %w", h.root, err)
	}
	if err := os.MkdirAll(filepath.Join(h.out, "logs"), 0o755); err != nil {
		return err
	}
	var err error
	if h.body, err = os.ReadFile(filepath.Join(h.root, h.Payload)); err != nil {
		return err
	}
	if h.postgresURL == "" {
		log.Printf("no %s: the postgres rows are left out", postgresEnv)
	}
	if h.Stamp != "" && !strings.Contains(string(h.body), h.Stamp) {
		return fmt.Errorf("-stamp %q does not occur in %s", h.Stamp, h.Payload)
	}
	if h.Stamp == "" && slices.ContainsFunc(h.servers, func(s server) bool { return s.db != "" }) {
		return errors.New(`-stamp "": the durable rows need distinct bodies`)
	}
	res := &results{Settings: h.settings, PayloadBytes: len(h.body), Binaries: map[string]int64{}, Startups: map[string][]time.Duration{}}
	for _, s := range h.servers {
		res.Servers = append(res.Servers, serverInfo{Key: s.key, Name: s.name})
	}
	if err := h.prepare(ctx, res); err != nil {
		return err
	}
	res.LoadStart = loadAverage()
	log.Printf("load average %s", res.LoadStart)
	t0, busy0, own0 := time.Now(), mustBusy(), ownCPU()
	if err := h.measureStartups(ctx, res); err != nil {
		return err
	}
	if err := h.measureLoad(ctx, res); err != nil {
		return err
	}
	if h.FanoutTime > 0 {
		if err := h.measureFanout(ctx, res); err != nil {
			return err
		}
	}
	res.MeasuredFor = time.Since(t0)
	if busy0 > 0 {
		others := (mustBusy() - busy0) - (ownCPU() - own0)
		res.OthersCPU = max(0, others.Seconds()/(res.MeasuredFor.Seconds()*float64(res.Machine.CPUs)))
	}
	res.LoadEnd = loadAverage()
	table := res.markdown()
	fmt.Print(table)
	if err := os.WriteFile(filepath.Join(h.out, "results.md"), []byte(table), 0o644); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(h.out, "results.json"), raw, 0o644); err != nil {
		return err
	}
	log.Printf("wrote %s and %s", filepath.Join(h.out, "results.md"), filepath.Join(h.out, "results.json"))
	if h.Profile {
		return h.profile(ctx)
	}
	return nil
}

// mustBusy is busyCPU, or 0 when /proc/stat cannot be read.
func mustBusy() time.Duration {
	d, _ := busyCPU()
	return d
}

// measureStartups starts and stops every server Startups times, in turn,
// timing exec to the first 200 on /healthz.
func (h *harness) measureStartups(ctx context.Context, res *results) error {
	for i := range h.Startups {
		for _, s := range h.servers {
			p, err := h.start(s)
			if err != nil {
				return err
			}
			d, err := p.waitReady(ctx)
			if stopErr := p.stop(); err == nil {
				err = stopErr
			}
			if err != nil {
				return err
			}
			res.Startups[s.key] = append(res.Startups[s.key], d)
			log.Printf("start-up %d/%d %-7s %v", i+1, h.Startups, s.key, d.Round(100*time.Microsecond))
		}
	}
	return nil
}

// measureLoad runs the rounds: in each, every server in turn (starting one
// further down the list each round) is started, checked, measured idle,
// driven at every concurrency, and stopped. Just before the first durable
// row of a kind of database in a round, River's own insert rate into that
// kind is measured (the rows' ceiling).
func (h *harness) measureLoad(ctx context.Context, res *results) error {
	for r := range h.Rounds {
		measured := map[string]bool{} // the databases whose ceiling this round has
		for i := range h.servers {
			s := h.servers[(r+i)%len(h.servers)]
			if s.db != "" && !measured[s.db] {
				measured[s.db] = true
				res.Ceilings = append(res.Ceilings, h.measureCeilings(ctx, s.db, r+1)...)
			}
			rd := h.round(ctx, s, r+1)
			if err := ctx.Err(); err != nil {
				return err
			}
			res.Rounds = append(res.Rounds, rd)
		}
	}
	return nil
}

// round runs one server through one round; a server that fails is reported
// in the round, and the benchmark goes on.
func (h *harness) round(ctx context.Context, s server, n int) round {
	rd := round{Server: s.key, Round: n}
	p, err := h.start(s)
	if err != nil {
		rd.Error = err.Error()
		return rd
	}
	defer func() {
		if err := p.stop(); err != nil && rd.Error == "" {
			rd.Error = err.Error()
		}
		if rd.Error != "" {
			log.Printf("round %d %s: %s", n, s.key, rd.Error)
		}
	}()
	if _, err := p.waitReady(ctx); err != nil {
		rd.Error = err.Error()
		return rd
	}
	if err := p.preflight(h.body); err != nil {
		rd.Error = err.Error()
		return rd
	}
	time.Sleep(300 * time.Millisecond) // let the preflight's garbage settle
	idle, err := treeMemory(p.cmd.Process.Pid)
	if err != nil {
		rd.Error = err.Error()
		return rd
	}
	rd.IdleKiB = idle.rss
	for _, c := range h.Conns {
		lr, err := h.drive(ctx, p, c)
		if err != nil {
			rd.Error = err.Error()
			return rd
		}
		log.Printf("round %d/%d %-7s %s", n, h.Rounds, s.key, lr.summary)
		rd.Loads = append(rd.Loads, lr)
	}
	if m, err := treeMemory(p.cmd.Process.Pid); err == nil {
		rd.PeakKiB = m.hwm
	}
	return rd
}

// drive runs the load generator against p at c connections, sampling the
// server's resident memory through the measured window and the CPU time
// that the server and the harness used in it.
func (h *harness) drive(ctx context.Context, p *proc, c int) (loadRun, error) {
	pid := p.cmd.Process.Pid
	done := make(chan struct{})
	type sample struct {
		maxRSS                int64
		serverCPU, harnessCPU time.Duration
	}
	sampled := make(chan sample, 1)
	go func() {
		var s sample
		defer func() { sampled <- s }()
		select {
		case <-done:
			return
		case <-time.After(h.Warmup):
		}
		server0, err := treeCPU(pid)
		harness0 := selfCPU()
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			if m, err := treeMemory(pid); err == nil {
				s.maxRSS = max(s.maxRSS, m.rss)
			}
			select {
			case <-done:
				if server1, err1 := treeCPU(pid); err == nil && err1 == nil {
					s.serverCPU, s.harnessCPU = server1-server0, selfCPU()-harness0
				}
				return
			case <-tick.C:
			}
		}
	}()
	r, err := load.Run(ctx, load.Config{
		URL:         p.base + webhookPath,
		Body:        h.body,
		Header:      requestHeader(secret),
		Stamp:       []byte(h.Stamp),
		Connections: c,
		Warmup:      h.Warmup,
		Duration:    h.Duration,
	})
	close(done)
	s := <-sampled
	if err != nil {
		return loadRun{}, err
	}
	lr := loadRun{
		Conns:   c,
		RPS:     r.RPS(),
		P50:     r.Latency.Quantile(0.5),
		P99:     r.Latency.Quantile(0.99),
		P999:    r.Latency.Quantile(0.999),
		OK:      r.OK,
		Failure: r.Failure(),
		RSSKiB:  s.maxRSS,
	}
	if r.OK > 0 {
		lr.ServerCPU = s.serverCPU / time.Duration(r.OK)
		lr.LoadCPU = s.harnessCPU / time.Duration(r.OK)
	}
	lr.summary = fmt.Sprintf("%s cpu/req server=%v load=%v", r, lr.ServerCPU, lr.LoadCPU)
	return lr, nil
}
