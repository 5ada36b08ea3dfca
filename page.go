package hfhooks

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hfhooks/hfhooks/internal/redact"
	"github.com/hfhooks/hfhooks/internal/sample"
	"github.com/hfhooks/hfhooks/internal/signin"
	"github.com/hfhooks/hfhooks/internal/web"
)

//go:embed templates/*.html
var templatesFS embed.FS

var pageTemplates = template.Must(template.New("").Funcs(web.Funcs()).Funcs(template.FuncMap{
	"states": func(durable bool) []DeliveryState {
		if durable {
			return deliveryStates
		}
		return []DeliveryState{StateSucceeded, StateFailed, StateRejected, StateIgnored}
	},
	"stateClass": stateClass,
	"plural":     plural,
}).ParseFS(templatesFS, "templates/*.html"))

// pageDeliveries is how many recent deliveries the landing page shows.
const pageDeliveries = 50

// pageCSP is the landing page's Content-Security-Policy: everything from the
// server itself, inline styles, and no script but the page's own.
var pageCSP = "default-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; script-src " + web.ScriptSource

// routesMux serves everything but the endpoints.
func (s *Server) routesMux() *http.ServeMux {
	mux := http.NewServeMux()
	if s.cfg.ui != nil {
		mux.Handle("/", s.cfg.ui)
	} else {
		mux.HandleFunc("GET /{$}", s.servePage)
	}
	mux.HandleFunc("GET /healthz", s.serveHealth)
	mux.HandleFunc("GET /readyz", s.serveReady)
	if s.cfg.metrics != nil {
		mux.Handle("GET /metrics", s.cfg.metrics)
	}
	mux.HandleFunc("GET /api/deliveries", s.serveDeliveries)
	mux.HandleFunc("GET /api/deliveries/{id}", s.serveDelivery)
	mux.HandleFunc("GET /deliveries/{id}", s.serveDeliveryPage)
	mux.HandleFunc("POST /api/test", s.serveTest)
	mux.HandleFunc("POST /api/deliveries/{id}/retry", s.serveRetry)
	return mux
}

// serveDeliveries answers GET /api/deliveries[?state=S&limit=N&before=C]
// with a page of deliveries, newest first, and the cursor of the next page.
func (s *Server) serveDeliveries(w http.ResponseWriter, r *http.Request) {
	q, err := historyQuery(r, historySize)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorBody{Error: err.Error()})
		return
	}
	page, err := s.history.List(r.Context(), q)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "reading delivery history: " + err.Error()})
		return
	}
	if page.Deliveries == nil {
		page.Deliveries = []DeliveryRecord{}
	}
	writeJSON(w, http.StatusOK, page)
}

// historyQuery reads the state, limit and before query parameters.
func historyQuery(r *http.Request, limit int) (HistoryQuery, error) {
	v := r.URL.Query()
	q := HistoryQuery{State: DeliveryState(v.Get("state")), Limit: limit, Before: v.Get("before")}
	if q.State != "" && !q.State.Valid() {
		return q, fmt.Errorf("state must be one of %s; got %q", stateNames(), q.State)
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 {
			return q, fmt.Errorf("limit must be a positive integer, got %q", l)
		}
		if n > MaxPageSize {
			return q, fmt.Errorf("limit must be at most %d, got %d: page through with before", MaxPageSize, n)
		}
		q.Limit = n
	}
	return q, nil
}

// stateNames lists the states for a message: "queued, running, ..., ignored".
func stateNames() string {
	names := make([]string, len(deliveryStates))
	for i, st := range deliveryStates {
		names[i] = string(st)
	}
	return strings.Join(names, ", ")
}

// serveRetry handles POST /api/deliveries/{id}/retry: the failed delivery
// runs again. A form post (from the landing page) is sent back to the page;
// other clients get JSON.
func (s *Server) serveRetry(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	code, msg := http.StatusOK, "delivery "+id+" queued to run again"
	var err error
	if s.queueHistory == nil {
		err = errors.New("re-running deliveries needs a durable queue")
		code = http.StatusNotFound
	} else if err = s.queueHistory.Retry(r.Context(), id); err != nil {
		code = http.StatusInternalServerError
		switch {
		case errors.Is(err, ErrDeliveryNotFound):
			code = http.StatusNotFound
		case errors.Is(err, ErrNotFailed):
			code = http.StatusConflict
		}
	}
	if err != nil {
		msg = err.Error()
	}
	if r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
		_, prefix := s.publicBase(r)
		redirectHome(w, r, prefix, msg, err == nil)
		return
	}
	if err != nil {
		writeJSON(w, code, errorBody{Error: msg})
		return
	}
	writeJSON(w, code, queuedBody{Status: "queued", ID: id})
}

// redirectHome sends the browser to the landing page with a message.
func redirectHome(w http.ResponseWriter, r *http.Request, prefix, msg string, ok bool) {
	v := url.Values{"sent": {msg}}
	if ok {
		v.Set("ok", "1")
	}
	http.Redirect(w, r, prefix+"/?"+v.Encode(), http.StatusSeeOther)
}

// pageData is what the landing page template shows.
type pageData struct {
	Endpoints  []pageEndpoint
	SecretSet  bool
	OnSpace    bool
	Deliveries []DeliveryRecord
	Pending    bool   // some delivery is not final yet: refresh the list soon
	Durable    bool   // deliveries are queued: show states and re-run
	State      string // the state filter
	Next       string // the cursor of the next page
	Kinds      []string
	Flash      string
	FlashOK    bool
	Prefix     string
	// Metrics is true when /metrics is served.
	Metrics bool
	// SignedInAs names who signed in: a Hub user, or the operator token.
	SignedInAs string
}

// pageEndpoint is a row of the page's table of endpoints.
type pageEndpoint struct {
	Name   string
	URL    string
	Filter string // the deliveries the endpoint acts on
	Action string // what it does (EndpointDescription)
}

func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	q, err := historyQuery(r, pageDeliveries)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	page, err := s.history.List(r.Context(), q)
	if err != nil {
		http.Error(w, "reading delivery history: "+err.Error(), http.StatusInternalServerError)
		return
	}
	base, prefix := s.publicBase(r)
	data := pageData{
		SecretSet:  len(s.secrets) > 0,
		OnSpace:    s.space.id != "",
		Deliveries: page.Deliveries,
		Pending:    slices.ContainsFunc(page.Deliveries, inProgress),
		Durable:    s.queueHistory != nil,
		State:      string(q.State),
		Next:       page.Next,
		Kinds:      sample.Kinds(),
		Prefix:     prefix,
		Metrics:    s.cfg.metrics != nil,
		SignedInAs: signedInAs(r),
	}
	routes := *s.routes.Load() // one set, though ReplaceEndpoints may swap it meanwhile
	for _, name := range slices.Sorted(maps.Keys(routes)) {
		ep := routes[name]
		data.Endpoints = append(data.Endpoints, pageEndpoint{Name: name, URL: base + "/webhooks/" + name, Filter: ep.filter.summary(), Action: ep.description})
	}
	if q := r.URL.Query(); q.Has("sent") {
		data.Flash, data.FlashOK = q.Get("sent"), q.Get("ok") == "1"
	}
	render(w, "index.html", data)
}

// render writes the page of the template name with data.
func render(w http.ResponseWriter, name string, data any) {
	var buf bytes.Buffer
	if err := pageTemplates.ExecuteTemplate(&buf, name, data); err != nil {
		http.Error(w, "rendering page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", pageCSP)
	_, _ = buf.WriteTo(w)
}

// signedInAs names who signed in for r, as the pages show it: a Hub user,
// or the operator token; "" in local development.
func signedInAs(r *http.Request) string {
	op, ok := signin.OperatorOf(r.Context())
	switch {
	case !ok || op.Local:
		return ""
	case op.Token:
		return "the operator token"
	}
	return op.User
}

// stateClass is the style class of a state's badge: ok, bad, or none for
// a state that is not final or not a failure.
func stateClass(s DeliveryState) string {
	switch s {
	case StateSucceeded:
		return "ok"
	case StateFailed, StateRejected:
		return "bad"
	}
	return ""
}

// plural returns "1 endpoint is" or "2 endpoints are": n, the noun and
// its verb agreeing.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun + " is"
	}
	return strconv.Itoa(n) + " " + noun + "s are"
}

// inProgress reports whether rec's state can still change by itself.
func inProgress(rec DeliveryRecord) bool {
	switch rec.State {
	case StateQueued, StateRunning, StateRetrying:
		return true
	}
	return false
}

// serveTest handles the landing page's form: it builds a sample event of
// the chosen kind and delivers it to the chosen endpoint in-process, with the
// secret typed in the form, then sends the browser back to the page.
func (s *Server) serveTest(w http.ResponseWriter, r *http.Request) {
	_, prefix := s.publicBase(r)
	back := func(msg string, ok bool) { redirectHome(w, r, prefix, msg, ok) }
	if err := r.ParseForm(); err != nil {
		back("bad form: "+err.Error(), false)
		return
	}
	name, kind := r.PostForm.Get("endpoint"), r.PostForm.Get("kind")
	ep := (*s.routes.Load())[name]
	if ep == nil {
		back("no endpoint named "+strconv.Quote(name), false)
		return
	}
	body, err := sample.JSON(kind, sample.Options{})
	if err != nil {
		back(err.Error(), false)
		return
	}
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, "/webhooks/"+name, bytes.NewReader(body))
	if err != nil {
		back(err.Error(), false)
		return
	}
	req.Header.Set("Content-Type", "application/json")
	if secret := r.PostForm.Get("secret"); secret != "" {
		req.Header.Set(SecretHeader, secret)
	}
	rw := &capture{header: http.Header{}}
	s.serveWebhook(rw, req, ep)
	back(kind+" → /webhooks/"+name+": "+strconv.Itoa(rw.code)+" "+strings.TrimSpace(rw.body.String()), rw.code >= 200 && rw.code < 300)
}

// capture is the ResponseWriter of an in-process delivery.
type capture struct {
	header http.Header
	code   int
	body   bytes.Buffer
}

func (c *capture) Header() http.Header         { return c.header }
func (c *capture) Write(b []byte) (int, error) { return c.body.Write(b) }
func (c *capture) WriteHeader(code int)        { c.code = code }

// publicBase returns the URL under which the Server is reached, and the
// path prefix it is mounted under (as http.StripPrefix leaves it visible in
// RequestURI). On a Space, the host is https://$SPACE_HOST.
func (s *Server) publicBase(r *http.Request) (base, prefix string) {
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
		prefix = strings.TrimSuffix(u.Path, r.URL.Path)
	}
	if s.space.host != "" {
		return "https://" + s.space.host + prefix, prefix
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host + prefix, prefix
}

// healthTimeout bounds a queue's health check.
const healthTimeout = 5 * time.Second

// serveHealth answers GET /healthz: 200 {"status":"ok"}, or 503
// {"status":"unavailable"} when the queue says it is unavailable (see
// QueueHealth). Everyone may read it, so the cause goes to the log only.
func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	if qh, ok := s.cfg.queue.(QueueHealth); ok {
		ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
		defer cancel()
		if err := qh.Health(ctx); err != nil {
			s.log.Warn("not healthy: the queue cannot take deliveries", "err", redact.Error(err))
			writeJSON(w, http.StatusServiceUnavailable, statusBody{Status: "unavailable"})
			return
		}
	}
	writeJSON(w, http.StatusOK, statusBody{Status: "ok"})
}
