package hubtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/hfhooks/hfhooks/hub"
)

// The messages of the management API's errors.
const (
	msgUnauthorized = "Invalid credentials in Authorization header"
	msgNotFound     = "Webhook not found"
)

// managementRoutes registers the webhook management API of spec §1.
func (h *Hub) managementRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/settings/webhooks", h.authed(h.listWebhooks))
	mux.HandleFunc("POST /api/settings/webhooks", h.authed(h.createWebhook))
	mux.HandleFunc("GET /api/settings/webhooks/{id}", h.authed(h.withHook(h.getWebhook)))
	mux.HandleFunc("POST /api/settings/webhooks/{id}", h.authed(h.withHook(h.updateWebhook)))
	mux.HandleFunc("DELETE /api/settings/webhooks/{id}", h.authed(h.withHook(h.deleteWebhook)))
	mux.HandleFunc("POST /api/settings/webhooks/{id}/enable", h.authed(h.withHook(h.toggleWebhook(false))))
	mux.HandleFunc("POST /api/settings/webhooks/{id}/disable", h.authed(h.withHook(h.toggleWebhook(true))))
}

// tokenHandler is a handler that knows the caller's token.
type tokenHandler func(w http.ResponseWriter, r *http.Request, token string)

// hookHandler is a handler for one of the caller's webhooks; it runs with
// h.mu held.
type hookHandler func(w http.ResponseWriter, r *http.Request, hk *hook)

// authed answers 401 unless the request carries a valid Bearer token.
func (h *Hub) authed(next tokenHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := h.tokenOf(r)
		if !ok {
			writeError(w, http.StatusUnauthorized, msgUnauthorized)
			return
		}
		next(w, r, token)
	}
}

// withHook looks up the {id} webhook among the token's, answering 404 when
// it is not there, and runs next with h.mu held.
func (h *Hub) withHook(next hookHandler) tokenHandler {
	return func(w http.ResponseWriter, r *http.Request, token string) {
		h.mu.Lock()
		defer h.mu.Unlock()
		hk := h.ownedHook(token, r.PathValue("id"))
		if hk == nil {
			writeError(w, http.StatusNotFound, msgNotFound)
			return
		}
		next(w, r, hk)
	}
}

func (h *Hub) listWebhooks(w http.ResponseWriter, _ *http.Request, token string) {
	h.mu.Lock()
	list := []hub.Webhook{}
	for _, id := range h.order {
		if hk := h.hooks[id]; hk.owner == token {
			list = append(list, hk.Webhook)
		}
	}
	h.mu.Unlock()
	writeJSON(w, http.StatusOK, list)
}

func (h *Hub) getWebhook(w http.ResponseWriter, _ *http.Request, hk *hook) {
	writeWebhook(w, hk)
}

func (h *Hub) createWebhook(w http.ResponseWriter, r *http.Request, token string) {
	req, err := decodeWebhookRequest(r)
	if err == nil {
		err = req.check(true)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	hk := &hook{owner: token, Webhook: hub.Webhook{ID: newID(time.Now()), Watched: []hub.WatchedItem{}, Domains: []hub.Domain{}}}
	req.apply(hk)
	h.hooks[hk.ID] = hk
	h.order = append(h.order, hk.ID)
	h.cfg.logger.Info("webhook created", "webhook", hk.ID, "target", target(hk))
	writeWebhook(w, hk)
}

func (h *Hub) updateWebhook(w http.ResponseWriter, r *http.Request, hk *hook) {
	req, err := decodeWebhookRequest(r)
	if err == nil {
		err = req.check(false)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	req.apply(hk)
	h.cfg.logger.Info("webhook updated", "webhook", hk.ID, "target", target(hk))
	writeWebhook(w, hk)
}

func (h *Hub) deleteWebhook(w http.ResponseWriter, _ *http.Request, hk *hook) {
	hk.deleted = true
	delete(h.hooks, hk.ID)
	h.order = slices.DeleteFunc(h.order, func(id string) bool { return id == hk.ID })
	for _, d := range hk.activity {
		if d.State.Final() {
			delete(h.deliveries, d.ID)
		}
	}
	h.cfg.logger.Info("webhook deleted", "webhook", hk.ID)
	writeJSON(w, http.StatusOK, struct{}{})
}

// toggleWebhook disables or enables a webhook. Enabling one the Hub
// suspended clears the count of failed events.
func (h *Hub) toggleWebhook(disabled bool) hookHandler {
	return func(w http.ResponseWriter, _ *http.Request, hk *hook) {
		hk.Disabled = disabled
		if !disabled {
			hk.failures, hk.suspended = 0, ""
		}
		writeWebhook(w, hk)
	}
}

// target is where a webhook delivers, for logs: its URL without the query
// (which may hold a secret), or its job.
func target(hk *hook) string {
	if hk.jobSourceID != "" {
		return "job " + hk.jobSourceID
	}
	u, err := url.Parse(hk.URL)
	if err != nil {
		return "(invalid URL)"
	}
	u.RawQuery, u.User = "", nil
	return u.String()
}

// webhookEnvelope is the {"webhook": {...}} wrapping of single answers.
type webhookEnvelope struct {
	Webhook hub.Webhook `json:"webhook"`
}

func writeWebhook(w http.ResponseWriter, hk *hook) {
	writeJSON(w, http.StatusOK, webhookEnvelope{Webhook: hk.Webhook})
}

// errorBody is the JSON body of every error answer.
type errorBody struct {
	Error string `json:"error"`
}

// writeError answers as the Hub does: the message in the X-Error-Message
// header and in a JSON {"error": ...} body.
func writeError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("X-Error-Message", msg)
	writeJSON(w, code, errorBody{Error: msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code = http.StatusInternalServerError
		b, _ = json.Marshal(errorBody{Error: fmt.Sprintf("encoding the answer: %v", err)})
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(append(b, '\n'))
}
