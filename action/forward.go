package action

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/internal/redact"
)

// DefaultForwardTimeout bounds a forward, or a notify, when its Timeout is
// zero.
const DefaultForwardTimeout = 30 * time.Second

// maxErrorBody is how much of a failed target's answer an error quotes.
const maxErrorBody = 200

// Target is where Forward POSTs deliveries.
type Target struct {
	// URL is the target's address.
	URL string
	// Headers are set on each request, after Content-Type.
	Headers map[string]string
	// Secret, when not empty, is sent in X-Webhook-Secret, so that the
	// target can check it as a receiver of the Hub does. The secret of the
	// incoming delivery is never forwarded.
	Secret string
	// Timeout bounds each request; zero means DefaultForwardTimeout.
	Timeout time.Duration
	// Client sends the requests; nil means a client that does not follow
	// redirects (a 301 or 302 would turn the POST into a GET without the
	// payload), so a redirect is a failure.
	Client *http.Client
}

// ForwardResult is the result of a successful forward or notify, which the
// server encodes as the response body.
type ForwardResult struct {
	// Status is "ok", or "skipped" when a notify had nothing to post.
	Status string `json:"status"`
	// StatusCode is the target's answer; 0 when nothing was posted.
	StatusCode int `json:"statusCode,omitempty"`
}

// noRedirects is the client of a Target without one.
var noRedirects = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Forward returns a handler that POSTs each delivery's body, byte for byte,
// to t.URL with Content-Type application/json and t.Headers. No header of
// the incoming request is passed on. A 2xx answer is success, with a
// *ForwardResult; any other status, or a transport error, is an error, so
// that a durable queue retries.
//
// The error names the target with its password and query values replaced
// by xxxxx, and quotes at most the first 200
// bytes of the target's answer. That excerpt, like a command's output, is
// meant for the receiver's operators (its page and /api/deliveries), not
// for whoever sent the delivery.
func Forward(t Target) hfhooks.HandlerFunc {
	header := http.Header{}
	for k, v := range t.Headers {
		header.Set(k, v)
	}
	if t.Secret != "" {
		header.Set(hfhooks.SecretHeader, t.Secret)
	}
	p := newPoster("forward to "+redact.URL(t.URL), t.URL, header, t.Client, t.Timeout)
	return func(ctx context.Context, d *hfhooks.Delivery) (any, error) {
		res, err := p.post(ctx, d.Body)
		if err != nil {
			return nil, err
		}
		return res, nil
	}
}

// poster POSTs JSON bodies to one target: Forward's and Notify's shared
// rules for the timeout, redirects, errors and what they show.
type poster struct {
	// what names the request in errors, with the target's secrets
	// redacted: "forward to http://host/path?token=xxxxx".
	what    string
	url     string
	header  http.Header
	client  *http.Client
	timeout time.Duration
}

// newPoster returns a poster; a nil client means noRedirects, a zero
// timeout DefaultForwardTimeout.
func newPoster(what, u string, header http.Header, client *http.Client, timeout time.Duration) *poster {
	if client == nil {
		client = noRedirects
	}
	if timeout <= 0 {
		timeout = DefaultForwardTimeout
	}
	return &poster{what: what, url: u, header: header, client: client, timeout: timeout}
}

// post sends body with Content-Type application/json and the poster's
// headers. A 2xx answer is success; any other status, or a transport
// error, is an error naming the target as p.what does: the URL a
// *url.Error quotes is left out.
func (p *poster) post(ctx context.Context, body []byte) (*ForwardResult, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return nil, p.fail(err)
	}
	req.Header = p.header.Clone()
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, p.fail(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, redact.Error(fmt.Errorf("%s: %s: %s", p.what, resp.Status, excerpt(resp.Body)))
	}
	return &ForwardResult{Status: "ok", StatusCode: resp.StatusCode}, nil
}

// fail wraps a request's error, without the URL a *url.Error quotes.
func (p *poster) fail(err error) error {
	if ue := (*url.Error)(nil); errors.As(err, &ue) {
		err = ue.Err
	}
	return redact.Error(fmt.Errorf("%s: %w", p.what, err))
}

// GiveUpEnvelope is the JSON body that ForwardOnGiveUp POSTs.
type GiveUpEnvelope struct {
	// Endpoint is the endpoint the delivery was for.
	Endpoint string `json:"endpoint"`
	// DeliveryID is the delivery's id in the receiver's history.
	DeliveryID string `json:"deliveryId"`
	// Attempts is how many times its handler was started.
	Attempts int `json:"attempts"`
	// Error is the handler's last error (secrets redacted).
	Error string `json:"error"`
	// Payload is the delivery's payload (JSON, compacted).
	Payload json.RawMessage `json:"payload"`
}

// ForwardOnGiveUp returns a GiveUpFunc that POSTs a GiveUpEnvelope for a
// delivery a queue gave up on to t.URL, with t's headers and secret, as
// Forward does for a delivery:
//
//	{"endpoint":"retrain","deliveryId":"42","attempts":10,"error":"...","payload":{...}}
func ForwardOnGiveUp(t Target) hfhooks.GiveUpFunc {
	send := Forward(t)
	return func(ctx context.Context, g *hfhooks.GiveUp) error {
		d := g.Delivery
		body, err := json.Marshal(GiveUpEnvelope{Endpoint: d.Endpoint, DeliveryID: d.ID, Attempts: g.Attempts, Error: g.Error, Payload: d.Body})
		if err != nil {
			return fmt.Errorf("forward: encoding the give-up: %w", err)
		}
		_, err = send(ctx, &hfhooks.Delivery{ID: d.ID, Endpoint: d.Endpoint, Payload: d.Payload, Body: body, ReceivedAt: d.ReceivedAt})
		return err
	}
}

// excerpt quotes the start of an answer, at most maxErrorBody bytes, with
// "..." after it when there is more.
func excerpt(body io.Reader) string {
	b, _ := io.ReadAll(io.LimitReader(body, maxErrorBody+1))
	if len(b) > maxErrorBody {
		return strconv.Quote(string(b[:maxErrorBody])) + "..."
	}
	return strconv.Quote(string(b))
}
