package hubtest

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/internal/redact"
	"github.com/hfhooks/hfhooks/internal/wire"
)

// NewDelivery returns a delivery of ev's event as a handler receives it,
// for calling a handler directly in a test, as net/http/httptest's
// NewRequest builds a request for an http.Handler:
//
//	d, err := hubtest.NewDelivery(hubtest.Event{Kind: "repo.update", Repo: "dataset:acme/reviews"})
//	if err != nil {
//		t.Fatal(err)
//	}
//	got, err := handler(ctx, d)
//
// Its payload is the one the emulated Hub would send, decoded as a Server
// decodes it; its endpoint is "test" and its ID a random one: set them when
// the handler reads them. It returns an error for an unknown kind, a bad
// repo or an override that makes the payload invalid.
func NewDelivery(ev Event) (*hfhooks.Delivery, error) {
	body, err := ev.payload()
	if err != nil {
		return nil, err
	}
	p, err := hfhooks.DecodePayload(body)
	if err != nil {
		return nil, fmt.Errorf("hubtest: %s: %w", ev.Kind, err)
	}
	now := time.Now()
	return &hfhooks.Delivery{
		ID:         newID(now),
		Endpoint:   "test",
		Payload:    p,
		Body:       body,
		Header:     http.Header{"Content-Type": {"application/json"}},
		ReceivedAt: now,
	}, nil
}

// Send POSTs ev's payload to url as the Hub delivers it, with secret in
// the X-Webhook-Secret header when it is not empty, and returns the
// receiver's answer; the caller closes its body. url is an endpoint's,
// such as "http://127.0.0.1:7860/webhooks/trigger_training".
func Send(ctx context.Context, url, secret string, ev Event) (*http.Response, error) {
	body, err := ev.payload()
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("hubtest: %w", redact.Error(err))
	}
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set(wire.SecretHeader, secret)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, redact.Error(err) // the URL may carry ?secret=
	}
	return resp, nil
}

// payload builds and encodes ev's payload, as the Hub sends it.
func (ev Event) payload() ([]byte, error) {
	tree, err := ev.build()
	if err != nil {
		return nil, fmt.Errorf("hubtest: %s: %w", ev.Kind, err)
	}
	return encode(tree)
}
