package hfhooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hfhooks/hfhooks/internal/signin"
)

// Delivery is one accepted webhook request, as a handler receives it.
type Delivery struct {
	// ID identifies the delivery in the server's history.
	ID string
	// Endpoint is the name the handler was registered under (the part of the
	// path after /webhooks/).
	Endpoint string
	// Payload is the decoded body.
	Payload *Payload
	// Body is the raw request body, byte for byte.
	Body []byte
	// Header holds the request headers.
	Header http.Header
	// ReceivedAt is when the request arrived.
	ReceivedAt time.Time
}

// HandlerFunc handles a delivery. Its result is encoded as the JSON response
// body with status 200 (nil is encoded as null). An error answers with the
// status it carries (see Error) or 500, and a JSON body {"error": "..."}. A
// panic is recovered and answered with 500.
//
// The context is not the request's: it stays valid when the handler outlives
// the response deadline, and is cancelled only when the server shuts down and
// its grace period runs out.
type HandlerFunc func(ctx context.Context, d *Delivery) (any, error)

// An Outputter is a handler's result, or an error, that carries output worth
// keeping with the delivery, such as what a command printed: the history,
// /api/deliveries and the landing page show it. action.Run's results and
// errors are Outputters.
type Outputter interface {
	DeliveryOutput() string
}

// StatusError is an error that carries the HTTP status to answer with.
type StatusError struct {
	Code int
	Err  error
}

func (e *StatusError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *StatusError) Unwrap() error { return e.Err }

// Error returns an error that makes the server answer with status code and
// the message as {"error": message}, in http.Error's order of arguments. The
// Hub counts anything but a 2xx as a failed delivery and retries it.
func Error(message string, code int) error {
	return &StatusError{Code: code, Err: errors.New(message)}
}

// ErrDuplicateEndpoint is returned by AddEndpoint and ReplaceEndpoints when
// two endpoints have the same name.
var ErrDuplicateEndpoint = errors.New("endpoint already registered")

// endpoint is one registered endpoint: a route /webhooks/<name> with its
// handler and options.
type endpoint struct {
	name    string
	handler HandlerFunc
	// secrets are the endpoint's own (EndpointSecret), else the server's.
	secrets secrets
	// filter, when not nil, selects the deliveries the handler gets.
	filter *Filter
	// timeout (EndpointTimeout) and concurrency (EndpointConcurrency) are
	// zero when not set.
	timeout     time.Duration
	concurrency int
	// slots, in sync mode with a concurrency, holds a token per running
	// handler.
	slots chan struct{}
	// description says what the endpoint does (EndpointDescription).
	description string
	// errs are the options' complaints about their values.
	errs []error
}

// An EndpointOption configures one endpoint.
type EndpointOption func(*endpoint)

// EndpointSecret sets the secrets of one endpoint, in place of the
// server's: a hook whose Hub webhook has a secret of its own. Empty strings
// are ignored; at least one secret must be given.
func EndpointSecret(secrets ...string) EndpointOption {
	return func(e *endpoint) {
		e.secrets = newSecrets(secrets)
		if e.secrets == nil {
			e.errs = append(e.errs, errors.New("EndpointSecret: every secret given is empty"))
		}
	}
}

// EndpointFilter makes the endpoint act only on the deliveries f matches.
// The others are answered 200 {"status":"ignored","reason":...}, so the Hub
// does not count them as failures, and recorded as ignored; in durable mode
// they are not queued. f must be valid (see Filter.Validate).
func EndpointFilter(f Filter) EndpointOption {
	return func(e *endpoint) {
		if err := f.Validate(); err != nil {
			e.errs = append(e.errs, fmt.Errorf("EndpointFilter: %w", err))
		}
		e.filter = &f
	}
}

// EndpointTimeout bounds one run of the endpoint's handler: its context is
// cancelled d after the run starts, plus a grace of a tenth of d (at least
// 250 ms, at most 5 s), so that a handler that enforces d itself, as
// action.Run does, reports its own timeout first. In durable mode it is the
// timeout of each attempt, in place of the queue's default; the time a
// delivery waits for a free slot (EndpointConcurrency) is not counted. d
// must be positive.
func EndpointTimeout(d time.Duration) EndpointOption {
	return func(e *endpoint) {
		if d <= 0 {
			e.errs = append(e.errs, fmt.Errorf("EndpointTimeout(%v): want a positive duration", d))
		}
		e.timeout = d
	}
}

// EndpointConcurrency sets how many runs of the endpoint's handler may be
// in progress at once, in this process; further deliveries wait for a free
// slot, which does not count against their timeout. In durable mode they
// wait in the queue, shown as queued; in sync mode the request waits (and
// is answered 202 at the response deadline). n must be at least 1.
func EndpointConcurrency(n int) EndpointOption {
	return func(e *endpoint) {
		if n < 1 {
			e.errs = append(e.errs, fmt.Errorf("EndpointConcurrency(%d): want 1 or more", n))
		}
		e.concurrency = n
	}
}

// runTimeout is how long after its start a run of ep's handler has its
// context cancelled: the endpoint's timeout plus a grace; zero when the
// endpoint has none.
func (e *endpoint) runTimeout() time.Duration {
	if e.timeout <= 0 {
		return 0
	}
	return e.timeout + min(max(e.timeout/10, minTimeoutGrace), maxTimeoutGrace)
}

// The grace runTimeout adds to an endpoint's timeout: a tenth of it, at
// least enough for an action that enforces the timeout itself (a command,
// killed at it) to end and say so first, and at most a few seconds.
const (
	minTimeoutGrace = 250 * time.Millisecond
	maxTimeoutGrace = 5 * time.Second
)

// EndpointSpec is one endpoint, as ReplaceEndpoints takes them.
type EndpointSpec struct {
	// Name is trimmed of slashes, as in AddEndpoint.
	Name    string
	Handler HandlerFunc
	Options []EndpointOption
}

// Server receives webhooks from the Hub. It is an http.Handler serving:
//
//	POST /webhooks/<name>  the endpoints' handlers (the webhook secret)
//	GET  /                 the landing page, or the custom UI (operators)
//	GET  /api/deliveries   the recent deliveries, as JSON (operators)
//	GET  /api/deliveries/{id}  one delivery with its payload and attempts (operators)
//	GET  /deliveries/{id}  the same, as a page (operators)
//	POST /api/deliveries/{id}/retry  re-runs a failed delivery (operators)
//	POST /api/test         the landing page's form that sends a sample event (operators)
//	GET  /metrics          the metrics handler, with WithMetrics (operators)
//	GET  /healthz          a liveness check (everyone)
//	GET  /readyz           a readiness check, with the queue's counts (everyone)
//	/signin, /oauth/huggingface/{login,callback,logout}  signing in (everyone)
//
// The operators' routes need a signed-in operator or the operator token,
// except in local development (see WithAccess), and refuse cross-origin
// requests that change state.
//
// Create one with NewServer; the zero value is not usable.
type Server struct {
	cfg     config
	secrets secrets
	space   space
	// pages serves every route but the endpoints: the routes of routesMux
	// behind the operators' door.
	pages   http.Handler
	gate    *signin.Gate
	gateErr error // why the door could not be built; Serve refuses to start
	observe Observer
	log     *slog.Logger
	// history is an in-memory ring, merged with the queue's history in
	// durable mode.
	history history
	// queueHistory, in durable mode with a queue that keeps a history
	// (QueueHistory), lists and re-runs the queued deliveries.
	queueHistory QueueHistory
	// payloads keeps the bodies of the last requests the history holds in
	// memory, for the delivery inspector.
	payloads payloads

	regMu  sync.Mutex                           // serializes registrations
	routes atomic.Pointer[map[string]*endpoint] // copy-on-write: lock-free reads

	// handlerCtx is the context handlers run in; cancelHandlers ends it
	// when shutdown's grace period is over.
	handlerCtx     context.Context
	cancelHandlers context.CancelFunc
	inflight       sync.WaitGroup
	// closed is done once Close is called: Serve stops waiting then.
	closed context.Context
	close  context.CancelFunc
	// running counts the handler executions in progress, by endpoint.
	running runCounts
}

// NewServer returns a Server configured by opts. Without WithSecret, the
// secret is read from the WEBHOOK_SECRET environment variable; without
// either, every request is accepted and a warning is logged at start.
func NewServer(opts ...Option) *Server {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	accepted := newSecrets(cfg.secrets)
	if len(accepted) == 0 {
		accepted = newSecrets([]string{os.Getenv("WEBHOOK_SECRET")})
	}
	if cfg.observer == nil {
		cfg.observer = nopObserver{}
	}
	s := &Server{
		cfg:     cfg,
		secrets: accepted,
		observe: cfg.observer,
		log:     cfg.logger,
		history: newMemoryHistory(historySize),
	}
	if qh, ok := cfg.queue.(QueueHistory); ok {
		s.queueHistory = qh
		s.history = mergedHistory{mem: s.history, queue: qh}
	}
	s.handlerCtx, s.cancelHandlers = context.WithCancel(context.Background())
	s.closed, s.close = context.WithCancel(context.Background())
	s.routes.Store(&map[string]*endpoint{})
	s.space = spaceFromEnv()
	if s.gate, s.gateErr = s.newGate(); s.gateErr != nil {
		s.pages = misconfigured(s.gateErr)
	} else {
		s.pages = s.gate.Handler(s.routesMux())
	}
	return s
}

// AddEndpoint registers h as the endpoint /webhooks/<name>, with name
// trimmed of leading and trailing slashes as huggingface_hub does
// ("/say_hello" and "say_hello/" both give /webhooks/say_hello). Registering
// a name twice returns an error wrapping ErrDuplicateEndpoint; an option
// with a bad value (an invalid filter, a timeout that is not positive)
// returns an error naming it, and nothing is registered. Unlike
// huggingface_hub, endpoints added while the server runs are served at once.
func (s *Server) AddEndpoint(name string, h HandlerFunc, opts ...EndpointOption) error {
	ep, err := s.newEndpoint(EndpointSpec{Name: name, Handler: h, Options: opts})
	if err != nil {
		return err
	}
	s.regMu.Lock()
	defer s.regMu.Unlock()
	old := *s.routes.Load()
	if _, ok := old[ep.name]; ok {
		return fmt.Errorf("hfhooks: endpoint /webhooks/%s: %w", ep.name, ErrDuplicateEndpoint)
	}
	next := make(map[string]*endpoint, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[ep.name] = ep
	s.setRoutes(next)
	return nil
}

// ReplaceEndpoints swaps the whole set of endpoints for specs, at once: a
// request is routed either by the old set or by the new one. Requests in
// flight finish with the handler they started with. On an error (an empty
// or duplicate name, an option with a bad value) nothing changes. In
// durable mode, with a queue that runs each endpoint by its own settings
// (Queue.SetEndpoints, as package queue does), deliveries queued for an
// endpoint that is gone wait, queued, for a process that serves it; with
// another queue they fail with ErrUnknownEndpoint when they run.
func (s *Server) ReplaceEndpoints(specs []EndpointSpec) error {
	next := make(map[string]*endpoint, len(specs))
	for _, spec := range specs {
		ep, err := s.newEndpoint(spec)
		if err != nil {
			return err
		}
		if _, ok := next[ep.name]; ok {
			return fmt.Errorf("hfhooks: endpoint /webhooks/%s: %w", ep.name, ErrDuplicateEndpoint)
		}
		next[ep.name] = ep
	}
	s.regMu.Lock()
	defer s.regMu.Unlock()
	s.setRoutes(next)
	return nil
}

// setRoutes puts routes in service and, in durable mode, tells the queue
// their settings. The caller holds regMu, so that the queue learns the sets
// in their order.
func (s *Server) setRoutes(routes map[string]*endpoint) {
	s.routes.Store(&routes)
	if s.cfg.queue == nil {
		return
	}
	settings := make([]EndpointSettings, 0, len(routes))
	for _, ep := range routes {
		settings = append(settings, EndpointSettings{Name: ep.name, Timeout: ep.runTimeout(), Concurrency: ep.concurrency})
	}
	slices.SortFunc(settings, func(a, b EndpointSettings) int { return strings.Compare(a.Name, b.Name) })
	s.cfg.queue.SetEndpoints(settings)
}

// newEndpoint checks spec and builds its endpoint.
func (s *Server) newEndpoint(spec EndpointSpec) (*endpoint, error) {
	name := strings.Trim(spec.Name, "/")
	switch {
	case name == "":
		return nil, errors.New("hfhooks: endpoint with an empty name")
	case spec.Handler == nil:
		return nil, fmt.Errorf("hfhooks: endpoint %q: nil handler", name)
	}
	ep := &endpoint{name: name, handler: spec.Handler}
	for _, o := range spec.Options {
		o(ep)
	}
	if err := errors.Join(ep.errs...); err != nil {
		return nil, fmt.Errorf("hfhooks: endpoint %q: %w", name, err)
	}
	if ep.concurrency > 0 && s.cfg.queue == nil {
		ep.slots = make(chan struct{}, ep.concurrency)
	}
	if ep.secrets == nil {
		ep.secrets = s.secrets
	}
	return ep, nil
}

// Endpoints returns the names of the registered endpoints, sorted.
func (s *Server) Endpoints() []string {
	return slices.Sorted(maps.Keys(*s.routes.Load()))
}

// ServeHTTP routes deliveries to their endpoints' handlers and everything else
// to the pages and APIs listed on Server.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if name, ok := strings.CutPrefix(r.URL.Path, "/webhooks/"); ok {
		ep := (*s.routes.Load())[name]
		if ep == nil {
			start := time.Now()
			writeJSON(w, http.StatusNotFound, errorBody{Error: "no endpoint is registered at /webhooks/" + name})
			s.observe.ObserveRequest("", http.StatusNotFound, time.Since(start))
			return
		}
		s.serveWebhook(w, r, ep)
		return
	}
	s.pages.ServeHTTP(w, r)
}

// cancelWait bounds how long Shutdown waits for handlers to return once
// their context is cancelled: a command killed with its process group is
// reaped before the process exits.
const cancelWait = 5 * time.Second

// Shutdown waits for running handlers, including those that outlived their
// response deadline, until ctx is done; then it cancels their context and
// waits a little more (up to 5 s) for them to return. Run calls it; call it
// yourself when you serve the Server with your own http.Server.
func (s *Server) Shutdown(ctx context.Context) error {
	defer s.cancelHandlers()
	done := make(chan struct{})
	go func() {
		s.inflight.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.cancelHandlers()
	timer := time.NewTimer(cancelWait)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
	}
	return fmt.Errorf("hfhooks: handlers still running when the shutdown grace period ended: %w", ctx.Err())
}

// Close stops the server at once, as a second SIGINT or SIGTERM does under
// Run: the context of every running handler is cancelled, and Serve returns
// without waiting for the rest of the grace period. In durable mode, the
// deliveries whose handler was cancelled stay in the queue and run again
// after a restart. A closed Server cannot be served again.
func (s *Server) Close() {
	msg := "stopping now"
	if n, which := s.running.summary(); n > 0 {
		msg = fmt.Sprintf("stopping now: cancelling %s (%s)", deliveries(n), which)
		if s.cfg.queue != nil {
			msg += "; they stay queued and run again after a restart"
		}
	}
	s.log.Warn(msg)
	s.close()
	s.cancelHandlers()
}

// runCounts counts handler executions in progress, by endpoint name.
type runCounts struct {
	mu sync.Mutex
	n  map[string]int
}

func (r *runCounts) add(name string, delta int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.n == nil {
		r.n = map[string]int{}
	}
	if r.n[name] += delta; r.n[name] == 0 {
		delete(r.n, name)
	}
}

// summary returns how many executions run, and where, as
// "trigger_training: 1, inbox: 2" with the names sorted.
func (r *runCounts) summary() (int, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := slices.Sorted(maps.Keys(r.n))
	total, parts := 0, make([]string, len(names))
	for i, name := range names {
		total += r.n[name]
		parts[i] = name + ": " + strconv.Itoa(r.n[name])
	}
	return total, strings.Join(parts, ", ")
}

// deliveries returns "1 delivery" or "n deliveries".
func deliveries(n int) string {
	if n == 1 {
		return "1 delivery"
	}
	return strconv.Itoa(n) + " deliveries"
}

// writeJSON writes v as a JSON response with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{Error: "encoding the handler's result: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

// newID returns 12 random hex digits.
func newID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
