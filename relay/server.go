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
	"math"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hfhooks/hfhooks/internal/ratelimit"
)

// Limits and timeouts of the relay's own I/O.
const (
	// eventWriteTimeout bounds writing one event to a listener's stream.
	eventWriteTimeout = 10 * time.Second
	// shutdownGrace bounds how long Serve waits for requests at shutdown.
	shutdownGrace = 5 * time.Second
	// storeTimeout bounds one write to the store.
	storeTimeout = 5 * time.Second
	// touchEvery is how often a connected listener's last-seen time is
	// written to the store, so that a relay that crashes keeps its
	// channel for the whole idle expiry.
	touchEvery = time.Minute
	// maxHeaderBytes bounds a request's headers; the Hub's are a few
	// hundred bytes.
	maxHeaderBytes = 64 << 10
)

// Server is a relay: an http.Handler that hands out channels and passes
// each delivery to a channel on to the listener connected to it (see the
// package documentation for the protocol). Create one with NewServer.
type Server struct {
	cfg     config
	log     *slog.Logger
	mux     *http.ServeMux
	creates *ratelimit.Limiter // nil when creation is not rate-limited

	mu       sync.Mutex
	channels map[string]*channel
	buffered int64 // bytes of bodies held or reserved, across channels

	closed    chan struct{}
	closeOnce sync.Once
}

// channel is the relay's state of one channel; its fields other than id,
// tokenHash and created are guarded by Server.mu.
type channel struct {
	id        string
	tokenHash [sha256.Size]byte
	created   time.Time
	lastSeen  time.Time                   // when a listener was last seen; zero: never
	stream    *stream                     // the connected listener, or nil
	pending   map[string]*pendingDelivery // queued or sent, by delivery id
	reading   int                         // deliveries whose body is arriving
}

// stored is what the store keeps of ch; s.mu must be held.
func (ch *channel) stored() StoredChannel {
	return StoredChannel{ID: ch.id, TokenHash: ch.tokenHash, Created: ch.created, LastSeen: ch.lastSeen}
}

// stream is one listener's connection.
type stream struct {
	queue    chan *pendingDelivery // deliveries to write to the stream
	replaced chan struct{}         // closed when another listener takes over
}

// pendingDelivery is a delivery waiting for its answer.
type pendingDelivery struct {
	msg    message
	stream *stream     // the stream it was queued on
	done   chan answer // buffered: the first answer wins
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

// NewServer returns a relay configured by opts. With [WithStore], it loads
// the stored channels, and fails if it cannot.
func NewServer(opts ...Option) (*Server, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{cfg: cfg, log: cfg.logger, channels: map[string]*channel{}, closed: make(chan struct{})}
	if cfg.createBurst > 0 {
		s.creates = ratelimit.New(cfg.createBurst, cfg.createEvery)
	}
	if err := s.load(); err != nil {
		return nil, err
	}
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
	return s, nil
}

// load reads the stored channels, and forgets those that expired while
// the relay was down.
func (s *Server) load() error {
	if s.cfg.store == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	stored, err := s.cfg.store.Load(ctx)
	if err != nil {
		return fmt.Errorf("relay: loading the channels: %w", err)
	}
	for _, sc := range stored {
		s.channels[sc.ID] = &channel{id: sc.ID, tokenHash: sc.TokenHash, created: sc.Created, lastSeen: sc.LastSeen, pending: map[string]*pendingDelivery{}}
	}
	s.mu.Lock()
	gone := s.sweepLocked(time.Now())
	s.mu.Unlock()
	s.forgetStored(gone)
	return nil
}

// Stats is a snapshot of what a relay holds.
type Stats struct {
	// Channels is how many channels it holds, and Listeners how many of
	// them have a listener connected.
	Channels, Listeners int
	// Deliveries is how many deliveries are in flight: their body
	// arriving, or waiting for their answer.
	Deliveries int
	// BufferedBytes is how many bytes of bodies it holds or has reserved
	// for bodies arriving (see [WithMaxBufferedBytes]).
	BufferedBytes int64
}

// Stats returns what the relay holds now.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Stats{Channels: len(s.channels), BufferedBytes: s.buffered}
	for _, ch := range s.channels {
		if ch.stream != nil {
			st.Listeners++
		}
		st.Deliveries += len(ch.pending) + ch.reading
	}
	return st
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
// HTTP server down gracefully. Its http.Server bounds each request's
// headers and body by the read timeout ([WithReadTimeout]), its headers to
// 64 KiB, and idle connections by [WithIdleTimeout].
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	// No WriteTimeout: it would cut the long-lived streams, whose handler
	// sets a deadline on each write. The read timeout ends once a request
	// is read (net/http lifts it), so it does not cut them.
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: s.cfg.readTimeout,
		ReadTimeout:       s.cfg.readTimeout,
		IdleTimeout:       s.cfg.idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
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

// refuse answers a request whose body it will not read, and closes the
// connection: otherwise net/http would first wait for a small body to
// arrive, to keep the connection alive.
func refuse(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Connection", "close")
	writeError(w, code, msg)
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
	now := time.Now()
	if s.creates != nil {
		if wait, ok := s.creates.Take(ratelimit.ClientAddr(r, s.cfg.trustedProxies), now); !ok {
			secs := int(math.Ceil(wait.Seconds()))
			w.Header().Set("Retry-After", strconv.Itoa(secs))
			writeError(w, http.StatusTooManyRequests, fmt.Sprintf("too many channels created from this address: the relay allows %d, then one every %s; try again in %d s", s.cfg.createBurst, s.cfg.createEvery, secs))
			return
		}
	}
	ch := &channel{id: rand.Text(), created: now, pending: map[string]*pendingDelivery{}}
	token := rand.Text()
	ch.tokenHash = hashToken(token)

	s.mu.Lock()
	gone := s.sweepLocked(now)
	full := len(s.channels) >= s.cfg.maxChannels
	if !full {
		s.channels[ch.id] = ch
	}
	rec := ch.stored()
	s.mu.Unlock()
	s.forgetStored(gone)
	if full {
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("the relay holds its maximum of %d channels; try again when one expires, or raise --max-channels", s.cfg.maxChannels))
		return
	}
	if err := s.save(rec); err != nil {
		s.mu.Lock()
		delete(s.channels, ch.id)
		s.mu.Unlock()
		writeError(w, http.StatusInternalServerError, "the relay could not store the new channel; try again")
		return
	}
	s.log.Info("channel created", "channel", shortID(ch.id))
	writeJSON(w, http.StatusCreated, Channel{ID: ch.id, Token: token, URL: ChannelURL(publicBase(r), ch.id)})
}

// save writes ch to the store, if there is one; a failure is logged.
func (s *Server) save(ch StoredChannel) error {
	if s.cfg.store == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := s.cfg.store.Save(ctx, ch); err != nil {
		s.log.Error("could not store the channel", "channel", shortID(ch.ID), "err", err)
		return err
	}
	return nil
}

// forgetStored deletes the channels ids from the store, if there is one.
func (s *Server) forgetStored(ids []string) {
	if s.cfg.store == nil || len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
	defer cancel()
	if err := s.cfg.store.Delete(ctx, ids...); err != nil {
		s.log.Error("could not delete expired channels from the store", "channels", len(ids), "err", err)
	}
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

// sweepLocked forgets the channels that expired, and returns their ids;
// s.mu must be held.
func (s *Server) sweepLocked(now time.Time) []string {
	var gone []string
	for id, ch := range s.channels {
		if s.expiredLocked(ch, now) {
			delete(s.channels, id)
			gone = append(gone, id)
			s.log.Info("channel expired", "channel", shortID(id), "listened", !ch.lastSeen.IsZero())
		}
	}
	return gone
}

// expiredLocked reports whether ch, without a listener, has outlived its
// expiry: the unclaimed expiry when no listener ever connected, the idle
// expiry since its listener left otherwise; s.mu must be held.
func (s *Server) expiredLocked(ch *channel, now time.Time) bool {
	if ch.stream != nil {
		return false
	}
	if ch.lastSeen.IsZero() && s.cfg.unclaimedExpiry > 0 && now.Sub(ch.created) > s.cfg.unclaimedExpiry {
		return true
	}
	since := ch.lastSeen
	if since.IsZero() {
		since = ch.created
	}
	return s.cfg.idleExpiry > 0 && now.Sub(since) > s.cfg.idleExpiry
}

// lookupLocked returns the live channel id, or nil; s.mu must be held.
func (s *Server) lookupLocked(id string) *channel {
	ch := s.channels[id]
	if ch == nil || s.expiredLocked(ch, time.Now()) {
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
		writeError(w, http.StatusNotFound, "no channel "+id+" on this relay (it expired, or the relay restarted without --state)")
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
	rc := http.NewResponseController(w)
	st := &stream{queue: make(chan *pendingDelivery, s.cfg.maxPending), replaced: make(chan struct{})}
	s.attach(ch, st)
	replaced := false
	defer func() { s.detach(ch, st, !replaced) }()

	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no") // ask proxies not to buffer
	w.WriteHeader(http.StatusOK)
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
			replaced = true
			_ = send(eventReplaced, struct{}{})
			return
		case p := <-st.queue:
			if err := send(eventDelivery, p.msg); err != nil {
				return
			}
		case <-heartbeat.C:
			_ = rc.SetWriteDeadline(time.Now().Add(eventWriteTimeout))
			if _, err := io.WriteString(w, ": ping\n\n"); err != nil || rc.Flush() != nil {
				return
			}
			s.touch(ch, st)
		}
	}
}

// attach makes st the channel's listener, replacing any other.
func (s *Server) attach(ch *channel, st *stream) {
	s.mu.Lock()
	old := ch.stream
	ch.stream = st
	ch.lastSeen = time.Now()
	rec := ch.stored()
	s.mu.Unlock()
	_ = s.save(rec)
	if old != nil {
		close(old.replaced)
		s.log.Info("listener replaced", "channel", shortID(ch.id))
		return
	}
	s.log.Info("listener connected", "channel", shortID(ch.id))
}

// touch records that st, the channel's listener, is still there, at most
// every touchEvery.
func (s *Server) touch(ch *channel, st *stream) {
	now := time.Now()
	s.mu.Lock()
	if ch.stream != st || now.Sub(ch.lastSeen) < touchEvery {
		s.mu.Unlock()
		return
	}
	ch.lastSeen = now
	rec := ch.stored()
	s.mu.Unlock()
	_ = s.save(rec)
}

// detach removes st as the channel's listener. It answers 503 at once the
// deliveries st had not sent yet, and, when the listener dropped rather
// than being replaced (a replaced listener still answers what it got),
// those it was forwarding too: nobody will answer them, and the Hub
// retries on 503.
func (s *Server) detach(ch *channel, st *stream, dropped bool) {
	var lost []*pendingDelivery
	s.mu.Lock()
	current := ch.stream == st
	if current {
		ch.stream = nil
		ch.lastSeen = time.Now()
	}
	if dropped {
		for _, p := range ch.pending {
			if p.stream == st {
				lost = append(lost, p)
			}
		}
	}
	rec := ch.stored()
	s.mu.Unlock()
	if current {
		s.log.Info("listener disconnected", "channel", shortID(ch.id), "deliveries_failed", len(lost))
		_ = s.save(rec)
	}
	for _, p := range lost {
		p.fail(http.StatusServiceUnavailable, "the listener disconnected before answering; the Hub will retry")
	}
	for {
		select {
		case p := <-st.queue:
			p.fail(http.StatusServiceUnavailable, "the listener disconnected before the delivery was sent; the Hub will retry")
		default:
			return
		}
	}
}

// limitError is a delivery refused before its body was read: its status, and
// a message naming the limit.
type limitError struct {
	code int
	msg  string
}

func (e *limitError) Error() string { return e.msg }

// Refusals of a delivery before its body is read.
var (
	errNoChannel  = &limitError{http.StatusNotFound, "no such channel on this relay (it expired, or the relay restarted without --state)"}
	errNoListener = &limitError{http.StatusServiceUnavailable, "no listener is connected to this channel: start \"hfhooks listen\"; the Hub retries later"}
)

// reserve admits a delivery of up to size bytes to channel id before its
// body is read: the channel must have a listener and room for one more
// pending delivery, and the relay room for size more bytes. It counts the
// delivery as reading until release or enqueue.
func (s *Server) reserve(id string, size int64) (*channel, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := s.lookupLocked(id)
	switch {
	case ch == nil:
		return nil, errNoChannel
	case ch.stream == nil:
		return nil, errNoListener
	case len(ch.pending)+ch.reading >= s.cfg.maxPending:
		return nil, &limitError{http.StatusTooManyRequests, fmt.Sprintf("too many deliveries are waiting for the listener's answer (this channel's limit is %d); the Hub retries later", s.cfg.maxPending)}
	case s.buffered+size > s.cfg.maxBufferedBytes:
		return nil, &limitError{http.StatusServiceUnavailable, fmt.Sprintf("the relay holds its maximum of %d bytes of deliveries across all channels; the Hub retries later", s.cfg.maxBufferedBytes)}
	}
	ch.reading++
	s.buffered += size
	return ch, nil
}

// release gives back bytes of the buffer.
func (s *Server) release(bytes int64) {
	s.mu.Lock()
	s.buffered -= bytes
	s.mu.Unlock()
}

// enqueue turns a reserved delivery into a pending one, queued for the
// channel's listener, once its body is read.
func (s *Server) enqueue(ch *channel, p *pendingDelivery) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ch.reading--
	if ch.stream == nil {
		return errNoListener
	}
	select {
	case ch.stream.queue <- p: // room: the queue is as long as pending may be
	default:
		return errNoListener
	}
	p.stream = ch.stream
	ch.pending[p.msg.ID] = p
	return nil
}

// forget removes delivery id from ch's pending deliveries.
func (s *Server) forget(ch *channel, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(ch.pending, id)
}

// serveDelivery passes a webhook request to the channel's listener and
// answers with the local server's answer. Every limit is checked before
// the body is read.
func (s *Server) serveDelivery(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := r.PathValue("id")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		refuse(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed: the Hub delivers webhooks with POST")
		return
	}
	path := strings.TrimPrefix(r.URL.EscapedPath(), "/c/"+id)
	if path != "" && !isEndpointPath(path) {
		refuse(w, http.StatusNotFound, "not found: a channel passes only webhook deliveries, to its URL or to its URL plus /webhooks/NAME")
		return
	}
	if r.ContentLength > s.cfg.maxBodyBytes {
		refuse(w, http.StatusRequestEntityTooLarge, s.tooLarge())
		return
	}
	size := s.cfg.maxBodyBytes // until the body is read, if its length is not given
	if r.ContentLength >= 0 {
		size = r.ContentLength
	}
	logAttrs := []any{"channel", shortID(id)}
	ch, err := s.reserve(id, size)
	if err != nil {
		var le *limitError
		errors.As(err, &le)
		s.log.Warn("delivery refused", append(logAttrs, "status", le.code, "reason", le.msg)...)
		refuse(w, le.code, le.msg)
		return
	}
	body, err := s.readBody(w, r)
	if err != nil {
		s.mu.Lock()
		ch.reading--
		s.mu.Unlock()
		s.release(size)
		var le *limitError
		errors.As(err, &le)
		s.log.Warn("delivery refused", append(logAttrs, "status", le.code, "reason", le.msg)...)
		refuse(w, le.code, le.msg)
		return
	}
	s.release(size - int64(len(body)))
	defer s.release(int64(len(body)))
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
	logAttrs = append(logAttrs, "delivery", p.msg.ID, "bytes", len(body))
	if err := s.enqueue(ch, p); err != nil {
		s.log.Warn("delivery refused", append(logAttrs, "status", http.StatusServiceUnavailable, "reason", err.Error())...)
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	defer s.forget(ch, p.msg.ID)

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

// tooLarge is the message of a 413.
func (s *Server) tooLarge() string {
	return fmt.Sprintf("the body is larger than this relay's limit of %d bytes", s.cfg.maxBodyBytes)
}

// readBody reads a request body up to the size limit, within the read
// timeout; its error is a *limitError: 413, 408 or 400. A body of known
// length takes exactly its length in memory. Once the body is read,
// net/http lifts the read deadline: the request lives on while it waits.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(s.cfg.readTimeout))
	var body []byte
	var err error
	if r.ContentLength >= 0 { // checked against the limit already
		body = make([]byte, r.ContentLength)
		_, err = io.ReadFull(r.Body, body)
	} else {
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, s.cfg.maxBodyBytes))
	}
	var mbe *http.MaxBytesError
	switch {
	case err == nil:
		return body, nil
	case errors.As(err, &mbe):
		return nil, &limitError{http.StatusRequestEntityTooLarge, s.tooLarge()}
	case errors.Is(err, os.ErrDeadlineExceeded):
		return nil, &limitError{http.StatusRequestTimeout, fmt.Sprintf("the body did not arrive within this relay's read timeout of %s", s.cfg.readTimeout)}
	}
	return nil, &limitError{http.StatusBadRequest, "reading the body: " + err.Error()}
}

// serveAnswer takes the listener's answer to a delivery.
func (s *Server) serveAnswer(w http.ResponseWriter, r *http.Request) {
	ch := s.authorize(w, r)
	if ch == nil {
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.cfg.readTimeout))
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
		writeError(w, http.StatusNotFound, "no delivery "+did+" is waiting for an answer (it timed out, was answered, or its listener disconnected)")
		return
	}
	a.Header = pick(a.Header, answerHeaders)
	p.finish(a)
	w.WriteHeader(http.StatusNoContent)
}
