// Package hub is a client for the Hugging Face Hub's webhook management API
// (the endpoints under /api/settings/webhooks), and for the discussion API
// a bot answering webhook events needs.
//
// It mirrors the webhook methods of the Python huggingface_hub library
// (list_webhooks, get_webhook, create_webhook, update_webhook,
// enable_webhook, disable_webhook and delete_webhook), its discussion
// methods (comment_discussion, change_discussion_status, rename_discussion,
// merge_pull_request, edit_discussion_comment, hide_discussion_comment)
// and whoami, and resolves the token and the endpoint from the same
// environment variables. Where it knowingly differs, the method's
// documentation says so.
//
// Nothing in this package assumes huggingface.co other than
// [DefaultEndpoint]: point a Client at any server that speaks the same API,
// such as a local Hub emulator, with [WithEndpoint] or HF_ENDPOINT.
package hub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/hfhooks/hfhooks/internal/redact"
)

// Version is the version of this package, sent in the User-Agent header.
const Version = "0.1.0"

// DefaultEndpoint is the Hub a Client talks to when neither [WithEndpoint]
// nor HF_ENDPOINT says otherwise.
const DefaultEndpoint = "https://huggingface.co"

// Retry defaults; see [WithRetry].
const (
	defaultAttempts = 4
	defaultBackoff  = 500 * time.Millisecond
	// maxBackoff caps the exponential backoff between two attempts.
	maxBackoff = 10 * time.Second
	// maxRetryAfter caps how long a Retry-After header makes a Client wait.
	maxRetryAfter = 60 * time.Second
	// maxErrorBody bounds how much of an error response is read.
	maxErrorBody = 64 << 10
)

// Client talks to the Hub's API: webhooks, discussions and whoami. Create
// one with [NewClient]; a Client is safe for concurrent use.
//
// A Client never reveals its token: its String and GoString methods, and so
// fmt's %v, %+v and %#v verbs, print only whether a token is set.
type Client struct {
	endpoint string
	// authorize adds the Authorization header; nil when no token is known.
	// The token lives only in this closure, which fmt prints as an address,
	// so that not even a reflective dump of a Client shows it.
	authorize  func(*http.Request)
	httpClient *http.Client
	userAgent  string
	attempts   int
	backoff    time.Duration
}

// options collects what the Options set before NewClient resolves it.
type options struct {
	token      string
	endpoint   string
	httpClient *http.Client
	userAgent  string
	attempts   int
	backoff    time.Duration
}

// An Option configures a Client.
type Option func(*options)

// WithToken sets the token sent as "Authorization: Bearer <token>". It takes
// precedence over HF_TOKEN and the token files; an empty token is ignored.
func WithToken(token string) Option {
	return func(o *options) { o.token = token }
}

// WithEndpoint sets the base URL of the Hub, for example
// "https://huggingface.co" or the URL of a local emulator. It takes precedence
// over HF_ENDPOINT; trailing slashes are removed; an empty value is ignored.
func WithEndpoint(endpoint string) Option {
	return func(o *options) { o.endpoint = endpoint }
}

// WithHTTPClient sets the HTTP client used for requests. The default is an
// http.Client with a 60 second timeout.
func WithHTTPClient(c *http.Client) Option {
	return func(o *options) { o.httpClient = c }
}

// WithUserAgent puts product (for example "myapp/1.2") in front of the
// User-Agent header, which always ends with this package's own
// "hfhooks/<Version> go/<go version>".
func WithUserAgent(product string) Option {
	return func(o *options) { o.userAgent = product }
}

// WithRetry sets how many times at most a request that is safe to repeat is
// sent (attempts, at least 1; the default is 4) and the base of the capped
// exponential backoff between attempts (the default is 500ms). See
// [Client] methods for which requests are retried.
func WithRetry(attempts int, backoff time.Duration) Option {
	return func(o *options) {
		o.attempts = max(attempts, 1)
		o.backoff = max(backoff, 0)
	}
}

// NewClient returns a Client configured by opts.
//
// The token is, in order: [WithToken]; the HF_TOKEN environment variable; the
// content of the file named by HF_TOKEN_PATH, else $HF_HOME/token, else
// $XDG_CACHE_HOME/huggingface/token, else ~/.cache/huggingface/token
// (surrounding whitespace removed). No token at all is not an error: requests
// are then sent without Authorization and the Hub answers 401.
//
// The endpoint is, in order: [WithEndpoint]; HF_ENDPOINT; [DefaultEndpoint].
// NewClient fails when the endpoint is not an http(s) URL or when a token
// file exists but cannot be read.
func NewClient(opts ...Option) (*Client, error) {
	o := options{attempts: defaultAttempts, backoff: defaultBackoff}
	for _, opt := range opts {
		opt(&o)
	}
	endpoint, err := resolveEndpoint(o.endpoint)
	if err != nil {
		return nil, err
	}
	token, err := resolveToken(o.token)
	if err != nil {
		return nil, err
	}
	c := &Client{
		endpoint:   endpoint,
		httpClient: o.httpClient,
		userAgent:  fmt.Sprintf("hfhooks/%s go/%s", Version, strings.TrimPrefix(runtime.Version(), "go")),
		attempts:   o.attempts,
		backoff:    o.backoff,
	}
	if c.httpClient == nil {
		c.httpClient = &http.Client{Timeout: 60 * time.Second}
	}
	if o.userAgent != "" {
		c.userAgent = o.userAgent + " " + c.userAgent
	}
	if token != "" {
		c.authorize = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
	}
	return c, nil
}

// Endpoint returns the base URL the Client sends requests to.
func (c *Client) Endpoint() string { return c.endpoint }

// HasToken reports whether the Client sends a token.
func (c *Client) HasToken() bool { return c.authorize != nil }

// String describes the Client without revealing its token.
func (c *Client) String() string {
	return fmt.Sprintf("hub.Client{endpoint: %q, token set: %t}", c.endpoint, c.HasToken())
}

// GoString is String, so that %#v does not reveal the token either.
func (c *Client) GoString() string { return c.String() }

// resolveEndpoint applies the endpoint precedence and checks the result.
func resolveEndpoint(explicit string) (string, error) {
	endpoint := explicit
	if endpoint == "" {
		endpoint = os.Getenv("HF_ENDPOINT")
	}
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	endpoint = strings.TrimRight(endpoint, "/")
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("hub: endpoint %q is not an http(s) URL", redact.URL(endpoint))
	}
	return endpoint, nil
}

// resolveToken applies the token precedence. A missing token file is not an
// error; an unreadable one is.
func resolveToken(explicit string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	if t := os.Getenv("HF_TOKEN"); t != "" {
		return t, nil
	}
	path, err := tokenPath()
	if err != nil {
		return "", nil // no home directory: no token file to read
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("hub: reading token file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// tokenPath is where huggingface_hub stores the token of `huggingface-cli login`.
func tokenPath() (string, error) {
	if p := os.Getenv("HF_TOKEN_PATH"); p != "" {
		return p, nil
	}
	if h := os.Getenv("HF_HOME"); h != "" {
		return filepath.Join(h, "token"), nil
	}
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" {
		return filepath.Join(x, "huggingface", "token"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".cache", "huggingface", "token"), nil
}

// do sends one API call: method on the endpoint plus path, with in encoded as
// the JSON body when it is not nil, and decodes a 2xx JSON response into out
// when out is not nil. When retry is true, the call is repeated on
// connection errors and on 429, 502, 503 and 504 answers, up to the Client's
// attempt count, waiting a capped exponential backoff with jitter, or the
// Retry-After the server asked for (capped), between attempts.
func (c *Client) do(ctx context.Context, method, path string, in, out any, retry bool) error {
	u := c.endpoint + path
	var body []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("hub: encoding %s %s request: %w", method, redact.URL(u), err)
		}
		body = b
	}
	attempts := 1
	if retry {
		attempts = c.attempts
	}
	for attempt := 1; ; attempt++ {
		resp, err := c.send(ctx, method, u, body)
		var wait time.Duration
		switch {
		case err != nil:
			err = redact.Error(fmt.Errorf("hub: %w", err))
			if ctx.Err() != nil {
				return err
			}
			wait = c.backoffFor(attempt)
		case resp.StatusCode >= 200 && resp.StatusCode < 300:
			return decodeResponse(resp, out)
		default:
			apiErr := newError(resp)
			if !retryableStatus(resp.StatusCode) {
				return apiErr
			}
			err = apiErr
			var ok bool
			if wait, ok = retryAfter(resp.Header, time.Now()); !ok {
				wait = c.backoffFor(attempt)
			}
		}
		if attempt >= attempts {
			return err
		}
		if werr := sleep(ctx, wait); werr != nil {
			return fmt.Errorf("hub: stopped retrying: %w; last error: %w", werr, err)
		}
	}
}

// send makes one HTTP request. body is re-read from the start on each call,
// so that retries send it whole.
func (c *Client) send(ctx context.Context, method, u string, body []byte) (*http.Response, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.authorize != nil {
		c.authorize(req)
	}
	return c.httpClient.Do(req)
}

// decodeResponse decodes a successful response into out and closes it. An
// out of type *[]byte gets the body as it is.
func decodeResponse(resp *http.Response, out any) error {
	defer resp.Body.Close()
	switch raw := out.(type) {
	case nil:
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	case *[]byte:
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return fmt.Errorf("hub: reading %s %s response: %w", resp.Request.Method, redact.URL(resp.Request.URL.String()), err)
		}
		*raw = b
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("hub: decoding %s %s response: %w", resp.Request.Method, redact.URL(resp.Request.URL.String()), err)
	}
	return nil
}

// retryableStatus reports whether an answer with this status is worth
// repeating the request for.
func retryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// backoffFor is the wait after the given failed attempt (1-based): the
// backoff base doubled per attempt, capped, with "equal jitter" (a random
// half on top of a fixed half).
func (c *Client) backoffFor(attempt int) time.Duration {
	d := c.backoff
	for i := 1; i < attempt && d < maxBackoff; i++ {
		d *= 2
	}
	d = min(d, maxBackoff)
	if d <= 0 {
		return d
	}
	return d/2 + rand.N(d/2+1)
}

// retryAfter reads a Retry-After header, given in seconds or as an HTTP date,
// capped at maxRetryAfter. ok is false when the header is absent or invalid.
func retryAfter(h http.Header, now time.Time) (wait time.Duration, ok bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0, false
		}
		return min(time.Duration(secs)*time.Second, maxRetryAfter), true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), maxRetryAfter), true
}

// sleep waits for d or until ctx is done, whichever comes first.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
