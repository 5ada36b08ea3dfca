package signin

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestCodec(t *testing.T) {
	c, err := newCodec([]byte("key one"))
	if err != nil {
		t.Fatal(err)
	}
	v, err := c.seal(sessionCookie, session{User: "alice", Expires: 42})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(v, "alice") {
		t.Errorf("sealed value %q shows the user in clear", v)
	}
	var s session
	if err := c.open(sessionCookie, v, &s); err != nil || s.User != "alice" || s.Expires != 42 {
		t.Fatalf("open = %+v, %v; want alice, 42", s, err)
	}

	other, _ := newCodec([]byte("key two"))
	tampered := []byte(v)
	tampered[len(tampered)/2] ^= 1
	for name, open := range map[string]func() error{
		"another key":         func() error { return other.open(sessionCookie, v, &s) },
		"another cookie name": func() error { return c.open(flowCookie, v, &s) },
		"a flipped bit":       func() error { return c.open(sessionCookie, string(tampered), &s) },
		"not base64":          func() error { return c.open(sessionCookie, "%%%", &s) },
		"too short":           func() error { return c.open(sessionCookie, "AAAA", &s) },
	} {
		if err := open(); err == nil {
			t.Errorf("%s: opened", name)
		}
	}
}

func TestSafeNext(t *testing.T) {
	for _, tc := range []struct{ next, prefix, want string }{
		{"/api/deliveries?state=failed", "", "/api/deliveries?state=failed"},
		{"/hooks/x", "/hooks", "/hooks/x"},
		{"/x", "/hooks", "/hooks/"},
		{"", "", "/"},
		{"https://evil.example/", "", "/"},
		{"//evil.example/", "", "/"},
		{"/\\evil.example", "", "/"},
		{"javascript:alert(1)", "", "/"},
		{"/ok\r\nSet-Cookie: x", "", "/"},
	} {
		if got := safeNext(tc.next, tc.prefix); got != tc.want {
			t.Errorf("safeNext(%q, %q) = %q, want %q", tc.next, tc.prefix, got, tc.want)
		}
	}
}

func TestLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1:7860": true, "localhost:7860": true, "localhost": true, "[::1]:7860": true,
		"app.localhost": true, "127.1.2.3": true,
		"evil.example": false, "evil.example:7860": false, "10.0.0.1:7860": false, "0.0.0.0:7860": false,
		"localhost.evil.example": false, "": false,
	} {
		if got := loopbackHost(host); got != want {
			t.Errorf("loopbackHost(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestCheckOperator(t *testing.T) {
	for op, ok := range map[string]bool{
		"alice": true, "org:acme": true, "Jane-Doe_2.0": true,
		"": false, "org:": false, "a b": false, "alice/x": false, "<script>": false,
	} {
		if err := CheckOperator(op); (err == nil) != ok {
			t.Errorf("CheckOperator(%q) = %v, want ok=%v", op, err, ok)
		}
	}
}

// newTestGate builds a gate whose Base is the request's host.
func newTestGate(t *testing.T, cfg Config) *Gate {
	t.Helper()
	cfg.Base = func(r *http.Request) (string, string) { return "http://" + r.Host, "" }
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// localRequest is a request as the server sees it from a connection to
// local, with Host host.
func localRequest(method, target, host string, local net.IP) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.Host = host
	return r.WithContext(context.WithValue(r.Context(), http.LocalAddrContextKey, &net.TCPAddr{IP: local, Port: 7860}))
}

func TestCheckLocal(t *testing.T) {
	loop, lan := net.IPv4(127, 0, 0, 1), net.IPv4(192, 0, 2, 10)
	for _, tc := range []struct {
		name    string
		cfg     Config
		host    string
		local   net.IP
		allowed bool
	}{
		{"loopback", Config{}, "127.0.0.1:7860", loop, true},
		{"localhost", Config{}, "localhost:7860", loop, true},
		{"DNS rebinding", Config{}, "evil.example", loop, false},
		{"another interface", Config{}, "192.0.2.10:7860", lan, false},
		{"on a Space", Config{OnSpace: true}, "127.0.0.1:7860", loop, false},
		{"private", Config{Mode: Private}, "127.0.0.1:7860", loop, false},
		{"public", Config{Mode: Public}, "evil.example", lan, true},
	} {
		g := newTestGate(t, tc.cfg)
		v := g.check(localRequest(http.MethodGet, "/", tc.host, tc.local))
		if v.allowed != tc.allowed {
			t.Errorf("%s: allowed = %v, want %v (%s)", tc.name, v.allowed, tc.allowed, v.reason)
		}
	}
}

func TestSessionExpiresAndTokenChange(t *testing.T) {
	g := newTestGate(t, Config{Mode: Private, Token: "first-token", SessionTTL: time.Hour})
	rec := httptest.NewRecorder()
	r := localRequest(http.MethodGet, "/", "127.0.0.1", net.IPv4(127, 0, 0, 1))
	if err := g.startSession(rec, r, session{Token: true}); err != nil {
		t.Fatal(err)
	}
	c := rec.Result().Cookies()[0]
	if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure {
		t.Errorf("cookie %+v: want HttpOnly, SameSite=Lax, not Secure on http", c)
	}
	with := func(g *Gate) verdict {
		r := localRequest(http.MethodGet, "/", "127.0.0.1", net.IPv4(127, 0, 0, 1))
		r.AddCookie(c)
		return g.check(r)
	}
	if v := with(g); !v.allowed {
		t.Fatalf("a fresh token session is refused: %s", v.reason)
	}
	// A new token keys the cookies anew: the old sessions end.
	if v := with(newTestGate(t, Config{Mode: Private, Token: "second-token"})); v.allowed {
		t.Error("a session of the previous token is accepted")
	}
	// An expired session is refused.
	expired, _ := g.codec.seal(sessionCookie, session{Token: true, Expires: time.Now().Add(-time.Second).Unix()})
	r = localRequest(http.MethodGet, "/", "127.0.0.1", net.IPv4(127, 0, 0, 1))
	r.AddCookie(&http.Cookie{Name: sessionCookie, Value: expired})
	if v := g.check(r); v.allowed {
		t.Error("an expired session is accepted")
	}
}

func TestSummary(t *testing.T) {
	oauth := &OAuth{ProviderURL: "http://127.0.0.1:1", ClientID: "id", ClientSecret: "client-secret-never-printed"}
	for _, tc := range []struct {
		name   string
		cfg    Config
		listen string
		want   []string
	}{
		{"local", Config{}, "http://127.0.0.1:7860", []string{"open on this machine"}},
		{"local with a token", Config{Token: "t0ken-never-printed"}, "http://127.0.0.1:7860", []string{"open on this machine", "from elsewhere, sign in with the operator token", "keyed from the operator token"}},
		{"all interfaces, nothing configured", Config{}, "http://0.0.0.0:7860", []string{"no way to sign in is configured", "hf_oauth: true", "HFHOOKS_UI_TOKEN"}},
		{"on a Space", Config{OnSpace: true, OAuth: oauth, Operators: []string{"alice", "org:acme"}}, "http://127.0.0.1:7860", []string{"private; sign in with Hugging Face (operators: alice, org:acme)", "keyed from the OAuth client secret"}},
		{"OAuth, nobody allowed", Config{Mode: Private, OAuth: oauth}, "http://127.0.0.1:7860", []string{"nobody is allowed yet: add --allow NAME"}},
		{"random key", Config{Mode: Private, OAuth: &OAuth{ProviderURL: "http://x", ClientID: "id"}}, "", []string{"Sessions end when the server restarts"}},
		{"public", Config{Mode: Public}, "http://0.0.0.0:7860", []string{"PUBLIC"}},
		{"off", Config{Mode: Off}, "http://0.0.0.0:7860", []string{"off"}},
	} {
		got := newTestGate(t, tc.cfg).Summary(tc.listen)
		for _, want := range tc.want {
			if !strings.Contains(got, want) {
				t.Errorf("%s: summary lacks %q:\n%s", tc.name, want, got)
			}
		}
		if strings.Contains(got, "never-printed") {
			t.Errorf("%s: summary shows a secret:\n%s", tc.name, got)
		}
	}
}

func TestWarning(t *testing.T) {
	oauth := &OAuth{ProviderURL: "http://127.0.0.1:1", ClientID: "id"}
	for _, tc := range []struct {
		name   string
		cfg    Config
		listen string
		want   string // part of the warning; "" for none
	}{
		{"local", Config{}, "http://127.0.0.1:7860", ""},
		{"all interfaces, nothing configured", Config{}, "http://0.0.0.0:7860", "no way to sign in"},
		{"on a Space, nothing configured", Config{OnSpace: true}, "http://127.0.0.1:7860", "no way to sign in"},
		{"on a Space with sign-in", Config{OnSpace: true, OAuth: oauth}, "http://127.0.0.1:7860", ""},
		{"public", Config{Mode: Public}, "http://127.0.0.1:7860", "public"},
		{"off", Config{Mode: Off}, "http://0.0.0.0:7860", ""},
	} {
		got := newTestGate(t, tc.cfg).Warning(tc.listen)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("%s: warning %q, want one with %q", tc.name, got, tc.want)
		}
	}
}

// TestWrongTokensAreLimited: after maxGuesses wrong operator tokens from one
// address, by the form or by Bearer, that address gets 429 with Retry-After
// and its tokens are not even compared, the right one included; another
// address is not held up. On a Space the address is the one the proxy adds
// to X-Forwarded-For.
func TestWrongTokensAreLimited(t *testing.T) {
	t.Parallel()
	const token = "the-operator-token"
	for _, onSpace := range []bool{false, true} {
		g := newTestGate(t, Config{Mode: Private, Token: token, OnSpace: onSpace})
		h := g.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
		from := func(r *http.Request, client string) *http.Request {
			if onSpace {
				r.RemoteAddr = "10.0.0.1:1234" // the Space's proxy
				r.Header.Set("X-Forwarded-For", client)
			} else {
				r.RemoteAddr = client + ":1234"
			}
			return r
		}
		form := func(client, tok string) *httptest.ResponseRecorder {
			r := httptest.NewRequest(http.MethodPost, SignInPath, strings.NewReader(url.Values{"token": {tok}}.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, from(r, client))
			return rec
		}
		bearer := func(client, tok string) *httptest.ResponseRecorder {
			r := httptest.NewRequest(http.MethodGet, "/api/deliveries", nil)
			r.Header.Set("Authorization", "Bearer "+tok)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, from(r, client))
			return rec
		}
		for i := range maxGuesses {
			send := form
			if i%2 == 1 {
				send = bearer
			}
			if rec := send("198.51.100.7", "wrong"); rec.Code != http.StatusUnauthorized {
				t.Fatalf("space=%v: wrong token %d: %d, want 401", onSpace, i+1, rec.Code)
			}
		}
		for name, send := range map[string]func(string, string) *httptest.ResponseRecorder{"form": form, "bearer": bearer} {
			rec := send("198.51.100.7", token)
			if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" ||
				!strings.Contains(rec.Body.String(), "Too many wrong operator tokens from your address") {
				t.Errorf("space=%v: %s after %d wrong tokens: %d %q (Retry-After %q), want 429 naming the limit",
					onSpace, name, maxGuesses, rec.Code, rec.Body.String(), rec.Header().Get("Retry-After"))
			}
		}
		if rec := bearer("203.0.113.9", token); rec.Code != http.StatusNoContent {
			t.Errorf("space=%v: the right token from another address: %d, want 204", onSpace, rec.Code)
		}
		if rec := form("203.0.113.9", token); rec.Code != http.StatusSeeOther {
			t.Errorf("space=%v: the form from another address: %d, want 303", onSpace, rec.Code)
		}
	}
}

// TestTokenSignInLogsTheClient: on a Space, the log lines of the token form
// name the client, as X-Forwarded-For from the Space's proxy says, not the
// proxy.
func TestTokenSignInLogsTheClient(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	g := newTestGate(t, Config{Mode: Private, Token: "the-operator-token", OnSpace: true, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	h := g.Handler(http.NotFoundHandler())
	for _, tok := range []string{"wrong", "the-operator-token"} {
		r := httptest.NewRequest(http.MethodPost, SignInPath, strings.NewReader(url.Values{"token": {tok}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.RemoteAddr = "10.0.0.1:1234" // the Space's proxy
		r.Header.Set("X-Forwarded-For", "198.51.100.7")
		h.ServeHTTP(httptest.NewRecorder(), r)
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if !strings.Contains(line, "address=198.51.100.7") || strings.Contains(line, "10.0.0.1") {
			t.Errorf("log line %q: want the client's address, not the proxy's", line)
		}
	}
	if n := strings.Count(logs.String(), "\n"); n != 2 {
		t.Errorf("%d log lines, want 2:\n%s", n, logs.String())
	}
}
