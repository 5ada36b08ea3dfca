package hubtest

import (
	"log/slog"
	"net/http"
	"time"
)

// Defaults of a Hub. The Hub documents its timeout and rate limit; the retry
// schedule and the suspension threshold are not published, so these are
// guesses in the same spirit.
const (
	// DefaultTimeout is how long a delivery may take before it counts as
	// failed, as on the Hub.
	DefaultTimeout = 30 * time.Second
	// DefaultSuspendAfter is how many events in a row must fail before a
	// webhook is suspended.
	DefaultSuspendAfter = 10
	// DefaultRateLimit is how many events a webhook may receive per
	// DefaultRateWindow, as on the Hub.
	DefaultRateLimit = 1000
	// DefaultRateWindow is the window of the rate limit.
	DefaultRateWindow = 24 * time.Hour
	// DefaultActivityLimit is how many deliveries the activity of one
	// webhook keeps.
	DefaultActivityLimit = 100
)

// DefaultRetrySchedule is how long a failed delivery waits before each
// retry; after the last one the event counts as failed.
var DefaultRetrySchedule = []time.Duration{time.Second, 10 * time.Second, time.Minute, 5 * time.Minute}

// config is what the options set.
type config struct {
	tokens        []string
	timeout       time.Duration
	retries       []time.Duration
	suspendAfter  int
	rateLimit     int
	rateWindow    time.Duration
	activityLimit int
	client        *http.Client
	logger        *slog.Logger
}

func defaultConfig() config {
	return config{
		timeout:       DefaultTimeout,
		retries:       DefaultRetrySchedule,
		suspendAfter:  DefaultSuspendAfter,
		rateLimit:     DefaultRateLimit,
		rateWindow:    DefaultRateWindow,
		activityLimit: DefaultActivityLimit,
		logger:        slog.New(slog.DiscardHandler),
	}
}

// An Option configures a Hub.
type Option func(*config)

// WithTokens sets the tokens the management API accepts; each token is a
// user who sees only the webhooks it created. Without it, one random token
// is made (see [Hub.Tokens]). Empty strings are ignored.
func WithTokens(tokens ...string) Option {
	return func(c *config) {
		for _, t := range tokens {
			if t != "" {
				c.tokens = append(c.tokens, t)
			}
		}
	}
}

// WithTimeout sets how long one delivery attempt may take before it counts
// as failed ([DefaultTimeout] by default).
func WithTimeout(d time.Duration) Option {
	return func(c *config) { c.timeout = d }
}

// WithRetrySchedule sets the waits before each retry of a failed delivery:
// WithRetrySchedule(10*time.Millisecond, 20*time.Millisecond) makes three
// attempts. With no durations, a failed attempt is not retried.
func WithRetrySchedule(waits ...time.Duration) Option {
	return func(c *config) { c.retries = waits }
}

// WithSuspendAfter sets how many events in a row must fail before the
// webhook is suspended (disabled, with the reason in its activity); 0 never
// suspends.
func WithSuspendAfter(n int) Option {
	return func(c *config) { c.suspendAfter = n }
}

// WithRateLimit sets how many events each webhook may receive per window;
// events past it are recorded as rate-limited and not sent. A limit of 0
// means no limit.
func WithRateLimit(limit int, window time.Duration) Option {
	return func(c *config) { c.rateLimit, c.rateWindow = limit, window }
}

// WithActivityLimit sets how many deliveries the activity of each webhook
// keeps; older ones are forgotten.
func WithActivityLimit(n int) Option {
	return func(c *config) { c.activityLimit = max(n, 1) }
}

// WithHTTPClient sets the client deliveries are sent with. Its Timeout is
// ignored in favour of [WithTimeout]. The default client does not follow
// redirects: whether the Hub does is not documented, so a redirect counts
// as a failed delivery.
func WithHTTPClient(c *http.Client) Option {
	return func(cfg *config) { cfg.client = c }
}

// WithLogger sets the structured logger; by default nothing is logged.
// Tokens and secrets are never logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}
