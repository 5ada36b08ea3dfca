package config

// The comment and notify actions, and the checks of their templates.

import (
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"text/template"

	"go.yaml.in/yaml/v3"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/action"
	"github.com/hfhooks/hfhooks/hub"
	"github.com/hfhooks/hfhooks/internal/redact"
	"github.com/hfhooks/hfhooks/internal/sample"
)

// templateKey is a template of a hook and where it is in the file.
type templateKey struct {
	key  string // "comment.text", "notify.text"
	node *yaml.Node
	tpl  *template.Template
	// giveUp is true for the template of an onGiveUp, executed on an
	// action.GiveUpData rather than on the payload.
	giveUp bool
}

// reply decodes a comment action. It returns the text's template, to be
// checked once the hook's filter is known.
func (d *decoder) reply(n *yaml.Node) (*action.Reply, *templateKey) {
	r := &action.Reply{}
	var text *templateKey
	var token string
	var tokenNode *yaml.Node
	ok := d.fields(n, "comment.", map[string]func(*yaml.Node){
		"text": func(v *yaml.Node) { text = d.template(v, "comment.text") },
		"status": func(v *yaml.Node) {
			s, _ := d.scalar(v, "comment.status")
			switch hub.DiscussionStatus(s) {
			case hub.StatusOpen, hub.StatusClosed:
				r.Status = hub.DiscussionStatus(s)
			default:
				d.errorf(v, "comment.status", "invalid status %q: want open or closed", s)
			}
		},
		"token": func(v *yaml.Node) {
			tokenNode = v
			token, _ = d.expanded(v, "comment.token")
		},
	})
	if !ok {
		return r, nil
	}
	if text == nil && r.Status == "" {
		if _, v := lookup(resolve(n), "text"); v == nil {
			d.errorf(n, "comment.text", "missing: say what to comment, such as \"Thanks for the PR on {{.Repo.Name}}!\"")
		}
	}
	if text != nil {
		r.Text = text.tpl
	}
	c, err := hub.NewClient(hub.WithToken(token), hub.WithUserAgent("hfhooks-comment"))
	switch {
	case err != nil:
		d.errorf(n, "comment.token", "%w", err)
	case !c.HasToken() && tokenNode == nil:
		d.errorf(n, "comment.token", "missing: give the bot's token, such as ${HF_TOKEN}, or set HF_TOKEN")
	}
	r.Client = c
	return r, text
}

// message decodes a notify action. It returns the text's template, to be
// checked once the hook's filter is known.
func (d *decoder) message(n *yaml.Node) (*action.Message, *templateKey) {
	m := &action.Message{}
	var text *templateKey
	var target *yaml.Node
	platform := func(p action.Platform) func(*yaml.Node) {
		return func(v *yaml.Node) {
			key := "notify." + string(p)
			if target != nil {
				d.errorf(v, key, "a notify has one target, and this one already has %s (line %d)", m.Platform, target.Line)
				return
			}
			target, m.Platform = v, p
			raw, ok := d.expanded(v, key)
			if !ok {
				return
			}
			if u, err := url.Parse(raw); err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
				d.errorf(v, key, "invalid URL %s: want http://host/... or https://host/...", redact.Origin(raw))
				return
			}
			m.URL = raw
		}
	}
	ok := d.fields(n, "notify.", map[string]func(*yaml.Node){
		"slack":   platform(action.Slack),
		"discord": platform(action.Discord),
		"url":     platform(action.Generic),
		"text":    func(v *yaml.Node) { text = d.template(v, "notify.text") },
		"timeout": func(v *yaml.Node) { m.Timeout = d.duration(v, "notify.timeout") },
	})
	if !ok {
		return m, nil
	}
	if target == nil {
		d.errorf(n, "notify", "missing target: add slack, discord or url, with the chat webhook's URL")
	}
	if text == nil {
		if _, v := lookup(resolve(n), "text"); v == nil {
			d.errorf(n, "notify.text", "missing: say what to post, such as \"New PR on {{.Repo.Name}}\"")
		}
		return m, nil
	}
	m.Text = text.tpl
	return m, text
}

// template parses a template, reporting a syntax error at its line in the
// file. It returns nil when the template does not parse.
func (d *decoder) template(n *yaml.Node, key string) *templateKey {
	s, ok := d.scalar(n, key)
	if !ok {
		return nil
	}
	tpl, err := action.ParseTemplate(key, s)
	if err != nil {
		d.templateError(n, key, err, "")
		return nil
	}
	return &templateKey{key: key, node: n, tpl: tpl}
}

// templatePosition matches the position text/template gives its errors:
// "template: NAME:LINE: ..." or "template: NAME:LINE:COLUMN: ...".
var templatePosition = regexp.MustCompile(`^template: [^:]*:(\d+):(?:(\d+):)? (?:executing "[^"]*" )?(.*)$`)

// templateError reports err, an error of the template of key in node, at
// its line in the file. event, when not empty, names the sample event it
// was executed on.
func (d *decoder) templateError(n *yaml.Node, key string, err error, event string) {
	n = resolve(n)
	// fileLine is the line in the file of line l of the template.
	fileLine := func(l int) int {
		if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			l++ // a block's text starts on the line after its | or >
		}
		return n.Line + l - 1
	}
	line, msg := n.Line, err.Error()
	if m := templatePosition.FindStringSubmatch(msg); m != nil {
		l, _ := strconv.Atoi(m[1])
		line = fileLine(l)
		msg = m[3]
		if m[2] != "" {
			msg = "column " + m[2] + ": " + msg
		}
	}
	// Other positions the message gives ("unclosed action started at
	// NAME:3") are template lines too.
	msg = regexp.MustCompile(regexp.QuoteMeta(key)+`:(\d+)`).ReplaceAllStringFunc(msg, func(ref string) string {
		l, _ := strconv.Atoi(ref[len(key)+1:])
		return "line " + strconv.Itoa(fileLine(l))
	})
	if strings.Contains(msg, "nil pointer evaluating") {
		msg += ": the event has no such part; guard it with {{with}}, or narrow the filter"
	}
	if event != "" {
		msg += " (on a sample " + event + " event)"
	}
	d.errs = append(d.errs, &Error{File: d.file, Line: line, Hook: d.hook, Key: d.within + key, Err: errors.New(msg)})
}

// checkTemplates executes each template on a sample of every kind of event
// f can let through (key is the action's key), so that a misspelt field, or one the event does not
// have, is an error before anything starts. The repos and refs of f are
// left out: they do not change what a payload holds. With needDiscussion,
// an event without a discussion is an error too.
func (d *decoder) checkTemplates(f hfhooks.Filter, key *yaml.Node, needDiscussion bool, templates ...*templateKey) {
	f.Repos, f.Refs = nil, nil
	events, err := samples()
	if err != nil {
		d.errorf(key, "", "building the sample events to check the templates on: %w", err)
		return
	}
	reported := map[string]bool{}
	for _, ev := range events {
		if ok, _ := f.Match(ev.payload); !ok {
			continue
		}
		if needDiscussion && ev.payload.Discussion == nil && !reported["discussion"] {
			reported["discussion"] = true
			d.errorf(key, "comment", "the filter lets %s events through, which have no discussion to comment on: add filter.scopes: [discussion]", ev.kind)
		}
		for _, t := range templates {
			if t == nil || reported[t.key] {
				continue
			}
			var data any = ev.payload
			if t.giveUp {
				data = action.GiveUpData{Payload: ev.payload, Endpoint: "hook", DeliveryID: "1", Attempts: 1, Error: "exited with code 1"}
			}
			if err := t.tpl.Execute(io.Discard, data); err != nil {
				reported[t.key] = true
				d.templateError(t.node, t.key, err, ev.name)
			}
		}
	}
}

// sampleEvent is a sample payload of one kind of event.
type sampleEvent struct {
	kind    string // the sample kind, such as discussion.create
	name    string // the kind with the repo type and, for a discussion, whether it is a pull request
	payload *hfhooks.Payload
}

// variant is a variant of a sample: its name's suffix and its overrides.
type variant struct {
	suffix    string
	overrides []string
}

// samples returns a sample payload of every kind of event, on each repo
// type, and for a discussion, both as a pull request and not, in a stable
// order. They are built once.
var samples = sync.OnceValues(func() ([]sampleEvent, error) {
	var out []sampleEvent
	for _, kind := range sample.Kinds() {
		for _, typ := range []string{"model", "dataset", "space"} {
			variants := []variant{{}}
			if strings.HasPrefix(kind, "discussion.") {
				variants = []variant{{" (pull request)", nil}, {" (discussion)", []string{"discussion.isPullRequest=false"}}}
			}
			for _, v := range variants {
				body, err := sample.JSON(kind, sample.Options{RepoType: typ}, v.overrides...)
				if err != nil {
					return nil, err
				}
				p, err := hfhooks.DecodePayload(body)
				if err != nil {
					return nil, fmt.Errorf("sample %s: %w", kind, err)
				}
				out = append(out, sampleEvent{kind: kind, name: kind + " on a " + typ + v.suffix, payload: p})
			}
		}
	}
	return out, nil
})
