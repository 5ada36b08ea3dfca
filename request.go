package hfhooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/hfhooks/hfhooks/internal/redact"
)

// The request path: serveWebhook takes a request to an endpoint through
// process (method, secret, size, decode, filter), then enqueue (durable
// mode) or runHandler (sync mode), each of which returns the outcome; the
// answer, the observation, the log line and the history record are made
// from it in serveWebhook, or in finishLate for a handler that outlived the
// response deadline.

// outcome is how a request to an endpoint ended: the answer, and what the
// history and the log say of it.
type outcome struct {
	status int
	body   any
	state  DeliveryState
	// err is why the request was refused or ignored, or why the handler
	// failed; redacted.
	err string
	// output is what the handler's result or error carried (Outputter).
	output string
	// ran is true when a handler ran for the request.
	ran bool
	// queuedID is the queue's id of the delivery, in durable mode.
	queuedID string
	// duplicateOf is the queue's id of the delivery this one repeats.
	duplicateOf string
}

// final reports whether the outcome is the request's last word: a queued
// delivery is in the queue's history, and one whose handler still runs is
// recorded when it ends.
func (o outcome) final() bool {
	return o.state != StateQueued && o.state != StateRunning
}

// record is what the history keeps of the request d whose outcome is o,
// answered after took.
func (o outcome) record(d *Delivery, took time.Duration) DeliveryRecord {
	rec := DeliveryRecord{
		ID:          d.ID,
		Time:        d.ReceivedAt,
		Endpoint:    d.Endpoint,
		StatusCode:  o.status,
		State:       o.state,
		Duration:    took,
		Error:       o.err,
		Output:      o.output,
		DuplicateOf: o.duplicateOf,
	}
	if o.queuedID != "" {
		rec.ID = o.queuedID
	}
	if o.ran {
		rec.Attempts = 1
	}
	if p := d.Payload; p != nil {
		rec.Scope, rec.Action, rec.RepoType, rec.RepoName = p.Event.Scope, p.Event.Action, p.Repo.Type, p.Repo.Name
	}
	return rec
}

// errorBody is the JSON body of every error response.
type errorBody struct {
	Error string `json:"error"`
}

// statusBody is the JSON body of the 202 answer given for slow handlers.
type statusBody struct {
	Status string `json:"status"`
}

// ignoredBody is the answer to a delivery an endpoint's filter leaves out.
type ignoredBody struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// queuedBody is the JSON body of a durable-mode answer.
type queuedBody struct {
	Status string `json:"status"`
	ID     string `json:"id"`
}

// serveWebhook answers a request to ep, then observes, logs and records
// its outcome.
func (s *Server) serveWebhook(w http.ResponseWriter, r *http.Request, ep *endpoint) {
	d := &Delivery{ID: newID(), Endpoint: ep.name, Header: r.Header, ReceivedAt: time.Now()}
	o := s.process(w, r, ep, d)
	writeJSON(w, o.status, o.body)
	took := time.Since(d.ReceivedAt)
	s.observe.ObserveRequest(ep.name, o.status, took)
	rec := o.record(d, took)
	s.logDelivery(rec)
	if o.final() {
		s.record(r.Context(), rec, d.Body)
	}
}

// record stores rec in the history, and the request's body for the
// delivery inspector, logging a failure.
func (s *Server) record(ctx context.Context, rec DeliveryRecord, body []byte) {
	s.payloads.keep(rec.ID, body)
	if err := s.history.Record(ctx, rec); err != nil {
		s.log.Error("recording delivery", "endpoint", rec.Endpoint, "err", err)
	}
}

// rejected is the outcome of a request refused before any handler could
// run.
func rejected(code int, msg string) outcome {
	return outcome{status: code, body: errorBody{Error: msg}, state: StateRejected, err: msg}
}

// process checks the request, decodes its body into d and hands d on.
func (s *Server) process(w http.ResponseWriter, r *http.Request, ep *endpoint, d *Delivery) outcome {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return rejected(http.StatusMethodNotAllowed, "method "+r.Method+" not allowed: the Hub delivers webhooks with POST")
	}
	switch ep.secrets.check(r) {
	case secretMissing:
		return rejected(http.StatusUnauthorized, "x-webhook-secret header not set.")
	case secretWrong:
		return rejected(http.StatusForbidden, "Invalid webhook secret.")
	}
	body, err := s.readBody(w, r)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return rejected(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", s.cfg.maxBodyBytes))
		}
		return rejected(http.StatusBadRequest, "reading request body: "+err.Error())
	}
	d.Body = body // kept for the delivery inspector, even when it is not a payload
	p, err := DecodePayload(body)
	if err != nil {
		var perr *PayloadError
		errors.As(err, &perr)
		return rejected(perr.StatusCode(), perr.Error())
	}
	d.Payload = p
	if ep.filter != nil {
		if ok, reason := ep.filter.Match(p); !ok {
			return outcome{status: http.StatusOK, body: ignoredBody{Status: "ignored", Reason: reason}, state: StateIgnored, err: reason}
		}
	}
	if s.cfg.queue != nil {
		return s.enqueue(r.Context(), d)
	}
	return s.runHandler(ep, d)
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
		// Measured against io.ReadAll: 5 fewer allocations, ~10% less CPU per request at 32 connections.
		body := make([]byte, r.ContentLength)
		_, err := io.ReadFull(r.Body, body)
		return body, err
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
}

// enqueue hands d to the queue (durable mode).
func (s *Server) enqueue(ctx context.Context, d *Delivery) outcome {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.enqueueTimeout)
	defer cancel()
	receipt, err := s.cfg.queue.Enqueue(ctx, d)
	if err != nil {
		msg := "the delivery could not be queued: "
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			msg = fmt.Sprintf("the delivery could not be queued within %s: ", s.cfg.enqueueTimeout)
		}
		return rejected(http.StatusServiceUnavailable, msg+redact.String(err.Error())+"; the Hub will retry")
	}
	if receipt.Duplicate {
		return outcome{status: http.StatusOK, body: queuedBody{Status: "duplicate", ID: receipt.ID}, state: StateIgnored,
			err: "duplicate of #" + receipt.ID, duplicateOf: receipt.ID}
	}
	return outcome{status: http.StatusAccepted, body: queuedBody{Status: "queued", ID: receipt.ID}, state: StateQueued, queuedID: receipt.ID}
}

// handlerResult is what a handler returned.
type handlerResult struct {
	value any
	err   error
}

// runHandler runs the handler (sync mode) and waits for it up to the
// response deadline; past it, the answer is 202 and finishLate records the
// handler's outcome when it ends.
func (s *Server) runHandler(ep *endpoint, d *Delivery) outcome {
	done := make(chan handlerResult, 1)
	s.inflight.Add(1)
	go func() {
		defer s.inflight.Done()
		done <- s.run(ep, d)
	}()
	timer := time.NewTimer(s.cfg.responseDeadline)
	defer timer.Stop()
	select {
	case res := <-done:
		return handled(res)
	case <-timer.C:
		s.inflight.Add(1)
		go s.finishLate(d, done)
		return outcome{status: http.StatusAccepted, body: statusBody{Status: "accepted"}, state: StateRunning}
	}
}

// run runs ep's handler for d once it has a slot (EndpointConcurrency),
// within the endpoint's timeout, and observes the run.
func (s *Server) run(ep *endpoint, d *Delivery) handlerResult {
	if ep.slots != nil {
		select {
		case ep.slots <- struct{}{}:
			defer func() { <-ep.slots }()
		case <-s.handlerCtx.Done():
			return handlerResult{nil, fmt.Errorf("waiting for a free slot (concurrency %d): %w", ep.concurrency, s.handlerCtx.Err())}
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
	result := RunSucceeded
	if err != nil {
		result = RunFailed
	}
	s.observe.ObserveRun(ep.name, result, time.Since(start))
	return handlerResult{v, err}
}

// finishLate waits for the handler of d, answered 202 at the response
// deadline, and logs and records its outcome.
func (s *Server) finishLate(d *Delivery, done <-chan handlerResult) {
	defer s.inflight.Done()
	o := handled(<-done)
	o.status = http.StatusAccepted // the answer the Hub got
	rec := o.record(d, time.Since(d.ReceivedAt))
	s.logDelivery(rec)
	s.record(s.handlerCtx, rec, d.Body)
}

// handled is the outcome of a request whose handler returned res.
func handled(res handlerResult) outcome {
	o := outcome{ran: true, output: OutputOf(res.value, res.err)}
	if res.err == nil {
		o.status, o.body, o.state = http.StatusOK, res.value, StateSucceeded
		return o
	}
	o.status, o.state, o.err = http.StatusInternalServerError, StateFailed, redact.String(res.err.Error())
	var se *StatusError
	if errors.As(res.err, &se) && se.Code >= 400 && se.Code <= 599 {
		o.status = se.Code
	}
	o.body = errorBody{Error: o.err}
	if errors.Is(res.err, errPanic) {
		o.body = errorBody{Error: "internal server error"}
	}
	return o
}

// errPanic marks the error a recovered panic becomes.
var errPanic = errors.New("handler panicked")

// call runs the handler, turning a panic into an error.
func (s *Server) call(ctx context.Context, ep *endpoint, d *Delivery) (v any, err error) {
	s.running.add(ep.name, 1)
	defer s.running.add(ep.name, -1)
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("handler panicked", "endpoint", ep.name, "delivery", d.ID, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
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
	level, msg := logLine(rec)
	ctx := context.Background()
	if !s.log.Enabled(ctx, level) {
		return // build no attributes for a line that is not written
	}
	attrs := []any{"endpoint", rec.Endpoint, "status", rec.StatusCode, "delivery", rec.ID, "duration", rec.Duration.Round(time.Microsecond)}
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

// logLine returns the level and message of rec's log line.
func logLine(rec DeliveryRecord) (slog.Level, string) {
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
