package relay

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// maxLimitedAddrs bounds the addresses the creation limit remembers; past
// it, addresses not seen yet share one bucket, so that a flood from many
// addresses costs no more memory and is still limited.
const maxLimitedAddrs = 4096

// limiter is a token bucket per client address: burst tokens, one more
// each every.
type limiter struct {
	burst int
	every time.Duration

	mu      sync.Mutex
	buckets map[string]bucket
}

// bucket is the state of one address: its tokens as of at.
type bucket struct {
	tokens float64
	at     time.Time
}

func newLimiter(burst int, every time.Duration) *limiter {
	return &limiter{burst: burst, every: every, buckets: map[string]bucket{}}
}

// take takes a token for addr at now, or returns how long until there is
// one.
func (l *limiter) take(addr string, now time.Time) (wait time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, seen := l.buckets[addr]
	if !seen && len(l.buckets) >= maxLimitedAddrs {
		l.pruneLocked(now)
		if len(l.buckets) >= maxLimitedAddrs {
			addr = ""
			b, seen = l.buckets[addr]
		}
	}
	if !seen {
		b = bucket{tokens: float64(l.burst), at: now}
	}
	b.tokens = min(float64(l.burst), b.tokens+float64(now.Sub(b.at))/float64(l.every))
	b.at = now
	if b.tokens < 1 {
		l.buckets[addr] = b
		return time.Duration((1 - b.tokens) * float64(l.every)), false
	}
	b.tokens--
	l.buckets[addr] = b
	return 0, true
}

// pruneLocked forgets the addresses whose bucket is full again; l.mu must
// be held.
func (l *limiter) pruneLocked(now time.Time) {
	for addr, b := range l.buckets {
		if b.tokens+float64(now.Sub(b.at))/float64(l.every) >= float64(l.burst) {
			delete(l.buckets, addr)
		}
	}
}

// clientAddr is the address r came from, as the creation limit counts it:
// the n-th address from the end of X-Forwarded-For when n proxies are
// trusted to append to it, else the connection's. An IPv6 address counts
// by its /64, which one client usually holds whole.
func clientAddr(r *http.Request, trusted int) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if trusted > 0 {
		var hops []string
		for _, v := range r.Header.Values("X-Forwarded-For") {
			for h := range strings.SplitSeq(v, ",") {
				hops = append(hops, strings.TrimSpace(h))
			}
		}
		if len(hops) >= trusted {
			host = hops[len(hops)-trusted]
		}
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	if a.Is6() && !a.Is4In6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.Unmap().String()
}
