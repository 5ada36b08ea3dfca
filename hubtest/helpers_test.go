package hubtest_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/hub"
	"github.com/hfhooks/hfhooks/hubtest"
)

// fast are options that keep tests quick: short retries, a short timeout.
var fast = []hubtest.Option{hubtest.WithRetrySchedule(5*time.Millisecond, 5*time.Millisecond), hubtest.WithTimeout(2 * time.Second)}

// newHub starts an emulator for the test, with fast options first.
func newHub(t testing.TB, opts ...hubtest.Option) *hubtest.Server {
	t.Helper()
	srv := hubtest.NewServer(append(slices.Clone(fast), opts...)...)
	t.Cleanup(srv.Close)
	return srv
}

// client returns a hub client for the emulator with token.
func client(t testing.TB, srv *hubtest.Server, token string) *hub.Client {
	t.Helper()
	c, err := hub.NewClient(hub.WithEndpoint(srv.URL), hub.WithToken(token), hub.WithRetry(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// ctxT is a context that ends with the test or after 10 s.
func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// received is one delivery a receiver's handler ran for.
type received struct {
	Payload *hfhooks.Payload
	Body    []byte
	Header  http.Header
}

// receiver is a real hfhooks.Server on loopback with one webhook,
// /webhooks/hook, that records what it receives. Its secret can be changed,
// as a user fixing a misconfigured receiver would.
type receiver struct {
	URL     string // the webhook URL
	handler atomic.Pointer[http.Handler]
	fail    atomic.Int32 // answer 500 to this many more deliveries

	mu  sync.Mutex
	got []received
}

func newReceiver(t testing.TB, secret string) *receiver {
	t.Helper()
	r := &receiver{}
	r.setSecret(t, secret)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		(*r.handler.Load()).ServeHTTP(w, req)
	}))
	t.Cleanup(ts.Close)
	r.URL = ts.URL + "/webhooks/hook"
	return r
}

// setSecret replaces the receiver by one that requires secret.
func (r *receiver) setSecret(t testing.TB, secret string) {
	t.Helper()
	s := hfhooks.NewServer(hfhooks.WithSecret(secret), hfhooks.WithLogger(slog.New(slog.DiscardHandler)), hfhooks.WithOutput(io.Discard))
	if err := s.AddEndpoint("hook", r.record); err != nil {
		t.Fatal(err)
	}
	var h http.Handler = s
	r.handler.Store(&h)
}

func (r *receiver) record(_ context.Context, d *hfhooks.Delivery) (any, error) {
	if r.fail.Add(-1) >= 0 {
		return nil, hfhooks.Error("failing on purpose", http.StatusInternalServerError)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, received{Payload: d.Payload, Body: d.Body, Header: d.Header})
	return nil, nil
}

// deliveries returns what the receiver got so far.
func (r *receiver) deliveries() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.got)
}

// byWebhook returns the ids of the webhooks whose deliveries the receiver
// got, in order.
func (r *receiver) byWebhook() []string {
	var ids []string
	for _, d := range r.deliveries() {
		ids = append(ids, d.Payload.Webhook.ID)
	}
	return ids
}

// create makes a webhook with the client, failing the test on error.
func create(t testing.TB, c *hub.Client, opts hub.CreateWebhookOptions) *hub.Webhook {
	t.Helper()
	w, err := c.CreateWebhook(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// emit emits an event, failing the test on error.
func emit(t testing.TB, h *hubtest.Server, ev hubtest.Event) *hubtest.Emitted {
	t.Helper()
	e, err := h.Emit(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// idle waits until no delivery is pending.
func idle(t testing.TB, h *hubtest.Server) {
	t.Helper()
	if err := h.WaitIdle(ctxT(t)); err != nil {
		t.Fatal(err)
	}
}

// activity returns a webhook's activity, failing the test on error.
func activity(t testing.TB, h *hubtest.Server, id string) []hubtest.Delivery {
	t.Helper()
	a, err := h.Activity(id)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// checkPayloads asserts that every payload in the activity of the webhooks
// decodes with the receiver's decoder and names its webhook.
func checkPayloads(t testing.TB, h *hubtest.Server, ids ...string) {
	t.Helper()
	for _, id := range ids {
		for _, d := range activity(t, h, id) {
			p, err := hfhooks.DecodePayload(d.Payload)
			if err != nil {
				t.Errorf("webhook %s, delivery %s (%s): %v\n%s", id, d.ID, d.Kind, err, d.Payload)
				continue
			}
			if p.Webhook.ID != id {
				t.Errorf("delivery %s to webhook %s has webhook.id %s", d.ID, id, p.Webhook.ID)
			}
		}
	}
}

// getJSON GETs u with token and decodes the JSON answer into out; it
// returns the status.
func getJSON(t testing.TB, method, u, token string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, u, err)
		}
	}
	return resp.StatusCode
}
