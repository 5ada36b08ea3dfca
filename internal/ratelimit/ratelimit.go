// Package ratelimit limits what one client address may do: a token bucket
// per address, with the address read as a server behind known proxies sees
// it. The relay limits channel creation with it, and the sign-in page the
// operator token's guesses.
package ratelimit

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// maxLimitedAddrs bounds the addresses a Limiter remembers; past
// it, addresses not seen yet share one bucket, so that a flood from many
// addresses costs no more memory and is still limited.
const maxLimitedAddrs = 4096

// A Limiter is a token bucket per client address: burst tokens, one more
// each every. It is safe for concurrent use.
type Limiter struct {
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

// New returns a Limiter of burst tokens per address, one more each every.
func New(burst int, every time.Duration) *Limiter {
	return &Limiter{burst: burst, every: every, buckets: map[string]bucket{}}
}

// Take takes a token for addr at now, or returns how long until there is
// one.
func (l *Limiter) Take(addr string, now time.Time) (wait time.Duration, ok bool) {
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

// Wait returns how long until addr has a token, without taking one: 0 when
// it has one now.
func (l *Limiter) Wait(addr string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, seen := l.buckets[addr]
	if !seen {
		if len(l.buckets) < maxLimitedAddrs {
			return 0
		}
		if b, seen = l.buckets[""]; !seen { // the bucket Take shares past the bound
			return 0
		}
	}
	tokens := min(float64(l.burst), b.tokens+float64(now.Sub(b.at))/float64(l.every))
	if tokens >= 1 {
		return 0
	}
	return time.Duration((1 - tokens) * float64(l.every))
}

// pruneLocked forgets the addresses whose bucket is full again; l.mu must
// be held.
func (l *Limiter) pruneLocked(now time.Time) {
	for addr, b := range l.buckets {
		if b.tokens+float64(now.Sub(b.at))/float64(l.every) >= float64(l.burst) {
			delete(l.buckets, addr)
		}
	}
}

// ClientAddr is the address r came from, as a Limiter counts it: the
// trusted-th address from the end of X-Forwarded-For when trusted proxies
// append to it, else the connection's. An IPv6 address counts by its /64,
// which one client usually holds whole.
func ClientAddr(r *http.Request, trusted int) string {
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
