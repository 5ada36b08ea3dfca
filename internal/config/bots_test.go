package config

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/hub"
	"github.com/hfhooks/hfhooks/hubtest"
)

// botWorld is an emulated Hub with a bot user (hf_bot, "my-org-bot") and a
// maintainer (hf_alice, "alice"), both of my-org, a chat webhook for Slack
// and one for Discord, and a receiver serving hooks.
type botWorld struct {
	hub            *hubtest.Server
	alice          *hub.Client
	slack, discord *chatHook
}

// chatHook is a chat webhook that keeps the bodies it receives.
type chatHook struct {
	*httptest.Server
	bodies chan []byte
}

func newChatHook(t *testing.T) *chatHook {
	t.Helper()
	c := &chatHook{bodies: make(chan []byte, 10)}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		c.bodies <- b
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(c.Close)
	return c
}

// received returns the bodies the chat got so far.
func (c *chatHook) received() []string {
	var out []string
	for {
		select {
		case b := <-c.bodies:
			out = append(out, string(b))
		default:
			return out
		}
	}
}

func newBotWorld(t *testing.T) *botWorld {
	t.Helper()
	w := &botWorld{
		hub: hubtest.NewServer(hubtest.WithRetrySchedule(), hubtest.WithTimeout(5*time.Second),
			hubtest.WithUser("hf_bot", hubtest.User{Name: "my-org-bot", Orgs: []string{"my-org"}}),
			hubtest.WithUser("hf_alice", hubtest.User{Name: "alice", Orgs: []string{"my-org"}})),
		slack: newChatHook(t), discord: newChatHook(t),
	}
	t.Cleanup(w.hub.Close)
	var err error
	if w.alice, err = hub.NewClient(hub.WithEndpoint(w.hub.URL), hub.WithToken("hf_alice"), hub.WithRetry(1, 0)); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HF_ENDPOINT", w.hub.URL)
	return w
}

// serve serves hooks on a loopback receiver, in sync mode, and creates a
// webhook of the emulated Hub for each, watching my-org's discussions.
func (w *botWorld) serve(t *testing.T, hooks []Hook) {
	t.Helper()
	srv := hfhooks.NewServer(hfhooks.WithLogger(slog.New(slog.DiscardHandler)), hfhooks.WithOutput(io.Discard))
	for _, h := range hooks {
		opts := []hfhooks.EndpointOption{hfhooks.EndpointFilter(h.Filter)}
		if h.Secret != "" {
			opts = append(opts, hfhooks.EndpointSecret(h.Secret))
		}
		if err := srv.AddEndpoint(h.Name, h.Handler, opts...); err != nil {
			t.Fatal(err)
		}
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	for _, h := range hooks {
		_, err := w.alice.CreateWebhook(context.Background(), hub.CreateWebhookOptions{
			URL: ts.URL + "/webhooks/" + h.Name, Secret: h.Secret,
			Watched: []hub.WatchedItem{{Type: hub.WatchedOrg, Name: "my-org"}}, Domains: []hub.Domain{hub.DomainDiscussion},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// emit emits an event and waits until every delivery, and what it caused,
// is done.
func (w *botWorld) emit(t *testing.T, kind, repo string, set map[string]string) {
	t.Helper()
	if _, err := w.hub.Emit(context.Background(), hubtest.Event{Kind: kind, Repo: repo, Set: set}); err != nil {
		t.Fatal(err)
	}
	w.idle(t)
}

func (w *botWorld) idle(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.hub.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
}

// failedDeliveries reports every delivery of the emulated Hub that did not
// reach its hook with a 2xx.
func (w *botWorld) checkDelivered(t *testing.T) {
	t.Helper()
	hooks, err := w.alice.ListWebhooks(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, hk := range hooks {
		act, err := w.hub.Activity(hk.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range act {
			if d.State != hubtest.StateDelivered {
				t.Errorf("delivery of %s to %s: %s (%s)", d.Kind, hk.URL, d.State, d.Reason)
			}
		}
	}
}

// TestCookbookBotsEndToEnd runs the cookbook's bots through the emulated
// Hub: the welcome comment on a new pull request, new discussions posted to
// Slack, and merged pull requests announced on Discord.
func TestCookbookBotsEndToEnd(t *testing.T) {
	w := newBotWorld(t)
	all := loadCookbook(t, "SLACK_WEBHOOK_URL", w.slack.URL+"/services/T0/B0/SECRET",
		"DISCORD_WEBHOOK_URL", w.discord.URL+"/api/webhooks/1/SECRET")
	w.serve(t, []Hook{all["welcome"], all["discussions-to-slack"], all["merged-to-discord"]})

	// A pull request: welcomed, neither posted nor announced.
	w.emit(t, "discussion.create", "model:my-org/llm", map[string]string{"discussion.num": "7"})
	pr, _ := w.hub.Discussion("model:my-org/llm", 7)
	if len(pr.Comments) != 2 || pr.Comments[1].AuthorName != "my-org-bot" ||
		!strings.HasPrefix(pr.Comments[1].Content, "Thanks for opening #7 on my-org/llm! 🤗\nA maintainer will review it soon.") {
		t.Errorf("comments on the PR = %+v; want the opening one and the bot's welcome", pr.Comments)
	}
	// A discussion: posted to Slack, not welcomed.
	w.emit(t, "discussion.create", "dataset:my-org/reviews", map[string]string{
		"discussion.num": "3", "discussion.url.web": "https://huggingface.co/datasets/my-org/reviews/discussions/3", "discussion.isPullRequest": "false", "discussion.title": "Labels <b>&</b> splits", "comment.content": "Is the test split deduplicated?",
	})
	if d, _ := w.hub.Discussion("dataset:my-org/reviews", 3); len(d.Comments) != 1 {
		t.Errorf("the discussion got %d comments, want only its opening one", len(d.Comments))
	}
	// A comment on the PR, then its merge: only the merge is announced.
	if _, err := w.alice.CommentDiscussion(context.Background(), hub.DiscussionRef{RepoID: "my-org/llm", Num: 7}, "LGTM"); err != nil {
		t.Fatal(err)
	}
	if err := w.alice.MergePullRequest(context.Background(), hub.DiscussionRef{RepoID: "my-org/llm", Num: 7}, ""); err != nil {
		t.Fatal(err)
	}
	w.idle(t)
	w.checkDelivered(t)

	for _, c := range []struct {
		name string
		chat *chatHook
	}{{"slack", w.slack}, {"discord", w.discord}} {
		got := c.chat.received()
		if len(got) != 1 {
			t.Errorf("%s got %d messages, want 1: %q", c.name, len(got), got)
			continue
		}
		golden := filepath.Join("testdata", "cookbook-"+c.name+".golden")
		if *update {
			if err := os.WriteFile(golden, []byte(got[0]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if got[0] != string(want) {
			t.Errorf("%s body:\n%s\nwant:\n%s", c.name, got[0], want)
		}
	}
}

// TestBotDoesNotAnswerItself runs a hook that answers every new comment:
// the bot's answer comes back as an event, which the hook must skip, so
// that each human comment gets one answer, not an endless thread.
func TestBotDoesNotAnswerItself(t *testing.T) {
	w := newBotWorld(t)
	t.Setenv("HF_BOT_TOKEN", "hf_bot")
	cfg, err := Parse("echo.yaml", []byte(`
hooks:
  - name: echo
    filter: {scopes: [discussion.comment], actions: [create]}
    comment:
      token: ${HF_BOT_TOKEN}
      text: 'You said: "{{.Comment.Content | truncate 20}}"'
`))
	if err != nil {
		t.Fatal(err)
	}
	w.serve(t, cfg.Hooks)
	w.emit(t, "discussion.comment.create", "model:my-org/llm", map[string]string{"discussion.num": "7", "comment.content": "Does this work on CPU?"})
	if _, err := w.alice.CommentDiscussion(context.Background(), hub.DiscussionRef{RepoID: "my-org/llm", Num: 7}, "And on a Mac?"); err != nil {
		t.Fatal(err)
	}
	w.idle(t)
	w.checkDelivered(t)

	d, _ := w.hub.Discussion("model:my-org/llm", 7)
	var thread []string
	for _, c := range d.Comments {
		thread = append(thread, c.AuthorName+": "+c.Content)
	}
	want := []string{
		": Does this work on CPU?", // an emitted comment, whose author the Hub knows by id only
		`my-org-bot: You said: "Does this work on C…"`,
		"alice: And on a Mac?",
		`my-org-bot: You said: "And on a Mac?"`,
	}
	if strings.Join(thread, "\n") != strings.Join(want, "\n") {
		t.Errorf("thread:\n%s\nwant:\n%s", strings.Join(thread, "\n"), strings.Join(want, "\n"))
	}
}
