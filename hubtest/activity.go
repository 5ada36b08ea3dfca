package hubtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// ErrNotFound is returned for an unknown webhook, event or delivery.
var ErrNotFound = errors.New("hubtest: not found")

// State is where a delivery stands.
type State string

// The states of a delivery. Only StatePending is not final.
const (
	// StatePending: queued, being sent, or waiting for a retry.
	StatePending State = "pending"
	// StateDelivered: the receiver answered 2xx.
	StateDelivered State = "delivered"
	// StateFailed: every attempt failed (non-2xx, timeout or connection
	// error).
	StateFailed State = "failed"
	// StateRateLimited: the webhook had used up its rate limit; nothing
	// was sent.
	StateRateLimited State = "rate-limited"
	// StateJobStarted: the webhook runs a Job, whose run is in Job.
	StateJobStarted State = "job-started"
	// StateSkipped: the webhook was disabled or deleted, or the Hub closed,
	// before the delivery was done.
	StateSkipped State = "skipped"
)

// Final reports whether the delivery is over.
func (s State) Final() bool { return s != StatePending }

// Delivery is one event sent (or meant) to one webhook, as the Hub's
// Activity tab shows it.
type Delivery struct {
	// ID identifies this delivery; a replay is a new delivery of the same
	// event.
	ID string `json:"id"`
	// WebhookID is the receiving webhook; EventID the event.
	WebhookID string `json:"webhookId"`
	EventID   string `json:"eventId"`
	// Kind is the event's kind (see [Event]); Scope and Action are those
	// of its payload; Repo is "TYPE:NAME".
	Kind   string `json:"kind"`
	Scope  string `json:"scope"`
	Action string `json:"action"`
	Repo   string `json:"repo"`
	// Replay reports whether this delivery was made by [Hub.Replay].
	Replay bool `json:"replay,omitempty"`
	// Time is when the event happened (or the replay was asked for).
	Time  time.Time `json:"time"`
	State State     `json:"state"`
	// Reason explains a state other than delivered, and says when this
	// delivery's failure suspended the webhook.
	Reason string `json:"reason,omitempty"`
	// Attempts are the POSTs made, in order.
	Attempts []Attempt `json:"attempts"`
	// Job is the Job run a job webhook started instead of a POST.
	Job *JobRun `json:"job,omitempty"`
	// Payload is the JSON body, byte for byte.
	Payload json.RawMessage `json:"payload"`
}

// Attempt is one POST of a delivery.
type Attempt struct {
	Time time.Time `json:"time"`
	// URL is where it went: the webhook's URL at the time, with its
	// password and query values redacted (as xxxxx).
	URL string `json:"url"`
	// StatusCode is the receiver's answer; 0 when there was none.
	StatusCode int `json:"statusCode,omitempty"`
	// Error says why the attempt failed without an answer (timeout,
	// connection refused), or is the start of a non-2xx answer's body.
	Error string `json:"error,omitempty"`
	// Duration is how long it took, in nanoseconds in JSON.
	Duration time.Duration `json:"duration"`
}

// OK reports whether the attempt was answered 2xx.
func (a Attempt) OK() bool { return a.StatusCode >= 200 && a.StatusCode <= 299 }

// JobRun is the Job run a job webhook would start, with the environment the
// Hub gives it.
type JobRun struct {
	JobSourceID string `json:"jobSourceId"`
	// Env holds WEBHOOK_PAYLOAD, WEBHOOK_REPO_ID, WEBHOOK_REPO_TYPE and,
	// when the webhook has a secret, WEBHOOK_SECRET.
	Env map[string]string `json:"env"`
}

// snapshot returns a copy of d that later changes do not reach; h.mu must
// be held.
func (d *Delivery) snapshot() Delivery {
	c := *d
	c.Attempts = slices.Clone(d.Attempts)
	if c.Attempts == nil {
		c.Attempts = []Attempt{}
	}
	return c
}

// Activity returns the recent deliveries of a webhook, newest first, or an
// error matching [ErrNotFound] for an unknown webhook.
func (h *Hub) Activity(webhookID string) ([]Delivery, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	hk := h.hooks[webhookID]
	if hk == nil {
		return nil, fmt.Errorf("webhook %s: %w", webhookID, ErrNotFound)
	}
	return activityOf(hk), nil
}

// activityOf returns hk's activity, newest first; h.mu must be held.
func activityOf(hk *hook) []Delivery {
	out := make([]Delivery, 0, len(hk.activity))
	for _, d := range slices.Backward(hk.activity) {
		out = append(out, d.snapshot())
	}
	return out
}

// WaitForDelivery waits until the delivery with the given id is final (see
// [State.Final]) and returns it. It returns early with ctx's error, and the
// delivery as it then is, when ctx ends first.
func (h *Hub) WaitForDelivery(ctx context.Context, deliveryID string) (Delivery, error) {
	for {
		h.mu.Lock()
		d := h.deliveries[deliveryID]
		if d == nil {
			h.mu.Unlock()
			return Delivery{}, fmt.Errorf("delivery %s: %w", deliveryID, ErrNotFound)
		}
		snap, changed := d.snapshot(), h.changed
		h.mu.Unlock()
		if snap.State.Final() {
			return snap, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return snap, fmt.Errorf("waiting for delivery %s: %w", deliveryID, ctx.Err())
		}
	}
}

// WaitIdle waits until no delivery is pending, or ctx ends.
func (h *Hub) WaitIdle(ctx context.Context) error {
	for {
		h.mu.Lock()
		pending, changed := h.pending, h.changed
		h.mu.Unlock()
		if pending == 0 {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("waiting for %d pending deliveries: %w", pending, ctx.Err())
		}
	}
}

// Replay sends an event again to a webhook, as the Hub's Replay button does:
// the same payload, to the webhook's current URL with its current secret.
// It waits until the new delivery is final, or ctx ends, and returns it.
func (h *Hub) Replay(ctx context.Context, webhookID, eventID string) (Delivery, error) {
	d, err := h.replay(webhookID, eventID, "")
	if err != nil {
		return Delivery{}, err
	}
	return h.WaitForDelivery(ctx, d.ID)
}

// replay queues a new delivery of eventID to webhookID, whose owner must be
// owner unless owner is empty.
func (h *Hub) replay(webhookID, eventID, owner string) (Delivery, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return Delivery{}, fmt.Errorf("hubtest: replay: the hub is closed")
	}
	hk := h.hooks[webhookID]
	if hk == nil || (owner != "" && hk.owner != owner) {
		return Delivery{}, fmt.Errorf("webhook %s: %w", webhookID, ErrNotFound)
	}
	i := slices.IndexFunc(hk.activity, func(d *Delivery) bool { return d.EventID == eventID })
	if i < 0 {
		return Delivery{}, fmt.Errorf("event %s of webhook %s: %w", eventID, webhookID, ErrNotFound)
	}
	orig := hk.activity[i]
	d := &Delivery{
		ID: newID(time.Now()), WebhookID: hk.ID, EventID: eventID,
		Kind: orig.Kind, Scope: orig.Scope, Action: orig.Action, Repo: orig.Repo,
		Replay: true, Time: time.Now(), Payload: orig.Payload,
	}
	h.enqueueLocked(hk, d)
	return d.snapshot(), nil
}

// record adds d to hk's activity, forgetting the oldest final deliveries
// past the limit; h.mu must be held.
func (h *Hub) recordLocked(hk *hook, d *Delivery) {
	hk.activity = append(hk.activity, d)
	h.deliveries[d.ID] = d
	h.trimLocked(hk)
}

// trimLocked forgets hk's oldest deliveries past the activity limit, as long
// as they are final; h.mu must be held.
func (h *Hub) trimLocked(hk *hook) {
	n := 0
	for len(hk.activity)-n > h.cfg.activityLimit && hk.activity[n].State.Final() {
		delete(h.deliveries, hk.activity[n].ID)
		n++
	}
	if n > 0 {
		hk.activity = slices.Delete(hk.activity, 0, n)
	}
}
