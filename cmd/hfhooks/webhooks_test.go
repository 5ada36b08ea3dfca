package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hfhooks/hfhooks/hub"
)

const cliToken = "hf_clitoken"

// fakeHub is a small in-memory Hub webhook API that records the requests it
// gets.
type fakeHub struct {
	*httptest.Server
	mu       sync.Mutex
	ids      []string
	hooks    map[string]map[string]any
	requests []string
}

const (
	urlHookID = "654bbbc16f2ec14d77f109cc"
	jobHookID = "687f9a0b1c2d3e4f5a6b7c8d"
	newHookID = "66f000000000000000000001"
)

// sampleHooks are a URL webhook with a secret and a disabled Job webhook.
const sampleHooks = `[
 {"id": "654bbbc16f2ec14d77f109cc", "url": "https://webhook.site/a2176e82", "watched": [{"type": "user", "name": "julien-c"}, {"type": "org", "name": "HuggingFaceH4"}],
  "domains": ["repo", "discussion"], "secret": "my-secret", "disabled": false, "createdAt": "2024-07-01T00:00:00Z"},
 {"id": "687f9a0b1c2d3e4f5a6b7c8d", "url": null, "job": {"dockerImage": "python:3.12", "command": ["python", "retrain.py"], "secrets": {"HF_TOKEN": "hf_jobsecret"}},
  "watched": [{"type": "dataset", "name": "me/data"}], "domains": ["repo"], "disabled": true}
]`

// urlSecretHooks is a webhook whose URL carries a password and a secret in
// its query, as a receiver on a Space may take it.
const urlSecretHooks = `[
 {"id": "654bbbc16f2ec14d77f109cc", "url": "https://bot:url-password@you-app.hf.space/webhooks/x?secret=url-secret&v=2", "watched": [{"type": "user", "name": "julien-c"}],
  "domains": ["repo"], "secret": "my-secret", "disabled": false}
]`

// allDomainsHooks is a webhook with no domains, which watches them all.
const allDomainsHooks = `[
 {"id": "654bbbc16f2ec14d77f109cc", "url": "https://webhook.site/a2176e82", "watched": [{"type": "user", "name": "julien-c"}], "domains": [], "disabled": false}
]`

func newFakeHub(t *testing.T, initial string) *fakeHub {
	t.Helper()
	var list []map[string]any
	if err := json.Unmarshal([]byte(initial), &list); err != nil {
		t.Fatal(err)
	}
	h := &fakeHub{hooks: map[string]map[string]any{}}
	for _, w := range list {
		id := w["id"].(string)
		h.ids = append(h.ids, id)
		h.hooks[id] = w
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/settings/webhooks", func(w http.ResponseWriter, r *http.Request) {
		out := []map[string]any{}
		for _, id := range h.ids {
			out = append(out, h.hooks[id])
		}
		writeJSONTo(w, out)
	})
	mux.HandleFunc("GET /api/settings/webhooks/{id}", h.withHook(func(w http.ResponseWriter, r *http.Request, hook map[string]any) {
		writeJSONTo(w, map[string]any{"webhook": hook})
	}))
	mux.HandleFunc("POST /api/settings/webhooks", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		hook := map[string]any{"id": newHookID, "watched": body["watched"], "domains": []string{"repo", "discussion"}, "disabled": false}
		for _, k := range []string{"url", "domains", "secret"} {
			if v, ok := body[k]; ok {
				hook[k] = v
			}
		}
		if body["jobSourceId"] != nil {
			hook["job"] = map[string]any{"dockerImage": "python:3.12", "command": []string{"python", "hook.py"}}
		}
		h.ids = append(h.ids, newHookID)
		h.hooks[newHookID] = hook
		writeJSONTo(w, map[string]any{"webhook": hook})
	})
	mux.HandleFunc("POST /api/settings/webhooks/{id}", h.withHook(func(w http.ResponseWriter, r *http.Request, hook map[string]any) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		for k, v := range body {
			hook[k] = v
		}
		writeJSONTo(w, map[string]any{"webhook": hook})
	}))
	mux.HandleFunc("POST /api/settings/webhooks/{id}/{action}", h.withHook(func(w http.ResponseWriter, r *http.Request, hook map[string]any) {
		hook["disabled"] = r.PathValue("action") == "disable"
		writeJSONTo(w, map[string]any{"webhook": hook})
	}))
	mux.HandleFunc("DELETE /api/settings/webhooks/{id}", h.withHook(func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		delete(h.hooks, r.PathValue("id"))
		h.ids = slices.DeleteFunc(h.ids, func(id string) bool { return id == r.PathValue("id") })
	}))
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		defer h.mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		line := r.Method + " " + r.URL.Path
		if len(body) > 0 {
			var buf bytes.Buffer
			json.Compact(&buf, body)
			line += " " + buf.String()
		}
		h.requests = append(h.requests, line)
		if r.Header.Get("Authorization") != "Bearer "+cliToken {
			w.Header().Set("X-Request-Id", "req-401")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error": "Invalid credentials in Authorization header"}`)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(h.Close)
	return h
}

// log returns the requests received so far, as "METHOD PATH [BODY]" lines.
func (h *fakeHub) log() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.requests)
}

// withHook looks up the {id} webhook, answering 404 when there is none.
func (h *fakeHub) withHook(next func(http.ResponseWriter, *http.Request, map[string]any)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		hook, ok := h.hooks[r.PathValue("id")]
		if !ok {
			w.Header().Set("X-Request-Id", "req-404")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error": "Webhook not found"}`)
			return
		}
		next(w, r, hook)
	}
}

func writeJSONTo(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// isolateEnv keeps the developer's Hugging Face token and endpoint out of
// the tests.
func isolateEnv(t *testing.T) {
	for _, k := range []string{"HF_TOKEN", "HF_TOKEN_PATH", "HF_HOME", "XDG_CACHE_HOME", "HF_ENDPOINT"} {
		t.Setenv(k, "")
	}
	t.Setenv("HOME", t.TempDir())
}

func TestWebhooksCommands(t *testing.T) {
	auth := []string{"--token", cliToken}
	tests := []struct {
		name    string
		args    []string
		initial string // webhooks the fake Hub starts with; sampleHooks when empty
		noAuth  bool
	}{
		{name: "list", args: []string{"list"}},
		{name: "ls_empty", args: []string{"ls"}, initial: "[]"},
		{name: "list_json", args: []string{"list", "--format", "json"}},
		{name: "list_json_empty", args: []string{"list", "--format", "json"}, initial: "[]"},
		{name: "list_json_show_secret", args: []string{"list", "--format", "json", "--show-secret"}},
		{name: "list_quiet", args: []string{"ls", "--format", "quiet"}},
		{name: "list_all_domains", args: []string{"list"}, initial: allDomainsHooks},
		{name: "info_table_all_domains", args: []string{"info", urlHookID, "--format", "table"}, initial: allDomainsHooks},
		{name: "list_q", args: []string{"ls", "-q"}},
		{name: "list_quiet_and_json", args: []string{"ls", "--quiet", "--format", "json"}},
		{name: "list_typo", args: []string{"lst"}},
		{name: "list_flag_typo", args: []string{"list", "--fromat", "json"}},
		{name: "list_url_secret", args: []string{"list"}, initial: urlSecretHooks},
		{name: "list_url_secret_show", args: []string{"list", "--show-secret"}, initial: urlSecretHooks},
		{name: "list_json_url_secret", args: []string{"list", "--format", "json"}, initial: urlSecretHooks},
		{name: "list_json_url_secret_show", args: []string{"list", "--format", "json", "--show-secret"}, initial: urlSecretHooks},
		{name: "list_bad_format", args: []string{"list", "--format", "yaml"}},
		{name: "list_extra_arg", args: []string{"list", "extra"}},
		{name: "list_no_token", args: []string{"list"}, noAuth: true},
		{name: "info", args: []string{"info", urlHookID}},
		{name: "info_show_secret", args: []string{"info", urlHookID, "--show-secret"}},
		{name: "info_job", args: []string{"info", jobHookID}},
		{name: "info_json", args: []string{"info", urlHookID, "--format", "json"}},
		{name: "info_table", args: []string{"info", urlHookID, "--format", "table"}},
		{name: "get", args: []string{"get", urlHookID, "-q"}},
		{name: "info_quiet", args: []string{"info", urlHookID, "--format", "quiet"}},
		{name: "info_url_secret", args: []string{"info", urlHookID}, initial: urlSecretHooks},
		{name: "info_url_secret_show", args: []string{"info", urlHookID, "--show-secret"}, initial: urlSecretHooks},
		{name: "info_json_url_secret", args: []string{"info", urlHookID, "--format", "json"}, initial: urlSecretHooks},
		{name: "info_json_url_secret_show", args: []string{"info", urlHookID, "--format", "json", "--show-secret"}, initial: urlSecretHooks},
		{name: "info_not_found", args: []string{"info", "000000000000000000000000"}},
		{name: "info_no_id", args: []string{"info"}},
		{name: "create_url", args: []string{"create", "--watch", "user:julien-c", "--watch", "org:HuggingFaceH4", "--url", "https://webhook.site/new",
			"--domain", "repo", "--domain", "discussions", "--secret", "my-secret"}},
		{name: "create_minimal", args: []string{"create", "--watch", "model:bert-base-uncased", "--url", "https://webhook.site/new"}},
		{name: "create_job", args: []string{"create", "--watch", "dataset:me/data:v2", "--job-id", "687f911eaea852de79c4a50a"}},
		{name: "create_url_and_job", args: []string{"create", "--watch", "user:u", "--url", "https://x.example", "--job-id", "j"}},
		{name: "create_no_target", args: []string{"create", "--watch", "user:u"}},
		{name: "create_no_watch", args: []string{"create", "--url", "https://x.example"}},
		{name: "create_watch_bad_format", args: []string{"create", "--watch", "bad-format", "--url", "https://x.example"}},
		{name: "create_watch_bad_type", args: []string{"create", "--watch", "badtype:name", "--url", "https://x.example"}},
		{name: "create_bad_domain", args: []string{"create", "--watch", "user:u", "--url", "https://x.example", "--domain", "everything"}},
		{name: "create_bad_url", args: []string{"create", "--watch", "user:u", "--url", "ftp://x.example"}},
		{name: "create_non_ascii_secret", args: []string{"create", "--watch", "user:u", "--url", "https://x.example", "--secret", "sécret"}},
		{name: "create_unknown_flag", args: []string{"create", "--wach", "user:u"}},
		{name: "update_url_keeps_watched", args: []string{"update", urlHookID, "--url", "https://webhook.site/moved"}},
		{name: "update_all", args: []string{"update", urlHookID, "--watch", "model:gpt2", "--domain", "discussions", "--secret", ""}},
		{name: "update_bad_url", args: []string{"update", urlHookID, "--url", "webhook.site/x"}},
		{name: "update_nothing", args: []string{"update", urlHookID}},
		{name: "update_watch_bad_type", args: []string{"update", urlHookID, "--watch", "repo:x"}},
		{name: "update_not_found", args: []string{"update", "000000000000000000000000", "--secret", "s"}},
		{name: "enable", args: []string{"enable", jobHookID}},
		{name: "enable_not_found", args: []string{"enable", "000000000000000000000000"}},
		{name: "disable", args: []string{"disable", urlHookID}},
		{name: "delete_yes", args: []string{"delete", urlHookID, "--yes"}},
		{name: "delete_y", args: []string{"delete", urlHookID, "-y"}},
		{name: "delete_not_terminal", args: []string{"delete", urlHookID}},
		{name: "delete_not_found", args: []string{"delete", "000000000000000000000000", "-y"}},
		{name: "rm", args: []string{"rm", urlHookID, "-y"}},
		{name: "rm_no_id", args: []string{"rm"}},
		{name: "unknown_subcommand", args: []string{"remove", urlHookID}},
		{name: "no_subcommand", args: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateEnv(t)
			initial := tt.initial
			if initial == "" {
				initial = sampleHooks
			}
			hub := newFakeHub(t, initial)
			args := append([]string{"webhooks"}, tt.args...)
			args = append(args, "--endpoint", hub.URL)
			if !tt.noAuth {
				args = append(args, auth...)
			}
			var out, errOut bytes.Buffer
			// The answer "y" must not matter: stdin is not a terminal.
			code := execute(t.Context(), args, &ioStreams{In: strings.NewReader("y\n"), Out: &out, ErrOut: &errOut})

			var b strings.Builder
			fmt.Fprintf(&b, "$ hfhooks webhooks %s\nexit: %d\n--- requests\n", strings.Join(tt.args, " "), code)
			for _, r := range hub.log() {
				b.WriteString(r + "\n")
			}
			fmt.Fprintf(&b, "--- stdout\n%s--- stderr\n%s", out.String(), errOut.String())
			got := strings.ReplaceAll(b.String(), hub.URL, "$ENDPOINT")
			if strings.Contains(got, cliToken) {
				t.Errorf("output reveals the token:\n%s", got)
			}
			if stdout := out.String(); !slices.Contains(tt.args, "--show-secret") && strings.Contains(stdout, "url-") {
				t.Errorf("output reveals a secret of the URL:\n%s", stdout)
			}
			golden(t, "webhooks/"+tt.name+".golden", []byte(got))
		})
	}
}

func TestDeleteConfirmation(t *testing.T) {
	tests := []struct {
		name        string
		answer      string
		wantDeleted bool
	}{
		{"yes", "y\n", true},
		{"YES", "YES\n", true},
		{"no", "n\n", false},
		{"empty", "\n", false},
		{"eof", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateEnv(t)
			fh := newFakeHub(t, sampleHooks)
			var out, errOut bytes.Buffer
			terminal := true
			opts := &webhooksDeleteOptions{
				IO:        &ioStreams{In: strings.NewReader(tt.answer), Out: &out, ErrOut: &errOut, InTerminal: &terminal},
				HubClient: func() (*hub.Client, error) { return hub.NewClient(hub.WithEndpoint(fh.URL), hub.WithToken(cliToken)) },
				ID:        urlHookID,
			}
			err := runWebhooksDelete(t.Context(), opts)
			if got, want := errOut.String(), "Delete webhook "+urlHookID+"? [y/N] "; got != want {
				t.Errorf("prompt = %q, want %q", got, want)
			}
			requests := fh.log()
			deleted := slices.Contains(requests, "DELETE /api/settings/webhooks/"+urlHookID)
			if deleted != tt.wantDeleted {
				t.Errorf("deleted = %t, want %t (requests: %v)", deleted, tt.wantDeleted, requests)
			}
			if tt.wantDeleted {
				if err != nil || out.String() != "Webhook deleted: "+urlHookID+"\n" {
					t.Errorf("err = %v, stdout = %q", err, out.String())
				}
			} else if err == nil || len(requests) != 0 {
				t.Errorf("err = %v, requests = %v; want an error and no request", err, requests)
			}
		})
	}
}
