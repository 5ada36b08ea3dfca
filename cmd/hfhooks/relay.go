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
	"github.com/hfhooks/hfhooks/relay/relaystate"
	"github.com/spf13/cobra"
)

// relayTokenEnv holds the token a relay requires to create channels, on
// both sides: the relay (a Space secret) and listen or serve --relay.
const relayTokenEnv = "HFHOOKS_RELAY_TOKEN"

// relayOptions are the inputs of "hfhooks relay".
type relayOptions struct {
	io               *ioStreams
	addr             string
	token            string
	state            string
	maxChannels      int
	maxPending       int
	maxBodyBytes     int64
	maxBufferedBytes int64
	idleExpiry       time.Duration
	unclaimedExpiry  time.Duration
	createBurst      int
	createEvery      time.Duration
	trustedProxies   int
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
it. The relay logs no secrets and keeps no payload once delivered.

Channels live in memory unless --state names an SQLite file (on a Space,
on its persistent storage: /data/relay.db): they then survive restarts, and
listeners reconnect to the same URLs. The file keeps each channel's id, a
hash of its token, and when it was created and last listened on.

Every limit is checked before a delivery's body is read, each with its own
status: --max-channels (503), channel creation per client address
(--create-burst, --create-every: 429), --max-pending per channel (429),
--max-body-bytes (413), --max-buffered-bytes across all channels (503); a
body slower than 10 s gets 408. A channel nobody ever listened on is
forgotten after --unclaimed-expiry, one without a listener after
--idle-expiry. See docs/relay.md.`,
		Example: `  hfhooks relay --addr 0.0.0.0:7860 --state /data/relay.db
  HFHOOKS_RELAY_TOKEN=... hfhooks relay --addr 0.0.0.0:7860 --max-channels 10`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRelay(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.addr, "addr", "127.0.0.1:"+hfhooks.DefaultPort, "`HOST:PORT` to listen on (on a Space: 0.0.0.0:7860)")
	f.StringVar(&opts.token, "token", "", "`TOKEN` required to create channels (default $"+relayTokenEnv+"; none: anyone may)")
	f.StringVar(&opts.state, "state", "", "keep the channels in the SQLite file `PATH`, across restarts (default: in memory)")
	f.IntVar(&opts.maxChannels, "max-channels", relay.DefaultMaxChannels, "most channels held at once")
	f.IntVar(&opts.maxPending, "max-pending", relay.DefaultMaxPending, "most deliveries per channel in flight (arriving or waiting for their answer)")
	f.Int64Var(&opts.maxBodyBytes, "max-body-bytes", relay.DefaultMaxBodyBytes, "largest delivery body")
	f.Int64Var(&opts.maxBufferedBytes, "max-buffered-bytes", relay.DefaultMaxBufferedBytes, "most bytes of delivery bodies held at once, across all channels")
	f.DurationVar(&opts.idleExpiry, "idle-expiry", relay.DefaultIdleExpiry, "forget a channel after this long without a listener (0: never)")
	f.DurationVar(&opts.unclaimedExpiry, "unclaimed-expiry", relay.DefaultUnclaimedExpiry, "forget a channel no listener connected to after this long (0: --idle-expiry)")
	f.IntVar(&opts.createBurst, "create-burst", relay.DefaultCreateBurst, "channels one client address may create at once (0: no limit)")
	f.DurationVar(&opts.createEvery, "create-every", relay.DefaultCreateEvery, "then one more channel per address each `DURATION`")
	f.IntVar(&opts.trustedProxies, "trusted-proxies", defaultTrustedProxies(), "proxies in front of the relay that append the client's address to X-Forwarded-For (default 1 on a Space, else 0)")
	return cmd
}

// runRelay serves the relay until ctx ends or SIGINT or SIGTERM arrives.
func runRelay(ctx context.Context, opts *relayOptions) error {
	if err := opts.check(); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	token := envDefault(opts.token, relayTokenEnv)
	relayOpts := []relay.Option{
		relay.WithCreateToken(token),
		relay.WithMaxChannels(opts.maxChannels),
		relay.WithMaxPending(opts.maxPending),
		relay.WithMaxBodyBytes(opts.maxBodyBytes),
		relay.WithMaxBufferedBytes(opts.maxBufferedBytes),
		relay.WithIdleExpiry(opts.idleExpiry),
		relay.WithUnclaimedExpiry(opts.unclaimedExpiry),
		relay.WithCreateRate(opts.createBurst, opts.createEvery),
		relay.WithTrustedProxies(opts.trustedProxies),
		relay.WithLogger(slog.New(slog.NewTextHandler(opts.io.ErrOut, nil))),
	}
	kept := "in memory: they are lost when the relay restarts (keep them with --state PATH)"
	if opts.state != "" {
		st, err := relaystate.Open(ctx, opts.state)
		if err != nil {
			return err
		}
		defer st.Close()
		relayOpts = append(relayOpts, relay.WithStore(st))
		kept = "in " + opts.state + ": they survive restarts"
	}
	srv, err := relay.NewServer(relayOpts...)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return fmt.Errorf("relay: %w", err)
	}
	fmt.Fprintf(opts.io.Out, "Relay running on %s\n", web.ListenURL(ln.Addr()))
	fmt.Fprintf(opts.io.Out, "Channels are kept %s.\n", kept)
	if token == "" {
		fmt.Fprintf(opts.io.Out, "Anyone who can reach it may create channels: set %s to require a token.\n", relayTokenEnv)
	} else {
		fmt.Fprintf(opts.io.Out, "Creating a channel requires the token in %s.\n", relayTokenEnv)
	}
	return srv.Serve(ctx, ln)
}

// check rejects limits that make no sense as usage errors.
func (o *relayOptions) check() error {
	switch {
	case o.idleExpiry < 0 || o.unclaimedExpiry < 0 || o.createEvery < 0:
		return usageErrorf("--idle-expiry, --unclaimed-expiry and --create-every cannot be negative")
	case o.createBurst < 0 || o.trustedProxies < 0:
		return usageErrorf("--create-burst and --trusted-proxies cannot be negative")
	case o.maxChannels < 1 || o.maxPending < 1 || o.maxBodyBytes < 1:
		return usageErrorf("--max-channels, --max-pending and --max-body-bytes must be at least 1")
	case o.createBurst > 0 && o.createEvery == 0:
		return usageErrorf("--create-every 0 would give no address another channel after its burst: give a duration, or turn the limit off with --create-burst 0")
	case o.maxBufferedBytes < o.maxBodyBytes:
		return usageErrorf("--max-buffered-bytes (%d) is under --max-body-bytes (%d): no delivery of the largest size could ever pass", o.maxBufferedBytes, o.maxBodyBytes)
	}
	return nil
}

// defaultTrustedProxies is 1 on a Space, whose proxy appends the client's
// address to X-Forwarded-For, and 0 elsewhere.
func defaultTrustedProxies() int {
	if os.Getenv("SPACE_ID") != "" {
		return 1
	}
	return 0
}
