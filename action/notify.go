package action

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"text/template"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/internal/redact"
)

// Platform is the kind of chat webhook Notify posts to, which decides the
// JSON the message is sent in.
type Platform string

// The platforms Notify knows.
const (
	// Slack: an incoming webhook of Slack, https://hooks.slack.com/...;
	// the body is {"text": "..."}.
	Slack Platform = "slack"
	// Discord: a webhook of a Discord channel,
	// https://discord.com/api/webhooks/...; the body is {"content": "..."}
	// (Discord refuses more than 2000 characters).
	Discord Platform = "discord"
	// Generic: any other URL, such as Mattermost's or Rocket.Chat's
	// incoming webhooks; the body is {"text": "..."}.
	Generic Platform = "url"
)

// Message is what Notify posts.
type Message struct {
	// Platform says which JSON the message is sent in.
	Platform Platform
	// URL is the chat webhook's address. It is a secret: Slack's and
	// Discord's carry their credential in the path, so errors show only
	// its scheme and host.
	URL string
	// Text is the message, made by ParseTemplate (or any template executed
	// on the *hfhooks.Payload). A text that renders blank posts nothing;
	// without one, every post is an error.
	Text *template.Template
	// Timeout bounds each request; zero means DefaultForwardTimeout.
	Timeout time.Duration
	// Client sends the requests; nil means a client that does not follow
	// redirects.
	Client *http.Client
}

// Notify returns a handler that posts m.Text, rendered on each delivery's
// payload, to a chat webhook, in the JSON of m.Platform. It follows
// Forward's rules: a 2xx answer is success, with a *ForwardResult; any
// other status, or a transport error, is an error (quoting the start of
// the answer), so that a durable queue retries. A blank text posts
// nothing: the result's Status is then "skipped".
func Notify(m Message) hfhooks.HandlerFunc {
	send := m.sender()
	return func(ctx context.Context, d *hfhooks.Delivery) (any, error) {
		res, err := send(ctx, d.Payload)
		if err != nil {
			return nil, err
		}
		return res, nil
	}
}

// GiveUpData is what the text of NotifyOnGiveUp is rendered on: the
// payload's fields, as for a delivery ({{.Repo.Name}}), and the give-up's.
type GiveUpData struct {
	*hfhooks.Payload
	// Endpoint is the endpoint the delivery was for: {{.Endpoint}}.
	Endpoint string
	// DeliveryID is the delivery's id: {{.DeliveryID}}.
	DeliveryID string
	// Attempts is how many times its handler was started: {{.Attempts}}.
	Attempts int
	// Error is the handler's last error, secrets redacted: {{.Error}}.
	Error string
}

// NotifyOnGiveUp returns a GiveUpFunc that posts m.Text, rendered on a
// GiveUpData, for a delivery a queue gave up on, as Notify does for a
// delivery:
//
//	{{.Endpoint}} gave up on {{.Repo.Name}} after {{.Attempts}} attempts: {{.Error}}
func NotifyOnGiveUp(m Message) hfhooks.GiveUpFunc {
	send := m.sender()
	return func(ctx context.Context, g *hfhooks.GiveUp) error {
		d := g.Delivery
		_, err := send(ctx, GiveUpData{Payload: d.Payload, Endpoint: d.Endpoint, DeliveryID: d.ID, Attempts: g.Attempts, Error: g.Error})
		return err
	}
}

// sender returns the function that renders m.Text on data and posts it; a
// blank text posts nothing, and the result's Status is "skipped".
func (m Message) sender() func(ctx context.Context, data any) (*ForwardResult, error) {
	key := "text"
	if m.Platform == Discord {
		key = "content"
	}
	p := newPoster(fmt.Sprintf("notify %s %s", m.Platform, redact.Origin(m.URL)), m.URL, http.Header{}, m.Client, m.Timeout)
	return func(ctx context.Context, data any) (*ForwardResult, error) {
		if m.Text == nil {
			return nil, fmt.Errorf("%s: the message has no text (Message.Text is nil)", p.what)
		}
		text, err := render(m.Text, data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.what, err)
		}
		if strings.TrimSpace(text) == "" {
			return &ForwardResult{Status: "skipped"}, nil
		}
		body, err := messageBody(key, text)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p.what, err)
		}
		return p.post(ctx, body)
	}
}

// messageBody encodes {key: text}, without escaping <, > and &: Slack
// reads them as its own markup.
func messageBody(key, text string) ([]byte, error) {
	s, err := toJSON(map[string]string{key: text})
	return []byte(s), err
}
