package hfhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/hfhooks/hfhooks/internal/redact"
)

// The delivery inspector: GET /api/deliveries/{id} and the page
// /deliveries/{id} show one delivery with its payload and its attempts.

// Outcome says how the delivery stands, the answer the request got and the
// state in one: "accepted 202 → failed", "forbidden 403 → rejected".
func (r DeliveryRecord) Outcome() string {
	return strings.ToLower(http.StatusText(r.StatusCode)) + " " + strconv.Itoa(r.StatusCode) + " → " + string(r.State)
}

// payloads keeps the bodies of the last requests, as the ring keeps their
// records: lock-free, a slot per request.
type payloads struct {
	next  atomic.Uint64
	slots [keptPayloads]atomic.Pointer[keptPayload]
}

type keptPayload struct {
	id   string
	body []byte
}

// keep remembers the body of request id, unless it is empty or too large.
func (p *payloads) keep(id string, body []byte) {
	if len(body) == 0 || len(body) > maxKeptPayload {
		return
	}
	i := p.next.Add(1) - 1
	p.slots[i%keptPayloads].Store(&keptPayload{id: id, body: body})
}

// body returns the kept body of request id, or nil.
func (p *payloads) body(id string) []byte {
	for i := range p.slots {
		if k := p.slots[i].Load(); k != nil && k.id == id {
			return k.body
		}
	}
	return nil
}

// detailOf is the detail of a delivery recorded in memory: its one attempt,
// when a handler ran.
func detailOf(rec DeliveryRecord) DeliveryDetail {
	d := DeliveryDetail{Delivery: rec, Attempts: []Attempt{}}
	if rec.Attempts == 0 {
		return d
	}
	// The ring holds final records only: the run has ended.
	d.Attempts = append(d.Attempts, Attempt{Number: 1, State: rec.State, StatusCode: rec.StatusCode, Ended: rec.Time.Add(rec.Duration),
		Duration: rec.Duration, Error: rec.Error, Output: rec.Output})
	return d
}

// payloadJSON returns body, with URL query values masked, as a JSON value:
// itself when it is JSON, else a JSON string of it.
func payloadJSON(body []byte) json.RawMessage {
	if body == nil {
		return nil
	}
	shown := []byte(redact.String(string(body)))
	if json.Valid(shown) {
		return shown
	}
	s, _ := json.Marshal(string(shown)) // a string always encodes
	return s
}

// delivery returns the detail of delivery id, with its payload (the
// queue's, or the one kept in memory) as shown: masked.
func (s *Server) delivery(ctx context.Context, id string) (DeliveryDetail, error) {
	d, err := s.history.Get(ctx, id)
	if err != nil {
		return DeliveryDetail{}, err
	}
	body := []byte(d.Payload)
	if body == nil {
		body = s.payloads.body(id)
	}
	d.Payload = payloadJSON(body)
	return d, nil
}

// serveDelivery answers GET /api/deliveries/{id}: the delivery's detail, or
// 404 for an id the history does not hold.
func (s *Server) serveDelivery(w http.ResponseWriter, r *http.Request) {
	d, err := s.delivery(r.Context(), r.PathValue("id"))
	if err != nil {
		code, msg := deliveryError(r.PathValue("id"), err)
		writeJSON(w, code, errorBody{Error: msg})
		return
	}
	writeJSON(w, http.StatusOK, d)
}

// deliveryError is the status and message of a failed look-up of delivery
// id.
func deliveryError(id string, err error) (int, string) {
	if errors.Is(err, ErrDeliveryNotFound) {
		return http.StatusNotFound, redact.String(fmt.Sprintf("no delivery %q: the server keeps its last requests in memory and, in durable mode, the queue's deliveries", id))
	}
	return http.StatusInternalServerError, "reading delivery " + id + ": " + redact.String(err.Error())
}

// deliveryPage is what the page /deliveries/{id} shows.
type deliveryPage struct {
	DeliveryDetail
	// Payload is the payload, indented when it is JSON.
	Payload string
	// Resend is a shell command that sends the payload again.
	Resend string
	// Pending is true while the delivery's state can change by itself.
	Pending    bool
	Durable    bool
	Prefix     string
	SignedInAs string
}

// serveDeliveryPage answers GET /deliveries/{id}: the delivery inspector.
func (s *Server) serveDeliveryPage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	d, err := s.delivery(r.Context(), id)
	if err != nil {
		code, msg := deliveryError(id, err)
		http.Error(w, msg, code)
		return
	}
	base, prefix := s.publicBase(r)
	data := deliveryPage{DeliveryDetail: d, Pending: inProgress(d.Delivery), Durable: s.queueHistory != nil, Prefix: prefix, SignedInAs: signedInAs(r)}
	if d.Payload != nil {
		body := []byte(d.Payload)
		var text string
		if json.Unmarshal(d.Payload, &text) == nil {
			body = []byte(text) // a body that was not JSON, shown as it came
		}
		data.Payload = indented(body)
		data.Resend = resendCommand(base+"/webhooks/"+d.Delivery.Endpoint, body)
	}
	render(w, "delivery.html", data)
}

// indented returns body indented when it is JSON, else as it is.
func indented(body []byte) string {
	var b bytes.Buffer
	if json.Indent(&b, body, "", "  ") != nil {
		return string(body)
	}
	return b.String()
}

// resendCommand is a curl command that POSTs body to url as the Hub does
// (a JSON body compacted), with the secret left to the shell's
// $WEBHOOK_SECRET.
func resendCommand(url string, body []byte) string {
	var compact bytes.Buffer
	if json.Compact(&compact, body) != nil {
		compact.Reset()
		compact.Write(body)
	}
	return "curl -X POST " + shellQuote(url) + ` -H 'Content-Type: application/json' -H "X-Webhook-Secret: $WEBHOOK_SECRET" --data-binary ` + shellQuote(compact.String())
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
