package hfhooks_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/hubtest"
	"github.com/hfhooks/hfhooks/internal/sample"
	"github.com/hfhooks/hfhooks/metrics"
)

// The emulator's users for the sign-in tests.
const (
	aliceToken = "hf_alice_token" // alice: an operator by name
	bobToken   = "hf_bob_token"   // bob: nobody's operator
	carolToken = "hf_carol_token" // carol: a member of the org acme
	hookSecret = "hook-secret-never-shown"
	opToken    = "operator-token-never-shown"
)

// signInHub starts the emulator as the sign-in provider, with alice, bob
// and carol.
func signInHub(t *testing.T) (*hubtest.Server, hfhooks.OAuthConfig) {
	t.Helper()
	hub := hubtest.NewServer(
		hubtest.WithUser(aliceToken, hubtest.User{Name: "alice"}),
		hubtest.WithUser(bobToken, hubtest.User{Name: "bob"}),
		hubtest.WithUser(carolToken, hubtest.User{Name: "carol", Orgs: []string{"acme"}}),
		hubtest.WithOAuthClient("receiver-client", "receiver-client-secret"),
	)
	t.Cleanup(hub.Close)
	return hub, hfhooks.OAuthConfig{ProviderURL: hub.URL, ClientID: "receiver-client", ClientSecret: "receiver-client-secret"}
}

// accessReceiver starts a receiver with one endpoint, x, behind opts.
func accessReceiver(t *testing.T, opts ...hfhooks.Option) string {
	t.Helper()
	m := metrics.New()
	base := []hfhooks.Option{hfhooks.WithSecret(hookSecret), hfhooks.WithLogger(slog.New(slog.DiscardHandler)), hfhooks.WithOutput(io.Discard), hfhooks.WithObserver(m), hfhooks.WithMetrics(m)}
	srv := hfhooks.NewServer(append(base, opts...)...)
	if err := srv.AddEndpoint("x", func(context.Context, *hfhooks.Delivery) (any, error) { return nil, nil }); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts.URL
}

// noRedirects is a client that shows each answer as it is, with jar.
func noRedirects(jar http.CookieJar) *http.Client {
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// signIn signs in to the receiver at base with Hugging Face, as the
// emulator's user of token, the way a browser does: login, the emulator's
// authorize form, the callback. It returns the cookie jar and the last
// answer.
func signIn(t *testing.T, base, token string) (http.CookieJar, *http.Response) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	resp, err := client.Get(base + "/oauth/huggingface/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	authorize := resp.Request.URL // the emulator's authorize page
	if resp.StatusCode != http.StatusOK || authorize.Path != "/oauth/authorize" {
		t.Fatalf("login went to %s (%s), want the emulator's authorize page", authorize, resp.Status)
	}
	form := authorize.Query()
	form.Set("token", token)
	resp, err = client.PostForm(authorize.Scheme+"://"+authorize.Host+"/oauth/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(strings.NewReader(string(body)))
	return jar, resp
}

// principal is who sends a request in the matrix.
type principal struct {
	name   string
	jar    http.CookieJar // a session, or nil
	bearer string
}

func TestAccessMatrix(t *testing.T) {
	hub, oauth := signInHub(t)
	payload, err := sample.JSON("repo.content", sample.Options{})
	if err != nil {
		t.Fatal(err)
	}
	type route struct{ method, path, secret string }
	operatorRoutes := []route{{"GET", "/", ""}, {"GET", "/api/deliveries", ""}, {"GET", "/api/deliveries/1", ""}, {"GET", "/deliveries/1", ""}, {"POST", "/api/deliveries/1/retry", ""}, {"POST", "/api/test", ""}, {"GET", "/metrics", ""}}

	for _, mode := range []string{"space", "loopback"} {
		t.Run(mode, func(t *testing.T) {
			if mode == "space" {
				t.Setenv("SPACE_ID", "alice/hooks")
			}
			base := accessReceiver(t, hfhooks.WithOAuth(oauth), hfhooks.WithOperators("alice", "org:acme"), hfhooks.WithOperatorToken(opToken))
			aliceJar, _ := signIn(t, base, aliceToken)
			carolJar, _ := signIn(t, base, carolToken)
			bobJar, resp := signIn(t, base, bobToken)
			if resp.StatusCode != http.StatusForbidden {
				t.Errorf("bob signed in: %s, want 403", resp.Status)
			}
			anonymousIn := mode == "loopback" // local development
			for _, p := range []struct {
				principal
				in   bool // let through the operators' door
				want int  // the status when not let in
			}{
				{principal{name: "anonymous"}, anonymousIn, http.StatusUnauthorized},
				{principal{name: "signed in, not allowed", jar: bobJar}, false, http.StatusForbidden},
				{principal{name: "signed in, allowed", jar: aliceJar}, true, 0},
				{principal{name: "signed in, allowed by org", jar: carolJar}, true, 0},
				{principal{name: "bearer token", bearer: opToken}, true, 0},
				{principal{name: "wrong bearer", bearer: "not-the-token"}, false, http.StatusUnauthorized},
			} {
				client := noRedirects(p.jar)
				do := func(r route) (*http.Response, string) {
					var body io.Reader
					if r.path == "/webhooks/x" {
						body = strings.NewReader(string(payload))
					}
					req, _ := http.NewRequest(r.method, base+r.path, body)
					if p.bearer != "" {
						req.Header.Set("Authorization", "Bearer "+p.bearer)
					}
					if r.secret != "" {
						req.Header.Set(hfhooks.SecretHeader, r.secret)
					}
					resp, err := client.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					b, _ := io.ReadAll(resp.Body)
					return resp, string(b)
				}
				for _, r := range operatorRoutes {
					resp, body := do(r)
					refused := resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden
					switch {
					case p.in && refused:
						t.Errorf("%s: %s %s = %s, want it let in: %s", p.name, r.method, r.path, resp.Status, body)
					case !p.in && resp.StatusCode != p.want:
						t.Errorf("%s: %s %s = %s, want %d", p.name, r.method, r.path, resp.Status, p.want)
					case !p.in && (strings.Contains(body, "/webhooks/x") || strings.Contains(body, "hfhooks_")):
						t.Errorf("%s: %s %s shows the receiver's endpoints or metrics: %s", p.name, r.method, r.path, body)
					}
				}
				// The Hub's door is the same for everyone: the webhook secret.
				if resp, body := do(route{"POST", "/webhooks/x", hookSecret}); resp.StatusCode != http.StatusOK {
					t.Errorf("%s: POST /webhooks/x with the secret = %s: %s", p.name, resp.Status, body)
				}
				if resp, _ := do(route{"POST", "/webhooks/x", ""}); resp.StatusCode != http.StatusUnauthorized {
					t.Errorf("%s: POST /webhooks/x without the secret = %s, want 401", p.name, resp.Status)
				}
				for _, path := range []string{"/healthz", "/readyz"} {
					if resp, _ := do(route{"GET", path, ""}); resp.StatusCode != http.StatusOK {
						t.Errorf("%s: GET %s = %s, want 200", p.name, path, resp.Status)
					}
				}
			}
		})
	}
	_ = hub
}

func TestAccessSpaceOwnerByDefault(t *testing.T) {
	_, oauth := signInHub(t)
	t.Setenv("SPACE_ID", "carol/hooks")
	base := accessReceiver(t, hfhooks.WithOAuth(oauth))
	for token, want := range map[string]int{carolToken: http.StatusOK, aliceToken: http.StatusForbidden} {
		_, resp := signIn(t, base, token)
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Errorf("%s: %s, want %d: %s", token, resp.Status, want, body)
		}
		if want == http.StatusForbidden && (!strings.Contains(string(body), "alice") || !strings.Contains(string(body), "carol")) {
			t.Errorf("the 403 page does not name the user and the operators: %s", body)
		}
	}
}

func TestAccessLogout(t *testing.T) {
	_, oauth := signInHub(t)
	t.Setenv("SPACE_ID", "alice/hooks")
	base := accessReceiver(t, hfhooks.WithOAuth(oauth))
	jar, resp := signIn(t, base, aliceToken)
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		t.Fatalf("after sign-in: %s at %s, want 200 at /", resp.Status, resp.Request.URL)
	}
	client := noRedirects(jar)
	if resp, err := client.PostForm(base+"/oauth/huggingface/logout", nil); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %v %v", resp, err)
	}
	resp, err := client.Get(base + "/api/deliveries")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("after logout: %s, want 401", resp.Status)
	}
}

func TestAccessCrossOrigin(t *testing.T) {
	base := accessReceiver(t, hfhooks.WithAccess(hfhooks.AccessPrivate), hfhooks.WithOperatorToken(opToken))
	jar, _ := cookiejar.New(nil)
	client := noRedirects(jar)
	resp, err := client.PostForm(base+"/signin", url.Values{"token": {opToken}})
	if err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("token sign-in: %v %v", resp, err)
	}
	for _, tc := range []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"cross-site", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, http.StatusForbidden},
		{"another origin, old browser", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"same origin", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": base}, http.StatusNotFound},
	} {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/deliveries/1/retry", nil)
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		// 404: let in; this server has no queue to re-run deliveries from.
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %s, want %d", tc.name, resp.Status, tc.want)
		}
	}
}

func TestAccessHostHeader(t *testing.T) {
	base := accessReceiver(t)
	for host, want := range map[string]int{"evil.example": http.StatusUnauthorized, "localhost": http.StatusOK} {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/deliveries", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("Host %s: %s, want %d", host, resp.Status, want)
		}
	}
}

func TestAccessModes(t *testing.T) {
	t.Setenv("SPACE_ID", "alice/hooks")
	for _, tc := range []struct {
		name   string
		opts   []hfhooks.Option
		path   string
		want   int
		inBody string
	}{
		{"private without a way to sign in", nil, "/", http.StatusUnauthorized, "hf_oauth: true"},
		{"private, token form", []hfhooks.Option{hfhooks.WithOperatorToken(opToken)}, "/", http.StatusUnauthorized, `name="token"`},
		{"public", []hfhooks.Option{hfhooks.WithAccess(hfhooks.AccessPublic)}, "/", http.StatusOK, "/webhooks/x"},
		{"off: no page", []hfhooks.Option{hfhooks.WithAccess(hfhooks.AccessOff)}, "/", http.StatusNotFound, ""},
		{"off: no API", []hfhooks.Option{hfhooks.WithAccess(hfhooks.AccessOff)}, "/api/deliveries", http.StatusNotFound, ""},
		{"off: no sign-in", []hfhooks.Option{hfhooks.WithAccess(hfhooks.AccessOff), hfhooks.WithOperatorToken(opToken)}, "/signin", http.StatusNotFound, ""},
		{"off: health", []hfhooks.Option{hfhooks.WithAccess(hfhooks.AccessOff)}, "/healthz", http.StatusOK, "ok"},
		{"off: readiness", []hfhooks.Option{hfhooks.WithAccess(hfhooks.AccessOff)}, "/readyz", http.StatusOK, "ready"},
		{"bad mode", []hfhooks.Option{hfhooks.WithAccess("open")}, "/", http.StatusServiceUnavailable, "access mode"},
		{"bad operator", []hfhooks.Option{hfhooks.WithOperators("a b")}, "/api/deliveries", http.StatusServiceUnavailable, "org:NAME"},
	} {
		base := accessReceiver(t, tc.opts...)
		req, _ := http.NewRequest(http.MethodGet, base+tc.path, nil)
		req.Header.Set("Accept", "text/html")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want || !strings.Contains(string(body), tc.inBody) {
			t.Errorf("%s: GET %s = %s, want %d with %q: %s", tc.name, tc.path, resp.Status, tc.want, tc.inBody, body)
		}
		if tc.want != http.StatusNotFound && !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") && tc.want != http.StatusServiceUnavailable {
			t.Errorf("%s: GET %s may be framed: CSP %q", tc.name, tc.path, resp.Header.Get("Content-Security-Policy"))
		}
	}
}

func TestAccessBadConfigRefusesToStart(t *testing.T) {
	srv := hfhooks.NewServer(hfhooks.WithAccess("open"), hfhooks.WithOutput(io.Discard))
	err := srv.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "access mode") {
		t.Errorf("Run = %v, want an error naming the access mode", err)
	}
}
