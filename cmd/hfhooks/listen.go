package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/hfhooks/hfhooks"
	"github.com/hfhooks/hfhooks/hub"
	"github.com/hfhooks/hfhooks/internal/redact"
	"github.com/hfhooks/hfhooks/internal/web"
	"github.com/hfhooks/hfhooks/relay"
	"github.com/spf13/cobra"
)

const (
	// cleanupTimeout bounds deleting the temporary webhook once listen
	// stops.
	cleanupTimeout = 10 * time.Second
	// defaultMaxReconnects is how many failed connection attempts in a row
	// make listen and serve --relay give up.
	defaultMaxReconnects = 10
)

// listenOptions are the inputs of "hfhooks listen".
type listenOptions struct {
	IO        *ioStreams
	HubClient func() (*hub.Client, error)

	Relay        string
	RelayToken   string
	ForwardTo    string
	ChannelID    string
	ChannelToken string
	Watch        []string
	Domains      []string
	Secret       string
	Cleanup      bool

	MaxReconnects int
	// Backoff is the first wait before reconnecting (the listener's
	// default when zero); tests shorten it.
	Backoff time.Duration
}

// newListenCmd builds "hfhooks listen".
func newListenCmd(s *ioStreams) *cobra.Command {
	var token, endpoint string
	opts := &listenOptions{
		IO: s,
		HubClient: func() (*hub.Client, error) {
			return hub.NewClient(hub.WithToken(token), hub.WithEndpoint(endpoint))
		},
	}
	cmd := &cobra.Command{
		Use:   "listen --relay URL --forward-to URL",
		Short: "Receive Hub deliveries on this machine through a relay",
		Long: `Connect to a relay ("hfhooks relay", deployed where the Hub can reach it) and
forward every delivery sent to the channel's public URL to a local server,
byte for byte, with its X-Webhook-Secret. The Hub sees the status the local
server answered.

The channel is a door for the Hub's deliveries only: with --forward-to an
endpoint's URL (.../webhooks/NAME), only POSTs to the channel's URL pass;
with --forward-to a server's base URL (http://127.0.0.1:7860), only POSTs to
the channel's URL plus /webhooks/NAME, to the same path. Anything else is answered 404 without reaching the local
server, and a redirect the local server answers is passed back, not
followed. Errors and logs show URLs with their query values as xxxxx. One line is printed per delivery. The connection is
re-established with backoff when it drops; listen gives up after
--max-reconnects failed attempts in a row.

A new channel is created unless --channel and --channel-token name one that
listen printed before; its URL then stays the same.

With --watch, listen creates a temporary webhook on the Hub (with the token
and endpoint of "hfhooks webhooks") that delivers to the channel, and deletes
it when it stops: on Ctrl-C, and when it gives up. Its URL is the channel's
with ?hfhooks-listen=1; if a crash left such a webhook pointing at the same
relay, listen finds it at start and asks whether to delete it, or stops
when stdin is not a terminal (--cleanup deletes without asking).

If the relay requires a token to create channels, set HFHOOKS_RELAY_TOKEN or
--relay-token.`,
		Example: `  hfhooks listen --relay https://you-relay.hf.space --forward-to http://127.0.0.1:7860/webhooks/inbox
  hfhooks listen --relay https://you-relay.hf.space --forward-to http://127.0.0.1:7860/webhooks/inbox \
    --watch dataset:you/data --secret my-secret`,
		Args: exactArgs(),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runListen(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Relay, "relay", "", "`URL` of the relay (required)")
	f.StringVar(&opts.RelayToken, "relay-token", "", "token the relay requires to create channels (default $"+relayTokenEnv+")")
	f.StringVar(&opts.ForwardTo, "forward-to", "", "local `URL` that receives the deliveries (required)")
	f.StringVar(&opts.ChannelID, "channel", "", "`ID` of an existing channel to reuse (with --channel-token)")
	f.StringVar(&opts.ChannelToken, "channel-token", "", "`TOKEN` of the channel given with --channel")
	f.StringArrayVar(&opts.Watch, "watch", nil, "create a temporary webhook watching type:name (repeatable)")
	f.StringArrayVar(&opts.Domains, "domain", nil, "event domain of the temporary webhook: repo or discussion; repeatable (default: all)")
	f.StringVar(&opts.Secret, "secret", "", "secret of the temporary webhook, sent in X-Webhook-Secret")
	f.BoolVar(&opts.Cleanup, "cleanup", false, "delete webhooks left by an earlier listen on this relay without asking")
	f.IntVar(&opts.MaxReconnects, "max-reconnects", defaultMaxReconnects, "give up after this many failed connection attempts in a row (0: never)")
	f.StringVar(&token, "token", "", "Hugging Face token, for --watch and --cleanup (default: HF_TOKEN or the cached login token)")
	f.StringVar(&endpoint, "endpoint", "", "Hub URL (default: HF_ENDPOINT or https://huggingface.co)")
	return cmd
}

// check rejects inconsistent flags as usage errors.
func (o *listenOptions) check() error {
	if o.Relay != "" {
		if err := checkURLFlag("--relay", o.Relay, "https://you-relay.hf.space"); err != nil {
			return err
		}
	}
	if o.ForwardTo != "" {
		if err := checkURLFlag("--forward-to", o.ForwardTo, "http://127.0.0.1:7860/webhooks/inbox"); err != nil {
			return err
		}
	}
	switch {
	case o.Relay == "":
		return usageErrorf("--relay URL is required")
	case o.ForwardTo == "":
		return usageErrorf("--forward-to URL is required")
	case (o.ChannelID == "") != (o.ChannelToken == ""):
		return usageErrorf("give --channel and --channel-token together")
	case len(o.Watch) == 0 && (len(o.Domains) > 0 || o.Secret != ""):
		return usageErrorf("--domain and --secret are for the temporary webhook: add --watch TYPE:NAME")
	case len(o.Watch) > 0 && !relay.IsEndpointURL(o.ForwardTo):
		return usageErrorf("--watch needs --forward-to to be an endpoint's URL, with a path such as /webhooks/NAME: the temporary webhook delivers to the channel's URL, which passes to that URL only")
	}
	return nil
}

func runListen(ctx context.Context, opts *listenOptions) error {
	if err := opts.check(); err != nil {
		return err
	}
	watched, err := parseWatched(opts.Watch)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	ch := relay.Channel{ID: opts.ChannelID, Token: opts.ChannelToken, URL: relay.ChannelURL(opts.Relay, opts.ChannelID)}
	if ch.ID == "" {
		if ch, err = relay.CreateChannel(ctx, nil, opts.Relay, envDefault(opts.RelayToken, relayTokenEnv)); err != nil {
			return err
		}
	}
	if len(watched) > 0 || opts.Cleanup {
		client, err := opts.HubClient()
		if err != nil {
			return err
		}
		if err := cleanupLeftovers(ctx, opts, client); err != nil {
			return err
		}
		if len(watched) > 0 {
			remove, err := createTemporary(ctx, opts.IO, client, ch.URL, watched, opts.Domains, opts.Secret)
			if err != nil {
				return err
			}
			defer remove()
		}
	}

	fmt.Fprintf(opts.IO.Out, "Forwarding %s -> %s\n", ch.URL, redact.URL(opts.ForwardTo))
	switch {
	case len(watched) > 0:
	case relay.IsEndpointURL(opts.ForwardTo):
		fmt.Fprintf(opts.IO.Out, "Set this URL on a webhook at https://huggingface.co/settings/webhooks: %s\n", ch.URL)
	default:
		fmt.Fprintf(opts.IO.Out, "Set %s/webhooks/NAME on a webhook at https://huggingface.co/settings/webhooks: it reaches /webhooks/NAME under %s; nothing else passes.\n",
			ch.URL, redact.URL(opts.ForwardTo))
	}
	fmt.Fprintf(opts.IO.ErrOut, "To keep this URL next time: --channel %s --channel-token %s\n", ch.ID, ch.Token)
	fmt.Fprintln(opts.IO.Out, "Ready. Press Ctrl-C to stop.")

	var mu sync.Mutex
	l := &relay.Listener{
		RelayURL:      opts.Relay,
		Channel:       ch,
		ForwardTo:     opts.ForwardTo,
		Logger:        slog.New(slog.NewTextHandler(opts.IO.ErrOut, nil)),
		MaxReconnects: opts.MaxReconnects,
		Backoff:       opts.Backoff,
		OnForward: func(f relay.Forwarded) {
			mu.Lock()
			defer mu.Unlock()
			printForwarded(opts.IO.Out, f)
		},
	}
	return l.Run(ctx)
}

// envDefault returns v, or the environment variable key when v is empty.
func envDefault(v, key string) string {
	if v != "" {
		return v
	}
	return os.Getenv(key)
}

// printForwarded prints one line per delivery: time, scope, action, repo,
// local status and duration.
func printForwarded(w io.Writer, f relay.Forwarded) {
	scope, action, repo := f.Scope, f.Action, f.Repo
	if scope == "" {
		scope, action, repo = "-", "-", "-"
	}
	line := fmt.Sprintf("%s  %s %s %s  %d  %s", f.Time.Format(time.DateTime), scope, action, repo, f.Status, f.Duration.Round(time.Millisecond))
	if f.Err != nil {
		line += "  error: " + f.Err.Error()
	}
	fmt.Fprintln(w, line)
}

// cleanupLeftovers finds the temporary webhooks an earlier listen on the
// same relay left behind, and deletes them with --cleanup or when the user
// agrees on a terminal; without a terminal to ask on, it refuses to go on.
func cleanupLeftovers(ctx context.Context, opts *listenOptions, client *hub.Client) error {
	hooks, err := client.ListWebhooks(ctx)
	if err != nil {
		return err
	}
	var stale []hub.Webhook
	for _, w := range hooks {
		if relay.IsTemporaryWebhookURL(w.URL, opts.Relay) {
			stale = append(stale, w)
		}
	}
	if len(stale) == 0 {
		return nil
	}
	fmt.Fprintf(opts.IO.ErrOut, "Found %d webhook(s) left by an earlier \"hfhooks listen\" on this relay:\n", len(stale))
	for _, w := range stale {
		fmt.Fprintf(opts.IO.ErrOut, "  %s  %s  %s\n", w.ID, joinWatched(w.Watched), redact.URL(w.URL))
	}
	if !opts.Cleanup {
		yes, err := confirm(opts.IO, "Delete them? (a listen still running on them would stop receiving)", "--cleanup")
		if err != nil || !yes {
			return err
		}
	}
	for _, w := range stale {
		if err := client.DeleteWebhook(ctx, w.ID); err != nil {
			return fmt.Errorf("deleting webhook %s: %w", w.ID, err)
		}
		fmt.Fprintf(opts.IO.ErrOut, "Deleted webhook %s.\n", w.ID)
	}
	return nil
}

// createTemporary creates a temporary webhook that delivers to target (a
// channel URL) the events of watched, and returns the function that deletes
// it, which listen and serve --relay call when they stop.
func createTemporary(ctx context.Context, s *ioStreams, client *hub.Client, target string, watched []hub.WatchedItem, domains []string, secret string) (remove func(), err error) {
	create := hub.CreateWebhookOptions{URL: relay.TemporaryWebhookURL(target), Watched: watched, Secret: secret}
	if len(domains) > 0 {
		create.Domains = parseDomains(domains)
	}
	w, err := client.CreateWebhook(ctx, create)
	if err != nil {
		return nil, cliError(err)
	}
	fmt.Fprintf(s.Out, "Created webhook %s watching %s; it is deleted when this command stops.\n", w.ID, joinWatched(w.Watched))
	return func() { deleteTemporary(ctx, s, client, w.ID) }, nil
}

// deleteTemporary deletes the temporary webhook, even once ctx has ended
// (on Ctrl-C).
func deleteTemporary(ctx context.Context, s *ioStreams, client *hub.Client, id string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if err := client.DeleteWebhook(ctx, id); err != nil {
		fmt.Fprintf(s.ErrOut, "Could not delete webhook %s: %v\nDelete it with: hfhooks webhooks delete %s\n", id, redact.Error(err), id)
		return
	}
	fmt.Fprintf(s.Out, "Deleted webhook %s.\n", id)
}

// viaRelay is how "hfhooks serve --relay" reaches the Hub.
type viaRelay struct {
	// url is the relay's URL.
	url string
	// watch, domains and secret describe the temporary webhooks to create,
	// one per endpoint; none when watch is empty.
	watch   []hub.WatchedItem
	domains []string
	secret  string
	// hubClient makes the client that creates and deletes them.
	hubClient func() (*hub.Client, error)
}

// serveViaRelay runs srv on its address and, through a new channel of the
// relay, receives the Hub's deliveries to its endpoints: a delivery to
// <channel>/webhooks/NAME goes to the local /webhooks/NAME. With watched
// items, it creates a temporary webhook per endpoint, deleted when it
// stops. It is "hfhooks serve --relay".
func serveViaRelay(ctx context.Context, s *ioStreams, srv *hfhooks.Server, via viaRelay) error {
	relayURL := via.url
	ctx, stop := srv.NotifyContext(ctx)
	defer stop()
	ch, err := relay.CreateChannel(ctx, nil, relayURL, os.Getenv(relayTokenEnv))
	if err != nil {
		return err
	}
	if len(via.watch) > 0 {
		client, err := via.hubClient()
		if err != nil {
			return err
		}
		for _, name := range srv.Endpoints() {
			remove, err := createTemporary(ctx, s, client, ch.URL+"/webhooks/"+name, via.watch, via.domains, via.secret)
			if err != nil {
				return err
			}
			defer remove()
		}
	}
	ln, err := net.Listen("tcp", srv.Addr())
	if err != nil {
		return fmt.Errorf("hfhooks: %w", err)
	}
	fmt.Fprintf(s.Out, "Public URLs through the relay (set one on a webhook at https://huggingface.co/settings/webhooks):\n")
	for _, name := range srv.Endpoints() {
		fmt.Fprintf(s.Out, "  - POST %s/webhooks/%s\n", ch.URL, name)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	l := &relay.Listener{RelayURL: relayURL, Channel: ch, ForwardTo: web.ListenURL(ln.Addr()), Logger: slog.New(slog.NewTextHandler(s.ErrOut, nil)), MaxReconnects: defaultMaxReconnects}
	errc := make(chan error, 2)
	go func() { errc <- srv.Serve(ctx, ln) }()
	go func() { errc <- l.Run(ctx) }()
	err = <-errc // the first to end ends the other
	cancel()
	return errors.Join(err, <-errc)
}
