package action

import (
	"context"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/hubtest"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// eventDelivery returns a delivery of a sample event of kind on repo
// ("TYPE:NAME", or "" for the default), with the payload's fields set as
// "path=value" says (see hubtest.Event.Set).
func eventDelivery(t *testing.T, kind, repo string, set ...string) *hfhooks.Delivery {
	t.Helper()
	ev := hubtest.Event{Kind: kind, Repo: repo, Set: map[string]string{}}
	for _, s := range set {
		path, value, _ := strings.Cut(s, "=")
		ev.Set[path] = value
	}
	d, err := hubtest.NewDelivery(ev)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("%s:\ngot  %s\nwant %s", name, got, want)
	}
}

// chat is a chat webhook that records the last body it got and answers
// status.
type chat struct {
	*httptest.Server
	bodies chan []byte
}

func newChat(t *testing.T, status int) *chat {
	t.Helper()
	c := &chat{bodies: make(chan []byte, 10)}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
		b, _ := io.ReadAll(r.Body)
		c.bodies <- b
		w.WriteHeader(status)
		io.WriteString(w, `{"message": "Invalid Webhook Token", "code": 50027}`)
	}))
	t.Cleanup(c.Close)
	return c
}

// messageTemplate uses fields, helpers and characters JSON escapes.
const messageTemplate = `New {{if .Discussion.IsPullRequest}}PR{{else}}discussion{{end}} on {{.Repo.Name}} (#{{.Discussion.Num}}): {{.Discussion.Title}}
> {{.Comment.Content | truncate 24}}
title as JSON: {{json .Discussion.Title}}`

func TestNotifyBodies(t *testing.T) {
	t.Parallel()
	d := eventDelivery(t, "discussion.create", "model:acme/llm",
		"discussion.num=12", `discussion.title=Fix "quotes" & <tags> in the café`)
	tpl, err := ParseTemplate("text", messageTemplate)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []Platform{Slack, Discord, Generic} {
		c := newChat(t, http.StatusOK)
		v, err := Notify(Message{Platform: p, URL: c.URL + "/services/T0/B0/SECRET", Text: tpl})(context.Background(), d)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if r := v.(*ForwardResult); r.Status != "ok" || r.StatusCode != http.StatusOK {
			t.Errorf("%s: result %+v", p, r)
		}
		golden(t, "notify-"+string(p)+".golden", <-c.bodies)
	}
}

func TestNotifyFailuresHideTheURL(t *testing.T) {
	t.Parallel()
	d := eventDelivery(t, "discussion.create", "")
	tpl, err := ParseTemplate("text", "hello")
	if err != nil {
		t.Fatal(err)
	}
	refused := newChat(t, http.StatusUnauthorized)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	for _, tt := range []struct{ url, want string }{
		{refused.URL + "/api/webhooks/1/SECRET", "notify discord " + refused.URL + `/xxxxx: 401 Unauthorized: "{\"message\": \"Invalid Webhook Token\"`},
		{closed.URL + "/api/webhooks/1/SECRET", "notify discord " + closed.URL + "/xxxxx: dial tcp"},
	} {
		_, err := Notify(Message{Platform: Discord, URL: tt.url, Text: tpl})(context.Background(), d)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) || strings.Contains(err.Error(), "SECRET") {
			t.Errorf("error = %v, want it to start with %q and hide the path", err, tt.want)
		}
	}
}

func TestNotifySkipsBlankText(t *testing.T) {
	t.Parallel()
	c := newChat(t, http.StatusOK)
	tpl, err := ParseTemplate("text", `{{if .Discussion.IsPullRequest}}a PR{{end}}`)
	if err != nil {
		t.Fatal(err)
	}
	d := eventDelivery(t, "discussion.create", "", "discussion.isPullRequest=false")
	v, err := Notify(Message{Platform: Slack, URL: c.URL, Text: tpl})(context.Background(), d)
	if err != nil || v.(*ForwardResult).Status != "skipped" {
		t.Errorf("Notify() = %+v, %v; want skipped", v, err)
	}
	if len(c.bodies) != 0 {
		t.Error("a blank message was posted")
	}
}

// TestNotifyWithoutText checks that a Message without a text is an error
// that says so, not a panic in text/template.
func TestNotifyWithoutText(t *testing.T) {
	t.Parallel()
	c := newChat(t, http.StatusOK)
	d := eventDelivery(t, "discussion.create", "")
	_, err := Notify(Message{Platform: Slack, URL: c.URL})(context.Background(), d)
	if err == nil || !strings.Contains(err.Error(), "no text") {
		t.Errorf("error = %v, want one saying the message has no text", err)
	}
	if len(c.bodies) != 0 {
		t.Error("a message was posted")
	}
}

func TestTemplates(t *testing.T) {
	t.Parallel()
	d := eventDelivery(t, "discussion.comment.create", "model:acme/llm", "comment.content=héllo wörld")
	tests := []struct {
		text, want, wantErr string
	}{
		{text: `{{.Repo.Name}}`, want: "acme/llm"},
		{text: `{{.Comment.Content | truncate 5}}`, want: "héll…"},
		{text: `{{truncate 11 .Comment.Content}}`, want: "héllo wörld"},
		{text: `{{truncate 0 .Comment.Content}}`, want: ""},
		{text: `{{json .Comment.Content}} {{json .Event}}`, want: `"héllo wörld" {"action":"create","scope":"discussion.comment"}`},
		{text: "line one\n{{.Comment.Contnt}}", wantErr: `template: text:2:10: executing "text" at <.Comment.Contnt>: can't evaluate field Contnt`},
		{text: "{{.MovedTo.Name}}", wantErr: "nil pointer evaluating *hfhooks.MovedTo.Name"},
	}
	for _, tt := range tests {
		tpl, err := ParseTemplate("text", tt.text)
		if err != nil {
			t.Fatal(err)
		}
		got, err := render(tpl, d.Payload)
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%q: error = %v, want %q", tt.text, err, tt.wantErr)
			}
		case err != nil || got != tt.want:
			t.Errorf("%q: got %q, %v; want %q", tt.text, got, err, tt.want)
		}
	}
	if _, err := ParseTemplate("text", "ok\n{{nope .Repo}}"); err == nil || !strings.Contains(err.Error(), `text:2: function "nope" not defined`) {
		t.Errorf("parse error = %v", err)
	}
}
