package action

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"text/template"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/hub"
	"github.com/hfhooks/hfhooks/hubtest"
)

// countingTransport counts the whoami-v2 requests.
type countingTransport struct{ whoami atomic.Int32 }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == "/api/whoami-v2" {
		c.whoami.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// botHub starts an emulator where hf_bot is the user hf-bot, a member of
// acme, and a pull request acme/llm#3 exists; it returns the emulator, a
// client of the bot, and the client's request counter.
func botHub(t *testing.T) (*hubtest.Server, *hub.Client, *countingTransport) {
	t.Helper()
	h := hubtest.NewServer(hubtest.WithUser("hf_bot", hubtest.User{Name: "hf-bot", Orgs: []string{"acme"}}))
	t.Cleanup(h.Close)
	if _, err := h.Emit(context.Background(), hubtest.Event{Kind: "discussion.create", Repo: "model:acme/llm", Set: map[string]string{"discussion.num": "3"}}); err != nil {
		t.Fatal(err)
	}
	tr := &countingTransport{}
	c, err := hub.NewClient(hub.WithEndpoint(h.URL), hub.WithToken("hf_bot"), hub.WithHTTPClient(&http.Client{Transport: tr}))
	if err != nil {
		t.Fatal(err)
	}
	return h, c, tr
}

func mustParse(t *testing.T, text string) *template.Template {
	t.Helper()
	tpl, err := ParseTemplate("text", text)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

// onPR3 is a delivery of kind about acme/llm#3, with more overrides.
func onPR3(t *testing.T, kind string, overrides ...string) *hfhooks.Delivery {
	t.Helper()
	return eventDelivery(t, kind, "model:acme/llm", append([]string{"discussion.num=3"}, overrides...)...)
}

func TestCommentPostsAndSkipsItsOwn(t *testing.T) {
	t.Parallel()
	h, c, tr := botHub(t)
	var logs bytes.Buffer
	handle := Comment(Reply{Client: c, Text: mustParse(t, "Thanks for #{{.Discussion.Num}} on {{.Repo.Name}}!"),
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx := context.Background()

	v, err := handle(ctx, onPR3(t, "discussion.comment.create"))
	if err != nil {
		t.Fatal(err)
	}
	res := v.(*CommentResult)
	if res.Status != "ok" || res.CommentID == "" {
		t.Errorf("result = %+v", res)
	}
	d, _ := h.Discussion("model:acme/llm", 3)
	if n := len(d.Comments); n != 2 || d.Comments[1].Content != "Thanks for #3 on acme/llm!" || d.Comments[1].AuthorName != "hf-bot" {
		t.Fatalf("comments = %+v", d.Comments)
	}

	bot := hubtest.UserID("hf-bot")
	for _, tt := range []struct {
		name, kind, override, reason string
	}{
		{"own comment", "discussion.comment.create", "comment.author.id=" + bot, "the comment is by the bot's own user hf-bot"},
		{"own discussion", "discussion.update", "discussion.author.id=" + bot, "the discussion was opened by the bot's own user hf-bot"},
	} {
		logs.Reset()
		v, err := handle(ctx, onPR3(t, tt.kind, tt.override))
		if err != nil {
			t.Fatal(err)
		}
		if res := v.(*CommentResult); res.Status != "skipped" || res.Reason != tt.reason {
			t.Errorf("%s: result = %+v", tt.name, res)
		}
		if line := logs.String(); !strings.Contains(line, "level=INFO") || !strings.Contains(line, `reason="`+tt.reason) || !strings.Contains(line, "discussion=model:acme/llm#3") {
			t.Errorf("%s: log = %q", tt.name, line)
		}
	}
	if d, _ := h.Discussion("model:acme/llm", 3); len(d.Comments) != 2 {
		t.Errorf("%d comments after the skipped events, want 2", len(d.Comments))
	}
	if n := tr.whoami.Load(); n != 1 {
		t.Errorf("whoami-v2 called %d times, want once", n)
	}
}

func TestCommentWithStatus(t *testing.T) {
	t.Parallel()
	h, c, _ := botHub(t)
	handle := Comment(Reply{Client: c, Text: mustParse(t, "Closing: {{.Discussion.Title}} is stale."), Status: hub.StatusClosed})
	if _, err := handle(context.Background(), onPR3(t, "discussion.comment.create")); err != nil {
		t.Fatal(err)
	}
	d, _ := h.Discussion("model:acme/llm", 3)
	if d.Status != "closed" || len(d.Comments) != 2 || d.Comments[1].Content != "Closing: Update README.md is stale." {
		t.Errorf("discussion = %+v", d)
	}
	// Already closed: only the comment.
	if _, err := handle(context.Background(), onPR3(t, "discussion.comment.create", "discussion.status=closed")); err != nil {
		t.Fatal(err)
	}
	if d, _ := h.Discussion("model:acme/llm", 3); d.Status != "closed" || len(d.Comments) != 3 {
		t.Errorf("discussion = %+v", d)
	}
}

func TestCommentRefusals(t *testing.T) {
	t.Parallel()
	h, c, _ := botHub(t)
	ctx := context.Background()
	blank, err := Comment(Reply{Client: c, Text: mustParse(t, "{{if .Discussion.IsPullRequest}}{{else}}a discussion{{end}}")})(ctx, onPR3(t, "discussion.create"))
	if err != nil || blank.(*CommentResult).Status != "skipped" {
		t.Errorf("blank text: %+v, %v; want skipped", blank, err)
	}
	handle := Comment(Reply{Client: c, Text: mustParse(t, "hi")})
	if _, err := handle(ctx, eventDelivery(t, "repo.content", "")); err == nil || !strings.Contains(err.Error(), "filter the hook on scopes: [discussion]") {
		t.Errorf("repo event: %v", err)
	}
	_, err = handle(ctx, onPR3(t, "discussion.comment.create", "discussion.num=4"))
	if err == nil || !strings.HasPrefix(err.Error(), "comment on model:acme/llm#4: hub: POST") || !strings.Contains(err.Error(), "404") {
		t.Errorf("unknown discussion: %v", err)
	}
	if d, _ := h.Discussion("model:acme/llm", 3); len(d.Comments) != 1 {
		t.Errorf("%d comments, want only the opening one", len(d.Comments))
	}
	bad, err := hub.NewClient(hub.WithEndpoint(h.URL), hub.WithToken("hf_not_a_token"), hub.WithRetry(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Comment(Reply{Client: bad, Text: mustParse(t, "hi")})(ctx, onPR3(t, "discussion.comment.create"))
	if err == nil || !strings.Contains(err.Error(), "looking up the token's user") || strings.Contains(err.Error(), "hf_not_a_token") {
		t.Errorf("bad token: %v", err)
	}
}
