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
	// DefaultIdleExpiry is how long a channel without a listener is kept.
	DefaultIdleExpiry = 24 * time.Hour
	// DefaultResponseTimeout is how long a delivery waits for the local
	// answer before the relay answers 504, under the Hub's 30 s timeout.
	DefaultResponseTimeout = 25 * time.Second
	// DefaultHeartbeat is how often the relay writes to an idle stream,
	// which keeps proxies from closing it and lets listeners notice a
	// dead connection.
	DefaultHeartbeat = 15 * time.Second
)

// config is what the options set.
type config struct {
	maxChannels     int
	maxPending      int
	maxBodyBytes    int64
	idleExpiry      time.Duration
	responseTimeout time.Duration
	heartbeat       time.Duration
	createToken     string
	logger          *slog.Logger
}

func defaultConfig() config {
	return config{
		maxChannels:     DefaultMaxChannels,
		maxPending:      DefaultMaxPending,
		maxBodyBytes:    DefaultMaxBodyBytes,
		idleExpiry:      DefaultIdleExpiry,
		responseTimeout: DefaultResponseTimeout,
		heartbeat:       DefaultHeartbeat,
		logger:          slog.Default(),
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
// answer at once; one more is answered 429, which the Hub retries.
func WithMaxPending(n int) Option {
	return func(c *config) { c.maxPending = max(n, 1) }
}

// WithMaxBodyBytes sets the largest delivery body (larger ones are answered
// 413) and the largest answer body the relay carries.
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) { c.maxBodyBytes = max(n, 1) }
}

// WithIdleExpiry sets how long a channel nobody listens on is kept; 0
// keeps channels until the relay stops. A channel with a listener
// connected never expires.
func WithIdleExpiry(d time.Duration) Option {
	return func(c *config) { c.idleExpiry = d }
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

// WithCreateToken makes creating a channel require "Authorization: Bearer
// token", so that only those who know it can use the relay. Empty means
// anyone may create channels (up to the limit).
func WithCreateToken(token string) Option {
	return func(c *config) { c.createToken = token }
}

// WithLogger sets the structured logger (slog.Default() by default). The
// relay never logs tokens, secrets, query strings or payloads.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}
