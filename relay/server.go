package relay

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Timeouts of the relay's own I/O.
const (
	// bodyReadTimeout bounds reading a delivery's or an answer's body.
	bodyReadTimeout = 30 * time.Second
	// eventWriteTimeout bounds writing one event to a listener's stream.
	eventWriteTimeout = 10 * time.Second
	// shutdownGrace bounds how long Serve waits for requests at shutdown.
	shutdownGrace = 5 * time.Second
)

// Server is a relay: an http.Handler that hands out channels and passes
// each delivery to a channel on to the listener connected to it (see the
// package documentation for the protocol). Create one with NewServer.
type Server struct {
	cfg config
	log *slog.Logger
	mux *http.ServeMux

	mu       sync.Mutex
	channels map[string]*channel

	closed    chan struct{}
	closeOnce sync.Once
}

// channel is the relay's state of one channel; its fields other than id
// and tokenHash are guarded by Server.mu.
type channel struct {
	id        string
	tokenHash [sha256.Size]byte
	stream    *stream                     // the connected listener, or nil
	pending   map[string]*pendingDelivery // by delivery id
	lastSeen  time.Time                   // when it was created or last lost its listener
}

// stream is one listener's connection.
type stream struct {
	queue    chan *pendingDelivery // deliveries to write to the stream
	replaced chan struct{}         // closed when another listener takes over
}

// pendingDelivery is a delivery waiting for its answer.
type pendingDelivery struct {
	msg  message
	done chan answer // buffered: the first answer wins
}

// finish answers the delivery unless it has an answer already.
func (p *pendingDelivery) finish(a answer) {
	select {
	case p.done <- a:
	default:
	}
}

// fail answers the delivery with an error status and message.
func (p *pendingDelivery) fail(code int, msg string) { p.finish(errorAnswer(code, msg)) }

// NewServer returns a relay configured by opts.
func NewServer(opts ...Option) *Server {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{cfg: cfg, log: cfg.logger, channels: map[string]*channel{}, closed: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /channels", s.serveCreate)
	mux.HandleFunc("GET /channels/{id}/events", s.serveEvents)
	mux.HandleFunc("POST /channels/{id}/responses/{delivery}", s.serveAnswer)
	mux.HandleFunc("/c/{id}", s.serveDelivery)
	mux.HandleFunc("/c/{id}/{rest...}", s.serveDelivery)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "hfhooks relay: point \"hfhooks listen --relay\" or \"hfhooks serve --relay\" at this URL.\n")
	})
	s.mux = mux
	return s
}

// ServeHTTP serves the relay's routes.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Close ends every listener's stream and answers the deliveries still
// waiting with 503, so that an http.Server's Shutdown does not wait for
// them. The Server answers 503 to deliveries from then on.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
}

// Serve serves the relay on ln until ctx ends, then closes it and shuts the
// HTTP server down gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	// No ReadTimeout or WriteTimeout: they would cut the long-lived
	// streams. The handlers set deadlines on their own reads and writes.
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("relay: %w", err)
	case <-ctx.Done():
	}
	s.Close()
	graceCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(graceCtx); err != nil {
		return fmt.Errorf("relay: shutdown: %w", err)
	}
	return nil
}

// errorBody is the JSON body of every error answer.
type errorBody struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{Error: msg})
}

// hashToken is what tokens are compared by: fixed-length digests, so that
// the comparison's time says nothing about the lengths.
func hashToken(t string) [sha256.Size]byte { return sha256.Sum256([]byte(t)) }

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) (string, bool) {
	return strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
}

// shortID is the part of a channel id the logs show.
func shortID(id string) string { return id[:min(len(id), 8)] }

// serveCreate creates a channel.
func (s *Server) serveCreate(w http.ResponseWriter, r *http.Request) {
	if s.cfg.createToken != "" {
		given, _ := bearer(r)
		want, got := hashToken(s.cfg.createToken), hashToken(given)
		if subtle.ConstantTimeCompare(want[:], got[:]) != 1 {
			writeError(w, http.StatusUnauthorized, "creating a channel needs this relay's token (HFHOOKS_RELAY_TOKEN) in Authorization: Bearer")
			return
		}
	}
	ch := &channel{id: rand.Text(), pending: map[string]*pendingDelivery{}, lastSeen: time.Now()}
	token := rand.Text()
	ch.tokenHash = hashToken(token)

	s.mu.Lock()
	s.sweepLocked(time.Now())
	if len(s.channels) >= s.cfg.maxChannels {
		s.mu.Unlock()
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("the relay holds its maximum of %d channels; try again when one expires, or raise --max-channels", s.cfg.maxChannels))
		return
	}
	s.channels[ch.id] = ch
	s.mu.Unlock()

	s.log.Info("channel created", "channel", shortID(ch.id))
	writeJSON(w, http.StatusCreated, Channel{ID: ch.id, Token: token, URL: ChannelURL(publicBase(r), ch.id)})
}

// publicBase is the relay's URL as the client reached it, through a proxy
// if X-Forwarded-Proto and X-Forwarded-Host say so.
func publicBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	host := r.Host
	if h := r.Header.Get("X-Forwarded-Host"); h != "" {
		host = h
	}
	return scheme + "://" + host
}

// sweepLocked forgets the channels that expired; s.mu must be held.
func (s *Server) sweepLocked(now time.Time) {
	for id, ch := range s.channels {
		if s.expiredLocked(ch, now) {
			delete(s.channels, id)
			s.log.Info("channel expired", "channel", shortID(id))
		}
	}
}

// expiredLocked reports whether ch has had no listener for longer than the
// idle expiry (if there is one); s.mu must be held.
func (s *Server) expiredLocked(ch *channel, now time.Time) bool {
	return s.cfg.idleExpiry > 0 && ch.stream == nil && now.Sub(ch.lastSeen) > s.cfg.idleExpiry
}

// lookupLocked returns the live channel id, or nil; s.mu must be held.
func (s *Server) lookupLocked(id string) *channel {
	ch := s.channels[id]
	if ch == nil {
		return nil
	}
	if s.expiredLocked(ch, time.Now()) {
		delete(s.channels, id)
		return nil
	}
	return ch
}

// authorize returns the channel of the request's {id} if the request
// carries its token, and otherwise answers with an error and returns nil.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) *channel {
	id := r.PathValue("id")
	s.mu.Lock()
	ch := s.lookupLocked(id)
	s.mu.Unlock()
	if ch == nil {
		writeError(w, http.StatusNotFound, "no channel "+id+" on this relay (it expired, or the relay restarted)")
		return nil
	}
	given, ok := bearer(r)
	if !ok {
		writeError(w, http.StatusUnauthorized, "the channel's token is required in Authorization: Bearer")
		return nil
	}
	got := hashToken(given)
	if subtle.ConstantTimeCompare(got[:], ch.tokenHash[:]) != 1 {
		writeError(w, http.StatusForbidden, "wrong token for channel "+id)
		return nil
	}
	return ch
}

// serveEvents streams the channel's deliveries to its listener as
// server-sent events, until the listener goes, another takes over, or the
// relay closes.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	ch := s.authorize(w, r)
	if ch == nil {
		return
	}
	st := &stream{queue: make(chan *pendingDelivery, s.cfg.maxPending), replaced: make(chan struct{})}
	s.attach(ch, st)
	defer s.detach(ch, st)

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no") // ask proxies not to buffer
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	send := func(event string, data any) error {
		b, err := json.Marshal(data)
		if err != nil {
			return err
		}
		_ = rc.SetWriteDeadline(time.Now().Add(eventWriteTimeout))
		if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b); err != nil {
			return err
		}
		return rc.Flush()
	}
	if err := send(eventReady, readyEvent{Channel: ch.id, HeartbeatMillis: s.cfg.heartbeat.Milliseconds(), MaxBodyBytes: s.cfg.maxBodyBytes}); err != nil {
		return
	}
	heartbeat := time.NewTicker(s.cfg.heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.closed:
			return
		case <-st.replaced:
			_ = send(eventReplaced, struct{}{})
			return
		case p := <-st.queue:
			if err := send(eventDelivery, p.msg); err != nil {
				p.fail(http.StatusServiceUnavailable, "the listener's connection broke while the delivery was sent; the Hub will retry")
				return
			}
		case <-heartbeat.C:
			_ = rc.SetWriteDeadline(time.Now().Add(eventWriteTimeout))
			if _, err := io.WriteString(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}

// attach makes st the channel's listener, replacing any other.
func (s *Server) attach(ch *channel, st *stream) {
	s.mu.Lock()
	old := ch.stream
	ch.stream = st
	s.mu.Unlock()
	if old != nil {
		close(old.replaced)
		s.log.Info("listener replaced", "channel", shortID(ch.id))
		return
	}
	s.log.Info("listener connected", "channel", shortID(ch.id))
}

// detach removes st as the channel's listener, and answers the deliveries
// it had not sent yet with 503.
func (s *Server) detach(ch *channel, st *stream) {
	s.mu.Lock()
	if ch.stream == st {
		ch.stream = nil
		ch.lastSeen = time.Now()
		s.log.Info("listener disconnected", "channel", shortID(ch.id))
	}
	s.mu.Unlock()
	for {
		select {
		case p := <-st.queue:
			p.fail(http.StatusServiceUnavailable, "the listener disconnected before the delivery was sent; the Hub will retry")
		default:
			return
		}
	}
}

// Errors of enqueue.
var (
	errNoChannel      = errors.New("no such channel on this relay (it expired, or the relay restarted)")
	errNoListener     = errors.New("no listener is connected to this channel: start \"hfhooks listen\"; the Hub retries later")
	errTooManyPending = errors.New("too many deliveries are waiting for the listener's answer; the Hub retries later")
)

// enqueue registers p as pending on channel id and queues it for the
// channel's listener.
func (s *Server) enqueue(id string, p *pendingDelivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.lookupLocked(id)
	switch {
	case ch == nil:
		return errNoChannel
	case ch.stream == nil:
		return errNoListener
	case len(ch.pending) >= s.cfg.maxPending:
		return errTooManyPending
	}
	select {
	case ch.stream.queue <- p:
	default: // cannot happen while the queue is as long as pending may be
		return errTooManyPending
	}
	ch.pending[p.msg.ID] = p
	return nil
}

// forget removes delivery id from channel chID's pending deliveries.
func (s *Server) forget(chID, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if ch := s.channels[chID]; ch != nil {
		delete(ch.pending, id)
	}
}

// serveDelivery passes a webhook request to the channel's listener and
// answers with the local server's answer.
func (s *Server) serveDelivery(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := r.PathValue("id")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed: the Hub delivers webhooks with POST")
		return
	}
	path := strings.TrimPrefix(r.URL.EscapedPath(), "/c/"+id)
	if path != "" && !isEndpointPath(path) {
		writeError(w, http.StatusNotFound, "not found: a channel passes only webhook deliveries, to its URL or to its URL plus /webhooks/NAME")
		return
	}
	s.mu.Lock()
	known := s.lookupLocked(id) != nil
	s.mu.Unlock()
	if !known {
		writeError(w, http.StatusNotFound, errNoChannel.Error())
		return
	}
	body, ok := s.readBody(w, r)
	if !ok {
		return
	}
	p := &pendingDelivery{
		msg: message{
			ID:     rand.Text(),
			Path:   path,
			Query:  r.URL.RawQuery,
			Header: pick(r.Header, forwardedHeaders),
			Body:   body,
		},
		done: make(chan answer, 1),
	}
	logAttrs := []any{"channel", shortID(id), "delivery", p.msg.ID, "bytes", len(body)}
	if err := s.enqueue(id, p); err != nil {
		code := http.StatusServiceUnavailable
		switch {
		case errors.Is(err, errNoChannel):
			code = http.StatusNotFound
		case errors.Is(err, errTooManyPending):
			code = http.StatusTooManyRequests
		}
		s.log.Warn("delivery refused", append(logAttrs, "status", code, "reason", err.Error())...)
		writeError(w, code, err.Error())
		return
	}
	defer s.forget(id, p.msg.ID)

	timer := time.NewTimer(s.cfg.responseTimeout)
	defer timer.Stop()
	var a answer
	select {
	case a = <-p.done:
	case <-timer.C:
		p.fail(http.StatusGatewayTimeout, fmt.Sprintf("the local server did not answer within %s", s.cfg.responseTimeout))
		a = <-p.done
	case <-s.closed:
		p.fail(http.StatusServiceUnavailable, "the relay is shutting down; the Hub will retry")
		a = <-p.done
	case <-r.Context().Done():
		s.log.Warn("delivery abandoned by the sender", logAttrs...)
		return
	}
	for k, v := range a.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(a.Status)
	_, _ = w.Write(a.Body)
	s.log.Info("delivery", append(logAttrs, "status", a.Status, "duration", time.Since(start).Round(time.Millisecond))...)
}

// readBody reads a request body up to the size limit, or answers 413 (or
// 400) and reports false.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	tooLarge := fmt.Sprintf("the body is larger than this relay's limit of %d bytes", s.cfg.maxBodyBytes)
	if r.ContentLength > s.cfg.maxBodyBytes {
		writeError(w, http.StatusRequestEntityTooLarge, tooLarge)
		return nil, false
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(bodyReadTimeout))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.maxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, tooLarge)
		} else {
			writeError(w, http.StatusBadRequest, "reading the body: "+err.Error())
		}
		return nil, false
	}
	return body, true
}

// serveAnswer takes the listener's answer to a delivery.
func (s *Server) serveAnswer(w http.ResponseWriter, r *http.Request) {
	ch := s.authorize(w, r)
	if ch == nil {
		return
	}
	// The answer's body is base64 in JSON: a third larger, plus headers.
	r.Body = http.MaxBytesReader(w, r.Body, s.cfg.maxBodyBytes/3*4+64<<10)
	var a answer
	if err := json.NewDecoder(r.Body).Decode(&a); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the answer's body is larger than this relay's limit of %d bytes", s.cfg.maxBodyBytes))
			return
		}
		writeError(w, http.StatusBadRequest, "decoding the answer: "+err.Error())
		return
	}
	if a.Status < 200 || a.Status > 599 {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid status %d: want 200 to 599", a.Status))
		return
	}
	did := r.PathValue("delivery")
	s.mu.Lock()
	p := ch.pending[did]
	delete(ch.pending, did)
	s.mu.Unlock()
	if p == nil {
		writeError(w, http.StatusNotFound, "no delivery "+did+" is waiting for an answer (it timed out, or was answered)")
		return
	}
	a.Header = pick(a.Header, answerHeaders)
	p.finish(a)
	w.WriteHeader(http.StatusNoContent)
}
