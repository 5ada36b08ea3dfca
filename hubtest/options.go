package hubtest

import (
	"log/slog"
	"net/http"
	"slices"
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

// How long the OpenID provider's grants last: an authorization code may wait
// 60 s to be exchanged; access and ID tokens last 8 hours, the Hub's default
// for a Space's sign-in.
const (
	defaultCodeTTL   = 60 * time.Second
	defaultAccessTTL = 8 * time.Hour
)

// DefaultRetrySchedule is how long a failed delivery waits before each
// retry; after the last one the event counts as failed.
var DefaultRetrySchedule = []time.Duration{time.Second, 10 * time.Second, time.Minute, 5 * time.Minute}

// config is what the options set.
type config struct {
	tokens        []string
	users         map[string]User // by token
	clients       []oauthClient
	codeTTL       time.Duration
	accessTTL     time.Duration
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
		codeTTL:       defaultCodeTTL,
		accessTTL:     defaultAccessTTL,
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

// WithUser makes token a token the Hub accepts, as [WithTokens] does, and
// sets the user it belongs to: the account "Sign in with Hugging Face" shows
// (see [Hub.User]). A token without a user gets a generated one, named
// "user1", "user2"... in the order of the tokens.
func WithUser(token string, u User) Option {
	return func(c *config) {
		if token == "" {
			return
		}
		if !slices.Contains(c.tokens, token) {
			c.tokens = append(c.tokens, token)
		}
		if c.users == nil {
			c.users = map[string]User{}
		}
		u.Orgs = slices.Clone(u.Orgs)
		c.users[token] = u
	}
}

// WithOAuthClient registers an OAuth client of the Hub's OpenID provider,
// as the Hub registers one for a Space with hf_oauth: true. Without it, one
// client with a random id and secret is made (see [Hub.OAuthClient]). A
// client with an empty id or secret is ignored.
func WithOAuthClient(id, secret string) Option {
	return func(c *config) {
		if id != "" && secret != "" {
			c.clients = append(c.clients, oauthClient{id: id, secret: secret})
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
