package hub

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

const testToken = "hf_testtoken123"

// clearEnv removes every environment variable the Client reads and points
// HOME at an empty directory, so that the developer's own token is never used.
func clearEnv(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	for _, k := range []string{"HF_TOKEN", "HF_TOKEN_PATH", "HF_HOME", "XDG_CACHE_HOME", "HF_ENDPOINT"} {
		t.Setenv(k, "")
	}
	t.Setenv("HOME", home)
	return home
}

// setup starts a fake Hub and returns a Client pointed at it, with a token
// and fast retries, in the style of go-github's setup.
func setup(t *testing.T, opts ...Option) (*Client, *http.ServeMux) {
	t.Helper()
	clearEnv(t)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c, err := NewClient(append([]Option{
		WithEndpoint(srv.URL), WithToken(testToken), WithHTTPClient(srv.Client()), WithRetry(4, time.Millisecond),
	}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c, mux
}

// testMethod checks the request method.
func testMethod(t *testing.T, r *http.Request, want string) {
	t.Helper()
	if r.Method != want {
		t.Errorf("method = %s, want %s", r.Method, want)
	}
}

// testHeaders checks the headers every request carries, and Content-Type
// when withBody.
func testHeaders(t *testing.T, r *http.Request, withBody bool) {
	t.Helper()
	if got, want := r.Header.Get("Authorization"), "Bearer "+testToken; got != want {
		t.Errorf("Authorization = %q, want %q", got, want)
	}
	if got := r.Header.Get("User-Agent"); !strings.HasPrefix(got, "hfhooks/"+Version+" ") {
		t.Errorf("User-Agent = %q, want prefix hfhooks/%s", got, Version)
	}
	got := r.Header.Get("Content-Type")
	switch {
	case withBody && got != "application/json":
		t.Errorf("Content-Type = %q, want application/json", got)
	case !withBody && got != "":
		t.Errorf("Content-Type = %q on a request without body", got)
	}
}

// testBody checks that the request body is the JSON want, key for key.
func testBody(t *testing.T, r *http.Request, want string) {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	if want == "" {
		if len(b) != 0 {
			t.Errorf("body = %s, want none", b)
		}
		return
	}
	var got, exp any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("body %q is not JSON: %v", b, err)
	}
	if err := json.Unmarshal([]byte(want), &exp); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, exp) {
		t.Errorf("body = %s\nwant   %s", b, want)
	}
}

// failOnRequest makes any request to the fake Hub a test failure.
func failOnRequest(t *testing.T, mux *http.ServeMux) {
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("unexpected request %s %s", r.Method, r.URL)
		w.WriteHeader(http.StatusTeapot)
	})
}

func writeToken(t *testing.T, path, token string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestTokenResolution(t *testing.T) {
	// Each case enables sources from the lowest precedence up; the highest
	// one set must win.
	tests := []struct {
		name string
		set  func(t *testing.T, home, tmp string) []Option
		want string
	}{
		{"none", func(*testing.T, string, string) []Option { return nil }, ""},
		{"home cache file", func(t *testing.T, home, _ string) []Option {
			writeToken(t, filepath.Join(home, ".cache", "huggingface", "token"), " home-token\n")
			return nil
		}, "home-token"},
		{"XDG_CACHE_HOME beats home", func(t *testing.T, home, tmp string) []Option {
			writeToken(t, filepath.Join(home, ".cache", "huggingface", "token"), "home-token")
			writeToken(t, filepath.Join(tmp, "xdg", "huggingface", "token"), "xdg-token\n")
			t.Setenv("XDG_CACHE_HOME", filepath.Join(tmp, "xdg"))
			return nil
		}, "xdg-token"},
		{"HF_HOME beats XDG and home", func(t *testing.T, home, tmp string) []Option {
			writeToken(t, filepath.Join(home, ".cache", "huggingface", "token"), "home-token")
			writeToken(t, filepath.Join(tmp, "xdg", "huggingface", "token"), "xdg-token")
			t.Setenv("XDG_CACHE_HOME", filepath.Join(tmp, "xdg"))
			writeToken(t, filepath.Join(tmp, "hfhome", "token"), "\thfhome-token \n")
			t.Setenv("HF_HOME", filepath.Join(tmp, "hfhome"))
			return nil
		}, "hfhome-token"},
		{"HF_TOKEN_PATH beats HF_HOME", func(t *testing.T, _, tmp string) []Option {
			writeToken(t, filepath.Join(tmp, "hfhome", "token"), "hfhome-token")
			t.Setenv("HF_HOME", filepath.Join(tmp, "hfhome"))
			writeToken(t, filepath.Join(tmp, "elsewhere", "tok"), "path-token\n")
			t.Setenv("HF_TOKEN_PATH", filepath.Join(tmp, "elsewhere", "tok"))
			return nil
		}, "path-token"},
		{"HF_TOKEN_PATH to a missing file is no token", func(t *testing.T, home, tmp string) []Option {
			writeToken(t, filepath.Join(home, ".cache", "huggingface", "token"), "home-token")
			t.Setenv("HF_TOKEN_PATH", filepath.Join(tmp, "missing"))
			return nil
		}, ""},
		{"HF_TOKEN beats files", func(t *testing.T, _, tmp string) []Option {
			writeToken(t, filepath.Join(tmp, "tok"), "path-token")
			t.Setenv("HF_TOKEN_PATH", filepath.Join(tmp, "tok"))
			t.Setenv("HF_TOKEN", "env-token")
			return nil
		}, "env-token"},
		{"WithToken beats HF_TOKEN", func(t *testing.T, _, _ string) []Option {
			t.Setenv("HF_TOKEN", "env-token")
			return []Option{WithToken("option-token")}
		}, "option-token"},
		{"empty WithToken falls through", func(t *testing.T, _, _ string) []Option {
			t.Setenv("HF_TOKEN", "env-token")
			return []Option{WithToken("")}
		}, "env-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := clearEnv(t)
			var gotAuth string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotAuth = r.Header.Get("Authorization")
				fmt.Fprint(w, "[]")
			}))
			defer srv.Close()
			opts := append(tt.set(t, home, t.TempDir()), WithEndpoint(srv.URL))
			c, err := NewClient(opts...)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.ListWebhooks(t.Context()); err != nil {
				t.Fatal(err)
			}
			want := ""
			if tt.want != "" {
				want = "Bearer " + tt.want
			}
			if gotAuth != want {
				t.Errorf("Authorization = %q, want %q", gotAuth, want)
			}
			if c.HasToken() != (tt.want != "") {
				t.Errorf("HasToken() = %t", c.HasToken())
			}
		})
	}
}

func TestNewClientUnreadableTokenFile(t *testing.T) {
	clearEnv(t)
	t.Setenv("HF_TOKEN_PATH", t.TempDir()) // a directory cannot be read as a file
	if _, err := NewClient(); err == nil || !strings.Contains(err.Error(), "token file") {
		t.Fatalf("NewClient() error = %v, want a token file error", err)
	}
}

func TestEndpointResolution(t *testing.T) {
	tests := []struct {
		name    string
		env     string
		option  string
		want    string
		wantErr bool
	}{
		{name: "default", want: "https://huggingface.co"},
		{name: "HF_ENDPOINT, trailing slash removed", env: "https://hub-ci.huggingface.co/", want: "https://hub-ci.huggingface.co"},
		{name: "option beats HF_ENDPOINT", env: "https://env.example", option: "http://127.0.0.1:8080//", want: "http://127.0.0.1:8080"},
		{name: "not http", option: "ftp://example.com", wantErr: true},
		{name: "no host", env: "https://", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearEnv(t)
			t.Setenv("HF_ENDPOINT", tt.env)
			c, err := NewClient(WithEndpoint(tt.option))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("NewClient() = %v, want an error", c)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Endpoint() != tt.want {
				t.Errorf("Endpoint() = %q, want %q", c.Endpoint(), tt.want)
			}
		})
	}
}

func TestEndpointUsedForRequests(t *testing.T) {
	clearEnv(t)
	var path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		fmt.Fprint(w, "[]")
	}))
	defer srv.Close()
	t.Setenv("HF_ENDPOINT", srv.URL+"/")
	c, err := NewClient()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListWebhooks(t.Context()); err != nil {
		t.Fatal(err)
	}
	if path != "/api/settings/webhooks" {
		t.Errorf("path = %q, want /api/settings/webhooks", path)
	}
}

func TestUserAgent(t *testing.T) {
	goVersion := strings.TrimPrefix(runtime.Version(), "go")
	tests := []struct {
		opts []Option
		want string
	}{
		{nil, "hfhooks/" + Version + " go/" + goVersion},
		{[]Option{WithUserAgent("myapp/1.2")}, "myapp/1.2 hfhooks/" + Version + " go/" + goVersion},
	}
	for _, tt := range tests {
		c, mux := setup(t, tt.opts...)
		var got string
		mux.HandleFunc("GET /api/settings/webhooks", func(w http.ResponseWriter, r *http.Request) {
			got = r.Header.Get("User-Agent")
			fmt.Fprint(w, "[]")
		})
		if _, err := c.ListWebhooks(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got != tt.want {
			t.Errorf("User-Agent = %q, want %q", got, tt.want)
		}
	}
}

func TestClientDoesNotRevealToken(t *testing.T) {
	c, _ := setup(t)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{c, *c} {
			if s := fmt.Sprintf(verb, v); strings.Contains(s, testToken) {
				t.Errorf("Sprintf(%q, %T) = %q reveals the token", verb, v, s)
			}
		}
	}
	if got := c.String(); !strings.Contains(got, "token set: true") || !strings.Contains(got, c.Endpoint()) {
		t.Errorf("String() = %q, want the endpoint and whether a token is set", got)
	}
}
