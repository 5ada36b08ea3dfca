package hfhooks

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hfhooks/hfhooks/internal/redact"
)

// Queue runs deliveries durably: a Server given one with WithQueue commits
// each accepted delivery to it before answering, and its workers run the
// handlers, with retries. Package queue implements it on River, with SQLite
// or PostgreSQL.
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
}

// EndpointQueue is implemented by a Queue that runs the deliveries of each
// endpoint by the endpoint's own settings: its timeout and concurrency. In
// durable mode the Server calls SetEndpoints with all its endpoints each
// time they change (AddEndpoint, ReplaceEndpoints), from the first
// registration on, whether the queue has started or not; the queue applies
// the latest set. Package queue implements it.
type EndpointQueue interface {
	Queue
	// SetEndpoints replaces the endpoints the queue knows, sorted by name.
	// It must not block on running handlers.
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

// WithQueue puts the server in durable mode: an accepted delivery is
// committed to q and answered 202 {"status":"queued","id":...}, and q's
// workers run the handlers. A queue that deduplicates answers a repeat 200
// {"status":"duplicate","id":...} with the id of the delivery it repeats,
// and the repeat is recorded as ignored, with DeliveryRecord.DuplicateOf.
// When q cannot take a delivery the answer is 503, so that the Hub sends it
// again. Serve and Run start q and stop it at shutdown; a
// server served otherwise must be passed to q.Start by its owner.
//
// When q implements QueueHistory, the landing page and /api/deliveries show
// the queued deliveries from it, with their state, and can re-run failed
// ones; requests refused before reaching the queue stay in memory.
func WithQueue(q Queue) Option {
	return func(c *config) { c.queue = q }
}

// WithEnqueueTimeout bounds how long a request waits for the queue to commit
// its delivery (DefaultEnqueueTimeout by default); past it the answer is
// 503, and the Hub sends the delivery again.
func WithEnqueueTimeout(d time.Duration) Option {
	return func(c *config) { c.enqueueTimeout = d }
}

// QueueHealth is implemented by a Queue that can tell whether it can take
// deliveries, and count them. When the server's queue implements it, GET
// /healthz answers 503 {"status":"unavailable","error":...} while Health
// returns an error, and GET /readyz reports Health and Stats (see
// Server).
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

// healthTimeout bounds a queue's health check.
const healthTimeout = 5 * time.Second

// healthBody is the JSON body of GET /healthz.
type healthBody struct {
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// serveHealth answers GET /healthz: 200 {"status":"ok"}, or 503 when the
// queue says it is unavailable (see QueueHealth).
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	if qh, ok := s.cfg.queue.(QueueHealth); ok {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		if err := qh.Health(ctx); err != nil {
			writeJSON(w, http.StatusServiceUnavailable, healthBody{Status: "unavailable", Error: redact.String(err.Error())})
			return
		}
	}
	writeJSON(w, http.StatusOK, healthBody{Status: "ok"})
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
