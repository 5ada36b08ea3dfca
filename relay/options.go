package relay

import (
	"log/slog"
	"time"

	"github.com/hfhooks/hfhooks/internal/wire"
)

// Defaults of a Server.
const (
	// DefaultMaxChannels is how many channels a relay holds at most.
	DefaultMaxChannels = 100
	// DefaultMaxPending is how many deliveries of one channel may wait
	// for their answer at once.
	DefaultMaxPending = 16
	// DefaultMaxBodyBytes is the largest delivery body, and the largest
	// answer body, the relay carries: the receiver's own default.
	DefaultMaxBodyBytes = wire.DefaultMaxBodyBytes
	// DefaultMaxBufferedBytes is how many bytes of delivery bodies the
	// relay holds at once, across all its channels.
	DefaultMaxBufferedBytes = 64 << 20
	// DefaultIdleExpiry is how long a channel without a listener is kept.
	DefaultIdleExpiry = 24 * time.Hour
	// DefaultUnclaimedExpiry is how long a channel on which no listener
	// ever connected is kept.
	DefaultUnclaimedExpiry = 5 * time.Minute
	// DefaultCreateBurst and DefaultCreateEvery rate-limit channel
	// creation per client address: a burst of DefaultCreateBurst, then
	// one more each DefaultCreateEvery.
	DefaultCreateBurst = 10
	DefaultCreateEvery = 30 * time.Second
	// DefaultResponseTimeout is how long a delivery waits for the local
	// answer before the relay answers 504, under the Hub's 30 s timeout.
	DefaultResponseTimeout = 25 * time.Second
	// DefaultHeartbeat is how often the relay writes to an idle stream,
	// which keeps proxies from closing it and lets listeners notice a
	// dead connection.
	DefaultHeartbeat = 15 * time.Second
	// DefaultReadTimeout bounds reading a request: its headers, then its
	// body.
	DefaultReadTimeout = 10 * time.Second
	// DefaultIdleTimeout is how long a kept-alive connection may wait for
	// its next request.
	DefaultIdleTimeout = 60 * time.Second
)

// config is what the options set.
type config struct {
	maxChannels      int
	maxPending       int
	maxBodyBytes     int64
	maxBufferedBytes int64
	idleExpiry       time.Duration
	unclaimedExpiry  time.Duration
	createBurst      int
	createEvery      time.Duration
	trustedProxies   int
	responseTimeout  time.Duration
	heartbeat        time.Duration
	readTimeout      time.Duration
	idleTimeout      time.Duration
	createToken      string
	store            Store
	logger           *slog.Logger
}

func defaultConfig() config {
	return config{
		maxChannels:      DefaultMaxChannels,
		maxPending:       DefaultMaxPending,
		maxBodyBytes:     DefaultMaxBodyBytes,
		maxBufferedBytes: DefaultMaxBufferedBytes,
		idleExpiry:       DefaultIdleExpiry,
		unclaimedExpiry:  DefaultUnclaimedExpiry,
		createBurst:      DefaultCreateBurst,
		createEvery:      DefaultCreateEvery,
		responseTimeout:  DefaultResponseTimeout,
		heartbeat:        DefaultHeartbeat,
		readTimeout:      DefaultReadTimeout,
		idleTimeout:      DefaultIdleTimeout,
		logger:           slog.Default(),
	}
}

// An Option configures a Server.
type Option func(*config)

// WithMaxChannels sets how many channels the relay holds at most; creating
// one more is answered 503 until one expires.
func WithMaxChannels(n int) Option {
	return func(c *config) { c.maxChannels = max(n, 1) }
}

// WithMaxPending sets how many deliveries of one channel may wait for their
// answer at once, counting those whose body is still arriving; one more is
// answered 429, which the Hub retries, before its body is read.
func WithMaxPending(n int) Option {
	return func(c *config) { c.maxPending = max(n, 1) }
}

// WithMaxBodyBytes sets the largest delivery body (larger ones are answered
// 413) and the largest answer body the relay carries.
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) { c.maxBodyBytes = max(n, 1) }
}

// WithMaxBufferedBytes sets how many bytes of delivery bodies the relay
// holds at once across all channels, counting a body whose size is not
// yet known as the largest allowed. A delivery that would exceed it is
// answered 503, which the Hub retries, before its body is read.
func WithMaxBufferedBytes(n int64) Option {
	return func(c *config) { c.maxBufferedBytes = max(n, 1) }
}

// WithIdleExpiry sets how long a channel nobody listens on is kept; 0
// keeps channels until the relay stops. A channel with a listener
// connected never expires.
func WithIdleExpiry(d time.Duration) Option {
	return func(c *config) { c.idleExpiry = d }
}

// WithUnclaimedExpiry sets how long a channel on which no listener has
// ever connected is kept (5 minutes by default), so that channels created
// and never used do not hold the relay's slots for the whole idle expiry.
// 0 leaves them to the idle expiry.
func WithUnclaimedExpiry(d time.Duration) Option {
	return func(c *config) { c.unclaimedExpiry = d }
}

// WithCreateRate limits channel creation per client address: a burst of
// burst channels, then one more each every. More is answered 429 with
// Retry-After. A burst that is not positive turns the limit off; an every
// that is not positive keeps the default.
func WithCreateRate(burst int, every time.Duration) Option {
	return func(c *config) {
		c.createBurst = burst
		if every > 0 {
			c.createEvery = every
		}
	}
}

// WithTrustedProxies sets how many proxies in front of the relay append
// the client's address to X-Forwarded-For (on a Hugging Face Space: 1).
// The client address the creation limit counts by is then the n-th
// address from the end of that header; with 0 (the default), the header
// is ignored, and the address is that of the connection.
func WithTrustedProxies(n int) Option {
	return func(c *config) { c.trustedProxies = max(n, 0) }
}

// WithResponseTimeout sets how long a delivery waits for the local answer
// before the relay answers 504. Keep it under the Hub's 30 s timeout. A
// duration that is not positive keeps the default.
func WithResponseTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.responseTimeout = d
		}
	}
}

// WithHeartbeat sets how often the relay writes a comment to an idle
// stream. A duration that is not positive keeps the default.
func WithHeartbeat(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.heartbeat = d
		}
	}
}

// WithReadTimeout bounds reading a request's headers, and then its body,
// each to d: a delivery whose body has not arrived by then is answered
// 408. It is also the http.Server's ReadHeaderTimeout and ReadTimeout in
// [Server.Serve], which bound reading a request only: not a listener's
// stream, nor the wait for a local answer. A duration that is not positive
// keeps the default.
func WithReadTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.readTimeout = d
		}
	}
}

// WithIdleTimeout sets how long [Server.Serve] keeps an idle connection
// open for its next request. A duration that is not positive keeps the
// default.
func WithIdleTimeout(d time.Duration) Option {
	return func(c *config) {
		if d > 0 {
			c.idleTimeout = d
		}
	}
}

// WithCreateToken makes creating a channel require "Authorization: Bearer
// token", so that only those who know it can use the relay. Empty means
// anyone may create channels (up to the limits).
func WithCreateToken(token string) Option {
	return func(c *config) { c.createToken = token }
}

// WithStore keeps the relay's channels in st, so that they survive a
// restart: a listener that reconnects finds its channel, and the Hub's
// webhooks keep their URL. Without a store, channels live in memory only.
func WithStore(st Store) Option {
	return func(c *config) { c.store = st }
}

// WithLogger sets the structured logger (slog.Default() by default). The
// relay never logs tokens, secrets, query strings or payloads.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}
