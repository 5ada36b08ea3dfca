package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/action"
	"github.com/hfhooks/hfhooks/internal/config"
	"github.com/hfhooks/hfhooks/internal/redact"
	"github.com/hfhooks/hfhooks/internal/signin"
	"github.com/hfhooks/hfhooks/metrics"
	"github.com/hfhooks/hfhooks/queue"
	"github.com/spf13/cobra"
)

// serveOptions are the inputs of "hfhooks serve".
type serveOptions struct {
	io             *ioStreams
	addr           string
	secrets        []string
	queue          string
	maxAttempts    int
	attemptTimeout time.Duration
	retryBackoff   time.Duration
	dedupWindow    time.Duration
	// dedupSet is true when --dedup-window was given: it then overrides
	// the config file's dedupWindow.
	dedupSet  bool
	logLevel  string
	logFormat string
	// config is the hooks.yaml to serve instead of the inbox; check only
	// validates it.
	config string
	check  bool
	// relay, when set, is the URL of an "hfhooks relay" to receive
	// deliveries through; watch and domains describe the temporary
	// webhooks to create there.
	relay   string
	watch   []string
	domains []string
	// ui, allow, uiToken and sessionKey set who may use the page, /api/*
	// and /metrics.
	ui         string
	allow      []string
	uiToken    string
	sessionKey string
}

// inboxEndpoint is the one endpoint "hfhooks serve" registers.
const inboxEndpoint = "inbox"

// newServeCmd builds "hfhooks serve".
func newServeCmd(s *ioStreams) *cobra.Command {
	opts := &serveOptions{io: s}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a webhook receiver: an inbox for every delivery, or the hooks of a hooks.yaml",
		Long: `Run a webhook receiver with one endpoint, /webhooks/inbox, that accepts every
valid delivery, logs one line per delivery and shows it on the landing page.

With --config hooks.yaml, serve the hooks of the file instead: each is
served at /webhooks/<name>, acts only on the deliveries its filter matches
(answering the others 200 {"status":"ignored"}), and runs a command,
forwards the delivery, comments on the event's discussion as a bot, or posts
a message to a chat (docs/bots.md). The file is validated before anything
starts (--check only validates it, and runs every comment and message
template on a sample of each event its hook can get), and reloaded on
SIGHUP; a file that fails validation then is refused and the hooks in
service stay.

Accepted deliveries are durable by default: each is committed to a queue
before the answer (202 {"status":"queued"}), and run from there, with
retries; a delivery that used all its attempts is kept as failed and can be
re-run from the landing page. --queue chooses the queue: an SQLite file
(sqlite:PATH; the default is hfhooks.db in the working directory), a
PostgreSQL database shared by any number of "hfhooks serve" processes
(postgres://...), or none, to run each handler while the request waits.

Each attempt is limited by its hook's timeout (run.timeout, forward.timeout),
else by --attempt-timeout. A hook's run.concurrency caps how many of its
deliveries run at once in this process (default 10 in durable mode, no limit
with --queue none); the others wait, queued, and waiting does not count
against their timeout. On PostgreSQL a process runs only the deliveries of
the hooks it serves; a delivery whose process died is run again once
max(its timeout, --attempt-timeout + 10s) has passed since its attempt
started, within a further 30s.

Every delivery runs, byte-identical repeats included (the Hub sends no
delivery id): handlers must be idempotent. --dedup-window DURATION (or
dedupWindow in hooks.yaml) drops a delivery whose hook, webhook id and body
repeat one accepted within the window, answered 200 {"status":"duplicate"}:
within the window, a genuinely repeated event is dropped too.

At --log-level info the queue logs a line per attempt's outcome: succeeded
(info), failed and will retry (warn), failed and gave up (error).

The secret comes from --secret, else from the WEBHOOK_SECRET environment
variable; give --secret twice to accept two secrets while you rotate them.

The page, /api/* and /metrics are for operators. On 127.0.0.1 (not on a
Space) they are open to this machine for local development; anywhere else
they are private: operators sign in with Hugging Face (a Space with
hf_oauth: true in its README metadata; the Space's owner by default, others
with --allow NAME or --allow org:NAME), or with the operator token
(HFHOOKS_UI_TOKEN, or --ui-token), which scripts and Prometheus send as
"Authorization: Bearer TOKEN". --ui public opens them to everyone, --ui off
serves only the endpoints, /healthz and /readyz.

The server listens on 127.0.0.1:7860, or 0.0.0.0:7860 on a Space (SPACE_ID
set), unless --addr says otherwise. It stops gracefully on SIGINT or SIGTERM,
logging what it waits for; a second signal stops it at once, and the
deliveries it interrupts stay queued and run again at the next start.`,
		Example: `  hfhooks serve
  hfhooks serve --addr :8080 --secret my-secret
  hfhooks serve --queue postgres://hooks@db.internal/hooks
  hfhooks serve --queue none
  hfhooks serve --config hooks.yaml
  hfhooks serve --config hooks.yaml --check
  hfhooks trigger repo.content --url http://127.0.0.1:7860/webhooks/inbox`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.dedupSet = cmd.Flags().Changed("dedup-window")
			return runServe(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.addr, "addr", "", "`HOST:PORT` to listen on (default 127.0.0.1:7860, or 0.0.0.0:7860 on a Space)")
	f.StringArrayVar(&opts.secrets, "secret", nil, "webhook `SECRET` that requests must carry (repeatable; default $WEBHOOK_SECRET)")
	f.StringVar(&opts.queue, "queue", "sqlite:hfhooks.db", "durable queue: sqlite:`PATH`, postgres://..., or none")
	f.IntVar(&opts.maxAttempts, "max-attempts", queue.DefaultMaxAttempts, "runs of a failing delivery before it is kept as failed")
	f.DurationVar(&opts.attemptTimeout, "attempt-timeout", queue.DefaultAttemptTimeout, "time limit of one run of a delivery, for hooks without a timeout of their own")
	f.DurationVar(&opts.retryBackoff, "retry-backoff", queue.DefaultBackoffBase, "wait before the first retry of a failed delivery; it doubles at each attempt, up to 1h")
	f.DurationVar(&opts.dedupWindow, "dedup-window", 0, "drop a delivery whose endpoint, webhook id and body repeat one accepted within `DURATION`, such as 24h; a genuinely repeated event is dropped too (default 0: off; overrides dedupWindow of --config)")
	f.StringVar(&opts.logLevel, "log-level", "info", "least important `LEVEL` logged: debug, info (one line per delivery), warn (failures only) or error")
	f.StringVar(&opts.logFormat, "log-format", "text", "`FORMAT` of the log lines on stderr: text or json")
	f.StringVar(&opts.config, "config", "", "serve the hooks of `FILE` (hooks.yaml) instead of the inbox")
	f.BoolVar(&opts.check, "check", false, "validate the --config file and exit")
	f.StringVar(&opts.relay, "relay", "", "also receive deliveries through the relay at `URL` (see hfhooks relay)")
	f.StringArrayVar(&opts.watch, "watch", nil, "with --relay: create a temporary webhook per endpoint watching type:name (repeatable), with the server's secret; uses HF_TOKEN/HF_ENDPOINT")
	f.StringVar(&opts.ui, "ui", "auto", "who may use the page, /api/* and /metrics: auto (open on loopback, else private), private, public or off")
	f.StringArrayVar(&opts.allow, "allow", nil, "Hub user `NAME` or org:NAME who may sign in with Hugging Face (repeatable; default: the Space's owner)")
	f.StringVar(&opts.uiToken, "ui-token", "", "operator `TOKEN` for the sign-in form and Authorization: Bearer (default $HFHOOKS_UI_TOKEN; prefer the variable, flags show in ps)")
	f.StringVar(&opts.sessionKey, "session-key", "", "`KEY` of the session cookies, to keep sessions across restarts (default $HFHOOKS_SESSION_KEY, else derived from OAUTH_CLIENT_SECRET or the operator token)")
	f.StringArrayVar(&opts.domains, "domain", nil, "with --watch: event domain of the temporary webhooks, repo or discussion (repeatable; default all)")
	return cmd
}

// runServe validates the flags, then serves until ctx ends or SIGINT or
// SIGTERM arrives (or only validates the config, with --check).
func runServe(ctx context.Context, opts *serveOptions) error {
	var cfg *config.Config
	switch {
	case opts.config != "":
		c, err := config.Load(opts.config)
		if err != nil {
			return fmt.Errorf("%s is not valid:\n%w", opts.config, err)
		}
		if opts.check {
			fmt.Fprintf(opts.io.Out, "%s is valid: %d hook(s): %s\n", opts.config, len(c.Hooks), hookNames(c))
			return nil
		}
		cfg = c
	case opts.check:
		return usageErrorf("--check validates the file given with --config")
	}
	if opts.relay == "" && (len(opts.watch) > 0 || len(opts.domains) > 0) {
		return usageErrorf("--watch and --domain create temporary webhooks on a relay: add --relay URL")
	}
	if opts.relay != "" {
		if err := checkURLFlag("--relay", opts.relay, "https://you-relay.hf.space"); err != nil {
			return err
		}
	}
	watched, err := parseWatched(opts.watch)
	if err != nil {
		return err
	}
	if _, err := signin.ParseMode(opts.ui); err != nil {
		return usageErrorf("--ui: %v", err)
	}
	allow := opts.allow
	if cfg != nil {
		allow = append(slices.Clone(allow), cfg.Allow...)
	}
	for _, a := range opts.allow {
		if err := signin.CheckOperator(a); err != nil {
			return usageErrorf("--allow: %v", err)
		}
	}

	logger, err := newLogger(opts.io.ErrOut, opts.logLevel, opts.logFormat)
	if err != nil {
		return err
	}
	m := metrics.New()
	srvOpts := []hfhooks.Option{
		hfhooks.WithObserver(m),
		hfhooks.WithMetrics(m),
		hfhooks.WithAddr(opts.addr),
		hfhooks.WithSecret(opts.secrets...),
		hfhooks.WithLogger(logger),
		hfhooks.WithOutput(opts.io.Out),
		hfhooks.WithAccess(hfhooks.Access(opts.ui)),
		hfhooks.WithOperators(allow...),
		hfhooks.WithOperatorToken(opts.uiToken),
		hfhooks.WithSessionKey(opts.sessionKey),
	}
	// current is the config in service, which reloads replace.
	var current atomic.Pointer[config.Config]
	current.Store(cfg)
	if opts.queue != "none" {
		window := opts.dedupWindow
		if cfg != nil && !opts.dedupSet {
			window = cfg.DedupWindow
		}
		qOpts := []queue.Option{
			queue.WithMaxAttempts(opts.maxAttempts),
			queue.WithAttemptTimeout(opts.attemptTimeout),
			queue.WithBackoff(opts.retryBackoff, queue.DefaultBackoffCap),
			queue.WithDedupWindow(window),
			queue.WithLogger(logger),
			queue.WithObserver(m),
		}
		if cfg != nil {
			qOpts = append(qOpts, queue.WithGiveUp(func(ctx context.Context, g *hfhooks.GiveUp) error {
				return current.Load().GiveUp(ctx, g)
			}))
		}
		q, err := queue.Open(ctx, opts.queue, qOpts...)
		if err != nil {
			return err
		}
		defer q.Close()
		m.CollectQueue(q)
		srvOpts = append(srvOpts, hfhooks.WithQueue(q))
	}
	srv := hfhooks.NewServer(srvOpts...)
	if cfg != nil {
		if err := srv.ReplaceEndpoints(endpointsOf(cfg, logger)); err != nil {
			return err
		}
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGHUP)
		defer signal.Stop(sig)
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go reloadOnSignal(ctx, opts.config, sig, srv, &current, logger)
	} else if err := srv.AddEndpoint(inboxEndpoint, inbox); err != nil {
		return err
	}
	if opts.relay != "" {
		return serveViaRelay(ctx, opts, srv, watched, logger)
	}
	return srv.Run(ctx)
}

// newLogger builds the logger of --log-level and --log-format.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, usageErrorf("--log-level: %q is not a level: want debug, info, warn or error", level)
	}
	ho := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, ho)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, ho)), nil
	}
	return nil, usageErrorf("--log-format: %q is not a format: want text or json", format)
}

// endpointsOf turns a validated config into the server's endpoints. A
// comment hook logs the events it skips with logger.
func endpointsOf(cfg *config.Config, logger *slog.Logger) []hfhooks.EndpointSpec {
	hooks := make([]hfhooks.EndpointSpec, len(cfg.Hooks))
	for i, h := range cfg.Hooks {
		if h.Comment != nil {
			r := *h.Comment
			r.Logger = logger.With("endpoint", h.Name)
			h.Handler = action.Comment(r)
		}
		opts := []hfhooks.EndpointOption{hfhooks.EndpointFilter(h.Filter), hfhooks.EndpointDescription(describeHook(h))}
		if h.Secret != "" {
			opts = append(opts, hfhooks.EndpointSecret(h.Secret))
		}
		if h.Timeout > 0 {
			opts = append(opts, hfhooks.EndpointTimeout(h.Timeout))
		}
		if h.Concurrency > 0 {
			opts = append(opts, hfhooks.EndpointConcurrency(h.Concurrency))
		}
		hooks[i] = hfhooks.EndpointSpec{Name: h.Name, Handler: h.Handler, Options: opts}
	}
	return hooks
}

// describeHook says what a hook does, for the landing page: its command as
// written in the file, or where it posts with the URL's path hidden (a
// chat's incoming webhook carries its secret there).
func describeHook(h config.Hook) string {
	switch {
	case h.Run != nil:
		return "run: " + redact.String(strings.Join(h.Run.Args, " "))
	case h.Forward != nil:
		return "forward: " + redact.Origin(h.Forward.URL)
	case h.Comment != nil && h.Comment.Status != "":
		return "comment on the discussion, and set it " + string(h.Comment.Status)
	case h.Comment != nil:
		return "comment on the discussion"
	case h.Notify != nil:
		return "notify: " + redact.Origin(h.Notify.URL) + " (" + string(h.Notify.Platform) + ")"
	}
	return ""
}

// hookNames lists the names of the config's hooks, comma-separated.
func hookNames(cfg *config.Config) string {
	names := make([]string, len(cfg.Hooks))
	for i, h := range cfg.Hooks {
		names[i] = h.Name
	}
	return strings.Join(names, ", ")
}

// reloadOnSignal reloads the config file at path each time a signal comes
// on sig, until ctx ends, and stores it in current. A file that fails
// validation is refused, and the hooks in service stay; deliveries in
// flight finish with the hooks they started on.
func reloadOnSignal(ctx context.Context, path string, sig <-chan os.Signal, srv *hfhooks.Server, current *atomic.Pointer[config.Config], logger *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-sig:
		}
		cfg, err := config.Load(path)
		if err == nil {
			err = srv.ReplaceEndpoints(endpointsOf(cfg, logger))
		}
		if err != nil {
			logger.Error("reload refused; the current hooks stay", "config", path, "err", redact.Error(err))
			continue
		}
		current.Store(cfg)
		logger.Info("reloaded", "config", path, "hooks", hookNames(cfg))
	}
}

// inbox accepts every valid delivery; the server logs and records it.
func inbox(_ context.Context, d *hfhooks.Delivery) (any, error) {
	return map[string]string{"status": "received", "id": d.ID}, nil
}
