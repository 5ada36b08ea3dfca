package signin

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hfhooks/hfhooks/internal/web"
)

// SignInPath is the sign-in page: the ways to sign in, and the operator
// token's form.
const SignInPath = "/signin"

//go:embed signin.html
var pageFS embed.FS

var pageTemplate = template.Must(template.New("signin.html").Funcs(web.Funcs()).ParseFS(pageFS, "signin.html"))

// pageCSP allows the sign-in page its inline style and nothing else.
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Handler returns next behind the gate. The Hub's door (POST
// /webhooks/<name>) must not be routed through it: the caller serves those
// routes before. Everyone may use /healthz, /readyz and the sign-in routes; every
// other route is for operators, or not served at all in mode Off.
func (g *Gate) Handler(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /healthz", next)
	mux.Handle("GET /readyz", next)
	if g.cfg.Mode == Off {
		mux.HandleFunc("/", http.NotFound)
	} else {
		mux.HandleFunc("GET "+SignInPath, func(w http.ResponseWriter, r *http.Request) {
			g.renderPage(w, r, http.StatusOK, pageData{})
		})
		mux.HandleFunc("POST "+SignInPath, g.tokenSignIn)
		mux.HandleFunc(LogoutPath, g.logout)
		if g.oidc != nil {
			mux.HandleFunc("GET "+LoginPath, g.login)
			mux.HandleFunc("GET "+CallbackPath, g.callback)
		}
		mux.Handle("/", g.operatorsOnly(next))
	}
	return securityHeaders(g.crossOrigin.Handler(mux))
}

// securityHeaders forbid framing and sniffing, keep URLs (and their query
// values) out of Referer headers sent elsewhere, and keep answers out of
// shared caches.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", "frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// operatorsOnly lets operators through to next; others get the sign-in
// page (a browser) or a JSON error (/api/*, /metrics and other clients).
func (g *Gate) operatorsOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := g.check(r)
		if v.allowed {
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), operatorKey{}, v.op)))
			return
		}
		switch v.status {
		case http.StatusUnauthorized:
			w.Header().Set("WWW-Authenticate", `Bearer realm="hfhooks"`)
		case http.StatusTooManyRequests:
			setRetryAfter(w, v.retryAfter)
			writeJSON(w, v.status, map[string]string{"error": v.reason})
			return
		}
		if wantsPage(r) {
			g.renderPage(w, r, v.status, pageData{User: v.user, Denied: v.status == http.StatusForbidden})
			return
		}
		msg := v.reason
		if v.status == http.StatusForbidden {
			msg += "; operators: " + orNobody(g.operators())
		} else if g.CanSignIn() {
			msg += ": sign in at " + SignInPath + ", or send Authorization: Bearer with the operator token"
		} else {
			msg += ": no way to sign in is configured (see " + SignInPath + ")"
		}
		writeJSON(w, v.status, map[string]string{"error": msg})
	})
}

// wantsPage reports whether r is a browser's page request, which gets the
// sign-in page rather than JSON.
func wantsPage(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	return !strings.HasPrefix(r.URL.Path, "/api/") && r.URL.Path != "/metrics" && strings.Contains(r.Header.Get("Accept"), "text/html")
}

func orNobody(s string) string {
	if s == "" {
		return "none configured"
	}
	return s
}

// tokenSignIn handles the operator token's form.
func (g *Gate) tokenSignIn(w http.ResponseWriter, r *http.Request) {
	_, prefix := g.cfg.Base(r)
	if g.cfg.Token == "" {
		g.renderPage(w, r, http.StatusNotFound, pageData{Error: "No operator token is configured."})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	switch ok, wait := g.checkToken(r, r.PostFormValue("token")); {
	case wait > 0:
		setRetryAfter(w, wait)
		g.renderPage(w, r, http.StatusTooManyRequests, pageData{Error: tooManyGuesses(wait)})
		return
	case !ok:
		g.cfg.Logger.Warn("sign-in with a wrong operator token", "address", g.clientAddr(r))
		g.renderPage(w, r, http.StatusUnauthorized, pageData{Error: "That is not the operator token."})
		return
	}
	if err := g.startSession(w, r, session{Token: true}); err != nil {
		http.Error(w, "starting the session: "+err.Error(), http.StatusInternalServerError)
		return
	}
	g.cfg.Logger.Info("signed in with the operator token", "address", g.clientAddr(r))
	http.Redirect(w, r, safeNext(r.PostFormValue("next"), prefix), http.StatusSeeOther)
}

// setRetryAfter says, in whole seconds, when to try again.
func setRetryAfter(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
}

// logout ends the session.
func (g *Gate) logout(w http.ResponseWriter, r *http.Request) {
	_, prefix := g.cfg.Base(r)
	http.SetCookie(w, cookie(sessionCookie, "", 0, g.secure(r)))
	http.Redirect(w, r, prefix+SignInPath, http.StatusSeeOther)
}

// pageData is what the sign-in page shows.
type pageData struct {
	Prefix    string
	Next      string
	OAuth     bool
	Token     bool
	User      string // the signed-in user who is not an operator
	Denied    bool
	Operators string
	Error     string
	SignedIn  bool
}

// renderPage writes the sign-in page with status.
func (g *Gate) renderPage(w http.ResponseWriter, r *http.Request, status int, d pageData) {
	_, d.Prefix = g.cfg.Base(r)
	d.OAuth, d.Token = g.oidc != nil, g.cfg.Token != ""
	d.Operators = orNobody(g.operators())
	if _, ok := g.session(r); ok {
		d.SignedIn = true
	}
	if d.Next == "" && r.Method == http.MethodGet && r.URL.Path != SignInPath {
		d.Next = safeNext(r.RequestURI, d.Prefix)
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, d); err != nil {
		http.Error(w, "rendering the sign-in page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", pageCSP)
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// writeJSON writes v as a JSON answer with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
