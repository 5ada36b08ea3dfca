package action

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"text/template"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/hub"
)

// Reply is what Comment posts on the discussion or pull request of an
// event.
type Reply struct {
	// Client posts as the user of its token: the bot.
	Client *hub.Client
	// Text is the comment, in Markdown, made by ParseTemplate (or any
	// template executed on the *hfhooks.Payload). A text that renders
	// blank posts no comment.
	Text *template.Template
	// Status, when not empty, also closes (hub.StatusClosed) or reopens
	// (hub.StatusOpen) the discussion, with the comment; a discussion
	// that already has that status only gets the comment.
	Status hub.DiscussionStatus
	// Logger logs the events Comment skips, at info; nil means
	// slog.Default().
	Logger *slog.Logger
}

// CommentResult is the result of a Comment handler, which the server
// encodes as the response body.
type CommentResult struct {
	// Status is "ok" when Comment posted, "skipped" when it had nothing to
	// do.
	Status string `json:"status"`
	// CommentID is the id of the comment posted, if any.
	CommentID string `json:"commentId,omitempty"`
	// Reason says why Comment skipped the event.
	Reason string `json:"reason,omitempty"`
}

// Comment returns a handler that comments on the discussion or pull
// request of each delivery, as the user of r.Client's token.
//
// It never acts on an event whose comment, or discussion, is the bot's
// own: the Hub sends a discussion.comment.create for every comment,
// the bot's too, and a bot that answered those would answer itself
// forever. The bot's user is looked up once, with hub.Client.Whoami, on
// the first delivery; events are told apart by the author ids of the
// payload. A skipped event is logged at info with the reason, and answered
// with a *CommentResult whose Status is "skipped".
//
// An event without a discussion (a repo event) is an error: filter the
// hook's deliveries on the discussion scope. The Hub's answers to the
// comment are not retried by the client (see hub.Client.CommentDiscussion);
// a failure is the handler's error, which a durable queue retries.
func Comment(r Reply) hfhooks.HandlerFunc {
	log := r.Logger
	if log == nil {
		log = slog.Default()
	}
	bot := &whoami{client: r.Client}
	return func(ctx context.Context, d *hfhooks.Delivery) (any, error) {
		p := d.Payload
		if p.Discussion == nil {
			return nil, fmt.Errorf("comment: the %s event has no discussion to comment on: filter the hook on scopes: [discussion]", p.Event.Scope)
		}
		ref := hub.DiscussionRef{RepoType: hub.RepoType(p.Repo.Type), RepoID: p.Repo.Name, Num: p.Discussion.Num}
		skip := func(reason string) (any, error) {
			log.Info("comment skipped", "delivery", d.ID, "discussion", ref.String(), "reason", reason)
			return &CommentResult{Status: "skipped", Reason: reason}, nil
		}
		me, err := bot.user(ctx)
		if err != nil {
			return nil, fmt.Errorf("comment: looking up the token's user: %w", err)
		}
		switch {
		case p.Comment != nil && p.Comment.Author.ID == me.ID:
			return skip("the comment is by the bot's own user " + me.Name)
		case p.Discussion.Author.ID == me.ID:
			return skip("the discussion was opened by the bot's own user " + me.Name)
		}
		text := ""
		if r.Text != nil {
			if text, err = render(r.Text, p); err != nil {
				return nil, fmt.Errorf("comment on %s: %w", ref, err)
			}
		}
		blank := strings.TrimSpace(text) == ""
		if r.Status != "" && string(p.Discussion.Status) != string(r.Status) {
			if _, err := r.Client.ChangeDiscussionStatus(ctx, ref, r.Status, text); err != nil {
				return nil, fmt.Errorf("comment on %s: %w", ref, err)
			}
			return &CommentResult{Status: "ok"}, nil
		}
		if blank {
			return skip("the text is blank")
		}
		c, err := r.Client.CommentDiscussion(ctx, ref, text)
		if err != nil {
			return nil, fmt.Errorf("comment on %s: %w", ref, err)
		}
		return &CommentResult{Status: "ok", CommentID: c.ID}, nil
	}
}

// whoami looks the token's user up once: the Hub rate-limits whoami-v2
// strictly. A failed lookup is tried again on the next call.
type whoami struct {
	client *hub.Client
	mu     sync.Mutex
	me     *hub.User
}

func (w *whoami) user(ctx context.Context) (*hub.User, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.me != nil {
		return w.me, nil
	}
	me, err := w.client.Whoami(ctx)
	if err != nil {
		return nil, err
	}
	if me.ID == "" {
		return nil, errors.New("the Hub's answer has no user id")
	}
	w.me = me
	return me, nil
}
