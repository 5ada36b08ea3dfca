// Command relay measures the relay (package relay, "hfhooks relay"): the
// latency one hop through a relay channel adds to a delivery (p50, p99)
// and the deliveries per second through one channel, against direct POSTs
// to the same local server in the same run; then the relay's memory under
// the abuse cases of issue 14: a channel flood from many addresses, and
// connections to channels with a listener that send 1 MiB bodies which
// never complete, announce 1 MiB and send nothing, or send nothing at all.
//
// The relay runs in a child process (this program, re-executed), so that
// its resident memory (VmRSS, VmHWM in /proc/PID/status) is its own; the
// listener and the local server run in this process, on loopback. Linux
// only.
//
// Usage:
//
//	(cd bench && go run ./relay) [-n 2000] [-c 16] [-duration 5s] [-abusers 300]
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hfhooks/hfhooks/relay"
)

func main() {
	serveAddr := flag.String("serve", "", "run the relay on `ADDR` (the child process)")
	n := flag.Int("n", 2000, "deliveries for the latency, each way")
	c := flag.Int("c", relay.DefaultMaxPending, "concurrent senders for the throughput")
	duration := flag.Duration("duration", 5*time.Second, "length of each throughput window")
	abusers := flag.Int("abusers", 300, "connections in each abuse case")
	flag.Parse()
	if *serveAddr != "" {
		serveRelay(*serveAddr)
		return
	}
	child, relayURL, err := startRelay()
	if err != nil {
		log.Fatal(err)
	}
	defer child.stop()
	local := startLocal()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The first channel carries the measured deliveries; all take abuse.
	var channels []relay.Channel
	for range abusedChannels {
		channels = append(channels, listen(ctx, relayURL, local+"/webhooks/bench"))
	}
	ch := channels[0]

	body := payload()
	direct, via := local+"/webhooks/bench", ch.URL
	fmt.Printf("# relay hop, loopback, %d-byte body; relay in a child process, listener and local server in this one\n\n", len(body))
	latency(direct, via, body, *n)
	throughput(direct, via, body, *c, *duration)
	fmt.Printf("\nrelay after the runs: VmRSS %s\n\n", child.mem("VmRSS"))

	fmt.Printf("# abuse, %d connections per case (limits at their defaults)\n\n", *abusers)
	fmt.Printf("relay at rest: VmRSS %s\n", child.mem("VmRSS"))
	flood(relayURL, *abusers)
	fmt.Printf("  relay: VmRSS %s, peak VmHWM %s\n", child.mem("VmRSS"), child.mem("VmHWM"))
	bodies(relayURL, channels, *abusers)
	fmt.Printf("  relay: VmRSS %s, peak VmHWM %s\n", child.mem("VmRSS"), child.mem("VmHWM"))
}

// abusedChannels is how many channels with a listener the abuse spreads
// over: enough for their pending limits together (16 MiB each) to exceed
// the relay's buffer cap (64 MiB).
const abusedChannels = 8

// listen creates a channel and runs a listener on it that forwards to
// target; it returns once the listener is connected.
func listen(ctx context.Context, relayURL, target string) relay.Channel {
	ch, err := relay.CreateChannel(ctx, nil, relayURL, "")
	if err != nil {
		log.Fatal(err)
	}
	connected := make(chan struct{}, 1)
	l := &relay.Listener{RelayURL: relayURL, Channel: ch, ForwardTo: target,
		Logger: slog.New(slog.DiscardHandler), OnConnect: func() { connected <- struct{}{} }}
	go func() { _ = l.Run(ctx) }()
	<-connected
	return ch
}

// serveRelay runs a relay with the defaults of "hfhooks relay" on a Space
// (one trusted proxy, so that the flood can come from many addresses).
func serveRelay(addr string) {
	rs, err := relay.NewServer(relay.WithLogger(slog.New(slog.DiscardHandler)), relay.WithTrustedProxies(1))
	if err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("http://" + ln.Addr().String())
	log.Fatal(rs.Serve(context.Background(), ln))
}

// child is the relay's process.
type child struct{ cmd *exec.Cmd }

// startRelay runs this program as the relay, and returns its URL.
func startRelay() (*child, string, error) {
	cmd := exec.Command(os.Args[0], "-serve", "127.0.0.1:0")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return nil, "", fmt.Errorf("the relay did not start: %w", err)
	}
	return &child{cmd}, strings.TrimSpace(line), nil
}

func (c *child) stop() {
	_ = c.cmd.Process.Kill()
	_ = c.cmd.Wait()
}

// mem returns the field of /proc/PID/status, such as VmRSS, in MiB.
func (c *child) mem(field string) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(c.cmd.Process.Pid) + "/status")
	if err != nil {
		return "?"
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return fmt.Sprintf("%.1f MiB", float64(kb)/1024)
		}
	}
	return "?"
}

// startLocal starts the local server: it reads the body and answers 200,
// so that what is measured is the hop.
func startLocal() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		log.Fatal(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"status":"received"}`)
		})))
	}()
	return "http://" + ln.Addr().String()
}

// payload is a webhook body of the usual size, about 1.5 KB.
func payload() []byte {
	return []byte(`{"event":{"action":"update","scope":"repo.content"},"repo":{"type":"model","name":"acme/bench","id":"6564c2b1b6e2f1a3c0d4e5f6","private":false,"url":{"web":"https://huggingface.co/acme/bench","api":"https://huggingface.co/api/models/acme/bench"},"headSha":"0123456789abcdef0123456789abcdef01234567","owner":{"id":"6564c2b1b6e2f1a3c0d4e5f0"},"tags":["text-generation","transformers","safetensors","en","license:apache-2.0"]},"webhook":{"id":"6564c2b1b6e2f1a3c0d4e5f7","version":3},"updatedRefs":[{"ref":"refs/heads/main","oldSha":"fedcba9876543210fedcba9876543210fedcba98","newSha":"0123456789abcdef0123456789abcdef01234567"}],"updatedConfig":{},"padding":"` + strings.Repeat("x", 900) + `"}`)
}

// post sends body to url and reports the status.
func post(client *http.Client, url string, body []byte) (int, error) {
	resp, err := client.Post(url, "application/json", strings.NewReader(string(body)))
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// latency sends n deliveries each way, one at a time, alternating direct
// and through the relay, and prints p50 and p99 of each and of the
// difference.
func latency(direct, via string, body []byte, n int) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	var d, v []time.Duration
	for i := range 2 * n {
		url, into := direct, &d
		if i%2 == 1 {
			url, into = via, &v
		}
		start := time.Now()
		if code, err := post(client, url, body); err != nil || code != http.StatusOK {
			log.Fatalf("POST %s: %d %v", url, code, err)
		}
		*into = append(*into, time.Since(start))
	}
	dp50, dp99 := percentiles(d)
	vp50, vp99 := percentiles(v)
	fmt.Printf("| one delivery at a time (%d each) | p50 | p99 |\n|---|---|---|\n", n)
	fmt.Printf("| direct POST | %s | %s |\n| through the relay | %s | %s |\n| added by the hop | %s | %s |\n",
		us(dp50), us(dp99), us(vp50), us(vp99), us(vp50-dp50), us(vp99-dp99))
}

func percentiles(ds []time.Duration) (p50, p99 time.Duration) {
	slices.Sort(ds)
	return ds[len(ds)*50/100], ds[len(ds)*99/100]
}

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d.Microseconds())) }

// throughput runs c senders for d against each URL, and prints the
// deliveries per second.
func throughput(direct, via string, body []byte, c int, d time.Duration) {
	fmt.Printf("\n| %d concurrent senders, %s each | deliveries/s | not 200 |\n|---|---|---|\n", c, d)
	var directRate float64
	for _, target := range []struct{ name, url string }{{"direct POST", direct}, {"through one channel", via}} {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c}}
		var ok, failed atomic.Int64
		stop := time.Now().Add(d)
		var wg sync.WaitGroup
		for range c {
			wg.Go(func() {
				for time.Now().Before(stop) {
					if code, err := post(client, target.url, body); err == nil && code == http.StatusOK {
						ok.Add(1)
					} else {
						failed.Add(1)
					}
				}
			})
		}
		wg.Wait()
		rate := float64(ok.Load()) / d.Seconds()
		share := ""
		if directRate == 0 {
			directRate = rate
		} else {
			share = fmt.Sprintf(" (%.0f%% of direct)", 100*rate/directRate)
		}
		fmt.Printf("| %s | %.0f%s | %d |\n", target.name, rate, share, failed.Load())
	}
}

// flood creates n channels, each from another address (X-Forwarded-For,
// which the relay trusts as on a Space), and prints the answers.
func flood(relayURL string, n int) {
	codes := map[int]int{}
	for i := range n {
		req, _ := http.NewRequest(http.MethodPost, relayURL+"/channels", nil)
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			codes[0]++
			continue
		}
		resp.Body.Close()
		codes[resp.StatusCode]++
	}
	fmt.Printf("channel flood, %d creations from %d addresses: answers %v\n", n, n, codes)
}

// bodies opens n connections to the channels, in turn: a third announce
// a 1 MiB body and send all but one byte of it, a third announce it and
// send nothing, a third send nothing at all; all then stall. It prints the
// answers the relay's limits and timeouts give (0: closed without one).
func bodies(relayURL string, channels []relay.Channel, n int) {
	addr := strings.TrimPrefix(relayURL, "http://")
	const size = 1 << 20
	chunk := make([]byte, size-1)
	var mu sync.Mutex
	codes := map[int]int{}
	start := time.Now()
	var wg sync.WaitGroup
	for i := range n {
		path := strings.TrimPrefix(channels[i%len(channels)].URL, relayURL)
		wg.Go(func() {
			code := stalled(addr, path, size, chunk, i%3)
			mu.Lock()
			codes[code]++
			mu.Unlock()
		})
	}
	wg.Wait()
	fmt.Printf("%d connections over %d channels: 1 MiB bodies short of one byte, 1 MiB announced and nothing sent, nothing at all; answers %v within %s\n",
		n, len(channels), codes, time.Since(start).Round(100*time.Millisecond))
}

// stalled opens a connection; with kind 0 it sends the headers of a POST
// announcing size bytes and all of chunk, with 1 those headers only, with
// 2 nothing. It then waits for the answer and returns its status, 0 when
// the connection closed without one.
func stalled(addr, path string, size int, chunk []byte, kind int) int {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return 0
	}
	defer c.Close()
	if kind < 2 {
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, addr, size)
	}
	if kind == 0 {
		go func() { _, _ = c.Write(chunk) }()
	}
	_ = c.SetReadDeadline(time.Now().Add(time.Minute))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}
