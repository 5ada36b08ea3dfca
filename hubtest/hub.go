package hubtest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hfhooks/hfhooks/hub"
)

// Hub is the emulated Hub: an [http.Handler] serving the management API, the
// emulator's own API and the web page, and the delivery engine behind them.
// Create one with [New] (or [NewServer], which also listens) and stop it
// with [Hub.Close]. A Hub is safe for concurrent use.
//
// It serves:
//
//	GET, POST          /api/settings/webhooks                 list, create
//	GET, POST, DELETE  /api/settings/webhooks/{id}            get, update, delete
//	POST               /api/settings/webhooks/{id}/enable     enable
//	POST               /api/settings/webhooks/{id}/disable    disable
//	POST               /api/emulator/events                   emit an event
//	GET                /api/emulator/webhooks/{id}/activity   a webhook's activity
//	POST               /api/emulator/webhooks/{id}/activity/{event}/replay
//	GET                /                                      the web page
//	GET                /.well-known/openid-configuration      the OpenID provider
//	GET, POST          /oauth/authorize                       the sign-in page, its form
//	POST               /oauth/token                           exchange a code
//	GET                /oauth/userinfo                        the signed-in user
//	GET                /oauth/jwks                            the ID token key
//	GET                /avatars/{name}.svg                    a user's or org's picture
//	GET                /api/whoami-v2                         the token's user and orgs
//	POST               /api/{type}s/{owner}/{name}/discussions/{num}/{resource}
//	                   comment, status, title, merge, comment/{id}/edit and
//	                   comment/{id}/hide, as the Hub's discussion API (see
//	                   [Hub.Discussion])
//
// Every /api route needs "Authorization: Bearer <token>" with one of
// [Hub.Tokens]. The webhook routes reach only that token's webhooks; the
// discussion routes act as the token's [User] on any discussion.
//
// The /oauth routes play the Hub's OpenID provider, for "Sign in with
// Hugging Face": its URL is the Hub's, its clients are set with
// [WithOAuthClient], and the user who signs in types one of the tokens on
// the sign-in page, which signs in the token's [User]. Any redirect URI is
// accepted, as long as the token request sends the same one.
type Hub struct {
	cfg    config
	tokens []string
	users  map[string]User // by token
	oauth  *provider
	// tokenSums are the SHA-256 sums of tokens, compared in constant time.
	tokenSums [][sha256.Size]byte
	mux       *http.ServeMux
	client    *http.Client

	// ctx ends when the Hub closes, which stops retries and in-flight posts.
	ctx     context.Context
	cancel  context.CancelFunc
	workers sync.WaitGroup

	mu         sync.Mutex
	closed     bool
	hooks      map[string]*hook
	order      []string             // webhook ids, oldest first
	deliveries map[string]*Delivery // by delivery id, those in some activity
	pending    int                  // deliveries not yet final
	// changed is closed and replaced whenever a delivery changes, to wake
	// the waiters.
	changed chan struct{}
	// discussions are the discussions events and the discussion API made,
	// by discussionKey.
	discussions map[string]*discussion
}

// hook is a webhook and its delivery state.
type hook struct {
	hub.Webhook
	owner       string // the token that created it
	jobSourceID string
	failures    int    // events in a row that failed
	suspended   string // why the Hub disabled it; empty when it did not
	triggers    []time.Time
	queue       []*Delivery // waiting for the worker, in event order
	running     bool        // a worker is draining queue
	activity    []*Delivery // oldest first
	deleted     bool
}

// New returns a Hub configured by opts. Serve it with an http.Server, or use
// [NewServer], which does that on a loopback port.
func New(opts ...Option) *Hub {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if len(cfg.tokens) == 0 {
		cfg.tokens = []string{NewToken()}
	}
	h := &Hub{
		cfg:         cfg,
		tokens:      cfg.tokens,
		users:       usersOf(cfg.tokens, cfg.users),
		oauth:       newProvider(cfg.clients),
		client:      deliveryClient(cfg.client),
		hooks:       map[string]*hook{},
		deliveries:  map[string]*Delivery{},
		changed:     make(chan struct{}),
		discussions: map[string]*discussion{},
	}
	for _, t := range cfg.tokens {
		h.tokenSums = append(h.tokenSums, sha256.Sum256([]byte(t)))
	}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.mux = h.routes()
	return h
}

// deliveryClient returns c, or a client that does not follow redirects
// and keeps enough idle connections for many webhooks on one host, with no
// overall timeout (each attempt has its own).
func deliveryClient(c *http.Client) *http.Client {
	if c == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64
		return &http.Client{
			Transport:     tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	cc := *c
	cc.Timeout = 0
	return &cc
}

func (h *Hub) routes() *http.ServeMux {
	mux := http.NewServeMux()
	h.managementRoutes(mux)
	h.emulatorRoutes(mux)
	h.pageRoutes(mux)
	h.oauthRoutes(mux)
	h.discussionRoutes(mux)
	return mux
}

// ServeHTTP serves the routes listed on [Hub].
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Tokens returns the tokens the Hub accepts, the first one first.
func (h *Hub) Tokens() []string { return append([]string(nil), h.tokens...) }

// Close stops the deliveries: queued ones are recorded as skipped, in-flight
// ones are cancelled. It waits for the delivery workers to end.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	h.cancel()
	h.workers.Wait()
}

// tokenOf returns the token of the request's "Authorization: Bearer" header
// when it is one the Hub accepts.
func (h *Hub) tokenOf(r *http.Request) (string, bool) {
	t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return "", false
	}
	return h.validToken(strings.TrimSpace(t))
}

// validToken returns t when it is one of the Hub's tokens, comparing in
// constant time.
func (h *Hub) validToken(t string) (string, bool) {
	if t == "" {
		return "", false
	}
	sum := sha256.Sum256([]byte(t))
	found := -1
	for i, s := range h.tokenSums {
		if subtle.ConstantTimeCompare(sum[:], s[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return "", false
	}
	return h.tokens[found], true
}

// NewToken returns a random token shaped like a Hugging Face user access
// token ("hf_" and 34 letters).
func NewToken() string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, 34)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = letters[int(b[i])%len(letters)]
	}
	return "hf_" + string(b)
}

// newID returns a Hub-like id: 24 hex digits, the first 8 the creation time
// in Unix seconds, as MongoDB ObjectIDs are.
func newID(now time.Time) string {
	var b [12]byte
	_, _ = rand.Read(b[4:])
	sec := uint32(now.Unix())
	b[0], b[1], b[2], b[3] = byte(sec>>24), byte(sec>>16), byte(sec>>8), byte(sec)
	return hex.EncodeToString(b[:])
}

// notifyLocked wakes the waiters; h.mu must be held.
func (h *Hub) notifyLocked() {
	close(h.changed)
	h.changed = make(chan struct{})
}

// ownedHook returns the webhook id when token owns it; h.mu must be held.
func (h *Hub) ownedHook(token, id string) *hook {
	hk := h.hooks[id]
	if hk == nil || hk.owner != token {
		return nil
	}
	return hk
}
