package hubtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// maxEmitWait bounds the wait parameter of POST /api/emulator/events.
const maxEmitWait = 5 * time.Minute

// emulatorRoutes registers the emulator's own API, which the Hub does not
// have: emitting events, reading activity and replaying.
func (h *Hub) emulatorRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /api/emulator/events", h.authed(h.serveEmit))
	mux.HandleFunc("GET /api/emulator/webhooks/{id}/activity", h.authed(h.withHook(h.serveActivity)))
	mux.HandleFunc("POST /api/emulator/webhooks/{id}/activity/{event}/replay", h.authed(h.serveReplay))
}

// emitRequest is the body of POST /api/emulator/events. Set values are JSON
// values: {"repo.private": true, "event.scope": "repo.config.dois"}.
type emitRequest struct {
	Kind string                     `json:"kind"`
	Repo string                     `json:"repo"`
	Set  map[string]json.RawMessage `json:"set"`
}

// event converts the request to an Event, whose Set values are JSON text.
func (q emitRequest) event() Event {
	ev := Event{Kind: q.Kind, Repo: q.Repo}
	if len(q.Set) > 0 {
		ev.Set = make(map[string]string, len(q.Set))
		for k, v := range q.Set {
			ev.Set[k] = string(v)
		}
	}
	return ev
}

// serveEmit emits an event and answers with its deliveries to the caller's
// webhooks (never those of other tokens). With ?wait=DURATION, it first
// waits up to that long for those deliveries to be final.
func (h *Hub) serveEmit(w http.ResponseWriter, r *http.Request, token string) {
	var wait time.Duration
	if v := r.URL.Query().Get("wait"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 || d > maxEmitWait {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid wait %q: want a duration between 0s and %s", v, maxEmitWait))
			return
		}
		wait = d
	}
	var q emitRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequestBody)).Decode(&q); err != nil {
		writeError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return
	}
	e, err := h.Emit(r.Context(), q.event())
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	e.Deliveries = h.ownDeliveries(token, e.Deliveries)
	e.Skipped = owned(h, token, e.Skipped, func(s Skip) string { return s.WebhookID })
	if wait > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), wait)
		defer cancel()
		for i, d := range e.Deliveries {
			e.Deliveries[i], _ = h.WaitForDelivery(ctx, d.ID)
		}
	}
	writeJSON(w, http.StatusOK, e)
}

// ownDeliveries keeps the deliveries to token's webhooks.
func (h *Hub) ownDeliveries(token string, ds []Delivery) []Delivery {
	return owned(h, token, ds, func(d Delivery) string { return d.WebhookID })
}

// owned keeps the items of token's webhooks, which webhookID names.
func owned[T any](h *Hub, token string, items []T, webhookID func(T) string) []T {
	h.mu.Lock()
	defer h.mu.Unlock()
	own := []T{}
	for _, it := range items {
		if h.ownedHook(token, webhookID(it)) != nil {
			own = append(own, it)
		}
	}
	return own
}

// activityAnswer is the answer of GET /api/emulator/webhooks/{id}/activity.
type activityAnswer struct {
	// Suspended says why the Hub disabled the webhook, if it did.
	Suspended string     `json:"suspended,omitempty"`
	RateLimit rateUsage  `json:"rateLimit"`
	Activity  []Delivery `json:"activity"`
}

// rateUsage is a webhook's use of its rate limit.
type rateUsage struct {
	Used   int    `json:"used"`
	Limit  int    `json:"limit"`
	Window string `json:"window"`
}

func (h *Hub) serveActivity(w http.ResponseWriter, _ *http.Request, hk *hook) {
	writeJSON(w, http.StatusOK, activityAnswer{Suspended: hk.suspended, RateLimit: h.usageLocked(hk), Activity: activityOf(hk)})
}

// usageLocked counts hk's triggers in the current window; h.mu must be held.
func (h *Hub) usageLocked(hk *hook) rateUsage {
	cut := time.Now().Add(-h.cfg.rateWindow)
	n := 0
	for _, t := range hk.triggers {
		if t.After(cut) {
			n++
		}
	}
	return rateUsage{Used: n, Limit: h.cfg.rateLimit, Window: h.cfg.rateWindow.String()}
}

// serveReplay queues a replay and answers 202 with the new delivery.
func (h *Hub) serveReplay(w http.ResponseWriter, r *http.Request, token string) {
	d, err := h.replay(r.PathValue("id"), r.PathValue("event"), token)
	switch {
	case errors.Is(err, ErrNotFound):
		writeError(w, http.StatusNotFound, err.Error())
	case err != nil:
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		writeJSON(w, http.StatusAccepted, struct {
			Delivery Delivery `json:"delivery"`
		}{d})
	}
}
