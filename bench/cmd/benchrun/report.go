package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hfhooks/hfhooks/bench/internal/wire"
)

// results is everything a benchmark run measured; it is written to
// results.json as it is and summarized by markdown.
type results struct {
	Machine      machine                    `json:"machine"`
	Python       map[string]string          `json:"python,omitempty"`
	Settings     settings                   `json:"settings"`
	PayloadBytes int                        `json:"payloadBytes"`
	Servers      []serverInfo               `json:"servers"`
	Binaries     map[string]int64           `json:"binaryBytes"`
	Startups     map[string][]time.Duration `json:"startupsNs"`
	Rounds       []round                    `json:"rounds"`
	// Ceilings are River's own insert rates, per database and round.
	Ceilings []ceilingRun `json:"ceilings,omitempty"`
	// Fanout is the emulator's delivery rate.
	Fanout []wire.Fanout `json:"fanout,omitempty"`
	// Load is the load average (1, 5 and 15 minutes) at the start and at
	// the end of the run: the machine may be shared.
	LoadStart string `json:"loadStart,omitempty"`
	LoadEnd   string `json:"loadEnd,omitempty"`
	// OthersCPU is the share of the machine's CPU (all cores) that
	// processes other than the benchmark's used while it measured, from
	// /proc/stat less the benchmark's own CPU time; interrupts and softirq
	// work for the benchmark's loopback traffic count as others'.
	OthersCPU float64 `json:"othersCpu"`
	// MeasuredFor is how long the measuring (start-ups, rounds, fan-out)
	// took.
	MeasuredFor time.Duration `json:"measuredNs"`
}

// serverInfo names a server of the run.
type serverInfo struct {
	Key  string `json:"key"`
	Name string `json:"name"`
}

// round is one server's turn in one round.
type round struct {
	Server string `json:"server"`
	Round  int    `json:"round"`
	// Error says why the round could not be run in full (the server did
	// not start, failed the preflight or did not stop).
	Error string `json:"error,omitempty"`
	// IdleKiB is the resident memory before any load, after the preflight.
	IdleKiB int64 `json:"idleKiB"`
	// PeakKiB is the peak resident memory (VmHWM) after the loads.
	PeakKiB int64     `json:"peakKiB"`
	Loads   []loadRun `json:"loads"`
}

// loadRun is one measured run of the load generator.
type loadRun struct {
	Conns   int           `json:"connections"`
	RPS     float64       `json:"rps"`
	P50     time.Duration `json:"p50Ns"`
	P99     time.Duration `json:"p99Ns"`
	P999    time.Duration `json:"p999Ns"`
	OK      int64         `json:"ok"`
	Failure string        `json:"failure,omitempty"`
	// RSSKiB is the largest resident memory sampled in the measured window.
	RSSKiB int64 `json:"rssKiB"`
	// ServerCPU is the CPU time the server used in the measured window
	// (all its processes, user and system), per successful request.
	ServerCPU time.Duration `json:"serverCpuNs"`
	// LoadCPU is the same for the harness, which is mostly the load
	// generator.
	LoadCPU time.Duration `json:"loadCpuNs"`
	summary string        // one line for the progress log
}

// median returns the median of xs (the mean of the middle two for an even
// count), or false when xs is empty.
func median[T int64 | float64 | time.Duration](xs []T) (T, bool) {
	if len(xs) == 0 {
		return 0, false
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2], true
	}
	return (s[n/2-1] + s[n/2]) / 2, true
}

// summary is the medians of one server's successful runs at one concurrency.
type summary struct {
	ok, runs           int
	rps                float64
	minRPS, maxRPS     float64
	p50, p99, p999     time.Duration
	serverCPU, loadCPU time.Duration
	rssKiB             int64
	hasRSS, hasMedians bool
}

// summarize gathers the runs of a server at c connections. A failed run
// counts in runs and in nothing else.
func (r *results) summarize(key string, c int) summary {
	var s summary
	var rps []float64
	var p50, p99, p999, serverCPU, loadCPU []time.Duration
	var rss []int64
	for _, rd := range r.Rounds {
		if rd.Server != key {
			continue
		}
		found := false
		for _, l := range rd.Loads {
			if l.Conns != c {
				continue
			}
			found = true
			s.runs++
			if l.Failure != "" {
				continue
			}
			s.ok++
			rps = append(rps, l.RPS)
			p50, p99, p999 = append(p50, l.P50), append(p99, l.P99), append(p999, l.P999)
			serverCPU, loadCPU = append(serverCPU, l.ServerCPU), append(loadCPU, l.LoadCPU)
			if l.RSSKiB > 0 {
				rss = append(rss, l.RSSKiB)
			}
		}
		if !found && rd.Error != "" {
			s.runs++ // the round broke before this run
		}
	}
	s.rps, s.hasMedians = median(rps)
	if s.hasMedians {
		s.minRPS, s.maxRPS = slices.Min(rps), slices.Max(rps)
	}
	s.p50, _ = median(p50)
	s.p99, _ = median(p99)
	s.p999, _ = median(p999)
	s.serverCPU, _ = median(serverCPU)
	s.loadCPU, _ = median(loadCPU)
	s.rssKiB, s.hasRSS = median(rss)
	return s
}

func (r *results) name(key string) string {
	for _, s := range r.Servers {
		if s.Key == key {
			return s.Name
		}
	}
	return key
}

// markdown renders the results as the tables of docs/benchmarks.md.
func (r *results) markdown() string {
	var b strings.Builder
	st := r.Settings
	m := r.Machine
	fmt.Fprintf(&b, "## Results\n\n")
	fmt.Fprintf(&b, "- Machine: %d × %s (nproc %d), %s, %s, %s, %s.\n", m.CPUs, m.CPU, m.CPUs, m.Memory, m.Kernel, m.OS, m.Go)
	if p := r.Python; p != nil {
		fmt.Fprintf(&b, "- Python server: Python %s, FastAPI %s (Starlette %s), pydantic %s, uvicorn %s, uvloop %s, httptools %s (Debian packages).\n",
			p["python"], p["fastapi"], p["starlette"], p["pydantic"], p["uvicorn"], p["uvloop"], p["httptools"])
	}
	fmt.Fprintf(&b, "- Load: POST `%s` (%d bytes) with `X-Webhook-Secret`, keep-alive, from the load generator on the same machine; "+
		"%s, servers alternating; each run %v warm-up then %v measured. Medians over the rounds; failed runs left out.\n",
		filepath.Base(st.Payload), r.PayloadBytes, plural(st.Rounds, "round"), st.Warmup, st.Duration)
	fmt.Fprintf(&b, "- Started %s%s.\n", m.Started, map[bool]string{true: " (--quick: short runs, noisy numbers)"}[st.Quick])
	if r.LoadStart != "" {
		fmt.Fprintf(&b, "- Machine load: load average %s (1, 5, 15 min) at the start, %s at the end (the benchmark's own processes count in it); "+
			"while it measured (%v), other processes used %.0f%% of the machine's CPU.\n",
			r.LoadStart, r.LoadEnd, r.MeasuredFor.Round(time.Second), 100*r.OthersCPU)
	}

	for _, c := range st.Conns {
		fmt.Fprintf(&b, "\n### %s\n\n", plural(c, "connection"))
		b.WriteString("| server | req/s (min–max) | vs limit | vs Python (2 workers) | p50 | p99 | p99.9 | server CPU/req | load CPU/req | runs ok |\n")
		b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
		limit, py := r.summarize(limitKey, c), r.summarize(pythonKey, c)
		for _, srv := range r.Servers {
			s := r.summarize(srv.Key, c)
			if !s.hasMedians {
				fmt.Fprintf(&b, "| %s | failed | | | | | | | | %d/%d |\n", srv.Name, s.ok, s.runs)
				continue
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %d/%d |\n", srv.Name, spread(s),
				ratio(s.rps, limit, "%.0f%%", 100), ratio(s.rps, py, "%.2f×", 1),
				ms(s.p50), ms(s.p99), ms(s.p999), us(s.serverCPU), us(s.loadCPU), s.ok, s.runs)
		}
	}
	r.targets(&b)
	r.durable(&b)
	r.fanout(&b)
	r.resources(&b)
	r.perRound(&b)
	r.failures(&b)
	return b.String()
}

// ceiling returns the median insert rate of River into db at batch size
// batch over the rounds, its median CPU time per job, and how many
// measurements succeeded of how many.
func (r *results) ceiling(db string, batch int) (rate float64, cpu time.Duration, ok, runs int) {
	var rates []float64
	var cpus []time.Duration
	for _, c := range r.Ceilings {
		if c.DB != db || c.Batch != batch {
			continue
		}
		runs++
		if c.Error == "" {
			rates = append(rates, c.Rate)
			cpus = append(cpus, time.Duration(c.CPUPerJob))
		}
	}
	rate, _ = median(rates)
	cpu, _ = median(cpus)
	return rate, cpu, len(rates), runs
}

// durable quotes the durable rows against River's own insert rate into the
// same kind of database, measured in the same run, at the headline
// concurrency; the target is at least 70% of the batches-of-100 ceiling
// with a p99 under 25 ms.
func (r *results) durable(b *strings.Builder) {
	c := r.Settings.Conns[0]
	var lines, targets []string
	for _, srv := range r.Servers {
		sv, ok := serverByKey(srv.Key)
		if !ok || sv.db == "" {
			continue
		}
		c100, cpu100, ok100, runs100 := r.ceiling(sv.db, 100)
		c32, _, _, _ := r.ceiling(sv.db, 32)
		s := r.summarize(srv.Key, c)
		acks, share100, share32 := "failed", "–", "–"
		if s.hasMedians {
			acks = spread(s)
			if c100 > 0 {
				share100 = fmt.Sprintf("%.0f%%", 100*s.rps/c100)
			}
			if c32 > 0 {
				share32 = fmt.Sprintf("%.0f%%", 100*s.rps/c32)
			}
		}
		p99, cpu := "–", "–"
		if s.hasMedians {
			p99, cpu = ms(s.p99), us(s.serverCPU)
		}
		lines = append(lines, fmt.Sprintf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %d/%d |",
			srv.Name, acks, p99, cpu, thousands(c100), share100, thousands(c32), share32, us(cpu100), ok100, runs100))
		if s.hasMedians && c100 > 0 {
			share := s.rps / c100
			targets = append(targets, fmt.Sprintf("- %s: %.0f%% of River's InsertMany×100 into %s (target ≥ 70%%: %s), p99 ack %s (target < 25 ms: %s).",
				srv.Name, 100*share, sv.db, met(share >= 0.7), ms(s.p99), met(s.p99 < 25*time.Millisecond)))
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(b, "\n### Durable rows against River's own insert rate (%s)\n\n", plural(c, "connection"))
	b.WriteString("| server | acks/s (min–max) | p99 ack | server CPU/ack | River InsertMany×100 jobs/s | share | River InsertMany×32 jobs/s | share | River CPU/job (×100) | ceiling runs ok |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	b.WriteString(strings.Join(lines, "\n") + "\n")
	if len(targets) > 0 {
		b.WriteString("\n" + strings.Join(targets, "\n") + "\n")
	}
}

// fanout renders the emulator's delivery rates.
func (r *results) fanout(b *strings.Builder) {
	if len(r.Fanout) == 0 {
		return
	}
	fmt.Fprintf(b, "\n### Emulator (hubtest) delivering to a local receiver\n\n")
	b.WriteString("| pattern | webhooks | events | deliveries | deliveries/s | not received |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|\n")
	for _, f := range r.Fanout {
		fmt.Fprintf(b, "| %s | %d | %s | %s | %s | %d |\n", f.Pattern, f.Webhooks, thousands(float64(f.Events)),
			thousands(float64(f.Deliveries)), thousands(f.Rate), f.Missing)
	}
}

// perRound renders every round's requests/s at the headline concurrency.
func (r *results) perRound(b *strings.Builder) {
	c := r.Settings.Conns[0]
	fmt.Fprintf(b, "\n### Per round, at %s (requests/s)\n\n| round |", plural(c, "connection"))
	for _, srv := range r.Servers {
		b.WriteString(" " + srv.Name + " |")
	}
	b.WriteString("\n|---:|" + strings.Repeat("---:|", len(r.Servers)) + "\n")
	for n := 1; n <= r.Settings.Rounds; n++ {
		fmt.Fprintf(b, "| %d |", n)
		for _, srv := range r.Servers {
			cell := " |"
			for _, rd := range r.Rounds {
				if rd.Server != srv.Key || rd.Round != n {
					continue
				}
				cell = " failed |"
				for _, l := range rd.Loads {
					if l.Conns == c && l.Failure == "" {
						cell = " " + thousands(l.RPS) + " |"
					}
				}
			}
			b.WriteString(cell)
		}
		b.WriteString("\n")
	}
}

// spread formats the median requests/s with the range over the rounds.
func spread(s summary) string {
	if s.ok == 1 {
		return thousands(s.rps)
	}
	return fmt.Sprintf("%s (%s–%s)", thousands(s.rps), thousands(s.minRPS), thousands(s.maxRPS))
}

// ratio formats x/base.rps, scaled, or "–" without a base.
func ratio(x float64, base summary, format string, scale float64) string {
	if !base.hasMedians || base.rps == 0 {
		return "–"
	}
	return fmt.Sprintf(format, scale*x/base.rps)
}

// targets checks the goals of the benchmark issue at the headline
// concurrency: at least 70% of limit, at least 4× Python (2 workers), p99
// under 10 ms.
func (r *results) targets(b *strings.Builder) {
	c := r.Settings.Conns[0]
	limit, py := r.summarize(limitKey, c), r.summarize(pythonKey, c)
	if !limit.hasMedians || !py.hasMedians {
		return
	}
	fmt.Fprintf(b, "\n### Targets at %s\n\n", plural(c, "connection"))
	for _, key := range []string{headlineKey, profileKey} {
		s := r.summarize(key, c)
		if !s.hasMedians {
			continue
		}
		vsLimit, vsPy := s.rps/limit.rps, s.rps/py.rps
		fmt.Fprintf(b, "- %s: %.0f%% of limit (target ≥ 70%%: %s), %.2f× Python (2 workers) (target ≥ 4×: %s), p99 %s (target < 10 ms: %s).\n",
			r.name(key), 100*vsLimit, met(vsLimit >= 0.7), vsPy, met(vsPy >= 4), ms(s.p99), met(s.p99 < 10*time.Millisecond))
	}
}

func met(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

// resources renders start-up time, memory and binary size.
func (r *results) resources(b *strings.Builder) {
	c := r.Settings.Conns[0]
	fmt.Fprintf(b, "\n### Start-up and memory\n\n")
	fmt.Fprintf(b, "| server | start-up (median of %d) | RSS idle | RSS under load (%s) | peak RSS (VmHWM) | binary |\n", r.Settings.Startups, plural(c, "conn"))
	b.WriteString("|---|---:|---:|---:|---:|---:|\n")
	for _, srv := range r.Servers {
		var idle, peak []int64
		for _, rd := range r.Rounds {
			if rd.Server == srv.Key && rd.IdleKiB > 0 {
				idle = append(idle, rd.IdleKiB)
			}
			if rd.Server == srv.Key && rd.PeakKiB > 0 {
				peak = append(peak, rd.PeakKiB)
			}
		}
		startup := "–"
		if d, ok := median(r.Startups[srv.Key]); ok {
			startup = ms(d)
		}
		loaded := "–"
		if s := r.summarize(srv.Key, c); s.hasRSS {
			loaded = mib(s.rssKiB)
		}
		binary := "n/a (interpreter)"
		if sv, ok := serverByKey(srv.Key); ok && sv.binary != "" {
			binary = fmt.Sprintf("%.1f MiB", float64(r.Binaries[sv.binary])/(1<<20))
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s |\n", srv.Name, startup, medianMiB(idle), loaded, medianMiB(peak), binary)
	}
}

// failures lists the failed runs and rounds.
func (r *results) failures(b *strings.Builder) {
	var lines []string
	for _, rd := range r.Rounds {
		if rd.Error != "" {
			lines = append(lines, fmt.Sprintf("- round %d, %s: %s", rd.Round, r.name(rd.Server), firstLine(rd.Error)))
		}
		for _, l := range rd.Loads {
			if l.Failure != "" {
				lines = append(lines, fmt.Sprintf("- round %d, %s, %s: %s", rd.Round, r.name(rd.Server), plural(l.Conns, "connection"), l.Failure))
			}
		}
	}
	if len(lines) > 0 {
		fmt.Fprintf(b, "\n### Failed runs (left out of the medians)\n\n%s\n", strings.Join(lines, "\n"))
	}
}

func serverByKey(key string) (server, bool) {
	i := slices.IndexFunc(servers, func(s server) bool { return s.key == key })
	if i < 0 {
		return server{}, false
	}
	return servers[i], true
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// ms formats a latency: in µs under a millisecond, else in ms.
func ms(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%d µs", d.Round(time.Microsecond)/time.Microsecond)
	}
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}

// us formats a CPU time per request in µs.
func us(d time.Duration) string {
	return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond))
}

func mib(kib int64) string { return fmt.Sprintf("%.1f MiB", float64(kib)/1024) }

func medianMiB(kib []int64) string {
	m, ok := median(kib)
	if !ok {
		return "–"
	}
	return mib(m)
}

// thousands formats x rounded, with comma separators: 12,345.
func thousands(x float64) string {
	s := fmt.Sprintf("%.0f", x)
	var out []string
	for len(s) > 3 {
		out = append([]string{s[len(s)-3:]}, out...)
		s = s[:len(s)-3]
	}
	return strings.Join(append([]string{s}, out...), ",")
}
