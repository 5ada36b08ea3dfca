package hfhooks

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hfhooks/hfhooks/internal/redact"
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

// StatusError is an error that carries the HTTP status to answer with.
type StatusError struct {
	Code int
	Err  error
}

func (e *StatusError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *StatusError) Unwrap() error { return e.Err }

// Error returns an error that makes the server answer with status code and
// the message as {"error": message}. The Hub counts anything but a 2xx as a
// failed delivery and retries it.
func Error(code int, message string) error {
	return &StatusError{Code: code, Err: errors.New(message)}
}

// ErrDuplicatePath is returned by AddWebhook when the path is taken.
var ErrDuplicatePath = errors.New("webhook path already registered")

// endpoint is one registered webhook handler.
type endpoint struct {
	name    string
	handler HandlerFunc
	metrics *endpointMetrics
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
	// errs are the options' complaints about their values.
	errs []error
}

// An EndpointOption configures one webhook endpoint.
type EndpointOption func(*endpoint)

// EndpointSecret sets the secrets of one endpoint, in place of the
// server's: a hook whose Hub webhook has a secret of its own.
func EndpointSecret(secrets ...string) EndpointOption {
	return func(e *endpoint) { e.secrets = newSecrets(secrets) }
}

// EndpointFilter makes the endpoint act only on the deliveries f matches.
// The others are answered 200 {"status":"ignored","reason":...}, so the Hub
// does not count them as failures, and recorded as ignored; in durable mode
// they are not queued. f must be valid (see Filter.Validate).
func EndpointFilter(f Filter) EndpointOption {
	return func(e *endpoint) { e.filter = &f }
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

// ignoredBody is the answer to a delivery an endpoint's filter leaves out.
type ignoredBody struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// Webhook is one endpoint, as ReplaceWebhooks takes them.
type Webhook struct {
	// Path is trimmed of slashes, as in AddWebhook.
	Path    string
	Handler HandlerFunc
	Options []EndpointOption
}

// Server receives webhooks from the Hub. It is an http.Handler serving:
//
//	POST /webhooks/<name>  the registered handlers (the webhook secret)
//	GET  /                 the landing page, or the custom UI (operators)
//	GET  /api/deliveries   the recent deliveries, as JSON (operators)
//	POST /api/deliveries/{id}/retry  re-runs a failed delivery (operators)
//	POST /api/test         the landing page's form that sends a sample event (operators)
//	GET  /metrics          Prometheus metrics (operators)
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
	// pages serves every route but the webhooks: the routes of routesMux
	// behind the operators' door.
	pages   http.Handler
	gate    *signin.Gate
	gateErr error // why the door could not be built; Serve refuses to start
	metrics *metrics
	log     *slog.Logger
	history History // cfg.history, merged with the queue's in durable mode

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
	s := &Server{
		cfg:     cfg,
		secrets: accepted,
		metrics: newMetrics(),
		log:     cfg.logger,
		history: cfg.history,
	}
	if qh, ok := cfg.queue.(QueueHistory); ok {
		s.history = mergedHistory{mem: cfg.history, queue: qh}
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

// AddWebhook registers h under /webhooks/<path>, with path trimmed of
// leading and trailing slashes as huggingface_hub does ("/say_hello" and
// "say_hello/" both give /webhooks/say_hello). Registering a path twice
// returns an error wrapping ErrDuplicatePath. Unlike huggingface_hub,
// webhooks added while the server runs are served at once.
func (s *Server) AddWebhook(path string, h HandlerFunc, opts ...EndpointOption) error {
	ep, err := s.newEndpoint(Webhook{Path: path, Handler: h, Options: opts})
	if err != nil {
		return err
	}
	s.regMu.Lock()
	defer s.regMu.Unlock()
	old := *s.routes.Load()
	if _, ok := old[ep.name]; ok {
		return fmt.Errorf("hfhooks: webhook /webhooks/%s: %w", ep.name, ErrDuplicatePath)
	}
	next := make(map[string]*endpoint, len(old)+1)
	for k, v := range old {
		next[k] = v
	}
	next[ep.name] = ep
	s.setRoutes(next)
	return nil
}

// ReplaceWebhooks swaps the whole set of endpoints for hooks, at once: a
// request is routed either by the old set or by the new one. Requests in
// flight finish with the handler they started with. On an error (an empty
// or duplicate path) nothing changes. In durable mode, with a queue that
// runs each endpoint by its own settings (EndpointQueue, as package queue
// does), deliveries queued for an endpoint that is gone wait, queued, for a
// process that serves it; with another queue they fail with
// ErrUnknownEndpoint when they run.
func (s *Server) ReplaceWebhooks(hooks []Webhook) error {
	next := make(map[string]*endpoint, len(hooks))
	for _, w := range hooks {
		ep, err := s.newEndpoint(w)
		if err != nil {
			return err
		}
		if _, ok := next[ep.name]; ok {
			return fmt.Errorf("hfhooks: webhook /webhooks/%s: %w", ep.name, ErrDuplicatePath)
		}
		next[ep.name] = ep
	}
	s.regMu.Lock()
	defer s.regMu.Unlock()
	s.setRoutes(next)
	return nil
}

// setRoutes puts routes in service and, in durable mode, tells the queue
// their settings when it runs each endpoint by its own (EndpointQueue). The
// caller holds regMu, so that the queue learns the sets in their order.
func (s *Server) setRoutes(routes map[string]*endpoint) {
	s.routes.Store(&routes)
	eq, ok := s.cfg.queue.(EndpointQueue)
	if !ok {
		return
	}
	settings := make([]EndpointSettings, 0, len(routes))
	for _, ep := range routes {
		settings = append(settings, EndpointSettings{Name: ep.name, Timeout: ep.runTimeout(), Concurrency: ep.concurrency})
	}
	slices.SortFunc(settings, func(a, b EndpointSettings) int { return strings.Compare(a.Name, b.Name) })
	eq.SetEndpoints(settings)
}

// newEndpoint checks w and builds its endpoint.
func (s *Server) newEndpoint(w Webhook) (*endpoint, error) {
	name := strings.Trim(w.Path, "/")
	switch {
	case name == "":
		return nil, errors.New("hfhooks: webhook with an empty path")
	case w.Handler == nil:
		return nil, fmt.Errorf("hfhooks: webhook %q: nil handler", name)
	}
	ep := &endpoint{name: name, handler: w.Handler, metrics: s.metrics.forEndpoint(name)}
	for _, o := range w.Options {
		o(ep)
	}
	if err := errors.Join(ep.errs...); err != nil {
		return nil, fmt.Errorf("hfhooks: webhook %q: %w", name, err)
	}
	if ep.concurrency > 0 && s.cfg.queue == nil {
		ep.slots = make(chan struct{}, ep.concurrency)
	}
	if ep.secrets == nil {
		ep.secrets = s.secrets
	}
	return ep, nil
}

// Endpoints returns the names of the registered webhooks, sorted.
func (s *Server) Endpoints() []string {
	routes := *s.routes.Load()
	names := make([]string, 0, len(routes))
	for name := range routes {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// ServeHTTP routes webhook deliveries to their handlers and everything else
// to the pages and APIs listed on Server.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if name, ok := strings.CutPrefix(r.URL.Path, "/webhooks/"); ok {
		ep := (*s.routes.Load())[name]
		if ep == nil {
			writeJSON(w, http.StatusNotFound, errorBody{Error: "no webhook is registered at /webhooks/" + name})
			return
		}
		s.serveWebhook(w, r, ep)
		return
	}
	s.pages.ServeHTTP(w, r)
}

// errorBody is the JSON body of every error response.
type errorBody struct {
	Error string `json:"error"`
}

// statusBody is the JSON body of the 202 answer given for slow handlers.
type statusBody struct {
	Status string `json:"status"`
}

// serveWebhook runs the request path: method, secret, size, decode, handler.
func (s *Server) serveWebhook(w http.ResponseWriter, r *http.Request, ep *endpoint) {
	rec := DeliveryRecord{ID: newID(), Time: time.Now(), Endpoint: ep.name}
	status, body := s.process(w, r, ep, &rec)
	writeJSON(w, status, body)
	rec.StatusCode = status
	rec.Duration = time.Since(rec.Time)
	ep.metrics.count(status)
	s.logDelivery(rec)
	// A queued delivery is in the queue's history; one whose handler still
	// runs is recorded when it ends.
	if rec.State != StateQueued && rec.State != StateRunning {
		s.record(r.Context(), rec)
	}
}

// record stores rec in the history, logging a failure.
func (s *Server) record(ctx context.Context, rec DeliveryRecord) {
	if err := s.history.Record(ctx, rec); err != nil {
		s.log.Error("recording delivery", "endpoint", rec.Endpoint, "err", err)
	}
}

// process checks the request and runs the handler; it returns the status and
// body to answer with, and fills rec.
func (s *Server) process(w http.ResponseWriter, r *http.Request, ep *endpoint, rec *DeliveryRecord) (int, any) {
	fail := func(code int, msg string) (int, any) {
		rec.State, rec.Error = StateRejected, msg
		return code, errorBody{Error: msg}
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return fail(http.StatusMethodNotAllowed, "method "+r.Method+" not allowed: the Hub delivers webhooks with POST")
	}
	switch ep.secrets.check(r) {
	case secretMissing:
		return fail(http.StatusUnauthorized, "x-webhook-secret header not set.")
	case secretWrong:
		return fail(http.StatusForbidden, "Invalid webhook secret.")
	}
	body, err := s.readBody(w, r)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", s.cfg.maxBodyBytes))
		}
		return fail(http.StatusBadRequest, "reading request body: "+err.Error())
	}
	p, err := DecodePayload(body)
	if err != nil {
		var perr *PayloadError
		errors.As(err, &perr)
		return fail(perr.StatusCode(), perr.Error())
	}
	rec.Scope, rec.Action, rec.RepoType, rec.RepoName = p.Event.Scope, p.Event.Action, p.Repo.Type, p.Repo.Name
	if ep.filter != nil {
		if ok, reason := ep.filter.Match(p); !ok {
			rec.State, rec.Error = StateIgnored, reason
			return http.StatusOK, ignoredBody{Status: "ignored", Reason: reason}
		}
	}
	d := &Delivery{ID: rec.ID, Endpoint: ep.name, Payload: p, Body: body, Header: r.Header, ReceivedAt: rec.Time}
	if s.cfg.queue != nil {
		return s.enqueue(r.Context(), d, rec)
	}
	return s.runHandler(ep, d, rec)
}

// readBody reads the body up to the size limit; a Content-Length over the
// limit is refused without reading anything.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	limit := s.cfg.maxBodyBytes
	switch {
	case r.ContentLength > limit:
		return nil, &http.MaxBytesError{Limit: limit}
	case r.ContentLength > 0:
		// The length is known: read it into a buffer of that size (net/http
		// ends a request's body at its Content-Length).
		body := make([]byte, r.ContentLength)
		_, err := io.ReadFull(r.Body, body)
		return body, err
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
}

// handlerResult is what a handler returned.
type handlerResult struct {
	value any
	err   error
}

// runHandler runs the handler and waits for it up to the response deadline;
// past it, the answer is 202 and the handler goes on in the background, to be
// recorded when it ends.
func (s *Server) runHandler(ep *endpoint, d *Delivery, rec *DeliveryRecord) (int, any) {
	done := make(chan handlerResult, 1)
	s.inflight.Add(1)
	go func() {
		defer s.inflight.Done()
		if ep.slots != nil {
			select {
			case ep.slots <- struct{}{}:
				defer func() { <-ep.slots }()
			case <-s.handlerCtx.Done():
				done <- handlerResult{nil, fmt.Errorf("waiting for a free slot (concurrency %d): %w", ep.concurrency, s.handlerCtx.Err())}
				return
			}
		}
		ctx := s.handlerCtx
		if t := ep.runTimeout(); t > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, t)
			defer cancel()
		}
		start := time.Now()
		v, err := s.call(ctx, ep, d)
		ep.metrics.duration.Observe(time.Since(start).Seconds())
		done <- handlerResult{v, err}
	}()
	timer := time.NewTimer(s.cfg.responseDeadline)
	defer timer.Stop()
	select {
	case res := <-done:
		return s.respond(res, rec)
	case <-timer.C:
		rec.State = StateRunning
		late := *rec
		late.StatusCode = http.StatusAccepted
		s.inflight.Add(1)
		go func() {
			defer s.inflight.Done()
			res := <-done
			late.Duration = time.Since(late.Time)
			s.respond(res, &late)
			s.logDelivery(late)
			s.record(s.handlerCtx, late)
		}()
		return http.StatusAccepted, statusBody{Status: "accepted"}
	}
}

// respond turns a handler's result into a status and body, and fills rec.
func (s *Server) respond(res handlerResult, rec *DeliveryRecord) (int, any) {
	rec.Attempts = 1
	rec.Output = OutputOf(res.value, res.err)
	if res.err == nil {
		rec.State = StateSucceeded
		return http.StatusOK, res.value
	}
	rec.State, rec.Error = StateFailed, redact.String(res.err.Error())
	code := http.StatusInternalServerError
	var se *StatusError
	if errors.As(res.err, &se) && se.Code >= 400 && se.Code <= 599 {
		code = se.Code
	}
	if errors.Is(res.err, errPanic) {
		return code, errorBody{Error: "internal server error"}
	}
	return code, errorBody{Error: rec.Error}
}

// errPanic marks the error a recovered panic becomes.
var errPanic = errors.New("handler panicked")

// call runs the handler, turning a panic into an error.
func (s *Server) call(ctx context.Context, ep *endpoint, d *Delivery) (v any, err error) {
	s.running.add(ep.name, 1)
	defer s.running.add(ep.name, -1)
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("webhook handler panicked", "endpoint", ep.name, "delivery", d.ID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			v, err = nil, fmt.Errorf("%w: %v", errPanic, p)
		}
	}()
	return ep.handler(ctx, d)
}

// logDelivery writes the one line of a request's outcome: accepted,
// queued, handled or ignored at Info; refused (a wrong secret, a bad
// payload, a full queue) or failed at Warn for a 4xx, Error otherwise. At
// Warn, the log shows exactly the failures.
func (s *Server) logDelivery(rec DeliveryRecord) {
	level, msg := outcome(rec)
	ctx := context.Background()
	if !s.log.Enabled(ctx, level) {
		return // build no attributes for a line that is not written
	}
	attrs := []any{"endpoint", rec.Endpoint, "status", rec.StatusCode, "id", rec.ID, "duration", rec.Duration.Round(time.Microsecond)}
	if rec.Scope != "" {
		attrs = append(attrs, "scope", rec.Scope, "action", rec.Action, "repo", string(rec.RepoType)+":"+rec.RepoName)
	}
	switch {
	case rec.State == StateIgnored:
		attrs = append(attrs, "reason", rec.Error)
	case rec.Error != "":
		attrs = append(attrs, "err", rec.Error)
	}
	s.log.Log(ctx, level, msg, attrs...)
}

// outcome returns the level and message of rec's log line.
func outcome(rec DeliveryRecord) (slog.Level, string) {
	failure := slog.LevelError
	if rec.StatusCode/100 == 4 {
		failure = slog.LevelWarn
	}
	switch rec.State {
	case StateQueued:
		return slog.LevelInfo, "delivery queued"
	case StateIgnored:
		return slog.LevelInfo, "delivery ignored"
	case StateRunning:
		return slog.LevelInfo, "delivery accepted; its handler still runs"
	case StateSucceeded:
		return slog.LevelInfo, "delivery handled"
	case StateRejected:
		return failure, "delivery refused"
	}
	return failure, "delivery failed"
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
	buf := jsonBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= 64<<10 { // let a rare huge answer's buffer go
			jsonBuffers.Put(buf)
		}
	}()
	buf.Reset()
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		code = http.StatusInternalServerError
		buf.Reset()
		_ = json.NewEncoder(buf).Encode(errorBody{Error: "encoding the handler's result: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// jsonBuffers are the buffers writeJSON encodes into, reused across
// requests.
var jsonBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// newID returns 12 random hex digits.
func newID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
