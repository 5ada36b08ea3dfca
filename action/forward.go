package action

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/hfhooks/hfhooks"
)

// DefaultForwardTimeout bounds a forward when Target.Timeout is zero.
const DefaultForwardTimeout = 30 * time.Second

// maxErrorBody is how much of a failed target's response an error quotes.
const maxErrorBody = 1 << 10

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

// ForwardResult is the result of a successful forward, which the server
// encodes as the response body.
type ForwardResult struct {
	Status     string `json:"status"` // "ok"
	StatusCode int    `json:"statusCode"`
}

// noRedirects is the client of a Target without one.
var noRedirects = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// Forward returns a handler that POSTs each delivery's body, byte for byte,
// to t.URL with Content-Type application/json and t.Headers. No header of
// the incoming request is passed on. A 2xx answer is success, with a
// *ForwardResult; any other status, or a transport error, is an error
// quoting the start of the answer, so that a durable queue retries.
func Forward(t Target) hfhooks.HandlerFunc {
	client := t.Client
	if client == nil {
		client = noRedirects
	}
	timeout := t.Timeout
	if timeout <= 0 {
		timeout = DefaultForwardTimeout
	}
	target := t.URL
	if u, err := url.Parse(t.URL); err == nil {
		target = u.Redacted()
	}
	return func(ctx context.Context, d *hfhooks.Delivery) (any, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.URL, bytes.NewReader(d.Body))
		if err != nil {
			return nil, fmt.Errorf("forward to %s: %w", target, err)
		}
		req.Header.Set("Content-Type", "application/json")
		for k, v := range t.Headers {
			req.Header.Set(k, v)
		}
		if t.Secret != "" {
			req.Header.Set(hfhooks.SecretHeader, t.Secret)
		}
		resp, err := client.Do(req)
		if err != nil {
			return nil, fmt.Errorf("forward: %w", err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return nil, fmt.Errorf("forward to %s: %s: %q", target, resp.Status, body)
		}
		return &ForwardResult{Status: "ok", StatusCode: resp.StatusCode}, nil
	}
}
