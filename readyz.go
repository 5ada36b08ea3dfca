package hfhooks

import (
	"context"
	"errors"
	"net/http"

	"github.com/hfhooks/hfhooks/internal/redact"
)

// readyBody is the JSON body of GET /readyz: counts only, no error text,
// since everyone may read it.
type readyBody struct {
	// Status is "ready", or "unavailable" when the queue cannot commit.
	Status string      `json:"status"`
	Queue  *queueReady `json:"queue,omitempty"`
}

// queueReady is the queue's part of GET /readyz.
type queueReady struct {
	CanCommit        bool    `json:"canCommit"`
	Queued           int     `json:"queued"`
	Scheduled        int     `json:"scheduled"`
	Running          int     `json:"running"`
	OldestAgeSeconds float64 `json:"oldestAgeSeconds"`
}

// serveReady answers GET /readyz: 200 {"status":"ready"}, with the queue's
// counts in durable mode (see QueueHealth), or 503 {"status":"unavailable"}
// while the queue cannot commit. A queue whose counts cannot be read is
// reported unavailable too.
func (s *Server) serveReady(w http.ResponseWriter, r *http.Request) {
	qh, ok := s.cfg.queue.(QueueHealth)
	if !ok {
		writeJSON(w, http.StatusOK, readyBody{Status: "ready"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	healthErr := qh.Health(ctx)
	st, statsErr := qh.Stats(ctx)
	body := readyBody{Status: "ready", Queue: &queueReady{
		CanCommit: healthErr == nil, Queued: st.Queued, Scheduled: st.Scheduled, Running: st.Running,
		OldestAgeSeconds: st.OldestAge.Seconds(),
	}}
	if healthErr != nil || statsErr != nil {
		s.log.Warn("not ready", "err", redact.Error(errors.Join(healthErr, statsErr)))
		body.Status = "unavailable"
		writeJSON(w, http.StatusServiceUnavailable, body)
		return
	}
	writeJSON(w, http.StatusOK, body)
}
