package hub

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

func TestRetryTransientStatuses(t *testing.T) {
	for _, status := range []int{429, 502, 503, 504} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			c, mux := setup(t)
			var n atomic.Int32
			mux.HandleFunc("/api/settings/webhooks", func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) <= 2 {
					w.WriteHeader(status)
					return
				}
				fmt.Fprint(w, "[]")
			})
			if _, err := c.ListWebhooks(t.Context()); err != nil {
				t.Fatalf("ListWebhooks() error = %v, want success on the third attempt", err)
			}
			if n.Load() != 3 {
				t.Errorf("attempts = %d, want 3", n.Load())
			}
		})
	}
}

func TestRetryResendsBody(t *testing.T) {
	c, mux := setup(t)
	var n atomic.Int32
	mux.HandleFunc("POST /api/settings/webhooks/"+hookID, func(w http.ResponseWriter, r *http.Request) {
		testBody(t, r, `{"watched": [{"type": "user", "name": "u"}]}`)
		if n.Add(1) <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, `{"webhook": `+hookJSON+`}`)
	})
	if _, err := c.UpdateWebhook(t.Context(), hookID, UpdateWebhookOptions{Watched: []WatchedItem{{WatchedUser, "u"}}}); err != nil {
		t.Fatal(err)
	}
	if n.Load() != 3 {
		t.Errorf("attempts = %d, want 3", n.Load())
	}
}

func TestRetryEachSafeMethod(t *testing.T) {
	tests := []struct {
		name string
		call func(*Client) error
	}{
		{"get", func(c *Client) error { _, err := c.GetWebhook(t.Context(), hookID); return err }},
		{"enable", func(c *Client) error { _, err := c.EnableWebhook(t.Context(), hookID); return err }},
		{"disable", func(c *Client) error { _, err := c.DisableWebhook(t.Context(), hookID); return err }},
		{"delete", func(c *Client) error { return c.DeleteWebhook(t.Context(), hookID) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, mux := setup(t)
			var n atomic.Int32
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) == 1 {
					w.WriteHeader(http.StatusBadGateway)
					return
				}
				fmt.Fprint(w, `{"webhook": `+hookJSON+`}`)
			})
			if err := tt.call(c); err != nil {
				t.Fatal(err)
			}
			if n.Load() != 2 {
				t.Errorf("attempts = %d, want 2", n.Load())
			}
		})
	}
}

func TestRetryGivesUpAfterAttempts(t *testing.T) {
	c, mux := setup(t, WithRetry(3, time.Millisecond))
	var n atomic.Int32
	mux.HandleFunc("/api/settings/webhooks", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("X-Error-Message", "slow down")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	_, err := c.ListWebhooks(t.Context())
	if !errors.Is(err, ErrRateLimited) {
		t.Errorf("error = %v, want ErrRateLimited", err)
	}
	if n.Load() != 3 {
		t.Errorf("attempts = %d, want 3", n.Load())
	}
}

func TestNoRetryOnOtherStatuses(t *testing.T) {
	for _, status := range []int{400, 401, 404, 500} {
		c, mux := setup(t)
		var n atomic.Int32
		mux.HandleFunc("/api/settings/webhooks", func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			w.WriteHeader(status)
		})
		if _, err := c.ListWebhooks(t.Context()); err == nil {
			t.Fatalf("status %d: no error", status)
		}
		if n.Load() != 1 {
			t.Errorf("status %d: attempts = %d, want 1", status, n.Load())
		}
	}
}

func TestCreateIsNeverRetried(t *testing.T) {
	c, mux := setup(t)
	var n atomic.Int32
	mux.HandleFunc("/api/settings/webhooks", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	_, err := c.CreateWebhook(t.Context(), CreateWebhookOptions{URL: "https://x.example", Watched: []WatchedItem{{WatchedUser, "u"}}})
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("error = %v, want a 503 *Error", err)
	}
	if n.Load() != 1 {
		t.Errorf("attempts = %d, want 1", n.Load())
	}
}

func TestCreateNotRetriedOnConnectionError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var accepted atomic.Int32
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			conn.Close() // drop the connection without answering
		}
	}()
	defer l.Close()
	clearEnv(t)
	c, err := NewClient(WithEndpoint("http://"+l.Addr().String()), WithRetry(4, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateWebhook(t.Context(), CreateWebhookOptions{URL: "https://x.example", Watched: []WatchedItem{{WatchedUser, "u"}}}); err == nil {
		t.Fatal("CreateWebhook() succeeded against a server that drops connections")
	}
	if accepted.Load() != 1 {
		t.Errorf("connections = %d, want 1", accepted.Load())
	}
	accepted.Store(0)
	if _, err := c.ListWebhooks(t.Context()); err == nil {
		t.Fatal("ListWebhooks() succeeded against a server that drops connections")
	}
	if accepted.Load() != 4 {
		t.Errorf("list connections = %d, want 4 (retried on connection errors)", accepted.Load())
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	// The backoff is 1ms, so only Retry-After can make the client wait ~1s.
	c, mux := setup(t)
	var n atomic.Int32
	var first time.Time
	var gap time.Duration
	mux.HandleFunc("/api/settings/webhooks", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			first = time.Now()
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		gap = time.Since(first)
		fmt.Fprint(w, "[]")
	})
	if _, err := c.ListWebhooks(t.Context()); err != nil {
		t.Fatal(err)
	}
	if gap < 900*time.Millisecond {
		t.Errorf("second attempt after %v, want about 1s (Retry-After: 1)", gap)
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		value  string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"2", 2 * time.Second, true},
		{"0", 0, true},
		{"-1", 0, false},
		{"3600", maxRetryAfter, true},
		{now.Add(5 * time.Second).Format(http.TimeFormat), 5 * time.Second, true},
		{now.Add(-5 * time.Second).Format(http.TimeFormat), 0, true},
		{now.Add(time.Hour).Format(http.TimeFormat), maxRetryAfter, true},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.value != "" {
			h.Set("Retry-After", tt.value)
		}
		got, ok := retryAfter(h, now)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("retryAfter(%q) = %v, %t; want %v, %t", tt.value, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestBackoffGrowsCappedWithJitter(t *testing.T) {
	c := &Client{backoff: time.Second}
	for attempt, base := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 5: maxBackoff, 30: maxBackoff} {
		seen := map[time.Duration]bool{}
		for range 50 {
			d := c.backoffFor(attempt)
			if d < base/2 || d > base {
				t.Fatalf("backoffFor(%d) = %v, want in [%v, %v]", attempt, d, base/2, base)
			}
			seen[d] = true
		}
		if len(seen) < 2 {
			t.Errorf("backoffFor(%d) always %v: no jitter", attempt, seen)
		}
	}
}

func TestRetryStopsWhenContextDone(t *testing.T) {
	c, mux := setup(t, WithRetry(10, time.Hour)) // a wait only cancellation can end
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var n atomic.Int32
	mux.HandleFunc("/api/settings/webhooks", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable)
		time.AfterFunc(20*time.Millisecond, cancel)
	})
	start := time.Now()
	_, err := c.ListWebhooks(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
	var apiErr *Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("error = %v, want it to carry the last 503", err)
	}
	if n.Load() != 1 {
		t.Errorf("attempts = %d, want 1", n.Load())
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %v after cancellation", time.Since(start))
	}
}
