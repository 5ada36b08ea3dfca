package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/hfhooks/hfhooks"
	"golang.org/x/oauth2"
)

// startHub runs "hfhooks hub args..." on a free loopback port until the test
// ends, and returns its URL and its output.
func startHub(t *testing.T, args ...string) (url string, out *syncBuffer) {
	t.Helper()
	out = &syncBuffer{}
	errOut := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	code := make(chan int, 1)
	go func() {
		code <- execute(ctx, append([]string{"hub", "--addr", "127.0.0.1:0"}, args...), &ioStreams{In: strings.NewReader(""), Out: out, ErrOut: errOut})
	}()
	t.Cleanup(func() {
		cancel()
		if c := <-code; c != exitOK {
			t.Errorf("hub exited %d: %s", c, errOut)
		}
	})
	re := regexp.MustCompile(`Hub emulator running on (\S+)`)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := re.FindStringSubmatch(out.String()); m != nil {
			return m[1], out
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("hub did not start:\nstdout: %s\nstderr: %s", out, errOut)
	return "", nil
}

// run executes an hfhooks command line and returns its exit code and output.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := execute(t.Context(), args, &ioStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	return code, out.String(), errOut.String()
}

// TestHubWithWebhooksCommands: with HF_ENDPOINT pointed at "hfhooks hub",
// the webhooks commands work unchanged, and "hub emit" delivers to them.
func TestHubWithWebhooksCommands(t *testing.T) {
	isolateEnv(t)
	url, banner := startHub(t, "--token", "hf_cli_one", "--token", "hf_cli_two", "--retry-schedule", "10ms")
	for _, want := range []string{"Token: hf_cli_one (user user1)\n", "Token: hf_cli_two (user user2)\n", "export HF_ENDPOINT=" + url + " HF_TOKEN=hf_cli_one\n"} {
		if !strings.Contains(banner.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
	t.Setenv("HF_ENDPOINT", url)
	t.Setenv("HF_TOKEN", "hf_cli_one")

	got := make(chan string, 10)
	rcv := hfhooks.NewServer(hfhooks.WithSecret("cli-secret"), hfhooks.WithLogger(slog.New(slog.DiscardHandler)), hfhooks.WithOutput(io.Discard))
	if err := rcv.AddEndpoint("inbox", func(_ context.Context, d *hfhooks.Delivery) (any, error) {
		got <- fmt.Sprintf("%s %s %s private=%t", d.Payload.Webhook.ID, d.Payload.Event.Scope, d.Payload.Repo.Name, d.Payload.Repo.Private)
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	rs := httptest.NewServer(rcv)
	t.Cleanup(rs.Close)

	code, out, errOut := run(t, "webhooks", "create", "--watch", "org:acme", "--url", rs.URL+"/webhooks/inbox", "--secret", "cli-secret", "--domain", "repo")
	if code != exitOK {
		t.Fatalf("create: %d\n%s%s", code, out, errOut)
	}
	code, out, _ = run(t, "webhooks", "list", "--format", "quiet")
	id := strings.TrimSpace(out)
	if code != exitOK || !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(id) {
		t.Fatalf("list: %d %q", code, out)
	}
	if code, out, _ := run(t, "webhooks", "info", id, "--format", "json"); code != exitOK || !strings.Contains(out, `"secret": "****"`) || !strings.Contains(out, `"name": "acme"`) {
		t.Errorf("info: %d\n%s", code, out)
	}
	if code, out, _ := run(t, "webhooks", "disable", id); code != exitOK || !strings.Contains(out, "disabled") {
		t.Errorf("disable: %d %s", code, out)
	}
	if code, out, _ := run(t, "hub", "emit", "repo.content", "--repo", "model:acme/m"); code != exitOK || !strings.HasSuffix(out, "\n  webhook "+id+": not sent: disabled\n") {
		t.Errorf("emit to a disabled webhook: %d\n%s", code, out)
	}
	if code, out, _ := run(t, "webhooks", "enable", id); code != exitOK || !strings.Contains(out, "enabled") {
		t.Errorf("enable: %d %s", code, out)
	}

	code, out, errOut = run(t, "hub", "emit", "repo.config", "--repo", "model:acme/m", "--set", "repo.private=false")
	if code != exitOK || !regexp.MustCompile(`Event [0-9a-f]{24}: repo.config update on model:acme/m\n  webhook `+id+`: delivered \(attempt 1: 200 in \S+\)\n$`).MatchString(out) {
		t.Errorf("emit: %d\n%s%s", code, out, errOut)
	}
	if g := <-got; g != id+" repo.config acme/m private=false" {
		t.Errorf("receiver saw %q", g)
	}
	if code, out, _ := run(t, "hub", "emit", "discussion.create", "--repo", "model:acme/m"); code != exitOK || !strings.HasSuffix(out, "\n  webhook "+id+": not sent: its domains (repo) leave out discussion\n") {
		t.Errorf("emit outside the domains: %d\n%s", code, out)
	}
	if code, out, _ := run(t, "hub", "emit", "repo.content", "--repo", "model:other/m"); code != exitOK || !strings.HasSuffix(out, "\nNo webhook of yours watches model:other/m or its owner.\n") {
		t.Errorf("emit on a repo not watched: %d\n%s", code, out)
	}
	if code, out, _ := run(t, "hub", "emit", "repo.update", "--repo", "model:acme/m", "--token", "hf_cli_two", "--hub", url); code != exitOK || strings.Contains(out, id) {
		t.Errorf("emit as another token shows my webhook: %d\n%s", code, out)
	}
	<-got // the delivery of the other token's event to my webhook

	if code, out, _ := run(t, "webhooks", "update", id, "--url", rs.URL+"/webhooks/nowhere"); code != exitOK {
		t.Errorf("update: %d\n%s", code, out)
	}
	if code, out, _ := run(t, "webhooks", "info", id, "--format", "table"); code != exitOK || !strings.Contains(out, "/webhooks/nowhere") || !strings.Contains(out, "org:acme") {
		t.Errorf("info after update: %d\n%s", code, out)
	}
	code, out, _ = run(t, "hub", "emit", "repo.update", "--repo", "model:acme/m", "--wait", "5s")
	if code != exitOK || !strings.Contains(out, "failed (attempt 2: 404 in ") || !strings.Contains(out, "2 attempt(s) failed") {
		t.Errorf("emit to a wrong URL: %d\n%s", code, out)
	}
	if code, out, _ := run(t, "webhooks", "delete", id, "--yes"); code != exitOK || !strings.Contains(out, "deleted") {
		t.Errorf("delete: %d %s", code, out)
	}
	if code, _, errOut := run(t, "webhooks", "info", id); code != exitFailure || !strings.Contains(errOut, "404 Not Found: Webhook not found") {
		t.Errorf("info after delete: %d %s", code, errOut)
	}
	if code, _, errOut := run(t, "webhooks", "list", "--token", "hf_nobody"); code != exitFailure || !strings.Contains(errOut, "401 Unauthorized") || strings.Count(errOut, "`hf auth login`") != 1 {
		t.Errorf("list with a wrong token: %d %s", code, errOut)
	}
}

func TestHubRandomToken(t *testing.T) {
	isolateEnv(t)
	url, banner := startHub(t)
	m := regexp.MustCompile(`Token: (hf_[A-Za-z]{34}) \(user user1\)\n`).FindStringSubmatch(banner.String())
	if m == nil {
		t.Fatalf("banner:\n%s", banner)
	}
	if code, out, errOut := run(t, "webhooks", "list", "--endpoint", url, "--token", m[1]); code != exitOK || out != "No webhooks found.\n" {
		t.Errorf("list: %d %q %s", code, out, errOut)
	}
}

func TestHubEmitUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"emit_no_kind", []string{"hub", "emit"}},
		{"emit_unknown_kind", []string{"hub", "emit", "repo.nope", "--repo", "model:a/b"}},
		{"emit_no_repo", []string{"hub", "emit", "repo.update"}},
		{"emit_bad_repo", []string{"hub", "emit", "repo.update", "--repo", "a/b"}},
		{"emit_bad_set", []string{"hub", "emit", "repo.update", "--repo", "model:a/b", "--set", "noequals"}},
		{"emit_no_token", []string{"hub", "emit", "repo.update", "--repo", "model:a/b"}},
		{"hub_extra_arg", []string{"hub", "extra"}},
		{"hub_token_empty", []string{"hub", "--token", "=alice"}},
		{"hub_token_bad_user", []string{"hub", "--token", "hf_secret=al ice"}},
		{"hub_token_no_user", []string{"hub", "--token", "hf_secret=:acme"}},
		{"hub_token_bad_org", []string{"hub", "--token", "hf_secret=alice:acme,,hf"}},
		{"hub_oauth_client_no_secret", []string{"hub", "--oauth-client", "my-space"}},
		{"hub_oauth_client_no_id", []string{"hub", "--oauth-client", ":s3cret"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateEnv(t)
			code, out, errOut := run(t, tt.args...)
			golden(t, "hub/"+tt.name+".golden", fmt.Appendf(nil, "$ hfhooks %s\nexit: %d\n--- stdout\n%s--- stderr\n%s", strings.Join(tt.args, " "), code, out, errOut))
		})
	}
}

func TestHubEmitUnreachable(t *testing.T) {
	isolateEnv(t)
	rs := httptest.NewServer(nil)
	url := rs.URL
	rs.Close()
	if code, _, errOut := run(t, "hub", "emit", "repo.update", "--repo", "model:a/b", "--hub", url, "--token", "t"); code != exitFailure || !strings.Contains(errOut, "connection refused") {
		t.Errorf("%d %s", code, errOut)
	}
}

// TestHubSignInProvider: "hfhooks hub" prints how to use it as the OpenID
// provider, and signs in the user and orgs --token gives.
func TestHubSignInProvider(t *testing.T) {
	isolateEnv(t)
	base, banner := startHub(t, "--token", "hf_me=alice:acme,huggingface", "--token", "hf_x", "--oauth-client", "my-space:s3cret")
	for _, want := range []string{
		"Token: hf_me (user alice; orgs acme, huggingface)\n", "Token: hf_x (user user1)\n",
		"  export OPENID_PROVIDER_URL=" + base + "\n  export OAUTH_CLIENT_ID=my-space\n  export OAUTH_CLIENT_SECRET=s3cret\n",
	} {
		if !strings.Contains(banner.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}

	ctx := t.Context()
	provider, err := oidc.NewProvider(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	const callback = "http://127.0.0.1:7860/oauth/huggingface/callback"
	conf := oauth2.Config{ClientID: "my-space", ClientSecret: "s3cret", Endpoint: provider.Endpoint(), RedirectURL: callback, Scopes: []string{oidc.ScopeOpenID, "profile"}}
	authURL, _ := url.Parse(conf.AuthCodeURL("st"))
	form := authURL.Query()
	form.Set("token", "hf_me")
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.PostForm(base+"/oauth/authorize", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil || resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc.String(), callback+"?") {
		t.Fatalf("approve: %s %v %v", resp.Status, loc, err)
	}
	tok, err := conf.Exchange(ctx, loc.Query().Get("code"))
	if err != nil {
		t.Fatal(err)
	}
	info, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Orgs []struct {
			PreferredUsername string `json:"preferred_username"`
		} `json:"orgs"`
	}
	if err := info.Claims(&claims); err != nil || len(claims.Orgs) != 2 || claims.Orgs[0].PreferredUsername != "acme" || claims.Orgs[1].PreferredUsername != "huggingface" {
		t.Errorf("userinfo orgs: %+v %v", claims, err)
	}
	var profile struct {
		PreferredUsername string `json:"preferred_username"`
	}
	if err := info.Claims(&profile); err != nil || profile.PreferredUsername != "alice" {
		t.Errorf("userinfo user: %+v %v", profile, err)
	}
}
