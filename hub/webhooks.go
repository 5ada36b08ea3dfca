package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"

	"github.com/hfhooks/hfhooks/internal/redact"
)

// WatchedType is the kind of thing a webhook watches.
type WatchedType string

// The watched types the Hub knows.
const (
	WatchedUser    WatchedType = "user"
	WatchedOrg     WatchedType = "org"
	WatchedModel   WatchedType = "model"
	WatchedDataset WatchedType = "dataset"
	WatchedSpace   WatchedType = "space"
)

// WatchedTypes lists the known watched types, sorted.
var WatchedTypes = []WatchedType{WatchedDataset, WatchedModel, WatchedOrg, WatchedSpace, WatchedUser}

// Known reports whether t is one of [WatchedTypes].
func (t WatchedType) Known() bool { return slices.Contains(WatchedTypes, t) }

// Domain is a family of events a webhook receives.
type Domain string

// The domains the Hub knows.
const (
	// DomainRepo: repo updates and code changes.
	DomainRepo Domain = "repo"
	// DomainDiscussion: discussions, pull requests and comments.
	DomainDiscussion Domain = "discussion"
)

// Domains lists the known domains.
var Domains = []Domain{DomainRepo, DomainDiscussion}

// Normalize returns d with the plural spelling "discussions" (which the
// Python library's type and CLI use) replaced by the wire value "discussion".
func (d Domain) Normalize() Domain {
	if d == "discussions" {
		return DomainDiscussion
	}
	return d
}

// UnmarshalText accepts "discussions" as [DomainDiscussion].
func (d *Domain) UnmarshalText(b []byte) error {
	*d = Domain(b).Normalize()
	return nil
}

// WatchedItem is something a webhook watches: a user, an organization or a
// repository.
type WatchedItem struct {
	// Type is what Name names.
	Type WatchedType `json:"type"`
	// Name is a user name, an organization name or a repo id such as
	// "HuggingFaceH4/zephyr-7b-beta".
	Name string `json:"name"`
}

// Webhook is a webhook as the Hub describes it. Exactly one of URL and Job
// is set.
type Webhook struct {
	// ID is the Hub's id of the webhook, a 24 hex digit ObjectId.
	ID string `json:"id"`
	// URL receives the deliveries; empty for a webhook that runs a Job.
	URL string `json:"url,omitempty"`
	// Job is the Job the webhook runs; nil for a URL webhook.
	Job *JobSpec `json:"job,omitempty"`
	// Watched lists what the webhook watches.
	Watched []WatchedItem `json:"watched"`
	// Domains lists the event families the webhook receives.
	Domains []Domain `json:"domains"`
	// Secret is sent in the X-Webhook-Secret header of deliveries; it may
	// be empty.
	Secret string `json:"secret,omitempty"`
	// Disabled reports whether deliveries are paused.
	Disabled bool `json:"disabled"`
}

// UnmarshalJSON decodes a webhook object, requiring the fields
// huggingface_hub requires (id, watched with type and name, domains,
// disabled). A job that is null, missing or {} gives a nil Job. Unknown keys
// are ignored.
func (w *Webhook) UnmarshalJSON(b []byte) error {
	var raw struct {
		ID       *string         `json:"id"`
		URL      string          `json:"url"`
		Job      json.RawMessage `json:"job"`
		Watched  *[]WatchedItem  `json:"watched"`
		Domains  *[]Domain       `json:"domains"`
		Secret   string          `json:"secret"`
		Disabled *bool           `json:"disabled"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	for _, f := range []struct {
		key     string
		missing bool
	}{{"id", raw.ID == nil}, {"watched", raw.Watched == nil}, {"domains", raw.Domains == nil}, {"disabled", raw.Disabled == nil}} {
		if f.missing {
			return fmt.Errorf("webhook object has no %q", f.key)
		}
	}
	for i, item := range *raw.Watched {
		if item.Type == "" || item.Name == "" {
			return fmt.Errorf("webhook object: watched[%d] needs a type and a name", i)
		}
	}
	*w = Webhook{ID: *raw.ID, URL: raw.URL, Watched: *raw.Watched, Domains: *raw.Domains, Secret: raw.Secret, Disabled: *raw.Disabled}
	if j := bytes.TrimSpace(raw.Job); len(j) > 0 && !bytes.Equal(j, []byte("null")) {
		var job JobSpec
		if err := json.Unmarshal(j, &job); err != nil {
			return fmt.Errorf("webhook object: job: %w", err)
		}
		if !job.isZero() {
			w.Job = &job
		}
	}
	return nil
}

// CreateWebhookOptions describes a new webhook. Exactly one of URL and JobID
// must be set, and Watched must not be empty.
type CreateWebhookOptions struct {
	// URL receives the deliveries: an http or https URL.
	URL string
	// JobID is the id of a Job to run on each event, instead of calling a
	// URL (sent as "jobSourceId").
	JobID string
	// Watched lists what to watch; at least one item.
	Watched []WatchedItem
	// Domains lists the event families to receive; nil leaves the choice
	// to the Hub (all domains).
	Domains []Domain
	// Secret, when not empty, is sent with each delivery in the
	// X-Webhook-Secret header. ASCII only.
	Secret string
}

// UpdateWebhookOptions lists the changes to a webhook. A nil field is left
// as it is.
type UpdateWebhookOptions struct {
	// URL, when not nil, is the new target URL.
	URL *string
	// Watched, when not nil, replaces what the webhook watches; it must not
	// be empty.
	Watched []WatchedItem
	// Domains, when not nil, replaces the domains.
	Domains []Domain
	// Secret, when not nil, replaces the secret.
	Secret *string
}

// Ptr returns a pointer to v, for the pointer fields of
// [UpdateWebhookOptions].
func Ptr[T any](v T) *T { return &v }

// webhookRequest is the JSON body of create and update.
type webhookRequest struct {
	Watched     []WatchedItem `json:"watched"`
	Domains     []Domain      `json:"domains,omitzero"`
	Secret      *string       `json:"secret,omitempty"`
	URL         *string       `json:"url,omitempty"`
	JobSourceID string        `json:"jobSourceId,omitempty"`
}

// webhookEnvelope is the {"webhook": {...}} wrapping of single-webhook answers.
type webhookEnvelope struct {
	Webhook *Webhook `json:"webhook"`
}

// webhooksPath is the collection path; webhookPath that of one webhook.
const webhooksPath = "/api/settings/webhooks"

// webhookPath is the path of the webhook id plus suffix. The id is escaped,
// so that it cannot reach another path.
func webhookPath(id, suffix string) (string, error) {
	if id == "" {
		return "", &ArgumentError{Arg: "id", Problem: "a webhook id is required"}
	}
	return webhooksPath + "/" + url.PathEscape(id) + suffix, nil
}

// ListWebhooks returns the webhooks of the token's user (GET
// /api/settings/webhooks). The Hub has no paging. Retried when it fails in a
// way worth retrying.
func (c *Client) ListWebhooks(ctx context.Context) ([]Webhook, error) {
	var hooks []Webhook
	if err := c.do(ctx, http.MethodGet, webhooksPath, nil, &hooks, true); err != nil {
		return nil, err
	}
	return hooks, nil
}

// GetWebhook returns the webhook with the given id (GET
// /api/settings/webhooks/{id}). An unknown id gives an error matching
// [ErrNotFound]. Retried when it fails in a way worth retrying.
func (c *Client) GetWebhook(ctx context.Context, id string) (*Webhook, error) {
	path, err := webhookPath(id, "")
	if err != nil {
		return nil, err
	}
	return c.webhookCall(ctx, http.MethodGet, path, nil, true)
}

// CreateWebhook creates a webhook (POST /api/settings/webhooks). The options
// are checked before anything is sent; a problem gives an [*ArgumentError].
// A create is never sent twice, even when the first attempt fails in a way
// that would be retried for other methods.
func (c *Client) CreateWebhook(ctx context.Context, opts CreateWebhookOptions) (*Webhook, error) {
	switch {
	case opts.URL != "" && opts.JobID != "":
		return nil, &ArgumentError{Arg: "url", Problem: "set a URL or a job id, not both"}
	case opts.URL == "" && opts.JobID == "":
		return nil, &ArgumentError{Arg: "url", Problem: "a URL or a job id is required"}
	}
	req := webhookRequest{JobSourceID: opts.JobID}
	if opts.URL != "" {
		req.URL = &opts.URL
	}
	if opts.Secret != "" {
		req.Secret = &opts.Secret
	}
	if opts.Watched == nil {
		return nil, &ArgumentError{Arg: "watched", Problem: "at least one watched item is required"}
	}
	if err := req.set(opts.Watched, opts.Domains); err != nil {
		return nil, err
	}
	return c.webhookCall(ctx, http.MethodPost, webhooksPath, req, false)
}

// UpdateWebhook changes the webhook with the given id (POST
// /api/settings/webhooks/{id}) and returns it as it now is. Only the fields
// of opts that are not nil change, and they are checked as for
// [Client.CreateWebhook] before anything is sent.
//
// The Hub's update needs the watched list. When opts.Watched is nil,
// UpdateWebhook therefore first reads the webhook and sends its current
// watched list back. This differs from huggingface_hub's update_webhook,
// which sends an empty list ("watched": []) in that case.
//
// Retried when it fails in a way worth retrying: an update sets values and
// is safe to repeat.
func (c *Client) UpdateWebhook(ctx context.Context, id string, opts UpdateWebhookOptions) (*Webhook, error) {
	path, err := webhookPath(id, "")
	if err != nil {
		return nil, err
	}
	req := webhookRequest{URL: opts.URL, Secret: opts.Secret}
	if err := req.set(opts.Watched, opts.Domains); err != nil {
		return nil, err
	}
	if opts.Watched == nil {
		current, err := c.GetWebhook(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("reading the webhook's current watched list: %w", err)
		}
		req.Watched = current.Watched
	}
	return c.webhookCall(ctx, http.MethodPost, path, req, true)
}

// EnableWebhook resumes deliveries of a disabled webhook (POST
// /api/settings/webhooks/{id}/enable). Retried when it fails in a way worth
// retrying.
func (c *Client) EnableWebhook(ctx context.Context, id string) (*Webhook, error) {
	path, err := webhookPath(id, "/enable")
	if err != nil {
		return nil, err
	}
	return c.webhookCall(ctx, http.MethodPost, path, nil, true)
}

// DisableWebhook pauses deliveries of a webhook (POST
// /api/settings/webhooks/{id}/disable). Retried when it fails in a way worth
// retrying.
func (c *Client) DisableWebhook(ctx context.Context, id string) (*Webhook, error) {
	path, err := webhookPath(id, "/disable")
	if err != nil {
		return nil, err
	}
	return c.webhookCall(ctx, http.MethodPost, path, nil, true)
}

// DeleteWebhook deletes a webhook (DELETE /api/settings/webhooks/{id}).
// Retried when it fails in a way worth retrying.
func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	path, err := webhookPath(id, "")
	if err != nil {
		return err
	}
	return c.do(ctx, http.MethodDelete, path, nil, nil, true)
}

// webhookCall sends a request the Hub answers with {"webhook": {...}}.
func (c *Client) webhookCall(ctx context.Context, method, path string, body any, retry bool) (*Webhook, error) {
	var env webhookEnvelope
	if err := c.do(ctx, method, path, body, &env, retry); err != nil {
		return nil, err
	}
	if env.Webhook == nil {
		return nil, fmt.Errorf("hub: %s %s: answer has no \"webhook\" object", method, redact.URL(c.endpoint+path))
	}
	return env.Webhook, nil
}

// set checks watched (when not nil), domains and the other fields already
// in r, and stores normalized copies of watched and domains in r.
func (r *webhookRequest) set(watched []WatchedItem, domains []Domain) error {
	if watched != nil {
		if len(watched) == 0 {
			return &ArgumentError{Arg: "watched", Problem: "at least one watched item is required"}
		}
		for _, w := range watched {
			if !w.Type.Known() {
				return &ArgumentError{Arg: "watched", Problem: fmt.Sprintf("invalid type %q; valid types: dataset, model, org, space, user", w.Type)}
			}
			if w.Name == "" {
				return &ArgumentError{Arg: "watched", Problem: fmt.Sprintf("the %s item has no name", w.Type)}
			}
		}
		r.Watched = slices.Clone(watched)
	}
	if domains != nil {
		r.Domains = make([]Domain, len(domains))
		for i, d := range domains {
			r.Domains[i] = d.Normalize()
			if !slices.Contains(Domains, r.Domains[i]) {
				return &ArgumentError{Arg: "domains", Problem: fmt.Sprintf("invalid domain %q; valid domains: repo, discussion", d)}
			}
		}
	}
	if r.URL != nil {
		u, err := url.Parse(*r.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return &ArgumentError{Arg: "url", Problem: fmt.Sprintf("%q is not an http(s) URL", redact.URL(*r.URL))}
		}
	}
	if r.Secret != nil {
		for _, b := range []byte(*r.Secret) {
			if b >= 0x80 {
				return &ArgumentError{Arg: "secret", Problem: "only ASCII characters are supported"}
			}
		}
	}
	return nil
}
