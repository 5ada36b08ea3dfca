package hfhooks

import (
	"context"
	"sync/atomic"
	"time"
)

// DeliveryRecord is what the server remembers of one request to a webhook
// endpoint: accepted or not.
type DeliveryRecord struct {
	// ID identifies the delivery within the server's history.
	ID         string        `json:"id"`
	Time       time.Time     `json:"time"`
	Endpoint   string        `json:"endpoint"`
	Scope      string        `json:"scope,omitempty"`
	Action     Action        `json:"action,omitempty"`
	RepoType   RepoType      `json:"repoType,omitempty"`
	RepoName   string        `json:"repoName,omitempty"`
	StatusCode int           `json:"statusCode"`
	Duration   time.Duration `json:"durationNs"`
	// Error is why the delivery was refused or why its handler failed.
	Error string `json:"error,omitempty"`
}

// History stores the recent deliveries shown on the landing page and at
// GET /api/deliveries. The server's default is an in-memory ring.
type History interface {
	// Record stores rec. It is called on the request path and must be fast.
	Record(ctx context.Context, rec DeliveryRecord) error
	// Recent returns up to n records, newest first.
	Recent(ctx context.Context, n int) ([]DeliveryRecord, error)
}

// ring is a fixed-size, lock-free History: writers claim a slot with an
// atomic counter, so recording never waits on a lock.
type ring struct {
	next  atomic.Uint64
	slots []atomic.Pointer[DeliveryRecord]
}

// NewMemoryHistory returns a History that keeps the last size records in
// memory.
func NewMemoryHistory(size int) History {
	if size < 1 {
		size = 1
	}
	return &ring{slots: make([]atomic.Pointer[DeliveryRecord], size)}
}

func (r *ring) Record(_ context.Context, rec DeliveryRecord) error {
	i := r.next.Add(1) - 1
	r.slots[i%uint64(len(r.slots))].Store(&rec)
	return nil
}

func (r *ring) Recent(_ context.Context, n int) ([]DeliveryRecord, error) {
	last := r.next.Load()
	size := uint64(len(r.slots))
	count := min(uint64(max(n, 0)), last, size)
	out := make([]DeliveryRecord, 0, count)
	for i := uint64(0); i < count; i++ {
		if rec := r.slots[(last-1-i)%size].Load(); rec != nil {
			out = append(out, *rec)
		}
	}
	return out, nil
}
