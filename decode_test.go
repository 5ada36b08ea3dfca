package hfhooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixture reads a payload from testdata/payloads.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "payloads", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeFixtures(t *testing.T) {
	t.Run("discussion created with comment", func(t *testing.T) {
		p, err := DecodePayload(fixture(t, "discussion-pr-create-with-comment.json"))
		if err != nil {
			t.Fatal(err)
		}
		if p.Event.Scope != ScopeDiscussion || p.Event.Action != ActionCreate {
			t.Errorf("event = %+v", p.Event)
		}
		if p.Comment == nil || p.Comment.Content != "Add co2 emissions information to the model card" {
			t.Errorf("comment = %+v", p.Comment)
		}
		if !p.IsPullRequest() || p.Discussion.Num != 19 || p.Discussion.Status != StatusOpen || p.Discussion.Changes.Base != "refs/heads/main" {
			t.Errorf("discussion = %+v", p.Discussion)
		}
		if p.Repo.Type != RepoModel || p.Repo.Name != "openai-community/gpt2" || p.Repo.Owner.ID != "628b753283ef59b5be89e937" {
			t.Errorf("repo = %+v", p.Repo)
		}
		if p.Webhook.Version != 3 || p.Webhook.ID != "6390e855e30d9209411de93b" {
			t.Errorf("webhook = %+v", p.Webhook)
		}
	})
	t.Run("discussion updated without comment", func(t *testing.T) {
		p, err := DecodePayload(fixture(t, "discussion-update-no-comment.json"))
		if err != nil {
			t.Fatal(err)
		}
		if p.Comment != nil {
			t.Errorf("comment = %+v, want nil", p.Comment)
		}
		if p.Discussion.Status != StatusClosed || p.Repo.Type != RepoSpace {
			t.Errorf("discussion = %+v, repo = %+v", p.Discussion, p.Repo)
		}
	})
	t.Run("content push with updated refs", func(t *testing.T) {
		p, err := DecodePayload(fixture(t, "repo-content-updated-refs.json"))
		if err != nil {
			t.Fatal(err)
		}
		want := UpdatedRef{Ref: "refs/pr/5", OldSha: "", NewSha: "227c78346870a85e5de4fff8a585db68df975406"}
		if len(p.UpdatedRefs) != 1 || p.UpdatedRefs[0] != want {
			t.Errorf("updatedRefs = %+v, want [%+v]", p.UpdatedRefs, want)
		}
		// huggingface_hub loses headSha (wrong key); we must not.
		if p.Repo.HeadSha != "5e7f29fffcc579cb52539fddb14a1a4f85f39e44" {
			t.Errorf("headSha = %q", p.Repo.HeadSha)
		}
		if p.Repo.Subdomain != "wauplin-gradio-user-history" {
			t.Errorf("subdomain = %q", p.Repo.Subdomain)
		}
	})
}

// mutate decodes a fixture into a generic tree, applies f and re-encodes it.
func mutate(t testing.TB, name string, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(fixture(t, name), &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// del removes the field at a dotted path.
func del(path string) func(map[string]any) {
	return func(m map[string]any) {
		parts := strings.Split(path, ".")
		for _, p := range parts[:len(parts)-1] {
			m = m[p].(map[string]any)
		}
		delete(m, parts[len(parts)-1])
	}
}

// set sets the field at a dotted path.
func set(path string, v any) func(map[string]any) {
	return func(m map[string]any) {
		parts := strings.Split(path, ".")
		for _, p := range parts[:len(parts)-1] {
			next, ok := m[p].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[p] = next
			}
			m = next
		}
		m[parts[len(parts)-1]] = v
	}
}

func TestDecodeMissingRequiredFields(t *testing.T) {
	const pr = "discussion-pr-create-with-comment.json"
	const push = "repo-content-updated-refs.json"
	tests := []struct {
		fixture string
		field   string
		edit    func(map[string]any)
	}{
		{pr, "event.action", del("event.action")},
		{pr, "event.scope", del("event.scope")},
		{pr, "event.action", del("event")},
		{pr, "repo.id", del("repo")},
		{pr, "repo.id", del("repo.id")},
		{pr, "repo.owner.id", del("repo.owner.id")},
		{pr, "repo.owner.id", del("repo.owner")},
		{pr, "repo.name", del("repo.name")},
		{pr, "repo.private", del("repo.private")},
		{pr, "repo.type", del("repo.type")},
		{pr, "repo.url.web", del("repo.url.web")},
		{pr, "webhook.id", del("webhook.id")},
		{pr, "webhook.version", del("webhook.version")},
		{pr, "discussion.id", del("discussion.id")},
		{pr, "discussion.num", del("discussion.num")},
		{pr, "discussion.author.id", del("discussion.author")},
		{pr, "discussion.url.web", del("discussion.url.web")},
		{pr, "discussion.title", del("discussion.title")},
		{pr, "discussion.isPullRequest", del("discussion.isPullRequest")},
		{pr, "discussion.status", del("discussion.status")},
		{pr, "discussion.changes.base", del("discussion.changes.base")},
		{pr, "comment.id", del("comment.id")},
		{pr, "comment.author.id", del("comment.author.id")},
		{pr, "comment.hidden", del("comment.hidden")},
		{pr, "comment.url.web", del("comment.url")},
		{push, "updatedRefs[0].ref", set("updatedRefs", []any{map[string]any{"newSha": "abc"}})},
		{push, "movedTo.name", set("movedTo", map[string]any{"owner": map[string]any{"id": "x"}})},
		{push, "movedTo.owner.id", set("movedTo", map[string]any{"name": "a/b"})},
	}
	for _, tt := range tests {
		t.Run(tt.field, func(t *testing.T) {
			_, err := DecodePayload(mutate(t, tt.fixture, tt.edit))
			var perr *PayloadError
			if !errors.As(err, &perr) {
				t.Fatalf("err = %v, want *PayloadError", err)
			}
			if perr.Field != tt.field || !errors.Is(err, ErrInvalidPayload) || perr.StatusCode() != http.StatusUnprocessableEntity {
				t.Errorf("err = %v (field %q, status %d), want field %q, 422", err, perr.Field, perr.StatusCode(), tt.field)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Errorf("message %q does not name %q", err, tt.field)
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	const pr = "discussion-pr-create-with-comment.json"
	tests := []struct {
		name       string
		body       []byte
		kind       error
		status     int
		wantInText string
	}{
		{"empty body", nil, ErrInvalidJSON, 400, "empty"},
		{"blank body", []byte("  \n"), ErrInvalidJSON, 400, "empty"},
		{"invalid JSON", []byte(`{"event": `), ErrInvalidJSON, 400, "invalid JSON"},
		{"trailing garbage", []byte(`{} x`), ErrInvalidJSON, 400, "invalid JSON"},
		{"array", []byte(`[1,2]`), ErrInvalidPayload, 422, "JSON object, not array"},
		{"string", []byte(`"hello"`), ErrInvalidPayload, 422, "JSON object, not string"},
		{"null", []byte(`null`), ErrInvalidPayload, 422, "event.action"},
		{"version 2", mutate(t, pr, set("webhook.version", 2)), ErrUnsupportedVersion, 422, "got version 2"},
		{"version 4", mutate(t, pr, set("webhook.version", 4)), ErrUnsupportedVersion, 422, "got version 4"},
		{"private as string", mutate(t, pr, set("repo.private", "no")), ErrInvalidPayload, 422, "repo.private: expected boolean, got string"},
		{"num as string", mutate(t, pr, set("discussion.num", "19")), ErrInvalidPayload, 422, "discussion.num: expected number"},
		{"owner id as number", mutate(t, pr, set("repo.owner.id", 1)), ErrInvalidPayload, 422, "repo.owner.id: expected string"},
		{"event as string", mutate(t, pr, set("event", "update")), ErrInvalidPayload, 422, "event: expected object"},
		{"duplicate key", []byte(`{"event":{"action":"create","action":"update","scope":"repo"}}`), ErrInvalidJSON, 400, "duplicate"},
		{"keys are case-sensitive", bytes.Replace(fixture(t, pr), []byte(`"event"`), []byte(`"Event"`), 1), ErrInvalidPayload, 422, "event.action"},
		{"invalid UTF-8", []byte("{\"event\":{\"scope\":\"\xff\"}}"), ErrInvalidJSON, 400, "invalid JSON"},
		{"updatedRefs as object", mutate(t, pr, set("updatedRefs", map[string]any{})), ErrInvalidPayload, 422, "updatedRefs: expected array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := DecodePayload(tt.body)
			if err == nil {
				t.Fatalf("decoded %+v, want an error", p)
			}
			var perr *PayloadError
			if !errors.As(err, &perr) || !errors.Is(err, tt.kind) || perr.StatusCode() != tt.status {
				t.Fatalf("err = %#v, want kind %v and status %d", err, tt.kind, tt.status)
			}
			if !strings.Contains(err.Error(), tt.wantInText) {
				t.Errorf("message %q does not contain %q", err, tt.wantInText)
			}
		})
	}
}

func TestDecodeAcceptsUnknownValuesAndFields(t *testing.T) {
	body := mutate(t, "discussion-pr-create-with-comment.json", func(m map[string]any) {
		set("event.action", "rename")(m)
		set("repo.type", "bucket")(m)
		set("discussion.status", "locked")(m)
		set("discussion.reactions", []any{1, 2})(m)
		set("somethingNew", map[string]any{"a": 1})(m)
		set("updatedConfig", map[string]any{"private": true})(m)
		set("repo.owner.login", "someone")(m)
	})
	p, err := DecodePayload(body)
	if err != nil {
		t.Fatal(err)
	}
	if p.Event.Action != "rename" || p.Event.Action.Known() {
		t.Errorf("action = %q known=%v", p.Event.Action, p.Event.Action.Known())
	}
	if p.Repo.Type != "bucket" || p.Repo.Type.Known() {
		t.Errorf("repo type = %q known=%v", p.Repo.Type, p.Repo.Type.Known())
	}
	if p.Discussion.Status != "locked" || p.Discussion.Status.Known() {
		t.Errorf("status = %q known=%v", p.Discussion.Status, p.Discussion.Status.Known())
	}
	if p.UpdatedConfig["private"] != true {
		t.Errorf("updatedConfig = %v", p.UpdatedConfig)
	}
	if !ActionUpdate.Known() || !RepoDataset.Known() || !StatusMerged.Known() {
		t.Error("documented values must be known")
	}
}

func TestDecodeHiddenCommentAndFalseValues(t *testing.T) {
	body := mutate(t, "discussion-pr-create-with-comment.json", func(m map[string]any) {
		del("comment.content")(m)
		set("comment.hidden", true)(m)
		set("discussion.isPullRequest", false)(m)
		set("discussion.num", 0)(m)
		set("discussion.pinned", false)(m)
	})
	p, err := DecodePayload(body)
	if err != nil {
		t.Fatal(err)
	}
	if !p.Comment.Hidden || p.Comment.Content != "" {
		t.Errorf("comment = %+v", p.Comment)
	}
	if p.IsPullRequest() || p.Discussion.Pinned == nil || *p.Discussion.Pinned {
		t.Errorf("discussion = %+v", p.Discussion)
	}
}

func TestEventScopes(t *testing.T) {
	tests := []struct {
		scope, action string
		handler       string
		matches       bool
		want          Action
	}{
		{"repo.content", "update", "repo.content", true, ActionUpdate},
		{"repo", "move", "repo", true, ActionMove},
		{"repo.content", "update", "repo", true, ActionUpdate},
		{"repo.config.dois", "create", "repo.config", true, ActionUpdate},
		{"repo.config.dois", "create", "repo", true, ActionUpdate},
		{"repo.config.dois", "create", "repo.content", false, ""},
		{"repository", "create", "repo", false, ""},
		{"discussion.comment", "create", "discussion", true, ActionUpdate},
		{"discussion.comment", "create", "discussion.comment", true, ActionCreate},
		{"discussion", "delete", "discussion.comment", false, ""},
	}
	for _, tt := range tests {
		e := Event{Scope: tt.scope, Action: Action(tt.action)}
		if got := e.Matches(tt.handler); got != tt.matches {
			t.Errorf("%s.Matches(%s) = %v", tt.scope, tt.handler, got)
		}
		got, ok := e.ActionOn(tt.handler)
		if ok != tt.matches || got != tt.want {
			t.Errorf("%s %s ActionOn(%s) = %q, %v; want %q, %v", tt.scope, tt.action, tt.handler, got, ok, tt.want, tt.matches)
		}
	}
}

func FuzzDecodePayload(f *testing.F) {
	entries, err := os.ReadDir(filepath.Join("testdata", "payloads"))
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		f.Add(fixture(f, e.Name()))
	}
	f.Add([]byte(`{"repo":{"private":"x"}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := DecodePayload(body)
		if (p == nil) == (err == nil) {
			t.Fatalf("payload %v and error %v: exactly one must be nil", p, err)
		}
		if err != nil {
			var perr *PayloadError
			if !errors.As(err, &perr) {
				t.Fatalf("error %T is not a *PayloadError", err)
			}
			if c := perr.StatusCode(); c != 400 && c != 422 {
				t.Fatalf("status %d", c)
			}
			return
		}
		if p.Webhook.Version != supportedVersion || p.Repo.ID == "" || p.Event.Scope == "" {
			t.Fatalf("accepted an invalid payload: %+v", p)
		}
	})
}
