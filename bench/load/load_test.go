package load

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testSecret = "bench-secret"

var testBody = []byte(`{"event":{"action":"create","scope":"repo"}}`)

// server is an httptest server that checks every request the generator
// sends and counts them, and the connections they came on.
type server struct {
	*httptest.Server
	requests atomic.Int64
	mu       sync.Mutex
	conns    map[string]bool
	bad      atomic.Value // string: why a request was wrong
}

// newServer starts a server whose handler answers after the request has
// been checked and counted; n is the request's number, from 1.
func newServer(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, n int64)) *server {
	t.Helper()
	s := &server{conns: map[string]bool{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		switch {
		case err != nil:
			s.bad.Store("reading body: " + err.Error())
		case r.Method != http.MethodPost || r.URL.Path != "/webhooks/inbox":
			s.bad.Store("request " + r.Method + " " + r.URL.Path)
		case !bytes.Equal(body, testBody):
			s.bad.Store("body " + string(body))
		case r.Header.Get("X-Webhook-Secret") != testSecret || r.Header.Get("Content-Type") != "application/json":
			s.bad.Store("headers " + strings.Join([]string{r.Header.Get("X-Webhook-Secret"), r.Header.Get("Content-Type")}, ","))
		}
		s.mu.Lock()
		s.conns[r.RemoteAddr] = true
		s.mu.Unlock()
		answer(w, r, s.requests.Add(1))
	}))
	t.Cleanup(s.Close)
	t.Cleanup(func() {
		if bad := s.bad.Load(); bad != nil {
			t.Errorf("the server got a bad request: %s", bad)
		}
	})
	return s
}

func (s *server) connCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func ok(w http.ResponseWriter, _ *http.Request, _ int64) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"status":"received"}`)
}

func config(s *server, conns int, warmup, d time.Duration) Config {
	h := http.Header{}
	h.Set("X-Webhook-Secret", testSecret)
	h.Set("Content-Type", "application/json")
	return Config{URL: s.URL + "/webhooks/inbox", Body: testBody, Header: h, Connections: conns, Warmup: warmup, Duration: d}
}

func run(t *testing.T, cfg Config) *Result {
	t.Helper()
	res, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res)
	return res
}

// Every request is answered 200 on one keep-alive connection per worker;
// every response is counted once, with its latency.
func TestRunAllOK(t *testing.T) {
	s := newServer(t, ok)
	res := run(t, config(s, 4, 0, 300*time.Millisecond))
	if res.Failed() || res.Failure() != "" {
		t.Fatalf("run failed: %s", res.Failure())
	}
	if res.OK == 0 || res.OK != s.requests.Load() {
		t.Errorf("OK = %d, the server answered %d", res.OK, s.requests.Load())
	}
	if got := int64(res.Latency.Count()); got != res.OK {
		t.Errorf("%d latencies for %d responses", got, res.OK)
	}
	if res.Elapsed < 300*time.Millisecond || res.Elapsed > 2*time.Second {
		t.Errorf("Elapsed = %v for a 300ms window", res.Elapsed)
	}
	if want := float64(res.OK) / res.Elapsed.Seconds(); res.RPS() != want {
		t.Errorf("RPS = %v, want %v", res.RPS(), want)
	}
	if n := s.connCount(); n != 4 {
		t.Errorf("the server saw %d connections, want 4 (keep-alive)", n)
	}
}

// Requests of the warm-up are sent but not counted.
func TestRunWarmupNotCounted(t *testing.T) {
	s := newServer(t, ok)
	res := run(t, config(s, 2, 200*time.Millisecond, 200*time.Millisecond))
	if res.Failed() {
		t.Fatalf("run failed: %s", res.Failure())
	}
	if served := s.requests.Load(); res.OK == 0 || res.OK >= served {
		t.Errorf("OK = %d, the server answered %d: warm-up requests were counted", res.OK, served)
	}
}

// Latency is measured from write to the end of the response.
func TestRunLatency(t *testing.T) {
	const delay = 5 * time.Millisecond
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		time.Sleep(delay)
		ok(w, r, n)
	})
	res := run(t, config(s, 2, 0, 200*time.Millisecond))
	if res.Failed() {
		t.Fatalf("run failed: %s", res.Failure())
	}
	if p50 := res.Latency.Quantile(0.5); p50 < delay || p50 > delay+200*time.Millisecond {
		t.Errorf("p50 = %v for a server that answers in %v", p50, delay)
	}
	if res.Latency.Min() < delay {
		t.Errorf("min latency %v under the server's delay %v", res.Latency.Min(), delay)
	}
	if rps := res.RPS(); rps > 2/delay.Seconds() {
		t.Errorf("%.0f req/s on 2 connections to a server that takes %v a request", rps, delay)
	}
}

// Non-2xx responses are counted by status, apart from the 2xx ones, and
// make the run failed.
func TestRunNon2xx(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		switch {
		case n%3 == 0:
			http.Error(w, "boom", http.StatusInternalServerError)
		case n%5 == 0:
			w.WriteHeader(http.StatusForbidden)
		default:
			ok(w, r, n)
		}
	})
	res := run(t, config(s, 1, 0, 200*time.Millisecond))
	n := s.requests.Load()
	if !res.Failed() {
		t.Fatal("a run with non-2xx responses is not failed")
	}
	// One connection, no warm-up: the server's requests are the run's.
	want500 := n / 3
	want403 := n/5 - n/15
	if res.Non2xx[500] != want500 || res.Non2xx[403] != want403 || len(res.Non2xx) != 2 {
		t.Errorf("Non2xx = %v, want 500:%d 403:%d", res.Non2xx, want500, want403)
	}
	if res.OK+res.NonOK() != n || res.Errors != 0 {
		t.Errorf("OK %d + non-2xx %d, errors %d; the server answered %d", res.OK, res.NonOK(), res.Errors, n)
	}
	if int64(res.Latency.Count()) != res.OK {
		t.Errorf("%d latencies for %d 2xx responses", res.Latency.Count(), res.OK)
	}
	f := res.Failure()
	if !strings.Contains(f, "×500") || !strings.Contains(f, "×403") {
		t.Errorf("Failure() = %q, want the count of each status", f)
	}
}

// Requests that get no response are errors, counted apart, and the
// connection is dialled again.
func TestRunErrors(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		if n%2 == 0 {
			c, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				c.Close()
			}
			return
		}
		ok(w, r, n)
	})
	res := run(t, config(s, 2, 0, 200*time.Millisecond))
	if !res.Failed() || res.Errors == 0 || res.FirstError == "" {
		t.Fatalf("errors %d (%q), failed %v: want errors counted", res.Errors, res.FirstError, res.Failed())
	}
	if res.OK == 0 || res.NonOK() != 0 {
		t.Errorf("OK %d, non-2xx %d: want OK > 0 and no non-2xx", res.OK, res.NonOK())
	}
	if !strings.Contains(res.Failure(), "errors") {
		t.Errorf("Failure() = %q", res.Failure())
	}
}

// A request that outlives the timeout is an error, and the run still ends
// on time.
func TestRunTimeout(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	})
	cfg := config(s, 1, 0, 100*time.Millisecond)
	cfg.Timeout = 50 * time.Millisecond
	start := time.Now()
	res := run(t, cfg)
	if res.Errors == 0 || res.OK != 0 {
		t.Errorf("errors %d, OK %d: want only errors", res.Errors, res.OK)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("the run took %v", took)
	}
}

// A server that closes each connection (Connection: close) costs a dial
// per request but no errors.
func TestRunConnectionClose(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		w.Header().Set("Connection", "close")
		ok(w, r, n)
	})
	res := run(t, config(s, 2, 0, 100*time.Millisecond))
	if res.Failed() || res.OK == 0 {
		t.Fatalf("OK %d, failure %q", res.OK, res.Failure())
	}
	if n := s.connCount(); int64(n) != res.OK {
		t.Errorf("%d connections for %d requests, want one each", n, res.OK)
	}
}

// The count cap stops the run before its time.
func TestRunMaxRequests(t *testing.T) {
	s := newServer(t, ok)
	cfg := config(s, 3, 0, 5*time.Second)
	cfg.MaxRequests = 50
	start := time.Now()
	res := run(t, cfg)
	if res.OK != 50 || s.requests.Load() != 50 {
		t.Errorf("OK %d, served %d, want 50", res.OK, s.requests.Load())
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("the run took %v with a cap of 50 requests", took)
	}
}

// The generator sends nothing to an address off the loopback interface,
// and refuses an invalid configuration.
func TestRunRefuses(t *testing.T) {
	valid := Config{URL: "http://127.0.0.1:1/x", Connections: 1, Duration: time.Millisecond}
	for name, mutate := range map[string]func(*Config){
		"private IP":     func(c *Config) { c.URL = "http://10.0.0.1:8080/webhooks/inbox" },
		"public IP":      func(c *Config) { c.URL = "http://8.8.8.8:80/" },
		"host name":      func(c *Config) { c.URL = "http://example.com:80/" },
		"unspecified":    func(c *Config) { c.URL = "http://0.0.0.0:80/" },
		"https":          func(c *Config) { c.URL = "https://127.0.0.1:443/" },
		"no port":        func(c *Config) { c.URL = "http://127.0.0.1/" },
		"no connections": func(c *Config) { c.Connections = 0 },
		"no duration":    func(c *Config) { c.Duration = 0 },
		"negative warm":  func(c *Config) { c.Warmup = -time.Second },
	} {
		t.Run(name, func(t *testing.T) {
			cfg := valid
			mutate(&cfg)
			if _, err := Run(context.Background(), cfg); err == nil {
				t.Errorf("Run(%+v) = nil error", cfg)
			}
		})
	}
	for _, u := range []string{"http://127.0.0.1:8080/a?b=c", "http://127.1.2.3:80/", "http://[::1]:80/"} {
		if _, _, err := loopbackAddr(u); err != nil {
			t.Errorf("loopbackAddr(%q): %v", u, err)
		}
	}
}

// Connections refused by the server are errors, paced so that they do not
// spin, and the run ends on time.
func TestRunRefusedConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/"
	ln.Close()
	res, err := Run(context.Background(), Config{URL: url, Connections: 2, Duration: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Failed() || res.Errors == 0 || res.Errors > 2*int64(100*time.Millisecond/errorPause)+2 {
		t.Errorf("errors %d: want a few, paced by %v", res.Errors, errorPause)
	}
}

// With a Stamp, every request carries a distinct body, the same as Body
// but for the stamp, across runs too; a Stamp not in Body is refused.
func TestRunStamp(t *testing.T) {
	body := []byte(`{"comment":{"id":"6399f58518721fdd27fc9caa"},"n":"6399f58518721fdd27fc9caa"}`)
	var mu sync.Mutex
	seen := map[string]bool{}
	var bad atomic.Value
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		prefix, suffix := `{"comment":{"id":"`, `"},"n":"6399f58518721fdd27fc9caa"}`
		if len(b) != len(body) || !bytes.HasPrefix(b, []byte(prefix)) || !bytes.HasSuffix(b, []byte(suffix)) {
			bad.Store(string(b))
		}
		mu.Lock()
		if seen[string(b)] {
			bad.Store("repeated " + string(b))
		}
		seen[string(b)] = true
		mu.Unlock()
	}))
	defer ts.Close()
	cfg := Config{URL: ts.URL + "/", Body: body, Stamp: []byte("6399f58518721fdd27fc9caa"), Connections: 4, Duration: 100 * time.Millisecond}
	for range 2 {
		res, err := Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if res.Failed() || res.OK == 0 {
			t.Fatalf("run: %s", res)
		}
	}
	if b := bad.Load(); b != nil {
		t.Errorf("bad body: %s", b)
	}
	if !bytes.Contains(body, cfg.Stamp) {
		t.Error("Run changed the caller's Body")
	}
	cfg.Stamp = []byte("absent")
	if _, err := Run(context.Background(), cfg); err == nil {
		t.Error("a Stamp that is not in Body: nil error")
	}
	b := []byte("xxxx")
	stamp(b, 0x1abcd)
	if string(b) != "abcd" {
		t.Errorf("stamp = %q, want the low digits abcd", b)
	}
}
