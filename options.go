package hfhooks

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"

	"github.com/hfhooks/hfhooks/internal/wire"
)

// Defaults of a Server.
const (
	// DefaultPort is the port Run listens on, as a Gradio app does.
	DefaultPort = "7860"
	// DefaultMaxBodyBytes is the largest request body accepted (1 MiB).
	DefaultMaxBodyBytes = wire.DefaultMaxBodyBytes
)

// The defaults of the options that set durations.
const (
	// defaultResponseDeadline is how long the server waits for a handler
	// before answering 202, under the Hub's timeout of about 30 s.
	defaultResponseDeadline = 25 * time.Second
	// defaultShutdownGrace bounds how long shutdown waits for handlers.
	defaultShutdownGrace = 30 * time.Second
	// defaultEnqueueTimeout bounds how long a request waits for the queue
	// to commit its delivery before it is answered 503, well under the
	// Hub's timeout of about 30 s.
	defaultEnqueueTimeout = 10 * time.Second
)

// config is what the options set.
type config struct {
	secrets          []string
	addr             string
	ui               http.Handler
	logger           *slog.Logger
	out              io.Writer
	maxBodyBytes     int64
	responseDeadline time.Duration
	shutdownGrace    time.Duration
	enqueueTimeout   time.Duration
	queue            Queue
	observer         Observer
	metrics          http.Handler
	access           Access
	operators        []string
	operatorToken    string
	sessionKey       string
	oauth            *OAuthConfig
}

func defaultConfig() config {
	return config{
		logger:           slog.Default(),
		out:              os.Stdout,
		maxBodyBytes:     DefaultMaxBodyBytes,
		responseDeadline: defaultResponseDeadline,
		shutdownGrace:    defaultShutdownGrace,
		enqueueTimeout:   defaultEnqueueTimeout,
	}
}

// An Option configures a Server.
type Option func(*config)

// WithSecret sets the secrets a request must carry, in the X-Webhook-Secret
// header or the "secret" query parameter. Several secrets may be given, so
// that a secret can be rotated without downtime. Empty strings are ignored;
// with no secret at all, the WEBHOOK_SECRET environment variable is used.
func WithSecret(secrets ...string) Option {
	return func(c *config) { c.secrets = append(c.secrets, secrets...) }
}

// WithAddr sets the address Run listens on. The default is 127.0.0.1:7860,
// or 0.0.0.0:7860 when SPACE_ID is set (on a Hugging Face Space).
func WithAddr(addr string) Option {
	return func(c *config) { c.addr = addr }
}

// WithUI replaces the landing page at / with h, as huggingface_hub's
// WebhooksServer(ui=...) does. The endpoints, /api/*, /deliveries/{id},
// /healthz, /readyz and /metrics (WithMetrics) are still served by the Server. h is behind the operators'
// door, as the landing page is (see WithAccess): on a Space, only signed-in
// operators reach it, unless the access is AccessPublic.
func WithUI(h http.Handler) Option {
	return func(c *config) { c.ui = h }
}

// WithLogger sets the structured logger (slog.Default() by default).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) { c.logger = l }
}

// WithOutput sets where Run prints its start-up instructions (os.Stdout by
// default), as huggingface_hub prints them.
func WithOutput(w io.Writer) Option {
	return func(c *config) { c.out = w }
}

// WithMaxBodyBytes sets the largest request body accepted; larger ones are
// answered 413 without being read in full.
func WithMaxBodyBytes(n int64) Option {
	return func(c *config) { c.maxBodyBytes = n }
}

// WithResponseDeadline sets how long the server waits for a handler before
// it answers 202 {"status":"accepted"} and lets the handler finish in the
// background (25 s by default, under the Hub's timeout of about 30 s).
func WithResponseDeadline(d time.Duration) Option {
	return func(c *config) { c.responseDeadline = d }
}

// WithShutdownGrace bounds how long Run waits, on SIGINT, SIGTERM or the
// end of its context, for in-flight requests and handlers to finish (30 s
// by default).
func WithShutdownGrace(d time.Duration) Option {
	return func(c *config) { c.shutdownGrace = d }
}

// WithQueue puts the server in durable mode: an accepted delivery is
// committed to q and answered 202 {"status":"queued","id":...}, and q's
// workers run the handlers. A queue that deduplicates answers a repeat 200
// {"status":"duplicate","id":...} with the id of the delivery it repeats,
// and the repeat is recorded as ignored, with DeliveryRecord.DuplicateOf.
// When q cannot take a delivery the answer is 503, so that the Hub sends it
// again. Serve and Run start q and stop it at shutdown; a
// server served otherwise must be passed to q.Start by its owner.
//
// When q implements QueueHistory, the landing page and /api/deliveries show
// the queued deliveries from it, with their state, and can re-run failed
// ones; requests refused before reaching the queue stay in memory.
func WithQueue(q Queue) Option {
	return func(c *config) { c.queue = q }
}

// WithEnqueueTimeout bounds how long a request waits for the queue to commit
// its delivery (10 s by default); past it the answer is 503, and the Hub
// sends the delivery again.
func WithEnqueueTimeout(d time.Duration) Option {
	return func(c *config) { c.enqueueTimeout = d }
}
