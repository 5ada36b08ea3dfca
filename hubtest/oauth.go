package hubtest

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"github.com/hfhooks/hfhooks/internal/web"
)

// The emulator plays the Hub's OpenID provider (spec §8), so that "Sign in
// with Hugging Face" can be tested offline: discovery, the authorization
// code flow with PKCE, signed ID tokens, userinfo with the user's orgs.

// scopesSupported are the scopes a client may ask for.
var scopesSupported = []string{"openid", "profile", "email", "read-repos"}

// orgRole is the role every user has in its orgs.
const orgRole = "admin"

var authorizeTemplate = template.Must(template.New("authorize.html").Funcs(web.Funcs()).ParseFS(templatesFS, "templates/authorize.html"))

// oauthClient is a registered OAuth client.
type oauthClient struct{ id, secret string }

// provider is the state of the OpenID provider.
type provider struct {
	clients []oauthClient
	// key is the ID tokens' signing key, made on first use: making it takes
	// tens of milliseconds, which most Hubs, in tests, would waste.
	key func() (*signingKey, error)

	mu sync.Mutex
	// codes and access hold the authorization codes and access tokens
	// issued, by their SHA-256 sum.
	codes  map[[sha256.Size]byte]*grant
	access map[[sha256.Size]byte]*grant
}

// grant is what an authorization code or an access token stands for.
type grant struct {
	clientID, redirectURI, scope, nonce, codeChallenge string
	user                                               User
	expires                                            time.Time
	used                                               bool // a code was exchanged
}

func newProvider(clients []oauthClient) *provider {
	if len(clients) == 0 {
		clients = []oauthClient{{id: rand.Text(), secret: rand.Text()}}
	}
	return &provider{
		clients: clients,
		key:     sync.OnceValues(newSigningKey),
		codes:   map[[sha256.Size]byte]*grant{},
		access:  map[[sha256.Size]byte]*grant{},
	}
}

// OAuthClient returns the id and secret of the first OAuth client of the
// OpenID provider: one given with [WithOAuthClient], or the random one.
func (h *Hub) OAuthClient() (id, secret string) {
	c := h.oauth.clients[0]
	return c.id, c.secret
}

// oauthRoutes registers the OpenID provider.
func (h *Hub) oauthRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /.well-known/openid-configuration", h.serveDiscovery)
	mux.HandleFunc("GET /oauth/authorize", h.serveAuthorize)
	mux.HandleFunc("POST /oauth/authorize", h.serveApprove)
	mux.HandleFunc("POST /oauth/token", h.serveToken)
	mux.HandleFunc("GET /oauth/userinfo", h.serveUserinfo)
	mux.HandleFunc("GET /oauth/jwks", h.serveJWKS)
	mux.HandleFunc("GET /avatars/{file}", serveAvatar)
}

// issuer is the emulator's base URL as the request reached it, without a
// trailing slash: the provider's issuer, and the base of its endpoints.
func issuer(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p
	}
	return scheme + "://" + r.Host
}

// discovery is the OpenID provider metadata.
type discovery struct {
	Issuer                            string   `json:"issuer"`
	AuthorizationEndpoint             string   `json:"authorization_endpoint"`
	TokenEndpoint                     string   `json:"token_endpoint"`
	UserinfoEndpoint                  string   `json:"userinfo_endpoint"`
	JWKSURI                           string   `json:"jwks_uri"`
	ResponseTypesSupported            []string `json:"response_types_supported"`
	GrantTypesSupported               []string `json:"grant_types_supported"`
	SubjectTypesSupported             []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported  []string `json:"id_token_signing_alg_values_supported"`
	CodeChallengeMethodsSupported     []string `json:"code_challenge_methods_supported"`
	TokenEndpointAuthMethodsSupported []string `json:"token_endpoint_auth_methods_supported"`
	ScopesSupported                   []string `json:"scopes_supported"`
}

func (h *Hub) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	base := issuer(r)
	writeJSON(w, http.StatusOK, discovery{
		Issuer:                            base,
		AuthorizationEndpoint:             base + "/oauth/authorize",
		TokenEndpoint:                     base + "/oauth/token",
		UserinfoEndpoint:                  base + "/oauth/userinfo",
		JWKSURI:                           base + "/oauth/jwks",
		ResponseTypesSupported:            []string{"code"},
		GrantTypesSupported:               []string{"authorization_code"},
		SubjectTypesSupported:             []string{"public"},
		IDTokenSigningAlgValuesSupported:  []string{string(jose.RS256)},
		CodeChallengeMethodsSupported:     []string{"S256"},
		TokenEndpointAuthMethodsSupported: []string{"client_secret_basic", "client_secret_post"},
		ScopesSupported:                   scopesSupported,
	})
}

// authRequest is an authorization request: the query of GET
// /oauth/authorize, and the hidden fields of the form that answers it.
type authRequest struct {
	responseType, clientID, redirectURI, scope, state, nonce, codeChallenge, codeChallengeMethod string
	// origin is the scheme and host of redirectURI.
	origin string
}

// authParams are the parameters of an authorization request.
var authParams = []string{"response_type", "client_id", "redirect_uri", "scope", "state", "nonce", "code_challenge", "code_challenge_method"}

// parseAuthRequest reads and checks an authorization request. Any
// redirect_uri that is an absolute http or https URL is accepted.
func (h *Hub) parseAuthRequest(v url.Values) (authRequest, error) {
	for _, k := range authParams {
		if len(v[k]) > 1 {
			return authRequest{}, fmt.Errorf("%s is given more than once", k)
		}
	}
	q := authRequest{
		responseType: v.Get("response_type"), clientID: v.Get("client_id"), redirectURI: v.Get("redirect_uri"),
		scope: v.Get("scope"), state: v.Get("state"), nonce: v.Get("nonce"),
		codeChallenge: v.Get("code_challenge"), codeChallengeMethod: v.Get("code_challenge_method"),
	}
	switch {
	case q.clientID == "":
		return q, errors.New("client_id is missing")
	case h.findClient(q.clientID) == nil:
		return q, fmt.Errorf("unknown client_id %q", q.clientID)
	}
	if q.redirectURI == "" {
		return q, errors.New("redirect_uri is missing")
	}
	u, err := url.Parse(q.redirectURI)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Contains(q.redirectURI, "#") ||
		strings.ContainsFunc(u.Host, func(c rune) bool { return !strings.ContainsRune(hostChars, c) }) {
		return q, errors.New("redirect_uri must be an absolute http or https URL without a fragment")
	}
	q.origin = u.Scheme + "://" + u.Host
	if q.responseType != "code" {
		return q, fmt.Errorf("response_type must be code (the authorization code flow), not %q", q.responseType)
	}
	scopes := strings.Fields(q.scope)
	if !slices.Contains(scopes, "openid") {
		return q, fmt.Errorf("scope must include openid (got %q)", q.scope)
	}
	for _, s := range scopes {
		if !slices.Contains(scopesSupported, s) {
			return q, fmt.Errorf("unsupported scope %q: want some of %s", s, strings.Join(scopesSupported, " "))
		}
	}
	switch {
	case q.codeChallenge == "" && q.codeChallengeMethod != "":
		return q, errors.New("code_challenge_method is given without code_challenge")
	case q.codeChallenge != "" && q.codeChallengeMethod != "S256":
		return q, fmt.Errorf("code_challenge_method must be S256, not %q", q.codeChallengeMethod)
	case q.codeChallenge != "" && !isS256Challenge(q.codeChallenge):
		return q, errors.New("code_challenge must be the base64url SHA-256 of the code verifier (43 characters)")
	}
	return q, nil
}

// hostChars are the characters a redirect URI's host may have, so that its
// origin can go in a Content-Security-Policy.
const hostChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]"

// isS256Challenge reports whether s is shaped like a SHA-256 sum in
// unpadded base64url.
func isS256Challenge(s string) bool {
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == sha256.Size
}

// fields are the request's parameters, the hidden fields of the form.
func (q authRequest) fields() map[string]string {
	f := map[string]string{}
	for i, v := range []string{q.responseType, q.clientID, q.redirectURI, q.scope, q.state, q.nonce, q.codeChallenge, q.codeChallengeMethod} {
		if v != "" {
			f[authParams[i]] = v
		}
	}
	return f
}

// findClient returns the client with this id, or nil.
func (h *Hub) findClient(id string) *oauthClient {
	for i, c := range h.oauth.clients {
		if c.id == id {
			return &h.oauth.clients[i]
		}
	}
	return nil
}

// authorizePage is what the sign-in page shows. Problem is set when the
// request is invalid, and then nothing else is.
type authorizePage struct {
	Problem string
	Error   string
	Client  string
	Scopes  []string
	Origin  string
	Fields  map[string]string
}

// serveAuthorize shows the sign-in page of an authorization request: a
// form where the emulator's user types a token, to approve, or denies.
func (h *Hub) serveAuthorize(w http.ResponseWriter, r *http.Request) {
	q, err := h.parseAuthRequest(r.URL.Query())
	if err != nil {
		renderAuthorize(w, http.StatusBadRequest, "", authorizePage{Problem: err.Error()})
		return
	}
	renderAuthorize(w, http.StatusOK, q.origin, authPage(q, ""))
}

// authPage is the sign-in page of q, with an error when problem is set.
func authPage(q authRequest, problem string) authorizePage {
	return authorizePage{Error: problem, Client: q.clientID, Scopes: strings.Fields(q.scope), Origin: q.origin, Fields: q.fields()}
}

// serveApprove answers the sign-in form. Its fields are those of the
// authorization request (response_type, client_id, redirect_uri, scope,
// state, nonce, code_challenge, code_challenge_method), token, one of the
// Hub's tokens, and deny, set to deny. A valid token approves: the answer
// is 302 Found to redirect_uri with code and state. Denying redirects with
// error=access_denied and state. A token the Hub does not accept shows the
// page again, with 401.
func (h *Hub) serveApprove(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		renderAuthorize(w, http.StatusBadRequest, "", authorizePage{Problem: "unreadable form: " + err.Error()})
		return
	}
	q, err := h.parseAuthRequest(r.PostForm)
	if err != nil {
		renderAuthorize(w, http.StatusBadRequest, "", authorizePage{Problem: err.Error()})
		return
	}
	if r.PostForm.Get("deny") != "" {
		h.cfg.logger.Info("sign-in denied", "client", q.clientID)
		http.Redirect(w, r, withParams(q.redirectURI, "error", "access_denied", "state", q.state), http.StatusFound)
		return
	}
	token, ok := h.validToken(strings.TrimSpace(r.PostForm.Get("token")))
	if !ok {
		renderAuthorize(w, http.StatusUnauthorized, q.origin, authPage(q, "That token is not one this Hub accepts."))
		return
	}
	u := h.users[token]
	code := rand.Text()
	h.oauth.put(h.oauth.codes, code, &grant{
		clientID: q.clientID, redirectURI: q.redirectURI, scope: q.scope, nonce: q.nonce, codeChallenge: q.codeChallenge,
		user: u, expires: time.Now().Add(h.cfg.codeTTL),
	})
	h.cfg.logger.Info("sign-in approved", "user", u.Name, "client", q.clientID)
	http.Redirect(w, r, withParams(q.redirectURI, "code", code, "state", q.state), http.StatusFound)
}

// withParams adds the name-value pairs whose value is not empty to the
// query of the URL s, which parseAuthRequest accepted.
func withParams(s string, kv ...string) string {
	u, _ := url.Parse(s)
	v := u.Query()
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	u.RawQuery = v.Encode()
	return u.String()
}

// put stores g under the SHA-256 sum of key in m, first forgetting the
// expired grants of m.
func (p *provider) put(m map[[sha256.Size]byte]*grant, key string, g *grant) {
	now := time.Now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for k, old := range m {
		if !now.Before(old.expires) {
			delete(m, k)
		}
	}
	m[sha256.Sum256([]byte(key))] = g
}

// renderAuthorize writes the sign-in page. Its forms may post to the
// emulator, and be redirected to origin when not empty.
func renderAuthorize(w http.ResponseWriter, code int, origin string, data authorizePage) {
	var buf bytes.Buffer
	if err := authorizeTemplate.Execute(&buf, data); err != nil {
		http.Error(w, "rendering page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	csp := "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'"
	if origin != "" {
		csp += " " + origin
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", csp)
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(code)
	_, _ = buf.WriteTo(w)
}

// tokenAnswer is the success answer of the token endpoint.
type tokenAnswer struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	Scope       string `json:"scope"`
	IDToken     string `json:"id_token"`
}

// oauthError is an error answer of RFC 6749 §5.2.
type oauthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description"`
}

// serveToken exchanges an authorization code for tokens. The client
// authenticates with HTTP Basic or client_id and client_secret in the form.
func (h *Hub) serveToken(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if err := r.ParseForm(); err != nil {
		writeJSON(w, http.StatusBadRequest, &oauthError{"invalid_request", "unreadable form: " + err.Error()})
		return
	}
	client, err := h.authClient(r)
	if err != nil {
		w.Header().Set("WWW-Authenticate", `Basic realm="hubtest"`)
		writeJSON(w, http.StatusUnauthorized, &oauthError{"invalid_client", err.Error()})
		return
	}
	f := r.PostForm
	if gt := f.Get("grant_type"); gt != "authorization_code" {
		writeJSON(w, http.StatusBadRequest, &oauthError{"unsupported_grant_type", fmt.Sprintf("grant_type must be authorization_code, not %q", gt)})
		return
	}
	g, oerr := h.oauth.redeem(f.Get("code"), client.id, f.Get("redirect_uri"), f.Get("code_verifier"))
	if oerr != nil {
		writeJSON(w, http.StatusBadRequest, oerr)
		return
	}
	now := time.Now()
	at := &grant{clientID: g.clientID, scope: g.scope, user: g.user, expires: now.Add(h.cfg.accessTTL)}
	idToken, err := h.idToken(issuer(r), g, now, at.expires)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, &oauthError{"server_error", err.Error()})
		return
	}
	access := "hf_oauth_" + rand.Text()
	h.oauth.put(h.oauth.access, access, at)
	h.cfg.logger.Info("tokens issued", "user", g.user.Name, "client", client.id)
	writeJSON(w, http.StatusOK, tokenAnswer{
		AccessToken: access, TokenType: "Bearer", ExpiresIn: int(h.cfg.accessTTL / time.Second), Scope: g.scope, IDToken: idToken,
	})
}

// authClient returns the client the token request authenticates as.
func (h *Hub) authClient(r *http.Request) (*oauthClient, error) {
	id, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 §2.3.1: both are form-encoded before Basic encoding.
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return nil, errors.New("malformed HTTP Basic credentials")
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	if id == "" {
		return nil, errors.New("no client authentication: use HTTP Basic, or client_id and client_secret")
	}
	c := h.findClient(id)
	if c == nil || subtle.ConstantTimeCompare([]byte(secret), []byte(c.secret)) != 1 {
		return nil, errors.New("unknown client or wrong client secret")
	}
	return c, nil
}

// redeem uses up an authorization code, which must be unused, unexpired,
// issued to clientID for redirectURI, and match verifier when it had a
// challenge.
func (p *provider) redeem(code, clientID, redirectURI, verifier string) (*grant, *oauthError) {
	invalid := func(format string, args ...any) (*grant, *oauthError) {
		return nil, &oauthError{"invalid_grant", fmt.Sprintf(format, args...)}
	}
	if code == "" {
		return nil, &oauthError{"invalid_request", "code is missing"}
	}
	p.mu.Lock()
	g := p.codes[sha256.Sum256([]byte(code))]
	var used bool
	if g != nil {
		used, g.used = g.used, true
	}
	p.mu.Unlock()
	switch {
	case g == nil:
		return invalid("unknown code")
	case used:
		return invalid("the code was already used")
	case !time.Now().Before(g.expires):
		return invalid("the code expired")
	case g.clientID != clientID:
		return invalid("the code was issued to another client")
	case g.redirectURI != redirectURI:
		return invalid("redirect_uri is not the one of the authorization request")
	case g.codeChallenge == "":
		return g, nil
	case verifier == "":
		return invalid("code_verifier is missing: the authorization request had a code_challenge")
	}
	sum := sha256.Sum256([]byte(verifier))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(g.codeChallenge)) != 1 {
		return invalid("code_verifier does not match the code_challenge")
	}
	return g, nil
}

// identity is what the Hub says of a user or an org.
type identity struct {
	Name              string `json:"name"`
	PreferredUsername string `json:"preferred_username"`
	Picture           string `json:"picture"`
}

func identityOf(base, name, fullName string) identity {
	return identity{Name: fullName, PreferredUsername: name, Picture: base + "/avatars/" + url.PathEscape(name) + ".svg"}
}

// idClaims are the ID token's claims besides the registered ones.
type idClaims struct {
	Nonce string `json:"nonce,omitempty"`
	identity
}

// idToken returns the signed ID token of g, issued by iss.
func (h *Hub) idToken(iss string, g *grant, now, expires time.Time) (string, error) {
	key, err := h.oauth.key()
	if err != nil {
		return "", err
	}
	std := jwt.Claims{
		Issuer: iss, Subject: accountID("user", g.user.Name), Audience: jwt.Audience{g.clientID},
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(expires),
	}
	tok, err := jwt.Signed(key.signer).Claims(std).Claims(idClaims{Nonce: g.nonce, identity: identityOf(iss, g.user.Name, g.user.FullName)}).Serialize()
	if err != nil {
		return "", fmt.Errorf("signing the ID token: %w", err)
	}
	return tok, nil
}

// userinfo is the answer of the userinfo endpoint.
type userinfo struct {
	Sub string `json:"sub"`
	identity
	Profile string    `json:"profile"`
	Orgs    []orgInfo `json:"orgs"`
}

// orgInfo is one of userinfo's orgs.
type orgInfo struct {
	Sub string `json:"sub"`
	identity
	RoleInOrg string `json:"roleInOrg"`
}

// serveUserinfo answers who the access token's user is, with the user's
// orgs.
func (h *Hub) serveUserinfo(w http.ResponseWriter, r *http.Request) {
	g := h.oauth.accessGrant(r)
	if g == nil {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		writeJSON(w, http.StatusUnauthorized, &oauthError{"invalid_token", "the access token is missing, unknown or expired"})
		return
	}
	base, u := issuer(r), g.user
	info := userinfo{Sub: accountID("user", u.Name), identity: identityOf(base, u.Name, u.FullName), Profile: base + "/" + url.PathEscape(u.Name), Orgs: []orgInfo{}}
	for _, o := range u.Orgs {
		info.Orgs = append(info.Orgs, orgInfo{Sub: accountID("org", o), identity: identityOf(base, o, o), RoleInOrg: orgRole})
	}
	writeJSON(w, http.StatusOK, info)
}

// accessGrant returns the grant of the request's unexpired Bearer access
// token, or nil.
func (p *provider) accessGrant(r *http.Request) *grant {
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return nil
	}
	p.mu.Lock()
	g := p.access[sha256.Sum256([]byte(strings.TrimSpace(tok)))]
	p.mu.Unlock()
	if g == nil || !time.Now().Before(g.expires) {
		return nil
	}
	return g
}

func (h *Hub) serveJWKS(w http.ResponseWriter, _ *http.Request) {
	key, err := h.oauth.key()
	if err != nil {
		writeError(w, http.StatusInternalServerError, err.Error())
		return
	}
	writeJSON(w, http.StatusOK, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{key.public}})
}

// signingKey is the RSA key that signs the ID tokens.
type signingKey struct {
	signer jose.Signer
	public jose.JSONWebKey
}

func newSigningKey() (*signingKey, error) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("making the ID token key: %w", err)
	}
	pub := jose.JSONWebKey{Key: &priv.PublicKey, Algorithm: string(jose.RS256), Use: "sig"}
	thumb, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("making the ID token key: %w", err)
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: priv, KeyID: pub.KeyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, fmt.Errorf("making the ID token signer: %w", err)
	}
	return &signingKey{signer: signer, public: pub}, nil
}

// serveAvatar serves the picture of a user or an org: its initial in a
// disc, so that a page showing it makes no request outside the emulator.
func serveAvatar(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(r.PathValue("file"), ".svg")
	if !ok || name == "" {
		http.NotFound(w, r)
		return
	}
	initial := strings.ToUpper(string([]rune(name)[0]))
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Content-Security-Policy", "default-src 'none'")
	w.Header().Set("Cache-Control", "max-age=86400")
	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64"><circle cx="32" cy="32" r="32" fill="#8250df"/>`+
		`<text x="32" y="42" font-family="sans-serif" font-size="30" text-anchor="middle" fill="#fff">%s</text></svg>`, template.HTMLEscapeString(initial))
}
