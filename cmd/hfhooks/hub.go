package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hfhooks/hfhooks/hubtest"
	"github.com/hfhooks/hfhooks/internal/web"
	"github.com/spf13/cobra"
)

// defaultHubAddr is where "hfhooks hub" listens, and where "hub emit" looks
// for it when neither --hub nor HF_ENDPOINT says otherwise.
const defaultHubAddr = "127.0.0.1:9000"

// hubOptions are the inputs of "hfhooks hub".
type hubOptions struct {
	io           *ioStreams
	addr         string
	tokens       []string
	timeout      time.Duration
	retries      []time.Duration
	suspendAfter int
	rateLimit    int
}

// newHubCmd builds "hfhooks hub" and its subcommand emit.
func newHubCmd(s *ioStreams) *cobra.Command {
	opts := &hubOptions{io: s}
	cmd := &cobra.Command{
		Use:   "hub",
		Short: "Run a local Hugging Face Hub emulator: webhook API, events, deliveries",
		Long: `Run a local emulator of the Hub's side of webhooks.

It serves the webhook management API at /api/settings/webhooks, so that
"hfhooks webhooks", the hub Go package and huggingface_hub work against it
with HF_ENDPOINT set to its URL. Events emitted with "hfhooks hub emit" (or
the web page at /) are delivered to the matching webhooks with the Hub's
rules: a timeout, retries, suspension after repeated failures and a rate
limit. Each webhook's activity, with Replay, is on the web page.

Each --token is a user who sees only its own webhooks; without --token, a
random token is made. The tokens are printed at start.`,
		Example: `  hfhooks hub
  hfhooks hub --addr 127.0.0.1:9000 --token hf_me --token hf_other --retry-schedule 1s,5s`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runHub(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.addr, "addr", defaultHubAddr, "`HOST:PORT` to listen on")
	f.StringArrayVar(&opts.tokens, "token", nil, "a `TOKEN` the API accepts (repeatable; default: one random token)")
	f.DurationVar(&opts.timeout, "timeout", hubtest.DefaultTimeout, "how long a delivery may take before it counts as failed")
	f.DurationSliceVar(&opts.retries, "retry-schedule", hubtest.DefaultRetrySchedule, "waits before each retry of a failed delivery (empty: no retry)")
	f.IntVar(&opts.suspendAfter, "suspend-after", hubtest.DefaultSuspendAfter, "suspend a webhook after this many failed events in a row (0: never)")
	f.IntVar(&opts.rateLimit, "rate-limit", hubtest.DefaultRateLimit, "events per webhook per 24h (0: no limit)")
	cmd.AddCommand(newHubEmitCmd(s))
	return cmd
}

// runHub serves the emulator until ctx ends or SIGINT or SIGTERM arrives.
func runHub(ctx context.Context, opts *hubOptions) error {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	ln, err := net.Listen("tcp", opts.addr)
	if err != nil {
		return fmt.Errorf("hub: %w", err)
	}
	h := hubtest.New(
		hubtest.WithTokens(opts.tokens...),
		hubtest.WithTimeout(opts.timeout),
		hubtest.WithRetrySchedule(opts.retries...),
		hubtest.WithSuspendAfter(opts.suspendAfter),
		hubtest.WithRateLimit(opts.rateLimit, hubtest.DefaultRateWindow),
		hubtest.WithLogger(slog.New(slog.NewTextHandler(opts.io.ErrOut, nil))),
	)
	defer h.Close()
	hs := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		IdleTimeout:       2 * time.Minute,
	}
	printHubBanner(opts.io, web.ListenURL(ln.Addr()), h.Tokens())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("hub: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h.Close() // ends pending deliveries, and the waits of emit requests
	if err := hs.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("hub: shutdown: %w", err)
	}
	return nil
}

// printHubBanner says where the emulator is and how to point tools at it.
func printHubBanner(s *ioStreams, url string, tokens []string) {
	fmt.Fprintf(s.Out, "Hub emulator running on %s\n", url)
	for _, t := range tokens {
		fmt.Fprintf(s.Out, "Token: %s\n", t)
	}
	fmt.Fprintf(s.Out, "\nPoint hfhooks webhooks, the hub package or huggingface_hub at it:\n  export HF_ENDPOINT=%s HF_TOKEN=%s\n", url, tokens[0])
	fmt.Fprintf(s.Out, "Emit an event:\n  hfhooks hub emit repo.content --repo model:you/your-model\n")
	fmt.Fprintf(s.Out, "Web page (sign in with a token): %s/\n", url)
}
