package hubtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hfhooks/hfhooks/internal/redact"
	"github.com/hfhooks/hfhooks/internal/wire"
)

// maxErrorExcerpt bounds how much of a non-2xx answer an attempt keeps.
const maxErrorExcerpt = 512

// enqueueLocked records d as pending and queues it behind hk's earlier
// deliveries, starting hk's worker when none runs; h.mu must be held.
func (h *Hub) enqueueLocked(hk *hook, d *Delivery) {
	d.State = StatePending
	h.recordLocked(hk, d)
	h.pending++
	hk.queue = append(hk.queue, d)
	if !hk.running {
		hk.running = true
		h.workers.Add(1)
		go h.drain(hk)
	}
	h.notifyLocked()
}

// drain delivers hk's queue one delivery at a time, so that a webhook gets
// its events in the order they happened, and ends when the queue is empty.
func (h *Hub) drain(hk *hook) {
	defer h.workers.Done()
	for {
		h.mu.Lock()
		if len(hk.queue) == 0 {
			hk.running = false
			h.mu.Unlock()
			return
		}
		d := hk.queue[0]
		hk.queue[0] = nil
		hk.queue = hk.queue[1:]
		h.mu.Unlock()
		h.deliver(hk, d)
	}
}

// attemptTarget is where one attempt goes, read from the webhook when the attempt
// starts, so that a retry or a replay uses the current URL and secret.
type attemptTarget struct {
	url, secret, jobSourceID string
}

// deliver makes the attempts of d, waiting between them as the retry
// schedule says, until one is answered 2xx or the schedule runs out.
func (h *Hub) deliver(hk *hook, d *Delivery) {
	for attempt := 0; ; attempt++ {
		t, skip := h.targetOf(hk)
		if skip != "" {
			h.finish(hk, d, StateSkipped, skip)
			return
		}
		if t.jobSourceID != "" {
			h.startJob(hk, d, t)
			return
		}
		a := h.post(t, d.Payload)
		h.mu.Lock()
		d.Attempts = append(d.Attempts, a)
		h.notifyLocked()
		h.mu.Unlock()
		if a.OK() {
			h.finish(hk, d, StateDelivered, "")
			return
		}
		if attempt >= len(h.cfg.retries) {
			h.finish(hk, d, StateFailed, fmt.Sprintf("%d attempt(s) failed", attempt+1))
			return
		}
		timer := time.NewTimer(h.cfg.retries[attempt])
		select {
		case <-timer.C:
		case <-h.ctx.Done():
			timer.Stop()
		}
	}
}

// targetOf reads where to deliver, or why not to.
func (h *Hub) targetOf(hk *hook) (attemptTarget, string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.ctx.Err() != nil:
		return attemptTarget{}, "the hub closed"
	case hk.deleted:
		return attemptTarget{}, "the webhook was deleted"
	case hk.Disabled:
		return attemptTarget{}, "the webhook is disabled"
	}
	return attemptTarget{url: hk.URL, secret: hk.Secret, jobSourceID: hk.jobSourceID}, ""
}

// post makes one attempt: a POST of the JSON payload, with the secret in
// X-Webhook-Secret when there is one. Only a 2xx answer succeeds.
func (h *Hub) post(t attemptTarget, payload []byte) Attempt {
	a := Attempt{Time: time.Now(), URL: redact.URL(t.url)}
	ctx, cancel := context.WithTimeout(h.ctx, h.cfg.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, bytes.NewReader(payload))
	if err != nil {
		a.Error = redact.String(err.Error())
		return a
	}
	req.Header.Set("Content-Type", "application/json")
	if t.secret != "" {
		req.Header.Set(wire.SecretHeader, t.secret)
	}
	resp, err := h.client.Do(req)
	a.Duration = time.Since(a.Time)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		if errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("no answer within %s", h.cfg.timeout)
		}
		a.Error = err.Error()
		return a
	}
	defer resp.Body.Close()
	a.StatusCode = resp.StatusCode
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorExcerpt))
	_, _ = io.Copy(io.Discard, resp.Body)
	a.Duration = time.Since(a.Time)
	if !a.OK() {
		a.Error = strings.TrimSpace(string(excerpt))
	}
	return a
}

// startJob records the Job run a job webhook starts, with the environment
// the Hub gives a Job (spec §4.9).
func (h *Hub) startJob(hk *hook, d *Delivery, t attemptTarget) {
	typ, name, _ := strings.Cut(d.Repo, ":")
	env := map[string]string{
		"WEBHOOK_PAYLOAD":   string(d.Payload),
		"WEBHOOK_REPO_ID":   name,
		"WEBHOOK_REPO_TYPE": typ,
	}
	if t.secret != "" {
		env["WEBHOOK_SECRET"] = t.secret
	}
	h.mu.Lock()
	d.Job = &JobRun{JobSourceID: t.jobSourceID, Env: env}
	h.mu.Unlock()
	h.finish(hk, d, StateJobStarted, "")
}

// finish sets d's final state. A failure counts towards hk's suspension; a
// success resets the count.
func (h *Hub) finish(hk *hook, d *Delivery, state State, reason string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	d.State, d.Reason = state, reason
	switch state {
	case StateDelivered, StateJobStarted:
		hk.failures = 0
	case StateFailed:
		hk.failures++
		if n := h.cfg.suspendAfter; n > 0 && hk.failures >= n && !hk.Disabled && !hk.deleted {
			hk.Disabled = true
			hk.suspended = fmt.Sprintf("suspended after %d failed events in a row", hk.failures)
			d.Reason += "; webhook " + hk.suspended
			h.cfg.logger.Warn("webhook suspended", "webhook", hk.ID, "failures", hk.failures)
		}
	}
	h.cfg.logger.Info("delivery", "webhook", hk.ID, "event", d.EventID, "state", state, "attempts", len(d.Attempts), "reason", reason)
	h.pending--
	h.trimLocked(hk)
	h.notifyLocked()
}
