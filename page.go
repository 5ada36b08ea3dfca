package hfhooks

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hfhooks/hfhooks/internal/sample"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

//go:embed templates/index.html
var templatesFS embed.FS

var pageTemplate = template.Must(template.New("index.html").Funcs(template.FuncMap{
	"ms": func(d time.Duration) string {
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
	},
	"ok": func(code int) bool { return code >= 200 && code < 300 },
}).ParseFS(templatesFS, "templates/index.html"))

// pageDeliveries is how many recent deliveries the landing page shows.
const pageDeliveries = 50

// routesMux serves everything but the webhook routes.
func (s *Server) routesMux() *http.ServeMux {
	mux := http.NewServeMux()
	if s.cfg.ui != nil {
		mux.Handle("/", s.cfg.ui)
	} else {
		mux.HandleFunc("GET /{$}", s.servePage)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, statusBody{Status: "ok"})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /api/deliveries", s.serveDeliveries)
	mux.HandleFunc("POST /api/test", s.serveTest)
	return mux
}

// serveDeliveries answers GET /api/deliveries[?limit=N] with the recent
// deliveries, newest first.
func (s *Server) serveDeliveries(w http.ResponseWriter, r *http.Request) {
	limit := DefaultHistorySize
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			writeJSON(w, http.StatusBadRequest, errorBody{Error: "limit must be a positive integer, got " + strconv.Quote(v)})
			return
		}
		limit = n
	}
	recs, err := s.cfg.history.Recent(r.Context(), limit)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "reading delivery history: " + err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Deliveries []DeliveryRecord `json:"deliveries"`
	}{recs})
}

// pageData is what the landing page template shows.
type pageData struct {
	Endpoints  []pageEndpoint
	SecretSet  bool
	OnSpace    bool
	Deliveries []DeliveryRecord
	Kinds      []string
	Flash      string
	FlashOK    bool
	Prefix     string
}

type pageEndpoint struct {
	Name string
	URL  string
}

func (s *Server) servePage(w http.ResponseWriter, r *http.Request) {
	recs, err := s.cfg.history.Recent(r.Context(), pageDeliveries)
	if err != nil {
		http.Error(w, "reading delivery history: "+err.Error(), http.StatusInternalServerError)
		return
	}
	base, prefix := publicBase(r)
	data := pageData{
		SecretSet:  len(s.secrets) > 0,
		OnSpace:    os.Getenv("SPACE_ID") != "",
		Deliveries: recs,
		Kinds:      sample.Kinds(),
		Prefix:     prefix,
	}
	for _, name := range s.Endpoints() {
		data.Endpoints = append(data.Endpoints, pageEndpoint{Name: name, URL: base + "/webhooks/" + name})
	}
	if q := r.URL.Query(); q.Has("sent") {
		data.Flash, data.FlashOK = q.Get("sent"), q.Get("ok") == "1"
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, data); err != nil {
		http.Error(w, "rendering page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'")
	_, _ = buf.WriteTo(w)
}

// serveTest handles the landing page's form: it builds a sample event of
// the chosen kind and delivers it to the chosen endpoint in-process, with the
// secret typed in the form, then sends the browser back to the page.
func (s *Server) serveTest(w http.ResponseWriter, r *http.Request) {
	_, prefix := publicBase(r)
	back := func(msg string, ok bool) {
		v := url.Values{"sent": {msg}}
		if ok {
			v.Set("ok", "1")
		}
		http.Redirect(w, r, prefix+"/?"+v.Encode(), http.StatusSeeOther)
	}
	if err := r.ParseForm(); err != nil {
		back("bad form: "+err.Error(), false)
		return
	}
	name, kind := r.PostForm.Get("endpoint"), r.PostForm.Get("kind")
	ep := (*s.routes.Load())[name]
	if ep == nil {
		back("no webhook endpoint named "+strconv.Quote(name), false)
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
func publicBase(r *http.Request) (base, prefix string) {
	if u, err := url.ParseRequestURI(r.RequestURI); err == nil {
		prefix = strings.TrimSuffix(u.Path, r.URL.Path)
	}
	if host := os.Getenv("SPACE_HOST"); host != "" {
		return "https://" + host + prefix, prefix
	}
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host + prefix, prefix
}
