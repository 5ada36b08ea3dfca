package hubtest_test

import (
	"cmp"
	"encoding/json"
	"html"
	"io"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/hfhooks/hfhooks/hubtest"
	"golang.org/x/oauth2"
)

// The user and the client of the OpenID provider's tests.
const (
	alice        = "hf_alice_oauth"
	clientID     = "space-client"
	clientSecret = "space-secret"
	redirectURI  = "http://127.0.0.1:7860/oauth/huggingface/callback?from=space"
)

// newProviderHub starts an emulator where alice is a user in two orgs, with
// one more token without a user, and two OAuth clients.
func newProviderHub(t *testing.T, opts ...hubtest.Option) *hubtest.Server {
	t.Helper()
	return newHub(t, append([]hubtest.Option{
		hubtest.WithUser(alice, hubtest.User{Name: "alice", FullName: "Alice Liddell", Orgs: []string{"acme", "huggingface"}}),
		hubtest.WithTokens("hf_bob_oauth"),
		hubtest.WithOAuthClient(clientID, clientSecret),
		hubtest.WithOAuthClient("other-client", "other-secret"),
	}, opts...)...)
}

// hiddenField matches the hidden fields of the sign-in form.
var hiddenField = regexp.MustCompile(`<input type="hidden" name="([^"]+)" value="([^"]*)">`)

// formFields returns the hidden fields of the sign-in page.
func formFields(page string) url.Values {
	v := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(page, -1) {
		v.Add(m[1], html.UnescapeString(m[2]))
	}
	return v
}

// send does the request without following redirects, and returns the answer
// with its body read.
func send(t *testing.T, req *http.Request) (*http.Response, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func get(t *testing.T, u string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return send(t, req)
}

func postForm(t *testing.T, u string, form url.Values, header http.Header) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return send(t, req)
}

// authParams is a valid authorization request of clientID, with the PKCE
// challenge of verifier.
func authParams(verifier string) url.Values {
	return url.Values{
		"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {redirectURI},
		"scope": {"openid profile"}, "state": {"the-state"}, "nonce": {"the-nonce"},
		"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"},
	}
}

// approve posts the sign-in form of the request with token and returns the
// code the provider redirects with.
func approve(t *testing.T, srv *hubtest.Server, params url.Values, token string) string {
	t.Helper()
	form := url.Values{"token": {token}}
	for k, v := range params {
		form[k] = v
	}
	resp, body := postForm(t, srv.URL+"/oauth/authorize", form, nil)
	loc, err := resp.Location()
	if resp.StatusCode != http.StatusFound || err != nil {
		t.Fatalf("approve: %s %v\n%s", resp.Status, err, body)
	}
	if got := loc.Query().Get("state"); got != params.Get("state") {
		t.Errorf("redirected with state %q", got)
	}
	return loc.Query().Get("code")
}

// TestOAuthSignIn runs the whole sign-in as a receiver would: discovery with
// go-oidc, the authorization code flow with PKCE and x/oauth2, the sign-in
// form posted by a plain HTTP client, the ID token verified, userinfo read.
func TestOAuthSignIn(t *testing.T) {
	srv := newProviderHub(t)
	ctx := ctxT(t)

	callbacks := make(chan url.Values, 1)
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		callbacks <- r.URL.Query()
		_, _ = io.WriteString(w, "signed in")
	}))
	t.Cleanup(app.Close)

	provider, err := oidc.NewProvider(ctx, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	conf := oauth2.Config{
		ClientID: clientID, ClientSecret: clientSecret, Endpoint: provider.Endpoint(),
		RedirectURL: app.URL + "/oauth/huggingface/callback", Scopes: []string{oidc.ScopeOpenID, "profile"},
	}
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL("state-123", oidc.Nonce("nonce-456"), oauth2.S256ChallengeOption(verifier))

	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	browser := &http.Client{Jar: jar}
	resp, err := browser.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	au, _ := url.Parse(authURL)
	fields := formFields(string(page))
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(page), `<code id="client">`+clientID+`</code> wants to sign you in`) ||
		!strings.Contains(string(page), `id="approve"`) || !strings.Contains(string(page), `id="deny"`) || !maps.EqualFunc(fields, au.Query(), slices.Equal) {
		t.Fatalf("sign-in page: %s, hidden fields %v, want %v\n%s", resp.Status, fields, au.Query(), page)
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "form-action 'self' "+app.URL) {
		t.Errorf("sign-in page CSP: %q", csp)
	}

	fields.Set("token", alice)
	resp, err = browser.PostForm(srv.URL+"/oauth/authorize", fields)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cb := <-callbacks
	if resp.StatusCode != http.StatusOK || cb.Get("state") != "state-123" || cb.Get("code") == "" {
		t.Fatalf("callback: %s %v", resp.Status, cb)
	}

	tok, err := conf.Exchange(ctx, cb.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == alice || !strings.HasPrefix(tok.AccessToken, "hf_oauth_") || tok.Expiry.Before(time.Now().Add(7*time.Hour)) || tok.Extra("scope") != "openid profile" {
		t.Errorf("token: %+v", tok)
	}
	rawID, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: clientID}).Verify(ctx, rawID)
	if err != nil {
		t.Fatal(err)
	}
	var idClaims struct {
		Name              string `json:"name"`
		PreferredUsername string `json:"preferred_username"`
		Picture           string `json:"picture"`
	}
	if err := idt.Claims(&idClaims); err != nil {
		t.Fatal(err)
	}
	if idt.Nonce != "nonce-456" || idt.Issuer != srv.URL || !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(idt.Subject) ||
		idClaims.Name != "Alice Liddell" || idClaims.PreferredUsername != "alice" || idClaims.Picture != srv.URL+"/avatars/alice.svg" {
		t.Errorf("ID token: %+v %+v", idt, idClaims)
	}

	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		PreferredUsername string `json:"preferred_username"`
		Profile           string `json:"profile"`
		Orgs              []struct {
			Sub               string `json:"sub"`
			PreferredUsername string `json:"preferred_username"`
			Picture           string `json:"picture"`
			RoleInOrg         string `json:"roleInOrg"`
		} `json:"orgs"`
	}
	if err := info.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	var orgs []string
	for _, o := range claims.Orgs {
		orgs = append(orgs, o.PreferredUsername+" "+o.RoleInOrg+" "+o.Picture)
	}
	if info.Subject != idt.Subject || claims.PreferredUsername != "alice" || claims.Profile != srv.URL+"/alice" ||
		!slices.Equal(orgs, []string{"acme admin " + srv.URL + "/avatars/acme.svg", "huggingface admin " + srv.URL + "/avatars/huggingface.svg"}) ||
		claims.Orgs[0].Sub == info.Subject || claims.Orgs[0].Sub == claims.Orgs[1].Sub {
		t.Errorf("userinfo: %+v %+v", info, claims)
	}

	// The picture is served by the emulator, so that a page showing it
	// stays offline.
	if resp, svg := get(t, idClaims.Picture); resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(svg, ">A</text>") {
		t.Errorf("avatar: %s %s\n%s", resp.Status, resp.Header.Get("Content-Type"), svg)
	}
}

func TestOAuthDiscovery(t *testing.T) {
	srv := newProviderHub(t)
	var d map[string]any
	if code := getJSON(t, http.MethodGet, srv.URL+"/.well-known/openid-configuration", "", &d); code != http.StatusOK {
		t.Fatalf("discovery: %d", code)
	}
	b := srv.URL
	want := map[string]any{
		"issuer": b, "authorization_endpoint": b + "/oauth/authorize", "token_endpoint": b + "/oauth/token",
		"userinfo_endpoint": b + "/oauth/userinfo", "jwks_uri": b + "/oauth/jwks",
		"response_types_supported": []any{"code"}, "grant_types_supported": []any{"authorization_code"},
		"subject_types_supported": []any{"public"}, "id_token_signing_alg_values_supported": []any{"RS256"},
		"code_challenge_methods_supported":      []any{"S256"},
		"token_endpoint_auth_methods_supported": []any{"client_secret_basic", "client_secret_post"},
		"scopes_supported":                      []any{"openid", "profile", "email", "read-repos"},
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("discovery:\n got %v\nwant %v", d, want)
	}

	// Behind a TLS proxy, the issuer is the URL the client used.
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL+"/.well-known/openid-configuration", nil)
	req.Host = "hub.example"
	req.Header.Set("X-Forwarded-Proto", "https")
	resp, body := send(t, req)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"issuer":"https://hub.example"`) || !strings.Contains(body, `"jwks_uri":"https://hub.example/oauth/jwks"`) {
		t.Errorf("discovery behind a proxy: %s\n%s", resp.Status, body)
	}
}

// TestOAuthAuthorizeRefusals: an invalid authorization request gets a 400
// page naming the problem, and is never redirected.
func TestOAuthAuthorizeRefusals(t *testing.T) {
	srv := newProviderHub(t)
	tests := []struct {
		name string
		set  url.Values // replaces parameters; an empty value removes one
		want string
	}{
		{"unknown client", url.Values{"client_id": {"nobody"}}, `unknown client_id &#34;nobody&#34;`},
		{"no client", url.Values{"client_id": {""}}, "client_id is missing"},
		{"no redirect_uri", url.Values{"redirect_uri": {""}}, "redirect_uri is missing"},
		{"relative redirect_uri", url.Values{"redirect_uri": {"/callback"}}, "redirect_uri must be an absolute http or https URL"},
		{"javascript redirect_uri", url.Values{"redirect_uri": {"javascript:alert(1)"}}, "redirect_uri must be an absolute http or https URL"},
		{"redirect_uri with a fragment", url.Values{"redirect_uri": {"http://127.0.0.1/cb#x"}}, "without a fragment"},
		{"odd host in redirect_uri", url.Values{"redirect_uri": {"http://a;b/cb"}}, "redirect_uri must be an absolute http or https URL"},
		{"implicit flow", url.Values{"response_type": {"token"}}, `response_type must be code (the authorization code flow), not &#34;token&#34;`},
		{"no openid scope", url.Values{"scope": {"profile"}}, "scope must include openid"},
		{"unknown scope", url.Values{"scope": {"openid write-repos"}}, `unsupported scope &#34;write-repos&#34;`},
		{"plain PKCE", url.Values{"code_challenge_method": {"plain"}}, `code_challenge_method must be S256, not &#34;plain&#34;`},
		{"PKCE method alone", url.Values{"code_challenge": {""}}, "code_challenge_method is given without code_challenge"},
		{"bad challenge", url.Values{"code_challenge": {"short"}}, "code_challenge must be the base64url SHA-256"},
		{"repeated client_id", url.Values{"client_id": {clientID, clientID}}, "client_id is given more than once"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := authParams(oauth2.GenerateVerifier())
			for k, v := range tt.set {
				if v[0] == "" {
					q.Del(k)
				} else {
					q[k] = v
				}
			}
			for _, method := range []string{http.MethodGet, http.MethodPost} {
				var resp *http.Response
				var page string
				if method == http.MethodGet {
					resp, page = get(t, srv.URL+"/oauth/authorize?"+q.Encode())
				} else {
					resp, page = postForm(t, srv.URL+"/oauth/authorize", withToken(q, alice), nil)
				}
				if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(page, `<p id="problem" class="flash bad" role="alert">`) ||
					!strings.Contains(page, tt.want) || strings.Contains(page, `id="authorize"`) {
					t.Errorf("%s: %s, Location %q\n%s", method, resp.Status, resp.Header.Get("Location"), page)
				}
			}
		})
	}
}

// withToken returns the sign-in form of the request q with token.
func withToken(q url.Values, token string) url.Values {
	f := maps.Clone(q)
	f.Set("token", token)
	return f
}

func TestOAuthApproveAndDeny(t *testing.T) {
	srv := newProviderHub(t)
	q := authParams(oauth2.GenerateVerifier())

	resp, page := postForm(t, srv.URL+"/oauth/authorize", withToken(q, "hf_not_a_token"), nil)
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Location") != "" || !strings.Contains(page, "That token is not one this Hub accepts.") ||
		!maps.EqualFunc(formFields(page), q, slices.Equal) || strings.Contains(page, "hf_not_a_token") {
		t.Errorf("wrong token: %s\n%s", resp.Status, page)
	}

	deny := withToken(q, "")
	deny.Set("deny", "1")
	resp, _ = postForm(t, srv.URL+"/oauth/authorize", deny, nil)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || loc != "http://127.0.0.1:7860/oauth/huggingface/callback?error=access_denied&from=space&state=the-state" {
		t.Errorf("deny: %s %q", resp.Status, loc)
	}

	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL+"/oauth/authorize", strings.NewReader("client_id=%zz"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, page := send(t, req); resp.StatusCode != http.StatusBadRequest || !strings.Contains(page, "unreadable form: invalid URL escape") {
		t.Errorf("unreadable form: %s\n%s", resp.Status, page)
	}

	// Without state, the redirect has none; the redirect URI keeps its query.
	q.Del("state")
	resp, _ = postForm(t, srv.URL+"/oauth/authorize", withToken(q, alice), nil)
	loc, err := resp.Location()
	if err != nil || resp.StatusCode != http.StatusFound || loc.Query().Has("state") || loc.Query().Get("from") != "space" || len(loc.Query().Get("code")) < 20 {
		t.Errorf("approve without state: %s %v %v", resp.Status, loc, err)
	}
}

// TestOAuthTokenRefusals: the token endpoint checks the client, the code,
// the redirect URI and PKCE, and answers RFC 6749 errors.
func TestOAuthTokenRefusals(t *testing.T) {
	srv := newProviderHub(t)
	expiring := newProviderHub(t, hubtest.WithOAuthTTLs(time.Nanosecond, time.Hour))
	basic := func(id, secret string) http.Header {
		req, _ := http.NewRequest(http.MethodPost, "/", nil)
		req.SetBasicAuth(id, secret)
		return req.Header
	}
	tests := []struct {
		name    string
		hub     *hubtest.Server
		set     url.Values // replaces fields of the token request
		header  http.Header
		reuse   bool // exchange the code once first
		status  int
		errCode string
		desc    string
	}{
		{name: "basic auth", header: basic(clientID, clientSecret), status: http.StatusOK},
		{name: "form auth", set: url.Values{"client_id": {clientID}, "client_secret": {clientSecret}}, status: http.StatusOK},
		{name: "wrong verifier", set: url.Values{"code_verifier": {oauth2.GenerateVerifier()}}, header: basic(clientID, clientSecret),
			status: http.StatusBadRequest, errCode: "invalid_grant", desc: "code_verifier does not match the code_challenge"},
		{name: "no verifier", set: url.Values{"code_verifier": {""}}, header: basic(clientID, clientSecret),
			status: http.StatusBadRequest, errCode: "invalid_grant", desc: "code_verifier is missing: the authorization request had a code_challenge"},
		{name: "code reused", reuse: true, header: basic(clientID, clientSecret),
			status: http.StatusBadRequest, errCode: "invalid_grant", desc: "the code was already used"},
		{name: "code expired", hub: expiring, header: basic(clientID, clientSecret),
			status: http.StatusBadRequest, errCode: "invalid_grant", desc: "the code expired"},
		{name: "unknown code", set: url.Values{"code": {"forged"}}, header: basic(clientID, clientSecret),
			status: http.StatusBadRequest, errCode: "invalid_grant", desc: "unknown code"},
		{name: "no code", set: url.Values{"code": {""}}, header: basic(clientID, clientSecret),
			status: http.StatusBadRequest, errCode: "invalid_request", desc: "code is missing"},
		{name: "wrong redirect_uri", set: url.Values{"redirect_uri": {"http://127.0.0.1:7860/oauth/huggingface/callback"}}, header: basic(clientID, clientSecret),
			status: http.StatusBadRequest, errCode: "invalid_grant", desc: "redirect_uri is not the one of the authorization request"},
		{name: "another client's code", header: basic("other-client", "other-secret"),
			status: http.StatusBadRequest, errCode: "invalid_grant", desc: "the code was issued to another client"},
		{name: "wrong client secret", header: basic(clientID, "guess"),
			status: http.StatusUnauthorized, errCode: "invalid_client", desc: "unknown client or wrong client secret"},
		{name: "wrong client secret in the form", set: url.Values{"client_id": {clientID}, "client_secret": {"guess"}},
			status: http.StatusUnauthorized, errCode: "invalid_client", desc: "unknown client or wrong client secret"},
		{name: "no client authentication",
			status: http.StatusUnauthorized, errCode: "invalid_client", desc: "no client authentication: use HTTP Basic, or client_id and client_secret"},
		{name: "refresh grant", set: url.Values{"grant_type": {"refresh_token"}}, header: basic(clientID, clientSecret),
			status: http.StatusBadRequest, errCode: "unsupported_grant_type", desc: `grant_type must be authorization_code, not "refresh_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := cmp.Or(tt.hub, srv)
			verifier := oauth2.GenerateVerifier()
			form := url.Values{
				"grant_type": {"authorization_code"}, "code": {approve(t, h, authParams(verifier), alice)},
				"redirect_uri": {redirectURI}, "code_verifier": {verifier},
			}
			for k, v := range tt.set {
				if v[0] == "" {
					form.Del(k)
				} else {
					form[k] = v
				}
			}
			if tt.reuse {
				if resp, body := postForm(t, h.URL+"/oauth/token", form, tt.header); resp.StatusCode != http.StatusOK {
					t.Fatalf("first exchange: %s\n%s", resp.Status, body)
				}
			}
			resp, body := postForm(t, h.URL+"/oauth/token", form, tt.header)
			var got struct {
				Error       string `json:"error"`
				Description string `json:"error_description"`
				AccessToken string `json:"access_token"`
				TokenType   string `json:"token_type"`
				ExpiresIn   int    `json:"expires_in"`
				IDToken     string `json:"id_token"`
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("%s: %v\n%s", resp.Status, err, body)
			}
			if resp.StatusCode != tt.status || got.Error != tt.errCode || got.Description != tt.desc || resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s %s", resp.Status, body)
			}
			if tt.status == http.StatusOK && (got.TokenType != "Bearer" || got.ExpiresIn != 8*3600 || got.IDToken == "" || got.AccessToken == "") {
				t.Errorf("success: %s", body)
			}
			if tt.status == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

// TestOAuthUserinfoRefusals: userinfo needs an unexpired access token the
// provider issued; the user's own Hub token is not one.
func TestOAuthUserinfoRefusals(t *testing.T) {
	srv := newProviderHub(t)
	expiring := newProviderHub(t, hubtest.WithOAuthTTLs(time.Minute, time.Nanosecond))
	exchange := func(h *hubtest.Server) string {
		verifier := oauth2.GenerateVerifier()
		form := url.Values{
			"grant_type": {"authorization_code"}, "code": {approve(t, h, authParams(verifier), alice)}, "redirect_uri": {redirectURI},
			"code_verifier": {verifier}, "client_id": {clientID}, "client_secret": {clientSecret},
		}
		resp, body := postForm(t, h.URL+"/oauth/token", form, nil)
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &tok) != nil {
			t.Fatalf("exchange: %s\n%s", resp.Status, body)
		}
		return tok.AccessToken
	}
	good := exchange(srv)
	tests := []struct {
		name   string
		hub    *hubtest.Server
		header string
		status int
	}{
		{"good token", srv, "Bearer " + good, http.StatusOK},
		{"scheme in lower case", srv, "bearer " + good, http.StatusOK},
		{"no header", srv, "", http.StatusUnauthorized},
		{"unknown token", srv, "Bearer hf_oauth_forged", http.StatusUnauthorized},
		{"the user's Hub token", srv, "Bearer " + alice, http.StatusUnauthorized},
		{"basic auth", srv, "Basic " + good, http.StatusUnauthorized},
		{"expired token", expiring, "Bearer " + exchange(expiring), http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, tt.hub.URL+"/oauth/userinfo", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, body := send(t, req)
			if resp.StatusCode != tt.status {
				t.Errorf("%s\n%s", resp.Status, body)
			}
			if tt.status == http.StatusOK && !strings.Contains(body, `"preferred_username":"alice"`) {
				t.Errorf("userinfo: %s", body)
			}
			if tt.status == http.StatusUnauthorized && (resp.Header.Get("WWW-Authenticate") != `Bearer error="invalid_token"` || !strings.Contains(body, `"error":"invalid_token"`)) {
				t.Errorf("refusal: %q %s", resp.Header.Get("WWW-Authenticate"), body)
			}
		})
	}
}

func TestUsers(t *testing.T) {
	srv := newHub(t,
		hubtest.WithTokens("hf_one", "hf_two"),
		hubtest.WithUser("hf_three", hubtest.User{Name: "user1", Orgs: []string{"acme"}}),
		hubtest.WithUser("hf_one", hubtest.User{Orgs: []string{"solo"}}),
	)
	tests := []struct {
		token string
		want  hubtest.User
	}{
		{"hf_one", hubtest.User{Name: "user2", FullName: "user2", Orgs: []string{"solo"}}},
		{"hf_two", hubtest.User{Name: "user3", FullName: "user3"}},
		{"hf_three", hubtest.User{Name: "user1", FullName: "user1", Orgs: []string{"acme"}}},
	}
	for _, tt := range tests {
		if got, ok := srv.User(tt.token); !ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("User(%s) = %+v, %t; want %+v", tt.token, got, ok, tt.want)
		}
	}
	if got := srv.Tokens(); !slices.Equal(got, []string{"hf_one", "hf_two", "hf_three"}) {
		t.Errorf("Tokens() = %q", got)
	}
	if u, ok := srv.User("hf_nobody"); ok {
		t.Errorf("User of an unknown token: %+v", u)
	}
	if u, ok := newHub(t).User(srv.Token); ok {
		t.Errorf("User of another Hub's token: %+v", u)
	}
	rnd := newHub(t)
	if u, ok := rnd.User(rnd.Token); !ok || u.Name != "user1" {
		t.Errorf("User of the random token: %+v, %t", u, ok)
	}
}

func TestOAuthClient(t *testing.T) {
	if id, secret := newProviderHub(t).OAuthClient(); id != clientID || secret != clientSecret {
		t.Errorf("OAuthClient() = %q, %q; want the first one given", id, secret)
	}
	a, b := newHub(t, hubtest.WithOAuthClient("", "s"), hubtest.WithOAuthClient("id", "")), newHub(t)
	aID, aSecret := a.OAuthClient()
	bID, bSecret := b.OAuthClient()
	if len(aID) < 20 || len(aSecret) < 20 || aID == bID || aSecret == bSecret || aID == aSecret {
		t.Errorf("random clients: %q %q, %q %q", aID, aSecret, bID, bSecret)
	}
}
