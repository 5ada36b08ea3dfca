package hfhooks

import (
	"net/http"
	"time"
)

// An Observer is told what the server does, to measure it: package metrics
// implements it with Prometheus. Its methods are called on the request path
// and must be fast and safe for concurrent use.
type Observer interface {
	// ObserveRequest is called once for each request to /webhooks/<name>,
	// after it is answered: endpoint is the endpoint's name, or "" when
	// no endpoint is registered under the name (so that the label values
	// stay bounded), status the answer's HTTP status, and took the time
	// from arrival to answer.
	ObserveRequest(endpoint string, status int, took time.Duration)
	// ObserveRun is called once for each run of an endpoint's handler,
	// when it returns: in sync mode by the Server, in durable mode by the
	// queue, which alone knows whether a failed run is retried.
	ObserveRun(endpoint string, outcome RunOutcome, took time.Duration)
	// ObserveStart is called by a queue when the handler of a delivery
	// starts for the first time, with the time since the delivery was
	// acknowledged (committed to the queue).
	ObserveStart(endpoint string, waited time.Duration)
}

// RunOutcome is how one run of a handler ended.
type RunOutcome string

// The outcomes of a run. In sync mode a run succeeds or fails. In durable
// mode a failed run is retried, or fails at once when its error says the
// delivery itself is at fault (a 4xx StatusError), or, on the last attempt,
// the queue gives up.
const (
	RunSucceeded RunOutcome = "succeeded" // the handler returned no error
	RunFailed    RunOutcome = "failed"    // the handler failed and is not tried again
	RunRetried   RunOutcome = "retried"   // the handler failed; another attempt is scheduled
	RunGaveUp    RunOutcome = "gave_up"   // the handler failed its last attempt
)

// WithObserver makes the server report its requests and runs to o, such as
// package metrics' Prometheus collectors. By default nothing is observed.
func WithObserver(o Observer) Option {
	return func(c *config) { c.observer = o }
}

// WithMetrics serves h at GET /metrics, behind the operators' door (see
// WithAccess), such as package metrics' Prometheus handler. Without it
// /metrics is not served.
func WithMetrics(h http.Handler) Option {
	return func(c *config) { c.metrics = h }
}

// nopObserver observes nothing: the Observer of a server without one.
type nopObserver struct{}

func (nopObserver) ObserveRequest(string, int, time.Duration)    {}
func (nopObserver) ObserveRun(string, RunOutcome, time.Duration) {}
func (nopObserver) ObserveStart(string, time.Duration)           {}
