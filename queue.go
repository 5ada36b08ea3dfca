package hfhooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hfhooks/hfhooks/internal/redact"
)

// For queue implementers (see the package documentation): what a durable
// queue, package queue or one of your own, implements and uses. A Queue is
// required; QueueHistory and QueueHealth are optional, and the Server looks
// for them on the Queue. The rest are the values they exchange.

// Queue runs deliveries durably: a Server given one with WithQueue commits
// each accepted delivery to it before answering, and its workers run the
// handlers, with retries. Package queue implements it on River, with SQLite
// or PostgreSQL, with QueueHistory and QueueHealth.
type Queue interface {
	// Enqueue commits d before it returns. Receipt.Duplicate is true when
	// the queue deduplicates and the same delivery (same endpoint, webhook
	// id and raw body) was accepted within its window; it is then not
	// queued again.
	Enqueue(ctx context.Context, d *Delivery) (Receipt, error)
	// Start begins running queued deliveries with exec until Stop.
	Start(ctx context.Context, exec Executor) error
	// Stop stops taking new jobs, lets running ones finish until ctx is
	// done, and leaves the rest queued.
	Stop(ctx context.Context) error
	// SetEndpoints tells the queue the settings of every endpoint, sorted
	// by name, so that it runs each endpoint's deliveries by its timeout
	// and concurrency. The Server calls it each time its endpoints change
	// (AddEndpoint, ReplaceEndpoints), from the first registration on,
	// whether the queue has started or not; the queue applies the latest
	// set. It must not block on running handlers. A queue that runs every
	// endpoint alike may ignore it.
	SetEndpoints(endpoints []EndpointSettings)
}

// EndpointSettings are what a queue needs to know of one endpoint.
type EndpointSettings struct {
	// Name is the endpoint's name, as in Delivery.Endpoint.
	Name string
	// Timeout is how long after its start an attempt's context is
	// cancelled: the endpoint's EndpointTimeout plus its grace. Zero means
	// the queue's default.
	Timeout time.Duration
	// Concurrency is how many of the endpoint's deliveries may run at once
	// (EndpointConcurrency). Zero means the queue's default.
	Concurrency int
}

// Receipt is a queue's answer to Enqueue.
type Receipt struct {
	// ID identifies the queued delivery: for a duplicate, the one queued
	// first.
	ID string
	// Duplicate is true when the delivery had already been accepted.
	Duplicate bool
}

// Executor runs a delivery's handler. *Server implements it.
type Executor interface {
	Execute(ctx context.Context, d *Delivery) (any, error)
}

// QueueHealth is implemented by a Queue that can tell whether it can take
// deliveries, and count them (optional). When the server's queue
// implements it, GET /healthz answers 503 {"status":"unavailable"} while
// Health returns an error, and GET /readyz reports Health and Stats (see
// Server); the errors go to the log, since everyone may read both.
type QueueHealth interface {
	// Health returns an error saying why the queue cannot take deliveries,
	// or nil.
	Health(ctx context.Context) error
	// Stats counts the deliveries waiting and running.
	Stats(ctx context.Context) (QueueStats, error)
}

// QueueStats are the counts of a queue's deliveries that are not done.
type QueueStats struct {
	// Queued is how many wait for a worker: new deliveries, and retries
	// that are due.
	Queued int
	// Scheduled is how many wait for the time of their next attempt.
	Scheduled int
	// Running is how many a handler is running.
	Running int
	// OldestAge is how long the oldest queued delivery has been due: since
	// it was accepted, or since its retry was due. Zero when none is
	// queued.
	OldestAge time.Duration
}

// ErrUnknownEndpoint is returned by Execute for a delivery to an endpoint
// that is not registered (any more).
var ErrUnknownEndpoint = errors.New("no endpoint is registered for the delivery")

// Execute runs the handler registered for d.Endpoint, as a queue's worker
// does: a panic becomes an error wrapping the panic value. The queue, which
// alone knows whether a failed run is retried, tells the Observer.
func (s *Server) Execute(ctx context.Context, d *Delivery) (any, error) {
	ep := (*s.routes.Load())[d.Endpoint]
	if ep == nil {
		return nil, fmt.Errorf("hfhooks: delivery %s to /webhooks/%s: %w", d.ID, d.Endpoint, ErrUnknownEndpoint)
	}
	return s.call(ctx, ep, d)
}

// DeliveryRecord is what the server remembers of one request to an
// endpoint, accepted or not: an entry of GET /api/deliveries.
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
	// Outputter), up to 8 KiB: the end of a command's output.
	Output string `json:"output,omitempty"`
	// DuplicateOf, in durable mode with deduplication on, is the ID of the
	// delivery this one repeats: it was ignored, not run.
	DuplicateOf string `json:"duplicateOf,omitempty"`
}

// DeliveryDetail is one delivery as GET /api/deliveries/{id} shows it: its
// record, the payload the Hub sent, and each run of the handler.
type DeliveryDetail struct {
	Delivery DeliveryRecord `json:"delivery"`
	// Payload is the body of the request, when it is kept: in sync mode the
	// bodies of the last 50 requests of up to 256 KiB each, in durable mode
	// that of every queued delivery. A queue's Get gives it as received;
	// the Server shows it with URL query values masked, and a body that is
	// not JSON as a JSON string.
	Payload json.RawMessage `json:"payload,omitempty"`
	// Attempts are the runs of the endpoint's handler, oldest first: none
	// for a request that was rejected or ignored.
	Attempts []Attempt `json:"attempts"`
}

// Attempt is one run of an endpoint's handler for a delivery.
type Attempt struct {
	// Number counts the runs from 1.
	Number int `json:"number"`
	// State is running, succeeded or failed (for a failed attempt of a
	// delivery that is retried too).
	State DeliveryState `json:"state"`
	// StatusCode, in sync mode, is the status the request was answered
	// with (202 for a handler that outlived the response deadline); in
	// durable mode, where the queue answered, it is 0.
	StatusCode int `json:"statusCode,omitempty"`
	// Ended is when the run ended; zero while it runs.
	Ended time.Time `json:"ended,omitzero"`
	// Duration is how long the run took; zero when the queue does not know
	// it (a failed run before the last: the queue keeps only its error).
	Duration time.Duration `json:"durationNs,omitempty"`
	Error    string        `json:"error,omitempty"`
	// Output is what the run printed (see Outputter). The queue keeps the
	// output of the last run only.
	Output string `json:"output,omitempty"`
}

// Bounds of the payloads kept in memory (sync mode, and requests that did
// not reach the queue in durable mode).
const (
	keptPayloads   = 50
	maxKeptPayload = 256 << 10
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

// deliveryStates are the states above, in the order the page shows them.
var deliveryStates = []DeliveryState{StateQueued, StateRunning, StateRetrying, StateSucceeded, StateFailed, StateRejected, StateIgnored}

// Valid reports whether s is one of the states above.
func (s DeliveryState) Valid() bool { return slices.Contains(deliveryStates, s) }

// HistoryQuery selects deliveries, newest first.
type HistoryQuery struct {
	// State keeps only the deliveries in this state; empty keeps all.
	State DeliveryState
	// Limit is the most deliveries returned (at least 1).
	Limit int
	// Before is the Next of the previous page; empty starts at the newest.
	// A QueueHistory gets a delivery's ID in it: its page starts with the
	// delivery after that one.
	Before string
}

// HistoryPage is one page of deliveries, newest first.
type HistoryPage struct {
	Deliveries []DeliveryRecord `json:"deliveries"`
	// Next, when not empty, is the HistoryQuery.Before of the next page.
	// A QueueHistory sets it to the ID of the page's last delivery: the
	// Server merges the queue's pages with the requests it keeps in memory,
	// and resumes the queue's list from the last delivery it showed.
	Next string `json:"next,omitempty"`
}

// MaxPageSize is the largest limit GET /api/deliveries takes.
const MaxPageSize = 500

// QueueHistory is implemented by a Queue that can list its deliveries and
// run a failed one again (optional). In durable mode the server reads it
// for GET /api/deliveries, GET /api/deliveries/{id} and the landing page,
// and serves POST /api/deliveries/{id}/retry with Retry.
type QueueHistory interface {
	// List returns a page of the queued deliveries that q selects.
	List(ctx context.Context, q HistoryQuery) (HistoryPage, error)
	// Get returns the queued delivery id with its payload, as received,
	// and its attempts, or an error wrapping ErrDeliveryNotFound.
	Get(ctx context.Context, id string) (DeliveryDetail, error)
	// Retry makes the failed delivery id run again, at once: one more
	// attempt. It returns an error wrapping ErrDeliveryNotFound for an unknown id
	// and ErrNotFailed for a delivery that has not failed.
	Retry(ctx context.Context, id string) error
}

// Errors of QueueHistory.Get and QueueHistory.Retry.
var (
	ErrDeliveryNotFound = errors.New("no such delivery")
	ErrNotFailed        = errors.New("delivery has not failed")
)

// maxOutput is the most output kept with a delivery; longer output keeps
// its end.
const maxOutput = 8 << 10

// OutputOf returns the output carried by a handler's result or error, with
// URL passwords and query values masked (a command may print a URL with a
// token), and its end kept when it is longer than maxOutput (8 KiB).
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
	out := redact.String(o.DeliveryOutput())
	if len(out) > maxOutput {
		out = "…" + out[len(out)-maxOutput:]
	}
	return out
}
