package hfhooks

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"time"
)

// DeliveryState is where a delivery stands.
type DeliveryState string

// The states of a delivery. In sync mode a delivery whose handler ran is
// succeeded or failed; in durable mode it goes through the queue's states.
// A request refused before any handler could run (wrong method or secret,
// body too large or not a valid payload, or, in durable mode, a queue that
// could not take it) is rejected in both modes; one that the endpoint's
// filter leaves out is ignored.
const (
	StateQueued    DeliveryState = "queued"    // waiting for a worker
	StateRunning   DeliveryState = "running"   // a handler is running it
	StateSucceeded DeliveryState = "succeeded" // a handler returned no error
	StateRetrying  DeliveryState = "retrying"  // an attempt failed; another is scheduled
	StateFailed    DeliveryState = "failed"    // the handler failed and will not be tried again unless re-run
	StateRejected  DeliveryState = "rejected"  // refused before reaching a handler
	StateIgnored   DeliveryState = "ignored"   // valid, but the endpoint's filter left it out, or it repeats a delivery (DuplicateOf)
)

// Valid reports whether s is one of the states above.
func (s DeliveryState) Valid() bool {
	switch s {
	case StateQueued, StateRunning, StateSucceeded, StateRetrying, StateFailed, StateRejected, StateIgnored:
		return true
	}
	return false
}

// DeliveryRecord is what the server remembers of one request to a webhook
// endpoint: accepted or not.
type DeliveryRecord struct {
	// ID identifies the delivery within the server's history. In durable
	// mode it is the queue's ID, which the handler sees as Delivery.ID.
	ID         string        `json:"id"`
	Time       time.Time     `json:"time"`
	Endpoint   string        `json:"endpoint"`
	Scope      string        `json:"scope,omitempty"`
	Action     Action        `json:"action,omitempty"`
	RepoType   RepoType      `json:"repoType,omitempty"`
	RepoName   string        `json:"repoName,omitempty"`
	StatusCode int           `json:"statusCode"`
	State      DeliveryState `json:"state"`
	// Attempts is how many times a handler was started for the delivery.
	Attempts int           `json:"attempts"`
	Duration time.Duration `json:"durationNs"`
	// Error is why the delivery was refused, ignored, or why its handler
	// last failed.
	Error string `json:"error,omitempty"`
	// Output is what the handler's result or error said it printed (see
	// Outputter), up to MaxOutput bytes: the end of a command's output.
	Output string `json:"output,omitempty"`
	// DuplicateOf, in durable mode with deduplication on, is the ID of the
	// delivery this one repeats: it was ignored, not run.
	DuplicateOf string `json:"duplicateOf,omitempty"`
}

// MaxOutput is the most output kept with a delivery; longer output keeps
// its end.
const MaxOutput = 8 << 10

// An Outputter is a handler result, or an error, that carries output worth
// keeping with the delivery, such as what a command printed: the history,
// /api/deliveries and the landing page show it. action.Run's results and
// errors are Outputters.
type Outputter interface {
	DeliveryOutput() string
}

// OutputOf returns the output carried by a handler's result or error, with
// its end kept when it is longer than MaxOutput.
func OutputOf(v any, err error) string {
	var o Outputter
	switch {
	case err != nil && errors.As(err, &o):
	case err == nil && v != nil:
		if vo, ok := v.(Outputter); ok {
			o = vo
		}
	}
	if o == nil {
		return ""
	}
	out := o.DeliveryOutput()
	if len(out) > MaxOutput {
		out = "…" + out[len(out)-MaxOutput:]
	}
	return out
}

// HistoryQuery selects deliveries, newest first.
type HistoryQuery struct {
	// State keeps only the deliveries in this state; empty keeps all.
	State DeliveryState
	// Limit is the most deliveries returned (at least 1).
	Limit int
	// Before is the Next of the previous page; empty starts at the newest.
	Before string
}

// HistoryPage is one page of deliveries, newest first.
type HistoryPage struct {
	Deliveries []DeliveryRecord `json:"deliveries"`
	// Next, when not empty, is the HistoryQuery.Before of the next page.
	Next string `json:"next,omitempty"`
}

// History stores the deliveries shown on the landing page and at
// GET /api/deliveries. The server's default is an in-memory ring; in
// durable mode the ring keeps only rejected requests and the queued ones
// are read from the queue (see QueueHistory).
type History interface {
	// Record stores rec. It is called on the request path and must be fast.
	Record(ctx context.Context, rec DeliveryRecord) error
	// List returns a page of the records that q selects.
	List(ctx context.Context, q HistoryQuery) (HistoryPage, error)
}

// QueueHistory is implemented by a Queue that can list its deliveries and
// run a failed one again. In durable mode the server reads it for
// GET /api/deliveries and the landing page, and serves
// POST /api/deliveries/{id}/retry with Retry.
type QueueHistory interface {
	// List returns a page of the queued deliveries that q selects.
	List(ctx context.Context, q HistoryQuery) (HistoryPage, error)
	// Retry makes the failed delivery id run again, at once: one more
	// attempt. It returns an error wrapping ErrDeliveryNotFound for an unknown id
	// and ErrNotFailed for a delivery that has not failed.
	Retry(ctx context.Context, id string) error
}

// Errors of QueueHistory.Retry.
var (
	ErrDeliveryNotFound = errors.New("no such delivery")
	ErrNotFailed        = errors.New("delivery has not failed")
)

// ring is a fixed-size, lock-free History: writers claim a slot with an
// atomic counter, so recording never waits on a lock.
type ring struct {
	next  atomic.Uint64
	slots []atomic.Pointer[DeliveryRecord]
}

// NewMemoryHistory returns a History that keeps the last size records in
// memory. Its page cursor is a record's ID: a page that starts at a record
// which has since been overwritten is empty.
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

func (r *ring) List(_ context.Context, q HistoryQuery) (HistoryPage, error) {
	last := r.next.Load()
	size := uint64(len(r.slots))
	count := min(last, size)
	limit := max(q.Limit, 1)
	var page HistoryPage
	started := q.Before == ""
	for i := uint64(0); i < count; i++ {
		rec := r.slots[(last-1-i)%size].Load()
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

// mergedHistory is the history of a server in durable mode: rejected
// requests from the in-memory ring, queued deliveries from the queue, merged
// newest first. Its cursor joins the two sources' cursors.
type mergedHistory struct {
	mem   History
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
