package hubtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hfhooks/hfhooks/hub"
	"github.com/hfhooks/hfhooks/internal/sample"
)

// Event is something that happens on the emulated Hub.
type Event struct {
	// Kind is one of the kinds "hfhooks trigger" knows: repo.create,
	// repo.update, repo.delete, repo.move, repo.content, repo.config,
	// discussion.create, discussion.update, discussion.comment.create and
	// discussion.comment.update (see [Kinds]).
	Kind string
	// Repo is the repository as "TYPE:NAME", for example
	// "dataset:acme/reviews"; empty means model:acme/sentiment-model.
	Repo string
	// Set overrides payload fields: dotted path to value, where the value
	// is taken as JSON when it is valid JSON and as a string otherwise
	// ("repo.private": "true", "updatedConfig": "{}"). They are applied
	// in path order. webhook.id is always the receiving webhook's.
	Set map[string]string
}

// Kinds lists the event kinds the Hub can emit.
func Kinds() []string { return sample.Kinds() }

// Emitted says what an event was and what became of it: one delivery per
// webhook it matched, pending or rate-limited, and the webhooks that watch
// its repository but were not sent it.
type Emitted struct {
	EventID    string     `json:"eventId"`
	Kind       string     `json:"kind"`
	Scope      string     `json:"scope"`
	Action     string     `json:"action"`
	Repo       string     `json:"repo"`
	Deliveries []Delivery `json:"deliveries"`
	Skipped    []Skip     `json:"skipped,omitempty"`
}

// Skip is a webhook that watches an event's repository but was not sent
// the event.
type Skip struct {
	WebhookID string `json:"webhookId"`
	// Reason says why: "disabled", or that its domains leave out the
	// event's scope.
	Reason string `json:"reason"`
}

// Emit makes the Hub emit ev: it builds the payload, and queues a delivery
// to every enabled webhook that watches the repo (its user or org, or the
// repo itself) and whose domains take the event's scope. A discussion event
// also records its discussion (and comment), so that the discussion API can
// act on it. It does not wait for the deliveries: see
// [Hub.WaitForDelivery] and [Hub.WaitIdle].
func (h *Hub) Emit(ctx context.Context, ev Event) (*Emitted, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	tree, err := ev.build()
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	e, err := h.emitLocked(ev.Kind, tree)
	if err != nil {
		return nil, err
	}
	h.recordDiscussionLocked(e.Repo, tree)
	return e, nil
}

// emitLocked emits the event of kind whose payload is tree; h.mu must be
// held.
func (h *Hub) emitLocked(kind string, tree map[string]any) (*Emitted, error) {
	e, err := describe(kind, tree)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	e.EventID = newID(now)
	repoType, repoName, _ := strings.Cut(e.Repo, ":")
	if h.closed {
		return nil, fmt.Errorf("hubtest: emit %s: the hub is closed", kind)
	}
	webhook := tree["webhook"].(map[string]any)
	for _, id := range h.order {
		hk := h.hooks[id]
		watching, skip := matches(hk, e.Scope, repoType, repoName)
		if !watching {
			continue
		}
		if skip != "" {
			e.Skipped = append(e.Skipped, Skip{WebhookID: hk.ID, Reason: skip})
			continue
		}
		webhook["id"] = hk.ID
		body, err := encode(tree)
		if err != nil {
			return nil, err
		}
		d := &Delivery{
			ID: newID(now), WebhookID: hk.ID, EventID: e.EventID,
			Kind: e.Kind, Scope: e.Scope, Action: e.Action, Repo: e.Repo,
			Time: now, State: StatePending, Payload: body,
		}
		if h.rateLimitedLocked(hk, now) {
			d.State = StateRateLimited
			d.Reason = fmt.Sprintf("rate limit of %d events per %s reached", h.cfg.rateLimit, h.cfg.rateWindow)
			h.recordLocked(hk, d)
		} else {
			h.enqueueLocked(hk, d)
		}
		e.Deliveries = append(e.Deliveries, d.snapshot())
	}
	h.notifyLocked()
	h.cfg.logger.Info("event", "event", e.EventID, "kind", e.Kind, "repo", e.Repo, "webhooks", len(e.Deliveries))
	return e, nil
}

// build builds the event's payload tree with internal/sample.
func (ev Event) build() (map[string]any, error) {
	var o sample.Options
	if ev.Repo != "" {
		typ, name, ok := strings.Cut(ev.Repo, ":")
		if !ok || typ == "" || name == "" {
			return nil, fmt.Errorf("repo %q: want TYPE:NAME, for example dataset:acme/reviews", ev.Repo)
		}
		o.RepoType, o.RepoName = typ, name
	}
	tree, err := sample.Build(ev.Kind, o)
	if err != nil {
		return nil, err
	}
	for _, path := range slices.Sorted(maps.Keys(ev.Set)) {
		if err := sample.Set(tree, path, ev.Set[path]); err != nil {
			return nil, err
		}
	}
	if _, ok := tree["webhook"].(map[string]any); !ok {
		return nil, fmt.Errorf("set: webhook must stay an object")
	}
	return tree, nil
}

// describe reads what matching needs from the payload, after overrides.
func describe(kind string, tree map[string]any) (*Emitted, error) {
	str := func(obj, key string) (string, error) {
		m, _ := tree[obj].(map[string]any)
		s, ok := m[key].(string)
		if !ok || s == "" {
			return "", fmt.Errorf("payload: %s.%s must be a non-empty string", obj, key)
		}
		return s, nil
	}
	var e Emitted
	var err error
	e.Kind = kind
	if e.Scope, err = str("event", "scope"); err != nil {
		return nil, err
	}
	if e.Action, err = str("event", "action"); err != nil {
		return nil, err
	}
	typ, err := str("repo", "type")
	if err != nil {
		return nil, err
	}
	name, err := str("repo", "name")
	if err != nil {
		return nil, err
	}
	e.Repo = typ + ":" + name
	e.Deliveries = []Delivery{}
	return &e, nil
}

// matches reports whether hk watches the repo (its user or org, or the repo
// itself, of the same type), and why the Hub does not send it an event of
// scope on the repo if it does not: it is disabled, or its domains (when it
// has some) leave out the scope.
func matches(hk *hook, scope, repoType, repoName string) (watching bool, skip string) {
	namespace, _, _ := strings.Cut(repoName, "/")
	watching = slices.ContainsFunc(hk.Watched, func(w hub.WatchedItem) bool {
		switch w.Type {
		case hub.WatchedUser, hub.WatchedOrg:
			return w.Name == namespace
		default:
			return string(w.Type) == repoType && w.Name == repoName
		}
	})
	switch {
	case !watching:
		return false, ""
	case hk.Disabled:
		return true, "disabled"
	case len(hk.Domains) > 0 && !slices.ContainsFunc(hk.Domains, func(d hub.Domain) bool {
		return scope == string(d) || strings.HasPrefix(scope, string(d)+".")
	}):
		domains := make([]string, len(hk.Domains))
		for i, d := range hk.Domains {
			domains[i] = string(d)
		}
		return true, fmt.Sprintf("its domains (%s) leave out %s", strings.Join(domains, ", "), scope)
	}
	return true, ""
}

// rateLimitedLocked counts a trigger of hk at now, or reports that its rate
// limit is used up; h.mu must be held.
func (h *Hub) rateLimitedLocked(hk *hook, now time.Time) bool {
	if h.cfg.rateLimit <= 0 {
		return false
	}
	cut := now.Add(-h.cfg.rateWindow)
	hk.triggers = slices.DeleteFunc(hk.triggers, func(t time.Time) bool { return !t.After(cut) })
	if len(hk.triggers) >= h.cfg.rateLimit {
		return true
	}
	hk.triggers = append(hk.triggers, now)
	return false
}

// encode encodes a payload tree as compact JSON, as the Hub sends it.
func encode(tree map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(tree); err != nil {
		return nil, fmt.Errorf("encoding payload: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
