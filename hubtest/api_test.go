package hubtest_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hfhooks/hfhooks/hub"
	"github.com/hfhooks/hfhooks/hubtest"
)

var hexID = regexp.MustCompile(`^[0-9a-f]{24}$`)

// TestClientLifecycle drives every method of the hub client against the
// emulator over loopback HTTP.
func TestClientLifecycle(t *testing.T) {
	srv := newHub(t)
	c := client(t, srv, srv.Token)
	ctx := ctxT(t)

	watched := []hub.WatchedItem{{Type: hub.WatchedUser, Name: "julien-c"}, {Type: hub.WatchedOrg, Name: "HuggingFaceH4"}}
	w, err := c.CreateWebhook(ctx, hub.CreateWebhookOptions{URL: "https://webhook.site/test", Watched: watched,
		Domains: []hub.Domain{hub.DomainRepo, hub.DomainDiscussion}, Secret: "my-secret"})
	if err != nil {
		t.Fatal(err)
	}
	if !hexID.MatchString(w.ID) || w.URL != "https://webhook.site/test" || w.Secret != "my-secret" || w.Disabled || w.Job != nil ||
		len(w.Watched) != 2 || w.Watched[1] != watched[1] || len(w.Domains) != 2 {
		t.Fatalf("created %+v", w)
	}

	list, err := c.ListWebhooks(ctx)
	if err != nil || len(list) != 1 || list[0].ID != w.ID {
		t.Fatalf("list = %+v, %v", list, err)
	}
	got, err := c.GetWebhook(ctx, w.ID)
	if err != nil || got.URL != w.URL || got.Secret != "my-secret" {
		t.Fatalf("get = %+v, %v", got, err)
	}

	got, err = c.UpdateWebhook(ctx, w.ID, hub.UpdateWebhookOptions{URL: hub.Ptr("https://webhook.site/new"), Domains: []hub.Domain{hub.DomainRepo}})
	if err != nil || got.URL != "https://webhook.site/new" || len(got.Watched) != 2 || len(got.Domains) != 1 || got.Secret != "my-secret" {
		t.Fatalf("update = %+v, %v", got, err)
	}
	if got, err = c.DisableWebhook(ctx, w.ID); err != nil || !got.Disabled {
		t.Fatalf("disable = %+v, %v", got, err)
	}
	if got, err = c.GetWebhook(ctx, w.ID); err != nil || !got.Disabled {
		t.Fatalf("get after disable = %+v, %v", got, err)
	}
	if got, err = c.EnableWebhook(ctx, w.ID); err != nil || got.Disabled {
		t.Fatalf("enable = %+v, %v", got, err)
	}
	if err := c.DeleteWebhook(ctx, w.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetWebhook(ctx, w.ID); !errors.Is(err, hub.ErrNotFound) {
		t.Fatalf("get after delete: %v, want ErrNotFound", err)
	}
	if list, err := c.ListWebhooks(ctx); err != nil || len(list) != 0 {
		t.Fatalf("list after delete = %+v, %v", list, err)
	}
}

func TestCreateJobWebhook(t *testing.T) {
	srv := newHub(t)
	c := client(t, srv, srv.Token)
	w := create(t, c, hub.CreateWebhookOptions{JobID: "687f911eaea852de79c4a50a", Watched: []hub.WatchedItem{{Type: hub.WatchedDataset, Name: "acme/d"}}})
	if w.URL != "" || w.Job == nil || w.Job.Labels["hubtest/jobSourceId"] != "687f911eaea852de79c4a50a" {
		t.Fatalf("job webhook = %+v (job %+v)", w, w.Job)
	}
	// Changing the target to a URL drops the job.
	got, err := c.UpdateWebhook(ctxT(t), w.ID, hub.UpdateWebhookOptions{URL: hub.Ptr("https://example.com/hook")})
	if err != nil || got.Job != nil || got.URL != "https://example.com/hook" {
		t.Fatalf("update = %+v, %v", got, err)
	}
}

// TestTokenIsolation: each token sees and reaches only its own webhooks,
// and a request without a valid token gets 401.
func TestTokenIsolation(t *testing.T) {
	srv := newHub(t, hubtest.WithTokens("hf_alice", "hf_bob"))
	if srv.Token != "hf_alice" {
		t.Fatalf("Token = %q", srv.Token)
	}
	alice, bob := client(t, srv, "hf_alice"), client(t, srv, "hf_bob")
	w := create(t, alice, hub.CreateWebhookOptions{URL: "https://example.com/a", Watched: []hub.WatchedItem{{Type: hub.WatchedUser, Name: "alice"}}})
	create(t, bob, hub.CreateWebhookOptions{URL: "https://example.com/b", Watched: []hub.WatchedItem{{Type: hub.WatchedUser, Name: "bob"}}})

	list, err := bob.ListWebhooks(ctxT(t))
	if err != nil || len(list) != 1 || list[0].URL != "https://example.com/b" {
		t.Fatalf("bob's list = %+v, %v", list, err)
	}
	for name, call := range map[string]func() error{
		"get": func() error { _, err := bob.GetWebhook(ctxT(t), w.ID); return err },
		"update": func() error {
			_, err := bob.UpdateWebhook(ctxT(t), w.ID, hub.UpdateWebhookOptions{Secret: hub.Ptr("x")})
			return err
		},
		"enable":  func() error { _, err := bob.EnableWebhook(ctxT(t), w.ID); return err },
		"disable": func() error { _, err := bob.DisableWebhook(ctxT(t), w.ID); return err },
		"delete":  func() error { return bob.DeleteWebhook(ctxT(t), w.ID) },
	} {
		if err := call(); !errors.Is(err, hub.ErrNotFound) {
			t.Errorf("bob %s alice's webhook: %v, want ErrNotFound", name, err)
		}
	}
	if got, err := alice.GetWebhook(ctxT(t), w.ID); err != nil || got.Disabled || got.Secret != "" {
		t.Errorf("alice's webhook after bob's tries = %+v, %v", got, err)
	}
	e := emit(t, srv, hubtest.Event{Kind: "repo.update", Repo: "model:alice/m"})
	if len(e.Deliveries) != 1 {
		t.Fatalf("deliveries = %+v", e.Deliveries)
	}
	if code := getJSON(t, "GET", srv.URL+"/api/emulator/webhooks/"+w.ID+"/activity", "hf_bob", nil); code != http.StatusNotFound {
		t.Errorf("bob reads alice's activity: %d", code)
	}
	if code := getJSON(t, "POST", srv.URL+"/api/emulator/webhooks/"+w.ID+"/activity/"+e.EventID+"/replay", "hf_bob", nil); code != http.StatusNotFound {
		t.Errorf("bob replays alice's event: %d", code)
	}
	em, err := hubtest.EmitTo(ctxT(t), nil, srv.URL, "hf_bob", hubtest.Event{Kind: "repo.update", Repo: "model:alice/m"}, 0)
	if err != nil || len(em.Deliveries) != 0 {
		t.Errorf("bob emits on alice's repo: %+v, %v; want no delivery shown", em, err)
	}

	for _, token := range []string{"", "hf_mallory", "hf_alice_"} {
		var body map[string]string
		req, _ := http.NewRequest("GET", srv.URL+"/api/settings/webhooks", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || body["error"] == "" || resp.Header.Get("X-Error-Message") != body["error"] {
			t.Errorf("token %q: %d %v %q", token, resp.StatusCode, body, resp.Header.Get("X-Error-Message"))
		}
	}
}

func TestRandomToken(t *testing.T) {
	srv := newHub(t)
	if !regexp.MustCompile(`^hf_[A-Za-z]{34}$`).MatchString(srv.Token) {
		t.Fatalf("Token = %q", srv.Token)
	}
	if other := newHub(t); other.Token == srv.Token {
		t.Fatal("two emulators made the same token")
	}
	if _, err := client(t, srv, srv.Token).ListWebhooks(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

// raw sends body to the management API with the emulator's token and
// returns the status, the X-Error-Message header and the raw answer.
func raw(t *testing.T, srv *hubtest.Server, method, path, body string) (int, string, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, srv.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+srv.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Error-Message"), b
}

// TestValidation: the Hub's 400s and 404s, with the message in both the
// X-Error-Message header and the JSON error field.
func TestValidation(t *testing.T) {
	srv := newHub(t)
	_, _, b := raw(t, srv, "POST", "/api/settings/webhooks", `{"watched":[{"type":"user","name":"u"}],"url":"https://example.com/h"}`)
	var env struct{ Webhook hub.Webhook }
	if err := json.Unmarshal(b, &env); err != nil || env.Webhook.ID == "" {
		t.Fatalf("create: %s", b)
	}
	id := env.Webhook.ID
	const w = `"watched":[{"type":"user","name":"u"}]`
	tests := []struct {
		name, method, path, body string
		code                     int
		msg                      string
	}{
		{"unknown watched type", "POST", "/api/settings/webhooks", `{"watched":[{"type":"repo","name":"u"}],"url":"https://e.com"}`, 400, `invalid watched type "repo"`},
		{"watched without name", "POST", "/api/settings/webhooks", `{"watched":[{"type":"user","name":""}],"url":"https://e.com"}`, 400, "has no name"},
		{"no watched", "POST", "/api/settings/webhooks", `{"url":"https://e.com"}`, 400, "watched must list"},
		{"empty watched", "POST", "/api/settings/webhooks", `{"watched":[],"url":"https://e.com"}`, 400, "watched must list"},
		{"unknown domain", "POST", "/api/settings/webhooks", `{` + w + `,"domains":["repo","everything"],"url":"https://e.com"}`, 400, `invalid domain "everything"`},
		{"ftp url", "POST", "/api/settings/webhooks", `{` + w + `,"url":"ftp://e.com/x"}`, 400, `invalid url "ftp://e.com/x"`},
		{"relative url", "POST", "/api/settings/webhooks", `{` + w + `,"url":"/hook"}`, 400, "invalid url"},
		{"non-ASCII secret", "POST", "/api/settings/webhooks", `{` + w + `,"url":"https://e.com","secret":"sécret"}`, 400, "only ASCII"},
		{"url and job", "POST", "/api/settings/webhooks", `{` + w + `,"url":"https://e.com","jobSourceId":"687f911eaea852de79c4a50a"}`, 400, "not both"},
		{"neither url nor job", "POST", "/api/settings/webhooks", `{` + w + `}`, 400, "missing url or jobSourceId"},
		{"bad JSON", "POST", "/api/settings/webhooks", `{`, 400, "invalid JSON"},
		{"update: unknown type", "POST", "/api/settings/webhooks/" + id, `{"watched":[{"type":"team","name":"u"}]}`, 400, `invalid watched type "team"`},
		{"update: ftp url", "POST", "/api/settings/webhooks/" + id, `{` + w + `,"url":"ftp://e.com"}`, 400, "invalid url"},
		{"update: non-ASCII secret", "POST", "/api/settings/webhooks/" + id, `{` + w + `,"secret":"ünï"}`, 400, "only ASCII"},
		{"update: unknown domain", "POST", "/api/settings/webhooks/" + id, `{` + w + `,"domains":["repos"]}`, 400, "invalid domain"},
		{"get unknown id", "GET", "/api/settings/webhooks/000000000000000000000000", "", 404, "Webhook not found"},
		{"update unknown id", "POST", "/api/settings/webhooks/000000000000000000000000", `{` + w + `}`, 404, "Webhook not found"},
		{"enable unknown id", "POST", "/api/settings/webhooks/000000000000000000000000/enable", "", 404, "Webhook not found"},
		{"disable unknown id", "POST", "/api/settings/webhooks/000000000000000000000000/disable", "", 404, "Webhook not found"},
		{"delete unknown id", "DELETE", "/api/settings/webhooks/000000000000000000000000", "", 404, "Webhook not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, header, b := raw(t, srv, tt.method, tt.path, tt.body)
			var body struct{ Error string }
			if err := json.Unmarshal(b, &body); err != nil {
				t.Fatalf("answer %q: %v", b, err)
			}
			if code != tt.code || !strings.Contains(body.Error, tt.msg) || header != body.Error {
				t.Errorf("%d %q (header %q), want %d with %q", code, body.Error, header, tt.code, tt.msg)
			}
		})
	}
	// A failed update changes nothing.
	if _, _, b := raw(t, srv, "GET", "/api/settings/webhooks/"+id, ""); !bytes.Contains(b, []byte(`"url":"https://example.com/h"`)) || bytes.Contains(b, []byte(`"secret"`)) {
		t.Errorf("webhook after failed updates: %s", b)
	}
}

// TestWireFormat: the shapes huggingface_hub reads, and the request forms
// it sends (nulls for unset keys before v1.6, an empty watched on update).
func TestWireFormat(t *testing.T) {
	srv := newHub(t)
	code, _, b := raw(t, srv, "POST", "/api/settings/webhooks", `{"watched":[{"type":"model","name":"gpt2"}],"url":"https://e.com/h","domains":null,"secret":null,"jobSourceId":null}`)
	var env map[string]map[string]any
	if err := json.Unmarshal(b, &env); code != 200 || err != nil || env["webhook"] == nil {
		t.Fatalf("create with nulls: %d %s", code, b)
	}
	hook := env["webhook"]
	id, _ := hook["id"].(string)
	if !hexID.MatchString(id) || hook["disabled"] != false || hook["domains"] == nil || hook["url"] != "https://e.com/h" {
		t.Fatalf("webhook object: %s", b)
	}
	if _, ok := hook["secret"]; ok {
		t.Errorf("a webhook without secret shows one: %s", b)
	}
	if _, _, b := raw(t, srv, "GET", "/api/settings/webhooks", ""); !bytes.HasPrefix(b, []byte(`[{"id":"`+id)) {
		t.Errorf("list is not a bare array: %s", b)
	}
	// huggingface_hub's update_webhook sends "watched": [] when not given.
	code, _, b = raw(t, srv, "POST", "/api/settings/webhooks/"+id, `{"watched":[],"url":"https://e.com/new"}`)
	if code != 200 || !bytes.Contains(b, []byte(`"watched":[{"type":"model","name":"gpt2"}]`)) || !bytes.Contains(b, []byte(`"url":"https://e.com/new"`)) {
		t.Errorf("update with empty watched: %d %s", code, b)
	}
	// The plural spelling the Python CLI offers is taken as "discussion".
	code, _, b = raw(t, srv, "POST", "/api/settings/webhooks/"+id, `{"domains":["discussions"]}`)
	if code != 200 || !bytes.Contains(b, []byte(`"domains":["discussion"]`)) {
		t.Errorf("update with discussions: %d %s", code, b)
	}
	if code, _, _ := raw(t, srv, "PUT", "/api/settings/webhooks/"+id, `{}`); code != http.StatusMethodNotAllowed {
		t.Errorf("PUT: %d, want 405", code)
	}
}

// TestEmitSkipped: a webhook that watches the event's repository but is
// disabled, or whose domains leave out the event's scope, is listed with
// the reason; one that does not watch it is not; another token's emit sees
// neither.
func TestEmitSkipped(t *testing.T) {
	srv := newHub(t, hubtest.WithTokens("hf_alice", "hf_bob"))
	alice := client(t, srv, "hf_alice")
	watch := []hub.WatchedItem{{Type: hub.WatchedUser, Name: "alice"}}
	discussions := create(t, alice, hub.CreateWebhookOptions{URL: "https://example.com/d", Watched: watch, Domains: []hub.Domain{hub.DomainDiscussion}})
	disabled := create(t, alice, hub.CreateWebhookOptions{URL: "https://example.com/x", Watched: watch})
	if _, err := alice.DisableWebhook(ctxT(t), disabled.ID); err != nil {
		t.Fatal(err)
	}
	create(t, alice, hub.CreateWebhookOptions{URL: "https://example.com/o", Watched: []hub.WatchedItem{{Type: hub.WatchedOrg, Name: "acme"}}})

	e, err := hubtest.EmitTo(ctxT(t), nil, srv.URL, "hf_alice", hubtest.Event{Kind: "repo.update", Repo: "model:alice/m"}, 0)
	want := []hubtest.Skip{
		{WebhookID: discussions.ID, Reason: "its domains (discussion) leave out repo"},
		{WebhookID: disabled.ID, Reason: "disabled"},
	}
	if err != nil || len(e.Deliveries) != 0 || !slices.Equal(e.Skipped, want) {
		t.Errorf("emit: %+v, %v; want no delivery and skipped %+v", e, err, want)
	}
	e, err = hubtest.EmitTo(ctxT(t), nil, srv.URL, "hf_bob", hubtest.Event{Kind: "repo.update", Repo: "model:alice/m"}, 0)
	if err != nil || len(e.Skipped) != 0 {
		t.Errorf("bob's emit: %+v, %v; want none of alice's webhooks", e, err)
	}
}
