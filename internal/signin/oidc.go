package signin

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// The routes of Sign in with Hugging Face, as huggingface_hub's
// attach_huggingface_oauth names them.
const (
	LoginPath    = "/oauth/huggingface/login"
	CallbackPath = "/oauth/huggingface/callback"
	LogoutPath   = "/oauth/huggingface/logout"
)

// providerTimeout bounds each exchange with the provider.
const providerTimeout = 15 * time.Second

// provider is the Hub's OpenID provider, discovered on first use and kept.
type provider struct {
	cfg    OAuth
	client *http.Client

	mu sync.Mutex
	p  *oidc.Provider
}

func newProvider(cfg OAuth, client *http.Client) *provider {
	if len(cfg.Scopes) == 0 {
		cfg.Scopes = []string{oidc.ScopeOpenID, "profile"}
	}
	return &provider{cfg: cfg, client: client}
}

// context returns ctx with the provider's HTTP client, for go-oidc and
// x/oauth2.
func (p *provider) context(ctx context.Context) context.Context {
	if p.client == nil {
		return ctx
	}
	return oidc.ClientContext(ctx, p.client)
}

// discover returns the provider, reading its discovery document the first
// time; a failure is not kept, so the next sign-in tries again.
func (p *provider) discover(ctx context.Context) (*oidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.p != nil {
		return p.p, nil
	}
	op, err := oidc.NewProvider(p.context(ctx), p.cfg.ProviderURL)
	if err != nil {
		return nil, err
	}
	p.p = op
	return op, nil
}

// oauth2Config is the client's configuration for one redirect URL.
func (p *provider) oauth2Config(op *oidc.Provider, redirectURL string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     p.cfg.ClientID,
		ClientSecret: p.cfg.ClientSecret,
		Endpoint:     op.Endpoint(),
		RedirectURL:  redirectURL,
		Scopes:       p.cfg.Scopes,
	}
}

// login starts Sign in with Hugging Face: it keeps a state, a nonce and a
// PKCE verifier in the sign-in cookie and sends the browser to the Hub.
func (g *Gate) login(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), providerTimeout)
	defer cancel()
	op, err := g.oidc.discover(ctx)
	if err != nil {
		g.cfg.Logger.Error("sign-in: the provider cannot be reached", "provider", g.oidc.cfg.ProviderURL, "err", err)
		g.renderPage(w, r, http.StatusBadGateway, pageData{Error: "The sign-in provider cannot be reached; try again in a moment."})
		return
	}
	base, prefix := g.cfg.Base(r)
	f := flow{
		State:    randomString(24),
		Nonce:    randomString(24),
		Verifier: oauth2.GenerateVerifier(),
		Next:     safeNext(r.URL.Query().Get("next"), prefix),
		Expires:  time.Now().Add(flowTTL).Unix(),
	}
	v, err := g.codec.seal(flowCookie, f)
	if err != nil {
		http.Error(w, "starting sign-in: "+err.Error(), http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, cookie(flowCookie, v, flowTTL, g.secure(r)))
	conf := g.oidc.oauth2Config(op, base+CallbackPath)
	http.Redirect(w, r, conf.AuthCodeURL(f.State, oidc.Nonce(f.Nonce), oauth2.S256ChallengeOption(f.Verifier)), http.StatusFound)
}

// hubClaims are the claims of the ID token and userinfo that the gate
// reads (huggingface_hub's OAuthUserInfo has more).
type hubClaims struct {
	Subject           string `json:"sub"`
	Name              string `json:"name"`
	PreferredUsername string `json:"preferred_username"`
	Orgs              []struct {
		PreferredUsername string `json:"preferred_username"`
	} `json:"orgs"`
}

// errSignIn is a sign-in that could not complete, with what the page says.
type errSignIn struct {
	status int
	page   string // shown to the user
	err    error  // logged
}

func (e *errSignIn) Error() string { return e.page + ": " + e.err.Error() }

// callback completes Sign in with Hugging Face: it checks the state,
// exchanges the code with the PKCE verifier, verifies the ID token and its
// nonce, reads the user's orgs from userinfo, and starts the session.
func (g *Gate) callback(w http.ResponseWriter, r *http.Request) {
	_, prefix := g.cfg.Base(r)
	http.SetCookie(w, cookie(flowCookie, "", 0, g.secure(r)))
	s, err := g.complete(r)
	if err != nil {
		var se *errSignIn
		if !errors.As(err, &se) {
			se = &errSignIn{status: http.StatusInternalServerError, page: "Sign-in failed.", err: err}
		}
		g.cfg.Logger.Warn("sign-in failed", "err", se.err)
		g.renderPage(w, r, se.status, pageData{Error: se.page})
		return
	}
	if err := g.startSession(w, r, s.session); err != nil {
		http.Error(w, "starting the session: "+err.Error(), http.StatusInternalServerError)
		return
	}
	g.cfg.Logger.Info("signed in", "user", s.session.User, "operator", g.allowed(s.session))
	next := s.next
	if next == "" {
		next = prefix + "/"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// signedIn is a completed sign-in.
type signedIn struct {
	session session
	next    string
}

func (g *Gate) complete(r *http.Request) (signedIn, error) {
	var f flow
	c, err := r.Cookie(flowCookie)
	if err == nil {
		err = g.codec.open(flowCookie, c.Value, &f)
	}
	if err != nil || time.Now().Unix() >= f.Expires {
		return signedIn{}, &errSignIn{http.StatusBadRequest, "This sign-in expired or was started in another browser; sign in again.", fmt.Errorf("no valid sign-in cookie: %v", err)}
	}
	q := r.URL.Query()
	if e := q.Get("error"); e != "" {
		return signedIn{}, &errSignIn{http.StatusUnauthorized, "Sign-in was not completed (" + clip(e, 64) + ").", errors.New("the provider answered " + clip(e, 64))}
	}
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.State)) != 1 {
		return signedIn{}, &errSignIn{http.StatusBadRequest, "This sign-in does not match the one started in this browser; sign in again.", errors.New("state mismatch")}
	}
	ctx, cancel := context.WithTimeout(g.oidc.context(r.Context()), providerTimeout)
	defer cancel()
	op, err := g.oidc.discover(ctx)
	if err != nil {
		return signedIn{}, &errSignIn{http.StatusBadGateway, "The sign-in provider cannot be reached; try again in a moment.", err}
	}
	base, _ := g.cfg.Base(r)
	tok, err := g.oidc.oauth2Config(op, base+CallbackPath).Exchange(ctx, q.Get("code"), oauth2.VerifierOption(f.Verifier))
	if err != nil {
		return signedIn{}, &errSignIn{http.StatusBadGateway, "The sign-in provider refused the sign-in; sign in again.", fmt.Errorf("exchanging the code: %w", err)}
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return signedIn{}, &errSignIn{http.StatusBadGateway, "The sign-in provider sent no ID token.", errors.New("no id_token in the token response")}
	}
	idt, err := op.Verifier(&oidc.Config{ClientID: g.oidc.cfg.ClientID}).Verify(ctx, raw)
	if err != nil {
		return signedIn{}, &errSignIn{http.StatusBadGateway, "The sign-in provider's ID token is not valid.", fmt.Errorf("verifying the ID token: %w", err)}
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		return signedIn{}, &errSignIn{http.StatusBadRequest, "This sign-in does not match the one started in this browser; sign in again.", errors.New("nonce mismatch")}
	}
	var id hubClaims
	if err := idt.Claims(&id); err != nil {
		return signedIn{}, &errSignIn{http.StatusBadGateway, "The sign-in provider's ID token is not valid.", err}
	}
	ui, err := op.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return signedIn{}, &errSignIn{http.StatusBadGateway, "The sign-in provider did not say who you are; sign in again.", fmt.Errorf("reading userinfo: %w", err)}
	}
	var info hubClaims
	if err := ui.Claims(&info); err != nil || info.Subject != idt.Subject {
		return signedIn{}, &errSignIn{http.StatusBadGateway, "The sign-in provider did not say who you are; sign in again.", fmt.Errorf("userinfo for another subject than the ID token, or unreadable: %v", err)}
	}
	s := session{User: cmpOr(info.PreferredUsername, id.PreferredUsername), Name: cmpOr(info.Name, id.Name)}
	if !validName(s.User) {
		return signedIn{}, &errSignIn{http.StatusBadGateway, "The sign-in provider sent no user name.", fmt.Errorf("preferred_username %q", s.User)}
	}
	for _, o := range info.Orgs {
		if slices.Contains(g.orgs, o.PreferredUsername) {
			s.Orgs = append(s.Orgs, o.PreferredUsername)
		}
	}
	return signedIn{session: s, next: f.Next}, nil
}

// cmpOr returns a, or b when a is empty.
func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// clip cuts s to n bytes, for a value from outside shown on a page.
func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// safeNext returns next when it is a path of this server (under prefix),
// else the server's root, so that sign-in never sends a browser elsewhere.
func safeNext(next, prefix string) string {
	home := prefix + "/"
	u, err := url.Parse(next)
	if next == "" || err != nil || u.Scheme != "" || u.Host != "" || u.User != nil ||
		!strings.HasPrefix(next, home) || strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\\r\n") {
		return home
	}
	return next
}
