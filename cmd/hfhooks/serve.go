package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/hfhooks/hfhooks"
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
	// inboxLog, when set, names a file to which the inbox appends one line,
	// "ID SHA256-OF-BODY", each time it handles a delivery: the crash tests
	// read it to see which deliveries were processed.
	inboxLog string
	// relay, when set, is the URL of an "hfhooks relay" to receive
	// deliveries through.
	relay string
}

// inboxEndpoint is the one endpoint "hfhooks serve" registers.
const inboxEndpoint = "inbox"

// newServeCmd builds "hfhooks serve".
func newServeCmd(s *ioStreams) *cobra.Command {
	opts := &serveOptions{io: s}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a webhook receiver that accepts and shows every delivery",
		Long: `Run a webhook receiver with one endpoint, /webhooks/inbox, that accepts every
valid delivery, logs one line per delivery and shows it on the landing page.

Accepted deliveries are durable by default: each is committed to a queue
before the answer (202 {"status":"queued"}), and run from there, with
retries; a delivery that used all its attempts is kept as failed and can be
re-run from the landing page. --queue chooses the queue: an SQLite file
(sqlite:PATH; the default is hfhooks.db in the working directory), a
PostgreSQL database shared by any number of "hfhooks serve" processes
(postgres://...), or none, to run each handler while the request waits.

The secret comes from --secret, else from the WEBHOOK_SECRET environment
variable; give --secret twice to accept two secrets while you rotate them.
The server listens on 127.0.0.1:7860, or 0.0.0.0:7860 on a Space (SPACE_ID
set), unless --addr says otherwise. It stops gracefully on SIGINT or SIGTERM.`,
		Example: `  hfhooks serve
  hfhooks serve --addr :8080 --secret my-secret
  hfhooks serve --queue postgres://hooks@db.internal/hooks
  hfhooks serve --queue none
  hfhooks trigger repo.content --url http://127.0.0.1:7860/webhooks/inbox`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.addr, "addr", "", "`HOST:PORT` to listen on (default 127.0.0.1:7860, or 0.0.0.0:7860 on a Space)")
	f.StringArrayVar(&opts.secrets, "secret", nil, "webhook `SECRET` that requests must carry (repeatable; default $WEBHOOK_SECRET)")
	f.StringVar(&opts.queue, "queue", "sqlite:hfhooks.db", "durable queue: sqlite:`PATH`, postgres://..., or none")
	f.IntVar(&opts.maxAttempts, "max-attempts", queue.DefaultMaxAttempts, "runs of a failing delivery before it is kept as failed")
	f.DurationVar(&opts.attemptTimeout, "attempt-timeout", queue.DefaultAttemptTimeout, "time limit of one run of a delivery")
	f.StringVar(&opts.inboxLog, "inbox-log", "", "append \"ID SHA256\" to `FILE` for each delivery handled (for tests)")
	_ = f.MarkHidden("inbox-log")
	f.StringVar(&opts.relay, "relay", "", "also receive deliveries through the relay at `URL` (see hfhooks relay)")
	return cmd
}

func runServe(ctx context.Context, opts *serveOptions) error {
	logger := slog.New(slog.NewTextHandler(opts.io.ErrOut, nil))
	srvOpts := []hfhooks.Option{
		hfhooks.WithAddr(opts.addr),
		hfhooks.WithSecret(opts.secrets...),
		hfhooks.WithLogger(logger),
		hfhooks.WithOutput(opts.io.Out),
	}
	if opts.queue != "none" {
		q, err := queue.Open(ctx, opts.queue,
			queue.WithMaxAttempts(opts.maxAttempts),
			queue.WithAttemptTimeout(opts.attemptTimeout),
			queue.WithLogger(logger))
		if err != nil {
			return err
		}
		defer q.Close()
		srvOpts = append(srvOpts, hfhooks.WithQueue(q))
	}
	srv := hfhooks.NewServer(srvOpts...)
	h := inbox
	if opts.inboxLog != "" {
		f, err := os.OpenFile(opts.inboxLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		h = func(ctx context.Context, d *hfhooks.Delivery) (any, error) {
			sum := sha256.Sum256(d.Body)
			if _, err := fmt.Fprintf(f, "%s %x\n", d.ID, sum); err != nil {
				return nil, err
			}
			return inbox(ctx, d)
		}
	}
	if err := srv.AddWebhook(inboxEndpoint, h); err != nil {
		return err
	}
	if opts.relay != "" {
		return serveViaRelay(ctx, opts.io, srv, opts.relay)
	}
	return srv.Run(ctx)
}

// inbox accepts every valid delivery; the server logs and records it.
func inbox(_ context.Context, d *hfhooks.Delivery) (any, error) {
	return map[string]string{"status": "received", "id": d.ID}, nil
}
