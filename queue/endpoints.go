package queue

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"github.com/hfhooks/hfhooks"
)

// SetEndpoints sets the endpoints whose deliveries this process runs, with
// their timeouts and concurrency (see hfhooks.Queue); the Server
// calls it each time its endpoints change. Each endpoint has a River queue
// of its own (see the package documentation), worked by as many workers as its concurrency,
// or WithWorkers for an endpoint without one. A queue added runs at once
// (at Start before it); a queue whose endpoint is gone, or whose
// concurrency changed, stops taking deliveries at once and is removed, or
// replaced, when its running deliveries have finished. SetEndpoints itself
// never waits.
func (q *Queue) SetEndpoints(endpoints []hfhooks.EndpointSettings) {
	m := make(map[string]hfhooks.EndpointSettings, len(endpoints))
	for _, e := range endpoints {
		m[e.Name] = e
	}
	q.endpoints.Store(&m)
	select {
	case q.changed <- struct{}{}:
	default: // a change is already pending; it reads the latest set
	}
}

// timeoutOf is the timeout of an attempt of a delivery to endpoint: the
// endpoint's own, else the queue's default.
func (q *Queue) timeoutOf(endpoint string) time.Duration {
	if e, ok := (*q.endpoints.Load())[endpoint]; ok && e.Timeout > 0 {
		return e.Timeout
	}
	return q.cfg.attemptTimeout
}

// riverQueue returns the name of the River queue that holds the deliveries
// to endpoint (see the package documentation).
func riverQueue(endpoint string) string {
	var b strings.Builder
	b.WriteString("hook_")
	sep := false
	for _, r := range strings.ToLower(endpoint) {
		if b.Len() >= len("hook_")+maxSlug {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if sep && b.Len() > len("hook_") {
				b.WriteByte('_')
			}
			b.WriteRune(r)
			sep = false
		} else {
			sep = true
		}
	}
	sum := sha256.Sum256([]byte(endpoint))
	if b.Len() > len("hook_") {
		b.WriteByte('_')
	}
	b.WriteString(hex.EncodeToString(sum[:4]))
	return b.String()
}

// maxSlug bounds the part of a River queue name taken from the endpoint.
const maxSlug = 40

// reconcile keeps the River queues worked by this process in line with the
// endpoints, until ctx ends. It runs alone, so that a removal that waits for
// running deliveries never holds up SetEndpoints.
func (q *Queue) reconcile(ctx context.Context) {
	defer close(q.reconciled)
	running := map[string]int{} // River queue → workers
	for {
		select {
		case <-ctx.Done():
			return
		case <-q.changed:
		}
		want := map[string]int{}
		for _, e := range *q.endpoints.Load() {
			want[riverQueue(e.Name)] = cmp.Or(e.Concurrency, q.cfg.workers)
		}
		for name, workers := range running {
			if w, ok := want[name]; ok && w == workers {
				continue
			}
			if err := q.db.removeQueue(ctx, name); err != nil {
				if ctx.Err() != nil {
					return
				}
				q.cfg.logger.Error("removing a queue", "queue", name, "err", err)
				continue
			}
			delete(running, name)
		}
		for name, workers := range want {
			if _, ok := running[name]; ok {
				continue
			}
			if err := q.db.addQueue(name, workers); err != nil {
				q.cfg.logger.Error("adding a queue", "queue", name, "err", err)
				continue
			}
			running[name] = workers
		}
	}
}
