package hubtest

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hfhooks/hfhooks/hub"
	"github.com/hfhooks/hfhooks/internal/sample"
	"github.com/hfhooks/hfhooks/internal/web"
)

//go:embed templates/*.html
var templatesFS embed.FS

var pageTemplate = template.Must(template.New("page.html").Funcs(web.Funcs()).Funcs(template.FuncMap{
	"utc":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05.000") },
	"summary": sample.Summary,
	"indent": func(b []byte) string {
		var buf bytes.Buffer
		if json.Indent(&buf, b, "", "  ") != nil {
			return string(b)
		}
		return buf.String()
	},
	"watched": func(ws []hub.WatchedItem) string {
		s := make([]string, len(ws))
		for i, w := range ws {
			s[i] = string(w.Type) + ":" + w.Name
		}
		return strings.Join(s, ", ")
	},
	"domains": func(ds []hub.Domain) string {
		if len(ds) == 0 {
			return "all"
		}
		s := make([]string, len(ds))
		for i, d := range ds {
			s[i] = string(d)
		}
		return strings.Join(s, ", ")
	},
}).ParseFS(templatesFS, "templates/page.html"))

// pageCSP is the page's Content-Security-Policy: inline styles, the page's
// own script, which fetches the page again, and forms posted to the
// emulator; nothing else.
var pageCSP = "default-src 'none'; style-src 'unsafe-inline'; script-src " + web.ScriptSource + "; connect-src 'self'; form-action 'self'"

// tokenCookie holds the token a browser signed in with.
const tokenCookie = "hubtest_token"

// pageRoutes registers the web page: the webhooks of the signed-in token,
// each webhook's activity with a Replay button, and a form to emit events.
// Forms are plain POSTs answered with a redirect.
func (h *Hub) pageRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", h.serveIndex)
	mux.HandleFunc("POST /session", h.serveSignIn)
	mux.HandleFunc("POST /session/end", h.serveSignOut)
	mux.HandleFunc("POST /emit", h.pageAuthed(h.servePageEmit))
	mux.HandleFunc("GET /webhook/{id}", h.pageAuthed(h.serveWebhookPage))
	mux.HandleFunc("POST /webhook/{id}/replay", h.pageAuthed(h.servePageReplay))
}

// pageData is what the template shows. Tokens are never in it.
type pageData struct {
	SignedIn bool
	Flash    string
	FlashOK  bool
	Kinds    []string
	Webhooks []pageWebhook
	// Webhook and Activity are set on a webhook's page.
	Webhook  *pageWebhook
	Activity []Delivery
	// Pending is true when a delivery of the webhook is not final yet.
	Pending bool
	Usage   rateUsage
}

// pageWebhook is a webhook as the page shows it.
type pageWebhook struct {
	hub.Webhook
	JobSourceID string
	Suspended   string
	Pending     int
}

// sessionToken returns the valid token of the request's cookie.
func (h *Hub) sessionToken(r *http.Request) (string, bool) {
	c, err := r.Cookie(tokenCookie)
	if err != nil {
		return "", false
	}
	return h.validToken(c.Value)
}

// pageAuthed sends a browser that is not signed in to the sign-in form.
func (h *Hub) pageAuthed(next tokenHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := h.sessionToken(r)
		if !ok {
			redirect(w, r, "/", "Sign in with a token first.", false)
			return
		}
		next(w, r, token)
	}
}

func (h *Hub) serveIndex(w http.ResponseWriter, r *http.Request) {
	data := h.flashData(r)
	token, ok := h.sessionToken(r)
	if ok {
		data.SignedIn = true
		h.mu.Lock()
		for _, id := range h.order {
			if hk := h.hooks[id]; hk.owner == token {
				data.Webhooks = append(data.Webhooks, pageHook(hk))
			}
		}
		h.mu.Unlock()
	}
	render(w, data)
}

func (h *Hub) serveWebhookPage(w http.ResponseWriter, r *http.Request, token string) {
	data := h.flashData(r)
	data.SignedIn = true
	h.mu.Lock()
	hk := h.ownedHook(token, r.PathValue("id"))
	if hk != nil {
		ph := pageHook(hk)
		data.Webhook, data.Activity, data.Usage = &ph, activityOf(hk), h.usageLocked(hk)
		data.Pending = slices.ContainsFunc(data.Activity, func(d Delivery) bool { return !d.State.Final() })
	}
	h.mu.Unlock()
	if hk == nil {
		http.Error(w, msgNotFound, http.StatusNotFound)
		return
	}
	render(w, data)
}

// pageHook returns what the page shows of hk; h.mu must be held.
func pageHook(hk *hook) pageWebhook {
	return pageWebhook{Webhook: hk.Webhook, JobSourceID: hk.jobSourceID, Suspended: hk.suspended, Pending: len(hk.queue)}
}

func (h *Hub) flashData(r *http.Request) pageData {
	q := r.URL.Query()
	return pageData{Kinds: sample.Kinds(), Flash: q.Get("flash"), FlashOK: q.Get("ok") == "1"}
}

func (h *Hub) serveSignIn(w http.ResponseWriter, r *http.Request) {
	token, ok := h.validToken(strings.TrimSpace(r.PostFormValue("token")))
	if !ok {
		redirect(w, r, "/", "That token is not one this Hub accepts.", false)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: token, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
	redirect(w, r, "/", "Signed in.", true)
}

func (h *Hub) serveSignOut(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	redirect(w, r, "/", "Signed out.", true)
}

// servePageEmit emits the event of the form: kind, repo and set, the last
// one path=value per line.
func (h *Hub) servePageEmit(w http.ResponseWriter, r *http.Request, token string) {
	ev := Event{Kind: r.PostFormValue("kind"), Repo: strings.TrimSpace(r.PostFormValue("repo"))}
	for line := range strings.Lines(r.PostFormValue("set")) {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		path, value, ok := strings.Cut(line, "=")
		if !ok {
			redirect(w, r, "/", "Set: want path=value, got "+strconv.Quote(line), false)
			return
		}
		if ev.Set == nil {
			ev.Set = map[string]string{}
		}
		ev.Set[strings.TrimSpace(path)] = value
	}
	e, err := h.Emit(r.Context(), ev)
	if err != nil {
		redirect(w, r, "/", err.Error(), false)
		return
	}
	n := len(h.ownDeliveries(token, e.Deliveries))
	redirect(w, r, "/", e.Kind+" on "+e.Repo+": sent to "+strconv.Itoa(n)+" of your webhook(s).", true)
}

func (h *Hub) servePageReplay(w http.ResponseWriter, r *http.Request, token string) {
	id := r.PathValue("id")
	_, err := h.replay(id, r.PostFormValue("event"), token)
	switch {
	case errors.Is(err, ErrNotFound):
		http.Error(w, msgNotFound, http.StatusNotFound)
	case err != nil:
		redirect(w, r, "/webhook/"+url.PathEscape(id), err.Error(), false)
	default:
		redirect(w, r, "/webhook/"+url.PathEscape(id), "Replay queued.", true)
	}
}

// redirect answers a form with 303 See Other to path, with a flash message.
func redirect(w http.ResponseWriter, r *http.Request, path, flash string, ok bool) {
	v := url.Values{"flash": {flash}}
	if ok {
		v.Set("ok", "1")
	}
	http.Redirect(w, r, path+"?"+v.Encode(), http.StatusSeeOther)
}

func render(w http.ResponseWriter, data pageData) {
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, data); err != nil {
		http.Error(w, "rendering page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", pageCSP)
	_, _ = buf.WriteTo(w)
}
