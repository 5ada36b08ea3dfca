package queue

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks"
)

// captured is a slog.Handler that keeps the records at or above its level.
type captured struct {
	level slog.Level
	mu    sync.Mutex
	recs  []slog.Record
	attrs []slog.Attr // from WithAttrs
}

func (c *captured) Enabled(_ context.Context, l slog.Level) bool { return l >= c.level }

func (c *captured) Handle(_ context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(c.attrs...)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recs = append(c.recs, r)
	return nil
}

func (c *captured) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &sharedCapture{c, attrs}
}

func (c *captured) WithGroup(string) slog.Handler { return c }

// sharedCapture is a captured with attributes, recording into its parent.
type sharedCapture struct {
	*captured
	attrs []slog.Attr
}

func (s *sharedCapture) Handle(ctx context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(s.attrs...)
	return s.captured.Handle(ctx, r)
}

func (s *sharedCapture) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &sharedCapture{s.captured, append(append([]slog.Attr(nil), s.attrs...), attrs...)}
}

// lines returns the records as level, message and attributes.
func (c *captured) lines() []logLine {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []logLine
	for _, r := range c.recs {
		l := logLine{level: r.Level, msg: r.Message, attrs: map[string]string{}}
		r.Attrs(func(a slog.Attr) bool {
			l.attrs[a.Key] = a.Value.String()
			return true
		})
		out = append(out, l)
	}
	return out
}

type logLine struct {
	level slog.Level
	msg   string
	attrs map[string]string
}

// TestOutcomeLogs: at info, the queue logs one line per attempt's outcome,
// at the level of its gravity, and nothing of River's.
func TestOutcomeLogs(t *testing.T) {
	forEachBackend(t, func(t *testing.T, bc backendCase) {
		logs := &captured{level: slog.LevelInfo}
		var flaky atomic.Int32
		q := openQueue(t, bc, WithMaxAttempts(2), WithLogger(slog.New(logs)))
		d := startDurable(t, q, map[string]hfhooks.HandlerFunc{
			"ok": func(context.Context, *hfhooks.Delivery) (any, error) { return nil, nil },
			"flaky": func(context.Context, *hfhooks.Delivery) (any, error) {
				if flaky.Add(1) == 1 {
					return nil, errors.New("cluster down")
				}
				return nil, nil
			},
			"down": func(context.Context, *hfhooks.Delivery) (any, error) { return nil, errors.New("still down") },
		})
		ok := send(t, d.url+"/webhooks/ok", payload(t, "acme/ok"), nil)
		fl := send(t, d.url+"/webhooks/flaky", payload(t, "acme/flaky"), nil)
		down := send(t, d.url+"/webhooks/down", payload(t, "acme/down"), nil)
		waitFor(t, d.url, ok.ID, hfhooks.StateSucceeded)
		waitFor(t, d.url, fl.ID, hfhooks.StateSucceeded)
		waitFor(t, d.url, down.ID, hfhooks.StateFailed)

		type want struct {
			level slog.Level
			msg   string
			attrs map[string]string
		}
		wants := map[string][]want{
			ok.ID: {{slog.LevelInfo, "delivery succeeded", map[string]string{"endpoint": "ok", "attempt": "1"}}},
			fl.ID: {
				{slog.LevelWarn, "delivery failed; will retry", map[string]string{"endpoint": "flaky", "attempt": "1", "max_attempts": "2", "err": "cluster down"}},
				{slog.LevelInfo, "delivery succeeded", map[string]string{"endpoint": "flaky", "attempt": "2"}},
			},
			down.ID: {
				{slog.LevelWarn, "delivery failed; will retry", map[string]string{"endpoint": "down", "attempt": "1", "err": "still down"}},
				{slog.LevelError, "delivery failed; giving up", map[string]string{"endpoint": "down", "attempts": "2", "err": "still down"}},
			},
		}
		// The last line of a delivery is logged just after its state is
		// recorded: wait for them all.
		deadline := time.Now().Add(5 * time.Second)
		var got map[string][]logLine
		for {
			got = map[string][]logLine{}
			for _, l := range logs.lines() {
				if id := l.attrs["delivery"]; id != "" {
					got[id] = append(got[id], l)
				} else if l.msg != "queue schema migrated" {
					t.Fatalf("a line about no delivery at info: %+v", l)
				}
			}
			if len(got[ok.ID])+len(got[fl.ID])+len(got[down.ID]) >= 5 || time.Now().After(deadline) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
		for id, ws := range wants {
			if len(got[id]) != len(ws) {
				t.Errorf("delivery %s: lines %+v, want %d", id, got[id], len(ws))
				continue
			}
			for i, w := range ws {
				l := got[id][i]
				if l.level != w.level || l.msg != w.msg {
					t.Errorf("delivery %s line %d: %v %q, want %v %q", id, i, l.level, l.msg, w.level, w.msg)
				}
				for k, v := range w.attrs {
					if l.attrs[k] != v {
						t.Errorf("delivery %s line %d: %s=%q, want %q (%v)", id, i, k, l.attrs[k], v, l.attrs)
					}
				}
			}
		}
		if l := got[fl.ID]; len(l) == 2 && l[0].attrs["next_retry"] == "" || len(l) == 2 && l[1].attrs["duration"] == "" {
			t.Errorf("flaky's lines lack next_retry or duration: %+v", l)
		}
	})
}

func TestRiverLogsAtDebug(t *testing.T) {
	logs := &captured{level: slog.LevelDebug}
	h := slog.New(debugHandler{logs})
	h.Error("river's own error", "k", "v")
	h.With("a", 1).Warn("river's warning")
	if ls := logs.lines(); len(ls) != 2 || ls[0].level != slog.LevelDebug || ls[1].level != slog.LevelDebug || ls[1].attrs["a"] != "1" {
		t.Errorf("lines %+v, want both at debug, with their attributes", ls)
	}
	if (debugHandler{&captured{level: slog.LevelInfo}}).Enabled(context.Background(), slog.LevelError) {
		t.Error("an error of River's is enabled on an info handler")
	}
}
