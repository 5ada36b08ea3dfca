package ratelimit

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	t.Parallel()
	l := New(2, time.Minute)
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	for i, tt := range []struct {
		addr     string
		at       time.Duration // after now
		ok       bool
		wait     time.Duration // when not ok
		waitNext time.Duration // Wait after the Take
	}{
		{"a", 0, true, 0, 0},
		{"a", 0, true, 0, time.Minute},
		{"a", 30 * time.Second, false, 30 * time.Second, 30 * time.Second},
		{"b", 30 * time.Second, true, 0, 0}, // another address has its own bucket
		{"a", time.Minute, true, 0, time.Minute},
		{"a", 3 * time.Minute, true, 0, 0}, // refilled, up to the burst
		{"a", 3 * time.Minute, true, 0, time.Minute},
	} {
		at := now.Add(tt.at)
		wait, ok := l.Take(tt.addr, at)
		if ok != tt.ok || (!ok && wait != tt.wait) {
			t.Errorf("%d: Take(%s) = %v, %v; want %v, %v", i, tt.addr, wait, ok, tt.wait, tt.ok)
		}
		if got := l.Wait(tt.addr, at); got != tt.waitNext {
			t.Errorf("%d: Wait(%s) after = %v, want %v", i, tt.addr, got, tt.waitNext)
		}
	}
}

// TestLimiterBounded: past maxLimitedAddrs, new addresses share one bucket,
// so that many addresses cost no more memory and are still limited, for
// Take and Wait alike.
func TestLimiterBounded(t *testing.T) {
	t.Parallel()
	l := New(1, time.Hour)
	now := time.Now()
	for i := range maxLimitedAddrs {
		if _, ok := l.Take(fmt.Sprint("full-", i), now); !ok {
			t.Fatalf("address %d refused", i)
		}
	}
	if _, ok := l.Take("new-1", now); !ok {
		t.Fatal("the first address past the bound is refused")
	}
	if _, ok := l.Take("new-2", now); ok {
		t.Error("a second address past the bound has a bucket of its own")
	}
	if l.Wait("new-3", now) == 0 {
		t.Error("Wait lets a new address past the bound through while the shared bucket is empty")
	}
	if len(l.buckets) > maxLimitedAddrs+1 {
		t.Errorf("%d buckets kept, want at most %d", len(l.buckets), maxLimitedAddrs+1)
	}
}

func TestClientAddr(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		remote, forwardedFor string
		trusted              int
		want                 string
	}{
		{"192.0.2.1:4242", "", 0, "192.0.2.1"},
		{"192.0.2.1:4242", "203.0.113.9", 0, "192.0.2.1"}, // the header is ignored without a proxy
		{"10.0.0.1:4242", "198.51.100.7, 203.0.113.9", 1, "203.0.113.9"},
		{"10.0.0.1:4242", "198.51.100.7, 203.0.113.9", 2, "198.51.100.7"},
		{"10.0.0.1:4242", "", 1, "10.0.0.1"}, // fewer hops than proxies: the connection's
		{"[2001:db8:1:2:3:4:5:6]:4242", "", 0, "2001:db8:1:2::/64"},
		{"[::ffff:192.0.2.1]:4242", "", 0, "192.0.2.1"},
		{"pipe", "", 0, "pipe"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = tt.remote
		if tt.forwardedFor != "" {
			r.Header.Set("X-Forwarded-For", tt.forwardedFor)
		}
		if got := ClientAddr(r, tt.trusted); got != tt.want {
			t.Errorf("ClientAddr(%s, X-Forwarded-For %q, %d) = %q, want %q", tt.remote, tt.forwardedFor, tt.trusted, got, tt.want)
		}
	}
}
