package hfhooks

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// history stores the deliveries shown on the landing page and at
// GET /api/deliveries. The server's default is an in-memory ring; in
// durable mode the ring keeps only rejected requests and the queued ones
// are read from the queue (see QueueHistory).
type history interface {
	// Record stores rec. It is called on the request path and must be fast.
	Record(ctx context.Context, rec DeliveryRecord) error
	// List returns a page of the records that q selects.
	List(ctx context.Context, q HistoryQuery) (HistoryPage, error)
	// Get returns the delivery id, or an error wrapping
	// ErrDeliveryNotFound.
	Get(ctx context.Context, id string) (DeliveryDetail, error)
}

// historySize is how many requests the in-memory history keeps, and the
// default page size of GET /api/deliveries.
const historySize = 200

// ring is a fixed-size history: the newest record overwrites the oldest.
type ring struct {
	mu    sync.Mutex
	next  uint64 // slot of the next record, modulo len(slots)
	slots []*DeliveryRecord
}

// newMemoryHistory returns a history that keeps the last size records in
// memory. Its page cursor is a record's ID: a page that starts at a record
// which has since been overwritten is empty.
func newMemoryHistory(size int) history {
	if size < 1 {
		size = 1
	}
	return &ring{slots: make([]*DeliveryRecord, size)}
}

func (r *ring) Record(_ context.Context, rec DeliveryRecord) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.slots[r.next%uint64(len(r.slots))] = &rec
	r.next++
	return nil
}

func (r *ring) List(_ context.Context, q HistoryQuery) (HistoryPage, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	last := r.next
	size := uint64(len(r.slots))
	count := min(last, size)
	limit := max(q.Limit, 1)
	var page HistoryPage
	started := q.Before == ""
	for i := uint64(0); i < count; i++ {
		rec := r.slots[(last-1-i)%size]
		switch {
		case rec == nil:
			continue
		case !started:
			started = rec.ID == q.Before
			continue
		case q.State != "" && rec.State != q.State:
			continue
		case len(page.Deliveries) == limit:
			page.Next = page.Deliveries[limit-1].ID
			return page, nil
		}
		page.Deliveries = append(page.Deliveries, *rec)
	}
	return page, nil
}

func (r *ring) Get(_ context.Context, id string) (DeliveryDetail, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	last := r.next
	size := uint64(len(r.slots))
	for i := uint64(0); i < min(last, size); i++ {
		if rec := r.slots[(last-1-i)%size]; rec != nil && rec.ID == id {
			return detailOf(*rec), nil
		}
	}
	return DeliveryDetail{}, fmt.Errorf("delivery %q: %w", id, ErrDeliveryNotFound)
}

// mergedHistory is the history of a server in durable mode: rejected
// requests from the in-memory ring, queued deliveries from the queue, merged
// newest first. Its cursor joins the two sources' cursors.
type mergedHistory struct {
	mem   history
	queue QueueHistory
}

// Cursor parts: not started (start from the newest), or exhausted.
const (
	cursorSep  = "."
	cursorDone = "-"
)

func (m mergedHistory) Record(ctx context.Context, rec DeliveryRecord) error {
	return m.mem.Record(ctx, rec)
}

func (m mergedHistory) List(ctx context.Context, q HistoryQuery) (HistoryPage, error) {
	switch q.State {
	case StateRejected, StateIgnored: // never queued
		return m.mem.List(ctx, q)
	case "":
	default:
		return m.queue.List(ctx, q)
	}
	qCur, memCur, _ := strings.Cut(q.Before, cursorSep)
	qPage, err := listUnlessDone(ctx, m.queue.List, q, qCur)
	if err != nil {
		return HistoryPage{}, err
	}
	memPage, err := listUnlessDone(ctx, m.mem.List, q, memCur)
	if err != nil {
		return HistoryPage{}, err
	}
	a, b := qPage.Deliveries, memPage.Deliveries
	var page HistoryPage
	i, j := 0, 0
	for len(page.Deliveries) < max(q.Limit, 1) && (i < len(a) || j < len(b)) {
		if j == len(b) || (i < len(a) && !a[i].Time.Before(b[j].Time)) {
			page.Deliveries = append(page.Deliveries, a[i])
			i++
		} else {
			page.Deliveries = append(page.Deliveries, b[j])
			j++
		}
	}
	qNext, memNext := nextCursor(qCur, qPage, i), nextCursor(memCur, memPage, j)
	if qNext != cursorDone || memNext != cursorDone {
		page.Next = qNext + cursorSep + memNext
	}
	return page, nil
}

// Get looks id up in memory first: a request that did not reach the queue.
func (m mergedHistory) Get(ctx context.Context, id string) (DeliveryDetail, error) {
	d, err := m.mem.Get(ctx, id)
	if errors.Is(err, ErrDeliveryNotFound) {
		return m.queue.Get(ctx, id)
	}
	return d, err
}

// listUnlessDone lists one source of a merged history from its cursor.
func listUnlessDone(ctx context.Context, list func(context.Context, HistoryQuery) (HistoryPage, error), q HistoryQuery, cursor string) (HistoryPage, error) {
	if cursor == cursorDone {
		return HistoryPage{}, nil
	}
	q.Before = cursor
	return list(ctx, q)
}

// nextCursor is one source's cursor after used of its page's records were
// taken into the merged page.
func nextCursor(cur string, page HistoryPage, used int) string {
	switch {
	case cur == cursorDone:
		return cursorDone
	case used < len(page.Deliveries) && used > 0:
		return page.Deliveries[used-1].ID
	case used < len(page.Deliveries):
		return cur
	case page.Next == "":
		return cursorDone
	}
	return page.Next
}
