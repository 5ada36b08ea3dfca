package main

import (
	"context"
	"log/slog"

	"github.com/hfhooks/hfhooks"
	"github.com/spf13/cobra"
)

// serveOptions are the inputs of "hfhooks serve".
type serveOptions struct {
	io      *ioStreams
	addr    string
	secrets []string
	relay   string
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

The secret comes from --secret, else from the WEBHOOK_SECRET environment
variable; give --secret twice to accept two secrets while you rotate them.
The server listens on 127.0.0.1:7860, or 0.0.0.0:7860 on a Space (SPACE_ID
set), unless --addr says otherwise. It stops gracefully on SIGINT or SIGTERM.`,
		Example: `  hfhooks serve
  hfhooks serve --addr :8080 --secret my-secret
  hfhooks trigger repo.content --url http://127.0.0.1:7860/webhooks/inbox`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.addr, "addr", "", "`HOST:PORT` to listen on (default 127.0.0.1:7860, or 0.0.0.0:7860 on a Space)")
	f.StringArrayVar(&opts.secrets, "secret", nil, "webhook `SECRET` that requests must carry (repeatable; default $WEBHOOK_SECRET)")
	f.StringVar(&opts.relay, "relay", "", "also receive deliveries through the relay at `URL` (see hfhooks relay)")
	return cmd
}

func runServe(ctx context.Context, opts *serveOptions) error {
	logger := slog.New(slog.NewTextHandler(opts.io.ErrOut, nil))
	srv := hfhooks.NewServer(
		hfhooks.WithAddr(opts.addr),
		hfhooks.WithSecret(opts.secrets...),
		hfhooks.WithLogger(logger),
		hfhooks.WithOutput(opts.io.Out),
	)
	if err := srv.AddWebhook(inboxEndpoint, inbox); err != nil {
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
