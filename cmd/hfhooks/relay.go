package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/internal/web"
	"github.com/hfhooks/hfhooks/relay"
	"github.com/spf13/cobra"
)

// relayTokenEnv holds the token a relay requires to create channels, on
// both sides: the relay (a Space secret) and listen or serve --relay.
const relayTokenEnv = "HFHOOKS_RELAY_TOKEN"

// relayOptions are the inputs of "hfhooks relay".
type relayOptions struct {
	io           *ioStreams
	addr         string
	token        string
	maxChannels  int
	maxPending   int
	maxBodyBytes int64
	idleExpiry   time.Duration
}

// newRelayCmd builds "hfhooks relay".
func newRelayCmd(s *ioStreams) *cobra.Command {
	opts := &relayOptions{io: s}
	cmd := &cobra.Command{
		Use:   "relay",
		Short: "Run a relay that passes Hub deliveries on to \"hfhooks listen\" on your laptop",
		Long: `Run a webhook relay: deploy it once where the Hub can reach it (a Docker
Space, say), and "hfhooks listen --relay URL" or "hfhooks serve --relay URL"
on your machine receive, through it, the deliveries sent to their channel's
URL, byte for byte; the Hub sees the status your local server answered.

Anyone who can reach the relay may create channels (up to --max-channels),
unless a token is set with --token or the HFHOOKS_RELAY_TOKEN environment
variable (a Space secret): then listen and serve --relay need the same
token in HFHOOKS_RELAY_TOKEN. Only a channel's own token lets one listen on
it. The relay logs no secrets and keeps no payload once delivered.`,
		Example: `  hfhooks relay --addr 0.0.0.0:7860
  HFHOOKS_RELAY_TOKEN=... hfhooks relay --addr 0.0.0.0:7860 --max-channels 10`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRelay(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.addr, "addr", "127.0.0.1:"+hfhooks.DefaultPort, "`HOST:PORT` to listen on (on a Space: 0.0.0.0:7860)")
	f.StringVar(&opts.token, "token", "", "`TOKEN` required to create channels (default $"+relayTokenEnv+"; none: anyone may)")
	f.IntVar(&opts.maxChannels, "max-channels", relay.DefaultMaxChannels, "most channels held at once")
	f.IntVar(&opts.maxPending, "max-pending", relay.DefaultMaxPending, "most deliveries per channel waiting for their answer")
	f.Int64Var(&opts.maxBodyBytes, "max-body-bytes", relay.DefaultMaxBodyBytes, "largest delivery body")
	f.DurationVar(&opts.idleExpiry, "idle-expiry", relay.DefaultIdleExpiry, "forget a channel after this long without a listener (0: never)")
	return cmd
}

// runRelay serves the relay until ctx ends or SIGINT or SIGTERM arrives.
func runRelay(ctx context.Context, opts *relayOptions) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	token := opts.token
	if token == "" {
		token = os.Getenv(relayTokenEnv)
	}
	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	srv := relay.NewServer(
		relay.WithCreateToken(token),
		relay.WithMaxChannels(opts.maxChannels),
		relay.WithMaxPending(opts.maxPending),
		relay.WithMaxBodyBytes(opts.maxBodyBytes),
		relay.WithIdleExpiry(opts.idleExpiry),
		relay.WithLogger(slog.New(slog.NewTextHandler(opts.io.ErrOut, nil))),
	)
	fmt.Fprintf(opts.io.Out, "Relay running on %s\n", web.ListenURL(ln.Addr()))
	if token == "" {
		fmt.Fprintf(opts.io.Out, "Anyone who can reach it may create channels: set %s to require a token.\n", relayTokenEnv)
	} else {
		fmt.Fprintf(opts.io.Out, "Creating a channel requires the token in %s.\n", relayTokenEnv)
	}
	return srv.Serve(ctx, ln)
}
