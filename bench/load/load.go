// Package load is the benchmark's load generator. A fixed number of
// keep-alive connections each POST the same body to one URL on the loopback
// interface, one request after the other, as fast as the server answers:
// first for a warm-up that is not measured, then for a measured duration.
//
// Requests are written pre-serialized and responses are read with
// net/http's parser, so the generator spends as little CPU as it can while
// still checking every status code and reading every response body in full.
package load

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for the zero fields of a Config.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultMaxRequests = 50_000_000
)

// errorPause is how long a connection waits after an error before it
// dials again, so that a server that refuses connections is not spun on.
const errorPause = 10 * time.Millisecond

// Config describes one load run.
type Config struct {
	// URL is the http:// URL to POST to. Its host must be a loopback IP
	// address (127.0.0.0/8 or ::1): the generator sends nothing elsewhere.
	URL string
	// Body is the request body sent with every request.
	Body []byte
	// Header holds headers added to every request, such as
	// X-Webhook-Secret and Content-Type. Host, Content-Length and
	// Connection are set by the generator.
	Header http.Header
	// Connections is the number of keep-alive connections, each with one
	// request in flight at a time.
	Connections int
	// Warmup is how long the connections send requests before the measured
	// window; those requests count for nothing.
	Warmup time.Duration
	// Duration is the length of the measured window.
	Duration time.Duration
	// Timeout bounds each request, from write to the end of the response
	// (DefaultTimeout when zero).
	Timeout time.Duration
	// MaxRequests caps the number of requests sent, warm-up included, so
	// that a run is bounded in count as well as in time
	// (DefaultMaxRequests when zero).
	MaxRequests int64
	// Stamp, when not empty, makes every body distinct: its first
	// occurrence in Body is overwritten, in each request, with a
	// zero-padded hexadecimal number of the same length that no other
	// request of this process has had (a durable receiver deduplicates
	// identical bodies). Stamp must occur in Body; choose a value that may
	// be any hexadecimal string of its length, such as a Hub object id.
	Stamp []byte
}

// stampSeq numbers the requests of every Run of the process, so that a
// stamped body is never sent twice, even across runs against one server.
var stampSeq atomic.Uint64

// Result is what a run measured. Only requests started within the measured
// window count.
type Result struct {
	// Connections is the concurrency of the run.
	Connections int
	// Elapsed is the length of the measured window, from its start to the
	// end of the last response it counted.
	Elapsed time.Duration
	// OK counts the responses with a 2xx status.
	OK int64
	// Non2xx counts the responses with any other status, by status.
	Non2xx map[int]int64
	// Errors counts the requests that got no response: refused or broken
	// connections, timeouts, malformed responses.
	Errors int64
	// FirstError describes the first error seen, if any.
	FirstError string
	// Latency holds the latency of every response counted in OK, from the
	// request's write to the last byte of the response body.
	Latency Histogram
}

// NonOK returns the number of responses with a status other than 2xx.
func (r *Result) NonOK() int64 {
	var n int64
	for _, c := range r.Non2xx {
		n += c
	}
	return n
}

// Failed reports whether any request of the measured window failed, with
// an error or a non-2xx status. The throughput and latency of a failed run
// are not to be reported as the server's.
func (r *Result) Failed() bool { return r.Errors > 0 || r.NonOK() > 0 }

// RPS returns the successful requests per second of the measured window.
func (r *Result) RPS() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

// Failure describes why the run failed, or returns "" when it did not.
func (r *Result) Failure() string {
	if !r.Failed() {
		return ""
	}
	var parts []string
	if n := r.NonOK(); n > 0 {
		codes := make([]int, 0, len(r.Non2xx))
		for code := range r.Non2xx {
			codes = append(codes, code)
		}
		sort.Ints(codes)
		var byCode []string
		for _, code := range codes {
			byCode = append(byCode, fmt.Sprintf("%d×%d", r.Non2xx[code], code))
		}
		parts = append(parts, fmt.Sprintf("%d non-2xx (%s)", n, strings.Join(byCode, ", ")))
	}
	if r.Errors > 0 {
		parts = append(parts, fmt.Sprintf("%d errors (first: %s)", r.Errors, r.FirstError))
	}
	return strings.Join(parts, "; ")
}

// loopbackAddr checks that rawURL is an http:// URL on a loopback IP
// address and returns its host:port and its request target.
func loopbackAddr(rawURL string) (addr, target string, err error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", "", err
	}
	if u.Scheme != "http" {
		return "", "", fmt.Errorf("load: %s: only http:// URLs are supported", rawURL)
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil || !ip.IsLoopback() {
		return "", "", fmt.Errorf("load: %s: the host must be a loopback IP address such as 127.0.0.1", rawURL)
	}
	if u.Port() == "" {
		return "", "", fmt.Errorf("load: %s: the URL must name a port", rawURL)
	}
	return u.Host, u.RequestURI(), nil
}

// request serializes the HTTP/1.1 request every connection sends.
func request(host, target string, header http.Header, body []byte) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n", target, host, len(body))
	h := header.Clone()
	for _, k := range []string{"Host", "Content-Length", "Connection", "Transfer-Encoding"} {
		h.Del(k)
	}
	if err := h.Write(&b); err != nil {
		panic(err) // strings.Builder does not fail
	}
	b.WriteString("\r\n")
	return append([]byte(b.String()), body...)
}

// Run drives the server at cfg.URL and returns what it measured. It returns
// an error only for an invalid Config; failed requests are counted in the
// Result. Run stops early, with what it has, when ctx is done.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	addr, target, err := loopbackAddr(cfg.URL)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.Connections < 1:
		return nil, errors.New("load: Connections must be at least 1")
	case cfg.Duration <= 0:
		return nil, errors.New("load: Duration must be positive")
	case cfg.Warmup < 0:
		return nil, errors.New("load: Warmup must not be negative")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxRequests <= 0 {
		cfg.MaxRequests = DefaultMaxRequests
	}
	req := request(addr, target, cfg.Header, cfg.Body)
	stampAt, stampLen := -1, len(cfg.Stamp)
	if stampLen > 0 {
		i := bytes.Index(cfg.Body, cfg.Stamp)
		if i < 0 {
			return nil, fmt.Errorf("load: Stamp %q does not occur in Body", cfg.Stamp)
		}
		stampAt = len(req) - len(cfg.Body) + i
	}

	start := time.Now()
	measure := start.Add(cfg.Warmup)
	end := measure.Add(cfg.Duration)
	ctx, cancel := context.WithDeadline(ctx, end.Add(cfg.Timeout))
	defer cancel()

	var sent atomic.Int64
	conns := make([]*conn, cfg.Connections)
	var wg sync.WaitGroup
	for i := range conns {
		c := &conn{addr: addr, req: req, timeout: cfg.Timeout, measure: measure, end: end, stampAt: stampAt, stampLen: stampLen}
		if stampAt >= 0 {
			c.req = bytes.Clone(req) // each connection stamps its own copy
		}
		conns[i] = c
		wg.Go(func() { c.run(ctx, &sent, cfg.MaxRequests) })
	}
	// Close the connections when ctx ends, to unblock reads in progress.
	stop := context.AfterFunc(ctx, func() {
		for _, c := range conns {
			c.abort()
		}
	})
	wg.Wait()
	stop()

	res := &Result{Connections: cfg.Connections, Non2xx: map[int]int64{}}
	last := measure
	for _, c := range conns {
		res.OK += c.ok
		res.Errors += c.errors
		for code, n := range c.non2xx {
			res.Non2xx[code] += n
		}
		if res.FirstError == "" && c.firstErr != nil {
			res.FirstError = c.firstErr.Error()
		}
		res.Latency.Merge(&c.latency)
		if c.lastDone.After(last) {
			last = c.lastDone
		}
	}
	res.Elapsed = last.Sub(measure)
	return res, nil
}

// conn is one connection's loop and its counts.
type conn struct {
	addr         string
	req          []byte
	timeout      time.Duration
	measure, end time.Time
	mu           sync.Mutex // guards nc for abort
	nc           net.Conn
	br           *bufio.Reader
	ok, errors   int64
	non2xx       map[int]int64
	firstErr     error
	latency      Histogram
	lastDone     time.Time
	aborted      bool
	// stampAt is the offset in req of the stamp to overwrite before each
	// request, stampLen its length (stampAt < 0: no stamp).
	stampAt, stampLen int
}

// run sends requests until the window ends, ctx is done or the shared
// count of requests reaches max.
func (c *conn) run(ctx context.Context, sent *atomic.Int64, maxRequests int64) {
	defer c.close()
	for ctx.Err() == nil {
		t0 := time.Now()
		if !t0.Before(c.end) || sent.Add(1) > maxRequests {
			return
		}
		measured := !t0.Before(c.measure)
		code, err := c.do(t0)
		done := time.Now()
		switch {
		case !measured:
		case err != nil:
			if ctx.Err() != nil {
				return // aborted at the deadline: not the server's fault
			}
			c.errors++
			if c.firstErr == nil {
				c.firstErr = err
			}
		case code >= 200 && code <= 299:
			c.ok++
			c.latency.Record(done.Sub(t0))
			c.lastDone = done
		default:
			if c.non2xx == nil {
				c.non2xx = map[int]int64{}
			}
			c.non2xx[code]++
			c.lastDone = done
		}
		if err != nil {
			c.close()
			select {
			case <-ctx.Done():
			case <-time.After(errorPause):
			}
		}
	}
}

// do sends one request, dialling first if needed, and reads the response
// in full. It returns the status code.
func (c *conn) do(t0 time.Time) (int, error) {
	if c.br == nil {
		if err := c.dial(); err != nil {
			return 0, err
		}
	}
	if err := c.nc.SetDeadline(t0.Add(c.timeout)); err != nil {
		return 0, err
	}
	if c.stampAt >= 0 {
		stamp(c.req[c.stampAt:c.stampAt+c.stampLen], stampSeq.Add(1))
	}
	if _, err := c.nc.Write(c.req); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, fmt.Errorf("reading the response body: %w", err)
	}
	if resp.Close {
		c.close() // the server asked to close: dial again next time
	}
	return resp.StatusCode, nil
}

// stamp writes n in hexadecimal into dst, zero-padded to its length (the
// low digits only, if n needs more).
func stamp(dst []byte, n uint64) {
	const digits = "0123456789abcdef"
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = digits[n&0xf]
		n >>= 4
	}
}

func (c *conn) dial() error {
	nc, err := net.DialTimeout("tcp", c.addr, c.timeout)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.aborted {
		nc.Close()
		return errors.New("load: run aborted")
	}
	c.nc, c.br = nc, bufio.NewReaderSize(nc, 16<<10)
	return nil
}

func (c *conn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.nc != nil {
		c.nc.Close()
	}
	c.nc, c.br = nil, nil
}

// abort closes the connection from another goroutine and keeps it from
// dialling again.
func (c *conn) abort() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.aborted = true
	if c.nc != nil {
		c.nc.Close()
	}
}

// String summarizes a result on one line.
func (r *Result) String() string {
	s := fmt.Sprintf("c=%d %.0f req/s p50=%v p99=%v p99.9=%v ok=%d",
		r.Connections, r.RPS(), r.Latency.Quantile(0.5), r.Latency.Quantile(0.99), r.Latency.Quantile(0.999), r.OK)
	if f := r.Failure(); f != "" {
		s += " FAILED: " + f
	}
	return s
}
