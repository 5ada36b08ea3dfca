// Package signin is the operators' door of a receiver: who may use its
// page, /api/* and /metrics, decided in one place.
//
// A Gate wraps the handler of those routes. It lets a request through when
// it comes from an operator: a session from Sign in with Hugging Face (the
// Hub's OpenID Connect, as a Space with hf_oauth: true gets it) whose user
// is allowed, a session from the operator token's sign-in form, or an
// "Authorization: Bearer TOKEN" header with the operator token. Without
// either, a request is let through only in local development: access mode
// auto, not on a Space, on a connection to a loopback address, with a Host
// header that names loopback (so a DNS-rebinding page cannot read it).
// Everyone else gets the sign-in page (or 401 JSON), and a signed-in user
// who is not allowed gets 403 with their name and who is allowed.
//
// Every state-changing request through the gate must be same-origin
// (http.CrossOriginProtection), and every answer forbids framing.
package signin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/hfhooks/hfhooks/internal/ratelimit"
)

// Mode says who may use the operator routes.
type Mode string

// The access modes.
const (
	// Auto is open for local development (loopback, not a Space) and
	// private otherwise.
	Auto Mode = "auto"
	// Private needs a signed-in operator or the operator token.
	Private Mode = "private"
	// Public lets everyone in, on purpose.
	Public Mode = "public"
	// Off serves no operator route at all: only the endpoints, /healthz and /readyz.
	Off Mode = "off"
)

// ParseMode checks a mode's name; "" is Auto.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case "":
		return Auto, nil
	case Auto, Private, Public, Off:
		return m, nil
	}
	return "", fmt.Errorf("access mode %q: want auto, private, public or off", s)
}

// OAuth is the Hub's OpenID Connect client of a Space, from the variables a
// Space with hf_oauth: true gets.
type OAuth struct {
	ProviderURL  string   // OPENID_PROVIDER_URL, https://huggingface.co on the Hub
	ClientID     string   // OAUTH_CLIENT_ID
	ClientSecret string   // OAUTH_CLIENT_SECRET
	Scopes       []string // OAUTH_SCOPES; openid and profile at least
}

// Config is a Gate's configuration.
type Config struct {
	Mode Mode
	// Operators are the Hub users ("alice") and organisations ("org:acme")
	// whose members may sign in.
	Operators []string
	// Token is the operator token: a sign-in form and Bearer auth.
	Token string
	// SessionKey keys the session cookies. When empty, it is derived from
	// the OAuth client secret, else from Token, else made at random (then
	// sessions end when the process does).
	SessionKey string
	// OAuth, when not nil, enables Sign in with Hugging Face.
	OAuth *OAuth
	// OnSpace is true on a Hugging Face Space, where nothing is local.
	OnSpace bool
	// Base returns the URL under which the request's server is reached,
	// and the path prefix it is mounted under.
	Base func(r *http.Request) (base, prefix string)
	// SessionTTL is how long a session lasts (DefaultSessionTTL).
	SessionTTL time.Duration
	// Client is the HTTP client that talks to the provider (nil:
	// http.DefaultClient).
	Client *http.Client
	Logger *slog.Logger
}

// DefaultSessionTTL is how long a session lasts, as a Space's OAuth token
// does by default (hf_oauth_expiration_minutes: 480).
const DefaultSessionTTL = 8 * time.Hour

// flowTTL bounds the time between the start of a sign-in and its callback.
const flowTTL = 10 * time.Minute

// Gate decides who may use the operator routes; see the package doc.
type Gate struct {
	cfg         Config
	users       []string // allowed user names
	orgs        []string // allowed org names
	tokenSum    [32]byte // SHA-256 of the operator token
	codec       *codec
	keySource   string // where the session key came from, for the start-up line
	oidc        *provider
	crossOrigin *http.CrossOriginProtection
	guesses     *ratelimit.Limiter // wrong operator tokens, per client address
}

// Wrong operator tokens from one client address: maxGuesses, then one more
// each guessEvery. A token as the docs ask for (32 random bytes) is out of
// reach either way; the limit keeps a short one from being guessed, and the
// log from filling with guesses.
const (
	maxGuesses = 10
	guessEvery = time.Minute
)

// New checks cfg and builds its Gate.
func New(cfg Config) (*Gate, error) {
	if cfg.Mode == "" {
		cfg.Mode = Auto
	}
	if _, err := ParseMode(string(cfg.Mode)); err != nil {
		return nil, err
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Base == nil {
		return nil, errors.New("signin: Config.Base is required")
	}
	g := &Gate{cfg: cfg, crossOrigin: http.NewCrossOriginProtection(), guesses: ratelimit.New(maxGuesses, guessEvery)}
	for _, op := range cfg.Operators {
		if err := CheckOperator(op); err != nil {
			return nil, err
		}
		name, isOrg := strings.CutPrefix(op, "org:")
		if isOrg {
			g.orgs = append(g.orgs, name)
		} else {
			g.users = append(g.users, name)
		}
	}
	if cfg.Token != "" {
		g.tokenSum = sha256.Sum256([]byte(cfg.Token))
	}
	var key []byte
	switch {
	case cfg.SessionKey != "":
		key, g.keySource = []byte(cfg.SessionKey), "the session key"
	case cfg.OAuth != nil && cfg.OAuth.ClientSecret != "":
		key, g.keySource = []byte("oauth:"+cfg.OAuth.ClientSecret), "the OAuth client secret"
	case cfg.Token != "":
		key, g.keySource = []byte("token:"+cfg.Token), "the operator token"
	default:
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	}
	var err error
	if g.codec, err = newCodec(key); err != nil {
		return nil, err
	}
	if cfg.OAuth != nil {
		if cfg.OAuth.ProviderURL == "" || cfg.OAuth.ClientID == "" {
			return nil, errors.New("sign-in with Hugging Face needs the provider URL and the client id (OPENID_PROVIDER_URL, OAUTH_CLIENT_ID)")
		}
		g.oidc = newProvider(*cfg.OAuth, cfg.Client)
	}
	return g, nil
}

// CheckOperator checks the name of an operator: a Hub user name ("alice")
// or an organisation ("org:acme").
func CheckOperator(op string) error {
	if !validName(strings.TrimPrefix(op, "org:")) {
		return fmt.Errorf("operator %q: want a Hub user name (alice) or org:NAME (org:acme)", op)
	}
	return nil
}

// validName reports whether s can be a Hub user or org name.
func validName(s string) bool {
	if s == "" || len(s) > 96 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// CanSignIn reports whether some way to sign in is configured.
func (g *Gate) CanSignIn() bool { return g.oidc != nil || g.cfg.Token != "" }

// Summary says, in one line for the start-up output, who may use the page,
// /api/* and /metrics of a server at listenURL. It names no secret.
func (g *Gate) Summary(listenURL string) string {
	switch g.cfg.Mode {
	case Off:
		return "Page and API: off (--ui off); only the endpoints, /healthz and /readyz are served."
	case Public:
		return "Page and API: PUBLIC (--ui public): anyone who can reach this server sees the deliveries and can re-run them."
	}
	var ways []string
	if g.oidc != nil {
		who := "nobody is allowed yet: add --allow NAME"
		if ops := g.operators(); ops != "" {
			who = "operators: " + ops
		}
		ways = append(ways, "Hugging Face ("+who+")")
	}
	if g.cfg.Token != "" {
		ways = append(ways, "the operator token")
	}
	var b strings.Builder
	switch {
	case g.openLocally(listenURL):
		b.WriteString("Page and API: open on this machine for local development (loopback only)")
		if len(ways) > 0 {
			b.WriteString("; from elsewhere, sign in with " + strings.Join(ways, " or "))
		}
		b.WriteString(".")
	case len(ways) > 0:
		b.WriteString("Page and API: private; sign in with " + strings.Join(ways, " or ") + ".")
	default:
		b.WriteString("Page and API: private, and no way to sign in is configured, so nobody can open them.\n" + howTo)
	}
	if len(ways) > 0 {
		if g.keySource == "" {
			b.WriteString("\nSessions end when the server restarts (set --session-key to keep them).")
		} else {
			b.WriteString("\nSessions are keyed from " + g.keySource + " and survive restarts.")
		}
	}
	return b.String()
}

// Warning returns the warning start-up logs about the access of a server at
// listenURL, or "": a public page, or a private one nobody can open.
func (g *Gate) Warning(listenURL string) string {
	switch {
	case g.cfg.Mode == Public:
		return "the page and /api/* are public (access public): anyone who can reach the server sees the deliveries and can re-run them"
	case g.cfg.Mode != Off && !g.CanSignIn() && !g.openLocally(listenURL):
		return "the page and /api/* are private and no way to sign in is configured; see the start-up text"
	}
	return ""
}

// openLocally reports whether, for a server at listenURL, the operators'
// routes are open for local development (see local).
func (g *Gate) openLocally(listenURL string) bool {
	return g.cfg.Mode == Auto && !g.cfg.OnSpace && loopbackURL(listenURL)
}

// howTo says how to configure a way to sign in.
const howTo = "To sign in: on a Space, add `hf_oauth: true` to the Space's README metadata (Sign in with Hugging Face;\n" +
	"the Space's owner is allowed, add others with --allow NAME or --allow org:NAME); anywhere, set an operator\n" +
	"token with HFHOOKS_UI_TOKEN (or --ui-token), then sign in with it or send `Authorization: Bearer TOKEN`."

// operators lists who is allowed, for messages.
func (g *Gate) operators() string {
	all := slices.Clone(g.users)
	for _, o := range g.orgs {
		all = append(all, "org:"+o)
	}
	return strings.Join(all, ", ")
}

// loopbackURL reports whether the host of an http URL is a loopback address.
func loopbackURL(u string) bool {
	host := strings.TrimPrefix(strings.TrimPrefix(u, "http://"), "https://")
	host, _, _ = strings.Cut(host, "/")
	return loopbackHost(host)
}

// loopbackHost reports whether a Host header (with or without port) names
// this machine's loopback interface.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// local reports whether r is local development: it arrived on a loopback
// address and its Host names loopback.
func local(r *http.Request) bool {
	addr, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr)
	if !ok {
		return false
	}
	tcp, ok := addr.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback() && loopbackHost(r.Host)
}

// Operator is who a request comes from, when it is let in.
type Operator struct {
	User  string // Hub user name; "" for the operator token or local access
	Token bool   // the operator token (a session from its form, or Bearer)
	Local bool   // local development, nobody signed in
}

type operatorKey struct{}

// OperatorOf returns the operator of a request the gate let through.
func OperatorOf(ctx context.Context) (Operator, bool) {
	op, ok := ctx.Value(operatorKey{}).(Operator)
	return op, ok
}

// verdict is the gate's answer to one request.
type verdict struct {
	op      Operator
	allowed bool
	status  int    // 401 or 403 when not allowed
	reason  string // why not, for the answer
	user    string // the signed-in user who is not allowed
	// retryAfter is when to try again, with status 429.
	retryAfter time.Duration
}

// check decides whether r comes from an operator.
func (g *Gate) check(r *http.Request) verdict {
	if g.cfg.Mode == Public {
		return verdict{allowed: true}
	}
	if auth := r.Header.Get("Authorization"); auth != "" {
		tok, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok {
			return verdict{status: http.StatusUnauthorized, reason: "the Authorization header does not carry the operator token"}
		}
		switch ok, wait := g.checkToken(r, tok); {
		case ok:
			return verdict{allowed: true, op: Operator{Token: true}}
		case wait > 0:
			return verdict{status: http.StatusTooManyRequests, retryAfter: wait, reason: tooManyGuesses(wait)}
		}
		return verdict{status: http.StatusUnauthorized, reason: "the Authorization header does not carry the operator token"}
	}
	if s, ok := g.session(r); ok {
		if s.Token {
			if g.cfg.Token == "" {
				return verdict{status: http.StatusUnauthorized, reason: "sign in again"}
			}
			return verdict{allowed: true, op: Operator{Token: true}}
		}
		if g.allowed(s) {
			return verdict{allowed: true, op: Operator{User: s.User}}
		}
		return verdict{status: http.StatusForbidden, user: s.User,
			reason: fmt.Sprintf("signed in as %s, who is not an operator of this receiver", s.User)}
	}
	if g.cfg.Mode == Auto && !g.cfg.OnSpace && local(r) {
		return verdict{allowed: true, op: Operator{Local: true}}
	}
	return verdict{status: http.StatusUnauthorized, reason: "sign in to see this receiver's deliveries"}
}

// checkToken reports whether tok, sent by r as the operator token, is it.
// Past maxGuesses wrong ones from r's address, tok is not compared: wait
// says when the address may guess again.
func (g *Gate) checkToken(r *http.Request, tok string) (ok bool, wait time.Duration) {
	addr, now := g.clientAddr(r), time.Now()
	if wait := g.guesses.Wait(addr, now); wait > 0 {
		return false, wait
	}
	if g.tokenOK(tok) {
		return true, 0
	}
	g.guesses.Take(addr, now)
	if wait := g.guesses.Wait(addr, now); wait > 0 {
		g.cfg.Logger.Warn("wrong operator tokens: further guesses from this address are refused for a while", "address", addr, "retry_after", wait.Round(time.Second))
	}
	return false, 0
}

// clientAddr is the address r came from, as the wrong tokens are counted
// and the log names it: on a Space, the client's, which the Space's proxy
// appends to X-Forwarded-For, not the proxy's.
func (g *Gate) clientAddr(r *http.Request) string {
	trusted := 0
	if g.cfg.OnSpace {
		trusted = 1
	}
	return ratelimit.ClientAddr(r, trusted)
}

// tooManyGuesses is the answer to an address past its wrong tokens.
func tooManyGuesses(wait time.Duration) string {
	return fmt.Sprintf("Too many wrong operator tokens from your address: try again in %d s.", int(wait.Seconds())+1)
}

// tokenOK compares tok with the operator token in constant time.
func (g *Gate) tokenOK(tok string) bool {
	if g.cfg.Token == "" {
		return false
	}
	sum := sha256.Sum256([]byte(tok))
	return subtle.ConstantTimeCompare(sum[:], g.tokenSum[:]) == 1
}

// allowed reports whether a signed-in user is an operator now.
func (g *Gate) allowed(s session) bool {
	if slices.Contains(g.users, s.User) {
		return true
	}
	return slices.ContainsFunc(s.Orgs, func(o string) bool { return slices.Contains(g.orgs, o) })
}

// session returns the request's valid, unexpired session.
func (g *Gate) session(r *http.Request) (session, bool) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return session{}, false
	}
	var s session
	if err := g.codec.open(sessionCookie, c.Value, &s); err != nil || time.Now().Unix() >= s.Expires {
		return session{}, false
	}
	return s, true
}

// startSession sets the session cookie.
func (g *Gate) startSession(w http.ResponseWriter, r *http.Request, s session) error {
	s.Expires = time.Now().Add(g.cfg.SessionTTL).Unix()
	v, err := g.codec.seal(sessionCookie, s)
	if err != nil {
		return err
	}
	http.SetCookie(w, cookie(sessionCookie, v, g.cfg.SessionTTL, g.secure(r)))
	return nil
}

// secure reports whether cookies must be Secure: the page is on https.
func (g *Gate) secure(r *http.Request) bool {
	base, _ := g.cfg.Base(r)
	return strings.HasPrefix(base, "https://")
}
